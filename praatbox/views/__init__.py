"""HTTP views: home (terms form), room (call page), pages (help, health, metrics)."""

from __future__ import annotations

import math

from flask import Response, current_app, make_response, redirect, request
from flask_babel import gettext as _

from praatbox.keys import address_pseudonym


def client_redirect(target: str) -> Response:
    """Redirect a plain form post with 303, an HTMX request with HX-Redirect."""
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return make_response(redirect(target, 303))


def request_address() -> str:
    """A keyed pseudonym of the visitor's address: limits need it, Redis must not hold it."""
    return address_pseudonym(current_app.config["ADDRESS_KEY"], request.remote_addr or "")


def wait_text(wait: float) -> str:
    """Say, translated, how long a guesser must wait before the next attempt is checked."""
    return _("Too many attempts. Please wait %(seconds)d seconds and try again.",
             seconds=math.ceil(wait))


def with_retry_after(response: Response, wait: float) -> Response:
    """Add `Retry-After` (whole seconds, rounded up) to a 429 answer."""
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response
