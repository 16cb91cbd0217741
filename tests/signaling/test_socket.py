"""The signaling WebSocket against a real gunicorn + gevent server, driven by raw frames."""

import asyncio
import json

import pytest
import websockets

from tests.signaling.client import connect, join, next_frame, pair, receive, run


def test_two_participants_meet_and_signals_are_stamped_by_the_server(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, welcome_a = await join(web, counsellor, room)
        assert welcome_a["moderator"] is True and welcome_a["peers"] == []
        b, welcome_b = await join(web, client, room)
        assert welcome_b["moderator"] is False and welcome_b["peers"] == [welcome_a["self"]]
        assert (await receive(a, "peer-joined"))["peer"] == welcome_b["self"]
        offer = {"description": {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 1500}}
        await b.send(json.dumps({"type": "signal", "to": welcome_a["self"], "from": "forged",
                                 "data": offer}))
        forwarded = await receive(a, "signal")
        assert forwarded["from"] == welcome_b["self"]
        assert forwarded["data"] == offer  # a 9 KB frame arrives whole (short writes handled)
        await b.send(json.dumps({"type": "hangup"}))
        left = await receive(a, "peer-left")
        assert left == {"type": "peer-left", "peer": welcome_b["self"], "reason": "hangup"}
        await a.close()
        await b.close()

    run(scenario())


def test_a_dropped_connection_is_reported_as_disconnected(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        b, _ = await join(web, client, room)
        await b.close()
        assert (await receive(a, "peer-left"))["reason"] == "disconnected"
        await a.close()

    run(scenario())


@pytest.mark.parametrize("frame, code", [
    ("not json", "bad-json"),
    ('{"type": "launch"}', "unknown-type"),
    ('{"type": "signal", "to": "nobody", "data": {"candidate": null}}', "unknown-peer"),
    ('{"type": "signal", "to": "x", "data": {"description": {"type": "evil"}}}', "bad-field"),
    (json.dumps({"type": "ping", "pad": "x" * 70_000}), "too-large"),
])
def test_bad_frames_get_an_error_and_the_connection_stays_up(web, frame, code):
    counsellor, _, room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        await a.send(frame)
        error = await receive(a, "error")
        assert error["code"] == code and error["message"]
        await a.send('{"type": "ping"}')
        assert await receive(a, "pong")
        await a.close()

    run(scenario())


def test_repeated_abuse_closes_the_connection_with_policy_violation(web):
    counsellor, _, room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        for _ in range(20):
            await a.send("garbage")
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(a.recv(), 5)
        assert a.close_code == 1008

    run(scenario())


def test_signals_cannot_cross_into_another_room(web):
    counsellor, _, room = pair(web)
    stranger, _, other_room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        x = await connect(web, stranger, other_room)
        outsider = (await receive(x, "welcome"))["self"]
        await a.send(json.dumps({"type": "signal", "to": outsider, "data": {"candidate": None}}))
        assert (await receive(a, "error"))["code"] == "unknown-peer"
        await x.send('{"type": "ping"}')
        # The outsider's next frame after its welcome is the pong: the signal never reached it.
        assert (await next_frame(x))["type"] == "pong"
        await a.close()
        await x.close()

    run(scenario())


def test_upgrade_from_a_foreign_origin_is_refused_before_the_handshake(web):
    counsellor, _, room = pair(web)

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as caught:
            await connect(web, counsellor, room, origin="http://evil.example")
        assert caught.value.response.status_code == 403

    run(scenario())
