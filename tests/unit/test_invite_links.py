"""The invite panel's links: the room address only, built from PRAATBOX_PUBLIC_URL when set."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from praatbox import create_app
from tests.forms import TERMS as SHARED_TERMS
from tests.forms import TEST_SECRET, post_terms

TERMS = dict(SHARED_TERMS, word="lantaarn")


def start(client) -> str:
    return post_terms(client, "/start", TERMS).headers["Location"]


def share_hrefs(page: str) -> dict[str, str]:
    found = re.findall(r'data-testid="(share-[a-z]+)"[^>]*?href="([^"]+)"', page)
    return {test_id: unquote(html.unescape(href)) for test_id, href in found}


def test_links_carry_the_public_room_address_and_never_the_terms():
    app = create_app({"SECRET_KEY": TEST_SECRET, "TURN_URLS": [], "TESTING": True,
                      "PUBLIC_URL": "https://praat.example.org/"})
    client = app.test_client()
    room_path = start(client)
    page = client.get(room_path).get_data(as_text=True)
    room_url = "https://praat.example.org" + room_path
    hrefs = share_hrefs(page)
    assert hrefs["share-whatsapp"].startswith("https://wa.me/?text=")
    assert hrefs["share-email"].startswith("mailto:?subject=")
    for href in hrefs.values():
        assert room_url in href
    assert f'data-url="{room_url}"' in page
    for term in TERMS.values():
        assert term.lower() not in page.lower()


def test_without_public_url_the_request_host_is_used(client):
    room_path = start(client)
    page = client.get(room_path).get_data(as_text=True)
    assert f'data-url="http://localhost{room_path}"' in page


def test_clients_get_no_invite_panel(app):
    counsellor, visitor = app.test_client(), app.test_client()
    room_path = start(counsellor)
    post_terms(visitor, "/join", TERMS)
    page = visitor.get(room_path).get_data(as_text=True)
    assert 'data-testid="share-' not in page
