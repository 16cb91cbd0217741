"""The HTTP layer under odd and hostile requests: CSRF, proxies, cookies, logs, secrets."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest

from praatbox.config import ROOMS_OPENED_LIMIT
from praatbox.rooms import registry as rooms
from praatbox.rooms.registry import RoomRegistry
from tests.live import LIVE_SECRET, ROOT, HttpUser, start_web
from tests.signaling.client import terms

ROOMS_PER_HOUR = int(ROOMS_OPENED_LIMIT.split()[0])


@pytest.fixture(scope="module")
def proxied_web(tmp_path_factory):
    """The app behind one TLS-terminating proxy, logging as in production."""
    server = start_web(tmp_path_factory.mktemp("proxied"), {
        "PRAATBOX_PROXY_HOPS": "1", "PRAATBOX_LOG_LEVEL": "info",
        "PRAATBOX_ROOMS_OPENED_LIMIT": ROOMS_OPENED_LIMIT,
    })
    yield server
    server.stop()


def open_url(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers)


def test_a_forged_non_ascii_csrf_token_is_a_plain_400_without_a_traceback(proxied_web):
    user = HttpUser(proxied_web.url)
    room = user.enter("start", terms())
    status, _, body = user.submit(room + "/lock",
                                  {"password": "long-enough-1", "csrf_token": "tökén-ß"}, room)
    assert status == 400 and "reload the page" in body
    status, _, _ = user.submit("/join", {**terms(), "csrf_token": "é" * 40}, "/nothing-here")
    assert status == 400
    log = proxied_web.log()
    assert "Traceback" not in log and room.rsplit("/", 1)[-1] not in log


def test_https_through_the_trusted_proxy_gets_hsts_and_a_secure_cookie(proxied_web):
    status, headers = open_url(proxied_web.url + "/", {"X-Forwarded-Proto": "https"})
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
    _, plain = open_url(proxied_web.url + "/", {})
    assert "Strict-Transport-Security" not in plain and "Secure" not in plain["Set-Cookie"]


def test_without_a_trusted_proxy_forwarded_headers_change_nothing(web):
    _, headers = open_url(web.url + "/", {"X-Forwarded-Proto": "https",
                                          "X-Forwarded-Host": "evil.example"})
    assert "Strict-Transport-Security" not in headers
    assert "Secure" not in headers["Set-Cookie"]


def test_error_answers_log_no_room_id(proxied_web):
    owner, stranger = HttpUser(proxied_web.url), HttpUser(proxied_web.url)
    room = owner.enter("start", terms())
    room_id = room.rsplit("/", 1)[-1]
    assert stranger.submit(room + "/lock", {"password": "long-enough-1"}, "/")[0] == 403
    assert stranger.submit(room + "/attempts/reset", {}, "/")[0] == 403
    assert stranger.submit(room + "/password", {"password": "x", "csrf_token": "forged"},
                           "/")[0] == 400
    stranger.get("/r/" + room_id.upper())  # not a room id: 404
    assert room_id not in proxied_web.log() and room_id.upper() not in proxied_web.log()


def test_one_address_cannot_open_rooms_without_end(proxied_web):
    origin = {"X-Forwarded-For": "203.0.113.77"}
    statuses = [HttpUser(proxied_web.url).submit("/start", terms(), "/", headers=origin)[0]
                for _ in range(ROOMS_PER_HOUR + 1)]
    assert statuses[:-1] == [200] * ROOMS_PER_HOUR and statuses[-1] == 429
    other = HttpUser(proxied_web.url).submit("/start", terms(), "/",
                                             headers={"X-Forwarded-For": "203.0.113.78"})
    assert other[0] == 200


def test_fingerprints_of_ended_rooms_stay_bounded(monkeypatch):
    monkeypatch.setattr(rooms, "MAX_RECENTLY_ENDED", 100)
    registry = RoomRegistry(empty_grace_seconds=0)
    for n in range(1_000):
        registry.open(f"room{n}", "moderator-code-hash", float(n))
        registry.sweep(float(n) + 1)
    assert len(registry.recently_ended) == 100
    assert registry.recently_used("room999", 1_001.0)


@pytest.mark.parametrize("setting", [
    {"PRAATBOX_REDIS_URL": "redis://127.0.0.1:9/0"},
    {"WEB_CONCURRENCY": "2"},
])
def test_several_web_processes_refuse_to_start_without_the_shared_secret(setting):
    environment = {k: v for k, v in os.environ.items() if k != "PRAATBOX_SECRET_KEY"}
    environment.update(setting)
    result = subprocess.run(
        [sys.executable, "-c", "from praatbox import create_app; create_app()"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "PRAATBOX_SECRET_KEY must be set" in result.stderr
    assert LIVE_SECRET not in result.stderr
