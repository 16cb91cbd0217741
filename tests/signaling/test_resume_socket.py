"""A dropped signaling socket over real sockets: the page takes its place back with its token;
nobody else can (a replayed, foreign, expired or guessed token), and guessing costs budget."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import urllib.request

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.live import HttpUser, start_web
from tests.signaling.client import (
    connect,
    next_frame,
    pair,
    receive,
    run,
    set_password,
    terms,
    ws_url,
)

GRACE_SECONDS = 2.0
REFUSED = {"type": "error", "code": "resume-refused", "message": "you cannot join this room now"}


def without_token(frame):
    """A frame without the fields the first frame of every socket carries."""
    return {k: v for k, v in frame.items() if k not in ("resumeToken", "graceSeconds")}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The app with a short grace period, so a test can outwait it."""
    server = start_web(tmp_path_factory.mktemp("resume"),
                       {"PRAATBOX_RESUME_GRACE_SECONDS": str(GRACE_SECONDS)})
    yield server
    server.stop()


async def enter(web, user, room):
    """Open a socket; return it, its token and its welcome."""
    ws = await connect(web, user, room)
    welcome = await next_frame(ws)
    assert welcome["type"] == "welcome" and welcome["graceSeconds"] == GRACE_SECONDS
    return ws, welcome["resumeToken"], welcome


async def come_back(web, user, room, peer, token):
    """What a page does after a drop: a `?resume=1` socket whose first frame is the token."""
    ws = await websockets.connect(
        ws_url(web, room) + "?resume=1",
        additional_headers={"Cookie": user.cookie_header(), "Origin": web.url})
    await ws.send(json.dumps({"type": "resume", "peer": peer, "token": token}))
    first = await next_frame(ws)
    return ws, first["resumeToken"], without_token(first)


def kill_server_side(web, ws):
    """Destroy the server's end of one TCP connection, as a dying network or process does: no
    close frame is ever sent or received."""
    server_port = web.url.rsplit(":", 1)[1]
    client_port = ws.transport.get_extra_info("sockname")[1]
    subprocess.run(["ss", "-K", "src", "127.0.0.1", "sport", "=", f":{server_port}",
                    "dport", "=", f":{client_port}"], check=True, capture_output=True)


def metric(web, name):
    with urllib.request.urlopen(web.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == name)


