"""Help, privacy and self-test pages, plus health and metrics for the operator."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
)
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from praatbox.hub import current_hub
from praatbox.ice import ice_servers_for_request
from praatbox.web_metrics import REGISTRY

bp = Blueprint("pages", __name__)


@bp.get("/faq")
def faq() -> str:
    return render_template("faq.html")


@bp.get("/privacy")
def privacy() -> str:
    return render_template("privacy.html")


@bp.get("/check")
def check() -> Response:
    """Test camera, microphone, speaker and network alone, against the room page's ICE servers."""
    ice_servers = ice_servers_for_request(current_app.config, time.time())
    response = make_response(render_template("check.html", config={"iceServers": ice_servers}))
    response.headers["Cache-Control"] = "no-store"  # it carries fresh TURN credentials
    return response


@bp.get("/healthz")
def healthz() -> Response:
    rooms, participants = current_hub().counts()
    return jsonify(status="ok", rooms=rooms, participants=participants)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; counts only, never room ids or terms."""
    response = make_response(generate_latest(REGISTRY), 200)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
