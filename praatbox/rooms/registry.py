"""Room membership, moderation and message routing as plain state: no sockets, no Flask.

Time is passed in and every method returns decisions (`Send`, `Close`); the caller does the I/O.
This keeps the rules testable and lets a Redis-backed hub reuse them.
"""

from __future__ import annotations

from typing import Any, Callable

from praatbox.rooms import capture, modes, resume
from praatbox.rooms import e2ee as encryption
from praatbox.rooms.model import (
    Banned,
    Close,
    Decision,
    Message,
    NotInRoom,
    NotModerator,
    Participant,
    Room,
    RoomFull,
    RoomNotOpen,
    Send,
    UnknownPeer,
)
from praatbox.rooms.relay_pool import RelayPool

RECENT_TERMS_SECONDS = 24 * 3600.0
# The signaling protocol's version, sent in `welcome` (docs/signaling.md); raise it when a message
# changes in a way an older page could not follow.
PROTOCOL_VERSION = 1
MAX_RECENTLY_ENDED = 10_000
ROOM_ATTEMPTS_WARNING = 20
# Client messages that may remove participants: a group room may then shrink to two (the hubs
# schedule `settle`).
REMOVING_MESSAGES = frozenset({"kick", "require-e2ee"})


class RoomRegistry:
    """All open rooms of this process, plus fingerprints of recently ended ones."""

    def __init__(
        self,
        max_participants: int = 6,
        empty_grace_seconds: float = 120.0,
        fingerprint: Callable[[str], str] = lambda room_id: room_id,
        resume_grace_seconds: float = resume.RESUME_GRACE_SECONDS,
    ) -> None:
        self.max_participants = max_participants
        self.resume_grace_seconds = resume_grace_seconds
        self.empty_grace_seconds = empty_grace_seconds
        self.fingerprint = fingerprint
        self.rooms: dict[str, Room] = {}
        self.recently_ended: dict[str, float] = {}
        self.relays = RelayPool()

    # -- opening, joining, leaving -------------------------------------------------------------

    def open(self, room_id: str, moderator_hash: str, now: float) -> bool:
        """Open a room whose moderator holds the code with this hash; False if it runs already
        (a running room keeps its moderator: nobody takes it over by opening it again)."""
        if room_id in self.rooms:
            return False
        self.rooms[room_id] = Room(room_id, opened_at=now, empty_since=now,
                                   moderator_hash=moderator_hash)
        return True

    def is_open(self, room_id: str) -> bool:
        return room_id in self.rooms

    def get(self, room_id: str) -> Room | None:
        return self.rooms.get(room_id)

    def recently_used(self, room_id: str, now: float) -> bool:
        """Tell whether a room with these terms ended less than 24 hours ago."""
        ended = self.recently_ended.get(self.fingerprint(room_id))
        return ended is not None and now - ended < RECENT_TERMS_SECONDS

    def join(
        self, room_id: str, peer_id: str, visitor: str, moderator: bool, now: float,
        e2ee: bool = False, resume_hash: str = "",
    ) -> list[Decision]:
        """Admit a connected participant, or put them in the lobby to knock; `e2ee`: its browser
        said it can encrypt media frames end to end; `resume_hash`: its socket's token's."""
        room = self._room(room_id)
        if visitor in room.banned and not moderator:
            raise Banned(room_id)
        encryption.check_entry(room, e2ee)
        if (len(room.participants) + len(room.lobby) + len(room.consent_gate)
                >= self.max_participants):
            raise RoomFull(room_id)
        if room.mode == modes.MESH and len(room.participants) >= modes.MESH_MAX_PARTICIPANTS:
            raise RoomFull(room_id)
        decisions = self._replace_earlier_socket(room_id, room, visitor, now)
        newcomer = Participant(peer_id, visitor, moderator, now, e2ee, resume_hash)
        room.empty_since = None
        if room.must_knock(newcomer):
            room.lobby[peer_id] = newcomer
            knock = {"type": "knock", "peer": peer_id}
            decisions += [Send(m, knock) for m in room.moderators()]
            return decisions + [Send(peer_id, {"type": "knocking"})]
        return decisions + self._enter(room, newcomer)

    def _replace_earlier_socket(
        self, room_id: str, room: Room, visitor: str, now: float
    ) -> list[Decision]:
        """A reload reconnects before the old socket is noticed closing: drop the old one first,
        so the room never counts the same browser twice (no false third person)."""
        earlier = [p.peer_id for p in [*room.participants.values(), *room.lobby.values(),
                                       *room.consent_gate.values()]
                   if p.visitor == visitor]
        decisions: list[Decision] = []
        for peer_id in earlier:
            decisions += self.leave(room_id, peer_id, "replaced", now)
            decisions.append(Close(peer_id, "replaced"))
        return decisions

    def _enter(self, room: Room, newcomer: Participant) -> list[Decision]:
        """Admit a newcomer, unless a recording or stream runs (or is asked for) that they
        have not consented to: then they wait at the door until they answer."""
        if capture.must_consent(room, newcomer):
            room.consent_gate[newcomer.peer_id] = newcomer
            return [Send(newcomer.peer_id, capture.gate_question(room))]
        existing = list(room.participants)
        room.participants[newcomer.peer_id] = newcomer
        joined = {"type": "peer-joined", "peer": newcomer.peer_id, "e2ee": newcomer.e2ee}
        decisions: list[Decision] = [Send(other, joined) for other in existing]
        decisions += _sends(modes.after_arrival(room, self.relays, newcomer.peer_id))
        decisions.append(Send(newcomer.peer_id, _welcome(room, newcomer)))
        return decisions + _sends(capture.after_entry(room))

    def _open_door(self, room: Room) -> list[Decision]:
        """Let in the newcomers at the door who have answered everything they were asked."""
        decisions: list[Decision] = []
        for peer_id in capture.ready_at_door(room):
            decisions += self._enter(room, room.consent_gate.pop(peer_id))
        return decisions

    def leave(self, room_id: str, peer_id: str, reason: str, now: float) -> list[Decision]:
        """Remove a participant (or a knocker) and tell the others why they left."""
        room = self.rooms.get(room_id)
        if room is None:
            return []
        if room.lobby.pop(peer_id, None) is not None:
            notice = {"type": "knock-withdrawn", "peer": peer_id}
            return [Send(m, notice) for m in room.moderators()]
        if room.consent_gate.pop(peer_id, None) is not None:
            return []
        if room.participants.pop(peer_id, None) is None:
            return []
        if not room.participants and not room.lobby:
            room.empty_since = now
        notice = {"type": "peer-left", "peer": peer_id, "reason": reason}
        decisions: list[Decision] = [Send(other, notice) for other in room.participants]
        return decisions + self._after_departure(room, peer_id)

    def _after_departure(self, room: Room, peer_id: str) -> list[Decision]:
        decisions = _sends(modes.after_departure(room, peer_id))
        decisions += _sends(capture.after_departure(room, peer_id))
        return decisions + self._open_door(room)

    def depart(
        self, room_id: str, peer_id: str, socket_hash: str, reason: str, dropped: bool,
        now: float,
    ) -> list[Decision]:
        """A socket ended: its participant leaves, or, `dropped` without a close frame while
        admitted, stays reconnecting for the grace period. Nothing if they already resumed on
        another socket."""
        room = self.rooms.get(room_id)
        if room is None or resume.owned_elsewhere(room, peer_id, socket_hash):
            return []
        participant = room.participants.get(peer_id)
        if participant is None or not dropped or self.resume_grace_seconds <= 0:
            return self.leave(room_id, peer_id, reason, now)
        return _sends(resume.mark_away(room, participant, now))

    def resume(
        self, room_id: str, peer_id: str, presented_hash: str, fresh_hash: str, now: float
    ) -> list[Decision]:
        """Give a dropped participant their place back, on a new socket with a fresh token;
        raises ResumeRefused for a token that is not theirs, spent or expired."""
        decisions = self.expire_away(room_id, now)
        room = self.rooms.get(room_id)
        if room is None:
            raise resume.ResumeRefused(peer_id)
        participant = resume.check(room, peer_id, presented_hash, now, self.resume_grace_seconds)
        decisions += _sends(resume.resume(room, participant, fresh_hash))
        return decisions + [Send(peer_id, {**_welcome(room, participant), "type": "resumed"})]

    def expire_away(self, room_id: str, now: float) -> list[Decision]:
        """Those away past the grace period leave, as if their socket had just closed."""
        room = self.rooms.get(room_id)
        if room is None:
            return []
        decisions: list[Decision] = []
        for peer_id in resume.stale(room, now, self.resume_grace_seconds):
            decisions += self.leave(room_id, peer_id, resume.EXPIRED_REASON, now)
        return decisions

    def apply(self, room_id: str, peer_id: str, message: Message, now: float) -> list[Decision]:
        """Apply a validated client message (a signal or a moderator action) from `peer_id`."""
        kind = message["type"]
        if kind == "signal":
            return self.route_signal(room_id, peer_id, message["to"], message["data"])
        if kind == "admit":
            return self.admit(room_id, peer_id, message["peer"])
        if kind == "deny":
            return self.deny(room_id, peer_id, message["peer"])
        if kind == "kick":
            return self.kick(room_id, peer_id, message["peer"])
        if kind == "end":
            return self.end(room_id, peer_id, now)
        if kind == "waiting-room":
            return self.set_waiting_room(room_id, peer_id, message["on"])
        if kind == "e2ee":
            return self.route_e2ee(room_id, peer_id, message["to"], message["data"])
        if kind == "require-e2ee":
            return self.set_require_e2ee(room_id, peer_id, message["on"], now)
        if kind == "capture":
            return self.set_capture(room_id, peer_id, message["kind"], message["on"])
        if kind == "consent":
            return self.consent(room_id, peer_id, message["kind"], message["accept"])
        if kind == "link":
            return self.link(room_id, peer_id, message["weak"], message["audioOnly"])
        raise ValueError(f"unhandled message type {kind}")

    def route_signal(
        self, room_id: str, sender: str, recipient: str, data: dict[str, Any]
    ) -> list[Decision]:
        """Forward an offer, answer or candidate to one other participant of the same room."""
        room = self._admitted(room_id, sender)
        if recipient == "relay":
            if room.mode != modes.GROUP or room.relay is None:
                raise UnknownPeer(recipient)
            frame = {"type": "signal", "room": room_id, "from": sender, "data": data}
            return [Send(room.relay, frame)]
        _check_other_participant(room, sender, recipient)
        return [Send(recipient, {"type": "signal", "from": sender, "data": data})]

    def route_e2ee(
        self, room_id: str, sender: str, recipient: str, data: dict[str, Any]
    ) -> list[Decision]:
        """Forward a browser's key-agreement data, unread, to another admitted participant
        (never to the lobby or the relay: neither may learn a media key)."""
        room = self._admitted(room_id, sender)
        _check_other_participant(room, sender, recipient)
        return [Send(recipient, {"type": "e2ee", "from": sender, "data": data})]

    def link(self, room_id: str, sender: str, weak: bool, audio_only: bool) -> list[Decision]:
        """Tell the others how the sender's own link does, stamped with who it is."""
        room = self._admitted(room_id, sender)
        notice = {"type": "link", "from": sender, "weak": weak, "audioOnly": audio_only}
        return [Send(other, notice) for other in room.participants if other != sender]

    # -- the counsellor's controls -------------------------------------------------------------

    def admit(self, room_id: str, moderator: str, peer_id: str) -> list[Decision]:
        room = self._moderated(room_id, moderator)
        knocker = room.lobby.pop(peer_id, None)
        if knocker is None:
            raise UnknownPeer(peer_id)
        return self._enter(room, knocker)

    def deny(self, room_id: str, moderator: str, peer_id: str) -> list[Decision]:
        room = self._moderated(room_id, moderator)
        if room.lobby.pop(peer_id, None) is None:
            raise UnknownPeer(peer_id)
        return [Send(peer_id, {"type": "denied"}), Close(peer_id, "denied")]

    def kick(self, room_id: str, moderator: str, peer_id: str) -> list[Decision]:
        """Remove a participant for good. Their browser session cannot come back, and since a
        fresh browser session costs nothing, the waiting room goes on: everyone new knocks."""
        room = self._moderated(room_id, moderator)
        target = (room.participants.get(peer_id) or room.lobby.get(peer_id)
                  or room.consent_gate.get(peer_id))
        if target is None or peer_id == moderator:
            raise UnknownPeer(peer_id)
        room.banned.add(target.visitor)
        room.lobby.pop(peer_id, None)
        room.consent_gate.pop(peer_id, None)
        notice = {"type": "peer-left", "peer": peer_id, "reason": "kicked"}
        decisions: list[Decision] = [Send(other, notice) for other in room.participants
                                     if other != peer_id]
        if not room.waiting_room:
            decisions += self.set_waiting_room(room_id, moderator, True)
        if room.participants.pop(peer_id, None) is not None:
            decisions += self._after_departure(room, peer_id)
        return decisions + [Send(peer_id, {"type": "kicked"}), Close(peer_id, "kicked")]

    def end(self, room_id: str, moderator: str, now: float) -> list[Decision]:
        """End the session for everyone and forget the room and its password."""
        room = self._moderated(room_id, moderator)
        everyone = list(room.participants) + list(room.lobby) + list(room.consent_gate)
        del self.rooms[room_id]
        self._remember_ended(room_id, now)
        notices: list[Decision] = [Send(p, {"type": "ended"}) for p in everyone]
        notices += _sends(modes.release(room, self.relays))
        return notices + [Close(p, "ended") for p in everyone]

    def set_password(self, room_id: str, password_hash: bytes) -> list[Decision]:
        """Lock (or re-lock) the room; everyone inside is told."""
        room = self._room(room_id)
        room.password_hash = password_hash
        room.lock_version += 1
        notice = {"type": "locked", "locked": True}
        return [Send(p, notice) for p in room.participants]

    def set_waiting_room(self, room_id: str, moderator: str, on: bool) -> list[Decision]:
        room = self._moderated(room_id, moderator)
        room.waiting_room = on
        notice = {"type": "waiting-room", "on": on}
        return [Send(m, notice) for m in room.moderators()]

    def set_require_e2ee(
        self, room_id: str, moderator: str, on: bool, now: float
    ) -> list[Decision]:
        """Require end-to-end encryption (or stop); browsers that cannot encrypt must leave."""
        room = self._moderated(room_id, moderator)
        removed, decisions = encryption.require(room, moderator, on)
        for peer_id in removed:
            decisions += self.leave(room_id, peer_id, encryption.REMOVED_REASON, now)
        return decisions

    def set_capture(self, room_id: str, moderator: str, kind: str, on: bool) -> list[Decision]:
        """A counsellor asks everyone's consent to record or stream (on), or stops (off)."""
        room = self._moderated(room_id, moderator)
        if on:
            return _sends(capture.start(room, moderator, kind))
        return _sends(capture.stop(room, kind)) + self._open_door(room)

    def consent(self, room_id: str, peer_id: str, kind: str, accept: bool) -> list[Decision]:
        """Someone inside, or at the door, says yes or no to a recording or stream."""
        room = self._room(room_id)
        if peer_id not in room.consent_gate:
            self._admitted(room_id, peer_id)
        return _sends(capture.answer(room, peer_id, kind, accept)) + self._open_door(room)

    def record_failed_attempt(self, room_id: str, locked_out: bool = False) -> list[Decision]:
        """Count a wrong password; warn the moderators once the count gets suspicious, and at
        once when the wrong passwords locked the room for newcomers (they can reopen it)."""
        room = self._room(room_id)
        room.failed_attempts += 1
        if room.failed_attempts % ROOM_ATTEMPTS_WARNING and not locked_out:
            return []
        notice = {"type": "attempts-warning", "count": room.failed_attempts,
                  "lockedOut": locked_out}
        return [Send(m, notice) for m in room.moderators()]

    # -- group mode and the media relays (rules in `modes`) ------------------------------------

    def pending_return(self, room_id: str) -> int | None:
        """What to pass to `settle` after the delay, if a group room shrank to two."""
        room = self.rooms.get(room_id)
        return None if room is None else modes.pending_return(room)

    def settle(self, room_id: str, changes: int) -> list[Decision]:
        """Switch a shrunk group room back to p2p, unless anyone came or went meanwhile."""
        room = self.rooms.get(room_id)
        return [] if room is None else _sends(modes.settle(room, self.relays, changes))

    def relay_registered(self, relay_id: str, capacity: int) -> list[Decision]:
        self.relays.register(relay_id, capacity)
        return self.move_mesh_rooms_to_relays()

    def move_mesh_rooms_to_relays(self) -> list[Decision]:
        """Move rooms that fell back to a mesh onto a relay, now that one has room."""
        return _sends(modes.relay_registered(self.rooms.values(), self.relays))

    def relay_load(self, relay_id: str, streams: int) -> None:
        self.relays.report_load(relay_id, streams)

    def relay_gone(self, relay_id: str) -> list[Decision]:
        return _sends(modes.relay_gone(self.rooms.values(), self.relays, relay_id))

    def rehome(self, room_id: str, relay_id: str) -> list[Decision]:
        """Move a room off a relay the pool has already forgotten (another process saw it go)."""
        room = self.rooms.get(room_id)
        if room is None or room.relay != relay_id:
            return []
        return _sends(modes.rehome(room, self.relays))

    def route_relay_signal(
        self, relay_id: str, room_id: str, recipient: str, data: dict[str, Any]
    ) -> list[Decision]:
        """Forward the relay's offer, candidate or error to one browser of a room it serves."""
        room = self._room(room_id)
        if room.relay != relay_id or not self.relays.serves(relay_id, room_id):
            raise NotInRoom(room_id)
        if recipient not in room.participants:
            raise UnknownPeer(recipient)
        return [Send(recipient, {"type": "signal", "from": "relay", "data": data})]

    # -- housekeeping --------------------------------------------------------------------------

    def sweep(self, now: float) -> list[str]:
        """Forget rooms that stayed empty past the grace period, and old fingerprints."""
        expired = [
            room_id
            for room_id, room in self.rooms.items()
            if room.empty_since is not None and now - room.empty_since > self.empty_grace_seconds
        ]
        for room_id in expired:
            del self.rooms[room_id]
            self._remember_ended(room_id, now)
        self.recently_ended = {
            key: ended for key, ended in self.recently_ended.items()
            if now - ended < RECENT_TERMS_SECONDS
        }
        return expired

    def _remember_ended(self, room_id: str, now: float) -> None:
        """Keep the fingerprint for the reuse warning; past the cap the oldest one goes (a
        warning is a courtesy: memory must stay bounded whatever visitors open)."""
        fingerprint = self.fingerprint(room_id)
        self.recently_ended.pop(fingerprint, None)
        self.recently_ended[fingerprint] = now
        while len(self.recently_ended) > MAX_RECENTLY_ENDED:
            del self.recently_ended[next(iter(self.recently_ended))]

    def counts(self) -> tuple[int, int]:
        """Return (open rooms, connected participants) for health and metrics."""
        return len(self.rooms), sum(len(r.participants) for r in self.rooms.values())

    def _room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise RoomNotOpen(room_id)
        return room

    def _admitted(self, room_id: str, peer_id: str) -> Room:
        """The room, if `peer_id` is admitted to it (not knocking, not elsewhere)."""
        room = self._room(room_id)
        if peer_id not in room.participants:
            raise NotInRoom(room_id)
        return room

    def _moderated(self, room_id: str, peer_id: str) -> Room:
        room = self._room(room_id)
        actor = room.participants.get(peer_id)
        if actor is None or not actor.moderator:
            raise NotModerator(room_id)
        return room


def _welcome(room: Room, participant: Participant) -> Message:
    """What a participant is told on entering (and, as `resumed`, on resuming)."""
    return {
        "type": "welcome",
        "version": PROTOCOL_VERSION,
        "self": participant.peer_id,
        "moderator": participant.moderator,
        "peers": [p for p in room.participants if p != participant.peer_id],
        "reconnecting": [p for p in resume.away(room) if p != participant.peer_id],
        "mode": room.mode,
        "locked": room.locked,
        "waitingRoom": room.waiting_room,
        "knocking": list(room.lobby) if participant.moderator else [],
        **encryption.welcome_fields(room, participant),
        "captures": capture.describe(room),
    }


def _check_other_participant(room: Room, sender: str, recipient: str) -> None:
    if recipient == sender or recipient not in room.participants:
        raise UnknownPeer(recipient)


def _sends(outgoing: modes.Outgoing) -> list[Decision]:
    return [Send(recipient, message) for recipient, message in outgoing]
