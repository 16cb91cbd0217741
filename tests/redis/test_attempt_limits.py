"""Wrong-password limits are the same in memory and in Redis, and Redis shares them."""

from __future__ import annotations

import pytest

from praatbox.passwords import MAX_FAILURES_PER_WINDOW, AttemptLimiter
from praatbox.redis_attempts import RedisAttemptLimiter


@pytest.fixture(params=["memory", "redis"])
def limiters(request):
    """Two limiters as two web processes see them (in memory: the single process's one)."""
    if request.param == "memory":
        limiter = AttemptLimiter()
        return limiter, limiter
    client = request.getfixturevalue("redis_client")
    return RedisAttemptLimiter(client), RedisAttemptLimiter(client)


def test_repeated_wrong_guesses_are_slowed_then_paused_on_every_process(limiters):
    first, second = limiters
    now = 100.0
    assert first.retry_after("room:visitor", now) == 0
    first.failed("room:visitor", now)
    assert second.retry_after("room:visitor", now) == 0  # one mistake costs nothing
    for _ in range(MAX_FAILURES_PER_WINDOW - 1):
        (first if _ % 2 else second).failed("room:visitor", now)
    assert second.retry_after("room:visitor", now) > 30
    assert first.retry_after("room:other-visitor", now) == 0


def test_the_right_password_clears_the_count(limiters):
    first, second = limiters
    for _ in range(3):
        first.failed("room:visitor", 100.0)
    assert second.retry_after("room:visitor", 100.0) > 0
    second.succeeded("room:visitor")
    assert first.retry_after("room:visitor", 100.0) == 0
