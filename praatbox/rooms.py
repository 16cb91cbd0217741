"""Room membership and message routing as plain state: no sockets, no Flask, time passed in.

Every method returns the messages to deliver (`Send` decisions); the caller does the I/O. This keeps
the rules testable and lets a Redis-backed hub reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


class RoomError(Exception):
    """A request the room rules refuse; `code` is the signaling error code."""

    code = "not-allowed"


class RoomNotOpen(RoomError):
    code = "room-not-open"


class RoomFull(RoomError):
    code = "room-full"


class UnknownPeer(RoomError):
    code = "unknown-peer"


@dataclass(frozen=True)
class Send:
    """Deliver `message` to the participant `peer`."""

    peer: str
    message: Message


@dataclass
class Participant:
    peer_id: str
    moderator: bool
    joined_at: float


@dataclass
class Room:
    room_id: str
    opened_at: float
    participants: dict[str, Participant] = field(default_factory=dict)
    empty_since: float | None = None

    @property
    def mode(self) -> str:
        return "p2p"

    def others(self, peer_id: str) -> list[str]:
        return [p for p in self.participants if p != peer_id]


class RoomRegistry:
    """All open rooms of this process."""

    def __init__(self, max_participants: int = 6, empty_grace_seconds: float = 120.0) -> None:
        self.max_participants = max_participants
        self.empty_grace_seconds = empty_grace_seconds
        self.rooms: dict[str, Room] = {}

    def open(self, room_id: str, now: float) -> None:
        """Open a room for its counsellor (idempotent: re-entering keeps who is inside)."""
        room = self.rooms.get(room_id)
        if room is None:
            self.rooms[room_id] = Room(room_id, opened_at=now, empty_since=now)

    def is_open(self, room_id: str) -> bool:
        return room_id in self.rooms

    def join(self, room_id: str, peer_id: str, moderator: bool, now: float) -> list[Send]:
        """Add a connected participant; tell the others, then welcome the newcomer."""
        room = self.rooms.get(room_id)
        if room is None:
            raise RoomNotOpen(room_id)
        if len(room.participants) >= self.max_participants:
            raise RoomFull(room_id)
        existing = list(room.participants)
        room.participants[peer_id] = Participant(peer_id, moderator, now)
        room.empty_since = None
        sends = [Send(other, {"type": "peer-joined", "peer": peer_id}) for other in existing]
        welcome = {
            "type": "welcome",
            "self": peer_id,
            "moderator": moderator,
            "peers": existing,
            "mode": room.mode,
        }
        sends.append(Send(peer_id, welcome))
        return sends

    def leave(self, room_id: str, peer_id: str, reason: str, now: float) -> list[Send]:
        """Remove a participant and tell the others why they left."""
        room = self.rooms.get(room_id)
        if room is None or room.participants.pop(peer_id, None) is None:
            return []
        if not room.participants:
            room.empty_since = now
        notice = {"type": "peer-left", "peer": peer_id, "reason": reason}
        return [Send(other, notice) for other in room.participants]

    def route_signal(
        self, room_id: str, sender: str, recipient: str, data: dict[str, Any]
    ) -> list[Send]:
        """Forward an offer, answer or candidate to one other participant of the same room."""
        room = self.rooms.get(room_id)
        if room is None or sender not in room.participants:
            raise RoomNotOpen(room_id)
        if recipient == sender or recipient not in room.participants:
            raise UnknownPeer(recipient)
        return [Send(recipient, {"type": "signal", "from": sender, "data": data})]

    def sweep(self, now: float) -> list[str]:
        """Forget rooms that stayed empty longer than the grace period; return their ids."""
        expired = [
            room_id
            for room_id, room in self.rooms.items()
            if room.empty_since is not None and now - room.empty_since > self.empty_grace_seconds
        ]
        for room_id in expired:
            del self.rooms[room_id]
        return expired

    def counts(self) -> tuple[int, int]:
        """Return (open rooms, connected participants) for health and metrics."""
        return len(self.rooms), sum(len(r.participants) for r in self.rooms.values())
