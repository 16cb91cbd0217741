"""Credentials and nonces with the clock in the test's hand."""

from aioice.turn import make_integrity_key

from praatbox.credentials import issue_turn_credentials
from praatbox.turn.auth import Authenticator
from praatbox.turn.budget import SourceBudget, source_key
from praatbox.turn.handlers import REPLY_BURST

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


def test_nonces_are_short_and_plain_text():
    nonce = make_auth().make_nonce(NOW, "203.0.113.5")
    assert len(nonce) == 16 and nonce.decode("ascii").replace("-", "").replace("_", "").isalnum()


def test_coturn_style_bare_timestamp_is_its_own_user():
    auth = make_auth()
    username = str(int(NOW) + 60)
    user, keys = auth.candidate_keys(username, NOW)
    assert user == username and len(keys) == 1
    assert auth.candidate_keys(str(int(NOW) - 60), NOW)[1] == []


def test_unauthenticated_replies_are_budgeted_per_source():
    budget = SourceBudget(rate_per_second=10, burst=REPLY_BURST)
    answered = sum(budget.allow("203.0.113.5", 0.0) for _ in range(100))
    assert answered == REPLY_BURST
    assert budget.allow("203.0.113.6", 0.0)
    assert not budget.allow("203.0.113.5", 0.05)
    assert budget.allow("203.0.113.5", 0.2)


def test_forged_sources_beyond_the_table_share_one_bucket():
    budget = SourceBudget(rate_per_second=20, burst=40, max_sources=100)
    for n in range(100):
        budget.allow(f"10.0.0.{n}", 0.0)
    answered = sum(budget.allow(f"10.1.{n >> 8}.{n & 255}", 0.1) for n in range(5000))
    assert answered <= 40 + 2


def test_buckets_that_refilled_are_forgotten_first():
    budget = SourceBudget(rate_per_second=20, burst=40, max_sources=100)
    for n in range(100):
        budget.allow(f"10.0.0.{n}", 0.0)
    assert budget.allow("203.0.113.1", 10.0)  # all are full again at 2 s: room for a new one
    assert len(budget) == 1


def test_an_ipv6_subscriber_is_one_source():
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:bbbb::9")
    assert source_key("2001:db8:1:2::1") != source_key("2001:db8:1:3::1")
    assert source_key("::ffff:198.51.100.7") == "198.51.100.7" == source_key("198.51.100.7")
