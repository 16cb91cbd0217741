"""Room passwords: a slow salted hash kept in memory for the room's life, checked in constant time.

Wrong guesses are limited in `attempts`."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from flask import current_app, has_app_context
from gevent import get_hub
from gevent.lock import BoundedSemaphore
from gevent.monkey import is_module_patched

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
# Each scrypt holds 16 MiB and a core for ~50 ms: two at a time leave the event loop a core and
# cap the memory however many guesses arrive at once (the rest wait their turn). Setting:
# PRAATBOX_PASSWORD_HASHES_AT_ONCE.
MAX_CONCURRENT_HASHES = 2
# Eight characters: with the limits in `attempts`, online guessing of a room's password takes
# longer than any session lasts (docs/security.md has the figures).
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128


def hash_password(password: str) -> bytes:
    """Return salt + scrypt(password): slow on purpose, so a stolen memory dump is not a key."""
    salt = secrets.token_bytes(SALT_BYTES)
    return salt + _scrypt(password, salt)


def password_matches(password: str, stored: bytes) -> bool:
    """Compare in constant time against a hash made by `hash_password`."""
    salt, expected = stored[:SALT_BYTES], stored[SALT_BYTES:]
    return hmac.compare_digest(_scrypt(password, salt), expected)


def _scrypt(password: str, salt: bytes) -> bytes:
    """Under gevent, hash in a worker thread: scrypt releases the GIL, so every other greenlet
    (the signaling of all rooms) keeps running meanwhile. Elsewhere (unit tests) hash directly."""
    key = password.encode("utf-8")
    if not is_module_patched("threading"):
        return _hash(key, salt)
    at_once = MAX_CONCURRENT_HASHES
    if has_app_context():
        at_once = int(current_app.config["PASSWORD_HASHES_AT_ONCE"])
    with _hashing_slots(at_once):
        result: bytes = get_hub().threadpool.apply(_hash, (key, salt))
        return result


@functools.cache
def _hashing_slots(at_once: int) -> BoundedSemaphore:
    return BoundedSemaphore(at_once)


def _hash(key: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(key, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
