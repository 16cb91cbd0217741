"""Interface language: picked on the home page, remembered in the session, else the browser's."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

LANGUAGE_NAMES = {
    "de": "Deutsch",
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "ro": "Română",
    "uk": "Українська",
    "ru": "Русский",
}
RIGHT_TO_LEFT_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"


def available_languages() -> tuple[str, ...]:
    return tuple(lang for lang in current_app.config["LANGUAGES"] if lang in LANGUAGE_NAMES)


def fallback_language() -> str:
    """Return English when it is offered, else the first offered language (a box may drop it)."""
    languages = available_languages()
    return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in languages or not languages else languages[0]


def offered_language(tag: object) -> str | None:
    """Map a tag such as "nl-BE", "NL_be" or "nl" to the offered language it names, else None."""
    if not isinstance(tag, str):
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in available_languages() else None


def select_locale() -> str:
    """Return the session's language, else the browser's best offered match, else the fallback.

    The result is always an offered language, never a raw browser tag such as "en-US".
    """
    chosen = offered_language(session.get("lang"))
    if chosen:
        return chosen
    return request.accept_languages.best_match(available_languages()) or fallback_language()


def _remember_requested_language() -> None:
    requested = offered_language(request.args.get("lang"))
    if requested:
        session["lang"] = requested


def current_language() -> str:
    """Return the language of this request's page: one of the offered languages (see above)."""
    return str(get_locale() or fallback_language())


def text_direction(lang: str | None = None) -> str:
    """Return "rtl" or "ltr" for a language (default: this page's), for the document's dir."""
    return "rtl" if (lang or current_language()) in RIGHT_TO_LEFT_LANGUAGES else "ltr"


def init_i18n(app: Flask) -> None:
    """Wire Flask-Babel to the bundled catalogues and expose the language to templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    app.before_request(_remember_requested_language)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["text_direction"] = text_direction
    app.jinja_env.globals["language_names"] = lambda: [
        (lang, LANGUAGE_NAMES[lang]) for lang in available_languages()
    ]
