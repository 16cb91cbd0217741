"""Credentials and nonces with the clock in the test's hand."""

from aioice.turn import make_integrity_key

from praatbox.credentials import issue_turn_credentials
from praatbox.turn.auth import REPLY_BURST, Authenticator, ReplyBudget

NOW = 1_800_000_000.0


def make_auth(secrets=("current",), static_users=None) -> Authenticator:
    return Authenticator(list(secrets), "praatbox", 600, static_users)


def test_nonce_is_valid_for_its_lifetime_and_for_its_ip_only():
    auth = make_auth()
    nonce = auth.make_nonce(100.0, "203.0.113.5")
    assert auth.nonce_is_valid(nonce, 100.0, "203.0.113.5")
    assert auth.nonce_is_valid(nonce, 699.0, "203.0.113.5")
    assert not auth.nonce_is_valid(nonce, 700.5, "203.0.113.5")
    assert not auth.nonce_is_valid(nonce, 100.0, "203.0.113.6")
    forged = nonce[:-1] + (b"1" if nonce.endswith(b"0") else b"0")
    assert not auth.nonce_is_valid(forged, 100.0, "203.0.113.5")
    assert not auth.nonce_is_valid(b"zzzzzzzz" + nonce[8:], 100.0, "203.0.113.5")


def test_nonces_of_another_server_process_are_refused():
    nonce = make_auth().make_nonce(100.0, "203.0.113.5")
    assert not make_auth().nonce_is_valid(nonce, 100.0, "203.0.113.5")


def test_every_configured_secret_yields_a_key_during_rotation():
    auth = make_auth(secrets=("new", "old"))
    username, password = issue_turn_credentials("old", "alice", 3600, NOW)
    user, keys = auth.candidate_keys(username, NOW)
    assert user == "alice"
    assert make_integrity_key(username, "praatbox", password) in keys


def test_expired_and_malformed_usernames_get_no_key():
    auth = make_auth()
    username, _ = issue_turn_credentials("current", "alice", 3600, NOW - 7200)
    assert auth.candidate_keys(username, NOW)[1] == []
    assert auth.candidate_keys("alice", NOW)[1] == []
    assert auth.candidate_keys("soon:later", NOW)[1] == []


def test_coturn_style_user_colon_expiry_is_accepted():
    auth = make_auth()
    username = f"alice:{int(NOW) + 60}"
    user, keys = auth.candidate_keys(username, NOW)
    assert user == "alice" and len(keys) == 1


def test_static_users_need_no_expiry():
    auth = make_auth(static_users={"tester": "pw"})
    assert auth.candidate_keys("tester", NOW) == (
        "tester", [make_integrity_key("tester", "praatbox", "pw")])


def test_unauthenticated_replies_are_budgeted_per_source():
    budget = ReplyBudget(rate_per_second=10, burst=REPLY_BURST)
    answered = sum(budget.allow("203.0.113.5", 0.0) for _ in range(100))
    assert answered == REPLY_BURST
    assert budget.allow("203.0.113.6", 0.0)
    assert not budget.allow("203.0.113.5", 0.05)
    assert budget.allow("203.0.113.5", 0.2)
