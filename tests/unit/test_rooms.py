import pytest

from praatbox.rooms.model import (
    Banned,
    Close,
    NotModerator,
    RoomFull,
    RoomNotOpen,
    Send,
    UnknownPeer,
)
from praatbox.rooms.registry import RoomRegistry


def opened(**kwargs):
    registry = RoomRegistry(**kwargs)
    registry.open("room", "mod-hash", now=0)
    return registry


def with_two(**kwargs):
    registry = opened(**kwargs)
    registry.join("room", "mod", "v-mod", moderator=True, now=1)
    registry.join("room", "b", "v-b", moderator=False, now=2)
    return registry


def sent_to(decisions, peer):
    return [d.message for d in decisions if isinstance(d, Send) and d.peer == peer]


def test_nobody_can_join_a_room_that_was_not_started():
    with pytest.raises(RoomNotOpen):
        RoomRegistry().join("room", "a", "v", moderator=False, now=0)


def test_newcomer_is_welcomed_with_the_others_and_they_are_told():
    registry = opened()
    (welcome,) = sent_to(registry.join("room", "a", "va", True, 1), "a")
    assert welcome["type"] == "welcome" and welcome["peers"] == [] and welcome["moderator"]
    decisions = registry.join("room", "b", "vb", False, 2)
    assert sent_to(decisions, "a") == [{"type": "peer-joined", "peer": "b", "e2ee": False}]
    (welcome,) = sent_to(decisions, "b")
    assert welcome["peers"] == ["a"] and welcome["moderator"] is False
    assert welcome["locked"] is False and welcome["mode"] == "p2p"


def test_third_participant_of_an_open_room_sees_both_others():
    registry = with_two()
    (welcome,) = sent_to(registry.join("room", "c", "vc", False, 3), "c")
    assert welcome["peers"] == ["mod", "b"]


def test_room_has_a_participant_limit():
    registry = with_two(max_participants=2)
    with pytest.raises(RoomFull):
        registry.join("room", "c", "vc", False, 3)


def test_leaving_tells_the_others_why():
    registry = with_two()
    assert registry.leave("room", "b", "hangup", 3) == [
        Send("mod", {"type": "peer-left", "peer": "b", "reason": "hangup"})]
    assert registry.leave("room", "b", "hangup", 3) == []


def test_signal_is_stamped_with_the_sender_and_stays_in_the_room():
    registry = with_two()
    registry.open("other", "mod-hash", 0)
    registry.join("other", "x", "vx", True, 2)
    assert registry.route_signal("room", "mod", "b", {"candidate": None}) == [
        Send("b", {"type": "signal", "from": "mod", "data": {"candidate": None}})]
    with pytest.raises(UnknownPeer):
        registry.route_signal("room", "mod", "x", {"candidate": None})
    with pytest.raises(UnknownPeer):
        registry.route_signal("room", "mod", "mod", {"candidate": None})


def test_third_person_knocks_on_a_locked_room_and_the_moderator_admits():
    registry = with_two()
    registry.set_password("room", b"hash")
    decisions = registry.join("room", "c", "vc", False, 3)
    assert sent_to(decisions, "mod") == [{"type": "knock", "peer": "c"}]
    assert sent_to(decisions, "c") == [{"type": "knocking"}]
    assert sent_to(decisions, "b") == []
    with pytest.raises(NotModerator):
        registry.admit("room", "b", "c")
    decisions = registry.admit("room", "mod", "c")
    # No relay is registered here: the third person turns the room into a mesh.
    assert sent_to(decisions, "b") == [
        {"type": "peer-joined", "peer": "c", "e2ee": False}, {"type": "mode", "mode": "mesh"}
    ]
    assert sent_to(decisions, "c")[0]["peers"] == ["mod", "b"]


