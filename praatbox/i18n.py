"""Interface language: picked on the home page, remembered in the session, else the browser's."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

LANGUAGE_NAMES = {"de": "Deutsch", "nl": "Nederlands", "en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"


def available_languages() -> tuple[str, ...]:
    return tuple(lang for lang in current_app.config["LANGUAGES"] if lang in LANGUAGE_NAMES)


def select_locale() -> str:
    """Return the session's language, else the best match for the browser, else English."""
    chosen = session.get("lang")
    languages = available_languages()
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or DEFAULT_LANGUAGE


def _remember_requested_language() -> None:
    requested = request.args.get("lang")
    if requested and requested in available_languages():
        session["lang"] = requested


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def init_i18n(app: Flask) -> None:
    """Wire Flask-Babel to the bundled catalogues and expose the language to templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    app.before_request(_remember_requested_language)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["language_names"] = lambda: [
        (lang, LANGUAGE_NAMES[lang]) for lang in available_languages()
    ]
