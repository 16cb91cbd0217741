"""Settings: built-in defaults, overridden by PRAATBOX_* environment, then by test_config."""

from __future__ import annotations

import logging
import secrets
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from praatbox import keys
from praatbox.keys import derive_key
from praatbox.relay.auth import relay_token
from praatbox.rooms.attempts import ROOM_LOCKOUT_FAILURES, ROOM_LOCKOUT_SECONDS
from praatbox.rooms.resume import RESUME_GRACE_SECONDS, RESUME_REFUSAL_COST_MESSAGES
from praatbox.signaling import rate as signaling_rate
from praatbox.signaling.protocol import MAX_E2EE_DATA_BYTES, MAX_MESSAGE_BYTES

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGES = ("de", "nl", "en", "fr", "ar", "tr", "pl", "ro", "uk", "ru")
# A client types the terms once or twice; a counsellor starts a few sessions an hour. A guesser
# walking a word list of 1,200 words needs about 600 lookups: six hours per address.
TERM_LOOKUP_LIMIT = "20 per minute;100 per hour"
# Each room opened leaves a keyed fingerprint for 24 h (the "terms used recently" warning).
ROOMS_OPENED_LIMIT = "30 per hour"
# Each scrypt holds 16 MiB and a core for ~50 ms: two at a time leave the event loop a core and
# cap the memory however many guesses arrive at once (the rest wait their turn).
MAX_CONCURRENT_HASHES = 2

ICE_TRANSPORT_POLICIES = ("all", "relay")


def _ice_transport_policy(value: str) -> str:
    """"relay" sends every call through TURN: neither side learns the other's IP address."""
    policy = value.strip().lower()
    if policy not in ICE_TRANSPORT_POLICIES:
        raise ValueError(f"PRAATBOX_ICE_TRANSPORT_POLICY must be one of {ICE_TRANSPORT_POLICIES}")
    return policy


