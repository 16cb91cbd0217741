"""The ICE servers (STUN/TURN) the room page and the self-test hand to the browser.

A TURN user is capacity on the TURN server (it has a quota per user), so the web hands them
out at the rate a person needs: each visitor keeps one in its signed session until less than
half of its lifetime is left, and one address gets a few new ones per hour. Past that budget,
new visitors from that address share the last user it got (and its quota).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import current_app, request, session

from praatbox.credentials import build_ice_servers, is_turn_url, split_secrets
from praatbox.turn.budget import SourceBudget, source_key
from praatbox.turn.config import DEFAULT_LISTEN, parse_address

SESSION_KEY = "turn"
# New TURN users per address and hour (all at once, then one every 3 minutes): a household or
# an office behind one address opens a few sessions an hour, a script opens thousands.
DEFAULT_TURN_USERS_PER_HOUR = 20
# A session's TURN user is handed out again while this share of its lifetime is left (a call
# started on it keeps working: the TURN server checks the expiry at allocation only).
REUSE_WHILE_LIFETIME_LEFT = 0.5
MAX_TRACKED_ADDRESSES = 10000
EXTENSION = "praatbox.turn_users"

Issued = tuple[str, int]  # (user id, issue time in UNIX seconds)


class TurnUserIssuer:
    """New TURN users per address within a budget; past it, the address's last user again."""

    def __init__(self, per_hour: int) -> None:
        self._budget = SourceBudget(per_hour / 3600, per_hour, MAX_TRACKED_ADDRESSES)
        self._last: OrderedDict[str, Issued] = OrderedDict()

    def issue(self, address: str, now: float) -> Issued | None:
        """Return a user for a visitor from ``address``; None: no budget and no user to share."""
        key = source_key(address)
        if not self._budget.allow(key, now):
            return self._last.get(key)
        issued = (secrets.token_hex(6), int(now))
        self._last[key] = issued
        self._last.move_to_end(key)
        if len(self._last) > MAX_TRACKED_ADDRESSES:
            self._last.popitem(last=False)
        return issued


def default_turn_urls(hostname: str, listen: str) -> list[str]:
    """URLs of the bundled TURN server, reached at the same host name as the web page."""
    port = parse_address(listen or DEFAULT_LISTEN, 3478)[1]
    host = f"[{hostname}]" if ":" in hostname else hostname
    return [
        f"stun:{host}:{port}",
        f"turn:{host}:{port}?transport=udp",
        f"turn:{host}:{port}?transport=tcp",
    ]


def _issuer(config: Mapping[str, Any]) -> TurnUserIssuer:
    extensions = current_app.extensions
    if EXTENSION not in extensions:
        per_hour = int(config.get("TURN_USERS_PER_HOUR") or DEFAULT_TURN_USERS_PER_HOUR)
        extensions[EXTENSION] = TurnUserIssuer(per_hour)
    issuer: TurnUserIssuer = extensions[EXTENSION]
    return issuer


def _session_turn_user(config: Mapping[str, Any], now: float) -> Issued | None:
    """Return this visitor's TURN user, issuing (and remembering) one when it has none left."""
    ttl_seconds = int(config["TURN_CREDENTIAL_TTL_SECONDS"])
    kept = session.get(SESSION_KEY)
    if (
        isinstance(kept, list) and len(kept) == 2
        and isinstance(kept[0], str) and isinstance(kept[1], int)
        and kept[1] <= now < kept[1] + ttl_seconds * REUSE_WHILE_LIFETIME_LEFT
    ):
        return kept[0], kept[1]
    issued = _issuer(config).issue(request.remote_addr or "", now)
    if issued is not None:
        session[SESSION_KEY] = list(issued)
    return issued


def ice_servers_for_request(config: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    """Return RTCIceServer dicts with this visitor's time-limited TURN credentials."""
    urls = config["TURN_URLS"]
    if urls is None:
        hostname = urlsplit(f"//{request.host}").hostname or "localhost"
        urls = default_turn_urls(hostname, config["TURN_LISTEN"])
    if not urls:
        return []
    signing = split_secrets(config["TURN_SECRET"])
    issued = (
        _session_turn_user(config, now) if signing and any(map(is_turn_url, urls)) else None
    )
    if issued is None:
        return build_ice_servers(urls, None, "", now)  # STUN only
    user, issued_at = issued
    return build_ice_servers(
        urls, signing[0], user, issued_at, config["TURN_CREDENTIAL_TTL_SECONDS"]
    )
