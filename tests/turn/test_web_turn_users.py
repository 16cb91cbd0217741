"""TURN users the web hands out: one per visitor (in its session), a few new ones per address."""

import json
import re

import pytest

from praatbox import create_app
from praatbox.ice import DEFAULT_TURN_USERS_PER_HOUR, TurnUserIssuer

TURN_URLS = ["stun:turn.example.org:3478", "turn:turn.example.org:3478?transport=udp"]
TTL_SECONDS = 12 * 3600


@pytest.fixture
def app():
    return create_app({"SECRET_KEY": "web-secret", "TESTING": True, "TURN_URLS": TURN_URLS})


def turn_username(client, address: str = "203.0.113.5") -> str:
    html = client.get("/check", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="check-config">(.*?)</script>', html)
    assert match
    servers = json.loads(match.group(1))["iceServers"]
    return next(server["username"] for server in servers if "username" in server)


def test_a_visitor_keeps_one_turn_user_across_pages(app):
    client = app.test_client()
    assert len({turn_username(client) for _ in range(10)}) == 1


def test_fresh_cookies_from_one_address_get_few_new_users_then_share(app):
    names = {turn_username(app.test_client()) for _ in range(3 * DEFAULT_TURN_USERS_PER_HOUR)}
    assert len(names) == DEFAULT_TURN_USERS_PER_HOUR
    assert turn_username(app.test_client(), "198.51.100.9") not in names  # another address


def test_issuer_refills_slowly_and_shares_the_last_user_meanwhile():
    issuer = TurnUserIssuer(per_hour=2)
    first, second = issuer.issue("203.0.113.5", 0.0), issuer.issue("203.0.113.5", 1.0)
    assert first != second
    assert issuer.issue("203.0.113.5", 2.0) == second
    assert issuer.issue("203.0.113.5", 1802.0) not in (first, second, None)


def test_a_kept_user_is_replaced_when_half_its_lifetime_is_gone(app):
    client = app.test_client()
    first = turn_username(client)
    with client.session_transaction() as session:
        user, issued_at = session["turn"]
        session["turn"] = [user, issued_at - TTL_SECONDS // 2 - 1]
    assert turn_username(client) != first
