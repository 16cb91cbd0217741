"""Which rooms this browser may enter, and in which role, kept in its signed session cookie.

The cookie holds room ids only (never terms); it is signed with the server secret, so nobody can
claim the moderator role for a room they did not start.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

MODERATOR = "moderator"
CLIENT = "client"
SESSION_KEY = "rooms"
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
