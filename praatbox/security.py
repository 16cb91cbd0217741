"""HTTP security baseline: response headers (CSP …), CSRF tokens, and the WebSocket origin check."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request, session

CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # wasm for background blur; never 'unsafe-eval' or inline scripts.
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": (
        "camera=(self), microphone=(self), display-capture=(self), geolocation=(), "
        "payment=(), usb=(), interest-cohort=()"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def csrf_token(store: MutableMapping[str, Any]) -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = store.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        store[CSRF_SESSION_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        abort(400, description="csrf")


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/r/") or request.path.startswith("/ws/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def same_origin(origin: str | None, host: str | None, public_url: str) -> bool:
    """Tell whether a WebSocket's Origin header names this site (flask-sock does not check)."""
    if not origin or not host:
        return False
    parts = urlsplit(origin)
    if public_url:
        expected = urlsplit(public_url)
        return (parts.scheme, parts.netloc) == (expected.scheme, expected.netloc)
    return parts.netloc == host and parts.scheme in ("http", "https")


def init_security(app: Flask) -> None:
    """Install the CSRF check and the security headers on every response."""
    app.before_request(_check_csrf)
    app.after_request(_add_headers)
    app.jinja_env.globals["csrf_token"] = lambda: csrf_token(session)
