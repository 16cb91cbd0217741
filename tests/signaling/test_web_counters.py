"""The web's /metrics counts what happened: joins, knocks, kicks, wrong passwords, refusals and
signaling traffic, as an operator's Prometheus reads it, and names no room or term."""

from __future__ import annotations

import json
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from praatbox.rooms.attempts import FREE_FAILURES
from tests.live import HttpUser, start_web
from tests.signaling.client import connect, join, pair, receive, run, set_password, terms, unlock

LOOKUPS_PER_MINUTE = 8
PASSWORD = "Blauwe-Tram-48"

Sample = tuple[str, tuple[tuple[str, str], ...]]


@pytest.fixture(scope="module")
def counted_web(tmp_path_factory):
    """The app with a small term-lookup budget, so one test can run into it."""
    server = start_web(tmp_path_factory.mktemp("counted"),
                       {"PRAATBOX_TERM_LOOKUP_LIMIT": f"{LOOKUPS_PER_MINUTE} per minute"})
    yield server
    server.stop()


def scrape(web) -> tuple[dict[Sample, float], str]:
    """Every sample of /metrics keyed by name and labels, and the raw text."""
    with urllib.request.urlopen(web.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    return samples, text


def moved(before: dict[Sample, float], after: dict[Sample, float]) -> dict[Sample, float]:
    return {key: after[key] - before.get(key, 0.0) for key in after
            if after[key] != before.get(key, 0.0)}


def test_joins_knocks_kicks_wrong_passwords_refusals_and_modes_are_counted(counted_web):
    web = counted_web
    before, _ = scrape(web)
    chosen = dict(terms(), name="Zonnehuis", location="Wevelgem")  # words no metric name holds
    counsellor, client, room = pair(web, chosen)
    set_password(counsellor, room, PASSWORD)
    third = HttpUser(web.url)
    third.enter("join", chosen)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        unlock(client, room, PASSWORD)
        b, _ = await join(web, client, room)
        during, _ = scrape(web)
        unlock(third, room, PASSWORD)
        c = await connect(web, third, room)
        await receive(c, "knocking")
        knock = await receive(a, "knock")
        await a.send(json.dumps({"type": "kick", "peer": knock["peer"]}))
        await receive(c, "kicked")
        for ws in (a, b, c):
            await ws.close()
        return during

    during = run(scenario())
    assert during[("praatbox_participants_by_mode", (("mode", "p2p"),))] == 2
    assert during[("praatbox_participants_by_mode", (("mode", "group"),))] == 0
    guesser = HttpUser(web.url)
    guesser.enter("join", chosen)
    statuses = [guesser.submit(room + "/password", {"password": f"wrong-{n}"}, room)[0]
                for n in range(FREE_FAILURES + 2)]
    assert statuses == [422] * (FREE_FAILURES + 1) + [429]
    lookups: list[int] = []
    while 429 not in lookups and len(lookups) <= LOOKUPS_PER_MINUTE:  # fresh cookies each time
        lookups.append(HttpUser(web.url).submit("/join", dict(chosen, word="walk"), "/")[0])
    assert lookups[-1] == 429

    after, text = scrape(web)
    change = moved(before, after)
    assert change[("praatbox_joins_total", ())] == 2
    assert change[("praatbox_knocks_total", ())] == 1
    assert change[("praatbox_kicks_total", ())] == 1
    assert change[("praatbox_failed_passwords_total", (("secret", "room_password"),))] == (
        FREE_FAILURES + 1)
    assert change[("praatbox_rate_limited_total", (("limit", "room_password"),))] == 1
    assert change[("praatbox_rate_limited_total", (("limit", "term_lookup"),))] == 1
    assert change[("praatbox_signaling_messages_total", (("direction", "in"),))] >= 1  # the kick
    assert change[("praatbox_signaling_messages_total", (("direction", "out"),))] >= 6
    assert change[("praatbox_signaling_bytes_total", (("direction", "out"),))] > 100
    assert ("praatbox_failed_passwords_total", (("secret", "moderator_code"),)) not in change
    room_id = room.rsplit("/", 1)[-1]
    assert room_id not in text and room_id.upper() not in text
    assert not any(word.lower() in text.lower() for word in chosen.values())
    assert "127.0.0.1" not in text

