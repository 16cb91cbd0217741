"""Room passwords: a slow salted hash kept in memory for the room's life, checked in constant time,
and a limiter for wrong guesses (per visitor, growing delay)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gevent import get_hub
from gevent.lock import BoundedSemaphore
from gevent.monkey import is_module_patched
from dataclasses import dataclass, field

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
# Each scrypt holds 16 MiB and a core for ~50 ms: two at a time leave the event loop a core and
# cap the memory however many guesses arrive at once (the rest wait their turn).
MAX_CONCURRENT_HASHES = 2
MIN_PASSWORD_CHARS = 4
MAX_PASSWORD_CHARS = 128
FAILURE_WINDOW_SECONDS = 60.0
MAX_FAILURES_PER_WINDOW = 5
MAX_DELAY_SECONDS = 30.0


def hash_password(password: str) -> bytes:
    """Return salt + scrypt(password): slow on purpose, so a stolen memory dump is not a key."""
    salt = secrets.token_bytes(SALT_BYTES)
    return salt + _scrypt(password, salt)


def password_matches(password: str, stored: bytes) -> bool:
    """Compare in constant time against a hash made by `hash_password`."""
    salt, expected = stored[:SALT_BYTES], stored[SALT_BYTES:]
    return hmac.compare_digest(_scrypt(password, salt), expected)


_hashing_slots = BoundedSemaphore(MAX_CONCURRENT_HASHES)


def _scrypt(password: str, salt: bytes) -> bytes:
    """Under gevent, hash in a worker thread: scrypt releases the GIL, so every other greenlet
    (the signaling of all rooms) keeps running meanwhile. Elsewhere (unit tests) hash directly."""
    key = password.encode("utf-8")
    if not is_module_patched("threading"):
        return _hash(key, salt)
    with _hashing_slots:
        result: bytes = get_hub().threadpool.apply(_hash, (key, salt))
        return result


def _hash(key: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(key, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    blocked_until: float = 0.0


class AttemptLimiter:
    """Wrong guesses per key (a visitor in a room): a growing delay, then a pause."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES_PER_WINDOW,
        window_seconds: float = FAILURE_WINDOW_SECONDS,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._failures: dict[str, _Failures] = {}

    def retry_after(self, key: str, now: float) -> float:
        """Seconds to wait before the next guess is even checked (0: go ahead)."""
        entry = self._failures.get(key)
        return max(0.0, entry.blocked_until - now) if entry else 0.0

    def failed(self, key: str, now: float) -> None:
        entry = self._failures.setdefault(key, _Failures())
        entry.times = [t for t in entry.times if now - t < self.window_seconds] + [now]
        count = len(entry.times)
        if count >= self.max_failures:
            entry.blocked_until = entry.times[0] + self.window_seconds
        elif count >= 2:
            entry.blocked_until = now + min(MAX_DELAY_SECONDS, 2.0 ** (count - 2))
        self._forget_old(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _forget_old(self, now: float) -> None:
        if len(self._failures) > 10_000:
            self._failures = {
                key: entry for key, entry in self._failures.items()
                if entry.times and now - entry.times[-1] < self.window_seconds
            }
