"""When a room switches between peer-to-peer, the media relay (`group`) and the relay-less mesh.

Plain state like `rooms`: each function takes a room and the relay pool and returns the
messages to send as (recipient, message) pairs; recipients are peer ids or relay ids.
Rules: from the third admitted participant on, the room goes to a relay (`group`); with no
relay to spare it falls back to a full mesh of direct connections (`mesh`, at most four
people). Back to two, a mesh is plain `p2p` at once; a group room waits a short delay first
(the caller schedules `settle`), so a reload does not bounce everyone off the relay and back.
"""

from __future__ import annotations

from collections.abc import Iterable

# The modes themselves live in `model`; re-exported so that callers can say `modes.GROUP`.
from praatbox.rooms.model import GROUP as GROUP
from praatbox.rooms.model import MESH as MESH
from praatbox.rooms.model import P2P as P2P
from praatbox.rooms.model import Message, Room
from praatbox.rooms.relay_pool import RelayPool

Outgoing = list[tuple[str, Message]]
GROUP_FROM_PARTICIPANTS = 3
MESH_MAX_PARTICIPANTS = 4


def after_arrival(room: Room, pool: RelayPool, newcomer: str) -> Outgoing:
    """React to an admitted newcomer (already in `room.participants`, told by its welcome)."""
    room.changes += 1
    if room.mode == GROUP and room.relay is not None:
        return [(room.relay, {"type": "peer-joined", "room": room.room_id, "peer": newcomer})]
    if len(room.participants) < GROUP_FROM_PARTICIPANTS:
        return []
    return _to_relay_or_mesh(room, pool, skip=newcomer)


def after_departure(room: Room, leaver: str) -> Outgoing:
    """React to a participant gone from `room.participants` (hangup, lost, kicked)."""
    room.changes += 1
    if room.mode == GROUP and room.relay is not None:
        return [(room.relay, {"type": "peer-left", "room": room.room_id, "peer": leaver})]
    if room.mode == MESH and len(room.participants) < GROUP_FROM_PARTICIPANTS:
        return _announce(room, P2P)
    return []


def pending_return(room: Room) -> int | None:
    """The change count `settle` needs, when a group room has shrunk to two or fewer."""
    if room.mode == GROUP and len(room.participants) < GROUP_FROM_PARTICIPANTS:
        return room.changes
    return None


def settle(room: Room, pool: RelayPool, changes: int) -> Outgoing:
    """Go back to p2p, unless anyone came or went since the delay started."""
    if pending_return(room) != changes:
        return []
    return release(room, pool) + _announce(room, P2P)


def release(room: Room, pool: RelayPool) -> Outgoing:
    """Let go of the room's relay (back to p2p, or the room ended)."""
    relay, room.relay = room.relay, None
    if relay is None:
        return []
    pool.unpin(relay, room.room_id)
    return [(relay, {"type": "room-close", "room": room.room_id})]


def relay_registered(rooms: Iterable[Room], pool: RelayPool) -> Outgoing:
    """Move rooms that fell back to a mesh onto the relay that just arrived."""
    outgoing: Outgoing = []
    for room in rooms:
        if room.mode == MESH and len(room.participants) >= GROUP_FROM_PARTICIPANTS:
            outgoing += _to_relay_or_mesh(room, pool)
    return outgoing


def relay_gone(rooms: Iterable[Room], pool: RelayPool, relay_id: str) -> Outgoing:
    """Re-home the rooms of a relay that went away: another relay, a mesh, or plain p2p."""
    pinned = pool.unregister(relay_id)
    outgoing: Outgoing = []
    for room in rooms:
        if room.room_id in pinned and room.relay == relay_id:
            outgoing += rehome(room, pool)
    return outgoing


def rehome(room: Room, pool: RelayPool) -> Outgoing:
    """Move one room off its relay, which went away (and left the pool already)."""
    room.relay = None
    if len(room.participants) >= GROUP_FROM_PARTICIPANTS:
        return _to_relay_or_mesh(room, pool)
    return _announce(room, P2P)


def _to_relay_or_mesh(room: Room, pool: RelayPool, skip: str | None = None) -> Outgoing:
    relay = pool.pin(room.room_id)
    if relay is None:
        return [] if room.mode == MESH else _announce(room, MESH, skip)
    room.relay = relay
    # Browsers rebuild their relay connection on every `group` announcement (also a re-home).
    opened = {"type": "room-open", "room": room.room_id, "peers": list(room.participants)}
    return _announce(room, GROUP, skip) + [(relay, opened)]


def _announce(room: Room, mode: str, skip: str | None = None) -> Outgoing:
    room.mode = mode
    return [(peer, {"type": "mode", "mode": mode}) for peer in room.participants if peer != skip]
