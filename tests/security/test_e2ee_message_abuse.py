"""Key messages (`e2ee`) as an attacker uses them: a knocker or a kicked participant trying to
get keys or to inject them, oversize and flooding key messages. Only admitted participants ever
exchange them, and a bad one costs only its sender."""

from __future__ import annotations

import json

import pytest
import websockets

from tests.security.test_flood_signaling import drain
from tests.signaling.client import pair, receive, run
from tests.signaling.test_e2ee_forwarding import connect_e2ee, meet, three_users

MAX_DATA_BYTES = 4096  # MAX_E2EE_DATA_BYTES, the default of PRAATBOX_E2EE_MAX_DATA_BYTES
FLOOD_FRAMES = 600  # well past the burst of 200 messages, at 50 a second afterwards


def key_message(to: str, data: dict) -> str:
    return json.dumps({"type": "e2ee", "to": to, "data": data})


def test_a_knocker_can_neither_send_nor_receive_key_messages(web):
    counsellor, client, attacker, room = three_users(web)

    async def scenario():
        a, moderator, b, member = await meet(web, counsellor, client, room)
        await a.send(json.dumps({"type": "waiting-room", "on": True}))
        await receive(a, "waiting-room")
        x = await connect_e2ee(web, attacker, room)
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
        assert all(frame["type"] != "e2ee" for frame in await drain(x, 1.0))
        for ws in (a, b, x):
            await ws.close()

    run(scenario())


def test_a_kicked_participant_gets_no_key_messages_and_cannot_come_back_for_them(web):
    counsellor, victim, third, room = three_users(web)

    async def scenario():
        a, moderator, v, kicked = await meet(web, counsellor, victim, room)
        c = await connect_e2ee(web, third, room)
        member = (await receive(c, "welcome"))["self"]
        await a.send(json.dumps({"type": "kick", "peer": kicked}))
        await receive(v, "kicked")
        frames = await drain(v, 5.0)
        assert v.close_code == 1000 and all(f["type"] != "e2ee" for f in frames)
        for sender in (a, c):
            await sender.send(key_message(kicked, {"key": "new key"}))
            assert (await receive(sender, "error"))["code"] == "unknown-peer"
        await c.send(key_message(moderator, {"key": "after the kick"}))
        assert (await receive(a, "e2ee"))["from"] == member
        with pytest.raises(websockets.InvalidStatus) as refused:
            await connect_e2ee(web, victim, room)
        assert refused.value.response.status_code == 403
        for ws in (a, c):
            await ws.close()

    run(scenario())


def between_two(web, body) -> None:
    """Run `body(a, moderator, b)`: the counsellor's and a client's sockets in a fresh room."""
    counsellor, client, room = pair(web)

    async def scenario():
        a, moderator, b, _ = await meet(web, counsellor, client, room)
        await body(a, moderator, b)
        for ws in (a, b):
            await ws.close()

    run(scenario())


def test_an_oversize_key_message_gets_too_large_and_the_connection_stays_up(web):
    async def body(a, moderator, b):
        fits = {"k": "x" * (MAX_DATA_BYTES - len('{"k":""}'))}
        too_big = {"k": fits["k"] + "x"}
        for _ in range(3):
            await b.send(key_message(moderator, too_big))
            assert (await receive(b, "error"))["code"] == "too-large"
        await b.send('{"type": "ping"}')
        await receive(b, "pong")
        await b.send(key_message(moderator, fits))
        assert (await receive(a, "e2ee"))["data"] == fits  # the first one that arrives

    between_two(web, body)


def test_a_flood_of_key_messages_spends_the_senders_signaling_budget(web):
    async def body(a, moderator, b):
        frame = key_message(moderator, {"k": "x" * 1000})
        try:
            for _ in range(FLOOD_FRAMES):
                await b.send(frame)
        except websockets.ConnectionClosed:
            pass
        frames = await drain(b, 10.0)
        assert {"type": "error", "code": "rate-limited",
                "message": "you are sending too fast"} in frames
        assert b.close_code == 1008
        delivered = [f for f in await drain(a, 1.0) if f["type"] == "e2ee"]
        assert len(delivered) < FLOOD_FRAMES
        await a.send('{"type": "ping"}')
        await receive(a, "pong")  # the recipient is neither slowed down nor closed

    between_two(web, body)
