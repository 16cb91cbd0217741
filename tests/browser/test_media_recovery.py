"""Calls come back by themselves when their media path breaks: a network that drops packets for a
few seconds, a TURN server restarted, a relay process killed."""

from __future__ import annotations

import contextlib
import itertools
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

import tests.browser.test_group as group_test
from tests.browser.flows import (
    expect_security_state,
    join_session,
    people,
    receiving_media,
    start_session,
    wait_for_state,
)
from tests.live import LiveServer, start_relay, start_turn, start_web

# Longer than a brief loss that heals by itself: the page must restart ICE to get the call back.
BLOCKED_SECONDS = 8.0
# Well before a lost relay connection turns `failed` (about 30 s), which is when it used to be
# replaced; the time it really takes is for bench/, not for a test.
GROUP_BACK_SECONDS = 20.0
_words = itertools.count()


@contextlib.contextmanager
def udp_dropped() -> Iterator[None]:
    """Drop every UDP packet on loopback (this test's own network namespace): the media path of a
    direct call breaks, signaling (TCP) goes on. This kernel has no `tc` drop action and no
    netem, so UDP goes to an HTB class that lets 8 bit/s through."""
    commands = [
        "qdisc add dev lo root handle 1: htb",
        "class add dev lo parent 1: classid 1:99 htb rate 8bit ceil 8bit burst 1 cburst 1",
        "qdisc add dev lo parent 1:99 handle 99: tbf rate 8bit burst 1600 limit 1",
        "filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 17 0xff "
        "classid 1:99",
    ]
    try:
        for command in commands:
            subprocess.run(["tc", *command.split()], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)


