import pytest

from praatbox.config import load_settings


def test_defaults_serve_make_run_with_a_generated_secret(caplog):
    settings = load_settings({})
    assert settings["SECRET_KEY"] and settings["TURN_SECRET"] == settings["SECRET_KEY"]
    assert settings["ICE_TRANSPORT_POLICY"] == "all"
    assert "PRAATBOX_SECRET_KEY is not set" in caplog.text


def test_environment_overrides_defaults():
    settings = load_settings({
        "PRAATBOX_SECRET_KEY": "s", "PRAATBOX_TURN_URLS": "none",
        "PRAATBOX_ICE_TRANSPORT_POLICY": " Relay ", "PRAATBOX_LANGUAGES": "nl,fr",
    })
    assert settings["SECRET_KEY"] == "s" and settings["TURN_URLS"] == []
    assert settings["ICE_TRANSPORT_POLICY"] == "relay"
    assert settings["LANGUAGES"] == ("nl", "fr")


def test_an_unknown_ice_transport_policy_is_refused_at_start():
    with pytest.raises(ValueError, match="PRAATBOX_ICE_TRANSPORT_POLICY"):
        load_settings({"PRAATBOX_ICE_TRANSPORT_POLICY": "direct"})
