"""The call page, the password prompt, and the waiting screen shown until the counsellor starts."""

from __future__ import annotations

import time
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
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
from praatbox.ice import ice_servers_for_request
from praatbox.rooms import membership
from praatbox.rooms.passwords import (
    MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
    hash_password,
    password_matches,
)
from praatbox.terms import is_room_id
from praatbox.views import client_redirect, request_address, wait_text, with_retry_after
from praatbox.views.threadpool import run_in_threadpool

bp = Blueprint("room", __name__, url_prefix="/r")

AUTO_ENTER_KEY = "auto_enter"


def _checked_room_id(room_id: str) -> str:
    if not is_room_id(room_id):
        abort(404)
    return room_id


def _site_url() -> str:
    """Return the public address of this site (PRAATBOX_PUBLIC_URL, else the request's host)."""
    public_url = str(current_app.config.get("PUBLIC_URL") or "")
    return (public_url or request.host_url).rstrip("/")


def _invite_links(room_id: str) -> dict[str, str]:
    """Build the not-confidential invitation: the room's address and nothing else."""
    room_url = _site_url() + url_for("room.show", room_id=room_id)
    text = _("Join my Praatbox video session: %(url)s", url=room_url)
    subject = _("Invitation to a video session")
    return {
        "room_url": room_url,
        "site_url": _site_url() + url_for("home.index"),
        "whatsapp": "https://wa.me/?text=" + quote(text, safe=""),
        "email": "mailto:?subject=" + quote(subject, safe="") + "&body=" + quote(text, safe=""),
    }


@bp.errorhandler(429)
def too_many_lookups(error: Exception) -> Response:  # noqa: ARG001 - Flask handler signature
    return make_response(render_template("error.html", message=limits.wait_message()), 429)


@bp.get("/<room_id>")
@limits.term_lookup
def show(room_id: str) -> Response:
    """Show the call, or what stands before it: waiting screen, password prompt, or refusal."""
    room_id = _checked_room_id(room_id)
    lock = current_hub().lock_state(room_id)
    status = membership.entry(session, room_id, lock)
    if status == "closed":
        return make_response(render_template("waiting.html", room_id=room_id))
    if status == "kicked":
        return make_response(render_template("kicked.html"), 403)
    if status == "password":
        return make_response(render_template("password.html", room_id=room_id, error=None))
    # Only /start opens a room: a moderator cookie of an ended session re-opens nothing.
    membership.grant(session, room_id, status)
    config = {
        "roomId": room_id,
        "moderator": status == membership.MODERATOR,
        "language": current_language(),  # an offered language, never a raw "nl-BE"
        "iceServers": ice_servers_for_request(current_app.config, time.time()),
        "iceTransportPolicy": current_app.config["ICE_TRANSPORT_POLICY"],
        # Whoever waited for the counsellor was promised to join by itself: no preview then.
        "autoEnter": session.pop(AUTO_ENTER_KEY, None) == room_id,
        # Only the counsellor's browser streams, so only its page learns where to.
        "streaming": _streaming_endpoint() if status == membership.MODERATOR else None,
    }
    return make_response(render_template(
        "room.html", room_id=room_id, config=config, moderator=config["moderator"],
        streaming=config["streaming"] is not None,
        locked=bool(lock and lock.password_hash), password_error=None,
        invite=_invite_links(room_id) if config["moderator"] else None,
        moderator_code=membership.moderator_code(session, room_id) if config["moderator"] else None,
    ))


def _streaming_endpoint() -> dict[str, str] | None:
    """Where LIVE goes (PRAATBOX_STREAMING_WHIP_URL), or None: no LIVE on this server."""
    url = str(current_app.config["STREAMING_WHIP_URL"])
    if not url:
        return None
    token = str(current_app.config["STREAMING_WHIP_TOKEN"])
    return {"url": url, **({"token": token} if token else {})}


