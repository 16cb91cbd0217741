"""Praatbox: confidential video calls for counsellors and their clients."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask, request

from praatbox.config import load_settings
from praatbox.hub.memory import MemoryHub
from praatbox.rooms.attempts import AttemptLimiter
from praatbox.rooms.registry import RoomRegistry
from praatbox.terms import room_fingerprint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Praatbox(Flask):
    """Flask, logging failures by route pattern: a request path carries a room id."""

    def log_exception(self, exc_info: Any) -> None:
        rule = request.url_rule.rule if request.url_rule else "(no route)"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application: pages, HTMX partials and the signaling WebSocket."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = Praatbox(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    app.config.update(load_settings(os.environ, test_config))
    registry = RoomRegistry(
        max_participants=app.config["MAX_ROOM_PARTICIPANTS"],
        empty_grace_seconds=app.config["ROOM_EMPTY_GRACE_SECONDS"],
        fingerprint=room_fingerprint(app.config["ENDED_ROOM_KEY"]),
    )
    lockout = (app.config["PASSWORD_LOCKOUT_FAILURES"], app.config["PASSWORD_LOCKOUT_SECONDS"])
    if app.config["REDIS_URL"]:
        from praatbox.hub.redis_attempts import RedisAttemptLimiter
        from praatbox.hub.redis_store import RedisHub

        shared = RedisHub.from_url(app.config["REDIS_URL"], registry)
        app.extensions["praatbox.hub"] = shared
        app.extensions["praatbox.attempts"] = RedisAttemptLimiter(shared.redis, *lockout)
    else:
        app.extensions["praatbox.hub"] = MemoryHub(registry)
        app.extensions["praatbox.attempts"] = AttemptLimiter(*lockout)

    from praatbox import i18n, limits, security
    from praatbox.signaling import room_socket
    from praatbox.views import home, pages, room

    security.init_security(app)
    limits.init_limits(app)
    i18n.init_i18n(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(room.bp)
    app.register_blueprint(pages.bp)
    room_socket.init_signaling(app)
    return app
