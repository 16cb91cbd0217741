"""Which rooms this browser may enter, and in which role, kept in its signed session cookie.

The cookie holds room ids only (never terms); it is signed with the server secret, so nobody can
forge it. The moderator role is bound to one room *instance*: opening a room draws a random
moderator code, the room keeps only its hash, and the counsellor's cookie keeps the code (the
invite panel shows it, so the counsellor can take the role back on another device). A cookie
from an earlier session with the same terms holds another code and makes nobody moderator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import MutableMapping
from typing import Any

from praatbox.rooms.model import LockState

MODERATOR = "moderator"
CLIENT = "client"
SESSION_KEY = "rooms"
UNLOCKED_KEY = "unlocked"
MODERATOR_CODES_KEY = "moderator_codes"
MAX_REMEMBERED_ROOMS = 8
# Crockford's base32: no I, L, O or U, so a code read out over the phone is not misheard.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 12  # 60 random bits: online guessing, limited per address, gets nowhere
CODE_GROUP_CHARS = 4
_CODE_LOOKALIKES = str.maketrans("OIL", "011")


def new_moderator_code() -> str:
    """Draw a moderator code, in groups of four to read out: "K7QM-2XHD-96TA"."""
    return _grouped("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_CHARS)))


def moderator_code_hash(code: str) -> str:
    """Hash a code as typed. A fast hash is enough: the code has 60 random bits, and guesses
    only count online."""
    return hashlib.sha256(_typed(code).encode("ascii")).hexdigest()


def grant_moderator(store: MutableMapping[str, Any], room_id: str, code: str) -> None:
    """Make this browser the moderator of the room instance whose code this is."""
    _remember(store, MODERATOR_CODES_KEY, room_id, _grouped(_typed(code)))
    grant(store, room_id, MODERATOR)


def _typed(code: str) -> str:
    """What counts in a typed code: case, spaces, dashes and O/0, I/L/1 mix-ups do not."""
    return re.sub(r"[^0-9A-Z]", "", code.upper()[:4 * CODE_CHARS]).translate(_CODE_LOOKALIKES)


def _grouped(code: str) -> str:
    return "-".join(code[i:i + CODE_GROUP_CHARS] for i in range(0, len(code), CODE_GROUP_CHARS))


def moderator_code(store: MutableMapping[str, Any], room_id: str) -> str | None:
    """Return the moderator code this browser holds for a room (shown in its invite panel)."""
    codes = store.get(MODERATOR_CODES_KEY)
    code = codes.get(room_id) if isinstance(codes, dict) else None
    return code if isinstance(code, str) else None


def is_moderator(store: MutableMapping[str, Any], room_id: str, lock: LockState | None) -> bool:
    """Tell whether this browser holds the moderator code of the room running now."""
    code = moderator_code(store, room_id)
    return code is not None and code_matches(code, lock)


def code_matches(code: str, lock: LockState | None) -> bool:
    """Tell whether a (typed) code is the moderator code of the room running now."""
    if lock is None or lock.moderator_hash is None:
        return False
    return hmac.compare_digest(moderator_code_hash(code), lock.moderator_hash)


def role_in(store: MutableMapping[str, Any], room_id: str) -> str | None:
    """Return the role this browser was given for a room, or None: a claim, not a check (a
    moderator claim may be from an earlier session; `is_moderator` checks it)."""
    rooms = store.get(SESSION_KEY)
    if not isinstance(rooms, dict):
        return None
    role = rooms.get(room_id)
    return role if role in (MODERATOR, CLIENT) else None


def grant(store: MutableMapping[str, Any], room_id: str, role: str) -> None:
    """Remember a role; a moderator claim is not lost to a later client grant."""
    if role_in(store, room_id) == MODERATOR:
        role = MODERATOR
    _remember(store, SESSION_KEY, room_id, role)


def _remember(store: MutableMapping[str, Any], key: str, room_id: str, value: Any) -> None:
    """Keep `value` for a room under `key`, for the most recent rooms only (a small cookie)."""
    remembered = store.get(key)
    remembered = dict(remembered) if isinstance(remembered, dict) else {}
    remembered.pop(room_id, None)
    remembered[room_id] = value
    while len(remembered) > MAX_REMEMBERED_ROOMS:
        remembered.pop(next(iter(remembered)))
    store[key] = remembered


def visitor_id(store: MutableMapping[str, Any]) -> str:
    """Return this browser session's random id (what a kick bans), creating it on first use."""
    visitor = store.get("visitor")
    if not isinstance(visitor, str):
        visitor = secrets.token_urlsafe(12)
        store["visitor"] = visitor
    return visitor


def unlocked(store: MutableMapping[str, Any], room_id: str, lock_version: int) -> bool:
    """Tell whether this browser gave the room's current password."""
    passes = store.get(UNLOCKED_KEY)
    return isinstance(passes, dict) and passes.get(room_id) == lock_version


def remember_unlock(store: MutableMapping[str, Any], room_id: str, lock_version: int) -> None:
    _remember(store, UNLOCKED_KEY, room_id, lock_version)


def entry(store: MutableMapping[str, Any], room_id: str, lock: LockState | None) -> str:
    """Decide what this browser gets at a room's door.

    One of: "moderator", "client" (may enter), "password" (must give it first), "kicked",
    "closed" (the counsellor has not started yet).
    """
    if is_moderator(store, room_id, lock):
        return MODERATOR
    if lock is None:
        return "closed"
    if visitor_id(store) in lock.banned:
        return "kicked"
    if lock.password_hash is not None and not unlocked(store, room_id, lock.version):
        return "password"
    return CLIENT
