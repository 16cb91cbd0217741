"""Home page: the three-terms form that starts (counsellor) or joins (client) a session."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from praatbox import limits, web_counters
from praatbox.hub import current_attempts, current_hub
from praatbox.i18n import current_language
from praatbox.rooms import membership
from praatbox.rooms.model import LockState
from praatbox.terms import TERM_FIELDS, TermError, Terms, draw_words
from praatbox.views import client_redirect, request_address, wait_text, with_retry_after

bp = Blueprint("home", __name__)

WORDS_OFFERED = 6
# Wrong moderator codes count apart from the room's wrong passwords.
RECLAIM_ATTEMPTS_PREFIX = "reclaim:"


def _term_error_text(error: TermError) -> str:
    labels = {
        "name": _("the name of the box"),
        "location": _("your location"),
        "word": _("the word"),
    }
    messages = {
        "empty": _("Please fill in %(field)s.", field=labels[error.field]),
        "too-long": _("%(field)s is too long (40 letters at most).", field=labels[error.field]),
        "characters": _(
            "%(field)s may only contain letters, numbers and spaces.", field=labels[error.field]
        ),
    }
    return messages[error.reason]


def _render_form(
    status: int, error: TermError | None = None, reused: bool = False, message: str | None = None,
    running: bool = False,
) -> Response:
    values = {field: request.form.get(field, "")[:200] for field in TERM_FIELDS}
    context = {
        "values": values,
        "error": _term_error_text(error) if error else message,
        "error_field": error.field if error else None,
        "reused": reused,
        "running": running,
        "words": draw_words(current_language(), WORDS_OFFERED),
    }
    template = "partials/_terms_form.html" if request.headers.get("HX-Request") else "home.html"
    return make_response(render_template(template, **context), status)


@bp.get("/")
def index() -> Response:
    return _render_form(200)


@bp.get("/words")
def words() -> str:
    """Return freshly drawn words (the "new words" button swaps them in)."""
    return render_template(
        "partials/_words.html", words=draw_words(current_language(), WORDS_OFFERED)
    )


def _room_id_from_form() -> str:
    terms = Terms.from_form({field: request.form.get(field, "") for field in TERM_FIELDS})
    return terms.room_id(current_app.config["ROOM_ID_KEY"])


@bp.errorhandler(429)
def too_many_lookups(error: Exception) -> Response:  # noqa: ARG001 - Flask handler signature
    """Answer a guesser (or a very busy office) with the form, a wait and `Retry-After`."""
    return _render_form(429, message=limits.wait_message())


@bp.post("/start")
@limits.term_lookup
@limits.rooms_opened
def start() -> Response:
    """Open the room for these terms with this browser as its moderator."""
    try:
        room_id = _room_id_from_form()
    except TermError as error:
        return _render_form(422, error)
    rooms = current_hub()
    if (not rooms.room_is_open(room_id) and rooms.recently_used(room_id)
            and not request.form.get("reuse")):
        return _render_form(409, reused=True)
    code = membership.new_moderator_code()
    if rooms.open_room(room_id, membership.moderator_code_hash(code)):
        membership.grant_moderator(session, room_id, code)
        return client_redirect(url_for("room.show", room_id=room_id))
    # The room runs already: its moderator stays who it is, unless this is their browser or
    # they typed the moderator code their invite panel shows.
    lock = rooms.lock_state(room_id)
    if membership.is_moderator(session, room_id, lock):
        return client_redirect(url_for("room.show", room_id=room_id))
    typed = request.form.get("moderator_code", "")
    if lock is None or not typed:
        return _render_form(409, running=True)
    return _reclaim(room_id, typed, lock)


def _reclaim(room_id: str, typed: str, lock: LockState) -> Response:
    """Give the moderator role of a running room to whoever types its moderator code; wrong
    codes are failed attempts, limited per address like wrong passwords."""
    limiter = current_attempts()
    key = RECLAIM_ATTEMPTS_PREFIX + room_id
    address, now = request_address(), time.time()
    wait = limiter.retry_after(key, address, now)
    if wait > 0:
        web_counters.rate_limited(web_counters.MODERATOR_CODE)
        return with_retry_after(_render_form(429, running=True, message=wait_text(wait)), wait)
    if membership.code_matches(typed, lock):
        limiter.succeeded(key, address)
        membership.grant_moderator(session, room_id, typed)
        return client_redirect(url_for("room.show", room_id=room_id))
    limiter.failed(key, address, now)
    web_counters.password_failed(web_counters.MODERATOR_CODE)
    return _render_form(422, running=True,
                        message=_("That moderator code is not right. Please try again."))


@bp.post("/join")
@limits.term_lookup
def join() -> Response:
    """Send a client to the room for these terms (or its waiting screen)."""
    try:
        room_id = _room_id_from_form()
    except TermError as error:
        return _render_form(422, error)
    membership.grant(session, room_id, membership.CLIENT)
    return client_redirect(url_for("room.show", room_id=room_id))
