"""Room passwords: a slow salted hash kept in memory for the room's life, checked in constant time.

Wrong guesses are limited in `attempts`; the web process runs these functions off its event loop
(`praatbox.views.threadpool`), as each one holds a core for ~50 ms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
# Eight characters: with the limits in `attempts`, online guessing of a room's password takes
# longer than any session lasts (docs/security.md has the figures).
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128


def hash_password(password: str) -> bytes:
    """Return salt + scrypt(password): slow on purpose, so a stolen memory dump is not a key."""
    salt = secrets.token_bytes(SALT_BYTES)
    return salt + _scrypt(password.encode("utf-8"), salt)


def password_matches(password: str, stored: bytes) -> bool:
    """Compare in constant time against a hash made by `hash_password`."""
    salt, expected = stored[:SALT_BYTES], stored[SALT_BYTES:]
    return hmac.compare_digest(_scrypt(password.encode("utf-8"), salt), expected)


def _scrypt(key: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(key, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
