"""REC and LIVE in real headless Chromium: only with everyone's consent, seen on every page.

The counsellor's browser records (MediaRecorder, WebM) or streams (WHIP to an aiortc endpoint
started here on loopback); the others are asked first, and anyone's "no" stops it. The recorded
file is probed with PyAV: a WebM with video and audio of the expected length, whose frames show
more than one person's picture.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import av
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.flows import (
    enter_room,
    join_session,
    people,
    start_session,
    state,
    wait_for_state,
)
from tests.live import ROOT, free_port, start_web

_words = itertools.count()
# Installed before the page's scripts: remembers whether an indicator was ever shown.
INDICATOR_WATCH = """
window.__shown = { rec: false, live: false };
new MutationObserver(() => {
  for (const kind of ["rec", "live"]) {
    const el = document.getElementById(kind + "-indicator");
    if (el && !el.hidden) window.__shown[kind] = true;
  }
}).observe(document, {
  subtree: true, attributes: true, attributeFilter: ["hidden"], childList: true,
});
"""
# A grid cell shows someone's picture when its luma varies (the fake camera's checkerboard);
# an empty cell is the composer's flat background.
PICTURE_LUMA_STD = 20.0


def meet(new_person, count: int) -> list[Page]:
    terms = ("Praatbox Gent", "Antwerpen", f"opname{next(_words)}")
    pages = [new_person() for _ in range(count)]
    for page in pages:
        page.context.add_init_script(INDICATOR_WATCH)
    start_session(pages[0], terms)
    for page in pages[1:]:
        join_session(page, terms)
    for page in pages:
        wait_for_state(page, lambda s: len(s["participants"]) == count, what="everyone in")
    return pages


def ask_everyone(pages: list[Page], start: str = "record-start") -> None:
    pages[0].get_by_test_id(start).click()
    for page in pages[1:]:
        expect(page.get_by_test_id("consent-accept")).to_be_visible()
        expect(page.get_by_test_id("consent-accept")).to_be_focused()


def wait_for_all(pages: list[Page], field: str, value: bool, what: str) -> None:
    for page in pages:
        wait_for_state(page, lambda s: s[field] is value, what=what)


def pictures_in(frame: av.VideoFrame) -> int:
    """How many cells of the composer's 2×2 grid show a picture (not its empty background)."""
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    luma, stride = bytes(plane), plane.line_size
    width, height = gray.width, gray.height
    pictures = 0
    for top in (0, height // 2):
        for left in (0, width // 2):
            samples = [luma[y * stride + x] for y in range(top, top + height // 2, 4)
                       for x in range(left, left + width // 2, 4)]
            pictures += statistics.pstdev(samples) > PICTURE_LUMA_STD
    return pictures


def probe(path: Path) -> dict[str, float]:
    """Decode the whole file: seconds of video and of audio, and the most pictures in a frame."""
    with av.open(str(path)) as container:
        assert container.format.name.startswith("matroska"), container.format.name
        kinds = {stream.type for stream in container.streams}
        assert kinds == {"video", "audio"}, kinds
        video_end = audio_end = 0.0
        most = 0
        for frame in container.decode(*container.streams):
            end = float(frame.time or 0.0)
            if isinstance(frame, av.VideoFrame):
                video_end = max(video_end, end)
                most = max(most, pictures_in(frame))
            else:
                audio_end = max(audio_end, end)
    return {"video_seconds": video_end, "audio_seconds": audio_end, "pictures": most}


def test_recording_waits_for_everyone_stops_on_a_no_and_leaves_a_webm_of_the_call(new_person,
                                                                               tmp_path):
    pages = meet(new_person, 3)
    counsellor, first, second = pages

    # Asked, and one says no: nothing is recorded, no page ever shows REC.
    ask_everyone(pages)
    first.get_by_test_id("consent-decline").click()
    expect(second.get_by_test_id("consent-accept")).to_be_hidden()
    for page in pages:
        expect(page.get_by_test_id("record-download")).to_have_count(
            1 if page is counsellor else 0)
        assert page.evaluate("window.__shown.rec") is False
        assert state(page)["recording"] is False
    assert counsellor.locator("#recording-ready").is_hidden()

    # Asked again, everyone agrees: REC on every page.
    ask_everyone(pages)
    first.get_by_test_id("consent-accept").click()
    assert state(counsellor)["recording"] is False  # not before the last yes
    second.get_by_test_id("consent-accept").click()
    started = time.monotonic()
    wait_for_all(pages, "recording", True, "recording on")
    for page in pages:
        expect(page.get_by_test_id("rec-indicator")).to_be_visible()
    expect(counsellor.get_by_test_id("record-stop")).to_be_visible()
    expect(second.get_by_test_id("consent-withdraw")).to_be_visible()

    # One withdraws: it stops for everyone, and the counsellor can save the file.
    time.sleep(5)
    second.get_by_test_id("consent-withdraw").click()
    stopped = time.monotonic()
    wait_for_all(pages, "recording", False, "recording off")
    for page in pages:
        expect(page.get_by_test_id("rec-indicator")).to_be_hidden()
    with counsellor.expect_download() as download:
        counsellor.get_by_test_id("record-download").click()
    assert download.value.suggested_filename.startswith("praatbox-recording-")
    assert download.value.suggested_filename.endswith(".webm")
    path = tmp_path / "recording.webm"
    download.value.save_as(path)

    figures = probe(path)
    seconds = stopped - started
    assert seconds - 3 <= figures["video_seconds"] <= seconds + 1, figures
    assert seconds - 3 <= figures["audio_seconds"] <= seconds + 1, figures
    assert figures["pictures"] >= 2, figures  # more than one person in the picture


def test_a_newcomer_sees_rec_and_must_answer_before_entering(new_person):
    pages = meet(new_person, 2)
    counsellor, client = pages
    ask_everyone(pages)
    assert_accessible(client, "the consent question")
    client.get_by_test_id("consent-accept").click()
    wait_for_all(pages, "recording", True, "recording on")

    newcomer = new_person()
    newcomer.goto(counsellor.url)  # the shared link
    enter_room(newcomer)
    # At the door: REC shown and the question asked, but not inside yet.
    expect(newcomer.get_by_test_id("rec-indicator")).to_be_visible()
    expect(newcomer.get_by_test_id("consent-accept")).to_be_visible()
    assert state(newcomer)["joined"] is False
    assert len(state(counsellor)["participants"]) == 2
    assert_accessible(newcomer, "REC and the question at the door")
    newcomer.get_by_test_id("consent-accept").click()
    wait_for_state(counsellor, lambda s: len(s["participants"]) == 3, what="the newcomer inside")
    wait_for_all([*pages, newcomer], "recording", True, "recording still on")

    # The counsellor stops: off everywhere at once.
    counsellor.get_by_test_id("record-stop").click()
    wait_for_all([*pages, newcomer], "recording", False, "recording off")
    expect(counsellor.get_by_test_id("record-download")).to_be_visible()


def test_a_newcomer_who_says_no_stops_the_recording_and_enters(new_person):
    pages = meet(new_person, 2)
    counsellor, client = pages
    ask_everyone(pages)
    client.get_by_test_id("consent-accept").click()
    wait_for_all(pages, "recording", True, "recording on")

    newcomer = new_person()
    newcomer.goto(counsellor.url)
    enter_room(newcomer)
    newcomer.get_by_test_id("consent-decline").click()
    wait_for_all([*pages, newcomer], "recording", False, "recording off")
    wait_for_state(newcomer, lambda s: s["joined"] and len(s["participants"]) == 3,
                   what="the newcomer inside")
    expect(newcomer.get_by_test_id("rec-indicator")).to_be_hidden()


def test_without_a_streaming_endpoint_there_is_no_live_control_and_the_csp_is_unchanged(
        new_person):
    counsellor = new_person()
    terms = ("Praatbox Gent", "Brugge", f"stroom{next(_words)}")
    start_session(counsellor, terms)
    response = counsellor.request.get(counsellor.url)
    assert "connect-src 'self';" in response.headers["content-security-policy"]
    expect(counsellor.get_by_test_id("record-start")).to_be_visible()
    expect(counsellor.get_by_test_id("live-start")).to_have_count(0)
    assert state(counsellor)["streaming"] is False


# -- LIVE against a real WHIP endpoint ----------------------------------------------------------

@pytest.fixture(scope="module")
def whip(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("whip") / "whip.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.whip_server", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/stats", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def web_with_streaming(whip, tmp_path_factory):
    server = start_web(tmp_path_factory.mktemp("web-live"),
                       env={"PRAATBOX_STREAMING_WHIP_URL": whip + "/whip"})
    yield server
    server.stop()


def whip_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/stats", timeout=2) as response:
        return json.loads(response.read())


def test_live_streams_the_call_to_the_whip_endpoint_with_everyones_consent(
        browser, web_with_streaming, whip):
    with people(browser, web_with_streaming.url) as new_person:
        pages = meet(new_person, 2)
        counsellor, client = pages
        response = counsellor.request.get(counsellor.url)
        assert f"connect-src 'self' {whip};" in response.headers["content-security-policy"]

        ask_everyone(pages, "live-start")
        client.get_by_test_id("consent-accept").click()
        wait_for_all(pages, "streaming", True, "streaming on")
        for page in pages:
            expect(page.get_by_test_id("live-indicator")).to_be_visible()
        deadline = time.monotonic() + 30
        figures = whip_stats(whip)
        while not (figures["video_frames"] >= 50 and figures["audio_frames"] >= 100):
            assert time.monotonic() < deadline, figures
            time.sleep(0.5)
            figures = whip_stats(whip)
        assert figures["sessions"] == 1 and figures["connected"] == 1, figures
        assert (figures["width"], figures["height"]) == (640, 480), figures

        counsellor.get_by_test_id("live-stop").click()
        wait_for_all(pages, "streaming", False, "streaming off")
        for page in pages:
            expect(page.get_by_test_id("live-indicator")).to_be_hidden()
        deadline = time.monotonic() + 10
        while whip_stats(whip)["deleted"] < 1:
            assert time.monotonic() < deadline, whip_stats(whip)
            time.sleep(0.2)
