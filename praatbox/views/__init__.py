"""HTTP views: home (terms form), room (call page), pages (help, health, metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, current_app, make_response, redirect, request

if TYPE_CHECKING:  # the Redis hub (and redis) is only imported when it is configured
    from praatbox.hub.memory import MemoryHub
    from praatbox.hub.redis_store import RedisHub


def hub() -> MemoryHub | RedisHub:
    """Return the application's room hub (in memory, or in Redis when PRAATBOX_REDIS_URL is set)."""
    rooms: MemoryHub | RedisHub = current_app.extensions["praatbox.hub"]
    return rooms


def client_redirect(target: str) -> Response:
    """Redirect a plain form post with 303, an HTMX request with HX-Redirect."""
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return make_response(redirect(target, 303))
