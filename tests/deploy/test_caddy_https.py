"""Praatbox behind Caddy (deploy/Caddyfile) over HTTPS, as a small organisation deploys it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Response

from praatbox.security import HSTS
from tests.browser.conftest import headless_chromium
from tests.browser.flows import join_session, people, receiving_media, start_session, wait_for_state
from tests.deploy.caddy_site import CaddySite, deploy_setting, start_caddy
from tests.live import DEFAULT_ADDRESS_BUDGETS, free_port, start_web

LOOKUPS_PER_MINUTE = 20  # the default PRAATBOX_TERM_LOOKUP_LIMIT
SESSION_COOKIE = "praatbox"
TERMS = ("Praatbox Gent", "Zürich", "appel")


@contextlib.contextmanager
def behind_caddy(folder: Path, env: dict[str, str]) -> Iterator[CaddySite]:
    """A web process with the shipped proxy settings, and Caddy in front of it."""
    https_port = free_port()
    web = start_web(folder, {
        "PRAATBOX_PUBLIC_URL": f"https://localhost:{https_port}",
        "PRAATBOX_PROXY_HOPS": deploy_setting("PRAATBOX_PROXY_HOPS"),
        **env,
    })
    try:
        caddy = start_caddy(folder / "caddy", https_port, urlsplit(web.url).netloc)
        try:
            yield caddy
        finally:
            caddy.stop()
    finally:
        web.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with behind_caddy(tmp_path_factory.mktemp("site"), {}) as caddy:
        yield caddy


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A browser of this module's own: closed before tests/browser starts the session's."""
    with headless_chromium(tmp_path_factory.mktemp("media")) as browser:
        yield browser


def test_a_call_through_caddy_runs_on_https_and_wss_only(chromium, site):
    pages: list[Response] = []
    sockets: list[str] = []
    with people(chromium, site.url, ignore_https_errors=True) as new_person:
        counsellor, client = new_person(), new_person()
        for page in (counsellor, client):
            page.on("response", lambda r: pages.append(r) if r.request.resource_type == "document"
                    else None)
            page.on("websocket", lambda socket: sockets.append(socket.url))
        start_session(counsellor, TERMS)
        join_session(client, TERMS)
        for page in (counsellor, client):
            current = wait_for_state(page, receiving_media, what="decoded video through Caddy")
            assert current["joined"] and len(current["participants"]) == 2
        cookies = counsellor.context.cookies() + client.context.cookies()
        headers = [(r.url, r.header_values("strict-transport-security"),
                    r.header_values("content-security-policy"), r.header_value("server"))
                   for r in pages]
        room = urlsplit(counsellor.url).path

    netloc = urlsplit(site.url).netloc
    assert len(sockets) >= 2 and all(url.startswith(f"wss://{netloc}/ws/") for url in sockets)
    sessions = [cookie for cookie in cookies if cookie["name"] == SESSION_COOKIE]
    assert len(sessions) == 2
    assert all(c["secure"] and c["httpOnly"] and c["sameSite"] == "Lax" for c in sessions)
    # Every page came over HTTPS with the app's headers, once each: Caddy adds none of its own.
    assert headers and all(url.startswith(site.url) for url, *_ in headers)
    assert all(hsts == [HSTS] and len(csp) == 1 and server is None
               for _, hsts, csp, server in headers), headers
    # Caddy logged nothing of the calls: no access log, no room, no client address.
    log = site.log()
    assert room.startswith("/r/") and room not in log
    assert "remote_ip" not in log and "/ws/" not in log


def test_a_client_cannot_pick_its_address_through_caddy(tmp_path):
    """X-Forwarded-For sent by a client is dropped by Caddy: the web counts the real address."""
    with behind_caddy(tmp_path, DEFAULT_ADDRESS_BUDGETS) as site:
        statuses = []
        for attempt in range(LOOKUPS_PER_MINUTE + 1):
            claimed = f"198.51.100.{attempt + 1}"
            status, headers, _ = site.visitor().submit(
                "/join", {"name": "box", "location": "gent", "word": f"guess{attempt}"}, "/",
                headers={"X-Forwarded-For": claimed, "X-Real-IP": claimed,
                         "Forwarded": f"for={claimed}"})
            statuses.append(status)
        assert statuses[:LOOKUPS_PER_MINUTE] == [200] * LOOKUPS_PER_MINUTE
        assert statuses[-1] == 429 and "Retry-After" in headers
        assert site.fetch("/metrics")[0] == 404  # the counts stay inside


def test_caddy_logs_no_address_path_or_query_of_a_failed_request(tmp_path):
    """While the web process is down (502), Caddy's error line keeps the request to itself."""
    caddy = start_caddy(tmp_path, free_port(), f"127.0.0.1:{free_port()}")
    try:
        status, _, _ = caddy.fetch("/r/abcdefghijklmnopqrst?word=geheim")
    finally:
        caddy.stop()
    log = caddy.log()
    assert status == 502 and "http.log.error" in log
    for detail in ("abcdefghijklmnopqrst", "geheim", "remote_ip", "remote_port", "Python-urllib"):
        assert detail not in log
