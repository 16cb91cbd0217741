"""The in-memory wrong-password records stay bounded whatever a flood of sources does."""

from praatbox.rooms import attempts
from praatbox.rooms.attempts import AttemptLimiter


def test_a_flood_of_other_sources_evicts_old_records_but_never_resets_the_guesser(monkeypatch):
    monkeypatch.setattr(attempts, "MAX_REMEMBERED_RECORDS", 50)
    limiter = AttemptLimiter()
    for _ in range(5):
        limiter.failed("room", "guesser", 100.0)
    wait = limiter.retry_after("room", "guesser", 100.0)
    for n in range(40):  # fewer than the cap: the guesser's record is one of the newest
        limiter.failed("room", f"spoofed-{n}", 100.0)
    limiter.failed("room", "guesser", 100.0)
    assert limiter.retry_after("room", "guesser", 100.0) > wait
    for n in range(500):
        limiter.failed(f"room-{n}", f"spoofed-{n}", 100.0)
    assert len(limiter._addresses) <= 50 and len(limiter._rooms) <= 50
