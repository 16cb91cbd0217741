"""The packet path under fuzzing: a short run of tests/turn/fuzz (`make fuzz` runs 10^6)."""

import asyncio
import os
import struct
import time

import pytest
from aioice import stun
from aioice.turn import make_integrity_key

from praatbox.turn import codec
from praatbox.turn.server import TurnServer
from tests.turn.fuzz import run_fuzz
from tests.turn.fuzz.fakes import FakeUdpSocket

SHORT_RUN_INPUTS = 20_000


def test_a_short_fuzz_run_raises_nothing_and_reaches_every_handler():
    report = run_fuzz(SHORT_RUN_INPUTS, seed=1)
    summary = "\n".join(report.lines())
    assert report.inputs >= SHORT_RUN_INPUTS
    assert report.unexpected_exceptions == 0, summary
    assert report.invariant_violations == 0, summary
    counts = report.counts
    # Signed requests got through authentication into every method handler...
    for method in ("allocate", "refresh", "create_permission", "channel_bind", "binding"):
        assert counts.get(f"success_{method}", 0) >= 20, summary
    # ...and into their error paths, quotas included.
    for code in (400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 508):
        assert counts.get(f"error_{code}", 0) > 0, f"no {code}\n{summary}"
    assert counts.get("malformed", 0) > 0 and counts.get("dropped", 0) > 0, summary
    # Send indications and ChannelData reached peers; peers' datagrams reached clients.
    assert counts.get("relayed_to_peer", 0) > 0, summary
    assert counts.get("peer_to_client_channel_data", 0) > 0, summary
    assert counts.get("peer_to_client_data_indication", 0) > 0, summary


class _Client:
    """A UDP client talking to RequestHandler.handle directly, signing as aioice does."""

    def __init__(self, server: TurnServer, username: str, password: str) -> None:
        self.server = server
        self.address = ("192.0.2.1", 5000)
        self.username = username
        self.key = make_integrity_key(username, server.config.realm, password)
        challenge = self.send(stun.Method.ALLOCATE, [], sign=False)
        assert challenge.error_code == 401
        self.nonce = challenge.attributes["NONCE"]

    def send(self, method: stun.Method, attributes: list[tuple[int, bytes]],
             after_integrity: list[tuple[int, bytes]] | None = None,
             sign: bool = True) -> stun.Message:
        """``after_integrity``: attributes appended after MESSAGE-INTEGRITY (length fixed)."""
        txid = os.urandom(12)
        attributes = [(t, v(txid) if callable(v) else v) for t, v in attributes]
        if sign:
            attributes += [(0x0006, self.username.encode()),
                           (0x0014, self.server.config.realm.encode()), (0x0015, self.nonce)]
        body = b"".join(codec.encode_attribute(t, v) for t, v in attributes)
        data = struct.pack("!HHI12s", method, len(body), stun.COOKIE, txid) + body
        if sign:
            integrity = codec.encode_attribute(0x0008, stun.message_integrity(data, self.key))
            data = stun.set_body_length(data + integrity, len(body) + len(integrity))
        for attr_type, value in after_integrity or []:
            attribute = codec.encode_attribute(attr_type, value(txid) if callable(value) else value)
            data = stun.set_body_length(data + attribute, len(data) - 20 + len(attribute))
        response = self.server.handler.handle(data, self.address, self.address, time.monotonic(),
                                              time.time())
        assert response is not None
        return stun.parse_message(response)


def _peer(address: tuple[str, int]) -> tuple[int, object]:
    return codec.XOR_PEER_ADDRESS, lambda txid: stun.pack_xor_address(address, txid)


@pytest.mark.parametrize("case", ["extra peer", "only peer", "unknown attribute"])
def test_attributes_after_message_integrity_are_ignored(turn_config, issue_credentials, case):
    """RFC 8489 section 14.5: agents MUST ignore attributes that follow MESSAGE-INTEGRITY.

    Otherwise anyone on the path can add peers to another client's CreatePermission.
    """
    server = TurnServer(turn_config)
    server.loop = asyncio.new_event_loop()
    server._udp_sock = FakeUdpSocket()
    try:
        client = _Client(server, *issue_credentials())
        transport = [(0x0019, struct.pack("!I", codec.UDP_PROTOCOL << 24))]
        assert client.send(stun.Method.ALLOCATE, transport).message_class == stun.Class.RESPONSE
        signed_peer, added_peer = ("127.0.0.1", 9000), ("127.0.0.2", 9000)
        if case == "unknown attribute":
            response = client.send(stun.Method.CREATE_PERMISSION, [_peer(signed_peer)],
                                   after_integrity=[(0x7777, b"")])
            assert response.message_class == stun.Class.RESPONSE  # not 420
        else:
            signed = [_peer(signed_peer)] if case == "extra peer" else []
            response = client.send(stun.Method.CREATE_PERMISSION, signed,
                                   after_integrity=[_peer(added_peer)])
            expected = stun.Class.RESPONSE if signed else stun.Class.ERROR  # 400: no peer
            assert response.message_class == expected
            assert added_peer[0] not in server.table.get(client.address).permissions
    finally:
        for allocation in list(server.table.allocations.values()):
            server.table.remove(allocation)
            allocation.relay.close()
        server.loop.close()
