"""A call forced through the bundled TURN server: what a client behind a strict firewall gets."""

import itertools

import pytest

from tests.browser.flows import (
    expect_security_state,
    join_session,
    people,
    receiving_media,
    start_session,
    wait_for_state,
)
from tests.live import start_turn, start_web

_words = itertools.count()


@pytest.fixture(scope="module")
def relay_only_web(tmp_path_factory):
    """Our TURN server (loopback peers allowed, as SPEC asks of tests) and a web server that
    tells browsers to use it and nothing else (`PRAATBOX_ICE_TRANSPORT_POLICY=relay`)."""
    tmp = tmp_path_factory.mktemp("turn-call")
    turn, port = start_turn(tmp, {"PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8"})
    web = start_web(tmp, {"PRAATBOX_TURN_URLS": f"turn:127.0.0.1:{port}?transport=udp",
                          "PRAATBOX_ICE_TRANSPORT_POLICY": "relay"})
    yield web, turn
    web.stop()
    turn.stop()


def test_call_forced_through_our_turn_server_decodes_both_ways(browser, relay_only_web):
    web, turn = relay_only_web
    with people(browser, web.url) as new_page:
        counsellor, client = new_page(), new_page()
        terms = ("Praatbox Turn", "Brugge", f"kaars{next(_words)}")
        start_session(counsellor, terms)
        join_session(client, terms)
        for page in (counsellor, client):
            current = wait_for_state(page, receiving_media, timeout=30,
                                     what="decoded video and audio through TURN")
            (media,) = current["media"].values()
            assert media["candidateType"] == "relay"
            expect_security_state(page, "p2p-turn")
            assert "still end-to-end encrypted" in page.get_by_test_id(
                "security-status").inner_text()
        # The TURN server relayed the call but logged no address of anyone in it.
        assert "127.0.0.1" not in turn.log().split("TURN listening", 1)[1]
