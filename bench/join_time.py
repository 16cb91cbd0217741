"""Milliseconds from the client's *Join* click to the first decoded remote video frame, and
where they go.

The client presses *Enter the session* on the preview as soon as it is enabled, so the figure
includes the page load and opening the devices, but no human pause.

Every time is taken in the client's browser, on one clock (`performance.timeOrigin` plus
`performance.now()`, so it runs on across the navigation to the room page): the click on the home
page, the room page's navigation entry, the marks the room page sets (`praatbox:*`, see
docs/signaling.md "Join time"), the first RTCPeerConnection's state changes and its getStats(),
polled every 20 ms for the first decoded frame as in the reference.

Two independent headless Chromium contexts, 5 rounds. Reference in the same run: a bare WebRTC
call between two RTCPeerConnections inside one page (no server, no signaling), so the ratio shows
what Praatbox's pages, signaling and negotiation add on top of WebRTC itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.fake_camera import write_test_clip  # noqa: E402
from tests.browser.flows import fill_terms, start_session  # noqa: E402
from tests.live import start_web  # noqa: E402

TIMEOUT_SECONDS = 20.0
# *Enter the session* is pressed from inside the page, looking every 5 ms whether it is enabled:
# Playwright's own click waits for that with a back-off of up to 100 ms between looks, then for
# the button to stay put over two frames, 50-80 ms in all that no person would wait on purpose.
ENTER_POLL_MS = 5
PRESS_ENTER_WHEN_ENABLED = """() => {
  const enter = document.querySelector("[data-testid=preview-enter]");
  if (enter === null || enter.disabled) return false;
  enter.click();
  return true;
}"""

# Installed in the client's pages before their own scripts: note the *Join* click (in this tab's
# sessionStorage, which survives the navigation) and watch the page's first RTCPeerConnection.
WATCH_JOIN = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("[data-testid=join]")) {
      sessionStorage.setItem("bench.joinClicked", String(now()));
    }
  }, true);
  const times = (window.benchJoinTimes = {});
  const at = (name) => { if (!(name in times)) times[name] = now(); };
  const Native = window.RTCPeerConnection;
  let watching = false;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      if (watching) return;
      watching = true;
      this.addEventListener("signalingstatechange", () => {
        if (this.signalingState === "stable" && this.remoteDescription) at("offer_answer");
      });
      this.addEventListener("iceconnectionstatechange", () => {
        if (["connected", "completed"].includes(this.iceConnectionState)) at("ice_connected");
      });
      // "connected" once ICE and DTLS both are.
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") at("dtls_connected");
      });
      const poll = async () => {
        if (this.connectionState === "closed") return;
        let frames = 0;
        (await this.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
        });
        if (frames > 0) at("first_frame");
        else setTimeout(poll, 20);
      };
      poll();
    }
  };
})()"""

# The steps of a join, each from the end of the one before; every time comes from the page.
STEPS = ("join_request", "room_page", "scripts", "preview_ready", "enter_click", "socket_open",
         "welcome", "offer_answer", "ice_connected", "dtls_connected", "first_frame")

JOIN_TIMES = """() => {
  const origin = performance.timeOrigin;
  const mark = (name) => {
    const entry = performance.getEntriesByName("praatbox:" + name, "mark")[0];
    return entry ? origin + entry.startTime : null;
  };
  const navigation = performance.getEntriesByType("navigation")[0];
  return {
    clicked: Number(sessionStorage.getItem("bench.joinClicked")),
    join_request: origin + navigation.startTime,
    room_page: origin + navigation.responseEnd,
    scripts: mark("room-script"),
    preview_ready: mark("preview-ready"),
    enter_click: mark("entered"),
    socket_open: mark("socket-open"),
    welcome: mark("welcome"),
    ...window.benchJoinTimes,
  };
}"""

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


def join_steps(client) -> dict[str, float]:
    """Click *Join*, enter through the preview; return each step's milliseconds and the total."""
    client.get_by_test_id("join").click()
    client.wait_for_url("**/r/*")
    client.wait_for_function(PRESS_ENTER_WHEN_ENABLED, polling=ENTER_POLL_MS,
                             timeout=TIMEOUT_SECONDS * 1000)
    client.wait_for_function("() => window.benchJoinTimes && window.benchJoinTimes.first_frame",
                             timeout=TIMEOUT_SECONDS * 1000)
    times = client.evaluate(JOIN_TIMES)
    missing = [step for step in STEPS if times.get(step) is None]
    if missing:
        raise RuntimeError(f"the page did not show these steps: {missing}")
    steps, previous = {}, times["clicked"]
    for step in STEPS:
        steps[step] = times[step] - previous
        previous = times[step]
    steps["total"] = times["first_frame"] - times["clicked"]
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    ours: list[dict[str, float]] = []
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
                    contexts[1].add_init_script(WATCH_JOIN)
                    counsellor, client = (context.new_page() for context in contexts)
                    start_session(counsellor, terms)
                    fill_terms(client, *terms)
                    ours.append(join_steps(client))
                    bare.append(client.evaluate(BARE_CALL))
                    for context in contexts:
                        context.close()
                browser.close()
        finally:
            web.stop()
    totals = [steps["total"] for steps in ours]
    for index, (mine, reference) in enumerate(zip(totals, bare, strict=True), start=1):
        print(f"round_{index}_join_to_first_frame_ms: {mine:.0f}")
        print(f"round_{index}_bare_webrtc_first_frame_ms: {reference:.0f}")
    for step in STEPS:
        print(f"join_step_{step}_median_ms: {statistics.median(s[step] for s in ours):.0f}")
    print(f"join_to_first_frame_median_ms: {statistics.median(totals):.0f}")
    print(f"join_to_first_frame_max_ms: {max(totals):.0f}")
    print(f"bare_webrtc_first_frame_median_ms: {statistics.median(bare):.0f}")
    print("goal_median_ms: 1000")
    ratio = statistics.median(totals) / statistics.median(bare)
    print(f"join_vs_bare_webrtc_median_ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
