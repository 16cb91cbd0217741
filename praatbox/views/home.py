"""Home page: the three-terms form that starts (counsellor) or joins (client) a session."""

from __future__ import annotations

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

from praatbox import membership
from praatbox.i18n import current_language
from praatbox.terms import TERM_FIELDS, TermError, Terms, draw_words
from praatbox.views import client_redirect, hub

bp = Blueprint("home", __name__)

WORDS_OFFERED = 6


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
    status: int, error: TermError | None = None, reused: bool = False
) -> Response:
    values = {field: request.form.get(field, "")[:200] for field in TERM_FIELDS}
    context = {
        "values": values,
        "error": _term_error_text(error) if error else None,
        "error_field": error.field if error else None,
        "reused": reused,
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


@bp.post("/start")
def start() -> Response:
    """Open the room for these terms with this browser as its moderator."""
    try:
        room_id = _room_id_from_form()
    except TermError as error:
        return _render_form(422, error)
    rooms = hub()
    if (not rooms.room_is_open(room_id) and rooms.recently_used(room_id)
            and not request.form.get("reuse")):
        return _render_form(409, reused=True)
    rooms.open_room(room_id)
    membership.grant(session, room_id, membership.MODERATOR)
    return client_redirect(url_for("room.show", room_id=room_id))


@bp.post("/join")
def join() -> Response:
    """Send a client to the room for these terms (or its waiting screen)."""
    try:
        room_id = _room_id_from_form()
    except TermError as error:
        return _render_form(422, error)
    membership.grant(session, room_id, membership.CLIENT)
    return client_redirect(url_for("room.show", room_id=room_id))
