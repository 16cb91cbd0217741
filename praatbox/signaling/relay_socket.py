"""The `/ws-relay` WebSocket: media relay processes register here and exchange signals.

Only a client presenting the token derived from the server secret gets past the upgrade
(`praatbox.relay.auth`); browsers never can. One connection carries every room pinned to
that relay (wire format: docs/signaling.md).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, request

from praatbox.hub import current_hub
from praatbox.relay.auth import relay_token_valid
from praatbox.rooms.model import RoomError
from praatbox.signaling.protocol import ProtocolError, decode_relay_frame
from praatbox.signaling.transport import SocketOutbox, received_frames, sock, use_sendall_transport

logger = logging.getLogger(__name__)

bp = Blueprint("relay_signaling", __name__)


@bp.before_request
def _authorise_relay() -> None:
    """Refuse anyone without the relay token, before any upgrade."""
    if request.endpoint != "relay_signaling.relay_socket":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = current_app.config["RELAY_TOKEN"]
    if scheme.lower() != "bearer" or not relay_token_valid(expected, token):
        abort(401)
    use_sendall_transport()


@sock.route("/ws-relay", bp=bp)
def relay_socket(ws: Any) -> None:
    """Serve one relay process for the life of its connection."""
    outbox = SocketOutbox(ws)
    rooms = current_hub()
    relay_id: str | None = None
    try:
        for raw in received_frames(ws):
            try:
                frame = decode_relay_frame(raw)
                kind = frame["type"]
                if relay_id is None:
                    if kind == "relay-hello":
                        relay_id = rooms.connect_relay(frame["capacity"], outbox)
                        logger.info("relay: %s registered", relay_id)
                elif kind == "relay-load":
                    rooms.relay_load(relay_id, frame["streams"])
                elif kind == "signal":
                    rooms.relay_signal(relay_id, frame["room"], frame["to"], frame["data"])
            except ProtocolError as error:
                logger.warning("relay: dropped a bad frame (%s: %s)", error.code, error.message)
            except RoomError as error:
                # Usually a browser that left while the relay was still talking to it.
                logger.debug("relay: signal not delivered (%s)", error.code)
    finally:
        if relay_id is not None:
            logger.info("relay: %s went away", relay_id)
            rooms.disconnect_relay(relay_id)
        outbox.close()
