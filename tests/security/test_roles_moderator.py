"""Attacks on the moderator role and on kicks, as an attacker does them: plain HTTP with fresh
cookies per attempt, raw WebSocket frames, against gunicorn in memory mode and in Redis mode."""

import json
import re
import secrets

import pytest

from tests.live import HttpUser, start_web
from tests.signaling.client import connect, join, receive, run, set_password, unlock

PASSWORD = "kamille-tuin"
ROOM_CONFIG = re.compile(r'<script type="application/json" id="room-config">(.*?)</script>', re.S)
MODERATOR_CODE = re.compile(r'class="moderator-code">([0-9A-Z-]+)<')


@pytest.fixture(scope="module", params=["memory", "redis"])
def site(request, tmp_path_factory):
    """The web server, with rooms in its memory or in Redis."""
    if request.param == "memory":
        yield request.getfixturevalue("web")
        return
    redis_url = request.getfixturevalue("redis_url")
    server = start_web(tmp_path_factory.mktemp("web-redis"), {"PRAATBOX_REDIS_URL": redis_url})
    yield server
    server.stop()


def fresh_terms():
    return {"name": "Praatbox", "location": "Gent", "word": f"orchard {secrets.randbelow(10**9)}"}


def started(site):
    """A counsellor starts a fresh room: return its terms, the counsellor and the room path."""
    terms = fresh_terms()
    counsellor = HttpUser(site.url)
    return terms, counsellor, counsellor.enter("start", terms)


def press_start(site, terms, **extra):
    """A fresh browser presses Start; return (status, body)."""
    status, _, body = HttpUser(site.url).submit("/start", dict(terms, **extra), "/")
    return status, body


def room_config(user, room):
    _, html = user.get(room)
    match = ROOM_CONFIG.search(html)
    assert match, "not the call page"
    return json.loads(match.group(1))


def moderator_code_shown(user, room):
    _, html = user.get(room)
    match = MODERATOR_CODE.search(html)
    assert match, "no moderator code in the invite panel"
    return match.group(1)


async def only_first_moderates(site, room, moderator, other):
    """Connect both; return their sockets and the other's welcome."""
    a, welcome = await join(site, moderator, room)
    assert welcome["moderator"] is True
    b, welcome = await join(site, other, room)
    assert welcome["moderator"] is False
    return a, b, welcome


async def refused(ws, frame):
    await ws.send(json.dumps(frame))
    assert (await receive(ws, "error"))["code"] == "not-allowed"


def test_start_on_a_running_room_is_refused_and_gives_no_power(site):
    terms, counsellor, room = started(site)

    # The attacker knows the terms (any case) and presses Start instead of Join.
    status, body = press_start(site, {k: v.upper() for k, v in terms.items()})
    assert status == 409
    assert "already running: join it instead" in body
    attacker = HttpUser(site.url)
    assert attacker.enter("join", terms) == room
    assert room_config(attacker, room)["moderator"] is False

    async def scenario():
        a, b, welcome = await only_first_moderates(site, room, counsellor, attacker)
        for frame in ({"type": "kick", "peer": welcome["peers"][0]}, {"type": "end"},
                      {"type": "admit", "peer": "someone"}, {"type": "waiting-room", "on": False}):
            await refused(b, frame)
        await a.send('{"type": "ping"}')
        await receive(a, "pong")  # the counsellor is still in, still moderator
        await a.close()
        await b.close()

    run(scenario())


def test_the_counsellor_keeps_the_role_on_reload(site):
    _, counsellor, room = started(site)
    for _ in range(2):
        assert room_config(counsellor, room)["moderator"] is True

    async def scenario():
        for _ in range(2):  # the second socket replaces the first, as a reload does
            ws, welcome = await join(site, counsellor, room)
            assert welcome["moderator"] is True
        await ws.close()

    run(scenario())


def test_an_old_moderator_cookie_gives_nothing_in_a_new_room_with_the_same_terms(site):
    terms, old, room = started(site)

    async def end_it():
        ws, _ = await join(site, old, room)
        await ws.send('{"type": "end"}')
        await receive(ws, "ended")

    run(end_it())
    # The room page re-opens nothing for the old cookie: a client still waits.
    _, html = old.get(room)
    assert 'data-testid="waiting-screen"' in html
    _, html = HttpUser(site.url).get(room)
    assert 'data-testid="waiting-screen"' in html

    counsellor = HttpUser(site.url)
    assert counsellor.enter("start", dict(terms, reuse="1")) == room
    assert room_config(old, room)["moderator"] is False
    status, _, _ = old.submit("/start", dict(terms, reuse="1"), "/")
    assert status == 409

    async def scenario():
        a, b, welcome = await only_first_moderates(site, room, counsellor, old)
        await refused(b, {"type": "kick", "peer": welcome["peers"][0]})
        await a.close()
        await b.close()

    run(scenario())


def test_the_moderator_code_of_the_invite_panel_gives_the_role_on_another_device(site):
    terms, laptop, room = started(site)
    code = moderator_code_shown(laptop, room)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)

    wrong = "0000-0000-0000" if code != "0000-0000-0000" else "1111-1111-1111"
    guesser = HttpUser(site.url)
    status, _, body = guesser.submit("/start", dict(terms, moderator_code=wrong), "/")
    assert status == 422 and "not right" in body
    assert guesser.enter("join", terms) == room
    assert room_config(guesser, room)["moderator"] is False

    phone = HttpUser(site.url)
    typed = code.lower().replace("-", " ")  # read out over the phone, typed loosely
    assert phone.post("/start", dict(terms, moderator_code=typed), "/") == room
    assert room_config(phone, room)["moderator"] is True
    assert moderator_code_shown(phone, room) == code

    async def scenario():
        a, b, _ = await only_first_moderates(site, room, phone, guesser)
        await a.close()
        await b.close()

    run(scenario())


def test_guessing_the_moderator_code_is_slowed_down(site):
    terms, _, _ = started(site)
    statuses = []
    for guess in ("AAAA-AAAA-AAAA", "BBBB-BBBB-BBBB", "CCCC-CCCC-CCCC"):
        status, headers, _ = HttpUser(site.url).submit("/start", dict(terms, moderator_code=guess),
                                                       "/")
        statuses.append(status)
    assert statuses == [422, 422, 429]
    assert int(headers["Retry-After"]) > 0


def test_a_kicked_client_with_a_fresh_cookie_and_the_password_only_knocks(site):
    terms, counsellor, room = started(site)
    client = HttpUser(site.url)
    set_password(counsellor, room, PASSWORD)
    client.enter("join", terms)
    unlock(client, room, PASSWORD)

    async def scenario():
        a, _ = await join(site, counsellor, room)
        b, welcome = await join(site, client, room)
        await receive(a, "peer-joined")
        await a.send(json.dumps({"type": "kick", "peer": welcome["self"]}))
        await receive(b, "kicked")
        assert (await receive(a, "waiting-room"))["on"] is True  # the counsellor sees it

        back = HttpUser(site.url)  # the same person, a fresh cookie, the right password
        assert back.enter("join", terms) == room
        unlock(back, room, PASSWORD)
        c = await connect(site, back, room)
        first = json.loads(await c.recv())
        assert first["type"] == "knocking"
        knock = await receive(a, "knock")
        await a.send(json.dumps({"type": "admit", "peer": knock["peer"]}))
        assert (await receive(c, "welcome"))["moderator"] is False
        for ws in (a, c):
            await ws.close()

    run(scenario())
