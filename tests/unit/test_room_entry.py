"""Entering a room: who sees the preview, who may start a room, and the moderator code."""

import json
import re

from praatbox.rooms import membership
from tests.forms import TERMS, csrf_from, post_terms


def room_config(html):
    match = re.search(r'<script type="application/json" id="room-config">(.*?)</script>', html)
    assert match, "not the room page"
    return json.loads(match.group(1))


def test_room_page_starts_with_the_preview(client):
    room_url = post_terms(client, "/start").headers["Location"]
    html = client.get(room_url).get_data(as_text=True)
    assert 'class="room previewing"' in html
    for test_id in ["preview", "preview-video", "camera-select", "mic-select", "mic-level",
                    "preview-mic-toggle", "preview-camera-toggle", "preview-enter"]:
        assert f'data-testid="{test_id}"' in html
    assert room_config(html)["autoEnter"] is False


def test_client_who_waited_enters_by_itself_once(app):
    client, counsellor = app.test_client(), app.test_client()
    room_url = post_terms(client, "/join").headers["Location"]
    assert client.get(room_url + "/waiting").status_code == 204
    post_terms(counsellor, "/start")
    assert client.get(room_url + "/waiting").headers["HX-Refresh"] == "true"
    assert room_config(client.get(room_url).get_data(as_text=True))["autoEnter"] is True
    # A later visit (say, from another tab) shows the preview again.
    assert room_config(client.get(room_url).get_data(as_text=True))["autoEnter"] is False
    assert room_config(counsellor.get(room_url).get_data(as_text=True))["autoEnter"] is False


def test_start_on_a_running_room_from_another_browser_is_refused(app):
    counsellor, other = app.test_client(), app.test_client()
    room_url = post_terms(counsellor, "/start").headers["Location"]
    refused = post_terms(other, "/start")
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert 'data-testid="terms-running"' in html and 'data-testid="moderator-code"' in html
    assert room_config(other.get(room_url).get_data(as_text=True))["moderator"] is False
    # The counsellor's own browser pressing Start again just goes back in.
    assert post_terms(counsellor, "/start").headers["Location"] == room_url


def test_a_moderator_code_is_long_and_forgives_how_it_is_typed():
    code = membership.new_moderator_code()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code)
    assert len(membership.CODE_ALPHABET) ** membership.CODE_CHARS >= 2**60
    loose = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert membership.moderator_code_hash(loose) == membership.moderator_code_hash(code)
    other = ("Y" if code[0] == "X" else "X") + code[1:]  # one character off
    assert membership.moderator_code_hash(other) != membership.moderator_code_hash(code)


def test_the_moderator_code_shown_to_the_counsellor_takes_the_role_back_by_htmx(app):
    laptop, phone = app.test_client(), app.test_client()
    room_url = post_terms(laptop, "/start").headers["Location"]
    code = re.search(r'class="moderator-code">([^<]+)<',
                     laptop.get(room_url).get_data(as_text=True)).group(1)
    token = csrf_from(phone.get("/").get_data(as_text=True))
    fields = dict(TERMS, csrf_token=token, moderator_code=code)
    reclaimed = phone.post("/start", data=fields, headers={"HX-Request": "true"})
    assert reclaimed.headers["HX-Redirect"] == room_url
    assert room_config(phone.get(room_url).get_data(as_text=True))["moderator"] is True
