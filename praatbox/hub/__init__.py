"""Where room state lives and how decisions reach connected sockets.

`Hub` is what the views and socket handlers use; `memory.MemoryHub` keeps everything in this
process (one web worker), `redis_store.RedisHub` in Redis (any number of web processes). Both run
the same rules (`praatbox.rooms`) and pass the same contract tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol

from flask import current_app

from praatbox.rooms.model import GROUP, MESH, P2P, LockState, Message, Room
from praatbox.rooms.registry import RoomRegistry
from praatbox.terms import room_fingerprint


class Outbox(Protocol):
    """A connected participant's (or relay's) outbound queue; neither method may block."""

    def put(self, message: Message) -> None: ...

    def end(self, reason: str) -> None: ...


@dataclass(frozen=True)
class SocketEnd:
    """How a participant's socket ended: its outbox, its token's hash, and whether it dropped
    without a close frame (the participant may then resume)."""

    outbox: Outbox
    resume_hash: str
    dropped: bool


class Hub(Protocol):
    """Rooms as the web process sees them: the state, and delivery to the sockets."""

    def open_room(self, room_id: str, moderator_hash: str) -> bool: ...

    def room_is_open(self, room_id: str) -> bool: ...

    def recently_used(self, room_id: str) -> bool: ...

    def lock_state(self, room_id: str) -> LockState | None: ...

    def connect(
        self, room_id: str, peer_id: str, visitor: str, moderator: bool, outbox: Outbox,
        e2ee: bool = False, resume_hash: str = "",
    ) -> None: ...

    def resume(
        self, room_id: str, peer_id: str, presented_hash: str, fresh_hash: str, outbox: Outbox
    ) -> None: ...

    def disconnect(
        self, room_id: str, peer_id: str, reason: str, socket: SocketEnd | None = None
    ) -> None: ...

    def handle(self, room_id: str, peer_id: str, message: Message) -> None: ...

    def set_password(self, room_id: str, password_hash: bytes) -> None: ...

    def record_failed_attempt(self, room_id: str, locked_out: bool = False) -> None: ...

    def counts(self) -> tuple[int, int]: ...

    def participants_by_mode(self) -> dict[str, int]: ...

    def connect_relay(self, capacity: int, outbox: Outbox) -> str: ...

    def relay_load(self, relay_id: str, streams: int) -> None: ...

    def relay_signal(self, relay_id: str, room_id: str, to: str, data: Message) -> None: ...

    def disconnect_relay(self, relay_id: str) -> None: ...


class AttemptCounter(Protocol):
    """Wrong-password (and wrong moderator code) limits, in memory or in Redis."""

    def retry_after(self, room_id: str, address: str, now: float) -> float: ...

    def room_locked(self, room_id: str, now: float) -> bool: ...

    def failed(self, room_id: str, address: str, now: float) -> bool: ...

    def succeeded(self, room_id: str, address: str) -> None: ...

    def reset_room(self, room_id: str) -> None: ...


def make_hub(config: Mapping[str, Any]) -> tuple[Hub, AttemptCounter]:
    """Build the hub and the attempt counter the settings ask for (Redis when REDIS_URL is set)."""
    # The backends import `Outbox` from this module, so they are imported here, not at the top.
    from praatbox.hub.memory import MemoryHub
    from praatbox.rooms.attempts import AttemptLimiter

    registry = RoomRegistry(
        max_participants=config["MAX_ROOM_PARTICIPANTS"],
        empty_grace_seconds=config["ROOM_EMPTY_GRACE_SECONDS"],
        fingerprint=room_fingerprint(config["ENDED_ROOM_KEY"]),
        resume_grace_seconds=config["RESUME_GRACE_SECONDS"],
    )
    lockout = (config["PASSWORD_LOCKOUT_FAILURES"], config["PASSWORD_LOCKOUT_SECONDS"])
    if config["REDIS_URL"]:
        from praatbox.hub.redis_attempts import RedisAttemptLimiter
        from praatbox.hub.redis_store import RedisHub

        shared = RedisHub.from_url(config["REDIS_URL"], registry)
        return shared, RedisAttemptLimiter(shared.redis, *lockout)
    return MemoryHub(registry), AttemptLimiter(*lockout)


def participants_by_mode(rooms: Iterable[Room]) -> dict[str, int]:
    """Connected participants per media mode, every mode listed (for the metrics)."""
    counts = dict.fromkeys((P2P, GROUP, MESH), 0)
    for room in rooms:
        counts[room.mode] = counts.get(room.mode, 0) + len(room.participants)
    return counts


def current_hub() -> Hub:
    """Return the application's hub (`make_hub` built it when the app was created)."""
    hub: Hub = current_app.extensions["praatbox.hub"]
    return hub


def current_attempts() -> AttemptCounter:
    """Return the application's wrong-password limits."""
    attempts: AttemptCounter = current_app.extensions["praatbox.attempts"]
    return attempts
