"""`python -m praatbox.relay`: serve group rooms for the web process, as a signaling client."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys

import uvloop
import websockets
from websockets.asyncio.client import ClientConnection

from praatbox.logs import configure_logging
from praatbox.metrics_server import start_metrics_server
from praatbox.signaling.protocol import MAX_FORWARD_BYTES

from . import forwarding
from .aiortc_hooks import (
    check_hooks,
    install_peer_policy,
    use_host_addresses,
)
from .auth import relay_token
from .config import RelayConfig, load_config
from .counts import counts
from .decode_probe import DecodeProbe
from .metrics import RelayState, relay_registry
from .relay import Frame, Relay

logger = logging.getLogger(__name__)

RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0
# Twice the largest frame the web process sends: a frame over this ends the whole connection
# (websockets closes it with 1009), so it must never be one the web may send.
MAX_FRAME_BYTES = 2 * MAX_FORWARD_BYTES


def parse_frame(message: str | bytes) -> Frame | None:
    """Return the web's frame as a dict, or None after one log line when it is not one."""
    try:
        frame = json.loads(message)
    except (ValueError, RecursionError):
        logger.warning("frame that is not JSON: dropped")
        counts.bad_frames += 1
        return None
    if not isinstance(frame, dict):
        logger.warning("frame that is not an object: dropped")
        counts.bad_frames += 1
        return None
    return frame


async def serve_connection(
    ws: ClientConnection, config: RelayConfig, state: RelayState | None = None,
) -> None:
    """Say hello, then apply the web's frames until the connection ends."""

    async def send(frame: Frame) -> None:
        try:
            await ws.send(json.dumps(frame))
        except websockets.ConnectionClosed:
            logger.debug("frame %r not sent: connection closed", frame.get("type"))

    relay = Relay(send, config.rtc_configuration(), config.restart_interval_seconds,
                  config.layer_settings)
    if state is not None:
        state.relay = relay
    try:
        await send({"type": "relay-hello", "capacity": config.capacity})
        await relay.report_load()
        async for message in ws:
            frame = parse_frame(message)
            if frame is None:
                continue
            try:
                await relay.handle(frame)
            except Exception as exc:  # one bad frame must not take the other rooms down
                counts.bad_frames += 1
                logger.warning("frame %r dropped (%s)", frame.get("type"), type(exc).__name__)
    finally:
        # The web process forgets a relay's rooms when it goes away; so does the relay.
        if state is not None:
            state.relay = None
        await relay.close()


async def run(config: RelayConfig, state: RelayState | None = None) -> None:
    """Stay connected to the web process, reconnecting with backoff while it is away."""
    headers = {"Authorization": f"Bearer {relay_token(config.secret_key)}"}
    delay = RECONNECT_MIN_S
    while True:
        try:
            async with websockets.connect(
                config.signaling_url, additional_headers=headers, max_size=MAX_FRAME_BYTES
            ) as ws:
                logger.info("connected to the web process")
                delay = RECONNECT_MIN_S
                await serve_connection(ws, config, state)
            logger.info("web process closed the connection")
        except websockets.InvalidStatus as exc:
            logger.error("web process refused the relay (HTTP %d)", exc.response.status_code)
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
            logger.info("web process unreachable (%s)", type(exc).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RECONNECT_MAX_S)


def main() -> int:
    configure_logging(os.environ.get("PRAATBOX_LOG_LEVEL", "INFO"))
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # aioice logs every candidate and connectivity check, with addresses, at INFO.
        logging.getLogger("aioice").setLevel(logging.WARNING)
    try:
        config = load_config(os.environ)
    except ValueError as exc:
        logger.error("bad relay settings: %s", exc)
        return 2
    if not config.secret_key:
        logger.error("PRAATBOX_SECRET_KEY must be set (the same secret as the web process)")
        return 2
    check_hooks()
    use_host_addresses(config.host_ips)
    install_peer_policy(config.peer_policy())
    if config.decode_probe:
        logger.warning("decode probe on: every forwarded video frame is decoded (tests only)")
        forwarding.frame_observer = DecodeProbe().observer
    state = RelayState()
    start_metrics_server(config.metrics_listen, relay_registry(state), state.connected)
    try:
        uvloop.run(run(config, state))  # measured: 5-10 % less CPU than asyncio's loop here
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
