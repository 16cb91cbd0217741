"""Group mode rules as plain state: relay pinning, the delayed return to p2p, relay loss."""

import pytest

from praatbox.rooms.model import RoomError, Send
from praatbox.rooms.registry import RoomRegistry


def registry_with(*peers):
    registry = RoomRegistry()
    registry.open("room", "mod-hash", 0)
    for i, peer in enumerate(peers):
        registry.join("room", peer, f"v-{peer}", i == 0, 1)
    return registry


def to(decisions, recipient):
    return [d.message for d in decisions if isinstance(d, Send) and d.peer == recipient]


def test_rooms_are_pinned_to_the_least_loaded_relay_with_capacity():
    registry = RoomRegistry()
    registry.relay_registered("relay#1", capacity=1)
    registry.relay_registered("relay#2", capacity=5)
    registry.relay_load("relay#2", streams=9)
    assert registry.relays.pin("a") == "relay#1"  # fewer streams wins a tie on rooms
    assert registry.relays.pin("b") == "relay#2"  # relay#1 is full
    registry.relays.unpin("relay#2", "b")
    assert not registry.relays.serves("relay#2", "b")


def test_group_room_returns_to_p2p_only_if_nobody_came_back():
    registry = RoomRegistry()
    registry.relay_registered("relay#1", capacity=5)
    registry.open("room", "mod-hash", 0)
    for i, peer in enumerate(["a", "b", "c"]):
        decisions = registry.join("room", peer, f"v-{peer}", i == 0, 1)
    opened = {"type": "room-open", "room": "room", "peers": ["a", "b", "c"]}
    assert to(decisions, "relay#1") == [opened]
    assert to(decisions, "a") == [
        {"type": "peer-joined", "peer": "c", "e2ee": False}, {"type": "mode", "mode": "group"}]
    assert to(decisions, "c")[0]["mode"] == "group"

    registry.leave("room", "c", "disconnected", 2)
    stale = registry.pending_return("room")
    registry.join("room", "c2", "v-c", False, 3)  # a reload
    assert registry.pending_return("room") is None
    assert registry.settle("room", stale) == []

    decisions = registry.leave("room", "c2", "hangup", 4)
    assert to(decisions, "relay#1") == [{"type": "peer-left", "room": "room", "peer": "c2"}]
    decisions = registry.settle("room", registry.pending_return("room"))
    assert to(decisions, "relay#1") == [{"type": "room-close", "room": "room"}]
    assert to(decisions, "a") == [{"type": "mode", "mode": "p2p"}]
    assert registry.get("room").relay is None


def test_a_lost_relay_hands_its_rooms_to_another_or_to_a_mesh():
    registry = RoomRegistry()
    registry.relay_registered("relay#1", capacity=5)
    registry.open("room", "mod-hash", 0)
    for i, peer in enumerate(["a", "b", "c"]):
        registry.join("room", peer, f"v-{peer}", i == 0, 1)
    registry.relay_registered("relay#2", capacity=5)
    decisions = registry.relay_gone("relay#1")
    assert to(decisions, "relay#2")[0]["type"] == "room-open"
    assert to(decisions, "a") == [{"type": "mode", "mode": "group"}]
    decisions = registry.relay_gone("relay#2")
    assert to(decisions, "a") == [{"type": "mode", "mode": "mesh"}]
    # Back to two, a mesh is plain p2p at once.
    assert to(registry.leave("room", "c", "hangup", 2), "a")[-1] == {"type": "mode", "mode": "p2p"}


def test_only_the_pinned_relay_reaches_a_rooms_browsers():
    registry = registry_with("a", "b")
    registry.relay_registered("relay#1", capacity=5)
    registry.relay_registered("relay#2", capacity=5)
    registry.join("room", "c", "v-c", False, 1)
    pinned = registry.get("room").relay
    other = "relay#2" if pinned == "relay#1" else "relay#1"
    data = {"candidate": None}
    assert to(registry.route_relay_signal(pinned, "room", "a", data), "a") == [
        {"type": "signal", "from": "relay", "data": data}]
    for relay, peer in ((other, "a"), (pinned, "nobody")):
        with pytest.raises(RoomError):
            registry.route_relay_signal(relay, "room", peer, data)
    assert to(registry.route_signal("room", "a", "relay", data), pinned) == [
        {"type": "signal", "room": "room", "from": "a", "data": data}]
