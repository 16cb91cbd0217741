"""HTTP views: home (terms form), room (call page), pages (help, health, metrics)."""

from __future__ import annotations

from flask import Response, make_response, redirect, request


def client_redirect(target: str) -> Response:
    """Redirect a plain form post with 303, an HTMX request with HX-Redirect."""
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return make_response(redirect(target, 303))
