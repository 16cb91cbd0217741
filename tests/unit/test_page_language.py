"""The page language is always an offered one, whatever tag a browser sends (no raw "nl-BE")."""

import json
import re

import pytest

from praatbox import create_app
from praatbox.i18n import current_language, offered_language
from tests.forms import TERMS as SHARED_TERMS
from tests.forms import TEST_SECRET, post_terms

TERMS = dict(SHARED_TERMS, word="appel")
ROOM_CONFIG = re.compile(r'<script type="application/json" id="room-config">(.*?)</script>', re.S)


def app_offering(*languages):
    settings = {"SECRET_KEY": TEST_SECRET, "TURN_URLS": [], "TESTING": True}
    if languages:
        settings["LANGUAGES"] = languages
    return create_app(settings)


def page_language(app, accept_language, session_lang=None):
    with app.test_request_context("/", headers={"Accept-Language": accept_language}):
        if session_lang is not None:
            from flask import session
            session["lang"] = session_lang
        return current_language()


@pytest.mark.parametrize("header, expected", [
    ("nl-BE", "nl"),
    ("en-US", "en"),
    ("fr-CA,fr;q=0.9", "fr"),
    ("de-AT;q=0.8, pt-BR", "de"),
    ("xx", "en"),
    ("xx-YY, zz;q=0.5", "en"),
    ("", "en"),
])
def test_browser_tags_map_to_an_offered_language(header, expected):
    assert page_language(app_offering(), header) == expected


def test_a_language_the_box_does_not_offer_falls_back_to_one_it_does():
    app = app_offering("nl", "fr")  # PRAATBOX_LANGUAGES=nl,fr: no English on this box
    assert page_language(app, "en-US") == "nl"
    assert page_language(app, "de-DE, fr-BE;q=0.5") == "fr"
    assert page_language(app, "en-US", session_lang="de") == "nl"


@pytest.mark.parametrize("tag, expected", [
    ("nl-BE", "nl"), ("NL_be", "nl"), (" fr ", "fr"), ("en-US", "en"), ("xx", None), ("", None),
    (None, None), (42, None),
])
def test_tags_are_normalised(tag, expected):
    with app_offering().test_request_context("/"):
        assert offered_language(tag) == expected


def room_page(client):
    room_url = post_terms(client, "/start", TERMS).headers["Location"]
    return client.get(room_url).get_data(as_text=True)


def test_room_page_of_a_belgian_browser_is_dutch_and_names_no_raw_tag():
    client = app_offering().test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-BE,nl;q=0.9,en;q=0.8"
    html = room_page(client)
    config = json.loads(ROOM_CONFIG.search(html).group(1))
    assert config["language"] == "nl"
    assert '<html lang="nl" dir="ltr">' in html
    assert 'lang="nl-BE"' not in html


def test_picker_region_tag_is_remembered_as_the_offered_language():
    client = app_offering().test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US"
    assert '<html lang="fr" dir="ltr">' in client.get("/?lang=fr-BE").get_data(as_text=True)
    config = json.loads(ROOM_CONFIG.search(room_page(client)).group(1))
    assert config["language"] == "fr"
