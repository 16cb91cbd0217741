"""Milliseconds from a dropped signaling socket to "resumed" and to "media again", P2P and group;
and from the end of a network outage of the media path to "media again".

Each socket round destroys the web process's end of every browser's signaling socket (`ss -K`,
as a dying network does: no close frame) in a running call, then measures per page:
- resumed: until the page has taken its place back (its "reconnecting" banner hides again);
- media again: until the remote video decodes at least MEDIA_FRAMES more frames than at the
  drop (the media connections are kept, so this shows whether media ever paused).
Each network round drops every UDP packet (`tc`, as test_media_recovery.py does) until every
page says "reconnecting", keeps it so for BLOCKED_SECONDS, lets packets through again, and
measures per page until the video of every other person decodes MEDIA_FRAMES more frames (on
the restarted ICE of a direct call, or on the group's new relay connection).
P2P: two headless Chromium contexts; group: three, through a relay. Run in the loopback
namespace (scripts/run-in-netns.sh .venv/bin/python bench/reconnect.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.fake_camera import write_test_clip  # noqa: E402
from tests.browser.flows import (  # noqa: E402
    join_session,
    start_session,
    state,
    wait_for_state,
)
from tests.browser.test_media_recovery import udp_dropped  # noqa: E402
from tests.live import LiveServer, start_relay, start_web  # noqa: E402

POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 40.0
SETTLE_SECONDS = 2.0
MEDIA_FRAMES = 3
BLOCKED_SECONDS = 8.0

# Note the moment the page's "reconnecting" banner hides again after it showed.
WATCH_RESUME = """() => {
  const banner = document.getElementById("reconnecting");
  window.__resumedAt = 0;
  let shown = false;
  new MutationObserver((_, observer) => {
    if (!banner.hidden) shown = true;
    else if (shown) { window.__resumedAt = Date.now(); observer.disconnect(); }
  }).observe(banner, { attributes: true, attributeFilter: ["hidden"] });
}"""


def browser_sockets(web: LiveServer) -> list[str]:
    """The local ports of the browsers' connections to the web (not the relay's)."""
    port = web.url.rsplit(":", 1)[1]
    listing = subprocess.run(["ss", "-Htnp", "state", "established", "dport", "=", f":{port}"],
                             check=True, capture_output=True, text=True).stdout
    return [line.split()[2].rsplit(":", 1)[1] for line in listing.splitlines()
            if "python" not in line]


def drop_signaling(web: LiveServer) -> None:
    port = web.url.rsplit(":", 1)[1]
    for client_port in browser_sockets(web):
        subprocess.run(["ss", "-K", "sport", "=", f":{port}", "dport", "=", f":{client_port}"],
                       check=True, capture_output=True)


def decoded(page: Page) -> int:
    return sum(m["framesDecoded"] for m in state(page)["media"].values())


def one_round(web: LiveServer, pages: list[Page]) -> tuple[list[float], list[float]]:
    """Drop every page's socket at once; return (resumed ms, media again ms) per page."""
    for page in pages:
        page.evaluate(WATCH_RESUME)
    frames = {page: decoded(page) for page in pages}
    dropped = time.time()
    drop_signaling(web)
    resumed: dict[Page, float] = {}
    media: dict[Page, float] = {}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while (len(resumed) < len(pages) or len(media) < len(pages)) and time.monotonic() < deadline:
        for page in pages:
            if page not in media and decoded(page) >= frames[page] + MEDIA_FRAMES:
                media[page] = (time.time() - dropped) * 1000
            at = page.evaluate("window.__resumedAt")
            if page not in resumed and at:
                resumed[page] = at - dropped * 1000
        time.sleep(POLL_SECONDS)
    if len(resumed) < len(pages) or len(media) < len(pages):
        raise RuntimeError("a page did not resume or its media did not come back")
    return list(resumed.values()), list(media.values())


def per_person(page: Page) -> dict[str, int]:
    """Frames decoded from each other person on a connected path (a new connection counts
    from zero)."""
    current = state(page)
    return {peer: m["framesDecoded"] for peer, m in current["media"].items()
            if peer != "relay" and m["connectionState"] == "connected"}


def network_round(pages: list[Page], people: int) -> list[float]:
    """Drop the media path until every page lost it; return ms from its return to media again
    from everyone, per page."""
    with udp_dropped():
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while any(page.get_by_test_id("security-status").get_attribute("data-state") != "waiting"
                  for page in pages):
            if time.monotonic() > deadline:
                raise RuntimeError("a page never noticed the outage")
            time.sleep(POLL_SECONDS)
        time.sleep(BLOCKED_SECONDS)
    back = time.time()
    lowest: dict[Page, dict[str, int]] = {page: {} for page in pages}
    media: dict[Page, float] = {}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while len(media) < len(pages) and time.monotonic() < deadline:
        for page in pages:
            if page in media:
                continue
            frames = per_person(page)
            for peer, count in frames.items():
                lowest[page][peer] = min(count, lowest[page].get(peer, count))
            if len(frames) == people - 1 and all(
                    count >= lowest[page][peer] + MEDIA_FRAMES for peer, count in frames.items()):
                media[page] = (time.time() - back) * 1000
        time.sleep(POLL_SECONDS)
    if len(media) < len(pages):
        raise RuntimeError("the media of a page did not come back")
    return list(media.values())


def call(browser, web: LiveServer, people: int, word: str) -> list[Page]:
    contexts = [browser.new_context(permissions=["camera", "microphone"], base_url=web.url)
                for _ in range(people)]
    pages = [context.new_page() for context in contexts]
    terms = ("bench box", "gent", word)
    start_session(pages[0], terms)
    for page in pages[1:]:
        join_session(page, terms)
    for page in pages:
        # In a group the relay connection has an entry of its own besides each person's.
        wait_for_state(page, lambda s: len(set(s["media"]) - {"relay"}) == people - 1 and all(
            m["framesDecoded"] > 10 for m in s["media"].values()), timeout=TIMEOUT_SECONDS,
            what="media from everyone")
    return pages


def figures(name: str, values: list[float]) -> None:
    p95 = statistics.quantiles(values, n=20, method="inclusive")[-1]
    print(f"{name}_median_ms: {statistics.median(values):.0f}")
    print(f"{name}_p95_ms: {p95:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--network-rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_test_clip(Path(tmp) / "camera.y4m")
        web = start_web(Path(tmp))
        relay = start_relay(Path(tmp), web)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS + [f"--use-file-for-fake-video-capture={clip}"])
                for mode, people in (("p2p", 2), ("group", 3)):
                    pages = call(browser, web, people, f"appel{mode}")
                    resumed: list[float] = []
                    media: list[float] = []
                    for _ in range(rounds):
                        time.sleep(SETTLE_SECONDS)
                        back, flowing = one_round(web, pages)
                        resumed += back
                        media += flowing
                    print(f"{mode}_drops: {rounds} (x{people} pages)")
                    figures(f"{mode}_drop_to_resumed", resumed)
                    figures(f"{mode}_drop_to_media_again", media)
                    after_outage: list[float] = []
                    for _ in range(args.network_rounds):
                        time.sleep(SETTLE_SECONDS)
                        after_outage += network_round(pages, people)
                    print(f"{mode}_media_path_outages: {args.network_rounds} "
                          f"({BLOCKED_SECONDS:.0f} s after every page noticed, x{people} pages)")
                    figures(f"{mode}_outage_end_to_media_again", after_outage)
                    for page in pages:
                        page.context.close()
                browser.close()
        finally:
            relay.stop()
            web.stop()


if __name__ == "__main__":
    main()
