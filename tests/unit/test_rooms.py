import pytest

from praatbox.rooms import RoomFull, RoomNotOpen, RoomRegistry, Send, UnknownPeer


def opened(**kwargs):
    registry = RoomRegistry(**kwargs)
    registry.open("room", now=0)
    return registry


def test_nobody_can_join_a_room_that_was_not_started():
    with pytest.raises(RoomNotOpen):
        RoomRegistry().join("room", "a", moderator=False, now=0)


def test_newcomer_is_welcomed_with_the_others_and_they_are_told():
    registry = opened()
    assert registry.join("room", "a", moderator=True, now=1) == [
        Send("a", {"type": "welcome", "self": "a", "moderator": True, "peers": [], "mode": "p2p"})]
    sends = registry.join("room", "b", moderator=False, now=2)
    assert sends == [
        Send("a", {"type": "peer-joined", "peer": "b"}),
        Send("b", {"type": "welcome", "self": "b", "moderator": False, "peers": ["a"],
                   "mode": "p2p"}),
    ]


def test_third_participant_sees_both_others():
    registry = opened()
    registry.join("room", "a", True, 1)
    registry.join("room", "b", False, 2)
    sends = registry.join("room", "c", False, 3)
    assert [s.peer for s in sends] == ["a", "b", "c"]
    assert sends[-1].message["peers"] == ["a", "b"]


def test_room_has_a_participant_limit():
    registry = opened(max_participants=2)
    registry.join("room", "a", True, 1)
    registry.join("room", "b", False, 2)
    with pytest.raises(RoomFull):
        registry.join("room", "c", False, 3)


def test_leaving_tells_the_others_why():
    registry = opened()
    registry.join("room", "a", True, 1)
    registry.join("room", "b", False, 2)
    assert registry.leave("room", "b", "hangup", 3) == [
        Send("a", {"type": "peer-left", "peer": "b", "reason": "hangup"})]
    assert registry.leave("room", "b", "hangup", 3) == []


def test_signal_is_stamped_with_the_sender_and_stays_in_the_room():
    registry = opened()
    registry.open("other", 0)
    registry.join("room", "a", True, 1)
    registry.join("room", "b", False, 2)
    registry.join("other", "x", True, 2)
    assert registry.route_signal("room", "a", "b", {"candidate": None}) == [
        Send("b", {"type": "signal", "from": "a", "data": {"candidate": None}})]
    with pytest.raises(UnknownPeer):
        registry.route_signal("room", "a", "x", {"candidate": None})
    with pytest.raises(UnknownPeer):
        registry.route_signal("room", "a", "a", {"candidate": None})


def test_empty_rooms_are_forgotten_after_the_grace_period():
    registry = opened(empty_grace_seconds=60)
    registry.join("room", "a", True, 1)
    registry.leave("room", "a", "hangup", 10)
    assert registry.sweep(now=50) == []
    assert registry.sweep(now=71) == ["room"]
    assert not registry.is_open("room")
    assert registry.counts() == (0, 0)