async def close_code(ws):
    """How the server closed a socket (after its last frame)."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code


def test_a_socket_killed_server_side_resumes_with_the_same_identity_and_role(web):
    counsellor, client, room = pair(web)
    joins = metric(web, "praatbox_joins_total")
    resumes = metric(web, "praatbox_resumes_total")

    async def scenario():
        a, mod_token, mod_welcome = await enter(web, counsellor, room)
        b, token, welcome = await enter(web, client, room)
        me = welcome["self"]
        await receive(a, "peer-joined")
        kill_server_side(web, b)
        assert await receive(a, "peer-reconnecting") == {"type": "peer-reconnecting", "peer": me}
        b2, _, resumed = await come_back(web, client, room, me, token)
        assert resumed["type"] == "resumed" and resumed["self"] == me
        assert resumed["peers"] == [mod_welcome["self"]] and not resumed["moderator"]
        assert await receive(a, "peer-resumed") == {"type": "peer-resumed", "peer": me}
        # Signals flow again, both ways, under the same peer id.
        await a.send(json.dumps({"type": "signal", "to": me, "data": {"candidate": None}}))
        assert (await receive(b2, "signal"))["from"] == mod_welcome["self"]
        # The counsellor drops too and comes back still in control.
        kill_server_side(web, a)
        await receive(b2, "peer-reconnecting")
        a2, _, back = await come_back(web, counsellor, room, mod_welcome["self"], mod_token)
        assert back["moderator"] is True and back["peers"] == [me]
        await receive(b2, "peer-resumed")
        await a2.send(json.dumps({"type": "kick", "peer": me}))
        assert (await receive(b2, "kicked"))["type"] == "kicked"
        await a2.close()

    run(scenario())
    # Nobody was counted as joining twice; each resume was counted.
    assert metric(web, "praatbox_joins_total") == joins + 2
    assert metric(web, "praatbox_resumes_total") == resumes + 2


def test_a_room_locked_meanwhile_does_not_ask_the_returning_client_for_the_password(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _, _ = await enter(web, counsellor, room)
        b, token, welcome = await enter(web, client, room)
        set_password(counsellor, room, "Blauwe-Tram-48")
        await receive(b, "locked")
        b.transport.abort()  # the phone changed networks
        await receive(a, "peer-reconnecting")
        b2, _, resumed = await come_back(web, client, room, welcome["self"], token)
        assert resumed["type"] == "resumed" and resumed["locked"] is True
        await a.close()
        await b2.close()

    run(scenario())


def test_after_the_grace_period_the_person_has_left_and_the_token_is_worthless(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _, _ = await enter(web, counsellor, room)
        b, token, welcome = await enter(web, client, room)
        b.transport.abort()
        await receive(a, "peer-reconnecting")
        left = await receive(a, "peer-left", timeout=GRACE_SECONDS + 5)
        assert left == {"type": "peer-left", "peer": welcome["self"], "reason": "disconnected"}
        late, _, frame = await come_back(web, client, room, welcome["self"], token)
        assert frame == REFUSED
        await a.close()

    run(scenario())


def test_a_closed_tab_leaves_at_once(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _, _ = await enter(web, counsellor, room)
        b, _, welcome = await enter(web, client, room)
        await b.close(1001)  # what a browser sends when its tab closes
        left = await receive(a, "peer-left")
        assert left == {"type": "peer-left", "peer": welcome["self"], "reason": "disconnected"}
        await a.close()

    run(scenario())


def test_replayed_foreign_and_guessed_tokens_are_refused_alike_and_cost_the_budget(web):
    chosen = terms()
    counsellor, client, room = pair(web, chosen)
    attacker = HttpUser(web.url)  # another browser that was let into the room
    assert attacker.enter("join", chosen) == room
    refusals = metric(web, "praatbox_resumes_refused_total")

    async def scenario():
        a, _, _ = await enter(web, counsellor, room)
        b, token, welcome = await enter(web, client, room)
        me = welcome["self"]
        b.transport.abort()
        await receive(a, "peer-reconnecting")
        b2, fresh_of_b2, resumed = await come_back(web, client, room, me, token)
        assert resumed["type"] == "resumed"
        # The spent token, replayed from the same browser: refused.
        replay, _, frame = await come_back(web, client, room, me, token)
        assert frame == REFUSED and await close_code(replay) == 1008
        # The live token, stolen and presented from another browser in the room: refused.
        ws, _, frame = await come_back(web, attacker, room, me, fresh_of_b2)
        assert frame == REFUSED
        # Guesses, each from a fresh socket: refused alike, until the sender's budget is spent
        # and its sockets are refused before the upgrade.
        rejected = 0
        for _ in range(10):
            try:
                ws, _, frame = await come_back(web, attacker, room, me, secrets.token_urlsafe(24))
            except websockets.InvalidStatus as error:
                assert error.response.status_code == 429
                rejected += 1
                continue
            assert frame == REFUSED
        assert rejected > 0
        # The real owner kept their place all along.
        await a.send(json.dumps({"type": "signal", "to": me, "data": {"candidate": None}}))
        assert (await receive(b2, "signal"))["type"] == "signal"
        await a.close()
        await b2.close()

    run(scenario())
    assert metric(web, "praatbox_resumes_refused_total") >= refusals + 3


def test_a_browser_without_a_role_in_a_locked_room_gets_no_resume_socket(web):
    counsellor, _, room = pair(web)
    set_password(counsellor, room, "Blauwe-Tram-48")
    stranger = HttpUser(web.url)

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refusal:
            await come_back(web, stranger, room, "anyone", "x" * 32)
        assert refusal.value.response.status_code == 403

    run(scenario())
