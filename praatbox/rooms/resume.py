"""Resuming after a dropped signaling socket: the resume token and the "reconnecting" state.

Plain state, no I/O. Each socket gets a fresh random token; the room keeps only a hash of it,
bound to the browser session that got it (`binding`: the visitor id of its signed cookie), so
the token is worthless from any other browser. A participant whose socket drops without a close
frame stays in the room, marked away, for the grace period: the others see "reconnecting", the
room does not count them twice, their role stays theirs. A resume within the grace period, with
the token of their last socket, gives the same peer id back and spends the token; after it, they
leave as anyone else whose socket closed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from praatbox.rooms.model import Message, Participant, Room, RoomError

# The default of PRAATBOX_RESUME_GRACE_SECONDS: how long a dropped participant may come back.
RESUME_GRACE_SECONDS = 30.0
# The default of PRAATBOX_RESUME_REFUSAL_COST_MESSAGES: a refused resume spends this many
# messages of the sender's signaling budget at once, so a few in a row get its next sockets
# refused (429) until the budget has refilled.
RESUME_REFUSAL_COST_MESSAGES = 100.0
TOKEN_BYTES = 24  # 192 random bits
# A token as the browser sends it: `secrets.token_urlsafe(TOKEN_BYTES)` is 32 characters.
MAX_TOKEN_CHARS = 64
# The reason others are given when a dropped participant did not come back in time.
EXPIRED_REASON = "disconnected"

Outgoing = list[tuple[str, Message]]


class ResumeRefused(RoomError):
    """One answer for every refusal (unknown, spent, expired, another browser's token): a
    guesser learns nothing about which part was wrong."""

    code = "resume-refused"


def new_token() -> str:
    """Draw a resume token for one socket (the browser keeps it in page memory only)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str, binding: str) -> str:
    """What the room stores for a token: bound to the browser session it was given to."""
    return hashlib.sha256(f"{binding}\0{token}".encode()).hexdigest()


def check(room: Room, peer_id: str, presented_hash: str, now: float, grace: float) -> Participant:
    """Return the admitted participant a token hash resumes; raise ResumeRefused otherwise."""
    participant = room.participants.get(peer_id)
    if participant is None or not participant.resume_hash:
        raise ResumeRefused(peer_id)
    if not hmac.compare_digest(participant.resume_hash, presented_hash):
        raise ResumeRefused(peer_id)
    if participant.away_since is not None and now - participant.away_since > grace:
        raise ResumeRefused(peer_id)
    return participant


def resume(room: Room, participant: Participant, fresh_hash: str) -> Outgoing:
    """Give the participant a new socket's token (the old one is spent); tell the others if
    they saw them reconnecting."""
    was_away = participant.away_since is not None
    participant.resume_hash = fresh_hash
    participant.away_since = None
    if not was_away:
        return []
    notice = {"type": "peer-resumed", "peer": participant.peer_id}
    return [(other, notice) for other in room.participants if other != participant.peer_id]


def owned_elsewhere(room: Room, peer_id: str, socket_hash: str) -> bool:
    """Tell whether an admitted participant has resumed on another socket since this one."""
    participant = room.participants.get(peer_id)
    return participant is not None and participant.resume_hash != socket_hash


def mark_away(room: Room, participant: Participant, now: float) -> Outgoing:
    """Their socket dropped: keep them in the room, reconnecting, and tell the others."""
    if participant.away_since is None:
        participant.away_since = now
    notice = {"type": "peer-reconnecting", "peer": participant.peer_id}
    return [(other, notice) for other in room.participants if other != participant.peer_id]


def stale(room: Room, now: float, grace: float) -> list[str]:
    """The participants away for longer than the grace period (they now leave)."""
    return [p.peer_id for p in room.participants.values()
            if p.away_since is not None and now - p.away_since > grace]


def away(room: Room) -> list[str]:
    """The participants reconnecting now (a welcome lists them)."""
    return [p.peer_id for p in room.participants.values() if p.away_since is not None]
