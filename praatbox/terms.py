"""The three terms a counsellor reads out by phone, and the room id derived from them.

The terms are a meeting code: they are normalised so that a client who types "Zürich " finds the
room made with "zurich", then hashed with the server secret. Only the hash (the room id) travels
in URLs, logs and the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable

MAX_TERM_CHARS = 40
ROOM_ID_CHARS = 20  # 100 bits of base32
ROOM_ID_PATTERN = re.compile(r"^[a-z2-7]{%d}$" % ROOM_ID_CHARS)
TERM_FIELDS = ("name", "location", "word")

_SEPARATORS = re.compile(r"[\s\-_.,/]+")
_DROPPED = re.compile(r"['’`´\u0640]")  # apostrophes and the Arabic tatweel (a stretch mark)
# Letters a client may type without their mark or variant form, after casefold, NFKD and dropping
# combining marks (which already fold İ, ё, й, ș/ş, ț/ţ, harakat and the hamza seats أ إ آ ؤ ئ).
_FOLDED = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ı": "i", "ł": "l", "ґ": "г",
        "ٱ": "ا", "ى": "ي", "ة": "ه", "ی": "ي", "ک": "ك",  # Arabic, and Persian keyboards
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)


class TermError(ValueError):
    """A term that cannot be used; `field` names the form field, `reason` a message key."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def normalise_term(raw: str) -> str:
    """Fold case, accents, width and spacing so that what a client types matches what was said."""
    text = unicodedata.normalize("NFKC", raw).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_FOLDED)
    text = _DROPPED.sub("", text)
    return _SEPARATORS.sub(" ", text).strip()


def validate_term(field: str, raw: str) -> str:
    """Return the normalised term or raise TermError saying what is wrong with it."""
    if len(raw) > 4 * MAX_TERM_CHARS:
        raise TermError(field, "too-long")
    term = normalise_term(raw)
    if not term:
        raise TermError(field, "empty")
    if len(term) > MAX_TERM_CHARS:
        raise TermError(field, "too-long")
    if not all(ch == " " or ch.isalnum() for ch in term):
        raise TermError(field, "characters")
    return term


@dataclass(frozen=True)
class Terms:
    """Three validated, normalised terms."""

    name: str
    location: str
    word: str

    @classmethod
    def from_form(cls, form: dict[str, str]) -> "Terms":
        """Validate the three form fields; raise TermError for the first bad one."""
        values = [validate_term(field, form.get(field, "")) for field in TERM_FIELDS]
        return cls(*values)

    def room_id(self, secret: str) -> str:
        """Return the keyed hash that names this room everywhere outside the browser."""
        message = "\x1f".join((self.name, self.location, self.word)).encode()
        digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
        return base64.b32encode(digest).decode().lower()[:ROOM_ID_CHARS]


def room_fingerprint(secret: str) -> Callable[[str], str]:
    """Return the keyed hash under which an ended room is remembered for the reuse warning."""

    def fingerprint(room_id: str) -> str:
        return hmac.new(secret.encode(), b"ended:" + room_id.encode(), hashlib.sha256).hexdigest()

    return fingerprint


def is_room_id(value: str) -> bool:
    """Tell whether a string has the shape of a room id (it may still name no room)."""
    return bool(ROOM_ID_PATTERN.match(value))


@lru_cache(maxsize=None)
def word_list(language: str) -> tuple[str, ...]:
    """Return the harmless, easy-to-spell nouns offered for the third term in a language."""
    text = resources.files("praatbox").joinpath("wordlists", f"{language}.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def draw_words(language: str, count: int) -> list[str]:
    """Draw distinct random words with a cryptographic generator."""
    words = word_list(language)
    chosen: list[str] = []
    while len(chosen) < min(count, len(words)):
        word = secrets.choice(words)
        if word not in chosen:
            chosen.append(word)
    return chosen
