"""The room model: rooms, participants, the decisions state returns, and the errors it raises.

Plain data, no I/O: `registry` and `modes` change it, the hubs store it and carry the decisions
out (`Send`, `Close`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

Message = dict[str, Any]

# How a room's media flows: browser to browser, through a relay, or a relay-less full mesh.
P2P, GROUP, MESH = "p2p", "group", "mesh"


class RoomError(Exception):
    """A request the room rules refuse; `code` is the signaling error code."""

    code = "not-allowed"


class RoomNotOpen(RoomError):
    """The counsellor has not started the room, or it ended."""

    code = "room-not-open"


class RoomFull(RoomError):
    """The room holds as many people as it may (or a mesh as many as it can carry)."""

    code = "room-full"


class UnknownPeer(RoomError):
    """A message names a participant who is not (or no longer) in the room."""

    code = "unknown-peer"


class Banned(RoomError):
    """This browser session was kicked from the room."""

    code = "kicked"


class NotModerator(RoomError):
    """Only the counsellor may do that."""

    code = "not-allowed"


class NotInRoom(RoomError):
    """A participant or relay acting in a room it is not part of."""

    code = "not-allowed"


class StreamingOff(RoomError):
    """The operator set no streaming endpoint (PRAATBOX_STREAMING_WHIP_URL): no LIVE here."""

    code = "streaming-off"


class E2eeRequired(RoomError):
    """The counsellor requires end-to-end encryption, and this browser said it cannot do it."""

    code = "e2ee-required"


@dataclass(frozen=True)
class Send:
    """Deliver `message` to the participant `peer`."""

    peer: str
    message: Message


@dataclass(frozen=True)
class Close:
    """Disconnect `peer` (after what was sent to it so far)."""

    peer: str
    reason: str


Decision = Union[Send, Close]


@dataclass
class Participant:
    peer_id: str
    visitor: str
    moderator: bool
    joined_at: float
    # What the browser said when it connected: it can encrypt its media frames end to end.
    e2ee: bool = False
    # The hash of its socket's resume token (`resume`), and since when its socket is gone.
    resume_hash: str = ""
    away_since: float | None = None


# What the counsellor's browser may capture, with everyone's consent (`capture`): a recording
# kept on the counsellor's device, and a live stream to the operator's WHIP endpoint.
REC, LIVE = "rec", "live"
CAPTURE_KINDS = (REC, LIVE)
# A capture waits for everyone's yes, then runs; once anyone says no it is gone.
ASKING, RUNNING = "asking", "running"


@dataclass
class Capture:
    """A recording or live stream the counsellor started: `by` is the participant whose browser
    captures; it runs only while every other admitted participant is in `consents`."""

    kind: str
    by: str
    state: str = ASKING
    consents: set[str] = field(default_factory=set)


@dataclass
class Room:
    room_id: str
    opened_at: float
    participants: dict[str, Participant] = field(default_factory=dict)
    lobby: dict[str, Participant] = field(default_factory=dict)
    banned: set[str] = field(default_factory=set)
    password_hash: bytes | None = None
    lock_version: int = 0
    waiting_room: bool = False
    # The counsellor refuses browsers that cannot encrypt end to end (`e2ee` is False).
    e2ee_required: bool = False
    failed_attempts: int = 0
    empty_since: float | None = None
    mode: str = P2P
    relay: str | None = None
    changes: int = 0
    # sha256 of the moderator code of this room instance (`membership`): only a browser that
    # holds the code is its moderator, so an older session's cookie is not.
    moderator_hash: str | None = None
    # Recording and streaming by kind, and the newcomers held at the door until they have
    # answered the consent question of each capture (they are not admitted yet).
    captures: dict[str, Capture] = field(default_factory=dict)
    consent_gate: dict[str, Participant] = field(default_factory=dict)

    @property
    def locked(self) -> bool:
        return self.password_hash is not None

    def moderators(self) -> list[str]:
        return [p.peer_id for p in self.participants.values() if p.moderator]

    def must_knock(self, newcomer: Participant) -> bool:
        """Knock when the waiting room is on, or a locked room already holds its two people."""
        if newcomer.moderator:
            return False
        return self.waiting_room or (self.locked and len(self.participants) >= 2)


@dataclass(frozen=True)
class LockState:
    """What the views need to know about a room's door: password, bans, moderator code."""

    password_hash: bytes | None
    version: int
    banned: frozenset[str]
    moderator_hash: str | None


def lock_state_of(room: Room) -> LockState:
    """Copy what the views need out of a room (both hubs answer `lock_state` with this)."""
    return LockState(room.password_hash, room.lock_version, frozenset(room.banned),
                     room.moderator_hash)
