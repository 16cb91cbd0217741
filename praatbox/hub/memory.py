"""Where room state lives and how messages reach connected participants.

`MemoryHub` keeps everything in this process (one web worker). A Redis-backed hub implements the
same methods so several web processes can serve the same rooms.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Callable

from praatbox import web_counters
from praatbox.hub import Outbox, SocketEnd, participants_by_mode
from praatbox.rooms.model import Close, Decision, LockState, Message, Send, lock_state_of
from praatbox.rooms.registry import REMOVING_MESSAGES, RoomRegistry
from praatbox.rooms.relay_pool import RELAY_ID_PREFIX

SWEEP_INTERVAL_SECONDS = 10.0
# A group room that shrinks to two waits this long before going back to p2p: a reload must
# not bounce everyone off the relay and back.
P2P_RETURN_DELAY_SECONDS = 4.0
# The grace timer fires this much after the grace period, so the participant is past it.
EXPIRY_MARGIN_SECONDS = 0.1
Schedule = Callable[[float, Callable[[], None]], None]


def start_timer(delay: float, action: Callable[[], None]) -> None:
    """Run `action` once after `delay` seconds (a greenlet under gunicorn's gevent worker)."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()


class MemoryHub:
    """Room registry plus the outboxes of the participants and relays connected to this process."""

    def __init__(
        self,
        registry: RoomRegistry,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule = start_timer,
        return_delay_seconds: float = P2P_RETURN_DELAY_SECONDS,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.schedule = schedule
        self.return_delay_seconds = return_delay_seconds
        self._lock = threading.Lock()
        self._outboxes: dict[str, Outbox] = {}
        self._last_sweep = clock()
        self._relay_numbers = itertools.count(1)

    def open_room(self, room_id: str, moderator_hash: str) -> bool:
        """Open a room for the holder of a moderator code; False if it runs already."""
        with self._lock:
            self._sweep()
            return self.registry.open(room_id, moderator_hash, self.clock())

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
            return lock_state_of(room)

    def connect(
        self, room_id: str, peer_id: str, visitor: str, moderator: bool, outbox: Outbox,
        e2ee: bool = False, resume_hash: str = "",
    ) -> None:
        """Register a participant's socket; raises RoomError if the rules refuse it."""
        with self._lock:
            decisions = self.registry.join(room_id, peer_id, visitor, moderator, self.clock(),
                                           e2ee, resume_hash)
            self._outboxes[peer_id] = outbox
            self._execute(decisions)

    def resume(
        self, room_id: str, peer_id: str, presented_hash: str, fresh_hash: str, outbox: Outbox
    ) -> None:
        """Give a dropped participant's place to their new socket; raises ResumeRefused."""
        with self._lock:
            decisions = self.registry.resume(room_id, peer_id, presented_hash, fresh_hash,
                                             self.clock())
            self._outboxes[peer_id] = outbox
            self._execute(decisions)
            self._schedule_return(room_id)

    def disconnect(
        self, room_id: str, peer_id: str, reason: str, socket: SocketEnd | None = None
    ) -> None:
        """A socket ended; `socket`: which one, and how (see `RoomRegistry.depart`)."""
        with self._lock:
            if socket is None or self._outboxes.get(peer_id) is socket.outbox:
                self._outboxes.pop(peer_id, None)
            resume_hash, dropped = (socket.resume_hash, socket.dropped) if socket else ("", False)
            self._execute(self.registry.depart(room_id, peer_id, resume_hash, reason, dropped,
                                               self.clock()))
            self._schedule_return(room_id)
            if dropped:
                self.schedule(self.registry.resume_grace_seconds + EXPIRY_MARGIN_SECONDS,
                              lambda: self._expire(room_id))

    def _expire(self, room_id: str) -> None:
        with self._lock:
            self._execute(self.registry.expire_away(room_id, self.clock()))
            self._schedule_return(room_id)

    def handle(self, room_id: str, peer_id: str, message: Message) -> None:
        """Apply a validated client message; raises RoomError when the rules refuse it."""
        with self._lock:
            self._execute(self.registry.apply(room_id, peer_id, message, self.clock()))
            if message["type"] in REMOVING_MESSAGES:
                self._schedule_return(room_id)

    # -- media relays (the `/ws-relay` connections) --------------------------------------------

    def connect_relay(self, capacity: int, outbox: Outbox) -> str:
        """Register a relay process; rooms that fell back to a mesh move onto it."""
        with self._lock:
            relay_id = f"{RELAY_ID_PREFIX}{next(self._relay_numbers)}"
            self._outboxes[relay_id] = outbox
            self._execute(self.registry.relay_registered(relay_id, capacity))
            return relay_id

    def relay_load(self, relay_id: str, streams: int) -> None:
        with self._lock:
            self.registry.relay_load(relay_id, streams)

    def relay_signal(self, relay_id: str, room_id: str, to: str, data: Message) -> None:
        """Forward a relay's signal to a browser; raises RoomError when the rules refuse it."""
        with self._lock:
            self._execute(self.registry.route_relay_signal(relay_id, room_id, to, data))

    def disconnect_relay(self, relay_id: str) -> None:
        """Forget a relay; its rooms move to another relay or fall back to a mesh."""
        with self._lock:
            self._outboxes.pop(relay_id, None)
            self._execute(self.registry.relay_gone(relay_id))

    def _schedule_return(self, room_id: str) -> None:
        changes = self.registry.pending_return(room_id)
        if changes is not None:
            self.schedule(self.return_delay_seconds, lambda: self._settle(room_id, changes))

    def _settle(self, room_id: str, changes: int) -> None:
        with self._lock:
            self._execute(self.registry.settle(room_id, changes))

    def set_password(self, room_id: str, password_hash: bytes) -> None:
        with self._lock:
            self._execute(self.registry.set_password(room_id, password_hash))

    def record_failed_attempt(self, room_id: str, locked_out: bool = False) -> None:
        with self._lock:
            if self.registry.is_open(room_id):
                self._execute(self.registry.record_failed_attempt(room_id, locked_out))

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.registry.counts()

    def participants_by_mode(self) -> dict[str, int]:
        with self._lock:
            return participants_by_mode(self.registry.rooms.values())

    def _execute(self, decisions: list[Decision]) -> None:
        web_counters.decisions_made(decisions)
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
