"""Per-address request limits (Flask-Limiter), shared through Redis when several processes run.

The three terms are a meeting code, not a secret: with an organisation's name and town known,
only the word is left to guess. Every lookup of terms or of a room the visitor holds no role in
counts against one budget per address, so walking the word list costs hours, not seconds.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, request, session
from flask_babel import gettext as _
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from praatbox.rooms import membership
from praatbox.web_counters import ROOMS_OPENED, TERM_LOOKUP, rate_limited

logger = logging.getLogger(__name__)


def _log_breach(breach: RequestLimit) -> None:
    """One line per refused request, naming the budget but not the address (personal data)."""
    scope = "term-lookup" if breach.shared else (request.endpoint or "request")
    logger.info("limits: %s budget spent (%s)", scope, breach.limit)
    rate_limited(TERM_LOOKUP if breach.shared else ROOMS_OPENED)


limiter = Limiter(key_func=get_remote_address, headers_enabled=True, on_breach=_log_breach)


def term_lookup_limit() -> str:
    return str(current_app.config["TERM_LOOKUP_LIMIT"])


def rooms_opened_limit() -> str:
    return str(current_app.config["ROOMS_OPENED_LIMIT"])


def has_role_in_requested_room() -> bool:
    """A visitor already sent to a room (by /start or /join) is not looking anything up."""
    room_id = (request.view_args or {}).get("room_id", "")
    return membership.role_in(session, room_id) is not None


def room_was_opened(response: object) -> bool:
    """Count /start against the rooms-opened budget only when it opened a room."""
    status = getattr(response, "status_code", 0)
    headers = getattr(response, "headers", {})
    return status == 303 or (status == 200 and "HX-Redirect" in headers)


# One budget for every kind of lookup (decorate each view with this).
term_lookup = limiter.shared_limit(term_lookup_limit, scope="term-lookup",
                                   exempt_when=has_role_in_requested_room)
rooms_opened = limiter.limit(rooms_opened_limit, deduct_when=room_was_opened)


def wait_message() -> str:
    """Say, translated, how long the visitor must wait (the same figure as `Retry-After`)."""
    current = limiter.current_limit
    seconds = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    return _("Too many tries from your connection. Please wait %(minutes)d minutes and try "
             "again.", minutes=max(1, math.ceil(seconds / 60)))


def init_limits(app: Flask) -> None:
    """Keep the counts in Redis when rooms are (every process must see the same counts)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "praatbox:limits")
    # Flask-Limiter's own breach line carries the client address; `_log_breach` replaces it.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    limiter.init_app(app)
