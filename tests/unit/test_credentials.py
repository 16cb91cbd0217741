"""TURN REST credentials: the coturn scheme, shared by the web app and the TURN server."""

import base64
import hashlib
import hmac

from praatbox.credentials import (
    build_ice_servers,
    issue_turn_credentials,
    parse_rest_username,
    rest_password,
    split_secrets,
)


def test_password_is_base64_hmac_sha1_of_the_username_as_coturn_computes_it():
    expected = base64.b64encode(
        hmac.new(b"secret", b"1700000000:alice", hashlib.sha1).digest()).decode()
    assert rest_password("secret", "1700000000:alice") == expected


def test_issued_username_carries_the_expiry_first():
    username, password = issue_turn_credentials("secret", "alice", 3600, 1_700_000_000.5)
    assert username == "1700003600:alice"
    assert password == rest_password("secret", username)


def test_parse_rest_username_accepts_both_orders():
    assert parse_rest_username("1700003600:alice") == (1700003600, "alice")
    assert parse_rest_username("alice:1700003600") == (1700003600, "alice")
    assert parse_rest_username("1700003600:a:b") == (1700003600, "a:b")
    assert parse_rest_username("alice") is None
    assert parse_rest_username("alice:bob") is None


def test_split_secrets_keeps_the_signing_secret_first():
    assert split_secrets(" new , old ,") == ["new", "old"]
    assert split_secrets(None) == []


def test_ice_servers_give_stun_bare_and_turn_with_credentials():
    servers = build_ice_servers(
        ["stun:h:3478", "turn:h:3478?transport=udp", "turns:h:5349"], "secret", "u", 1000.0, 60)
    assert servers[0] == {"urls": ["stun:h:3478"]}
    assert servers[1]["urls"] == ["turn:h:3478?transport=udp", "turns:h:5349"]
    assert servers[1]["username"] == "1060:u"
    assert servers[1]["credential"] == rest_password("secret", "1060:u")


def test_ice_servers_leave_turn_out_without_a_secret():
    assert build_ice_servers(["turn:h:3478"], None, "u", 1000.0) == []


def test_a_username_with_non_ascii_digits_has_no_expiry():
    assert parse_rest_username("²:x") is None
    assert parse_rest_username("x:٣") is None
