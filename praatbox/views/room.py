"""The call page, and the waiting screen a client sees until the counsellor has started."""

from __future__ import annotations

import time

from flask import Blueprint, Response, abort, current_app, make_response, render_template, session

from praatbox import membership
from praatbox.ice import ice_servers_for_request
from praatbox.terms import is_room_id
from praatbox.views import hub

bp = Blueprint("room", __name__, url_prefix="/r")


def _checked_room_id(room_id: str) -> str:
    if not is_room_id(room_id):
        abort(404)
    return room_id


@bp.get("/<room_id>")
def show(room_id: str) -> Response:
    """Show the call, or the waiting screen while the room is not open yet."""
    room_id = _checked_room_id(room_id)
    role = membership.role_in(session, room_id)
    if role == membership.MODERATOR:
        hub().open_room(room_id)  # a counsellor re-entering after the room was forgotten
    elif not hub().room_is_open(room_id):
        return make_response(render_template("waiting.html", room_id=room_id), 200)
    else:
        role = membership.CLIENT
        membership.grant(session, room_id, role)
    config = {
        "roomId": room_id,
        "moderator": role == membership.MODERATOR,
        "iceServers": ice_servers_for_request(current_app.config, time.time()),
    }
    return make_response(render_template("room.html", room_id=room_id, config=config), 200)


@bp.get("/<room_id>/waiting")
def waiting(room_id: str) -> Response:
    """Answer the waiting screen's poll: reload into the room once it is open."""
    room_id = _checked_room_id(room_id)
    response = make_response("", 204)
    if hub().room_is_open(room_id):
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"
    return response
