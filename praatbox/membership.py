"""Which rooms this browser may enter, and in which role, kept in its signed session cookie.

The cookie holds room ids only (never terms); it is signed with the server secret, so nobody can
claim the moderator role for a room they did not start.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from praatbox.hub import LockState

MODERATOR = "moderator"
CLIENT = "client"
SESSION_KEY = "rooms"
UNLOCKED_KEY = "unlocked"
MAX_REMEMBERED_ROOMS = 8


def role_in(store: MutableMapping[str, Any], room_id: str) -> str | None:
    """Return the role this browser holds in a room, or None."""
    rooms = store.get(SESSION_KEY)
    if not isinstance(rooms, dict):
        return None
    role = rooms.get(room_id)
    return role if role in (MODERATOR, CLIENT) else None


def grant(store: MutableMapping[str, Any], room_id: str, role: str) -> None:
    """Remember a role; a moderator never loses the role to a later client grant."""
    rooms = store.get(SESSION_KEY)
    rooms = dict(rooms) if isinstance(rooms, dict) else {}
    if rooms.get(room_id) == MODERATOR:
        role = MODERATOR
    rooms.pop(room_id, None)
    rooms[room_id] = role
    while len(rooms) > MAX_REMEMBERED_ROOMS:
        rooms.pop(next(iter(rooms)))
    store[SESSION_KEY] = rooms


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
    passes = store.get(UNLOCKED_KEY)
    passes = dict(passes) if isinstance(passes, dict) else {}
    passes.pop(room_id, None)
    passes[room_id] = lock_version
    while len(passes) > MAX_REMEMBERED_ROOMS:
        passes.pop(next(iter(passes)))
    store[UNLOCKED_KEY] = passes


def entry(store: MutableMapping[str, Any], room_id: str, lock: LockState | None) -> str:
    """Decide what this browser gets at a room's door.

    One of: "moderator", "client" (may enter), "password" (must give it first), "kicked",
    "closed" (the counsellor has not started yet).
    """
    if role_in(store, room_id) == MODERATOR:
        return MODERATOR
    if lock is None:
        return "closed"
    if visitor_id(store) in lock.banned:
        return "kicked"
    if lock.password_hash is not None and not unlocked(store, room_id, lock.version):
        return "password"
    return CLIENT
