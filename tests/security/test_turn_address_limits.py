"""One address against the TURN server's capacity: allocations with many users, idle TCP.

Real processes (`python -m praatbox.turn`, coturn's `turnutils_uclient`); the attacker is
127.0.0.1, a legitimate client elsewhere is 127.0.0.2. The server-wide caps are lowered so
that one address could fill them if nothing counted per address.
"""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from praatbox.credentials import issue_turn_credentials
from praatbox.keys import TURN_REST, derive_key
from praatbox.turn.config import DEFAULT_ADDRESS_CONNECTIONS, DEFAULT_ADDRESS_QUOTA
from tests.live import LIVE_SECRET, start_turn
from tests.turn.turn_clients import RawClient, assert_nothing_lost, echo_peer, run_tool

ATTACKER = "127.0.0.1"
NEIGHBOUR = "127.0.0.2"
TOTAL_QUOTA = 150
MAX_CONNECTIONS = 150
IDLE_SECONDS = 2
MESSAGES = 20
SECRET = derive_key(LIVE_SECRET, TURN_REST)


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    """The TURN server with small server-wide caps and a short TCP idle timeout."""
    server, port = start_turn(tmp_path_factory.mktemp("turn-limits"), {
        "PRAATBOX_TURN_TOTAL_QUOTA": str(TOTAL_QUOTA),
        "PRAATBOX_TURN_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "PRAATBOX_TURN_TCP_IDLE_SECONDS": str(IDLE_SECONDS),
        "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",  # coturn's echo peer is on loopback
    })
    yield port
    server.stop()


def uclient(port: int, peer: tuple[str, int], flags: list[str]) -> str:
    return run_tool([
        "turnutils_uclient", "-c", *flags, "-L", NEIGHBOUR, "-W", SECRET, "-u", "neighbour",
        "-e", peer[0], "-r", str(peer[1]), "-p", str(port), "-n", str(MESSAGES), "127.0.0.1",
    ])


def test_one_address_with_many_users_gets_its_quota_and_no_more(turn):
    port = turn
    answers = []
    nonce = None
    with contextlib.ExitStack() as sockets:
        for number in range(TOTAL_QUOTA + 50):
            credentials = issue_turn_credentials(SECRET, f"user{number}", 3600, time.time())
            client = RawClient(("127.0.0.1", port), *credentials, source=ATTACKER)
            sockets.callback(client.close)
            client.nonce = nonce  # one challenge for all: nonces are bound to the address
            answers.append(client.allocate().error_code)
            nonce = client.nonce
        assert answers.count(None) == DEFAULT_ADDRESS_QUOTA < TOTAL_QUOTA
        assert set(answers) == {None, 486}
        neighbour = RawClient(("127.0.0.1", port),
                              *issue_turn_credentials(SECRET, "n", 3600, time.time()),
                              source=NEIGHBOUR)
        sockets.callback(neighbour.close)
        assert neighbour.allocate().error_code is None


def is_open(connection: socket.socket) -> bool:
    """Whether the server still holds this connection (it never sends on an idle one)."""
    try:
        return connection.recv(1) != b""
    except BlockingIOError:
        return True
    except ConnectionError:
        return False


def test_idle_tcp_connections_from_one_address_are_capped_then_dropped(turn):
    port = turn
    with contextlib.ExitStack() as sockets:
        idle = []
        for _ in range(2 * MAX_CONNECTIONS):
            connection = socket.create_connection(("127.0.0.1", port), timeout=2,
                                                  source_address=(ATTACKER, 0))
            sockets.callback(connection.close)
            connection.setblocking(False)
            idle.append(connection)
        time.sleep(0.5)  # let the server accept (and refuse) them all
        assert sum(map(is_open, idle)) == DEFAULT_ADDRESS_CONNECTIONS < MAX_CONNECTIONS

        with echo_peer() as peer:
            output = uclient(port, peer, ["-t"])
        assert_nothing_lost(output, MESSAGES)

        deadline = time.monotonic() + IDLE_SECONDS + 5
        while any(map(is_open, idle)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(is_open, idle))
