"""The ICE servers (STUN/TURN) a room page hands to the browser."""

from __future__ import annotations

import secrets
from typing import Any, Mapping

from flask import request


def default_turn_urls(hostname: str, listen: str) -> list[str]:
    """URLs of the bundled TURN server, reached at the same host name as the web page."""
    port = listen.rsplit(":", 1)[-1]
    host = f"[{hostname}]" if ":" in hostname else hostname
    return [
        f"stun:{host}:{port}",
        f"turn:{host}:{port}?transport=udp",
        f"turn:{host}:{port}?transport=tcp",
    ]


def ice_servers_for_request(config: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    """Return RTCIceServer dicts with fresh, time-limited TURN credentials."""
    from praatbox.credentials import build_ice_servers

    urls = config["TURN_URLS"]
    if urls is None:
        urls = default_turn_urls(request.host.rsplit(":", 1)[0].strip("[]"), config["TURN_LISTEN"])
    if not urls:
        return []
    return build_ice_servers(
        urls,
        config["TURN_SECRET"],
        secrets.token_hex(6),
        now,
        config["TURN_CREDENTIAL_TTL_SECONDS"],
    )
