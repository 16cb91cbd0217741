"""Where room state lives and how messages reach connected participants.

`MemoryHub` keeps everything in this process (one web worker). A Redis-backed hub implements the
same methods so several web processes can serve the same rooms.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Protocol

from praatbox.rooms import RoomRegistry, Send

Message = dict[str, Any]
SWEEP_INTERVAL_SECONDS = 10.0


class Outbox(Protocol):
    """A connected participant's outbound queue; `put` must never block."""

    def put(self, message: Message) -> None: ...


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

    def connect(self, room_id: str, peer_id: str, moderator: bool, outbox: Outbox) -> None:
        """Register a participant's socket; raises RoomError if the rules refuse it."""
        with self._lock:
            sends = self.registry.join(room_id, peer_id, moderator, self.clock())
            self._outboxes[peer_id] = outbox
            self._deliver(sends)

    def disconnect(self, room_id: str, peer_id: str, reason: str) -> None:
        with self._lock:
            self._outboxes.pop(peer_id, None)
            self._deliver(self.registry.leave(room_id, peer_id, reason, self.clock()))

    def signal(self, room_id: str, sender: str, recipient: str, data: Message) -> None:
        """Forward signaling data; raises RoomError for a recipient outside the room."""
        with self._lock:
            self._deliver(self.registry.route_signal(room_id, sender, recipient, data))

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.registry.counts()

    def _deliver(self, sends: list[Send]) -> None:
        for send in sends:
            outbox = self._outboxes.get(send.peer)
            if outbox is not None:
                outbox.put(send.message)

    def _sweep(self) -> None:
        now = self.clock()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._last_sweep = now
            self.registry.sweep(now)
