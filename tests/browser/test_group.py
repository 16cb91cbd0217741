"""Three independent headless Chromium users in one room, through the media relay."""

import itertools
import time

import pytest

from tests.browser.flows import (
    expect_security_state,
    join_session,
    receiving_media,
    start_session,
    state,
    wait_for_state,
)
from tests.live import start_relay

LATE_JOINER_SECONDS = 3.0
_words = itertools.count()


@pytest.fixture(scope="module")
def relay(web, tmp_path_factory):
    process = start_relay(tmp_path_factory.mktemp("relay"), web)
    yield process
    process.stop()


def receiving_from_everyone(current, frames=10):
    """True in group mode when video decodes and audio arrives from every other participant."""
    others = [p for p in current["participants"] if p != current["self"]]
    media = current["media"]
    return current["mode"] == "group" and len(others) == 2 and all(
        p in media and media[p]["framesDecoded"] >= frames and media[p]["audioBytesReceived"] > 0
        and media[p]["connectionState"] == "connected" for p in others)


def test_three_people_meet_through_the_relay_and_two_go_back_to_p2p(new_person, relay):
    counsellor, client, third = new_person(), new_person(), new_person()
    terms = ("Praatbox Gent", "Zürich", f"groep{next(_words)}")
    start_session(counsellor, terms)
    join_session(client, terms)
    wait_for_state(client, receiving_media, what="the 1:1 call")

    join_session(third, terms)
    for page in (counsellor, client, third):
        current = wait_for_state(page, receiving_from_everyone, timeout=30,
                                 what="video and audio from both others through the relay")
        assert current["e2ee"] is True  # frames encrypted in the browsers (test_group_e2ee.py)
        status = page.get_by_test_id("security-status")
        expect_security_state(page, "group-e2ee")
        assert "still end-to-end encrypted" in status.inner_text()
        assert page.get_by_test_id("third-person-warning").is_visible()
        assert page.get_by_test_id("remote-video").count() == 2
    assert "Praatbox server" in counsellor.locator("#notices").inner_text()

    # A reload is a late joiner in a running group room: the room stays on the relay and the
    # newcomer decodes everyone's video within seconds.
    reloaded_at = time.monotonic()
    third.reload()
    wait_for_state(third, lambda s: receiving_from_everyone(s, frames=1), timeout=10,
                   what="the late joiner's first frames")
    assert time.monotonic() - reloaded_at < LATE_JOINER_SECONDS
    assert state(counsellor)["mode"] == "group"

    third.get_by_test_id("hangup").click()
    for page in (counsellor, client):
        current = wait_for_state(
            page, lambda s: s["mode"] == "p2p" and len(s["participants"]) == 2
            and receiving_media(s), timeout=30, what="back to a direct call")
        (media,) = current["media"].values()
        wait_for_state(page, lambda s, before=media["framesDecoded"]: next(
            iter(s["media"].values()))["framesDecoded"] > before + 5,
            what="frames still flowing after the switch back")
        expect_security_state(page, "p2p")
        assert page.get_by_test_id("remote-video").count() == 1
