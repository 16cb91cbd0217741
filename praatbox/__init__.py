"""Praatbox: confidential video calls for counsellors and their clients."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask, request

from praatbox import logs
from praatbox.config import load_settings
from praatbox.hub import make_hub

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Praatbox(Flask):
    """Flask, logging failures by route pattern: a request path carries a room id."""

    def log_exception(self, exc_info: Any) -> None:
        rule = request.url_rule.rule if request.url_rule else "(no route)"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application: pages, HTMX partials and the signaling WebSocket."""
    logs.configure_logging(logging.INFO)
    app = Praatbox(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    app.config.update(load_settings(os.environ, test_config))
    app.before_request(logs.start_correlation)  # first: every later hook logs with the id
    app.teardown_request(logs.end_correlation)
    hub, attempts = make_hub(app.config)
    app.extensions["praatbox.hub"] = hub
    app.extensions["praatbox.attempts"] = attempts

    from praatbox import compression, i18n, limits, module_preload, security
    from praatbox.signaling import relay_socket, room_socket
    from praatbox.signaling.transport import sock
    from praatbox.views import home, pages, room

    security.init_security(app)
    limits.init_limits(app)
    i18n.init_i18n(app)
    compression.init_compression(app)
    module_preload.init_module_preload(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(room.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(room_socket.bp)
    app.register_blueprint(relay_socket.bp)
    sock.init_app(app)
    return app
