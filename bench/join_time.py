"""Milliseconds from the client's *Join* click to the first decoded remote video frame.

The client presses *Enter the session* on the preview as soon as it is enabled, so the figure
includes the page load and opening the devices, but no human pause.

Two independent headless Chromium contexts, 5 rounds. Reference in the same run: a bare WebRTC
call between two RTCPeerConnections inside one page (no server, no signaling), so the ratio shows
what Praatbox's pages, signaling and negotiation add on top of WebRTC itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.fake_camera import write_test_clip  # noqa: E402
from tests.browser.flows import enter_room, fill_terms, start_session, state  # noqa: E402
from tests.live import start_web  # noqa: E402

POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 20.0

BARE_CALL = """async () => {
  const started = performance.now();
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  for (;;) {
    let frames = 0;
    (await b.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
    });
    if (frames > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = performance.now() - started;
  a.close(); b.close(); stream.getTracks().forEach((t) => t.stop());
  return elapsed;
}"""


def first_frame_ms(client) -> float:
    clicked = time.monotonic()
    client.get_by_test_id("join").click()
    client.wait_for_url("**/r/*")
    enter_room(client)  # *Enter the session* as soon as the preview allows it
    deadline = clicked + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            media = state(client)["media"]
        except Exception:  # still loading the module
            media = {}
        if any(m["framesDecoded"] > 0 for m in media.values()):
            return (time.monotonic() - clicked) * 1000
        time.sleep(POLL_SECONDS)
    raise RuntimeError("no remote frame decoded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    ours: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_test_clip(Path(tmp) / "camera.y4m")
        web = start_web(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS + [f"--use-file-for-fake-video-capture={clip}"])
                for round_number in range(rounds):
                    terms = ("bench box", "gent", f"appel{round_number}")
                    contexts = [browser.new_context(permissions=["camera", "microphone"],
                                                    base_url=web.url) for _ in range(2)]
                    counsellor, client = (context.new_page() for context in contexts)
                    start_session(counsellor, terms)
                    fill_terms(client, *terms)
                    ours.append(first_frame_ms(client))
                    bare.append(client.evaluate(BARE_CALL))
                    for context in contexts:
                        context.close()
                browser.close()
        finally:
            web.stop()
    for index, (mine, reference) in enumerate(zip(ours, bare, strict=True), start=1):
        print(f"round_{index}_join_to_first_frame_ms: {mine:.0f}")
        print(f"round_{index}_bare_webrtc_first_frame_ms: {reference:.0f}")
    print(f"join_to_first_frame_median_ms: {statistics.median(ours):.0f}")
    print(f"join_to_first_frame_max_ms: {max(ours):.0f}")
    print(f"bare_webrtc_first_frame_median_ms: {statistics.median(bare):.0f}")
    print("goal_median_ms: 1000")
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"join_vs_bare_webrtc_median_ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
