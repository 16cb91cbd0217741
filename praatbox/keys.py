"""One key per purpose, derived from the master secret (``PRAATBOX_SECRET_KEY``) with HKDF.

The TURN secret has to be handed to an external coturn; the session-signing key, the room-id key
and the relay token must not follow it. HKDF (RFC 5869) with a distinct ``info`` per purpose makes
each derived key useless for computing any other, or the master.

``python -m praatbox.keys turn-secret`` prints the TURN secret to give an external coturn
(``static-auth-secret``), computed from ``PRAATBOX_SECRET_KEY`` in the environment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
SESSION = "session-signing"
ROOM_ID = "room-id"
ENDED_ROOM = "ended-room-fingerprint"
TURN_REST = "turn-rest"
RELAY_TOKEN = "relay-token"
ADDRESS = "address-pseudonym"
PURPOSES = (SESSION, ROOM_ID, ENDED_ROOM, TURN_REST, RELAY_TOKEN, ADDRESS)


def derive_key(master: str, purpose: str) -> str:
    """Return the key for one purpose as URL-safe text (coturn takes the TURN one as a string)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}")
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
        info=f"praatbox/{purpose}/v1".encode("ascii"),
    )
    key = hkdf.derive(master.encode("utf-8"))
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def address_pseudonym(key: str, address: str) -> str:
    """Return a keyed hash of an IP address: counts per address without keeping the address."""
    digest = hmac.new(key.encode("ascii"), address.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def main(argv: list[str]) -> int:
    """Print one derived key (only `turn-secret` is meant to leave the server)."""
    if argv != ["turn-secret"]:
        sys.stderr.write("usage: python -m praatbox.keys turn-secret\n")
        return 2
    master = os.environ.get("PRAATBOX_SECRET_KEY", "")
    if not master:
        sys.stderr.write("PRAATBOX_SECRET_KEY is not set\n")
        return 1
    sys.stdout.write(derive_key(master, TURN_REST) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
