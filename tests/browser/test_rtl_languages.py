"""Each person in their own language, right-to-left done properly: real Chromium, ar/tr/ru pages."""

from __future__ import annotations

import itertools

import pytest

from tests.browser.axe import PHONE, assert_accessible
from tests.browser.flows import join_session, receiving_media, start_session, wait_for_state

_words = itertools.count()
NO_HORIZONTAL_SCROLL = (
    "document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def direction(page):
    return page.evaluate("[document.documentElement.lang, document.documentElement.dir]")


@pytest.mark.parametrize("lang", ["ar", "ru"])
def test_home_in_arabic_and_russian_is_accessible_and_fits_a_phone(new_person, lang):
    page = new_person()
    page.goto(f"/?lang={lang}")
    assert direction(page) == [lang, "rtl" if lang == "ar" else "ltr"]
    assert_accessible(page, f"the home page in {lang}")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_a_turkish_counsellor_and_an_arabic_client_meet(new_person):
    counsellor, client = new_person(), new_person()
    number = next(_words)
    start_session(counsellor, ("Danışma Merkezi", "Gent", f"şemsiye{number}"), lang="tr")
    # The client types the word without the Turkish letters, from an Arabic page.
    join_session(client, ("Danisma Merkezi", "gent", f"semsiye{number}"), lang="ar")
    for page in (counsellor, client):
        wait_for_state(page, receiving_media, what="the call")
    assert direction(counsellor) == ["tr", "ltr"]
    assert direction(client) == ["ar", "rtl"]
    assert_accessible(client, "the call in Arabic")
    client.set_viewport_size(PHONE)
    assert client.evaluate(NO_HORIZONTAL_SCROLL)
    # The picker is on the call page too; the choice is remembered by this browser.
    client.get_by_test_id("lang-select").select_option("ru")
    client.wait_for_url("**lang=ru*")
    wait_for_state(client, receiving_media, what="the call again, now in Russian")
    assert direction(client) == ["ru", "ltr"]
    client.goto("/faq")
    assert direction(client) == ["ru", "ltr"]
