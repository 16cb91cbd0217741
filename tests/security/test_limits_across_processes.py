"""With Redis, a guesser gains nothing by spreading requests over several web processes."""

from __future__ import annotations

import pytest

from praatbox.rooms.attempts import FREE_FAILURES
from tests.live import DEFAULT_ADDRESS_BUDGETS, HttpUser, start_two_webs
from tests.signaling.client import set_password, terms

LOOKUPS_PER_MINUTE = int(DEFAULT_ADDRESS_BUDGETS["PRAATBOX_TERM_LOOKUP_LIMIT"].split()[0])


@pytest.fixture(scope="module")
def two_guarded_webs(redis_url, tmp_path_factory):
    """Two web processes sharing rooms and budgets through Redis, budgets at their defaults."""
    env = {"PRAATBOX_REDIS_URL": redis_url, **DEFAULT_ADDRESS_BUDGETS}
    first, second = start_two_webs(tmp_path_factory.mktemp("guarded"), env)
    yield first, second
    first.stop()
    second.stop()


def test_term_lookups_on_two_processes_draw_on_one_budget(two_guarded_webs, redis_client):
    first, second = two_guarded_webs
    statuses = [HttpUser((first, second)[n % 2].url).submit(
        "/join", {"name": "box", "location": "gent", "word": f"word{n}"}, "/")[0]
        for n in range(LOOKUPS_PER_MINUTE + 1)]
    assert statuses[:-1] == [200] * LOOKUPS_PER_MINUTE
    assert statuses[-1] == 429


def test_password_delays_follow_the_guesser_to_the_other_process(two_guarded_webs, redis_client):
    first, second = two_guarded_webs
    counsellor = HttpUser(first.url)
    chosen = terms()
    room = counsellor.enter("start", chosen)
    set_password(counsellor, room, "Blauwe-Tafel-19")
    statuses = []
    for n in range(FREE_FAILURES + 2):
        guesser = HttpUser((first, second)[n % 2].url)
        guesser.enter("join", chosen)
        statuses.append(guesser.submit(room + "/password", {"password": "wrong-one"}, room)[0])
    assert statuses == [422] * (FREE_FAILURES + 1) + [429]
