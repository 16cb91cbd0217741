"""Wrong-password guesses counted in Redis, so every web process applies the same limit.

Same methods and rules as `passwords.AttemptLimiter` (which does the arithmetic); with one
limiter per process, a guesser spread over N processes would get N times the attempts. A key is
`room id:visitor id` (a keyed hash and a random session id); it expires with its window.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from praatbox.passwords import (
    FAILURE_WINDOW_SECONDS,
    MAX_DELAY_SECONDS,
    MAX_FAILURES_PER_WINDOW,
    AttemptLimiter,
)

PREFIX = "praatbox:attempts:"


class RedisAttemptLimiter(AttemptLimiter):
    """`AttemptLimiter` with its entries in Redis.

    The `now` arguments are ignored: each process's monotonic clock has its own origin, so the
    shared entries use this limiter's wall clock instead.
    """

    def __init__(
        self,
        client: Any,
        clock: Callable[[], float] = time.time,
        max_failures: int = MAX_FAILURES_PER_WINDOW,
        window_seconds: float = FAILURE_WINDOW_SECONDS,
    ) -> None:
        super().__init__(max_failures, window_seconds)
        self.redis: Any = client
        self.clock = clock

    def retry_after(self, key: str, now: float) -> float:  # noqa: ARG002 - see the class doc
        """Seconds to wait before the next guess is even checked (0: go ahead)."""
        text = self.redis.get(PREFIX + key)
        if text is None:
            return 0.0
        return max(0.0, float(json.loads(text)["blockedUntil"]) - self.clock())

    def failed(self, key: str, now: float) -> None:  # noqa: ARG002 - see the class doc
        name = PREFIX + key

        def update(pipe: Any) -> None:
            text = pipe.get(name)
            stored: dict[str, Any] = (json.loads(text) if text
                                      else {"times": [], "blockedUntil": 0.0})
            moment = self.clock()
            times = [float(t) for t in stored["times"] if moment - float(t) < self.window_seconds]
            # Replay the window's failures through the in-memory rules, then add this one.
            limiter = AttemptLimiter(self.max_failures, self.window_seconds)
            for earlier in times:
                limiter.failed(key, earlier)
            limiter.failed(key, moment)
            blocked = max(float(stored["blockedUntil"]), moment + limiter.retry_after(key, moment))
            entry = {"times": [*times, moment], "blockedUntil": blocked}
            pipe.multi()
            pipe.set(name, json.dumps(entry),
                     ex=int(self.window_seconds + MAX_DELAY_SECONDS) + 1)

        self.redis.transaction(update, name)

    def succeeded(self, key: str) -> None:
        self.redis.delete(PREFIX + key)