@bp.get("/<room_id>/ice")
@limits.term_lookup
def ice(room_id: str) -> Response:
    """Give a participant TURN credentials still valid, for an ICE restart late in a long call."""
    room_id = _checked_room_id(room_id)
    status = membership.entry(session, room_id, current_hub().lock_state(room_id))
    if status not in (membership.MODERATOR, membership.CLIENT) or membership.role_in(
            session, room_id) is None:
        abort(403)
    response = jsonify(iceServers=ice_servers_for_request(current_app.config, time.time()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<room_id>/waiting")
@limits.term_lookup
def waiting(room_id: str) -> Response:
    """Answer the waiting screen's poll: reload into the room once it is open."""
    room_id = _checked_room_id(room_id)
    response = make_response("", 204)
    if current_hub().room_is_open(room_id):
        session[AUTO_ENTER_KEY] = room_id
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"
    return response


def _password_prompt(room_id: str, error: str, status: int) -> Response:
    template = "partials/_password_prompt.html" if request.headers.get("HX-Request") else (
        "password.html")
    return make_response(render_template(template, room_id=room_id, error=error), status)


@bp.post("/<room_id>/password")
def unlock(room_id: str) -> Response:
    """Check a client's password; wrong guesses slow down their address and can lock the room."""
    room_id = _checked_room_id(room_id)
    lock = current_hub().lock_state(room_id)
    if lock is None or lock.password_hash is None:
        return client_redirect(f"/r/{room_id}")
    address, now = request_address(), time.time()
    wait = current_attempts().retry_after(room_id, address, now)
    if wait > 0:
        if current_attempts().room_locked(room_id, now):
            message = _("Too many wrong passwords were typed for this session. Your counsellor "
                        "can let you in: please call them.")
        else:
            message = wait_text(wait)
        web_counters.rate_limited(web_counters.ROOM_PASSWORD)
        return with_retry_after(_password_prompt(room_id, message, 429), wait)
    guess = request.form.get("password", "")[:MAX_PASSWORD_CHARS]
    if run_in_threadpool(password_matches, guess, lock.password_hash):
        current_attempts().succeeded(room_id, address)
        membership.remember_unlock(session, room_id, lock.version)
        membership.grant(session, room_id, membership.CLIENT)
        return client_redirect(f"/r/{room_id}")
    locked_out = current_attempts().failed(room_id, address, now)
    web_counters.password_failed(web_counters.ROOM_PASSWORD)
    current_hub().record_failed_attempt(room_id, locked_out)
    return _password_prompt(room_id, _("That password is not right. Please try again."), 422)


@bp.post("/<room_id>/attempts/reset")
def reset_attempts(room_id: str) -> Response:
    """Let the moderator reopen a room that wrong passwords locked (an HTMX button)."""
    room_id = _checked_room_id(room_id)
    if not membership.is_moderator(session, room_id, current_hub().lock_state(room_id)):
        abort(403)
    current_attempts().reset_room(room_id)
    # The box hides again until the next lockout.
    return make_response(render_template("partials/_attempts_reset.html", room_id=room_id))


@bp.post("/<room_id>/lock")
def lock(room_id: str) -> Response:
    """Let the moderator set or change the room password (an HTMX partial on the call page)."""
    room_id = _checked_room_id(room_id)
    if not membership.is_moderator(session, room_id, current_hub().lock_state(room_id)):
        abort(403)
    password = request.form.get("password", "")
    error = None
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        error = _("Use between %(low)d and %(high)d characters: a short password can be "
                  "guessed.", low=MIN_PASSWORD_CHARS, high=MAX_PASSWORD_CHARS)
    elif not current_hub().room_is_open(room_id):
        abort(404)
    else:
        current_hub().set_password(room_id, run_in_threadpool(hash_password, password))
    return make_response(render_template(
        "partials/_password_form.html", room_id=room_id, locked=error is None,
        password_error=error), 422 if error else 200)
