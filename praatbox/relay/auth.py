"""The credential a relay process presents to the web process's `/ws-relay` endpoint."""

import hmac

from praatbox.keys import RELAY_TOKEN, derive_key


def relay_token(secret_key: str) -> str:
    """Derive the relay's bearer token from the master secret (a key of its own, see keys.py)."""
    return derive_key(secret_key, RELAY_TOKEN)


def relay_token_valid(expected: str, token: str) -> bool:
    """Check a presented token in constant time, so timing reveals nothing about the secret."""
    return hmac.compare_digest(expected.encode("ascii"), token.encode("utf-8", "replace"))
