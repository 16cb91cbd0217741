"""`python -m praatbox.relay` as a signaling client of a stand-in `/ws-relay` endpoint."""

import asyncio
import contextlib
import json
from http import HTTPStatus

import pytest
import websockets
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from praatbox.relay import __main__ as relay_main
from praatbox.relay.auth import relay_token, relay_token_valid
from praatbox.relay.config import load_config, signaling_url

SECRET = "test-secret"


def test_relay_token_is_a_key_of_its_own_derived_from_the_secret() -> None:
    token = relay_token(SECRET)
    assert len(token) == 43 and token == relay_token(SECRET) and token != SECRET
    assert token != relay_token("other-secret")
    assert relay_token_valid(relay_token(SECRET), token)
    assert not relay_token_valid(relay_token(SECRET), relay_token("other-secret"))
    assert not relay_token_valid(relay_token(SECRET), "")
    assert not relay_token_valid(relay_token(SECRET), "é" * 64)


def test_config_reads_the_environment() -> None:
    config = load_config(
        {
            "PRAATBOX_RELAY_URL": "https://example.org/base/",
            "PRAATBOX_SECRET_KEY": SECRET,
            "PRAATBOX_RELAY_CAPACITY": "7",
            "PRAATBOX_RELAY_HOST_IPS": "127.0.0.1, 10.0.0.2",
            "PRAATBOX_RELAY_ICE_SERVERS": '[{"urls": "turn:127.0.0.1:3478", "username": "u",'
            ' "credential": "p"}]',
        }
    )
    assert config.signaling_url == "wss://example.org/base/ws-relay"
    assert config.capacity == 7 and config.host_ips == ("127.0.0.1", "10.0.0.2")
    assert config.rtc_configuration().iceServers[0].urls == "turn:127.0.0.1:3478"
    assert load_config({}).rtc_configuration().iceServers == []
    assert signaling_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/ws-relay"
    with pytest.raises(ValueError):
        load_config({"PRAATBOX_RELAY_URL": "ftp://x"})


def test_config_reads_how_video_adapts_to_links() -> None:
    settings = load_config({"PRAATBOX_RELAY_VIDEO_FLOOR_KBPS": "40",
                            "PRAATBOX_RELAY_PUBLISH_FLOOR_KBPS": "200",
                            "PRAATBOX_RELAY_RETRANSMIT_MAX_KBPS": "500"}).layer_settings
    assert settings is not None
    assert (settings.video_floor_bps, settings.publish_floor_bps,
            settings.retransmit_max_bps) == (40_000, 200_000, 500_000)
    assert load_config({"PRAATBOX_RELAY_ADAPT_VIDEO": "0"}).layer_settings is None
    with pytest.raises(ValueError, match="PRAATBOX_RELAY_RETRANSMIT_MAX_KBPS"):
        load_config({"PRAATBOX_RELAY_RETRANSMIT_MAX_KBPS": "-1"})


def test_config_reads_the_turn_servers_peer_policy() -> None:
    metadata, loopback = ("169.254.169.254", 80), ("127.0.0.1", 5000)
    default = load_config({}).peer_policy()
    assert not default.is_allowed(metadata) and not default.is_allowed(loopback)
    assert default.is_allowed(("203.0.113.7", 5000))
    opened = load_config({"PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",
                          "PRAATBOX_TURN_DENIED_PEERS": "127.0.0.2/32"}).peer_policy()
    assert opened.is_allowed(loopback) and not opened.is_allowed(("127.0.0.2", 5000))
    assert not opened.is_allowed(metadata)
    with pytest.raises(ValueError):
        load_config({"PRAATBOX_TURN_ALLOWED_PEERS": "loopback"})


def test_client_authenticates_says_hello_follows_rooms_and_reconnects() -> None:
    async def scenario() -> None:
        refused = 0
        connections: asyncio.Queue[ServerConnection] = asyncio.Queue()

        def check_auth(connection: ServerConnection, request: Request) -> Response | None:
            nonlocal refused
            presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if request.path != "/ws-relay" or not relay_token_valid(relay_token(SECRET), presented):
                refused += 1
                return connection.respond(HTTPStatus.UNAUTHORIZED, "no\n")
            return None

        async def handler(connection: ServerConnection) -> None:
            await connections.put(connection)
            await connection.wait_closed()

        async def receive(connection: ServerConnection) -> dict:
            return json.loads(await asyncio.wait_for(connection.recv(), 10))

        async with websockets.serve(handler, "127.0.0.1", 0, process_request=check_auth) as server:
            port = server.sockets[0].getsockname()[1]
            url = f"http://127.0.0.1:{port}"
            wrong = asyncio.ensure_future(
                relay_main.run(load_config({"PRAATBOX_RELAY_URL": url, "PRAATBOX_SECRET_KEY": "x"}))
            )
            config = load_config(
                {
                    "PRAATBOX_RELAY_URL": url,
                    "PRAATBOX_SECRET_KEY": SECRET,
                    "PRAATBOX_RELAY_CAPACITY": "3",
                }
            )
            client = asyncio.ensure_future(relay_main.run(config))
            try:
                first = await asyncio.wait_for(connections.get(), 10)
                assert await receive(first) == {"type": "relay-hello", "capacity": 3}
                assert await receive(first) == {"type": "relay-load", "rooms": 0, "streams": 0}
                # Nothing the web may send ends the connection: not bad JSON, not nesting
                # deeper than Python's recursion limit, not a frame above 64 KiB.
                await first.send("not json")
                await first.send("[" * 100_000)
                big = {"type": "signal", "room": "r0", "from": "p", "data": "é" * 60_000}
                await first.send(json.dumps(big, ensure_ascii=False))
                await first.send(json.dumps({"type": "room-open", "room": "r1", "peers": []}))
                assert await receive(first) == {"type": "relay-load", "rooms": 1, "streams": 0}
                await first.send(json.dumps({"type": "room-close", "room": "r1"}))
                assert await receive(first) == {"type": "relay-load", "rooms": 0, "streams": 0}

                await first.close()
                second = await asyncio.wait_for(connections.get(), 10)
                assert (await receive(second))["type"] == "relay-hello"
                assert refused >= 1
                assert connections.empty(), "a wrong secret never gets a connection"
            finally:
                for task in (client, wrong):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    asyncio.run(scenario())
