"""TURN REST credentials (the coturn scheme), shared by the web app and the TURN server.

Username ``expiry:user`` (coturn also takes ``user:expiry`` and a bare ``expiry``), password
``base64(HMAC-SHA1(secret, username))``: any server that knows the secret can check a
credential without a database, so coturn can replace ours.
"""

import base64
import hashlib
import hmac

DEFAULT_TTL_SECONDS = 86400
USERNAME_SEPARATOR = ":"


def split_secrets(text: str | None) -> list[str]:
    """Split ``PRAATBOX_TURN_SECRET``: the first secret signs, all of them verify (rotation)."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def rest_password(secret: str, username: str) -> str:
    """Return the password the coturn REST scheme derives from the secret and the username."""
    digest = hmac.new(secret.encode("utf8"), username.encode("utf8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def issue_turn_credentials(
    secret: str, user: str, ttl_seconds: int, now: float
) -> tuple[str, str]:
    """Return ``(username, password)`` valid until ``now + ttl_seconds`` (UNIX time)."""
    expiry = int(now) + int(ttl_seconds)
    username = f"{expiry}{USERNAME_SEPARATOR}{user}"
    return username, rest_password(secret, username)


def _is_timestamp(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def parse_rest_username(username: str) -> tuple[int, str] | None:
    """Split a REST username into ``(expiry, user)``; ``None`` if it carries no expiry.

    coturn accepts the timestamp on either side of the separator, or alone (then the whole
    username is the user: ``turnutils_uclient -W secret`` without ``-u`` sends that), so do we.
    """
    head, sep, tail = username.partition(USERNAME_SEPARATOR)
    if not sep:
        return (int(username), username) if _is_timestamp(username) else None
    if _is_timestamp(head):
        return int(head), tail
    last_head, _, last_tail = username.rpartition(USERNAME_SEPARATOR)
    if _is_timestamp(last_tail):
        return int(last_tail), last_head
    return None


def rest_passwords(secrets: list[str], username: str) -> list[str]:
    """Return the password for each secret still accepted (several during a rotation)."""
    return [rest_password(secret, username) for secret in secrets]


def is_turn_url(url: str) -> bool:
    """Whether an ICE server URL needs TURN credentials (``turn:``, ``turns:``)."""
    return url.startswith(("turn:", "turns:"))


def build_ice_servers(
    urls: list[str],
    secret: str | None,
    user: str,
    now: float,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> list[dict[str, object]]:
    """Return RTCIceServer dicts: STUN urls bare, TURN urls with ``user``'s credentials.

    The credentials are those issued at ``now`` (the same ones again for the same ``now``).
    Without a secret, TURN urls are left out: a browser cannot use them anyway.
    """
    stun_urls = [url for url in urls if url.startswith("stun:") or url.startswith("stuns:")]
    turn_urls = [url for url in urls if is_turn_url(url)]
    servers: list[dict[str, object]] = []
    if stun_urls:
        servers.append({"urls": stun_urls})
    if turn_urls and secret:
        username, password = issue_turn_credentials(secret, user, ttl_seconds, now)
        servers.append({"urls": turn_urls, "username": username, "credential": password})
    return servers
