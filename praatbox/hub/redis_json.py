"""Rooms and relay entries ⇄ JSON text, for the Redis hub.

JSON rather than pickle: whoever can write to Redis must not be able to run code in web. A room
holds room and peer ids, the visitors' random session ids, the password's scrypt hash, the
moderator code's SHA-256 and the SHA-256 of each socket's resume token; never terms, a password,
a moderator code or a token.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from praatbox.rooms.model import Capture, Participant, Room
from praatbox.rooms.relay_pool import RelayInfo


def dump_room(room: Room) -> str:
    """Serialise a room (dict order kept: the order people joined matters to the welcome)."""
    password = room.password_hash
    return json.dumps({
        "id": room.room_id,
        "opened": room.opened_at,
        "participants": [_dump_participant(p) for p in room.participants.values()],
        "lobby": [_dump_participant(p) for p in room.lobby.values()],
        "banned": sorted(room.banned),
        "password": None if password is None else base64.b64encode(password).decode("ascii"),
        "lockVersion": room.lock_version,
        "waitingRoom": room.waiting_room,
        "e2eeRequired": room.e2ee_required,
        "failedAttempts": room.failed_attempts,
        "emptySince": room.empty_since,
        "mode": room.mode,
        "relay": room.relay,
        "changes": room.changes,
        "moderatorHash": room.moderator_hash,
        "captures": [_dump_capture(c) for c in room.captures.values()],
        "consentGate": [_dump_participant(p) for p in room.consent_gate.values()],
    }, separators=(",", ":"))


def load_room(text: str | bytes) -> Room:
    """Parse what `dump_room` wrote; raises ValueError (or KeyError/TypeError) on anything else."""
    data = json.loads(text)
    password = data["password"]
    return Room(
        room_id=str(data["id"]),
        opened_at=float(data["opened"]),
        participants={p.peer_id: p for p in map(_load_participant, data["participants"])},
        lobby={p.peer_id: p for p in map(_load_participant, data["lobby"])},
        banned={str(visitor) for visitor in data["banned"]},
        password_hash=None if password is None else base64.b64decode(password, validate=True),
        lock_version=int(data["lockVersion"]),
        waiting_room=bool(data["waitingRoom"]),
        # Rooms stored by an earlier version lack it (and their participants `e2ee`): False.
        e2ee_required=bool(data.get("e2eeRequired", False)),
        failed_attempts=int(data["failedAttempts"]),
        empty_since=None if data["emptySince"] is None else float(data["emptySince"]),
        mode=str(data["mode"]),
        relay=None if data["relay"] is None else str(data["relay"]),
        changes=int(data["changes"]),
        moderator_hash=None if data["moderatorHash"] is None else str(data["moderatorHash"]),
        captures={c.kind: c for c in map(_load_capture, data.get("captures", []))},
        consent_gate={p.peer_id: p for p in map(_load_participant, data.get("consentGate", []))},
    )


def dump_relay(info: RelayInfo) -> str:
    return json.dumps({"capacity": info.capacity, "streams": info.streams,
                       "rooms": sorted(info.rooms)}, separators=(",", ":"))


def load_relay(text: str | bytes) -> RelayInfo:
    data = json.loads(text)
    return RelayInfo(int(data["capacity"]), int(data["streams"]),
                     {str(room_id) for room_id in data["rooms"]})


def _dump_participant(participant: Participant) -> dict[str, Any]:
    return {"peer": participant.peer_id, "visitor": participant.visitor,
            "moderator": participant.moderator, "joined": participant.joined_at,
            "e2ee": participant.e2ee, "resume": participant.resume_hash,
            "away": participant.away_since}


def _load_participant(data: dict[str, Any]) -> Participant:
    away = data.get("away")
    return Participant(str(data["peer"]), str(data["visitor"]), bool(data["moderator"]),
                       float(data["joined"]), bool(data.get("e2ee", False)),
                       str(data.get("resume", "")), None if away is None else float(away))


def _dump_capture(capture: Capture) -> dict[str, Any]:
    return {"kind": capture.kind, "by": capture.by, "state": capture.state,
            "consents": sorted(capture.consents)}


def _load_capture(data: dict[str, Any]) -> Capture:
    return Capture(str(data["kind"]), str(data["by"]), str(data["state"]),
                   {str(peer) for peer in data["consents"]})
