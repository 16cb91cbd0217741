from praatbox.passwords import AttemptLimiter, hash_password, password_matches


def test_password_hash_is_salted_and_checks():
    first, second = hash_password("kamille"), hash_password("kamille")
    assert first != second
    assert b"kamille" not in first
    assert password_matches("kamille", first)
    assert not password_matches("kamille ", first)


def test_wrong_guesses_get_a_growing_delay_then_a_pause():
    limiter = AttemptLimiter(max_failures=5, window_seconds=60)
    assert limiter.retry_after("k", 0) == 0
    limiter.failed("k", 0)
    assert limiter.retry_after("k", 0) == 0
    limiter.failed("k", 1)
    assert limiter.retry_after("k", 1) == 1
    limiter.failed("k", 3)
    assert limiter.retry_after("k", 3) == 2
    limiter.failed("k", 6)
    limiter.failed("k", 11)
    assert limiter.retry_after("k", 11) == 49  # paused until the first failure leaves the window
    assert limiter.retry_after("other", 11) == 0
    limiter.succeeded("k")
    assert limiter.retry_after("k", 12) == 0
