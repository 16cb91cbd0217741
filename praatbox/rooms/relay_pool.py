"""The media relays registered with this web process, and which group room is pinned to which.

Plain state, like `rooms`: no sockets. A relay is addressed by an id the hub gives its
connection (`relay#<n>`: `#` never occurs in a browser's peer id), so `Send` decisions reach
relays and browsers alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RELAY_ID_PREFIX = "relay#"


@dataclass
class RelayInfo:
    """What a relay announced about itself, and the rooms this process pinned to it."""

    capacity: int
    streams: int = 0
    rooms: set[str] = field(default_factory=set)

    def has_room(self) -> bool:
        return len(self.rooms) < self.capacity


class RelayPool:
    """Registered relays; each new group room goes to the least loaded one with room to spare."""

    def __init__(self) -> None:
        self.relays: dict[str, RelayInfo] = {}

    def register(self, relay_id: str, capacity: int) -> None:
        self.relays[relay_id] = RelayInfo(capacity)

    def unregister(self, relay_id: str) -> set[str]:
        """Forget a relay; return the rooms that were pinned to it."""
        info = self.relays.pop(relay_id, None)
        return info.rooms if info else set()

    def report_load(self, relay_id: str, streams: int) -> None:
        info = self.relays.get(relay_id)
        if info is not None:
            info.streams = streams

    def pin(self, room_id: str) -> str | None:
        """Pin a room to the least loaded relay (pinned rooms, then streams); None if none fits."""
        candidates = [
            (len(info.rooms), info.streams, relay_id)
            for relay_id, info in self.relays.items()
            if info.has_room()
        ]
        if not candidates:
            return None
        relay_id = min(candidates)[2]
        self.relays[relay_id].rooms.add(room_id)
        return relay_id

    def unpin(self, relay_id: str | None, room_id: str) -> None:
        info = self.relays.get(relay_id or "")
        if info is not None:
            info.rooms.discard(room_id)

    def serves(self, relay_id: str, room_id: str) -> bool:
        info = self.relays.get(relay_id)
        return info is not None and room_id in info.rooms
