"""Real sockets on loopback: aioice's TURN client against our server over UDP, TCP and TLS."""

import asyncio
import socket
import ssl
import time

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint

from praatbox import create_app
from praatbox.ice import ice_servers_for_request

STEP_TIMEOUT_SECONDS = 5
PAYLOAD_SIZES = (1, 3, 4, 5, 160, 1200)


class EchoPeer(asyncio.DatagramProtocol):
    """A peer on the far side of the relay: sends every datagram back and notes its source."""

    def __init__(self) -> None:
        self.sources: list[tuple[str, int]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sources.append(addr)
        self.transport.sendto(data, addr)  # type: ignore[attr-defined]


class Inbox(asyncio.DatagramProtocol):
    """What the TURN client receives from peers, and when its allocation is gone."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.closed = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def start_echo_peer() -> tuple[asyncio.DatagramTransport, EchoPeer]:
    loop = asyncio.get_running_loop()
    return await loop.create_datagram_endpoint(EchoPeer, local_addr=("127.0.0.1", 0))


async def echo(turn: asyncio.DatagramTransport, inbox: Inbox, peer: tuple[str, int]) -> None:
    """Send payloads of awkward sizes (TCP padding) through the relay and get each back."""
    for size in PAYLOAD_SIZES:
        payload = bytes([size % 256]) * size
        turn.sendto(payload, peer)
        data, source = await asyncio.wait_for(inbox.queue.get(), STEP_TIMEOUT_SECONDS)
        assert (data, source) == (payload, peer)


async def wait_until(condition, timeout: float = STEP_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_allocate_echo_through_a_peer_and_delete(turn_server, issue_credentials, transport):
    server = turn_server()

    async def scenario() -> None:
        peer_transport, peer = await start_echo_peer()
        peer_address = peer_transport.get_extra_info("sockname")
        turn, inbox = await create_turn_endpoint(
            Inbox, server.udp_address, *issue_credentials(), transport=transport)
        relayed = turn.get_extra_info("sockname")
        assert relayed[0] == "127.0.0.1"
        await echo(turn, inbox, peer_address)
        assert set(peer.sources) == {relayed}
        assert len(server.table) == 1
        turn.close()
        await asyncio.wait_for(inbox.closed.wait(), STEP_TIMEOUT_SECONDS)
        await wait_until(lambda: len(server.table) == 0)
        peer_transport.close()

    asyncio.run(scenario())
    assert server.stats["delete"] == 1
    assert server.stats["channel_bind"] >= 1


def test_allocation_lives_on_through_refreshes(turn_server, issue_credentials):
    server = turn_server(default_lifetime_seconds=3, max_lifetime_seconds=3)

    async def scenario() -> None:
        peer_transport, _ = await start_echo_peer()
        peer_address = peer_transport.get_extra_info("sockname")
        turn, inbox = await create_turn_endpoint(
            Inbox, server.udp_address, *issue_credentials(), lifetime=3)
        await asyncio.sleep(4)  # past the first lifetime; aioice refreshes at 5/6 of it
        await echo(turn, inbox, peer_address)
        assert server.stats["refresh"] >= 1
        assert server.stats["expired"] == 0
        turn.close()
        await asyncio.wait_for(inbox.closed.wait(), STEP_TIMEOUT_SECONDS)
        peer_transport.close()

    asyncio.run(scenario())


def test_allocation_expires_without_refresh_and_frees_its_relay(turn_server, raw_client,
                                                                issue_credentials):
    server = turn_server(default_lifetime_seconds=1, max_lifetime_seconds=1)
    client = raw_client(server.udp_address, *issue_credentials())
    allocated = client.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24})
    assert allocated.attributes["LIFETIME"] == 1
    deadline = time.monotonic() + 4
    # The sweep runs in the server's thread: wait for its last step (the count), then look.
    while server.stats["expired"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.stats["expired"] == 1
    assert len(server.table) == 0
    refresh = client.request(stun.Method.REFRESH, {"LIFETIME": 600})
    assert refresh.error_code == 437


def test_send_and_data_indications_reach_several_permitted_peers(turn_server, raw_client,
                                                                  issue_credentials):
    server = turn_server()
    client = raw_client(server.udp_address, *issue_credentials())
    allocated = client.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24})
    relayed = allocated.attributes["XOR-RELAYED-ADDRESS"]
    peers = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for peer in peers:
            peer.settimeout(2)
            peer.bind(("127.0.0.1", 0))
        addresses = [peer.getsockname() for peer in peers]
        response = client.request(stun.Method.CREATE_PERMISSION, peers=addresses)
        assert response.message_class == stun.Class.RESPONSE
        for peer, address in zip(peers, addresses, strict=True):
            send = stun.Message(stun.Method.SEND, stun.Class.INDICATION,
                                attributes={"XOR-PEER-ADDRESS": address, "DATA": b"hi"})
            client.sock.send(bytes(send))
            data, source = peer.recvfrom(100)
            assert (data, source) == (b"hi", relayed)
            peer.sendto(b"back", relayed)
            indication = stun.parse_message(client.sock.recv(1000))
            assert indication.message_method == stun.Method.DATA
            assert indication.attributes["XOR-PEER-ADDRESS"] == address
            assert indication.attributes["DATA"] == b"back"
    finally:
        for peer in peers:
            peer.close()


def test_tls_listener_relays_when_a_certificate_is_configured(turn_server, issue_credentials,
                                                               tls_certificate):
    cert, key = tls_certificate
    server = turn_server(tls_listen=("127.0.0.1", 0), tls_cert=cert, tls_key=key)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    async def scenario() -> None:
        peer_transport, _ = await start_echo_peer()
        turn, inbox = await create_turn_endpoint(
            Inbox, server.tls_address, *issue_credentials(), ssl=context, transport="tcp")
        await echo(turn, inbox, peer_transport.get_extra_info("sockname"))
        turn.close()
        await asyncio.wait_for(inbox.closed.wait(), STEP_TIMEOUT_SECONDS)
        peer_transport.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_ice_servers_issued_by_the_web_app_work_with_the_bundled_server(
        turn_server, turn_config, transport):
    server = turn_server()
    app = create_app({
        "SECRET_KEY": "web-secret",
        "TURN_SECRET": f"{turn_config.secrets[0]},retired-secret",
        "TURN_LISTEN": f"127.0.0.1:{server.udp_address[1]}",
        "TESTING": True,
    })
    with app.test_request_context("/", headers={"Host": "127.0.0.1:8000"}):
        ice_servers = ice_servers_for_request(app.config, time.time())
    turn = next(s for s in ice_servers if str(s["urls"][0]).startswith("turn:"))
    port = server.udp_address[1]
    assert turn["urls"] == [f"turn:127.0.0.1:{port}?transport=udp",
                            f"turn:127.0.0.1:{port}?transport=tcp"]

    async def scenario() -> None:
        peer_transport, _ = await start_echo_peer()
        relay, inbox = await create_turn_endpoint(
            Inbox, ("127.0.0.1", port), turn["username"], turn["credential"],
            transport=transport)
        await echo(relay, inbox, peer_transport.get_extra_info("sockname"))
        relay.close()
        await asyncio.wait_for(inbox.closed.wait(), STEP_TIMEOUT_SECONDS)
        peer_transport.close()

    asyncio.run(scenario())
