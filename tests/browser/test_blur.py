"""Background blur: the other side really receives a blurred background, all from our own server."""

from __future__ import annotations

import itertools
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.fake_camera import write_person_clip
from tests.browser.flows import (
    join_session,
    people,
    receiving_media,
    start_session,
    state,
    wait_for_state,
)
from tests.live import start_relay

_words = itertools.count()
MEDIAPIPE = "/static/vendor/mediapipe/"
REMOTE = "[data-testid=remote-video]"

# Mean absolute difference between neighbouring pixels' luma in the background (the left and
# right fifths of the picture, where the checkerboard is never covered by the figure) and in the
# figure's face. A sharp 16-pixel checkerboard scores about 13; blurred, it drops to a few.
SHARPNESS = """(video) => {
  const width = video.videoWidth, height = video.videoHeight;
  if (!width || !height) return null;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0);
  const pixels = ctx.getImageData(0, 0, width, height).data;
  const luma = (x, y) => {
    const i = 4 * (y * width + x);
    return 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
  };
  const score = (x0, x1, y0, y1) => {
    let sum = 0, count = 0;
    for (let y = y0; y < y1 - 1; y++) {
      for (let x = x0; x < x1 - 1; x++) {
        const here = luma(x, y);
        sum += Math.abs(here - luma(x + 1, y)) + Math.abs(here - luma(x, y + 1));
        count += 2;
      }
    }
    return sum / count;
  };
  const fifth = Math.floor(width / 5);
  return {
    background: (score(0, fifth, 0, height) + score(width - fifth, width, 0, height)) / 2,
    face: score(Math.floor(width * 0.4), Math.floor(width * 0.6), Math.floor(height * 0.25),
                Math.floor(height * 0.5)),
  };
}"""


@pytest.fixture(scope="module")
def person_browser(browser, tmp_path_factory):
    """A second Chromium whose fake camera films a person in front of a sharp checkerboard."""
    clip = write_person_clip(tmp_path_factory.mktemp("person") / "person.y4m")
    second = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + [f"--use-file-for-fake-video-capture={clip}"],
    )
    yield second
    second.close()


@pytest.fixture
def person(person_browser, web):
    with people(person_browser, web.url) as make:
        yield make


def fresh_terms() -> tuple[str, str, str]:
    return ("Praatbox Blur", "Brugge", f"peer{next(_words)}")


def sharpness(page: Page, selector: str, samples: int = 5) -> dict[str, float]:
    """The median sharpness of a few frames of a <video>, a tenth of a second apart."""
    video = page.locator(selector).first
    readings = []
    for _ in range(samples):
        reading = video.evaluate(SHARPNESS)
        if reading:
            readings.append(reading)
        time.sleep(0.1)
    assert readings, f"{selector} shows no picture"
    return {key: sorted(r[key] for r in readings)[len(readings) // 2] for key in readings[0]}


def wait_for_sharpness(page: Page, selector: str, check, timeout: float = 20.0) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        current = sharpness(page, selector)
        if check(current) or time.monotonic() > deadline:
            return current


def test_the_other_side_receives_a_blurred_background(person, web):
    counsellor, client = person(), person()
    requests: list[str] = []
    for page in (counsellor, client):
        page.on("request", lambda request: requests.append(request.url))
    terms = fresh_terms()
    start_session(counsellor, terms)
    join_session(client, terms)
    wait_for_state(client, receiving_media, what="the counsellor's video")
    assert state(counsellor)["blur"] is False

    before = wait_for_sharpness(client, REMOTE, lambda s: s["background"] > 8)
    assert before["background"] > 8, f"the test clip's background should be sharp: {before}"
    assert not any(MEDIAPIPE in url for url in requests), "blur assets load only when switched on"

    toggle = counsellor.get_by_test_id("blur-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true", timeout=30_000)
    wait_for_state(counsellor, lambda s: s["blur"] is True, timeout=10, what="blurred frames")

    after = wait_for_sharpness(
        client, REMOTE, lambda s: s["background"] < before["background"] / 3)
    assert after["background"] < before["background"] / 3, (before, after)
    own_view = sharpness(counsellor, "[data-testid=local-video]")
    assert own_view["background"] < before["background"] / 3, "the self view shows the blur too"

    assert any(url.endswith(".wasm") and MEDIAPIPE in url for url in requests)
    # blob: URLs (the frame clock's worker) live inside the page and never touch the network.
    elsewhere = [url for url in requests if not url.removeprefix("blob:").startswith(web.url)]
    assert not elsewhere, elsewhere

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    wait_for_state(counsellor, lambda s: s["blur"] is False, timeout=5, what="blur off")
    wait_for_sharpness(client, REMOTE, lambda s: s["background"] > 8)
    assert counsellor.locator("#media-problem").is_hidden()


@pytest.fixture(scope="module")
def relay(web, tmp_path_factory):
    process = start_relay(tmp_path_factory.mktemp("relay"), web)
    yield process
    process.stop()


def test_blur_reaches_people_who_join_later_and_the_group_relay(person, relay):
    counsellor, client, third = person(), person(), person()
    terms = fresh_terms()
    start_session(counsellor, terms)
    wait_for_state(counsellor, lambda s: s["joined"], what="joined")
    counsellor.get_by_test_id("blur-toggle").click()
    wait_for_state(counsellor, lambda s: s["blur"] is True, timeout=30, what="blurred frames")
    own = state(counsellor)["self"]
    from_counsellor = f"{REMOTE}[data-peer='{own}']"

    join_session(client, terms)  # a connection made while blur is on sends the blurred picture
    wait_for_state(client, receiving_media, what="the counsellor's video")
    blurred = wait_for_sharpness(client, from_counsellor, lambda s: s["background"] < 4)
    assert blurred["background"] < 4, blurred

    join_session(third, terms)  # three people: everyone now sends to the relay instead
    wait_for_state(third, lambda s: s["mode"] == "group" and s["media"].get(own, {}).get(
        "framesDecoded", 0) >= 10, timeout=30, what="the counsellor's video through the relay")
    blurred = wait_for_sharpness(third, from_counsellor, lambda s: s["background"] < 4)
    assert blurred["background"] < 4, blurred
    assert state(counsellor)["mode"] == "group" and state(counsellor)["blur"] is True


NO_WEBGL = """(() => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return /webgl/.test(kind) ? null : getContext.call(this, kind, ...rest);
  };
})();"""


def test_blur_without_webgl_says_so_and_stays_off(new_person):
    counsellor = new_person()
    counsellor.context.add_init_script(NO_WEBGL)
    requests: list[str] = []
    counsellor.on("request", lambda request: requests.append(request.url))
    start_session(counsellor, fresh_terms())
    wait_for_state(counsellor, lambda s: s["joined"], what="joined")

    toggle = counsellor.get_by_test_id("blur-toggle")
    toggle.click()
    expect(counsellor.locator("#media-problem")).to_contain_text("does not work in this browser")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_be_enabled()
    assert state(counsellor)["blur"] is False
    assert not any(MEDIAPIPE in url for url in requests)
