"""Who sees the preview: everyone, except a client who waited for the counsellor to start."""

import json
import re

from tests.conftest import csrf_from

TERMS = {"name": "Praatbox Gent", "location": "Zürich", "word": "apple"}


def post_terms(client, path):
    token = csrf_from(client.get("/").get_data(as_text=True))
    return client.post(path, data=dict(TERMS, csrf_token=token))


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
