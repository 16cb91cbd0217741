"""Room state in Redis, so any number of web processes (and nodes) serve the same rooms.

`RedisHub` has the methods of `MemoryHub`. A change to a room holds a Redis lock on that room
while it loads the room (JSON, never pickle), runs the `RoomRegistry` rules on it, stores it and
delivers the decisions (`redis_delivery`: directly to this process's sockets, over pub/sub to
the others'), so everyone sees a room's messages in the order its state changed. A relay
registers with whichever web process it connects to, but the relay pool (capacity, load, pinned
rooms) is shared, so a room on any process can use any relay.

What Redis holds: room ids (keyed hashes of the terms), peer ids, the visitors' random session
ids, scrypt password hashes, SHA-256 hashes of moderator codes, keyed fingerprints of ended
rooms. Never terms, passwords or moderator codes.

Limits: a web process that dies without saying goodbye leaves its participants listed in their
rooms (until they resume on another process or reconnect, which replaces them, or the room key
expires `ROOM_TTL_SECONDS` after its last change), and its relays in the shared pool: their group
rooms stay pinned to a relay nobody can reach until those rooms shrink to two or end.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import redis

from praatbox.hub import Outbox, SocketEnd, participants_by_mode
from praatbox.hub.memory import (
    EXPIRY_MARGIN_SECONDS,
    P2P_RETURN_DELAY_SECONDS,
    Schedule,
    start_timer,
)
from praatbox.hub.redis_delivery import Delivery
from praatbox.hub.redis_json import dump_relay, dump_room, load_relay, load_room
from praatbox.rooms import modes
from praatbox.rooms.model import Decision, LockState, lock_state_of
from praatbox.rooms.registry import RECENT_TERMS_SECONDS, REMOVING_MESSAGES, RoomRegistry
from praatbox.rooms.relay_pool import RELAY_ID_PREFIX, RelayInfo, RelayPool

logger = logging.getLogger(__name__)

Message = dict[str, Any]
PREFIX = "praatbox:"
ROOMS_KEY = PREFIX + "rooms"  # hash: room id → participants (for counts and relay re-homing)
RELAYS_KEY = PREFIX + "relays"  # hash: relay id → RelayInfo as JSON
RELAYS_LOCK = PREFIX + "lock:relays"
# An occupied room whose processes all died must not stay forever.
ROOM_TTL_SECONDS = 24 * 3600
LOCK_EXPIRY_SECONDS = 10.0  # a process that dies holding a lock blocks the room this long
LOCK_WAIT_SECONDS = 5.0
LOCK_POLL_SECONDS = 0.002
Action = Callable[[RoomRegistry], list[Decision]]
# Client messages that only forward (they change no state): no lock, one read each.
FORWARDING_MESSAGES = frozenset({"signal", "e2ee"})


def room_key(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}"


def ended_key(fingerprint: str) -> str:
    return f"{PREFIX}ended:{fingerprint}"


def ending_key(fingerprint: str) -> str:
    """When an emptied room with these terms expires (or expired)."""
    return f"{PREFIX}ending:{fingerprint}"


class _SharedPool(RelayPool):
    """The relay pool stored in Redis, read on first use (and locked then, if it may change)."""

    def __init__(self, client: redis.Redis, writable: bool) -> None:
        self._client: Any = client  # decode_responses=True: str in, str out
        self._writable = writable
        self._loaded: dict[str, RelayInfo] | None = None
        self._initial: set[str] = set()
        self._lock: Any = None

    @property
    def relays(self) -> dict[str, RelayInfo]:
        if self._loaded is None:
            if self._writable:
                self._lock = _lock(self._client, RELAYS_LOCK)
            stored = self._client.hgetall(RELAYS_KEY)
            self._loaded = {relay_id: load_relay(text) for relay_id, text in stored.items()}
            self._initial = set(self._loaded)
        return self._loaded

    @relays.setter
    def relays(self, value: dict[str, RelayInfo]) -> None:
        self._loaded = value

    def save(self) -> None:
        if self._loaded is None or not self._writable:
            return
        pipe = self._client.pipeline(transaction=True)
        gone = self._initial - set(self._loaded)
        if gone:
            pipe.hdel(RELAYS_KEY, *gone)
        if self._loaded:
            pipe.hset(RELAYS_KEY, mapping={k: dump_relay(v) for k, v in self._loaded.items()})
        pipe.execute()

    def release(self) -> None:
        if self._lock is not None:
            _unlock(self._lock)
            self._lock = None


def _lock(client: redis.Redis, name: str) -> Any:
    lock = client.lock(name, timeout=LOCK_EXPIRY_SECONDS, sleep=LOCK_POLL_SECONDS,
                       blocking_timeout=LOCK_WAIT_SECONDS)
    if not lock.acquire():
        raise redis.exceptions.LockError(f"could not take {name}")
    return lock


def _unlock(lock: Any) -> None:
    try:
        lock.release()
    except redis.exceptions.LockError:  # it expired: the work took longer than the lock lived
        logger.warning("hub: a Redis lock expired before it was released")


class RedisHub:
    """Room state and relay pool in Redis; the outboxes of this process's sockets in memory."""

    def __init__(
        self,
        client: redis.Redis,
        registry: RoomRegistry,
        clock: Callable[[], float] = time.time,
        schedule: Schedule = start_timer,
        return_delay_seconds: float = P2P_RETURN_DELAY_SECONDS,
    ) -> None:
        self.redis: Any = client  # decode_responses=True: str in, str out
        self.registry = registry  # the rules' settings; each operation gets a fresh registry
        self.clock = clock  # wall time: every process must agree on it
        self.schedule = schedule
        self.closed = False
        self.return_delay_seconds = return_delay_seconds
        self.delivery = Delivery(client)
        self._relay_numbers = itertools.count(1)

    @classmethod
    def from_url(cls, url: str, registry: RoomRegistry) -> RedisHub:
        return cls(redis.Redis.from_url(url, decode_responses=True, health_check_interval=30),
                   registry)

    # -- rooms ---------------------------------------------------------------------------------

    def open_room(self, room_id: str, moderator_hash: str) -> bool:
        """Open a room for the holder of a moderator code; False if it runs already."""
        opened: list[bool] = []

        def action(registry: RoomRegistry) -> list[Decision]:
            opened.append(registry.open(room_id, moderator_hash, self.clock()))
            return []
        self._change(room_id, action)
        return opened[0]

    def room_is_open(self, room_id: str) -> bool:
        return bool(self.redis.exists(room_key(room_id)))

    def recently_used(self, room_id: str) -> bool:
        fingerprint = self.registry.fingerprint(room_id)
        ended, ending = self.redis.mget(ended_key(fingerprint), ending_key(fingerprint))
        return ended is not None or (ending is not None and float(ending) <= self.clock())

    def lock_state(self, room_id: str) -> LockState | None:
        text = self.redis.get(room_key(room_id))
        if text is None:
            return None
        return lock_state_of(load_room(text))

    def connect(
        self, room_id: str, peer_id: str, visitor: str, moderator: bool, outbox: Outbox,
        e2ee: bool = False, resume_hash: str = "",
    ) -> None:
        """Register a participant's socket; raises RoomError if the rules refuse it."""
        self.delivery.attach(peer_id, outbox)
        try:
            self._change(room_id, lambda r: r.join(room_id, peer_id, visitor, moderator,
                                                   self.clock(), e2ee, resume_hash))
        except BaseException:
            self.delivery.detach(peer_id)
            raise

    def resume(
        self, room_id: str, peer_id: str, presented_hash: str, fresh_hash: str, outbox: Outbox
    ) -> None:
        """Give a dropped participant's place to their new socket, wherever the old one was;
        raises ResumeRefused (and then this socket never receives their messages)."""
        def action(registry: RoomRegistry) -> list[Decision]:
            decisions = registry.resume(room_id, peer_id, presented_hash, fresh_hash,
                                        self.clock())
            self.delivery.attach(peer_id, outbox)  # checked: now their messages come here
            return decisions

        self._schedule_return(room_id, self._change(room_id, action))

    def disconnect(
        self, room_id: str, peer_id: str, reason: str, socket: SocketEnd | None = None
    ) -> None:
        """A socket ended; `socket`: which one, and how (see `RoomRegistry.depart`)."""
        self.delivery.detach(peer_id, socket.outbox if socket else None)
        resume_hash, dropped = (socket.resume_hash, socket.dropped) if socket else ("", False)
        registry = self._change(room_id, lambda r: r.depart(room_id, peer_id, resume_hash,
                                                             reason, dropped, self.clock()))
        self._schedule_return(room_id, registry)
        if dropped:
            self.schedule(registry.resume_grace_seconds + EXPIRY_MARGIN_SECONDS,
                          lambda: self._expire(room_id))

    def handle(self, room_id: str, peer_id: str, message: Message) -> None:
        """Apply a validated client message; raises RoomError when the rules refuse it."""
        def action(registry: RoomRegistry) -> list[Decision]:
            return registry.apply(room_id, peer_id, message, self.clock())

        if message["type"] in FORWARDING_MESSAGES:
            # A burst of candidates or key messages costs one read each, and no lock.
            self._read(action, room_id)
            return
        registry = self._change(room_id, action)
        if message["type"] in REMOVING_MESSAGES:
            self._schedule_return(room_id, registry)

    def set_password(self, room_id: str, password_hash: bytes) -> None:
        self._change(room_id, lambda r: r.set_password(room_id, password_hash))

    def record_failed_attempt(self, room_id: str, locked_out: bool = False) -> None:
        self._change(room_id, lambda r: r.record_failed_attempt(room_id, locked_out)
                     if r.is_open(room_id) else [])

    def counts(self) -> tuple[int, int]:
        """Return (open rooms, connected participants) across all processes."""
        sizes = self.redis.hgetall(ROOMS_KEY)
        room_ids = list(sizes)
        pipe = self.redis.pipeline(transaction=False)
        for room_id in room_ids:
            pipe.exists(room_key(room_id))
        alive = pipe.execute() if room_ids else []
        found = dict(zip(room_ids, alive, strict=True))
        expired = [room_id for room_id in room_ids if not found[room_id]]
        if expired:
            self.redis.hdel(ROOMS_KEY, *expired)
        live = [int(sizes[room_id]) for room_id in room_ids if found[room_id]]
        return len(live), sum(live)

    def participants_by_mode(self) -> dict[str, int]:
        """Count connected participants per media mode across all processes."""
        room_ids = self.redis.hkeys(ROOMS_KEY)
        texts = self.redis.mget([room_key(room_id) for room_id in room_ids]) if room_ids else []
        return participants_by_mode(load_room(text) for text in texts if text is not None)

    # -- media relays (the `/ws-relay` connections of this process) ----------------------------

    def connect_relay(self, capacity: int, outbox: Outbox) -> str:
        """Register a relay process; rooms that fell back to a mesh move onto it."""
        relay_id = f"{RELAY_ID_PREFIX}{self.delivery.process_id}.{next(self._relay_numbers)}"
        self.delivery.attach(relay_id, outbox)
        with self._pool() as pool:
            pool.register(relay_id, capacity)
        for room_id in self.redis.hkeys(ROOMS_KEY):
            text = self.redis.get(room_key(room_id))
            if text is None:
                continue
            room = load_room(text)
            if room.mode == modes.MESH and len(room.participants) >= modes.GROUP_FROM_PARTICIPANTS:
                self._change(room_id, lambda r: r.move_mesh_rooms_to_relays())
        return relay_id

    def relay_load(self, relay_id: str, streams: int) -> None:
        with self._pool() as pool:
            pool.report_load(relay_id, streams)

    def relay_signal(self, relay_id: str, room_id: str, to: str, data: Message) -> None:
        """Forward a relay's signal to a browser; raises RoomError when the rules refuse it."""
        self._read(lambda r: r.route_relay_signal(relay_id, room_id, to, data), room_id)

    def disconnect_relay(self, relay_id: str) -> None:
        """Forget a relay; its rooms move to another relay or fall back to a mesh."""
        self.delivery.detach(relay_id)
        with self._pool() as pool:
            pinned = pool.unregister(relay_id)
        for room_id in pinned:
            self._change(room_id, functools.partial(RoomRegistry.rehome, room_id=room_id,
                                                    relay_id=relay_id))

    def close(self) -> None:
        """Stop listening (tests; a web process just exits); pending timers then do nothing."""
        self.closed = True
        self.delivery.close()

    # -- the machinery -------------------------------------------------------------------------

    def _fresh_registry(self, writable: bool) -> RoomRegistry:
        template = self.registry
        registry = RoomRegistry(template.max_participants, template.empty_grace_seconds,
                                template.fingerprint, template.resume_grace_seconds)
        registry.relays = _SharedPool(self.redis, writable)
        return registry

    def _change(self, room_id: str, action: Action) -> RoomRegistry:
        """Load the room under its lock, apply the rules, store the result, deliver decisions."""
        lock = _lock(self.redis, f"{PREFIX}lock:room:{room_id}")
        try:
            registry = self._fresh_registry(writable=True)
            pool = registry.relays
            assert isinstance(pool, _SharedPool)
            try:
                before = self.redis.get(room_key(room_id))
                if before is not None:
                    registry.rooms[room_id] = load_room(before)
                # Whoever stayed away too long leaves now, even if the process that saw their
                # socket drop (and set the timer) died since.
                decisions = registry.expire_away(room_id, self.clock()) + action(registry)
                self._store(registry, room_id, before)
                pool.save()
            finally:
                pool.release()
            self.delivery.deliver(decisions)
            return registry
        finally:
            _unlock(lock)

    def _read(self, action: Action, room_id: str) -> None:
        registry = self._fresh_registry(writable=False)
        text = self.redis.get(room_key(room_id))
        if text is not None:
            registry.rooms[room_id] = load_room(text)
        self.delivery.deliver(action(registry))

    def _store(self, registry: RoomRegistry, room_id: str, before: str | None) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for fingerprint in registry.recently_ended:
            pipe.set(ended_key(fingerprint), "1", ex=int(RECENT_TERMS_SECONDS))
        room = registry.rooms.get(room_id)
        if room is None:
            if before is not None:
                pipe.delete(room_key(room_id))
                pipe.hdel(ROOMS_KEY, room_id)
        else:
            text = dump_room(room)
            if text != before:
                if room.empty_since is None:
                    pipe.set(room_key(room_id), text, ex=ROOM_TTL_SECONDS)
                    pipe.delete(ending_key(registry.fingerprint(room_id)))
                else:
                    self._store_empty(pipe, registry, room_id, text, room.empty_since)
                pipe.hset(ROOMS_KEY, room_id, len(room.participants))
        pipe.execute()

    def _store_empty(
        self, pipe: Any, registry: RoomRegistry, room_id: str, text: str, empty_since: float
    ) -> None:
        """Let Redis forget an empty room after the grace period. Its terms count as recently
        used from that moment (the memory hub's sweep records them then): the `ending` mark
        holds the moment, so nobody has to notice the expiry."""
        now = self.clock()
        expires = empty_since + registry.empty_grace_seconds
        grace_ms = max(1, int((expires - now) * 1000))
        pipe.set(room_key(room_id), text, px=grace_ms)
        ending = ending_key(registry.fingerprint(room_id))
        earlier = self.redis.get(ending)
        if earlier is not None and float(earlier) <= now:
            # An earlier session of these terms expired and counts: keep it counting.
            left_ms = self.redis.pttl(ending)
            if left_ms > 0:
                pipe.set(ended_key(registry.fingerprint(room_id)), "1", px=left_ms, nx=True)
        pipe.set(ending, repr(expires), px=int(RECENT_TERMS_SECONDS * 1000) + grace_ms)

    @contextmanager
    def _pool(self) -> Iterator[_SharedPool]:
        pool = _SharedPool(self.redis, writable=True)
        try:
            yield pool
            pool.save()
        finally:
            pool.release()

    def _schedule_return(self, room_id: str, registry: RoomRegistry) -> None:
        changes = registry.pending_return(room_id)
        if changes is not None:
            self.schedule(self.return_delay_seconds, lambda: self._settle(room_id, changes))

    def _settle(self, room_id: str, changes: int) -> None:
        self._on_timer(lambda r: r.settle(room_id, changes), room_id, "switch a room back to p2p")

    def _expire(self, room_id: str) -> None:
        registry = self._on_timer(lambda r: r.expire_away(room_id, self.clock()), room_id,
                                  "let a dropped participant go")
        if registry is not None:
            self._schedule_return(room_id, registry)

    def _on_timer(self, action: Action, room_id: str, what: str) -> RoomRegistry | None:
        """Runs on a timer: nothing may escape it, and after close() its failures are expected
        (the connection it was using is gone)."""
        if self.closed:
            return None
        try:
            return self._change(room_id, action)
        except Exception:
            if not self.closed:
                logger.warning("hub: could not %s", what, exc_info=True)
            return None

