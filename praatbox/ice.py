"""The ICE servers (STUN/TURN) a room page hands to the browser."""

from __future__ import annotations

import secrets
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import request

from praatbox.credentials import build_ice_servers, split_secrets
from praatbox.turn.config import DEFAULT_LISTEN, parse_address


def default_turn_urls(hostname: str, listen: str) -> list[str]:
    """URLs of the bundled TURN server, reached at the same host name as the web page."""
    port = parse_address(listen or DEFAULT_LISTEN, 3478)[1]
    host = f"[{hostname}]" if ":" in hostname else hostname
    return [
        f"stun:{host}:{port}",
        f"turn:{host}:{port}?transport=udp",
        f"turn:{host}:{port}?transport=tcp",
    ]


def ice_servers_for_request(config: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    """Return RTCIceServer dicts with fresh, time-limited TURN credentials."""
    urls = config["TURN_URLS"]
    if urls is None:
        hostname = urlsplit(f"//{request.host}").hostname or "localhost"
        urls = default_turn_urls(hostname, config["TURN_LISTEN"])
    if not urls:
        return []
    signing = split_secrets(config["TURN_SECRET"])
    return build_ice_servers(
        urls,
        signing[0] if signing else None,
        secrets.token_hex(6),
        now,
        config["TURN_CREDENTIAL_TTL_SECONDS"],
    )
