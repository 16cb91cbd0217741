"""Every offered language shows its own page, picked by ?lang= or by the browser, never English."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from markupsafe import escape

from praatbox.config import DEFAULT_LANGUAGES
from praatbox.i18n import text_direction

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "praatbox" / "translations"
BROWSER_HEADERS = {
    "de": "de-AT,de;q=0.9", "nl": "nl-BE,nl;q=0.9,en;q=0.5", "en": "en-GB", "fr": "fr-BE",
    "ar": "ar-EG,ar;q=0.9", "tr": "tr-TR", "pl": "pl-PL", "ro": "ro-RO", "uk": "uk-UA",
    "ru": "ru-RU",
}
PAGE_TEXTS = {
    "/": "A safe video session in a minute",
    "/faq": "How do I start a session?",
    "/privacy": "What is never stored",
    "/check": "Play a test sound",
}


def translated(lang, msgid):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        message = read_mo(handle).get(msgid)
    return message.string if message is not None and message.string else msgid


def test_ten_languages_are_offered_by_default():
    assert set(DEFAULT_LANGUAGES) == set(BROWSER_HEADERS)


@pytest.mark.parametrize("lang", sorted(BROWSER_HEADERS))
@pytest.mark.parametrize("path", sorted(PAGE_TEXTS))
@pytest.mark.parametrize("how", ["picker", "browser"])
def test_page_is_in_the_language_asked_for(app, lang, path, how):
    client = app.test_client()  # a first visit: no cookie yet
    if how == "picker":
        response = client.get(f"{path}?lang={lang}", headers={"Accept-Language": "en-US"})
    else:
        response = client.get(path, headers={"Accept-Language": BROWSER_HEADERS[lang]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'<html[^>]*\slang="{lang}"', html), f"{path} is not marked {lang}"
    text = translated(lang, PAGE_TEXTS[path])
    assert str(escape(text)) in html
    if lang != "en":
        assert text != PAGE_TEXTS[path], f"{lang} has no translation of {PAGE_TEXTS[path]!r}"
        assert PAGE_TEXTS[path] not in html


def test_only_arabic_is_written_right_to_left():
    assert [lang for lang in DEFAULT_LANGUAGES if text_direction(lang) == "rtl"] == ["ar"]


def test_every_translation_keeps_its_placeholders():
    checker = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_translations.py")],
        capture_output=True, text=True, check=False,
    )
    assert checker.returncode == 0, checker.stdout
