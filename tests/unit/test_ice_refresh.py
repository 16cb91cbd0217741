"""`GET /r/<room_id>/ice`: valid TURN credentials for an ICE restart, for the room's own people."""

import time

from praatbox import create_app
from praatbox.credentials import parse_rest_username
from tests.conftest import GENEROUS_BUDGETS
from tests.forms import TERMS, TEST_SECRET, csrf_from, post_terms

TURN_URL = "turn:127.0.0.1:3478?transport=udp"


def _app(**settings):
    return create_app({"SECRET_KEY": TEST_SECRET, "TURN_URLS": [TURN_URL], "TESTING": True,
                       **GENEROUS_BUDGETS, **settings})


def _turn_username(response) -> str:
    (server,) = [s for s in response.get_json()["iceServers"] if "username" in s]
    return server["username"]


def test_a_participant_gets_credentials_that_are_still_valid_and_not_cached():
    app = _app(TURN_CREDENTIAL_TTL_SECONDS=600)
    counsellor = app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    counsellor.get(room_url)
    response = counsellor.get(room_url + "/ice")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    expiry, _ = parse_rest_username(_turn_username(response))
    assert expiry > time.time() + 300
    # Asked again within half its lifetime: the same TURN user, no new capacity on the server.
    assert _turn_username(counsellor.get(room_url + "/ice")) == _turn_username(response)


def test_nobody_outside_the_room_gets_credentials():
    app = _app()
    counsellor = app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    counsellor.get(room_url)
    # Fresh cookies per attempt, as a script would: no role in the room, no credentials.
    for _ in range(3):
        stranger = app.test_client()
        response = stranger.get(room_url + "/ice")
        assert response.status_code == 403
        assert "iceServers" not in response.get_data(as_text=True)
    # A client who joined, but never opened the page of a room with a password, gets none either.
    token = csrf_from(counsellor.get("/").get_data(as_text=True))
    locked = counsellor.post(room_url + "/lock", data={"password": "kamille-tuin",
                                                       "csrf_token": token},
                             headers={"HX-Request": "true"})
    assert locked.status_code == 200
    client = app.test_client()
    post_terms(client, "/join", TERMS)
    assert client.get(room_url + "/ice").status_code == 403
