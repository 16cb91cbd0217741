"""One person on a poor link (Chromium in its own network namespace, `tbf` on its veth pair):
audio keeps flowing, video degrades, and the page says so; the others see it on that tile.

Every camera here films the busy clip (tests/browser/fake_camera.py): the clean test clip needs
~100 kbit/s and would fit through any limit tested here."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.fake_camera import write_busy_clip
from tests.browser.flows import (
    join_session,
    people,
    receiving_media,
    start_session,
    state,
    wait_for_state,
)
from tests.browser.media_watch import watch
from tests.browser.poor_link import TEST_SIDE, poor_browser
from tests.live import start_relay, start_web

_words = itertools.count()
# The weak verdict takes two poor seconds, Chromium's estimate a few more to fall.
NOTICE_SECONDS = 15
# Good again: Chromium's estimate climbs back (~40 kbit/s a second), then five good seconds.
RECOVERY_SECONDS = 30
# A call running for a few seconds: the browsers have estimated their links (Chromium's first
# estimate takes up to 5 s).
RUNNING_FRAMES = 75
# The longest any remote's picture may stand still on any page, the narrowing included.
MAX_STALL_SECONDS = 2
# How long every page is watched from the moment the link narrows: the notice appears and the
# relay adapts within it.
WATCH_SECONDS = 18
# After a limit is lifted the relay tries the full layer within its probe wait (a clean second,
# then at most 3 s since the last try), then keeps it.
FULL_LAYER_SECONDS = 5


@pytest.fixture(scope="module")
def busy_clip(tmp_path_factory):
    return write_busy_clip(tmp_path_factory.mktemp("clip") / "busy.y4m")


@pytest.fixture(scope="module")
def busy_browser(browser, busy_clip):
    """A Chromium on the full link whose camera films the busy clip."""
    second = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + [f"--use-file-for-fake-video-capture={busy_clip}"])
    yield second
    second.close()


@pytest.fixture(scope="module")
def open_web(tmp_path_factory):
    """The web listening on every address, so the browser behind the veth pair reaches it."""
    server = start_web(tmp_path_factory.mktemp("web"), env={"HOST": "0.0.0.0"})
    yield server
    server.stop()


def frames_of_the_other(page):
    """Frames decoded of the one remote in a call of two."""
    return next(iter(wait_for_state(page, receiving_media)["media"].values()))["framesDecoded"]


def received_frames_of(current):
    return {peer: m["framesDecoded"] for peer, m in current["media"].items() if peer != "relay"}


def received_frames(page):
    """Frames decoded of each other person (in a group, per publisher)."""
    return received_frames_of(state(page))


def test_direct_call_on_a_poor_link_keeps_audio_and_says_the_link_is_weak(
        busy_browser, busy_clip, open_web, tmp_path):
    port = int(open_web.url.rsplit(":", 1)[1])
    camera = f"--use-file-for-fake-video-capture={busy_clip}"
    with poor_browser(busy_browser.browser_type, tmp_path, port, [camera]) as (slow, link), \
            people(busy_browser, open_web.url) as person, \
            people(slow, f"http://{TEST_SIDE}:{port}") as poor_person:
        counsellor, client = person(), poor_person()
        terms = ("Praatbox Gent", "Zürich", f"traag{next(_words)}")
        start_session(counsellor, terms)
        join_session(client, terms)
        for page in (counsellor, client):
            wait_for_state(page, receiving_media, what="decoded remote video and audio")
        expect(client.get_by_test_id("weak-link-notice")).to_be_hidden()

        link.limit(300)
        expect(client.get_by_test_id("weak-link-notice")).to_be_visible(
            timeout=NOTICE_SECONDS * 1000)
        expect(counsellor.get_by_test_id("weak-link-tile")).to_be_visible()
        for seen in watch([counsellor, client], 10):
            assert seen.audio_gaps() == 0, seen.audio  # audio arrived every second, both ways

        # Audio only: the poor page stops sending video, and the other stops sending it video.
        client.get_by_test_id("audio-only").click()
        counsellor.wait_for_timeout(3000)  # what was on its way arrives
        before = [frames_of_the_other(page) for page in (counsellor, client)]
        for seen in watch([counsellor, client], 4):
            assert seen.audio_gaps() == 0, seen.audio
        assert [frames_of_the_other(page) for page in (counsellor, client)] == before
        client.get_by_test_id("audio-only").click()
        for page, frames in zip((counsellor, client), before, strict=True):
            wait_for_state(page, lambda s, frames=frames: next(iter(s["media"].values()))[
                "framesDecoded"] > frames + 10, what="video again after audio only")

        link.lift()
        expect(client.get_by_test_id("weak-link-notice")).to_be_hidden(
            timeout=RECOVERY_SECONDS * 1000)
        expect(counsellor.get_by_test_id("weak-link-tile")).to_be_hidden()


def test_group_member_on_a_poor_link_gets_fewer_frames_never_frozen_and_the_others_full_video(
        busy_browser, busy_clip, open_web, tmp_path):
    """The relay sends the poor page the base temporal layer only (and asks the publishers for
    no more than that base fits into its link), so its video slows down instead of freezing;
    the others keep their full frame rate; audio reaches everyone every second."""
    port = int(open_web.url.rsplit(":", 1)[1])
    camera = f"--use-file-for-fake-video-capture={busy_clip}"
    with poor_browser(busy_browser.browser_type, tmp_path, port, [camera]) as (slow, link), \
            people(busy_browser, open_web.url) as person, \
            people(slow, f"http://{TEST_SIDE}:{port}") as poor_person:
        # The relay's host addresses must include the veth end, which exists from now on.
        relay = start_relay(tmp_path, open_web, env={
            "PRAATBOX_RELAY_HOST_IPS": f"127.0.0.1,{TEST_SIDE}",
            "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8,10.99.0.0/24"})
        try:
            counsellor, other, client = person(), person(), poor_person()
            terms = ("Praatbox Gent", "Zürich", f"traag{next(_words)}")
            start_session(counsellor, terms)
            for page in (other, client):
                join_session(page, terms)
            for page in (counsellor, other, client):
                wait_for_state(page, lambda s: s["mode"] == "group" and len(
                    set(s["media"]) - {"relay"}) == 2 and all(
                    m["framesDecoded"] > RUNNING_FRAMES and m.get("fullLayer") for peer, m in
                    s["media"].items() if peer != "relay"),
                    timeout=30, what="a running call: full video of both others via the relay")

            link.limit(400)
            # Every page, every second, from the moment the link narrows.
            full_one, full_two, poor = watch([counsellor, other, client], WATCH_SECONDS)
            for seen in (full_one, full_two):
                # The camera's full 15 frames a second, less one for a loaded machine.
                assert min(seen.median_fps().values()) >= 14, seen.fps
                assert seen.longest_stall_seconds() <= MAX_STALL_SECONDS, seen.fps
                assert seen.audio_gaps() == 0, seen.audio
            assert min(poor.median_fps().values()) >= 5, poor.fps  # slower, still moving
            assert poor.longest_stall_seconds() <= MAX_STALL_SECONDS, poor.fps
            assert poor.audio_gaps() == 0, poor.audio  # the poor page hears both, every second
            # Meanwhile the page said so, and the others see it on that tile.
            expect(client.get_by_test_id("weak-link-notice")).to_be_visible()
            poor_tile = f'.tile[data-peer="{state(client)["self"]}"]'
            for page in (counsellor, other):
                expect(page.locator(poor_tile).get_by_test_id("weak-link-tile")).to_be_visible()
                # Their own links are fine: being held back for the poor one's link is not
                # theirs being weak, nor is the relay's loss of the poor one's video.
                expect(page.get_by_test_id("weak-link-notice")).to_be_hidden()
            wait_for_state(client, lambda s: all(
                m["layer"] == 0 for peer, m in s["media"].items() if peer != "relay"),
                timeout=15, what="the relay sending the poor page the base layer only")

            # Audio only: the relay sends the poor page no video, and it sends none; then again.
            client.get_by_test_id("audio-only").click()
            client.wait_for_timeout(3000)  # what was on its way arrives
            before = received_frames(client)
            (quiet,) = watch([client], 4)
            assert quiet.audio_gaps() == 0, quiet.audio
            assert received_frames(client) == before
            client.get_by_test_id("audio-only").click()
            wait_for_state(client, lambda s: all(
                frames > before[peer] for peer, frames in received_frames_of(s).items()),
                what="video of both others again after audio only")

            # The limit lifted: the full layer again within 5 s of the relay seeing a clean link.
            link.lift()
            wait_for_state(client, lambda s: all(
                m["fullLayer"] for peer, m in s["media"].items() if peer != "relay"),
                timeout=FULL_LAYER_SECONDS, what="the full layer of both others again")
            (recovered,) = watch([client], 4)
            assert min(recovered.median_fps().values()) >= 14, recovered.fps
        finally:
            relay.stop()
