"""Who may take part when the counsellor requires end-to-end encryption, and who learns what.

Each browser says when it connects whether it can encrypt its media frames end to end
(`Participant.e2ee`); the server cannot check this and never holds a media key. Plain state like
`modes`: the registry calls these rules and carries out their decisions.
"""

from __future__ import annotations

from praatbox.rooms.model import (
    Close,
    Decision,
    E2eeRequired,
    Message,
    NotModerator,
    Participant,
    Room,
    Send,
)

REMOVED_REASON = "e2ee-required"


def check_entry(room: Room, e2ee: bool) -> None:
    """Refuse a browser that cannot encrypt, before the lobby, when the room requires it."""
    if room.e2ee_required and not e2ee:
        raise E2eeRequired(room.room_id)


def welcome_fields(room: Room, newcomer: Participant) -> Message:
    """What a newcomer's `welcome` says: whether E2EE is required, and which admitted
    participants' browsers cannot encrypt (the session is then not end-to-end encrypted)."""
    return {
        "e2eeRequired": room.e2ee_required,
        "withoutE2ee": [p.peer_id for p in room.participants.values()
                        if not p.e2ee and p.peer_id != newcomer.peer_id],
    }


def require(room: Room, moderator: str, on: bool) -> tuple[list[str], list[Decision]]:
    """Switch the requirement; return who must leave (in the room and in the lobby: every
    browser that cannot encrypt, when switched on) and the notices sent before they leave.

    A counsellor whose own browser cannot encrypt may not switch it on: it would shut them out
    of their own room.
    """
    if on and not room.participants[moderator].e2ee:
        raise NotModerator(room.room_id)
    room.e2ee_required = on
    removed = [p.peer_id for p in [*room.participants.values(), *room.lobby.values()]
               if on and not p.e2ee]
    notice = {"type": "require-e2ee", "on": on}
    decisions: list[Decision] = [Send(p, notice) for p in room.participants if p not in removed]
    for peer_id in removed:
        decisions += [Send(peer_id, {"type": "e2ee-required"}), Close(peer_id, "e2ee-required")]
    return removed, decisions
