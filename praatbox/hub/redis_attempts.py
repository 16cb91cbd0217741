"""Wrong-password guesses counted in Redis, so every web process applies the same limits.

Same rules as `attempts.AttemptLimiter` (the record classes do the arithmetic); with one limiter
per process, a guesser spread over N processes would get N times the attempts. Keys hold a room
id (a keyed hash) and an address pseudonym (a keyed hash too), never an address; they expire
when their window has passed.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from praatbox.rooms.attempts import (
    ADDRESS_WINDOW_SECONDS,
    MAX_DELAY_SECONDS,
    ROOM_LOCKOUT_FAILURES,
    ROOM_LOCKOUT_SECONDS,
    AddressRecord,
    RoomRecord,
)

PREFIX = "praatbox:attempts:"
ADDRESS_TTL_SECONDS = int(ADDRESS_WINDOW_SECONDS + MAX_DELAY_SECONDS) + 1


def _address_key(room_id: str, address: str) -> str:
    return f"{PREFIX}address:{room_id}:{address}"


def _room_key(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}"


class RedisAttemptLimiter:
    """`attempts.AttemptLimiter` with its records in Redis (the same methods)."""

    def __init__(
        self,
        client: Any,
        lockout_failures: int = ROOM_LOCKOUT_FAILURES,
        lockout_seconds: float = ROOM_LOCKOUT_SECONDS,
    ) -> None:
        self.redis: Any = client
        self.lockout_failures = lockout_failures
        self.lockout_seconds = lockout_seconds

    def retry_after(self, room_id: str, address: str, now: float) -> float:
        """Seconds to wait before a guess from this address is even checked (0: go ahead)."""
        room_text, address_text = self.redis.mget(_room_key(room_id),
                                                  _address_key(room_id, address))
        room = RoomRecord(**json.loads(room_text)) if room_text else RoomRecord()
        record = AddressRecord(**json.loads(address_text)) if address_text else AddressRecord()
        return max(room.retry_after(now), record.retry_after(now))

    def room_locked(self, room_id: str, now: float) -> bool:
        text = self.redis.get(_room_key(room_id))
        return text is not None and RoomRecord(**json.loads(text)).retry_after(now) > 0

    def failed(self, room_id: str, address: str, now: float) -> bool:
        """Count a wrong guess; return True when it locked the room."""
        address_name, room_name = _address_key(room_id, address), _room_key(room_id)
        locked = False

        def update(pipe: Any) -> None:
            nonlocal locked
            address_text, room_text = pipe.get(address_name), pipe.get(room_name)
            record = AddressRecord(**json.loads(address_text)) if address_text else AddressRecord()
            room = RoomRecord(**json.loads(room_text)) if room_text else RoomRecord()
            record.failed(now)
            locked = room.failed(now, self.lockout_failures, self.lockout_seconds)
            pipe.multi()
            pipe.set(address_name, json.dumps(asdict(record)), ex=ADDRESS_TTL_SECONDS)
            pipe.set(room_name, json.dumps(asdict(room)),
                     ex=int(self.lockout_seconds + ADDRESS_WINDOW_SECONDS))

        self.redis.transaction(update, address_name, room_name)
        return locked

    def succeeded(self, room_id: str, address: str) -> None:
        self.redis.delete(_address_key(room_id, address))

    def reset_room(self, room_id: str) -> None:
        """The moderator lets new people try again (the per-address delays stay)."""
        self.redis.delete(_room_key(room_id))
