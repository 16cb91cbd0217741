"""Recording and streaming as an attacker tries them, over real gunicorn and raw WebSockets: a
client starting or faking a recording, forged fields, a streaming request on a server without an
endpoint, a newcomer at the door trying to see or reach who is inside, a counsellor's pushy
toggling. Consent and the indicators stay the server's word, and a bad frame costs its sender."""

from __future__ import annotations

import json

from tests.live import HttpUser
from tests.security.test_e2ee_message_abuse import between_two
from tests.security.test_flood_signaling import drain
from tests.signaling.client import receive, run, terms
from tests.signaling.test_e2ee_forwarding import connect_e2ee, meet, three_users


def capture(kind: str, on: bool, **extra) -> str:
    return json.dumps({"type": "capture", "kind": kind, "on": on, **extra})


def consent(kind: str, accept, **extra) -> str:
    return json.dumps({"type": "consent", "kind": kind, "accept": accept, **extra})


def test_a_client_can_neither_start_stop_nor_fake_a_recording(web):
    counsellor, client, _, room = three_users(web)

    async def scenario():
        a, moderator, b, member = await meet(web, counsellor, client, room)
        await b.send(capture("rec", True))
        assert (await receive(b, "error"))["code"] == "not-allowed"
        # Forged fields are dropped by the codec: a client cannot claim a capture runs.
        await b.send(json.dumps({"type": "capture", "kind": "rec", "on": True, "state": "running",
                                 "by": moderator}))
        assert (await receive(b, "error"))["code"] == "not-allowed"
        await a.send(capture("rec", True))
        asked = await receive(b, "capture")
        assert (asked["state"], asked["by"]) == ("asking", moderator)
        assert (await receive(a, "capture"))["state"] == "asking"
        await b.send(capture("rec", False))  # a client stopping looks like an attack on consent
        assert (await receive(b, "error"))["code"] == "not-allowed"
        await b.send(consent("rec", True, **{"from": moderator}))
        running = await receive(a, "capture")
        assert (running["state"], running["consented"]) == ("running", [member])
        for ws in (a, b):
            await ws.close()

    run(scenario())


def test_malformed_capture_and_consent_frames_get_a_clear_error_and_the_socket_stays(web):
    bad_frames = [
        capture("screen", True), capture("rec", "yes"), capture("REC", True),
        json.dumps({"type": "capture", "kind": ["rec"], "on": True}),
        consent("rec", "yes"), consent("rec", 1), consent("x" * 70_000, True),
        json.dumps({"type": "consent", "accept": True}),
    ]

    async def body(a, _, b):
        for frame in bad_frames:
            await b.send(frame)
            assert (await receive(b, "error"))["code"] in ("bad-field", "too-large")
        await b.send(json.dumps({"type": "ping"}))
        assert (await receive(b, "pong"))["type"] == "pong"
        # Answers to nothing are nothing: no capture appears anywhere.
        await b.send(consent("rec", True))
        await b.send(consent("live", False))
        assert [f for f in await drain(a, 1.0) if f["type"] == "capture"] == []

    between_two(web, body)


def test_live_is_refused_on_a_server_without_a_streaming_endpoint(web):
    async def body(a, _, b):
        await a.send(capture("live", True))
        assert (await receive(a, "error"))["code"] == "streaming-off"
        assert [f for f in await drain(b, 1.0) if f["type"] == "capture"] == []

    between_two(web, body)


def test_a_newcomer_at_the_door_learns_nothing_of_who_is_inside_and_reaches_nobody(web):
    counsellor, client, stranger, room = three_users(web)

    async def scenario():
        a, moderator, b, member = await meet(web, counsellor, client, room)
        await a.send(capture("rec", True))
        await receive(b, "capture")
        await b.send(consent("rec", True))
        while (await receive(a, "capture"))["state"] != "running":
            pass
        x = await connect_e2ee(web, stranger, room)
        door = await receive(x, "consent-needed")
        assert door["captures"] == [{"kind": "rec", "state": "running"}]
        assert moderator not in json.dumps(door) and member not in json.dumps(door)
        for frame in (json.dumps({"type": "signal", "to": moderator,
                                  "data": {"candidate": None}}),
                      json.dumps({"type": "e2ee", "to": member, "data": {"key": "x"}})):
            await x.send(frame)
            assert (await receive(x, "error"))["code"] == "not-allowed"
        assert [f["type"] for f in await drain(a, 1.0) if f["type"] != "pong"] == []
        # A "yes" for another kind, or the counsellor's own stop command, does not open the door.
        await x.send(consent("live", True))
        await x.send(capture("rec", False))
        assert (await receive(x, "error"))["code"] == "not-allowed"
        assert all(f["type"] != "welcome" for f in await drain(x, 1.0))
        await x.send(consent("rec", True))
        assert (await receive(x, "welcome"))["peers"] == [moderator, member]
        for ws in (a, b, x):
            await ws.close()

    run(scenario())


def test_a_fresh_cookie_per_attempt_still_waits_at_the_door(web):
    """Someone who overheard the terms tries again and again with new browser sessions while the
    counsellor records: each attempt is held at the door, none gets in or sees anyone."""
    chosen = terms()
    counsellor = HttpUser(web.url)
    room = counsellor.enter("start", chosen)

    async def scenario():
        a = await connect_e2ee(web, counsellor, room)
        await receive(a, "welcome")
        await a.send(capture("rec", True))
        await receive(a, "capture")
        for _ in range(5):
            attacker = HttpUser(web.url)
            assert attacker.enter("join", chosen) == room
            x = await connect_e2ee(web, attacker, room)
            assert (await receive(x, "consent-needed"))["type"] == "consent-needed"
            await x.close()
        assert all(f["type"] not in ("peer-joined", "mode") for f in await drain(a, 1.0))
        await a.close()

    run(scenario())
