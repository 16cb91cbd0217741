"""Key messages (`e2ee`) as an attacker uses them: a knocker or a kicked participant trying to
get keys or to inject them, oversize and flooding key messages. Only admitted participants ever
exchange them, and a bad one costs only its sender."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.live import HttpUser
from tests.signaling.client import pair, receive, run, terms, ws_url

MAX_DATA_BYTES = 4096  # MAX_E2EE_DATA_BYTES, the default of PRAATBOX_E2EE_MAX_DATA_BYTES
FLOOD_FRAMES = 600  # well past the burst of 200 messages, at 50 a second afterwards


async def enter(web, user, room):
    return await websockets.connect(
        ws_url(web, room) + "?e2ee=1",
        additional_headers={"Cookie": user.cookie_header(), "Origin": web.url}, max_size=None)


def key_message(to: str, data: dict) -> str:
    return json.dumps({"type": "e2ee", "to": to, "data": data})


async def frames_until_quiet(ws, timeout: float = 1.0) -> list[dict]:
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        return frames


def test_a_knocker_can_neither_send_nor_receive_key_messages(web):
    chosen = terms()
    counsellor, client, room = pair(web, chosen)
    attacker = HttpUser(web.url)
    assert attacker.enter("join", chosen) == room

    async def scenario():
        a = await enter(web, counsellor, room)
        moderator = (await receive(a, "welcome"))["self"]
        b = await enter(web, client, room)
        member = (await receive(b, "welcome"))["self"]
        await a.send(json.dumps({"type": "waiting-room", "on": True}))
        await receive(a, "waiting-room")
        x = await enter(web, attacker, room)
        await receive(x, "knocking")
        knocker = (await receive(a, "knock"))["peer"]
        for target in (moderator, member):
            await x.send(key_message(target, {"key": "forged"}))
            assert (await receive(x, "error"))["code"] == "not-allowed"
        await a.send(key_message(knocker, {"key": "for the knocker"}))
        assert (await receive(a, "error"))["code"] == "unknown-peer"
        await a.send(key_message(member, {"key": "marker"}))
        # The member's next key message is the marker: nothing forged arrived before it.
        assert (await receive(b, "e2ee"))["data"] == {"key": "marker"}
        assert all(frame["type"] != "e2ee" for frame in await frames_until_quiet(x))
        for ws in (a, b, x):
            await ws.close()

    run(scenario())


def test_a_kicked_participant_gets_no_key_messages_and_cannot_come_back_for_them(web):
    chosen = terms()
    counsellor, victim, room = pair(web, chosen)
    third = HttpUser(web.url)
    assert third.enter("join", chosen) == room

    async def scenario():
        a = await enter(web, counsellor, room)
        moderator = (await receive(a, "welcome"))["self"]
        v = await enter(web, victim, room)
        kicked = (await receive(v, "welcome"))["self"]
        c = await enter(web, third, room)
        member = (await receive(c, "welcome"))["self"]
        await a.send(json.dumps({"type": "kick", "peer": kicked}))
        await receive(v, "kicked")
        frames = await frames_until_quiet(v, timeout=5.0)
        assert v.close_code == 1000 and all(f["type"] != "e2ee" for f in frames)
        for sender in (a, c):
            await sender.send(key_message(kicked, {"key": "new key"}))
            assert (await receive(sender, "error"))["code"] == "unknown-peer"
        await c.send(key_message(moderator, {"key": "after the kick"}))
        assert (await receive(a, "e2ee"))["from"] == member
        with pytest.raises(websockets.InvalidStatus) as refused:
            await enter(web, victim, room)
        assert refused.value.response.status_code == 403
        for ws in (a, c):
            await ws.close()

    run(scenario())


def test_an_oversize_key_message_gets_too_large_and_the_connection_stays_up(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a = await enter(web, counsellor, room)
        moderator = (await receive(a, "welcome"))["self"]
        b = await enter(web, client, room)
        await receive(b, "welcome")
        fits = {"k": "x" * (MAX_DATA_BYTES - len('{"k":""}'))}
        too_big = {"k": fits["k"] + "x"}
        for _ in range(3):
            await b.send(key_message(moderator, too_big))
            assert (await receive(b, "error"))["code"] == "too-large"
        await b.send('{"type": "ping"}')
        await receive(b, "pong")
        await b.send(key_message(moderator, fits))
        assert (await receive(a, "e2ee"))["data"] == fits  # the first one that arrives
        for ws in (a, b):
            await ws.close()

    run(scenario())


def test_a_flood_of_key_messages_spends_the_senders_signaling_budget(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a = await enter(web, counsellor, room)
        moderator = (await receive(a, "welcome"))["self"]
        b = await enter(web, client, room)
        await receive(b, "welcome")
        frame = key_message(moderator, {"k": "x" * 1000})
        try:
            for _ in range(FLOOD_FRAMES):
                await b.send(frame)
        except websockets.ConnectionClosed:
            pass
        frames = await frames_until_quiet(b, timeout=10.0)
        assert {"type": "error", "code": "rate-limited",
                "message": "you are sending too fast"} in frames
        assert b.close_code == 1008
        delivered = [f for f in await frames_until_quiet(a) if f["type"] == "e2ee"]
        assert len(delivered) < FLOOD_FRAMES
        await a.send('{"type": "ping"}')
        await receive(a, "pong")  # the recipient is neither slowed down nor closed
        await a.close()

    run(scenario())
