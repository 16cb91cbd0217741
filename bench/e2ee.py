"""The browser's cost of group E2EE per frame: encryption and decryption in headless Chromium.

Real 640×480 VP8 frames at about 1 Mbit/s (the relay benchmark's, one key frame then deltas) and
20 ms Opus frames go through the page's own worker (static/js/e2ee-worker.js) the way a browser
without RTCRtpScriptTransform feeds it (transferred streams): first sealed by a sender, then opened
by a receiver. Reference in the same run and page: the same frames through the same worker with
encryption off, so the difference is what AES-GCM and the frame format add.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.relay_cpu import encode_audio, encode_video  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.live import start_web  # noqa: E402

FPS = 30
ROUNDS = 5

THROUGH_WORKER = """async ([video, audio, encrypt]) => {
  const { frameKey } = await import("/static/js/e2ee-frame.js");
  const key = await frameKey(1, crypto.getRandomValues(new Uint8Array(32)));
  const worker = new Worker("/static/js/e2ee-worker.js", { type: "module" });
  worker.postMessage({ op: "encrypt", on: encrypt });
  worker.postMessage({ op: "send-key", frameKey: key });
  worker.postMessage({ op: "receive-key", frameKey: key });
  // One pass of frames through one direction; resolves with the frames and the time it took.
  const pass = (kind, direction, frames) => new Promise((resolve) => {
    const out = [];
    const started = performance.now();
    const readable = new ReadableStream({
      start(c) {
        frames.forEach((f) => c.enqueue({ type: f.type, data: f.data.slice(0) }));
        c.close();
      } });
    const writable = new WritableStream({ write(f) {
      out.push(f);
      if (out.length === frames.length) resolve({ out, ms: performance.now() - started });
    } });
    worker.postMessage({ op: "streams", readable, writable, options: { kind, direction } },
                       [readable, writable]);
  });
  const asFrames = (list, key) => list.map((bytes, i) => ({
    type: key && i === 0 ? "key" : "delta", data: Uint8Array.from(bytes).buffer }));
  const results = {};
  for (const [kind, list] of [["video", video], ["audio", audio]]) {
    const frames = asFrames(list, kind === "video");
    const sent = await pass(kind, "send", frames);
    const received = await pass(kind, "receive", sent.out);
    results[kind] = { sendMs: sent.ms / frames.length, receiveMs: received.ms / frames.length,
                      frames: frames.length };
  }
  worker.terminate();
  return results;
}"""


def main() -> None:
    video, audio = encode_video(), encode_audio()
    frames = [list(f) for f in video], [list(f) for f in audio]
    kbytes = sum(map(len, video)) / len(video) / 1000
    print(f"video: 640x480 VP8, {len(video)} frames, {kbytes:.1f} kB per frame on average")
    runs: dict[bool, list[dict]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        web = start_web(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(base_url=web.url).new_page()
                page.set_default_timeout(60_000)
                page.goto("/?lang=en")  # any page of ours: same origin and CSP as the room
                for _ in range(ROUNDS):  # interleaved: the shared machine's load drifts
                    for encrypt in (False, True):
                        runs[encrypt].append(page.evaluate(THROUGH_WORKER, [*frames, encrypt]))
                browser.close()
        finally:
            web.stop()
    best = {encrypt: {kind: {
        key: min(run[kind][key] for run in runs[encrypt]) for key in ("sendMs", "receiveMs")}
        for kind in ("video", "audio")} for encrypt in runs}
    for kind in ("video", "audio"):
        clear, sealed = best[False][kind], best[True][kind]
        for key, name in (("sendMs", "encrypt"), ("receiveMs", "decrypt")):
            print(f"e2ee_{kind}_{name}_ms_per_frame: {sealed[key]:.3f}")
            print(f"clear_{kind}_{name}_ms_per_frame: {clear[key]:.3f}")
    video_cost = sum(best[True]["video"].values()) - sum(best[False]["video"].values())
    print(f"e2ee_video_added_ms_per_frame_encrypt_plus_decrypt: {video_cost:.3f}")
    pct = video_cost * FPS / 10  # ms per frame × frames per second / 1000 ms × 100 %
    print(f"e2ee_video_pct_of_core_at_{FPS}fps_one_sender_one_receiver: {pct:.2f}")
    ratio = sum(best[True]["video"].values()) / sum(best[False]["video"].values())
    print(f"e2ee_over_clear_video_worker_time_ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
