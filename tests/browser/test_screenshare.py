"""Screen sharing in a 1:1 call: the other side sees the screen, then the camera again."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.browser.fake_camera import HEIGHT, WIDTH
from tests.browser.flows import join_session, receiving_media, start_session, wait_for_state

# Keep the captured screen's tracks reachable, to play the browser's own "stop sharing" (ended).
CATCH_SCREEN_TRACKS = """
const original = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
window.__screenTracks = [];
navigator.mediaDevices.getDisplayMedia = async (constraints) => {
  const stream = await original(constraints);
  window.__screenTracks.push(...stream.getVideoTracks());
  return stream;
};
"""


def remote_picture(page: Page) -> tuple[int, int, int]:
    """Width, height and decoded frame count of the first remote video."""
    return tuple(page.evaluate("""() => {
      const video = document.querySelector('[data-testid=remote-video]');
      const quality = video.getVideoPlaybackQuality();
      return [video.videoWidth, video.videoHeight, quality.totalVideoFrames];
    }"""))


def wait_for_picture(page: Page, check, what: str, timeout: float = 20.0) -> tuple[int, int, int]:
    deadline = time.monotonic() + timeout
    last = (0, 0, 0)
    while time.monotonic() < deadline:
        last = remote_picture(page)
        if check(last):
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; last picture: {last}")


def is_camera(picture) -> bool:
    return picture[0] * HEIGHT == picture[1] * WIDTH and picture[0] > 0


def is_screen(picture) -> bool:
    """The fake screen is 16:9, the fake camera 4:3."""
    return picture[1] > 0 and picture[0] / picture[1] > 1.6


def test_screen_share_replaces_the_camera_and_gives_it_back(new_person):
    counsellor, client = new_person(), new_person()
    counsellor.add_init_script(CATCH_SCREEN_TRACKS)
    terms = ("Scherm delen", "Antwerpen", f"lamp{time.monotonic_ns()}")
    start_session(counsellor, terms)
    join_session(client, terms)
    for page in (counsellor, client):
        wait_for_state(page, receiving_media, what="1:1 call")
    wait_for_picture(client, is_camera, "the counsellor's camera")

    share = counsellor.get_by_test_id("screen-share")
    share.click()
    expect(counsellor.locator("#screen-share-banner")).to_be_visible()
    expect(share).to_have_attribute("aria-pressed", "true")
    wait_for_state(counsellor, lambda s: s["screenSharing"], what="sharing")
    frames = wait_for_picture(client, is_screen, "the shared screen")[2]
    wait_for_picture(client, lambda p: is_screen(p) and p[2] > frames + 5, "screen frames flowing")

    # Stopped from our banner: back to the camera, on the same connection.
    counsellor.get_by_test_id("screen-share-stop").click()
    expect(counsellor.locator("#screen-share-banner")).to_be_hidden()
    expect(share).to_have_attribute("aria-pressed", "false")
    frames = wait_for_picture(client, is_camera, "the camera again")[2]
    wait_for_picture(client, lambda p: is_camera(p) and p[2] > frames + 5, "camera frames flowing")

    # Stopped through the browser's own control (the captured track ends): the camera again.
    share.click()
    wait_for_picture(client, is_screen, "the shared screen, second time")
    counsellor.evaluate("window.__screenTracks.at(-1).dispatchEvent(new Event('ended'))")
    expect(counsellor.locator("#screen-share-banner")).to_be_hidden()
    wait_for_picture(client, is_camera, "the camera after the browser stopped sharing")
    assert counsellor.evaluate("window.__screenTracks.every((t) => t.readyState === 'ended')")
    current = wait_for_state(client, receiving_media, what="media still flowing")
    assert len(current["participants"]) == 2
