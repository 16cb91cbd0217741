"""`/ws-relay` and group mode against a real gunicorn server, with a stand-in relay client."""

import asyncio
import contextlib
import json

import pytest
import websockets

from praatbox.relay.auth import relay_token
from tests.live import LIVE_SECRET as SECRET
from tests.security.relay_rooms import group_room
from tests.signaling.client import connect, join, receive, run


def relay_url(web):
    return web.url.replace("http", "ws") + "/ws-relay"


async def connect_relay(web, capacity=5):
    headers = {"Authorization": f"Bearer {relay_token(SECRET)}"}
    ws = await websockets.connect(relay_url(web), additional_headers=headers)
    await ws.send(json.dumps({"type": "relay-hello", "capacity": capacity}))
    return ws


async def close_relay(ws):
    await ws.close()
    await asyncio.sleep(0.3)  # the web process forgets the relay when its handler ends


async def join_all(web, users, room):
    sockets, ids = [], []
    for user in users:
        ws = await connect(web, user, room)
        ids.append((await receive(ws, "welcome"))["self"])
        sockets.append(ws)
    return sockets, ids


async def no_frame_of(ws, kind, seconds):
    with contextlib.suppress(asyncio.TimeoutError):
        frame = await receive(ws, kind, timeout=seconds)
        raise AssertionError(f"unexpected {frame}")


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer " + relay_token("some-other-secret")},
    {"Authorization": relay_token(SECRET)},
])
def test_ws_relay_refuses_anyone_without_the_relay_token(web, headers):
    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(relay_url(web), additional_headers=headers)
        assert refused.value.response.status_code == 401

    run(scenario())


def test_a_browser_session_cannot_open_ws_relay_nor_send_relay_frames(web):
    (counsellor, client), room = group_room(web, 2)

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(relay_url(web), additional_headers={
                "Cookie": counsellor.cookie_header(), "Origin": web.url})
        assert refused.value.response.status_code == 401
        (a, b), _ = await join_all(web, [counsellor, client], room)
        for frame in ({"type": "relay-hello", "capacity": 5},
                      {"type": "relay-load", "rooms": 0, "streams": 0}):
            await a.send(json.dumps(frame))
            assert (await receive(a, "error"))["code"] == "unknown-type"
        # In a p2p room there is no relay to talk to.
        await a.send(json.dumps({"type": "signal", "to": "relay", "data": {"candidate": None}}))
        assert (await receive(a, "error"))["code"] == "unknown-peer"
        await a.close()
        await b.close()

    run(scenario())


def test_third_person_moves_the_room_to_the_relay_and_back_after_a_delay(web):
    users, room = group_room(web, 4)

    async def scenario():
        relay = await connect_relay(web)
        await asyncio.sleep(0.3)
        (a, b, c), (id_a, id_b, id_c) = await join_all(web, users[:3], room)
        for ws in (a, b):
            assert (await receive(ws, "mode")) == {"type": "mode", "mode": "group"}
        opened = await receive(relay, "room-open")
        room_id = opened["room"]
        assert opened["peers"] == [id_a, id_b, id_c]

        # Offers come from the relay, answers go to it; the server stamps who sent what.
        offer = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
        await relay.send(json.dumps({"type": "signal", "room": room_id, "to": id_c, "data": offer}))
        assert await receive(c, "signal") == {"type": "signal", "from": "relay", "data": offer}
        answer = {"description": {"type": "answer", "sdp": "v=0\r\n"}}
        await c.send(json.dumps({"type": "signal", "to": "relay", "data": answer, "from": id_a}))
        assert await receive(relay, "signal") == {
            "type": "signal", "room": room_id, "from": id_c, "data": answer}
        # A relay's error report reaches that browser only.
        error = {"error": {"code": "bad-field", "message": "unusable answer"}}
        await relay.send(json.dumps({"type": "signal", "room": room_id, "to": id_c, "data": error}))
        assert (await receive(c, "signal"))["data"] == error

        # A reload (leave, come back at once) does not bounce the room back to p2p.
        await c.close()
        assert (await receive(relay, "peer-left"))["peer"] == id_c
        c, welcome = await join(web, users[2], room)
        assert welcome["mode"] == "group"
        assert (await receive(relay, "peer-joined"))["peer"] == welcome["self"]
        await no_frame_of(a, "mode", 5.0)

        await c.send(json.dumps({"type": "hangup"}))
        assert (await receive(relay, "peer-left"))["peer"] == welcome["self"]
        for ws in (a, b):
            assert (await receive(ws, "mode", timeout=10)) == {"type": "mode", "mode": "p2p"}
        assert (await receive(relay, "room-close"))["room"] == room_id
        # Once the room is back on p2p, the relay cannot reach its browsers any more.
        await relay.send(json.dumps({"type": "signal", "room": room_id, "to": id_a, "data": offer}))
        await no_frame_of(a, "signal", 0.5)
        for ws in (a, b):
            await ws.close()
        await close_relay(relay)

    run(scenario())


def test_without_a_relay_the_room_falls_back_to_a_mesh_of_four(web):
    users, room = group_room(web, 5)

    async def scenario():
        (a, b, c, d), _ = await join_all(web, users[:4], room)
        assert (await receive(a, "mode")) == {"type": "mode", "mode": "mesh"}
        fifth = await connect(web, users[4], room)
        assert (await receive(fifth, "error"))["code"] == "room-full"
        await fifth.close()
        # A relay that registers later takes the room over.
        relay = await connect_relay(web)
        assert len((await receive(relay, "room-open"))["peers"]) == 4
        assert (await receive(a, "mode")) == {"type": "mode", "mode": "group"}
        # If it goes away, the room falls back to the mesh again.
        await close_relay(relay)
        assert (await receive(a, "mode")) == {"type": "mode", "mode": "mesh"}
        for ws in (a, b, c, d):
            await ws.close()

    run(scenario())


def test_group_rooms_are_pinned_to_the_least_loaded_relay(web):
    first_room, second_room = group_room(web, 3), group_room(web, 3)

    async def scenario():
        one, two = await connect_relay(web), await connect_relay(web)
        await asyncio.sleep(0.3)
        first, _ = await join_all(web, *first_room)
        second, _ = await join_all(web, *second_room)
        got_one = await receive(one, "room-open")
        got_two = await receive(two, "room-open")
        assert got_one["room"] != got_two["room"]
        for ws in first + second:
            await ws.close()
        await close_relay(one)
        await close_relay(two)

    run(scenario())