def ice_restarts(web: LiveServer) -> float:
    """`praatbox_ice_restarts_total` as an operator's Prometheus scrapes it."""
    with urllib.request.urlopen(web.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(r"^praatbox_ice_restarts_total (\S+)$", text, re.MULTILINE)
    assert match, "the metric is missing"
    return float(match.group(1))


def frames_from_everyone(page: Page) -> dict[str, int]:
    return {peer: media["framesDecoded"]
            for peer, media in wait_for_state(page, lambda s: True)["media"].items()}


def decoding_again(page: Page, timeout: float = 40.0, **check) -> None:
    """Wait until every remote video decodes new frames after the break, on a connected path."""
    before = frames_from_everyone(page)

    def grew(current):
        media = current["media"]
        return media and all(
            m["connectionState"] == "connected" and m["framesDecoded"] > before.get(p, 0) + 10
            for p, m in media.items())

    wait_for_state(page, grew, timeout=timeout, what="frames decoding again")


def expect_reconnecting(page: Page) -> None:
    status = page.get_by_test_id("security-status")
    expect(status).to_contain_text("reconnecting", timeout=15_000)
    expect(status).to_have_attribute("data-state", "waiting")


def call_of_two(new_page, town: str, path: str) -> tuple[Page, Page]:
    """A counsellor and a client in a call whose media decodes both ways on `path`."""
    counsellor, client = new_page(), new_page()
    terms = ("Praatbox Herstel", town, f"tunnel{next(_words)}")
    start_session(counsellor, terms)
    join_session(client, terms)
    for page in (counsellor, client):
        wait_for_state(page, receiving_media, timeout=30, what=f"the call ({path})")
        expect_security_state(page, path)
    return counsellor, client


def test_a_direct_call_restarts_ice_after_the_network_dropped_its_packets(new_person, web):
    counsellor, client = call_of_two(new_person, "Lier", "p2p")
    restarts = ice_restarts(web)

    with udp_dropped():
        for page in (counsellor, client):
            expect_reconnecting(page)
        time.sleep(BLOCKED_SECONDS)

    for page in (counsellor, client):
        decoding_again(page)
        expect_security_state(page, "p2p")
        expect(page.get_by_test_id("security-status")).not_to_contain_text("reconnecting")
    assert ice_restarts(web) > restarts


@pytest.fixture
def turn_call(tmp_path):
    """Our TURN server and a web server that sends every call through it, with credentials
    short-lived enough that each restart fetches new ones (`GET /r/<room_id>/ice`)."""
    turn, port = start_turn(tmp_path, {"PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8"})
    web = start_web(tmp_path, {"PRAATBOX_TURN_URLS": f"turn:127.0.0.1:{port}?transport=udp",
                               "PRAATBOX_ICE_TRANSPORT_POLICY": "relay",
                               "PRAATBOX_TURN_CREDENTIAL_TTL_SECONDS": "300"})
    servers = {"turn": turn}
    yield web, port, servers
    web.stop()
    servers["turn"].stop()


def test_a_call_through_turn_recovers_when_the_turn_server_restarts(browser, turn_call, tmp_path):
    web, port, servers = turn_call
    with people(browser, web.url) as new_page:
        counsellor, client = call_of_two(new_page, "Hasselt", "p2p-turn")
        restarts = ice_restarts(web)

        # Stopped by its PID and started again on the same port: every allocation is gone.
        servers["turn"].stop()
        servers["turn"], _ = start_turn(tmp_path, {
            "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",
            "PRAATBOX_TURN_LISTEN": f"127.0.0.1:{port}"})

        for page in (counsellor, client):
            decoding_again(page)
            (media,) = wait_for_state(page, lambda s: True)["media"].values()
            assert media["candidateType"] == "relay"
            expect_security_state(page, "p2p-turn")
        assert ice_restarts(web) > restarts


@pytest.fixture
def relay_web(tmp_path):
    """A web server for relays the test starts (and kills); stops whatever is left at the end."""
    web = start_web(tmp_path)
    relays: list[LiveServer] = []

    def start(name: str) -> LiveServer:
        folder = tmp_path / name
        folder.mkdir()
        relays.append(start_relay(folder, web))
        return relays[-1]

    yield web, start
    for relay in relays:
        relay.stop()
    web.stop()


def group_of_three(new_page, town: str) -> tuple[Page, Page, Page]:
    """Three people in a room on the relay, each decoding the two others."""
    pages = new_page(), new_page(), new_page()
    terms = ("Praatbox Relay", town, f"brug{next(_words)}")
    start_session(pages[0], terms)
    for page in pages[1:]:
        join_session(page, terms)
    for page in pages:
        wait_for_state(page, group_test.receiving_from_everyone, timeout=30,
                       what="the group through the relay")
    return pages


def test_a_group_moves_to_the_other_relay_when_its_relay_is_killed(browser, relay_web):
    web, start_relay_named = relay_web
    first = start_relay_named("first")
    with people(browser, web.url) as new_page:
        counsellor, client, third = group_of_three(new_page, "Genk")

        start_relay_named("second")
        deadline = time.monotonic() + 20
        while web.log().count(" registered") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        first.process.kill()  # SIGKILL: no goodbye, its socket just closes
        first.process.wait()

        for page in (counsellor, client, third):
            expect(page.locator("#notices")).to_contain_text("moved to another one",
                                                             timeout=15_000)
        for page in (counsellor, client, third):
            wait_for_state(page, group_test.receiving_from_everyone, timeout=30,
                           what="the group through the second relay")
            decoding_again(page)
            expect_security_state(page, "group-e2ee")


def test_a_group_gets_its_media_back_after_the_network_dropped_its_packets(browser, relay_web):
    """aiortc cannot restart ICE: each page replaces its relay connection, and the relay feeds the
    others' existing m-lines from the new one (a second m-line with the same msid is refused)."""
    web, start_relay_named = relay_web
    start_relay_named("only")
    with people(browser, web.url) as new_page:
        pages = group_of_three(new_page, "Mol")
        restarts = ice_restarts(web)

        with udp_dropped():
            for page in pages:
                expect_reconnecting(page)
            time.sleep(BLOCKED_SECONDS)

        for page in pages:
            decoding_again(page, timeout=GROUP_BACK_SECONDS)
            expect_security_state(page, "group-e2ee")
            expect(page.get_by_test_id("security-status")).not_to_contain_text("reconnecting")
            assert wait_for_state(page, lambda s: True)["e2ee"] is True
        assert ice_restarts(web) > restarts
