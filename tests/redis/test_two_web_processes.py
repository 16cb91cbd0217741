"""Two real gunicorn web processes sharing rooms through Redis: the counsellor's socket on one,
the client's on the other."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.live import HttpUser
from tests.signaling.client import connect, join, pair, receive, run


def test_participants_on_two_processes_meet_exchange_signals_and_see_the_hang_up(two_webs):
    first, second = two_webs
    counsellor, client, room = pair(first, client_web=second)

    async def scenario():
        a = await connect(first, counsellor, room)
        mod = (await receive(a, "welcome"))["self"]
        b, welcome = await join(second, client, room)
        assert welcome["peers"] == [mod]
        assert (await receive(a, "peer-joined"))["peer"] == welcome["self"]
        offer = {"description": {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 1500}}
        await b.send(json.dumps({"type": "signal", "to": mod, "data": offer}))
        forwarded = await receive(a, "signal")
        assert forwarded == {"type": "signal", "from": welcome["self"], "data": offer}
        await a.send(json.dumps({"type": "signal", "to": welcome["self"],
                                 "data": {"candidate": None}}))
        assert (await receive(b, "signal"))["from"] == mod
        await b.send(json.dumps({"type": "hangup"}))
        left = await receive(a, "peer-left")
        assert left == {"type": "peer-left", "peer": welcome["self"], "reason": "hangup"}
        await a.close()
        await b.close()

    run(scenario())


def test_a_kick_on_one_process_disconnects_and_bans_the_client_on_the_other(two_webs):
    first, second = two_webs
    counsellor, client, room = pair(first, client_web=second)

    async def scenario():
        a, _ = await join(first, counsellor, room)
        b = await connect(second, client, room)
        victim = (await receive(b, "welcome"))["self"]
        await a.send(json.dumps({"type": "kick", "peer": victim}))
        assert await receive(b, "kicked")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(b.recv(), 5)
        assert (await receive(a, "peer-left"))["reason"] == "kicked"
        for web in (first, second):
            with pytest.raises(websockets.InvalidStatus):
                await connect(web, client, room)
        await a.close()

    run(scenario())
    _, html = HttpUser(first.url, client.jar).get(room)
    assert 'data-testid="kicked-notice"' in html


def test_ending_on_one_process_closes_the_room_everywhere(two_webs):
    first, second = two_webs
    counsellor, client, room = pair(first, client_web=second)

    async def scenario():
        a, _ = await join(first, counsellor, room)
        b, _ = await join(second, client, room)
        await a.send(json.dumps({"type": "end"}))
        assert await receive(b, "ended")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(b.recv(), 5)
        await a.close()

    run(scenario())
    _, html = HttpUser(second.url, client.jar).get(room)
    assert 'data-testid="waiting-screen"' in html
