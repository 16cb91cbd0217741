"""Recording (REC) and live streaming (LIVE), only with everyone's consent, seen by everyone.

The server never sees media (with group E2EE it cannot), so the counsellor's browser records or
streams; the server keeps the consent rules and tells every page what runs, so that nobody's
indicator depends on the counsellor's page telling the truth. Plain state like `modes`: the
registry calls these rules and carries out what they return.

- The counsellor starts a capture: it is `asking` until every other admitted participant said
  yes, then `running`. One "no", at any time (a withdrawal is a late "no"), ends it for all.
- A newcomer is held at the door (`Room.consent_gate`) while a capture is asked for or runs: they
  enter only once they answered; a "no" ends the capture, and they enter.
- The capturing counsellor leaving ends it at once.
"""

from __future__ import annotations

from praatbox.rooms.model import (
    RUNNING,
    Capture,
    Message,
    Participant,
    Room,
)

Outgoing = list[tuple[str, Message]]

# Why a capture ended, as every page is told (`capture` with state "off").
STOPPED, DECLINED, WITHDRAWN, LEFT = "stopped", "declined", "withdrawn", "left"


def start(room: Room, moderator: str, kind: str) -> Outgoing:
    """The counsellor asks for a capture; nothing changes if one of that kind is on already."""
    if kind in room.captures:
        return []
    capture = Capture(kind, by=moderator)
    room.captures[kind] = capture
    return _settle(room, capture) or _notice(room, capture)


def stop(room: Room, kind: str) -> Outgoing:
    """A counsellor stops a capture (any counsellor: stopping never needs anyone's consent)."""
    return _end(room, kind, STOPPED)


def answer(room: Room, peer_id: str, kind: str, accept: bool) -> Outgoing:
    """A participant (admitted, or held at the door) says yes or no; no to a capture that has
    already ended is nothing (the two crossed)."""
    capture = room.captures.get(kind)
    if capture is None or peer_id == capture.by:
        return []
    if not accept:
        return _end(room, kind, WITHDRAWN if peer_id in capture.consents else DECLINED)
    capture.consents.add(peer_id)
    if peer_id in room.consent_gate:
        return []  # counted when they enter (`after_entry`)
    return _settle(room, capture)


def must_consent(room: Room, newcomer: Participant) -> bool:
    """Tell whether a newcomer has a capture still to answer before they may enter."""
    return any(newcomer.peer_id not in capture.consents and newcomer.peer_id != capture.by
               for capture in room.captures.values())


def gate_question(room: Room) -> Message:
    """What a newcomer held at the door is asked: every capture asked for or running (what,
    and whether it runs: not who is inside, which they learn once they enter)."""
    captures = [{"kind": c.kind, "state": c.state} for c in room.captures.values()]
    return {"type": "consent-needed", "captures": captures}


def after_entry(room: Room) -> Outgoing:
    """Someone entered having said yes: a capture may now have everyone's consent."""
    outgoing: Outgoing = []
    for capture in list(room.captures.values()):
        outgoing += _settle(room, capture)
    return outgoing


def after_departure(room: Room, leaver: str) -> Outgoing:
    """The capturing counsellor left: their captures end. Someone else left: one still asking
    may now have the consent of everyone who stayed."""
    outgoing: Outgoing = []
    for kind, capture in list(room.captures.items()):
        capture.consents.discard(leaver)
        if capture.by == leaver:
            outgoing += _end(room, kind, LEFT)
        else:
            outgoing += _settle(room, capture)
    return outgoing


def ready_at_door(room: Room) -> list[str]:
    """Newcomers at the door who have nothing left to answer (they may enter now)."""
    return [peer_id for peer_id, newcomer in room.consent_gate.items()
            if not must_consent(room, newcomer)]


def describe(room: Room) -> list[Message]:
    """Every capture as pages show it (a welcome carries this list)."""
    return [_describe(capture) for capture in room.captures.values()]


def _settle(room: Room, capture: Capture) -> Outgoing:
    """Start a capture once every admitted participant consents; announce it then."""
    if capture.state == RUNNING:
        return []
    others = [p for p in room.participants if p != capture.by]
    if not all(p in capture.consents for p in others):
        return []
    capture.state = RUNNING
    return _notice(room, capture)


def _end(room: Room, kind: str, reason: str) -> Outgoing:
    capture = room.captures.pop(kind, None)
    if capture is None:
        return []
    notice = {"type": "capture", "kind": kind, "state": "off", "reason": reason}
    outgoing: Outgoing = [(p, notice) for p in room.participants]
    return outgoing + _ask_at_door(room)


def _notice(room: Room, capture: Capture) -> Outgoing:
    """Tell every admitted participant, and re-ask those at the door."""
    notice = {"type": "capture", **_describe(capture)}
    outgoing: Outgoing = [(p, notice) for p in room.participants]
    return outgoing + _ask_at_door(room)


def _ask_at_door(room: Room) -> Outgoing:
    question = gate_question(room)
    return [(peer_id, question) for peer_id, newcomer in room.consent_gate.items()
            if must_consent(room, newcomer)]


def _describe(capture: Capture) -> Message:
    return {"kind": capture.kind, "state": capture.state, "by": capture.by,
            "consented": sorted(capture.consents)}
