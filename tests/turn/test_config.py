"""Reading PRAATBOX_TURN_* settings."""

import pytest

from praatbox.keys import TURN_REST, derive_key
from praatbox.turn.config import load_config, parse_address


def test_defaults_listen_on_3478_everywhere():
    config = load_config({"PRAATBOX_TURN_SECRET": "s", "PRAATBOX_TURN_RELAY_IP": "203.0.113.9"})
    assert config.listen == ("0.0.0.0", 3478)
    assert config.relay_ip == "203.0.113.9"
    assert config.relay_ports == (49152, 65535)
    assert config.tls_listen is None
    assert config.secrets == ["s"]
    assert (config.default_lifetime_seconds, config.max_lifetime_seconds) == (600, 3600)
    assert (config.permission_lifetime_seconds, config.channel_lifetime_seconds) == (300, 600)


def test_environment_overrides():
    config = load_config({
        "PRAATBOX_TURN_SECRET": "new, old",
        "PRAATBOX_TURN_LISTEN": "127.0.0.1:3500",
        "PRAATBOX_TURN_RELAY_PORTS": "40000-40100",
        "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",
        "PRAATBOX_TURN_DENIED_PEERS": "198.51.100.0/24",
        "PRAATBOX_TURN_USERS": "tester:pw",
        "PRAATBOX_TURN_TLS_CERT": "/c.pem",
        "PRAATBOX_TURN_TLS_KEY": "/k.pem",
        "PRAATBOX_TURN_USER_QUOTA": "3",
    })
    assert config.secrets == ["new", "old"]
    assert config.listen == ("127.0.0.1", 3500)
    assert config.relay_ip == "127.0.0.1"  # bound to one address: relay there too
    assert config.relay_ports == (40000, 40100)
    assert config.allowed_peers == ["127.0.0.0/8"]
    assert config.denied_peers == ["198.51.100.0/24"]
    assert config.static_users == {"tester": "pw"}
    assert config.tls_listen == ("0.0.0.0", 5349)
    assert config.user_quota == 3


def test_turn_secret_falls_back_to_the_key_derived_from_the_web_secret():
    assert load_config({"PRAATBOX_SECRET_KEY": "web"}).secrets == [derive_key("web", TURN_REST)]
    assert derive_key("web", TURN_REST) != "web"


@pytest.mark.parametrize(
    "env",
    [
        {"PRAATBOX_TURN_RELAY_PORTS": "50000-40000"},
        {"PRAATBOX_TURN_ALLOWED_PEERS": "not-a-network"},
        {"PRAATBOX_TURN_LISTEN": "turn.example.org:3478"},
        {"PRAATBOX_TURN_USERS": "no-password"},
    ],
)
def test_bad_settings_fail_at_start(env):
    with pytest.raises(ValueError):
        load_config({"PRAATBOX_TURN_SECRET": "s", **env})


@pytest.mark.parametrize(
    "text, expected",
    [("0.0.0.0:3478", ("0.0.0.0", 3478)), ("[::]:3479", ("::", 3479)), ("::", ("::", 3478)),
     ("127.0.0.1", ("127.0.0.1", 3478))],
)
def test_parse_address(text, expected):
    assert parse_address(text, 3478) == expected


def test_workers_need_a_fixed_port_and_a_sane_count():
    base = {"PRAATBOX_TURN_SECRET": "s", "PRAATBOX_TURN_LISTEN": "127.0.0.1:3500"}
    assert load_config(base).workers == 1
    assert load_config({**base, "PRAATBOX_TURN_WORKERS": "2"}).workers == 2
    for count in ("0", "65"):
        with pytest.raises(ValueError):
            load_config({**base, "PRAATBOX_TURN_WORKERS": count})
    with pytest.raises(ValueError):
        load_config({**base, "PRAATBOX_TURN_LISTEN": "127.0.0.1:0", "PRAATBOX_TURN_WORKERS": "2"})
