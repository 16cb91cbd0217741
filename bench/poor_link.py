"""One person on a poor link, P2P and group: frames per second of every remote on every page,
the longest video stall and audio continuity, at three rates against the same call unlimited.

The poor person's Chromium runs in its own network namespace behind a veth pair with `tbf` both
ways (tests/browser/poor_link.py); the others are on loopback at full rate. Every camera films
the busy clip (~570 kbit/s at 320×240; the clean test clip needs ~100 kbit/s and would fit
through every rate here). P2P: two people; group: three through the relay. Per rate the link is
set, SETTLE_SECONDS pass, then every page is read once a second for WATCH_SECONDS. Run in the
loopback namespace (scripts/run-in-netns.sh .venv/bin/python bench/poor_link.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.fake_camera import write_busy_clip  # noqa: E402
from tests.browser.flows import join_session, start_session, wait_for_state  # noqa: E402
from tests.browser.media_watch import watch  # noqa: E402
from tests.browser.poor_link import TEST_SIDE, PoorLink, poor_browser  # noqa: E402
from tests.live import LiveServer, start_relay, start_web  # noqa: E402

RATES_KBIT = [None, 2000, 800, 300]  # None: the same call without a limit (the reference)
SETTLE_SECONDS = 5.0
WATCH_SECONDS = 15.0
TIMEOUT_SECONDS = 40.0


def call(browsers: list[tuple[Browser, str]], word: str) -> list[Page]:
    """One page per (browser, base URL), all in one session; wait until each decodes everyone."""
    pages = [browser.new_context(permissions=["camera", "microphone"], base_url=url).new_page()
             for browser, url in browsers]
    terms = ("bench box", "gent", word)
    start_session(pages[0], terms)
    for page in pages[1:]:
        join_session(page, terms)
    others = len(pages) - 1
    for page in pages:
        wait_for_state(page, lambda s: len(set(s["media"]) - {"relay"}) == others and all(
            m["framesDecoded"] > 10 for m in s["media"].values()), timeout=TIMEOUT_SECONDS,
            what="media from everyone")
    return pages


def measure(mode: str, pages: list[Page], link: PoorLink) -> None:
    """The poor page is the last one."""
    for rate in RATES_KBIT:
        if rate is None:
            label = "unlimited"
        else:
            link.limit(rate)
            label = f"{rate}kbit"
        time.sleep(SETTLE_SECONDS)
        seen = watch(pages, WATCH_SECONDS)
        weak = pages[-1].get_by_test_id("weak-link-notice").is_visible()
        for index, reading in enumerate(seen):
            who = "poor" if index == len(pages) - 1 else f"full{index}"
            fps = reading.median_fps()
            print(f"{mode}_{label}_{who}_fps_per_remote: "
                  + " ".join(f"{value:.0f}" for value in fps.values())
                  + f" (min {min(fps.values()):.0f})")
            print(f"{mode}_{label}_{who}_longest_stall_s: {reading.longest_stall_seconds():.0f}")
            print(f"{mode}_{label}_{who}_audio_gap_seconds: {reading.audio_gaps()}")
        print(f"{mode}_{label}_poor_page_says_weak: {weak}")
        if rate is not None:
            link.lift()
            time.sleep(SETTLE_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = write_busy_clip(folder / "busy.y4m")
        camera = f"--use-file-for-fake-video-capture={clip}"
        web = start_web(folder, env={"HOST": "0.0.0.0"})
        relay: LiveServer | None = None
        port = int(web.url.rsplit(":", 1)[1])
        try:
            with sync_playwright() as playwright:
                full = playwright.chromium.launch(executable_path=CHROMIUM,
                                                  args=CHROMIUM_ARGS + [camera])
                with poor_browser(playwright.chromium, folder, port, [camera]) as (slow, link):
                    # The relay's host addresses must include the veth end: start it now.
                    relay = start_relay(folder, web, env={
                        "PRAATBOX_RELAY_HOST_IPS": f"127.0.0.1,{TEST_SIDE}",
                        "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8,10.99.0.0/24"})
                    poor = (slow, f"http://{TEST_SIDE}:{port}")
                    for run in range(args.repeat):
                        for mode, fulls in (("p2p", 1), ("group", 2)):
                            pages = call([(full, web.url)] * fulls + [poor], f"traag{mode}{run}")
                            measure(mode, pages, link)
                            for page in pages:
                                page.context.close()
                full.close()
        finally:
            if relay:
                relay.stop()
            web.stop()


if __name__ == "__main__":
    main()
