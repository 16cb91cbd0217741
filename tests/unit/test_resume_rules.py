"""The resume token and the "reconnecting" state, as plain room rules."""

import pytest

from praatbox.rooms import resume
from praatbox.rooms.model import Send
from praatbox.rooms.registry import RoomRegistry

GRACE = 30.0


def sent_to(decisions, peer):
    return [d.message for d in decisions if isinstance(d, Send) and d.peer == peer]


def in_a_call():
    """A counsellor and a client in a call, each socket's token bound to its browser session."""
    registry = RoomRegistry(resume_grace_seconds=GRACE)
    registry.open("room", "mod-hash", now=0)
    tokens = {"mod": resume.new_token(), "b": resume.new_token()}
    registry.join("room", "mod", "v-mod", True, 1, resume_hash=resume.token_hash(tokens["mod"],
                                                                                 "v-mod"))
    registry.join("room", "b", "v-b", False, 2, resume_hash=resume.token_hash(tokens["b"], "v-b"))
    return registry, tokens


def drop(registry, peer, token, binding, now):
    return registry.depart("room", peer, resume.token_hash(token, binding), "disconnected",
                           dropped=True, now=now)


def come_back(registry, peer, token, binding, now):
    fresh = resume.new_token()
    decisions = registry.resume("room", peer, resume.token_hash(token, binding),
                                resume.token_hash(fresh, binding), now)
    return decisions, fresh


def test_tokens_are_random_long_and_stored_only_as_a_hash_bound_to_the_session():
    token = resume.new_token()
    assert len(token) >= 22 and token != resume.new_token()  # ≥ 128 bits, urlsafe base64
    stored = resume.token_hash(token, "v-b")
    assert token not in stored and stored != resume.token_hash(token, "v-other")


def test_a_drop_leaves_the_person_in_the_room_as_reconnecting_then_they_resume_as_themselves():
    registry, tokens = in_a_call()
    decisions = drop(registry, "b", tokens["b"], "v-b", now=10)
    assert sent_to(decisions, "mod") == [{"type": "peer-reconnecting", "peer": "b"}]
    assert registry.counts() == (1, 2)  # not counted twice, not gone
    decisions, _ = come_back(registry, "b", tokens["b"], "v-b", now=20)
    assert sent_to(decisions, "mod") == [{"type": "peer-resumed", "peer": "b"}]
    (resumed,) = sent_to(decisions, "b")
    assert resumed["type"] == "resumed" and resumed["self"] == "b"
    assert resumed["peers"] == ["mod"] and not resumed["moderator"]
    assert not any(m["type"] in ("peer-left", "peer-joined") for d in decisions
                   for m in [getattr(d, "message", {})])


def test_the_moderator_keeps_control_after_a_resume():
    registry, tokens = in_a_call()
    drop(registry, "mod", tokens["mod"], "v-mod", now=10)
    decisions, _ = come_back(registry, "mod", tokens["mod"], "v-mod", now=11)
    assert sent_to(decisions, "mod")[-1]["moderator"] is True
    assert sent_to(registry.kick("room", "mod", "b"), "b")[0]["type"] == "kicked"


def test_a_token_is_single_use():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    come_back(registry, "b", tokens["b"], "v-b", now=11)
    with pytest.raises(resume.ResumeRefused):
        come_back(registry, "b", tokens["b"], "v-b", now=12)


def test_the_fresh_token_resumes_the_next_drop():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    _, fresh = come_back(registry, "b", tokens["b"], "v-b", now=11)
    drop(registry, "b", fresh, "v-b", now=12)
    decisions, _ = come_back(registry, "b", fresh, "v-b", now=13)
    assert sent_to(decisions, "b")[-1]["type"] == "resumed"


def test_a_token_from_another_browser_session_is_refused():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    with pytest.raises(resume.ResumeRefused):
        come_back(registry, "b", tokens["b"], "v-attacker", now=11)
    with pytest.raises(resume.ResumeRefused):  # nor someone else's place with one's own token
        come_back(registry, "b", tokens["mod"], "v-mod", now=11)


def test_a_token_expires_with_the_grace_period_and_the_person_then_leaves():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    assert registry.expire_away("room", now=10 + GRACE) == []
    decisions = registry.expire_away("room", now=10 + GRACE + 1)
    assert sent_to(decisions, "mod") == [{"type": "peer-left", "peer": "b",
                                          "reason": "disconnected"}]
    with pytest.raises(resume.ResumeRefused):
        come_back(registry, "b", tokens["b"], "v-b", now=10 + GRACE + 2)


def test_an_expired_token_is_refused_even_before_any_timer_let_the_person_go():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    with pytest.raises(resume.ResumeRefused):
        come_back(registry, "b", tokens["b"], "v-b", now=10 + GRACE + 1)
    assert registry.counts() == (1, 1)


def test_a_clean_close_is_leaving_and_a_late_end_of_an_old_socket_changes_nothing():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    _, fresh = come_back(registry, "b", tokens["b"], "v-b", now=11)
    # The old socket's end is noticed only now: the place belongs to the new socket.
    assert drop(registry, "b", tokens["b"], "v-b", now=12) == []
    decisions = registry.depart("room", "b", resume.token_hash(fresh, "v-b"), "hangup",
                                dropped=False, now=13)
    assert sent_to(decisions, "mod") == [{"type": "peer-left", "peer": "b", "reason": "hangup"}]


def test_without_a_grace_period_a_drop_is_leaving():
    registry = RoomRegistry(resume_grace_seconds=0)
    registry.open("room", "mod-hash", now=0)
    registry.join("room", "mod", "v-mod", True, 1, resume_hash="h-mod")
    registry.join("room", "b", "v-b", False, 2, resume_hash="h-b")
    decisions = registry.depart("room", "b", "h-b", "disconnected", dropped=True, now=3)
    assert sent_to(decisions, "mod")[0]["type"] == "peer-left"


def test_a_newcomer_sees_who_is_reconnecting():
    registry, tokens = in_a_call()
    drop(registry, "b", tokens["b"], "v-b", now=10)
    (welcome,) = sent_to(registry.join("room", "c", "v-c", False, 11), "c")
    assert welcome["reconnecting"] == ["b"]
