"""The signaling WebSocket handler: authenticate before the upgrade, then decode, route, reply.

Runs under gunicorn's gevent worker (see gunicorn.conf.py): every socket costs greenlets, not
threads. Each socket has an outbound queue drained by its own writer, so a slow participant can
never block the others, and a budget of messages and bytes per second (`rate`), so a flooding
participant slows down only itself.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from typing import Any

from flask import Blueprint, abort, current_app, g, request, session
from wsproto.frame_protocol import CloseReason

from praatbox import web_counters
from praatbox.hub import Hub, SocketEnd, current_hub
from praatbox.rooms import membership, resume
from praatbox.rooms.model import LIVE, RoomError, StreamingOff
from praatbox.security import same_origin
from praatbox.signaling.protocol import (
    ProtocolError,
    decode_client_frame,
    decode_resume_frame,
    error_message,
)
from praatbox.signaling.rate import Budget, SenderRates, SendRate
from praatbox.signaling.transport import (
    CLOSE_POLICY_VIOLATION,
    LINGER_SECONDS,
    RECEIVE_TIMEOUT_SECONDS,
    SocketOutbox,
    Transport,
    received_frames,
    sock,
    use_sendall_transport,
)
from praatbox.terms import is_room_id

logger = logging.getLogger(__name__)

ABUSE_WINDOW_SECONDS = 60.0
ABUSE_MAX_ERRORS = 10
# `/ws/<room_id>?e2ee=1`: the page says its browser can encrypt media frames end to end. Any
# other value (or none) counts as "cannot": never claim encryption a browser did not state.
E2EE_CAPABLE = "1"
# `/ws/<room_id>?resume=1`: the page comes back after a drop; its first frame is a `resume`
# (the token never goes in the URL: URLs reach logs).
RESUMING = "1"
RESUME_FRAME_TIMEOUT_SECONDS = 5.0


bp = Blueprint("signaling", __name__)
senders = SenderRates()  # the signaling budgets of this process's visitors

@bp.before_request
def _authorise_upgrade() -> None:
    """Refuse foreign origins, browsers not admitted to the room and flooders waiting out their
    budget, before any upgrade."""
    if request.endpoint != "signaling.room_socket":
        return
    room_id = (request.view_args or {}).get("room_id", "")
    if not is_room_id(room_id):
        abort(404)
    public_url = current_app.config["PUBLIC_URL"]
    if not same_origin(request.headers.get("Origin"), request.host, public_url):
        abort(403)
    g.signaling_sender = _sender_key()  # before `entry` may give the session a visitor id
    if senders.refused_for(g.signaling_sender, time.monotonic()) > 0:
        web_counters.rate_limited(web_counters.SIGNALING_CONNECT)
        abort(429)
    lock = current_hub().lock_state(room_id)
    door = membership.entry(session, room_id, lock)
    # A participant the counsellor locked the room behind comes back with a token, not the
    # password (a browser that never had a role in the room gets no socket at all).
    comes_back = (request.args.get("resume") == RESUMING and door == "password"
                  and membership.role_in(session, room_id) is not None)
    if door not in (membership.MODERATOR, membership.CLIENT) and not comes_back:
        abort(403)
    use_sendall_transport()


def _sender_key() -> str:
    """Whose signaling budget a socket spends: the visitor id its cookie carries or, for a cookie
    without one (a counsellor's), the cookie itself: reconnecting never brings a fresh budget."""
    visitor = session.get("visitor")
    if isinstance(visitor, str):
        return visitor
    cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"], "")
    return hashlib.sha256(cookie.encode()).hexdigest()


class _AbuseCounter:
    """Count protocol errors in a sliding window; too many means the client is broken or hostile."""

    def __init__(self) -> None:
        self._times: list[float] = []

    def too_many(self, now: float) -> bool:
        self._times = [t for t in self._times if now - t < ABUSE_WINDOW_SECONDS]
        self._times.append(now)
        return len(self._times) > ABUSE_MAX_ERRORS


@sock.route("/ws/<room_id>", bp=bp)
def room_socket(ws: Any, room_id: str) -> None:
    """Serve one participant for the life of their connection."""
    token = resume.new_token()
    socket_hash = resume.token_hash(token, g.signaling_sender)
    # The first message of every socket carries its token: worthless until the room keeps its
    # hash (below), and never the same twice.
    outbox = SocketOutbox(ws, {"resumeToken": token,
                               "graceSeconds": float(current_app.config["RESUME_GRACE_SECONDS"])})
    rate = senders.of(g.signaling_sender, Budget.from_config(current_app.config), time.monotonic())
    try:
        _serve(ws, room_id, outbox, socket_hash, rate)
    finally:
        senders.closed(g.signaling_sender, time.monotonic())


def _serve(ws: Any, room_id: str, outbox: SocketOutbox, socket_hash: str, rate: SendRate) -> None:
    """Take a place in the room, then handle the participant's frames until the socket ends."""
    rooms = current_hub()
    peer_id = _take_place(ws, rooms, room_id, outbox, socket_hash, rate)
    if peer_id is None:
        return
    reason = "disconnected"
    abuse = _AbuseCounter()
    max_e2ee_data_bytes = int(current_app.config["E2EE_MAX_DATA_BYTES"])
    held_at_start, known_flooder, flooded = rate.held_frames, rate.exhausted(), False
    closed_by_us = False
    try:
        for raw in received_frames(ws):
            if not _waited_for_budget(ws, rate, raw):
                flooded = closed_by_us = True
                outbox.put(error_message("rate-limited", "you are sending too fast"))
                web_counters.rate_limited(web_counters.SIGNALING_FLOOD)
                _close_for_policy(ws, outbox, "sending too fast")
                return
            try:
                message = decode_client_frame(raw, max_e2ee_data_bytes)
                if message["type"] == "hangup":
                    reason = "hangup"
                    break
                if message["type"] == "ping":
                    outbox.put({"type": "pong"})
                elif message["type"] == "ice-restart":
                    web_counters.ice_restart_reported()
                elif message["type"] == "capture" and message["kind"] == LIVE and \
                        not current_app.config["STREAMING_WHIP_URL"]:
                    raise StreamingOff(room_id)
                else:
                    rooms.handle(room_id, peer_id, message)
            except (ProtocolError, RoomError) as error:
                code = error.code
                logger.info("signaling: rejected a frame (%s)", code)
                outbox.put(error_message(code, _error_text(error)))
                if abuse.too_many(time.monotonic()):
                    closed_by_us = True
                    logger.info("signaling: closing a connection after repeated errors")
                    _close_for_policy(ws, outbox, "too many bad messages")
                    return
    finally:
        if rate.held_frames > held_at_start and not known_flooder:  # not once per reconnect
            logger.warning("signaling: held back a connection that sent too fast (%d frames)%s",
                           rate.held_frames - held_at_start, ", then closed it" if flooded else "")
        # No close frame (a network change, a dead process): the page may resume.
        dropped = (reason == "disconnected" and not closed_by_us
                   and ws.close_reason == CloseReason.NO_STATUS_RCVD)
        rooms.disconnect(room_id, peer_id, reason, SocketEnd(outbox, socket_hash, dropped))
        outbox.close()


def _take_place(
    ws: Any, rooms: Hub, room_id: str, outbox: SocketOutbox, socket_hash: str, rate: SendRate
) -> str | None:
    """Join the room, or take back a place after a drop; return the peer id, or None when
    refused (the socket is closed then)."""
    try:
        if request.args.get("resume") == RESUMING:
            return _resume(ws, rooms, room_id, outbox, socket_hash, rate)
        peer_id = secrets.token_urlsafe(9)
        moderator = membership.is_moderator(session, room_id, rooms.lock_state(room_id))
        rooms.connect(room_id, peer_id, membership.visitor_id(session), moderator, outbox,
                      e2ee=request.args.get("e2ee") == E2EE_CAPABLE, resume_hash=socket_hash)
        return peer_id
    except RoomError as error:
        outbox.put(error_message(error.code, "you cannot join this room now"))
        outbox.close()
        ws.close(CLOSE_POLICY_VIOLATION, error.code)
        return None


def _resume(
    ws: Any, rooms: Hub, room_id: str, outbox: SocketOutbox, socket_hash: str, rate: SendRate
) -> str:
    """Check the first frame's token and give its holder their place back; every refusal looks
    the same, and costs the sender's signaling budget."""
    raw = ws.receive(timeout=RESUME_FRAME_TIMEOUT_SECONDS)
    try:
        if raw is None:
            raise resume.ResumeRefused(room_id)
        web_counters.signaling_received(raw)
        frame = decode_resume_frame(raw, resume.MAX_TOKEN_CHARS)
        presented = resume.token_hash(frame["token"], g.signaling_sender)
        rooms.resume(room_id, frame["peer"], presented, socket_hash, outbox)
    except (ProtocolError, resume.ResumeRefused):
        web_counters.resume_refused()
        rate.penalise(float(current_app.config["RESUME_REFUSAL_COST_MESSAGES"]),
                      time.monotonic())
        logger.info("signaling: refused a resume")
        raise resume.ResumeRefused(room_id) from None
    return str(frame["peer"])


def _waited_for_budget(ws: Any, rate: SendRate, raw: str | bytes) -> bool:
    """Hold a sender over its budget back (read nothing from it meanwhile); False: close it."""
    now = time.monotonic()
    wait = rate.hold(len(raw.encode()) if isinstance(raw, str) else len(raw), now)
    if wait == 0:
        return True
    if rate.exhausted():
        return False
    if isinstance(ws.sock, Transport):
        ws.sock.resume_at = now + wait
    time.sleep(wait)
    return True


def _close_for_policy(ws: Any, outbox: SocketOutbox, reason: str) -> None:
    """Close with 1008 once the error frame already queued has gone out, and return only when
    the reader has closed the transport (the server closes the socket once this view returns)."""
    outbox.close()
    if isinstance(ws.sock, Transport):
        ws.sock.resume_at = 0.0
    if ws.connected:
        ws.close(CLOSE_POLICY_VIOLATION, reason)
    ws.thread.join(timeout=LINGER_SECONDS + RECEIVE_TIMEOUT_SECONDS)


def _error_text(error: ProtocolError | RoomError) -> str:
    """Say what went wrong without echoing anything the client sent."""
    if isinstance(error, ProtocolError):
        return error.message
    return {
        "unknown-peer": "that participant is not in this room",
        "not-allowed": "only the counsellor may do that",
        "room-not-open": "this room is closed",
        "streaming-off": "live streaming is not set up on this server",
    }.get(error.code, "not allowed")
