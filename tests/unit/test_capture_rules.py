"""The consent rules of recording and streaming: only the counsellor asks, it runs only once
everyone said yes, anyone's no (now or later, inside or at the door) ends it for everyone, and a
newcomer enters only after answering."""

import pytest

from praatbox.hub.redis_json import dump_room, load_room
from praatbox.rooms.model import NotInRoom, NotModerator, Send
from praatbox.rooms.registry import RoomRegistry


def sent_to(decisions, peer):
    return [d.message for d in decisions if isinstance(d, Send) and d.peer == peer]


def captures_told(decisions, peer):
    return [(m["kind"], m["state"]) for m in sent_to(decisions, peer) if m["type"] == "capture"]


def room_with(*clients):
    registry = RoomRegistry()
    registry.open("room", "mod-hash", 0)
    registry.join("room", "mod", "v-mod", True, 1)
    for peer in clients:
        registry.join("room", peer, f"v-{peer}", False, 2)
    return registry


def ask(registry, kind="rec"):
    return registry.apply("room", "mod", {"type": "capture", "kind": kind, "on": True}, 3)


def answer(registry, peer, accept, kind="rec"):
    return registry.apply("room", peer, {"type": "consent", "kind": kind, "accept": accept}, 4)


def test_a_recording_asked_for_runs_only_after_the_last_yes():
    registry = room_with("a", "b")
    asked = ask(registry)
    assert captures_told(asked, "a") == captures_told(asked, "b") == [("rec", "asking")]
    assert captures_told(answer(registry, "a", True), "mod") == []
    started = answer(registry, "b", True)
    for peer in ("mod", "a", "b"):
        assert captures_told(started, peer) == [("rec", "running")]
    assert registry.get("room").captures["rec"].state == "running"


def test_one_no_ends_it_for_everyone_and_a_later_no_is_a_withdrawal():
    registry = room_with("a", "b")
    ask(registry)
    declined = answer(registry, "a", False)
    assert [m["reason"] for m in sent_to(declined, "b") if m["type"] == "capture"] == ["declined"]
    assert registry.get("room").captures == {}

    ask(registry)
    answer(registry, "a", True)
    answer(registry, "b", True)
    withdrawn = answer(registry, "b", False)
    for peer in ("mod", "a", "b"):
        assert [(m["state"], m["reason"]) for m in sent_to(withdrawn, peer)] == [
            ("off", "withdrawn")]


def test_only_the_counsellor_starts_or_stops():
    registry = room_with("a")
    with pytest.raises(NotModerator):
        registry.apply("room", "a", {"type": "capture", "kind": "rec", "on": True}, 3)
    ask(registry)
    answer(registry, "a", True)
    with pytest.raises(NotModerator):
        registry.apply("room", "a", {"type": "capture", "kind": "rec", "on": False}, 3)
    assert registry.get("room").captures["rec"].state == "running"
    stopped = registry.apply("room", "mod", {"type": "capture", "kind": "rec", "on": False}, 5)
    assert [m["reason"] for m in sent_to(stopped, "a")] == ["stopped"]


def test_a_knocker_cannot_answer_for_the_room():
    registry = room_with("a")
    registry.set_waiting_room("room", "mod", True)
    registry.join("room", "k", "v-k", False, 3)
    ask(registry)
    with pytest.raises(NotInRoom):
        answer(registry, "k", True)


def test_a_newcomer_waits_at_the_door_and_enters_after_a_yes():
    registry = room_with("a")
    ask(registry)
    answer(registry, "a", True)
    door = registry.join("room", "n", "v-n", False, 5)
    assert sent_to(door, "n") == [{"type": "consent-needed",
                                   "captures": [{"kind": "rec", "state": "running"}]}]
    assert sent_to(door, "mod") == sent_to(door, "a") == []  # nobody sees them yet
    assert "n" not in registry.get("room").participants
    with pytest.raises(NotInRoom):  # no signals before answering
        registry.apply("room", "n", {"type": "signal", "to": "mod", "data": {}}, 6)

    entered = answer(registry, "n", True)
    welcome = sent_to(entered, "n")[0]
    assert welcome["type"] == "welcome"
    assert welcome["captures"][0]["state"] == "running"
    assert "n" in welcome["captures"][0]["consented"]
    assert "peer-joined" in [m["type"] for m in sent_to(entered, "a")]
    assert registry.get("room").captures["rec"].state == "running"


def test_a_newcomer_who_says_no_ends_it_and_enters():
    registry = room_with("a")
    ask(registry)
    answer(registry, "a", True)
    registry.join("room", "n", "v-n", False, 5)
    said_no = answer(registry, "n", False)
    assert [m["reason"] for m in sent_to(said_no, "a") if m["type"] == "capture"] == ["declined"]
    assert [m["type"] for m in sent_to(said_no, "n")] == ["welcome"]
    assert registry.get("room").captures == {}


def test_the_door_counts_towards_the_room_size_and_a_newcomer_leaving_it_is_forgotten():
    registry = RoomRegistry(max_participants=3)
    registry.open("room", "h", 0)
    registry.join("room", "mod", "v-mod", True, 1)
    registry.join("room", "a", "v-a", False, 1)
    ask(registry)
    answer(registry, "a", True)
    registry.join("room", "n", "v-n", False, 2)
    with pytest.raises(Exception, match="room"):
        registry.join("room", "m", "v-m", False, 2)
    assert registry.leave("room", "n", "hangup", 3) == []
    assert registry.get("room").consent_gate == {}


def test_the_capturing_counsellor_leaving_ends_it():
    registry = room_with("a")
    ask(registry)
    answer(registry, "a", True)
    left = registry.leave("room", "mod", "hangup", 5)
    assert [(m["state"], m["reason"]) for m in sent_to(left, "a") if m["type"] == "capture"] == [
        ("off", "left")]


def test_someone_leaving_without_answering_lets_it_start_for_those_who_agreed():
    registry = room_with("a", "b")
    ask(registry)
    answer(registry, "a", True)
    left = registry.leave("room", "b", "hangup", 5)
    assert captures_told(left, "a") == [("rec", "running")]


def test_recording_and_streaming_are_asked_apart():
    registry = room_with("a")
    ask(registry, "rec")
    ask(registry, "live")
    answer(registry, "a", True, "live")
    room = registry.get("room")
    assert (room.captures["rec"].state, room.captures["live"].state) == ("asking", "running")
    assert captures_told(answer(registry, "a", False, "rec"), "a") == [("rec", "off")]
    assert room.captures["live"].state == "running"


def test_captures_and_the_door_survive_the_redis_round_trip():
    registry = room_with("a")
    ask(registry)
    answer(registry, "a", True)
    registry.join("room", "n", "v-n", False, 5)
    room = registry.get("room")
    again = load_room(dump_room(room))
    assert again.captures == room.captures
    assert again.consent_gate == room.consent_gate