def test_denied_knocker_is_told_and_disconnected():
    registry = opened()
    registry.join("room", "mod", "v-mod", True, 1)
    registry.set_waiting_room("room", "mod", True)
    registry.join("room", "c", "vc", False, 2)
    decisions = registry.deny("room", "mod", "c")
    assert decisions == [Send("c", {"type": "denied"}), Close("c", "denied")]
    assert registry.get("room").lobby == {}


def test_kicked_visitor_is_disconnected_and_cannot_come_back():
    registry = with_two()
    decisions = registry.kick("room", "mod", "b")
    assert sent_to(decisions, "mod") == [{"type": "peer-left", "peer": "b", "reason": "kicked"},
                                         {"type": "waiting-room", "on": True}]
    assert Close("b", "kicked") in decisions
    with pytest.raises(Banned):
        registry.join("room", "b2", "v-b", False, 5)
    with pytest.raises(NotModerator):
        registry.kick("room", "b", "mod")


def test_after_a_kick_everyone_new_knocks_until_the_moderator_admits():
    registry = with_two()
    registry.kick("room", "mod", "b")
    assert registry.get("room").waiting_room
    decisions = registry.join("room", "c", "v-fresh-cookie", False, 5)
    assert sent_to(decisions, "c") == [{"type": "knocking"}]
    assert sent_to(decisions, "mod") == [{"type": "knock", "peer": "c"}]
    (welcome,) = sent_to(registry.admit("room", "mod", "c"), "c")
    assert welcome["type"] == "welcome" and welcome["peers"] == ["mod"]
    # The moderator's own reload does not knock; a second kick announces nothing new.
    assert sent_to(registry.join("room", "mod2", "v-mod", True, 6), "mod2")[0]["type"] == "welcome"
    assert {"type": "waiting-room", "on": True} not in sent_to(
        registry.kick("room", "mod2", "c"), "mod2")


def test_opening_a_running_room_again_changes_nothing():
    registry = with_two()
    assert registry.open("room", "another-hash", 5) is False
    room = registry.get("room")
    assert room.moderator_hash == "mod-hash" and len(room.participants) == 2


def test_only_the_moderator_can_end_and_the_room_is_forgotten():
    registry = with_two()
    registry.set_password("room", b"hash")
    with pytest.raises(NotModerator):
        registry.end("room", "b", 5)
    decisions = registry.end("room", "mod", 5)
    assert sent_to(decisions, "b") == [{"type": "ended"}]
    assert not registry.is_open("room")
    assert registry.recently_used("room", now=5 + 3600)
    assert not registry.recently_used("room", now=5 + 25 * 3600)
    registry.open("room", "mod-hash", 10)
    assert registry.get("room").password_hash is None


def test_many_wrong_passwords_warn_the_moderator():
    registry = with_two()
    warnings = [registry.record_failed_attempt("room") for _ in range(20)]
    assert all(w == [] for w in warnings[:19])
    (warning,) = warnings[19]
    assert warning.peer == "mod"
    assert (warning.message["type"], warning.message["count"]) == ("attempts-warning", 20)


def test_empty_rooms_are_forgotten_after_the_grace_period():
    registry = opened(empty_grace_seconds=60)
    registry.join("room", "a", "va", True, 1)
    registry.leave("room", "a", "hangup", 10)
    assert registry.sweep(now=50) == []
    assert registry.sweep(now=71) == ["room"]
    assert not registry.is_open("room")
    assert registry.counts() == (0, 0)


def test_a_reload_replaces_the_earlier_socket_of_the_same_browser():
    registry = with_two()
    decisions = registry.join("room", "mod2", "v-mod", moderator=True, now=3)
    assert Close("mod", "replaced") in decisions
    assert sent_to(decisions, "b") == [
        {"type": "peer-left", "peer": "mod", "reason": "replaced"},
        {"type": "peer-joined", "peer": "mod2", "e2ee": False},
    ]
    (welcome,) = sent_to(decisions, "mod2")
    assert welcome["peers"] == ["b"] and welcome["moderator"] and welcome["mode"] == "p2p"
