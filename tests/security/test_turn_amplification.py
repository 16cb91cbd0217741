"""The TURN server as an amplifier for forged UDP sources: small answers, a budget per source.

Sizes are measured on a real `python -m praatbox.turn`; the budget's state is tested directly,
with the many forged sources a real test could not send from one host.
"""

from __future__ import annotations

import os
import socket
import struct

import pytest
from aioice import stun

from praatbox.turn import codec
from praatbox.turn.budget import SourceBudget
from praatbox.turn.handlers import REPLY_BUDGET_PER_SECOND, REPLY_BURST
from tests.live import start_turn

HEADER = 20


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    server, port = start_turn(tmp_path_factory.mktemp("turn-amplification"))
    yield port
    server.stop()


def answer_to(port: int, request: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(request, ("127.0.0.1", port))
        return sock.recv(1000)


def bare_request(method: stun.Method) -> bytes:
    """The smallest request an attacker can send: a header and nothing else."""
    return struct.pack("!HHI", method, 0, stun.COOKIE) + os.urandom(12)


def test_binding_answer_holds_only_the_mapped_address(turn):
    answer = answer_to(turn, bare_request(stun.Method.BINDING))
    assert codec.scan_attributes(answer) == [
        (stun.ATTRIBUTES_BY_NAME["XOR-MAPPED-ADDRESS"][0], answer[HEADER + 4 :])
    ]
    assert len(answer) == 32  # 1.6 x the 20-byte request (no FINGERPRINT, no SOFTWARE)


def test_401_holds_only_what_the_rfc_requires(turn):
    answer = answer_to(turn, bare_request(stun.Method.ALLOCATE))
    message = stun.parse_message(answer)
    assert message.error_code == 401
    assert message.attributes["ERROR-CODE"] == (401, "")
    assert set(message.attributes) == {"ERROR-CODE", "REALM", "NONCE"}
    assert len(answer) <= 3 * HEADER


def test_a_request_with_fingerprint_gets_one_back(turn):
    request = bare_request(stun.Method.BINDING)
    fingerprint = struct.pack("!I", stun.message_fingerprint(request))
    request = stun.set_body_length(request, 8) + codec.encode_attribute(
        codec.FINGERPRINT, fingerprint)
    answer = answer_to(turn, request)
    assert codec.has_fingerprint(codec.scan_attributes(answer))
    assert len(answer) == 40  # 1.4 x the 28-byte request


def test_forged_sources_cannot_refill_the_budget_of_a_victim():
    budget = SourceBudget(REPLY_BUDGET_PER_SECOND, REPLY_BURST)
    victim = "198.51.100.7"
    while budget.allow(victim, 0.0):
        pass
    # 50,000 forged sources within 10 ms: far more than the table holds.
    for n in range(50000):
        budget.allow(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", n / 5_000_000)
    assert not budget.allow(victim, 0.01)
    assert len(budget) <= 10001
