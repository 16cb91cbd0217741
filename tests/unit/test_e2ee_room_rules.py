"""The room rules for end-to-end encryption: key messages reach admitted participants only, and a
counsellor who requires E2EE gets a room without browsers that cannot encrypt."""

import pytest

from praatbox.rooms.model import Close, E2eeRequired, NotInRoom, NotModerator, Send, UnknownPeer
from praatbox.rooms.registry import RoomRegistry

KEY = {"kind": "identity", "key": "MCowBQYDK2VuAyEA"}


def sent_to(decisions, peer):
    return [d.message for d in decisions if isinstance(d, Send) and d.peer == peer]


def closed(decisions):
    return {d.peer: d.reason for d in decisions if isinstance(d, Close)}


def room_of(*people, waiting_room=False, relay=False):
    """A room with the moderator "mod" (who can encrypt) and `people` as (peer, e2ee) pairs."""
    registry = RoomRegistry()
    if relay:
        registry.relay_registered("relay#1", capacity=5)
    registry.open("room", "mod-hash", 0)
    registry.join("room", "mod", "v-mod", True, 1, e2ee=True)
    registry.set_waiting_room("room", "mod", waiting_room)
    for peer, e2ee in people:
        registry.join("room", peer, f"v-{peer}", False, 2, e2ee=e2ee)
    return registry


def test_key_messages_go_to_another_admitted_participant_stamped_with_the_sender():
    registry = room_of(("b", True))
    message = {"type": "e2ee", "to": "b", "data": KEY}
    assert registry.apply("room", "mod", message, 3) == [
        Send("b", {"type": "e2ee", "from": "mod", "data": KEY})]


def test_key_messages_never_reach_the_lobby_the_relay_or_the_sender_itself():
    registry = room_of(("b", True), ("c", True), relay=True)
    assert registry.get("room").mode == "group"
    registry.set_waiting_room("room", "mod", True)
    registry.join("room", "knocker", "v-k", False, 3, e2ee=True)
    for recipient in ("knocker", "relay", "relay#1", "mod", "nobody"):
        with pytest.raises(UnknownPeer):
            registry.route_e2ee("room", "mod", recipient, KEY)


def test_a_knocker_cannot_send_key_messages():
    registry = room_of(("b", True), waiting_room=True)
    assert "b" in registry.get("room").lobby
    with pytest.raises(NotInRoom):
        registry.route_e2ee("room", "b", "mod", KEY)


def test_someone_from_another_room_cannot_reach_this_one():
    registry = room_of(("b", True))
    registry.open("other", "other-hash", 0)
    registry.join("other", "x", "v-x", True, 1, e2ee=True)
    with pytest.raises(NotInRoom):
        registry.route_e2ee("room", "x", "b", KEY)
    with pytest.raises(UnknownPeer):
        registry.route_e2ee("other", "x", "b", KEY)


def test_welcome_and_peer_joined_say_who_cannot_encrypt():
    registry = room_of(("b", False), ("c", True), relay=True)
    decisions = registry.join("room", "d", "v-d", False, 3, e2ee=True)
    (welcome,) = sent_to(decisions, "d")
    assert welcome["e2eeRequired"] is False and welcome["withoutE2ee"] == ["b"]
    assert sent_to(decisions, "b")[0] == {"type": "peer-joined", "peer": "d", "e2ee": True}
    decisions = registry.join("room", "e", "v-e", False, 4)  # no capability stated
    assert sent_to(decisions, "mod")[0] == {"type": "peer-joined", "peer": "e", "e2ee": False}
    (welcome,) = sent_to(decisions, "e")
    assert welcome["withoutE2ee"] == ["b"]  # never the newcomer itself


def test_only_a_counsellor_may_require_e2ee():
    registry = room_of(("b", True))
    with pytest.raises(NotModerator):
        registry.apply("room", "b", {"type": "require-e2ee", "on": True}, 3)
    assert registry.get("room").e2ee_required is False


def test_a_counsellor_whose_browser_cannot_encrypt_cannot_shut_themselves_out():
    registry = RoomRegistry()
    registry.open("room", "mod-hash", 0)
    registry.join("room", "mod", "v-mod", True, 1, e2ee=False)
    with pytest.raises(NotModerator):
        registry.set_require_e2ee("room", "mod", True, 2)
    assert registry.get("room").e2ee_required is False


def test_requiring_e2ee_removes_browsers_that_cannot_encrypt_and_tells_everyone():
    registry = room_of(("b", True), ("c", False), relay=True)
    registry.set_waiting_room("room", "mod", True)
    registry.join("room", "k-old", "v-k1", False, 3, e2ee=False)
    registry.join("room", "k-new", "v-k2", False, 3, e2ee=True)
    decisions = registry.apply("room", "mod", {"type": "require-e2ee", "on": True}, 4)
    room = registry.get("room")
    assert room.e2ee_required is True
    assert list(room.participants) == ["mod", "b"] and list(room.lobby) == ["k-new"]
    assert closed(decisions) == {"c": "e2ee-required", "k-old": "e2ee-required"}
    for gone in ("c", "k-old"):
        assert sent_to(decisions, gone) == [{"type": "e2ee-required"}]
    notice = {"type": "require-e2ee", "on": True}
    left = {"type": "peer-left", "peer": "c", "reason": "e2ee-required"}
    assert sent_to(decisions, "b") == [notice, left]
    assert sent_to(decisions, "mod") == [
        notice, left, {"type": "knock-withdrawn", "peer": "k-old"}]
    # The relay hears of the departure as of any other: the group shrinks as after a hangup.
    assert sent_to(decisions, "relay#1") == [{"type": "peer-left", "room": "room", "peer": "c"}]
    assert registry.pending_return("room") is not None


def test_a_required_room_refuses_browsers_that_cannot_encrypt_before_the_lobby():
    registry = room_of(("b", True), waiting_room=True)
    registry.set_require_e2ee("room", "mod", True, 3)
    for moderator in (False, True):
        with pytest.raises(E2eeRequired) as refused:
            registry.join("room", "x", "v-x", moderator, 4, e2ee=False)
        assert refused.value.code == "e2ee-required"
        with pytest.raises(E2eeRequired):
            registry.join("room", "y", "v-y", moderator, 4)  # nothing stated
    room = registry.get("room")
    assert "x" not in room.lobby and "x" not in room.participants and "y" not in room.lobby
    decisions = registry.join("room", "z", "v-z", False, 5, e2ee=True)
    assert sent_to(decisions, "z") == [{"type": "knocking"}]


def test_switching_the_requirement_off_lets_them_in_again_and_removes_nobody():
    registry = room_of(("b", True))
    registry.set_require_e2ee("room", "mod", True, 3)
    decisions = registry.set_require_e2ee("room", "mod", False, 4)
    assert closed(decisions) == {}
    assert sent_to(decisions, "b") == [{"type": "require-e2ee", "on": False}]
    (welcome,) = sent_to(registry.join("room", "c", "v-c", False, 5, e2ee=False), "c")
    assert welcome["e2eeRequired"] is False and welcome["withoutE2ee"] == []
