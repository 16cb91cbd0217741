"""Draining TURN capacity through `/check`, as an attacker would: one address, fresh cookies.

Real processes: `python -m praatbox.turn` and the web under gunicorn. The server-wide cap is
lowered to 150 allocations so that, without the per-address limits, the credentials one
address collects would fill it (each TURN user may hold 30 allocations).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re

import pytest

from praatbox.ice import DEFAULT_TURN_USERS_PER_HOUR
from praatbox.turn.config import DEFAULT_ADDRESS_QUOTA
from tests.live import start_turn, start_web
from tests.turn.turn_clients import RawClient, assert_nothing_lost, echo_peer, run_tool

TOTAL_QUOTA = 150
ATTACKER = "127.0.0.1"
NEIGHBOUR = "127.0.0.2"  # another address of this host: a legitimate visitor elsewhere
GETS = 120
MESSAGES = 20


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The TURN server and a web process that hands out its credentials."""
    tmp = tmp_path_factory.mktemp("drain")
    turn, port = start_turn(tmp, {
        "PRAATBOX_TURN_TOTAL_QUOTA": str(TOTAL_QUOTA),
        "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",  # coturn's echo peer is on loopback
    })
    web = start_web(tmp, {"PRAATBOX_TURN_URLS": f"turn:127.0.0.1:{port}?transport=udp"})
    yield web, port
    web.stop()
    turn.stop()


def check_page(web_url: str, source: str, cookie: str = "") -> tuple[dict[str, str], str]:
    """GET /check from ``source``; return its TURN server entry and the session cookie."""
    host, port = web_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10,
                                            source_address=(source, 0))
    try:
        connection.request("GET", "/check", headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        html = response.read().decode()
        set_cookie = response.getheader("Set-Cookie") or ""
    finally:
        connection.close()
    match = re.search(r'<script type="application/json" id="check-config">(.*?)</script>', html)
    assert match, html[:500]
    turn = next(s for s in json.loads(match.group(1))["iceServers"] if "username" in s)
    return turn, set_cookie.split(";", 1)[0] or cookie


def test_one_browser_keeps_one_turn_user(servers):
    web, _ = servers
    turn, cookie = check_page(web.url, ATTACKER)
    for _ in range(10):
        again, cookie = check_page(web.url, ATTACKER, cookie)
        assert again["username"] == turn["username"]


def test_fresh_cookies_from_one_address_cannot_drain_the_turn_server(servers):
    web, port = servers
    issued = {}
    for _ in range(GETS):
        turn, _ = check_page(web.url, ATTACKER)  # no cookie sent back: a new visitor each time
        issued[turn["username"]] = turn["credential"]
    assert len(issued) <= DEFAULT_TURN_USERS_PER_HOUR

    # Every credential, as many allocations as the server gives (one nonce for all: it is
    # bound to the address only): one source address gets its quota, the rest stays free.
    allocated = refused = 0
    nonce = None
    with contextlib.ExitStack() as sockets:
        for username, password in issued.items():
            for _ in range(TOTAL_QUOTA):
                client = RawClient(("127.0.0.1", port), username, password, source=ATTACKER)
                sockets.callback(client.close)
                client.nonce = nonce
                error = client.allocate().error_code
                nonce = client.nonce
                if error is not None:
                    assert error == 486
                    refused += 1
                    break
                allocated += 1
        assert allocated == DEFAULT_ADDRESS_QUOTA < TOTAL_QUOTA
        assert refused == len(issued)

        turn, _ = check_page(web.url, NEIGHBOUR)
        assert turn["username"] not in issued
        with echo_peer() as peer:
            output = run_tool([
                "turnutils_uclient", "-c", "-L", NEIGHBOUR, "-u", turn["username"],
                "-w", turn["credential"], "-e", peer[0], "-r", str(peer[1]), "-p", str(port),
                "-n", str(MESSAGES), "127.0.0.1",
            ])
    assert_nothing_lost(output, MESSAGES)
