"""PRAATBOX_TURN_WORKERS=2: two processes on one port serve allocations as one server would.

A real `python -m praatbox.turn` with two workers. The kernel spreads clients over them, so
aioice clients over UDP and TCP in a ring, each relaying to the next one's relay address,
cross from one worker to the other; that works only because the workers share which relay
ports are live (the server's own address is open on those alone). coturn's turnutils_uclient
relays through coturn's echo peer with zero loss.
"""

import asyncio
import re
import socket
import time
import urllib.request

import pytest
from aioice.turn import create_turn_endpoint

from tests.live import STARTUP_TIMEOUT_SECONDS, free_port, start_turn
from tests.turn.conftest import SECRET, credentials
from tests.turn.test_server_aioice import PAYLOAD_SIZES, STEP_TIMEOUT_SECONDS, Inbox
from tests.turn.turn_clients import assert_nothing_lost, echo_peer, run_tool

WORKERS = 2
UDP_CLIENTS, TCP_CLIENTS = 8, 4
UCLIENT_SESSIONS, UCLIENT_MESSAGES = 10, 50
# The echo peer is allowed; the server's own 127.0.0.1 is open on live relay ports only.
PEER_HOST = "127.0.0.2"


def free_port_pair() -> int:
    """A port free for metrics with the next one (worker i serves metrics on the port + i)."""
    while True:
        port = free_port()
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """The TURN port and the first worker's metrics port."""
    metrics_port = free_port_pair()
    server, port = start_turn(tmp_path_factory.mktemp("turn-workers"), {
        "PRAATBOX_TURN_SECRET": SECRET,
        "PRAATBOX_TURN_WORKERS": str(WORKERS),
        "PRAATBOX_TURN_ALLOWED_PEERS": f"{PEER_HOST}/32",
        "PRAATBOX_TURN_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
    })
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while len(re.findall(r"TURN listening .*worker \d of 2", server.log())) < WORKERS:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        yield port, metrics_port
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log()


def allocations_created(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as page:
        text = page.read().decode()
    found = re.search(r"^praatbox_turn_allocations_created_total (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


async def relay_to_next(port: int) -> None:
    """Each client sends to the next one's relay address; everything must arrive."""
    transports = ["udp"] * UDP_CLIENTS + ["tcp"] * TCP_CLIENTS
    clients = [
        await create_turn_endpoint(Inbox, ("127.0.0.1", port), *credentials(f"user{n}"),
                                   transport=transport)
        for n, transport in enumerate(transports)
    ]
    relays = [turn.get_extra_info("sockname") for turn, _ in clients]
    assert {relay[0] for relay in relays} == {"127.0.0.1"}
    ring = [(clients[n][0], clients[(n + 1) % len(clients)][1], relays[n],
             relays[(n + 1) % len(clients)]) for n in range(len(clients))]
    # A client receives from the server's address once it has a permission for it, that is
    # once its own first datagram went out: until then, hellos may be dropped.
    deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
    while any(inbox.queue.empty() for _, inbox, _, _ in ring):
        assert time.monotonic() < deadline, "a link of the ring never carried a datagram"
        for sender, _, _, target in ring:
            sender.sendto(b"hello", target)
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # hellos still on their way
    for _, inbox, source, _ in ring:
        while not inbox.queue.empty():
            assert inbox.queue.get_nowait() == (b"hello", source)
    for sender, _, _, target in ring:
        for size in PAYLOAD_SIZES:
            sender.sendto(bytes([size % 256]) * size, target)
    for _, inbox, source, _ in ring:
        for size in PAYLOAD_SIZES:
            received = await asyncio.wait_for(inbox.queue.get(), STEP_TIMEOUT_SECONDS)
            assert received == (bytes([size % 256]) * size, source)
    for turn, inbox in clients:
        turn.close()
        await asyncio.wait_for(inbox.closed.wait(), STEP_TIMEOUT_SECONDS)


def test_clients_on_both_workers_relay_to_each_other(two_workers):
    port, metrics_port = two_workers
    before = [allocations_created(metrics_port + n) for n in range(WORKERS)]
    asyncio.run(relay_to_next(port))
    created = [allocations_created(metrics_port + n) - before[n] for n in range(WORKERS)]
    assert sum(created) == UDP_CLIENTS + TCP_CLIENTS
    # Both workers hold some of them (all twelve on one: one chance in 2,048).
    assert all(created), created


def test_uclient_relays_through_two_workers_without_loss(two_workers):
    port, metrics_port = two_workers
    with echo_peer(PEER_HOST) as peer:
        # -c: no RTCP relay, whose RESERVATION-TOKEN workers do not hand out (docs/turn.md).
        output = run_tool([
            "turnutils_uclient", "-c", "-W", SECRET, "-u", "uclient", "-e", peer[0],
            "-r", str(peer[1]), "-p", str(port), "-m", str(UCLIENT_SESSIONS),
            "-n", str(UCLIENT_MESSAGES), "-l", "172", "127.0.0.1",
        ])
    assert_nothing_lost(output, UCLIENT_SESSIONS * UCLIENT_MESSAGES)


def test_tcp_uclient_relays_through_two_workers_without_loss(two_workers):
    port, _ = two_workers
    with echo_peer(PEER_HOST) as peer:
        output = run_tool([
            "turnutils_uclient", "-c", "-t", "-W", SECRET, "-u", "uclient", "-e", peer[0],
            "-r", str(peer[1]), "-p", str(port), "-m", str(UCLIENT_SESSIONS),
            "-n", str(UCLIENT_MESSAGES), "-l", "172", "127.0.0.1",
        ])
    assert_nothing_lost(output, UCLIENT_SESSIONS * UCLIENT_MESSAGES)
