"""HTTP security baseline: response headers (CSP, HSTS …), CSRF, proxies, secure cookies, and
the WebSocket origin check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, make_response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000; includeSubDomains"



def content_security_policy(streaming_url: str = "") -> str:
    """The page policy: everything from this site only; with a streaming endpoint set, the
    browser may also connect to exactly that endpoint's origin (the WHIP POST and DELETE)."""
    connect = "connect-src 'self'"
    if streaming_url:
        parts = urlsplit(streaming_url)
        connect += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            # wasm for background blur; never 'unsafe-eval' or inline scripts.
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob: mediastream:",
            connect,
            "worker-src 'self' blob:",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


SECURITY_HEADERS = {
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


csrf = CSRFProtect()


class SessionCookieInterface(SecureCookieSessionInterface):
    """Mark the session cookie `Secure` whenever the request came over HTTPS, also through a
    trusted proxy when PRAATBOX_PUBLIC_URL is not set."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def _csrf_refused(error: CSRFError) -> Response:  # noqa: ARG001 - Flask error handler signature
    message = _("This form has expired. Please reload the page and try again.")
    return make_response(render_template("error.html", message=message), 400)


def _add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy",
                                current_app.config["CONTENT_SECURITY_POLICY"])
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
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
    """Install the CSRF check, the proxy headers, the cookie flags and the response headers."""
    # A call lasts hours: the token lives as long as the session cookie, not one hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Pages send no Referer (Referrer-Policy: no-referrer), so Flask-WTF's HTTPS referrer check
    # would refuse every form; the token and the SameSite cookie carry the protection.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_refused)
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = SessionCookieInterface()
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(
        app.config.get("STREAMING_WHIP_URL", ""))
    app.after_request(_add_headers)
