"""Wrong-password guesses: a growing delay per address and room, and a lockout per room.

Cookies are free, so nothing here is keyed on a browser session: one address guessing a room
waits 2, 4, 8 … seconds between wrong guesses (at most `MAX_DELAY_SECONDS`), and a room that
collects `ROOM_LOCKOUT_FAILURES` wrong guesses from anywhere stops checking passwords until its
moderator lets new people try again (or `ROOM_LOCKOUT_SECONDS` pass). The rules are plain
functions on records; `AttemptLimiter` keeps the records in memory and `RedisAttemptLimiter`
(in `redis_attempts`) in Redis, so several web processes apply one limit.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

ADDRESS_WINDOW_SECONDS = 15 * 60.0
FREE_FAILURES = 1
MAX_DELAY_SECONDS = 300.0
ROOM_LOCKOUT_FAILURES = 30
ROOM_LOCKOUT_SECONDS = 30 * 60.0
MAX_REMEMBERED_RECORDS = 10_000


@dataclass
class AddressRecord:
    """Wrong guesses from one address for one room, within the window."""

    times: list[float] = field(default_factory=list)

    def retry_after(self, now: float, window_seconds: float = ADDRESS_WINDOW_SECONDS) -> float:
        """Seconds before this address may guess again: doubles with each wrong guess."""
        recent = [t for t in self.times if now - t < window_seconds]
        if len(recent) <= FREE_FAILURES:
            return 0.0
        delay = min(MAX_DELAY_SECONDS, 2.0 ** (len(recent) - FREE_FAILURES))
        return max(0.0, recent[-1] + delay - now)

    def failed(self, now: float, window_seconds: float = ADDRESS_WINDOW_SECONDS) -> None:
        self.times = [t for t in self.times if now - t < window_seconds] + [now]


@dataclass
class RoomRecord:
    """Wrong guesses for one room from every address since its moderator last reset them."""

    failures: int = 0
    locked_until: float = 0.0

    def retry_after(self, now: float) -> float:
        return max(0.0, self.locked_until - now)

    def failed(self, now: float, threshold: int, lockout_seconds: float) -> bool:
        """Count a wrong guess; return True when this one locked the room."""
        self.failures += 1
        if self.failures >= threshold and self.locked_until <= now:
            self.locked_until = now + lockout_seconds
            self.failures = 0
            return True
        return False


Record = TypeVar("Record", AddressRecord, RoomRecord)


class AttemptLimiter:
    """The limits, with records in this process's memory (one web process)."""

    def __init__(
        self,
        lockout_failures: int = ROOM_LOCKOUT_FAILURES,
        lockout_seconds: float = ROOM_LOCKOUT_SECONDS,
    ) -> None:
        self.lockout_failures = lockout_failures
        self.lockout_seconds = lockout_seconds
        self._addresses: OrderedDict[tuple[str, str], AddressRecord] = OrderedDict()
        self._rooms: OrderedDict[str, RoomRecord] = OrderedDict()

    def retry_after(self, room_id: str, address: str, now: float) -> float:
        """Seconds to wait before a guess from this address is even checked (0: go ahead)."""
        room = self._rooms.get(room_id)
        record = self._addresses.get((room_id, address))
        return max(room.retry_after(now) if room else 0.0,
                   record.retry_after(now) if record else 0.0)

    def room_locked(self, room_id: str, now: float) -> bool:
        room = self._rooms.get(room_id)
        return room is not None and room.retry_after(now) > 0

    def failed(self, room_id: str, address: str, now: float) -> bool:
        """Count a wrong guess; return True when it locked the room."""
        record = _touch(self._addresses, (room_id, address), AddressRecord)
        record.failed(now)
        room = _touch(self._rooms, room_id, RoomRecord)
        return room.failed(now, self.lockout_failures, self.lockout_seconds)

    def succeeded(self, room_id: str, address: str) -> None:
        self._addresses.pop((room_id, address), None)

    def reset_room(self, room_id: str) -> None:
        """The moderator lets new people try again (the per-address delays stay)."""
        self._rooms.pop(room_id, None)


def _touch(records: OrderedDict[Any, Record], key: Any, make: Callable[[], Record]) -> Record:
    """Return the record for `key` as the most recent, evicting the least recent past the cap.

    Eviction takes the oldest entry, never everything: a flood of sources must not reset the
    delays of the one that guesses.
    """
    record = records.pop(key, None) or make()
    records[key] = record
    while len(records) > MAX_REMEMBERED_RECORDS:
        records.popitem(last=False)
    return record
