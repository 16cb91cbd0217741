"""Every interface text exists in every language, and the compiled catalogues are current."""

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "praatbox" / "translations"


def catalogue(lang, kind):
    path = TRANSLATIONS / lang / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as handle:
        return read_po(handle) if kind == "po" else read_mo(handle)


@pytest.mark.parametrize("lang", ["de", "nl", "fr", "ar", "tr", "pl", "ro", "uk", "ru"])
def test_every_message_is_translated_and_compiled(lang):
    po, mo = catalogue(lang, "po"), catalogue(lang, "mo")
    template = catalogue_template()
    for message in template:
        if message.id:
            assert po[message.id] is not None and po[message.id].string, message.id
            assert not po[message.id].fuzzy, message.id
            assert mo[message.id] is not None and mo[message.id].string == po[message.id].string, (
                f"{lang}: run `make translations` ({message.id!r})")


def catalogue_template():
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        return read_po(handle)


def test_template_lists_every_message_in_the_sources():
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    root = TRANSLATIONS.parents[1]
    method_map = [("praatbox/**.py", "python"), ("templates/**.html", "jinja2")]
    extracted = extract_from_dir(str(root), method_map=method_map, keywords=DEFAULT_KEYWORDS)
    found = {message for _, _, message, _, _ in extracted}
    listed = {message.id for message in catalogue_template() if message.id}
    assert found - listed == set(), "run `make translations` and translate the new messages"
