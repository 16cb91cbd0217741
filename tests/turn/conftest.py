"""Fixtures: our TURN server on 127.0.0.1 port 0 in a thread, coturn's tools as subprocesses."""

import asyncio
import contextlib
import datetime
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvloop
from aioice import stun
from aioice.turn import make_integrity_key
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from praatbox.credentials import issue_turn_credentials
from praatbox.turn import codec
from praatbox.turn.config import TurnConfig
from praatbox.turn.server import TurnServer

SECRET = "test-secret"
REALM = "praatbox"
TOOL_TIMEOUT_SECONDS = 60


def make_config(**overrides: object) -> TurnConfig:
    """A server on a free loopback port that may relay to loopback peers."""
    config = TurnConfig(
        secrets=[SECRET],
        listen=("127.0.0.1", 0),
        relay_ip="127.0.0.1",
        relay_bind_ip="127.0.0.1",
        relay_ports=(20000, 29999),
        realm=REALM,
        allowed_peers=["127.0.0.0/8"],
        user_quota=100,
    )
    return replace(config, **overrides)  # type: ignore[arg-type]


class ServerThread:
    """Run a TurnServer on its own uvloop in a thread, as `python -m praatbox.turn` would."""

    def __init__(self, config: TurnConfig) -> None:
        self.server = TurnServer(config)
        self.loop = uvloop.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.server.close())
        self.loop.close()

    def __enter__(self) -> TurnServer:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def turn_server() -> Iterator[Callable[..., TurnServer]]:
    """Start servers with `turn_server(**config_overrides)`; all stop after the test."""
    with contextlib.ExitStack() as stack:

        def start(**overrides: object) -> TurnServer:
            return stack.enter_context(ServerThread(make_config(**overrides)))

        yield start


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def coturn_peer() -> Iterator[tuple[str, int]]:
    """coturn's UDP echo peer on a free loopback port."""
    port = free_udp_port()
    process = subprocess.Popen(
        ["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    yield ("127.0.0.1", port)
    process.terminate()
    process.wait(5)


def credentials(user: str = "alice", ttl_seconds: int = 3600,
                now: float | None = None) -> tuple[str, str]:
    """REST credentials for the test secret, as the web app issues them."""
    return issue_turn_credentials(SECRET, user, ttl_seconds, time.time() if now is None else now)


@pytest.fixture
def turn_config() -> TurnConfig:
    return make_config()


@pytest.fixture
def issue_credentials() -> Callable[..., tuple[str, str]]:
    """``issue_credentials(user="alice", ttl_seconds=3600, now=None)``."""
    return credentials


class RawClient:
    """A blocking STUN client that shows every response, for the error-path tests."""

    def __init__(self, server: tuple[str, int], username: str = "", password: str = "") -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(2)
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
            data = _with_integrity(data, self.key)
        return self.send_raw(data)


@pytest.fixture
def raw_client() -> Iterator[Callable[..., RawClient]]:
    """``raw_client(server_address, username="", password="")``, closed after the test."""
    clients: list[RawClient] = []

    def connect(server: tuple[str, int], username: str = "", password: str = "") -> RawClient:
        clients.append(RawClient(server, username, password))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


def _with_integrity(data: bytes, key: bytes) -> bytes:
    """Append MESSAGE-INTEGRITY to raw bytes (aioice cannot serialise unknown attributes)."""
    integrity = stun.message_integrity(data, key)
    data = stun.set_body_length(data, len(data) - 20 + 24)
    return data + b"\x00\x08\x00\x14" + integrity


@pytest.fixture
def tls_certificate(tmp_path: Path) -> tuple[str, str]:
    """Paths of a throw-away self-signed certificate and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def run_tool() -> Callable[..., str]:
    """``run_tool(args, timeout=60)``: a coturn tool's combined output, under a hard timeout."""
    return _run_tool


def _run_tool(args: list[str], timeout: float = TOOL_TIMEOUT_SECONDS) -> str:
    result = subprocess.run(
        ["timeout", "-k", "5", str(int(timeout)), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return result.stdout
