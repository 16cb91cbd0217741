"""Milliseconds per frame of background blur (segmentation and compositing) in headless Chromium.

Measured inside the page with performance.now() around each frame, at 320×240 and 640×480, on
Chromium's own fake camera. Reference in the same run and page: a plain canvas copy of the same
camera frames (drawImage, then a one-pixel read so the copy really happened), so the ratio shows
what segmentation and the blur add on top of touching every frame at all.
Runs on software rendering (SwiftShader); a real GPU and CPU make both figures smaller.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.live import start_web  # noqa: E402

WARM_UP_SECONDS = 1.5
MEASURE_SECONDS = 4.0
SIZES = [(320, 240), (640, 480)]

CAMERA = """async ([width, height]) => {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { exact: width }, height: { exact: height }, frameRate: { ideal: 30 } } });
  window.benchTrack = stream.getVideoTracks()[0];
}"""

BLUR = """async ([warmUp, measure]) => {
  const { createBlur } = await import("/static/js/blur.js");
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const blurred = await createBlur(window.benchTrack, { frameRate: 30 });
  await sleep(warmUp * 1000);
  const first = blurred.stats();
  await sleep(measure * 1000);
  const last = blurred.stats();
  blurred.stop();
  const frames = last.frames - first.frames;
  return { ms: (last.totalMs - first.totalMs) / frames, frames, fps: frames / measure,
           width: last.width, height: last.height };
}"""

COPY = """async ([warmUp, measure]) => {
  const video = document.createElement("video");
  video.muted = true;
  video.srcObject = new MediaStream([window.benchTrack]);
  await video.play();
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext("2d");
  let frames = 0, total = 0;
  const until = performance.now() + (warmUp + measure) * 1000;
  const measureFrom = performance.now() + warmUp * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    ctx.getImageData(0, 0, 1, 1);
    if (started >= measureFrom) { frames += 1; total += performance.now() - started; }
    await new Promise((resolve) => setTimeout(resolve, 1000 / 30));
  }
  return { ms: total / frames, frames };
}"""


def main() -> None:
    results: dict[tuple[int, int], tuple[dict, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        web = start_web(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(permissions=["camera"], base_url=web.url)
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto("/?lang=en")  # any page of ours: same origin and CSP as the room
                for width, height in SIZES:
                    page.evaluate(CAMERA, [width, height])
                    copy = page.evaluate(COPY, [WARM_UP_SECONDS, MEASURE_SECONDS])
                    blur = page.evaluate(BLUR, [WARM_UP_SECONDS, MEASURE_SECONDS])
                    page.evaluate("window.benchTrack.stop()")
                    results[(width, height)] = (blur, copy)
                browser.close()
        finally:
            web.stop()
    for (width, height), (blur, copy) in results.items():
        size = f"{width}x{height}"
        print(f"blur_ms_per_frame_{size}: {blur['ms']:.1f}")
        print(f"blur_fps_{size}: {blur['fps']:.1f}")
        print(f"copy_ms_per_frame_{size}: {copy['ms']:.2f}")
    for (width, height), (blur, copy) in results.items():
        print(f"blur_vs_copy_ratio_{width}x{height}: {blur['ms'] / copy['ms']:.1f}")


if __name__ == "__main__":
    main()
