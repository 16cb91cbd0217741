import pytest

from praatbox import keys
from praatbox.config import load_settings
from praatbox.keys import derive_key


def test_defaults_serve_make_run_with_a_generated_secret(caplog):
    settings = load_settings({})
    assert settings["SECRET_KEY"] and settings["TURN_SECRET"]
    assert settings["ICE_TRANSPORT_POLICY"] == "all"
    assert "PRAATBOX_SECRET_KEY is not set" in caplog.text


def test_environment_overrides_defaults():
    settings = load_settings({
        "PRAATBOX_SECRET_KEY": "s", "PRAATBOX_TURN_URLS": "none",
        "PRAATBOX_ICE_TRANSPORT_POLICY": " Relay ", "PRAATBOX_LANGUAGES": "nl,fr",
    })
    assert settings["SECRET_KEY"] == derive_key("s", keys.SESSION) and settings["TURN_URLS"] == []
    assert settings["ICE_TRANSPORT_POLICY"] == "relay"
    assert settings["LANGUAGES"] == ("nl", "fr")


def test_an_unknown_ice_transport_policy_is_refused_at_start():
    with pytest.raises(ValueError, match="PRAATBOX_ICE_TRANSPORT_POLICY"):
        load_settings({"PRAATBOX_ICE_TRANSPORT_POLICY": "direct"})


def test_each_purpose_gets_its_own_key_and_none_is_the_master():
    settings = load_settings({"PRAATBOX_SECRET_KEY": "master"})
    derived = [settings[name] for name in
               ("SECRET_KEY", "ROOM_ID_KEY", "ENDED_ROOM_KEY", "RELAY_TOKEN", "TURN_SECRET",
                "ADDRESS_KEY")]
    assert len(set(derived)) == len(derived)
    assert "master" not in derived and "master" not in settings.values()


@pytest.mark.parametrize("environ", [
    {"PRAATBOX_REDIS_URL": "redis://127.0.0.1:1/0"},
    {"WEB_CONCURRENCY": "3"},
])
def test_several_web_processes_refuse_to_start_without_a_shared_secret(environ):
    with pytest.raises(RuntimeError, match="PRAATBOX_SECRET_KEY must be set"):
        load_settings(environ)
