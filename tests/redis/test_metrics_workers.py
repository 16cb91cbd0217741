"""With several gunicorn workers and PROMETHEUS_MULTIPROC_DIR, every scrape shows the counts of
all workers, whichever worker answers it."""

from __future__ import annotations

from tests.live import HttpUser, start_web
from tests.signaling.client import join, pair, run
from tests.signaling.test_web_counters import scrape

WORKERS = 2
REFUSALS = 12
SCRAPES = 8
LIMITED = ("praatbox_rate_limited_total", (("limit", "term_lookup"),))
P2P = ("praatbox_participants_by_mode", (("mode", "p2p"),))


def test_every_scrape_sums_the_counts_of_all_workers(redis_url, redis_client, tmp_path):
    web = start_web(tmp_path, {
        "PRAATBOX_REDIS_URL": redis_url,
        "WEB_CONCURRENCY": str(WORKERS),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "PRAATBOX_TERM_LOOKUP_LIMIT": "2 per minute",
    })
    try:
        counsellor, client, room = pair(web)  # the two lookups the budget allows
        for _ in range(REFUSALS):  # fresh cookies and connections: any worker may answer
            status, _, _ = HttpUser(web.url).submit("/join", {"name": "box", "location": "gent",
                                                              "word": "walk"}, "/")
            assert status == 429

        async def scenario():
            a, _ = await join(web, counsellor, room)
            b, _ = await join(web, client, room)
            seen = [scrape(web)[0] for _ in range(SCRAPES)]
            await a.close()
            await b.close()
            return seen

        for samples in run(scenario()):
            assert samples[LIMITED] == REFUSALS
            assert samples[("praatbox_joins_total", ())] == 2
            assert samples[P2P] == 2  # room gauges come from Redis: all processes
    finally:
        web.stop()
    assert len(list((tmp_path / "prometheus").glob("counter_*.db"))) >= WORKERS
