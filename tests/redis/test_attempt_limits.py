"""Wrong-password limits are the same in memory and in Redis, and Redis shares them."""

from __future__ import annotations

import pytest

from praatbox.hub.redis_attempts import RedisAttemptLimiter
from praatbox.rooms.attempts import MAX_DELAY_SECONDS, AttemptLimiter

LOCKOUT_FAILURES, LOCKOUT_SECONDS = 6, 600.0


@pytest.fixture(params=["memory", "redis"])
def limiters(request):
    """Two limiters as two web processes see them (in memory: the single process's one)."""
    if request.param == "memory":
        limiter = AttemptLimiter(LOCKOUT_FAILURES, LOCKOUT_SECONDS)
        return limiter, limiter
    client = request.getfixturevalue("redis_client")
    return (RedisAttemptLimiter(client, LOCKOUT_FAILURES, LOCKOUT_SECONDS),
            RedisAttemptLimiter(client, LOCKOUT_FAILURES, LOCKOUT_SECONDS))


def test_one_address_waits_twice_as_long_after_each_wrong_guess_on_every_process(limiters):
    first, second = limiters
    assert first.retry_after("room", "address", 100.0) == 0
    first.failed("room", "address", 100.0)
    assert second.retry_after("room", "address", 100.0) == 0  # one typo costs nothing
    waits = []
    now = 100.0
    for turn in range(4):
        (first if turn % 2 else second).failed("room", "address", now)
        waits.append(first.retry_after("room", "address", now))
        now += waits[-1]
    assert waits == [2, 4, 8, 16]
    assert second.retry_after("room", "another-address", now) == 0


def test_the_delay_has_a_ceiling(limiters):
    first, _ = limiters
    for _ in range(LOCKOUT_FAILURES - 1):
        first.failed("room", "address", 100.0)
    first.failed("other-room", "address", 100.0)
    assert first.retry_after("room", "address", 100.0) <= MAX_DELAY_SECONDS


def test_wrong_guesses_from_many_addresses_lock_the_room_until_the_moderator_resets(limiters):
    first, second = limiters
    locked = [first.failed("room", f"address-{n}", 100.0) for n in range(LOCKOUT_FAILURES)]
    assert locked == [False] * (LOCKOUT_FAILURES - 1) + [True]
    assert second.room_locked("room", 100.0)
    assert second.retry_after("room", "a-new-address", 100.0) == LOCKOUT_SECONDS
    assert not second.room_locked("other-room", 100.0)
    second.reset_room("room")
    assert not first.room_locked("room", 100.0)
    assert first.retry_after("room", "a-new-address", 100.0) == 0


def test_the_room_lock_ends_by_itself(limiters):
    first, _ = limiters
    for n in range(LOCKOUT_FAILURES):
        first.failed("room", f"address-{n}", 100.0)
    assert not first.room_locked("room", 100.0 + LOCKOUT_SECONDS + 1)


def test_the_right_password_clears_that_address_only(limiters):
    first, second = limiters
    for _ in range(2):
        first.failed("room", "address", 100.0)
        first.failed("room", "other", 100.0)
    assert second.retry_after("room", "address", 100.0) > 0
    second.succeeded("room", "address")
    assert first.retry_after("room", "address", 100.0) == 0
    assert first.retry_after("room", "other", 100.0) > 0
