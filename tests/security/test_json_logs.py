"""With PRAATBOX_LOG_FORMAT=json every line of the web, TURN and relay processes is one JSON
object, the web's carry correlation ids, and a whole session leaves no term, password, SDP or
address in them."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from tests.live import HttpUser, start_relay, start_turn, start_web
from tests.signaling.client import join, pair, receive, run, set_password, terms, unlock

LOOKUPS_PER_MINUTE = 6
PASSWORD = "Paarse-Kano-61"
SDP_MARKER = "a=fingerprint:sha-256 AB:CD"
CANDIDATE = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"
CORRELATION_ID = re.compile(r"^[0-9a-f]{8}$")


@pytest.fixture
def json_web(tmp_path):
    server = start_web(tmp_path, {
        "PRAATBOX_LOG_FORMAT": "json",
        "PRAATBOX_LOG_LEVEL": "info",  # what production logs
        "PRAATBOX_TERM_LOOKUP_LIMIT": f"{LOOKUPS_PER_MINUTE} per minute",
    })
    yield server
    server.stop()


def records(text: str) -> list[dict]:
    """Parse every line; a line that is not one JSON object fails the test."""
    parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all(isinstance(record, dict) and "cid" in record for record in parsed)
    return parsed


def test_a_session_logs_json_lines_with_correlation_ids_and_nothing_secret(json_web):
    web = json_web
    log_start = len(web.log())
    chosen = dict(terms(), name="Vlinderhuis", location="Kortrijk")
    counsellor, client, room = pair(web, chosen)
    set_password(counsellor, room, PASSWORD)

    async def scenario():
        a, welcome = await join(web, counsellor, room)
        unlock(client, room, PASSWORD)
        b, joined = await join(web, client, room)
        offer = {"description": {"type": "offer", "sdp": f"v=0\r\n{SDP_MARKER}\r\n"}}
        await b.send(json.dumps({"type": "signal", "to": welcome["self"], "data": offer}))
        await receive(a, "signal")
        candidate = {"candidate": {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0}}
        await a.send(json.dumps({"type": "signal", "to": joined["self"], "data": candidate}))
        await receive(b, "signal")
        for ws in (a, b, a, b):  # two sockets, interleaved: each keeps its own id
            await ws.send("not json " + PASSWORD)
            await receive(ws, "error")
        await asyncio.gather(a.close(), b.close())

    run(scenario())
    guesser = HttpUser(web.url)
    guesser.enter("join", chosen)
    guesser.submit(room + "/password", {"password": "wrong-" + PASSWORD}, room)
    for _ in range(LOOKUPS_PER_MINUTE + 1):
        HttpUser(web.url).submit("/join", dict(chosen, word="walk"), "/")

    session = web.log()[log_start:]
    lines = records(session)
    rejected = [r["cid"] for r in lines if r["msg"].startswith("signaling: rejected a frame")]
    assert len(rejected) == 4 and all(CORRELATION_ID.match(cid) for cid in rejected)
    assert rejected[0] == rejected[2] != rejected[1] == rejected[3]
    limited = [r["cid"] for r in lines if r["msg"].startswith("limits: term-lookup")]
    assert limited and CORRELATION_ID.match(limited[0]) and limited[0] not in rejected
    lowered = session.lower()
    for secret in (*chosen.values(), PASSWORD, room.rsplit("/", 1)[-1], SDP_MARKER, "127.0.0.1"):
        assert secret.lower() not in lowered
    web.stop()
    records(web.log())  # gunicorn's own lines too, from start to shutdown


def test_the_turn_server_and_the_relay_log_json_too(json_web, tmp_path):
    chosen = {"PRAATBOX_LOG_FORMAT": "json"}
    turn, _ = start_turn(tmp_path, chosen)
    relay = start_relay(tmp_path, json_web, chosen)
    relay.stop()
    turn.stop()
    assert any(r["msg"].startswith("TURN listening") for r in records(turn.log()))
    assert any(r["msg"] == "connected to the web process" for r in records(relay.log()))
