"""Check that every message in the translated catalogues has a translation.

Usage: .venv/bin/python scripts/check_translations.py [LANG ...]   (default: all but en)
Exits 1 if a catalogue has an empty, fuzzy or placeholder-mismatched translation.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "praatbox" / "translations"
# en is the source language: its msgstr stay empty.
DEFAULT_LANGUAGES = ("de", "nl", "fr", "ar", "tr", "pl", "ro", "uk", "ru")
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[sdifr%]|\{\w+\}")  # %(name)s and {name}


def problems(lang: str) -> tuple[int, list[str], list[str]]:
    """Return (message count, missing ids, other problems) for one language."""
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    with path.open(encoding="utf-8") as handle:
        catalog = read_po(handle)
    missing: list[str] = []
    other: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        if not message.string:
            missing.append(str(message.id))
            continue
        if message.fuzzy:
            other.append(f"fuzzy: {message.id!r}")
        if sorted(PLACEHOLDER.findall(str(message.id))) != sorted(
            PLACEHOLDER.findall(str(message.string))
        ):
            other.append(f"placeholders differ: {message.id!r}")
    return len(catalog), missing, other


def main(argv: list[str]) -> int:
    failed = False
    for lang in argv or DEFAULT_LANGUAGES:
        count, missing, other = problems(lang)
        print(lang, count, "missing", len(missing))
        for msgid in missing:
            print(f"  missing: {msgid!r}")
        for problem in other:
            print(f"  {problem}")
        failed = failed or bool(missing or other)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
