"""The TURN server's own address as a peer: only live relays are reachable, no other service.

A plain UDP service bound on the server's address inside the relay port range must receive
nothing relayed, while two allocations still talk relay to relay (two browsers that both need
TURN). Real process: `python -m praatbox.turn` with the default peer filter.
"""

from __future__ import annotations

import contextlib
import socket
import time

import pytest
from aioice import stun

from praatbox.credentials import issue_turn_credentials
from praatbox.keys import TURN_REST, derive_key
from tests.live import LIVE_SECRET, start_turn
from tests.turn.turn_clients import RawClient

SECRET = derive_key(LIVE_SECRET, TURN_REST)
RANGE_PORTS = 40
SILENCE_SECONDS = 1.0


@pytest.fixture
def service_in_relay_range(tmp_path):
    """A UDP service on 127.0.0.1 inside the relay range, and the TURN server's port."""
    service = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    service.bind(("127.0.0.1", 0))
    service.settimeout(SILENCE_SECONDS)
    low = max(1024, service.getsockname()[1] - RANGE_PORTS // 2)
    turn, port = start_turn(tmp_path, {
        "PRAATBOX_TURN_RELAY_PORTS": f"{low}-{min(65535, low + RANGE_PORTS)}",
    })
    yield service, port
    turn.stop()
    service.close()


def allocate(port: int, user: str, sockets: contextlib.ExitStack) -> tuple[RawClient, int]:
    client = RawClient(("127.0.0.1", port),
                       *issue_turn_credentials(SECRET, user, 3600, time.time()))
    sockets.callback(client.close)
    response = client.allocate()
    assert response.error_code is None, response
    relay_ip, relay_port = response.attributes["XOR-RELAYED-ADDRESS"]
    assert relay_ip == "127.0.0.1"
    return client, relay_port


def test_udp_service_inside_the_relay_range_gets_nothing(service_in_relay_range):
    service, port = service_in_relay_range
    target = ("127.0.0.1", service.getsockname()[1])
    with contextlib.ExitStack() as sockets:
        alice, alice_relay = allocate(port, "alice", sockets)
        mallory, mallory_relay = allocate(port, "mallory", sockets)

        assert mallory.request(stun.Method.CREATE_PERMISSION, peers=[target]).error_code == 403
        bind = mallory.request(stun.Method.CHANNEL_BIND, {"CHANNEL-NUMBER": 0x4000},
                               peers=[target])
        assert bind.error_code == 403
        # A permission is per IP address: one for a live relay covers the whole address...
        live = ("127.0.0.1", alice_relay)
        assert mallory.request(stun.Method.CREATE_PERMISSION, peers=[live]).error_code is None
        # ...yet a Send indication to the service is still dropped.
        for _ in range(5):
            mallory.send_to_peer(target, b"to the service")
        with pytest.raises(TimeoutError):
            service.recvfrom(100)

        # Relay to relay still works (two browsers that both need TURN).
        assert alice.request(stun.Method.CREATE_PERMISSION,
                             peers=[("127.0.0.1", mallory_relay)]).error_code is None
        mallory.send_to_peer(live, b"to alice")
        data = stun.parse_message(alice.sock.recv(1000))
        assert data.attributes["DATA"] == b"to alice"
        assert data.attributes["XOR-PEER-ADDRESS"] == ("127.0.0.1", mallory_relay)

        # Once alice's allocation is gone, her port is closed to peers again.
        assert alice.request(stun.Method.REFRESH, {"LIFETIME": 0}).error_code is None
        again = mallory.request(stun.Method.CHANNEL_BIND, {"CHANNEL-NUMBER": 0x4001},
                                peers=[live])
        assert again.error_code == 403
