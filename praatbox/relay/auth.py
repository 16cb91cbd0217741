"""The credential a relay process presents to the web process's `/ws-relay` endpoint."""

import hashlib
import hmac

RELAY_TOKEN_LABEL = b"praatbox-relay-v1"


def relay_token(secret_key: str) -> str:
    """Derive the relay's bearer token from the shared server secret."""
    return hmac.new(secret_key.encode("utf-8"), RELAY_TOKEN_LABEL, hashlib.sha256).hexdigest()


def relay_token_valid(secret_key: str, token: str) -> bool:
    """Check a presented token in constant time, so timing reveals nothing about the secret."""
    expected = relay_token(secret_key).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", "replace"))