def _url_list(value: str) -> list[str]:
    """Parse a comma-separated list; "none" means an explicitly empty list."""
    if value.strip().lower() == "none":
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def _whip_url(value: str) -> str:
    """The WHIP endpoint (RFC 9725) the counsellor's browser streams to: an absolute http(s)
    URL, since it also opens the page's Content-Security-Policy to exactly its origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("PRAATBOX_STREAMING_WHIP_URL must be an absolute http(s) URL")
    return value.strip()


# Environment variable → (config key, parser).
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PRAATBOX_SECRET_KEY": ("SECRET_KEY", str),
    "PRAATBOX_PUBLIC_URL": ("PUBLIC_URL", str),
    "PRAATBOX_REDIS_URL": ("REDIS_URL", str),
    "PRAATBOX_TURN_SECRET": ("TURN_SECRET", str),
    "PRAATBOX_TURN_URLS": ("TURN_URLS", lambda value: _url_list(value)),
    "PRAATBOX_TURN_LISTEN": ("TURN_LISTEN", str),
    "PRAATBOX_TURN_USERS_PER_HOUR": ("TURN_USERS_PER_HOUR", int),  # default in praatbox/ice.py
    "PRAATBOX_TURN_CREDENTIAL_TTL_SECONDS": ("TURN_CREDENTIAL_TTL_SECONDS", int),
    "PRAATBOX_ICE_TRANSPORT_POLICY": ("ICE_TRANSPORT_POLICY", _ice_transport_policy),
    "PRAATBOX_RELAY_URL": ("RELAY_URL", str),
    "PRAATBOX_STREAMING_WHIP_URL": ("STREAMING_WHIP_URL", _whip_url),
    "PRAATBOX_STREAMING_WHIP_TOKEN": ("STREAMING_WHIP_TOKEN", str),
    "PRAATBOX_LANGUAGES": ("LANGUAGES", lambda value: tuple(_url_list(value))),
    "PRAATBOX_OPERATOR_NAME": ("OPERATOR_NAME", str),
    "PRAATBOX_OPERATOR_CONTACT": ("OPERATOR_CONTACT", str),
    "PRAATBOX_SIGNALING_MESSAGES_PER_SECOND": ("SIGNALING_MESSAGES_PER_SECOND", float),
    "PRAATBOX_SIGNALING_BURST_MESSAGES": ("SIGNALING_BURST_MESSAGES", int),
    "PRAATBOX_SIGNALING_BYTES_PER_SECOND": ("SIGNALING_BYTES_PER_SECOND", int),
    "PRAATBOX_SIGNALING_BURST_BYTES": ("SIGNALING_BURST_BYTES", int),
    "PRAATBOX_SIGNALING_MAX_HELD_SECONDS": ("SIGNALING_MAX_HELD_SECONDS", float),
    "PRAATBOX_E2EE_MAX_DATA_BYTES": ("E2EE_MAX_DATA_BYTES", int),
    "PRAATBOX_RESUME_GRACE_SECONDS": ("RESUME_GRACE_SECONDS", float),
    "PRAATBOX_RESUME_REFUSAL_COST_MESSAGES": ("RESUME_REFUSAL_COST_MESSAGES", float),
    "PRAATBOX_PASSWORD_HASHES_AT_ONCE": ("PASSWORD_HASHES_AT_ONCE", int),
    "PRAATBOX_PROXY_HOPS": ("PROXY_HOPS", int),
    "PRAATBOX_TERM_LOOKUP_LIMIT": ("TERM_LOOKUP_LIMIT", str),
    "PRAATBOX_ROOMS_OPENED_LIMIT": ("ROOMS_OPENED_LIMIT", str),
    "PRAATBOX_PASSWORD_LOCKOUT_FAILURES": ("PASSWORD_LOCKOUT_FAILURES", int),
    "PRAATBOX_PASSWORD_LOCKOUT_SECONDS": ("PASSWORD_LOCKOUT_SECONDS", float),
}


def default_settings() -> dict[str, Any]:
    """Return the settings `make run` works with on a laptop."""
    return {
        "SECRET_KEY": None,
        "PUBLIC_URL": "",
        "REDIS_URL": "",
        "TURN_SECRET": None,
        "TURN_URLS": None,
        "TURN_LISTEN": "0.0.0.0:3478",
        "ICE_TRANSPORT_POLICY": "all",
        "RELAY_URL": "",
        # LIVE is offered only with a WHIP endpoint; its bearer token, if it needs one, goes to
        # the counsellor's page only.
        "STREAMING_WHIP_URL": "",
        "STREAMING_WHIP_TOKEN": "",
        "LANGUAGES": DEFAULT_LANGUAGES,
        "OPERATOR_NAME": "",
        "OPERATOR_CONTACT": "",
        "TURN_CREDENTIAL_TTL_SECONDS": 12 * 3600,
        "ROOM_EMPTY_GRACE_SECONDS": 120.0,
        "MAX_ROOM_PARTICIPANTS": 6,
        # Per signaling socket (praatbox/signaling/rate.py): a flood slows only its sender.
        "SIGNALING_MESSAGES_PER_SECOND": signaling_rate.MESSAGES_PER_SECOND,
        "SIGNALING_BURST_MESSAGES": signaling_rate.BURST_MESSAGES,
        "SIGNALING_BYTES_PER_SECOND": signaling_rate.BYTES_PER_SECOND,
        "SIGNALING_BURST_BYTES": signaling_rate.BURST_BYTES,
        "SIGNALING_MAX_HELD_SECONDS": signaling_rate.MAX_HELD_SECONDS,
        # The data of one `e2ee` key-agreement message, as compact JSON (protocol.py).
        "E2EE_MAX_DATA_BYTES": MAX_E2EE_DATA_BYTES,
        # How long a participant whose socket dropped keeps their place (rooms/resume.py).
        "RESUME_GRACE_SECONDS": RESUME_GRACE_SECONDS,
        "RESUME_REFUSAL_COST_MESSAGES": RESUME_REFUSAL_COST_MESSAGES,
        "PASSWORD_HASHES_AT_ONCE": MAX_CONCURRENT_HASHES,
        # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0: none, so
        # those headers are ignored and nobody can pick the address that limits count).
        "PROXY_HOPS": 0,
        "TERM_LOOKUP_LIMIT": TERM_LOOKUP_LIMIT,
        "ROOMS_OPENED_LIMIT": ROOMS_OPENED_LIMIT,
        "PASSWORD_LOCKOUT_FAILURES": ROOM_LOCKOUT_FAILURES,
        "PASSWORD_LOCKOUT_SECONDS": ROOM_LOCKOUT_SECONDS,
        "SOCK_SERVER_OPTIONS": {
            "ping_interval": 25,
            # The codec rejects frames over 64 KiB with an error reply; the transport only
            # hard-closes far beyond that, so one oversize frame does not cost the connection.
            "max_message_size": 4 * MAX_MESSAGE_BYTES,
        },
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "praatbox",
    }


def load_settings(
    environ: Mapping[str, str], test_config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge defaults, environment and test overrides; fill in a secret when none is given."""
    settings = default_settings()
    for name, (key, parse) in ENVIRONMENT.items():
        value = environ.get(name)
        if value:
            settings[key] = parse(value)
    if test_config:
        settings.update(test_config)
    master = settings.pop("SECRET_KEY")
    if not master:
        if settings["REDIS_URL"] or int(environ.get("WEB_CONCURRENCY") or 1) > 1:
            raise RuntimeError(
                "PRAATBOX_SECRET_KEY must be set with PRAATBOX_REDIS_URL or WEB_CONCURRENCY > 1: "
                "every web process needs the same key, or each one has rooms of its own"
            )
        master = secrets.token_urlsafe(32)
        logger.warning(
            "PRAATBOX_SECRET_KEY is not set: using a random key for this process only; "
            "shared links and sessions break when it restarts"
        )
    # The master secret itself stays out of the app's config: each use gets its own key.
    settings["SECRET_KEY"] = derive_key(master, keys.SESSION)
    settings["ROOM_ID_KEY"] = derive_key(master, keys.ROOM_ID)
    settings["ENDED_ROOM_KEY"] = derive_key(master, keys.ENDED_ROOM)
    settings["RELAY_TOKEN"] = relay_token(master)
    settings["ADDRESS_KEY"] = derive_key(master, keys.ADDRESS)
    if not settings["TURN_SECRET"]:
        settings["TURN_SECRET"] = derive_key(master, keys.TURN_REST)
    settings["SESSION_COOKIE_SECURE"] = str(settings["PUBLIC_URL"]).startswith("https://")
    return settings
