"""Where room state lives and how messages reach connected participants.

`MemoryHub` keeps everything in this process (one web worker). A Redis-backed hub implements the
same methods so several web processes can serve the same rooms.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from praatbox.rooms import Close, Decision, RoomRegistry, Send

Message = dict[str, Any]
SWEEP_INTERVAL_SECONDS = 10.0


class Outbox(Protocol):
    """A connected participant's outbound queue; neither method may block."""

    def put(self, message: Message) -> None: ...

    def end(self, reason: str) -> None: ...


@dataclass(frozen=True)
class LockState:
    """What the password views need to know about a room."""

    password_hash: bytes | None
    version: int
    banned: frozenset[str]


class MemoryHub:
    """Room registry plus the outboxes of the participants connected to this process."""

    def __init__(self, registry: RoomRegistry, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry
        self.clock = clock
        self._lock = threading.Lock()
        self._outboxes: dict[str, Outbox] = {}
        self._last_sweep = clock()

    def open_room(self, room_id: str) -> None:
        with self._lock:
            self._sweep()
            self.registry.open(room_id, self.clock())

    def room_is_open(self, room_id: str) -> bool:
        with self._lock:
            self._sweep()
            return self.registry.is_open(room_id)

    def recently_used(self, room_id: str) -> bool:
        with self._lock:
            return self.registry.recently_used(room_id, self.clock())

    def lock_state(self, room_id: str) -> LockState | None:
        with self._lock:
            room = self.registry.get(room_id)
            if room is None:
                return None
            return LockState(room.password_hash, room.lock_version, frozenset(room.banned))

    def connect(
        self, room_id: str, peer_id: str, visitor: str, moderator: bool, outbox: Outbox
    ) -> None:
        """Register a participant's socket; raises RoomError if the rules refuse it."""
        with self._lock:
            decisions = self.registry.join(room_id, peer_id, visitor, moderator, self.clock())
            self._outboxes[peer_id] = outbox
            self._execute(decisions)

    def disconnect(self, room_id: str, peer_id: str, reason: str) -> None:
        with self._lock:
            self._outboxes.pop(peer_id, None)
            self._execute(self.registry.leave(room_id, peer_id, reason, self.clock()))

    def handle(self, room_id: str, peer_id: str, message: Message) -> None:
        """Apply a validated client message; raises RoomError when the rules refuse it."""
        registry, kind = self.registry, message["type"]
        with self._lock:
            if kind == "signal":
                decisions = registry.route_signal(room_id, peer_id, message["to"], message["data"])
            elif kind == "admit":
                decisions = registry.admit(room_id, peer_id, message["peer"])
            elif kind == "deny":
                decisions = registry.deny(room_id, peer_id, message["peer"])
            elif kind == "kick":
                decisions = registry.kick(room_id, peer_id, message["peer"])
            elif kind == "end":
                decisions = registry.end(room_id, peer_id, self.clock())
            elif kind == "waiting-room":
                decisions = registry.set_waiting_room(room_id, peer_id, message["on"])
            else:
                raise ValueError(f"unhandled message type {kind}")
            self._execute(decisions)

    def set_password(self, room_id: str, password_hash: bytes) -> None:
        with self._lock:
            self._execute(self.registry.set_password(room_id, password_hash))

    def record_failed_attempt(self, room_id: str) -> None:
        with self._lock:
            if self.registry.is_open(room_id):
                self._execute(self.registry.record_failed_attempt(room_id))

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.registry.counts()

    def _execute(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            outbox = self._outboxes.get(decision.peer)
            if outbox is None:
                continue
            if isinstance(decision, Send):
                outbox.put(decision.message)
            elif isinstance(decision, Close):
                self._outboxes.pop(decision.peer, None)
                outbox.end(decision.reason)

    def _sweep(self) -> None:
        now = self.clock()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._last_sweep = now
            self.registry.sweep(now)
