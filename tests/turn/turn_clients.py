"""TURN clients for tests: a raw STUN client that shows every answer, and coturn's tools."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import time
from collections.abc import Iterator

from aioice import stun
from aioice.turn import make_integrity_key

from praatbox.turn import codec

REALM = "praatbox"
TOOL_TIMEOUT_SECONDS = 60
UDP = {"REQUESTED-TRANSPORT": codec.UDP_PROTOCOL << 24}


class RawClient:
    """A blocking STUN client over UDP (from ``source``, an address of this host)."""

    def __init__(self, server: tuple[str, int], username: str = "", password: str = "",
                 source: str = "127.0.0.1") -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(2)
        self.sock.bind((source, 0))
        self.sock.connect(server)
        self.username = username
        self.key = make_integrity_key(username, REALM, password)
        self.nonce: bytes | None = None
        self.last_response = b""

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> stun.Message:
        self.sock.send(data)
        self.last_response = self.sock.recv(65536)
        return stun.parse_message(self.last_response)

    def request(
        self, method: stun.Method, attributes: dict[str, object] | None = None,
        sign: bool = True, extra: list[tuple[int, bytes]] | None = None,
        peers: list[tuple[str, int]] | None = None,
    ) -> stun.Message:
        """Send a request (signed after a 401 challenge) and return the final response.

        ``extra`` carries raw attributes aioice cannot write, ``peers`` one XOR-PEER-ADDRESS
        each (aioice keeps one per name).
        """
        if sign and self.nonce is None:
            challenge = self.send_raw(bytes(stun.Message(method, stun.Class.REQUEST)))
            assert challenge.error_code == 401, challenge
            self.nonce = challenge.attributes["NONCE"]
        message = stun.Message(method, stun.Class.REQUEST, attributes=dict(attributes or {}))
        if sign:
            message.attributes.update(
                {"USERNAME": self.username, "REALM": REALM, "NONCE": self.nonce}
            )
        raw = list(extra or []) + [
            (codec.XOR_PEER_ADDRESS, stun.pack_xor_address(peer, message.transaction_id))
            for peer in peers or []
        ]
        data = bytes(message)
        for attr_type, value in raw:
            attribute = codec.encode_attribute(attr_type, value)
            data = stun.set_body_length(data + attribute, len(data) - 20 + len(attribute))
        if sign:
            data = with_integrity(data, self.key)
        return self.send_raw(data)

    def allocate(self) -> stun.Message:
        """Ask for a UDP relay."""
        return self.request(stun.Method.ALLOCATE, UDP)

    def send_to_peer(self, peer: tuple[str, int], payload: bytes) -> None:
        """Send ``payload`` to ``peer`` in a Send indication (no answer comes back)."""
        send = stun.Message(stun.Method.SEND, stun.Class.INDICATION,
                            attributes={"XOR-PEER-ADDRESS": peer, "DATA": payload})
        self.sock.send(bytes(send))


def with_integrity(data: bytes, key: bytes) -> bytes:
    """Append MESSAGE-INTEGRITY to raw bytes (aioice cannot serialise unknown attributes)."""
    integrity = stun.message_integrity(data, key)
    data = stun.set_body_length(data, len(data) - 20 + 24)
    return data + b"\x00\x08\x00\x14" + integrity


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def echo_peer(host: str = "127.0.0.1") -> Iterator[tuple[str, int]]:
    """coturn's UDP echo peer (``turnutils_peer``) on a free loopback port."""
    port = free_udp_port(host)
    process = subprocess.Popen(
        ["turnutils_peer", "-L", host, "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    try:
        yield (host, port)
    finally:
        process.terminate()
        process.wait(5)


def run_tool(args: list[str], timeout: float = TOOL_TIMEOUT_SECONDS) -> str:
    """A coturn tool's combined output, under a hard timeout."""
    result = subprocess.run(
        ["timeout", "-k", "5", str(int(timeout)), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return result.stdout


def assert_nothing_lost(output: str, messages: int) -> None:
    """``turnutils_uclient`` output: at least ``messages`` echoed and no packet lost."""
    lost = re.search(r"Total lost packets (\d+) \(", output)
    totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", output, re.MULTILINE)
    assert lost and totals, output[-3000:]
    sent, received = (int(n) for n in totals[-1])
    assert sent == received >= messages, output[-3000:]
    assert lost.group(1) == "0", output[-3000:]
