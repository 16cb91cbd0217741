"""Real servers for tests: gunicorn with the gevent worker, exactly as the Procfile runs it."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from praatbox.config import ROOMS_OPENED_LIMIT, TERM_LOOKUP_LIMIT

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 20.0
LIVE_SECRET = "live-test-secret"
# Every simulated user of a test shares 127.0.0.1, so the per-address budgets are raised here;
# tests/security runs them at their defaults (`DEFAULT_ADDRESS_BUDGETS`).
GENEROUS_ADDRESS_BUDGETS = {
    "PRAATBOX_TERM_LOOKUP_LIMIT": "10000 per minute",
    "PRAATBOX_ROOMS_OPENED_LIMIT": "10000 per hour",
}
DEFAULT_ADDRESS_BUDGETS = {
    "PRAATBOX_TERM_LOOKUP_LIMIT": TERM_LOOKUP_LIMIT,
    "PRAATBOX_ROOMS_OPENED_LIMIT": ROOMS_OPENED_LIMIT,
}


def free_port() -> int:
    """A loopback port free for both UDP and TCP right now (a TURN server listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


@dataclass
class LiveServer:
    """A gunicorn process serving the app on 127.0.0.1; `log()` returns everything it logged."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait_until(self, answers: Callable[[], object], name: str) -> None:
        """Call `answers` until it stops raising OSError; stop the server and raise with its log
        when it exits first or is not up within STARTUP_TIMEOUT_SECONDS."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log()}")
            try:
                answers()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not answer:\n{self.log()}")


def start_web(
    tmp_path: Path, env: dict[str, str] | None = None, port: int | None = None
) -> LiveServer:
    """Start gunicorn with the production config and wait until /healthz answers (`port`: the
    one a stopped server had, to restart it where its browsers reconnect)."""
    port = port or free_port()
    log_path = tmp_path / f"web-{port}.log"
    environment = dict(os.environ)
    environment.update({
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PRAATBOX_SECRET_KEY": LIVE_SECRET,
        "PRAATBOX_TURN_URLS": "none",
        "PRAATBOX_LOG_LEVEL": "debug",
        **GENEROUS_ADDRESS_BUDGETS,
    })
    environment.update(env or {})
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    server.wait_until(
        lambda: urllib.request.urlopen(server.url + "/healthz", timeout=1).close(), "gunicorn")
    return server


def start_two_webs(tmp_path: Path, env: dict[str, str]) -> tuple[LiveServer, LiveServer]:
    """Two web processes with the same settings and secret, as a deployment behind Redis runs."""
    first = start_web(tmp_path, env)
    try:
        second = start_web(tmp_path, env)
    except Exception:
        first.stop()
        raise
    return first, second


def start_turn(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[LiveServer, int]:
    """Start `python -m praatbox.turn` on a free loopback port; return it and the port."""
    port = free_port()
    log_path = tmp_path / f"turn-{port}.log"
    environment = dict(os.environ, PRAATBOX_SECRET_KEY=LIVE_SECRET,
                       PRAATBOX_TURN_LISTEN=f"127.0.0.1:{port}")
    environment.update(env or {})
    log = open(log_path, "wb")
    process = subprocess.Popen([sys.executable, "-m", "praatbox.turn"], cwd=ROOT,
                               env=environment, stdout=log, stderr=subprocess.STDOUT)
    turn = LiveServer(f"turn:127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while "TURN listening" not in turn.log():
        if process.poll() is not None or time.monotonic() > deadline:
            turn.stop()
            raise RuntimeError(f"the TURN server did not start:\n{turn.log()}")
        time.sleep(0.1)
    return turn, port


def start_relay(
    tmp_path: Path, web: LiveServer, env: dict[str, str] | None = None
) -> LiveServer:
    """Start `python -m praatbox.relay` for `web` (loopback ICE) and wait until it registered."""
    log_path = tmp_path / "relay.log"
    environment = dict(os.environ)
    environment.update({
        "PRAATBOX_SECRET_KEY": LIVE_SECRET,
        "PRAATBOX_RELAY_URL": web.url,
        "PRAATBOX_RELAY_HOST_IPS": "127.0.0.1",
        # Browsers in tests have loopback candidates, which the relay denies by default.
        "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",
    })
    environment.update(env or {})
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "praatbox.relay"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    relay = LiveServer(web.url, process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the relay exited:\n{relay.log()}")
        if "registered" in web.log() and "connected to the web process" in relay.log():
            return relay
        time.sleep(0.1)
    relay.stop()
    raise RuntimeError(f"the relay did not register:\n{relay.log()}")


@dataclass
class HttpUser:
    """A browser-less visitor with its own cookie jar (the signed session holds room roles)."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[str, str]:
        """Return (final URL, body), also for error statuses (their pages matter too)."""
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.geturl(), error.read().decode()

    def post(self, path: str, fields: dict[str, str], form_page: str) -> str:
        """Submit a form of `form_page` (with its CSRF token); return the path it leads to."""
        _, html = self.get(form_page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token
        data = urllib.parse.urlencode(dict(fields, csrf_token=token.group(1))).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as response:
            return urllib.parse.urlsplit(response.geturl()).path

    def submit(
        self, path: str, fields: dict[str, str], form_page: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        """Submit a form like `post`, but return (status, headers, body) whatever the status
        (a `csrf_token` in `fields` replaces the page's)."""
        _, html = self.get(form_page)
        # A form's hidden field, else the token every page sets for HTMX requests.
        token = re.search(r'name="csrf_token" value="([^"]+)"|"X-CSRF-Token": "([^"]+)"', html)
        if token and "csrf_token" not in fields:
            fields = dict(fields, csrf_token=token.group(1) or token.group(2))
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(fields).encode(), headers=headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read().decode()

    def enter(self, action: str, terms: dict[str, str]) -> str:
        """Submit the home form (`start` or `join`); return the room URL path it leads to."""
        return self.post("/" + action, terms, "/")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)
