"""Guessing, as an attacker does it: a fresh cookie per attempt, many attempts from one address.

Every web process here runs the per-address budgets at their defaults (tests/live.py raises them
for the other suites, whose simulated users all share 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import itertools
import urllib.error

import pytest

from praatbox.rooms.attempts import FREE_FAILURES
from tests.live import DEFAULT_ADDRESS_BUDGETS, HttpUser, start_web
from tests.signaling.client import join, receive, set_password, terms, unlock

LOOKUPS_PER_MINUTE = 20
LOCKOUT_FAILURES = 5
PASSWORD = "Groene-Fiets-73"
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def guarded_web(tmp_path_factory):
    """The app with default budgets, behind one trusted proxy (so a test can be many addresses)."""
    server = start_web(tmp_path_factory.mktemp("guarded"), {
        **DEFAULT_ADDRESS_BUDGETS,
        "PRAATBOX_PROXY_HOPS": "1",
        "PRAATBOX_PASSWORD_LOCKOUT_FAILURES": str(LOCKOUT_FAILURES),
        "PRAATBOX_LOG_LEVEL": "info",  # what production logs: no line may name a room or address
    })
    yield server
    server.stop()


def address() -> dict[str, str]:
    """A fresh client address, as the trusted proxy reports it."""
    number = next(_addresses)
    return {"X-Forwarded-For": f"198.51.{number // 250}.{number % 250 + 1}"}


def status_of(user: HttpUser, path: str) -> int:
    try:
        with user.opener.open(user.base + path, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def join_attempt(web, word: str, origin: dict[str, str], language: str = "en"):
    """One guess of the room's word by a visitor with a new cookie."""
    guesser = HttpUser(web.url)
    return guesser.submit("/join", {"name": "box", "location": "gent", "word": word}, "/",
                          headers={**origin, "Accept-Language": language})


def test_walking_the_word_list_is_stopped_after_a_few_dozen_lookups(guarded_web):
    origin = address()
    statuses = [join_attempt(guarded_web, f"word{n}", origin)[0]
                for n in range(LOOKUPS_PER_MINUTE)]
    assert set(statuses) == {200}  # each /join leads to a waiting screen or a room
    status, headers, body = join_attempt(guarded_web, "onemore", origin, "nl-BE,nl;q=0.9")
    assert status == 429
    assert 0 < int(headers["Retry-After"]) <= 60
    assert "Te veel pogingen" in body  # the home form, in the guesser's own language
    assert join_attempt(guarded_web, "onemore", address())[0] == 200  # others are unaffected


def test_starting_rooms_counts_against_the_same_budget(guarded_web):
    origin = address()
    for n in range(LOOKUPS_PER_MINUTE):
        HttpUser(guarded_web.url).submit(
            "/start", {"name": "box", "location": "gent", "word": f"start{n}"}, "/",
            headers=origin)
    status, headers, _ = join_attempt(guarded_web, "anything", origin)
    assert status == 429 and "Retry-After" in headers


def test_the_room_page_of_a_room_the_visitor_holds_no_role_in_is_a_lookup(guarded_web):
    counsellor = HttpUser(guarded_web.url)
    room = counsellor.enter("start", terms())
    origin = address()
    statuses = []
    for _ in range(LOOKUPS_PER_MINUTE + 1):
        stranger = HttpUser(guarded_web.url)
        stranger.opener.addheaders = list(origin.items())
        statuses.append(status_of(stranger, room))
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}


def test_a_waiting_client_polls_for_minutes_without_ever_being_limited(guarded_web):
    client = HttpUser(guarded_web.url)
    origin = address()
    client.opener.addheaders = list(origin.items())
    room = client.enter("join", terms())
    polls = [status_of(client, room + "/waiting") for _ in range(3 * LOOKUPS_PER_MINUTE)]
    assert set(polls) == {204}
    assert status_of(client, room) == 200


def test_password_guesses_from_one_address_wait_longer_each_time_whatever_the_cookie(
        guarded_web):
    counsellor = HttpUser(guarded_web.url)
    chosen = terms()
    room = counsellor.enter("start", chosen)
    set_password(counsellor, room, PASSWORD)
    origin = address()

    def guess(password: str, language: str = "en"):
        guesser = HttpUser(guarded_web.url)
        guesser.opener.addheaders = list(origin.items())
        guesser.enter("join", chosen)
        return guesser.submit(room + "/password", {"password": password}, room,
                              headers={**origin, "Accept-Language": language})

    first = [guess(f"wrong-{n}")[0] for n in range(FREE_FAILURES + 1)]
    assert first == [422] * (FREE_FAILURES + 1)
    status, headers, body = guess(PASSWORD, "fr-BE")
    assert status == 429  # even the right password waits: the answer must not leak it
    assert 1 <= int(headers["Retry-After"]) <= 2
    assert "Trop d’essais" in body
    assert "198.51" not in guarded_web.log() and room.rsplit("/", 1)[-1] not in guarded_web.log()


def test_guesses_from_many_addresses_lock_the_room_until_the_counsellor_reopens_it(guarded_web):
    counsellor = HttpUser(guarded_web.url)
    chosen = terms()
    room = counsellor.enter("start", chosen)
    set_password(counsellor, room, PASSWORD)

    def guess(password: str):
        origin = address()
        guesser = HttpUser(guarded_web.url)
        guesser.opener.addheaders = list(origin.items())
        guesser.enter("join", chosen)
        return guesser.submit(room + "/password", {"password": password}, room, headers=origin)

    async def scenario() -> dict:
        ws, _ = await join(guarded_web, counsellor, room)
        statuses = [guess(f"wrong-{n}")[0] for n in range(LOCKOUT_FAILURES)]
        assert statuses == [422] * LOCKOUT_FAILURES
        warning = await receive(ws, "attempts-warning")
        await ws.close()
        return warning

    warning = asyncio.run(scenario())
    assert warning["lockedOut"] is True and warning["count"] == LOCKOUT_FAILURES
    status, _, body = guess(PASSWORD)
    assert status == 429 and "counsellor" in body
    reset = counsellor.submit(room + "/attempts/reset", {}, room, headers={"HX-Request": "true"})
    assert reset[0] == 200
    client = HttpUser(guarded_web.url)
    client.enter("join", chosen)
    unlock(client, room, PASSWORD)
    assert 'data-testid="hangup"' in client.get(room)[1]


def test_only_the_moderator_can_reopen_a_locked_room(guarded_web):
    counsellor, stranger = HttpUser(guarded_web.url), HttpUser(guarded_web.url)
    chosen = terms()
    room = counsellor.enter("start", chosen)
    stranger.enter("join", chosen)
    assert stranger.submit(room + "/attempts/reset", {}, room)[0] == 403


def test_a_spoofed_forwarded_header_does_not_buy_new_addresses_without_a_trusted_proxy(web):
    """`web` trusts no proxy: X-Forwarded-For is the attacker's text, not their address."""
    counsellor = HttpUser(web.url)
    chosen = terms()
    room = counsellor.enter("start", chosen)
    set_password(counsellor, room, PASSWORD)
    statuses = []
    for _ in range(FREE_FAILURES + 2):
        origin = address()
        guesser = HttpUser(web.url)
        guesser.enter("join", chosen)
        statuses.append(guesser.submit(room + "/password", {"password": "wrong-guess"}, room,
                                       headers=origin)[0])
    assert statuses[-1] == 429
