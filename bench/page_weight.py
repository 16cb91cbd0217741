"""Bytes each page makes the browser transfer (HTML, JS, CSS), measured in real headless Chromium.

Reference in the same run: the vendored htmx library alone, the largest single asset a page loads.
Run with `make bench` (inside a loopback-only network namespace).
"""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.flows import enter_room, fill_terms  # noqa: E402
from tests.live import start_web  # noqa: E402

ROOM_GOAL_BYTES = 150_000


# What Chromium sends: the server compresses static scripts and styles with the first it can.
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def transferred_bytes(page, action) -> tuple[int, int]:
    """Run `action`; return (bytes, requests) of every HTTP GET the page made meanwhile.

    Sizes are the response bodies as the server sends them to a first-time visitor, re-fetched
    with the page's cookies and the browser's Accept-Encoding, and counted still compressed.
    """
    urls: list[str] = []

    def record(request):
        if request.url.startswith("http") and request.method == "GET":
            urls.append(request.url)

    page.on("request", record)
    action()
    page.wait_for_load_state("networkidle")
    page.remove_listener("request", record)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    total = 0
    for url in urls:
        request = urllib.request.Request(
            url, headers={"Cookie": cookie, "Accept-Encoding": BROWSER_ACCEPT_ENCODING})
        with urllib.request.urlopen(request) as response:  # never decompresses
            total += len(response.read())
    return total, len(urls)


def press_start(page) -> None:
    page.get_by_test_id("start").click()
    page.wait_for_url("**/r/*")


def switch_blur_on(page) -> None:
    """Enter the call and switch blur on: only now are MediaPipe's model and wasm fetched."""
    enter_room(page)
    page.get_by_test_id("blur-toggle").click()
    page.locator("[data-testid=blur-toggle][aria-pressed=true]").wait_for(timeout=60_000)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        web = start_web(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(permissions=["camera", "microphone"],
                                              base_url=web.url)
                page = context.new_page()
                # Every page is measured cold, as a first-time visitor's phone would load it.
                context.new_cdp_session(page).send("Network.setCacheDisabled",
                                                   {"cacheDisabled": True})
                home, home_requests = transferred_bytes(page, lambda: page.goto("/?lang=en"))
                fill_terms(page, "bench box", "gent", "appel")
                room, room_requests = transferred_bytes(page, lambda: press_start(page))
                blur, blur_requests = transferred_bytes(page, lambda: switch_blur_on(page))
                reference, _ = transferred_bytes(page, lambda: page.goto(
                    "/static/vendor/htmx.min.js"))
                browser.close()
        finally:
            web.stop()
    print(f"home_bytes: {home}")
    print(f"home_requests: {home_requests}")
    print(f"room_bytes: {room}")
    print(f"room_requests: {room_requests}")
    print(f"blur_assets_bytes_lazy: {blur}")
    print(f"blur_assets_requests_lazy: {blur_requests}")
    print(f"reference_htmx_bytes: {reference}")
    print(f"room_goal_bytes: {ROOM_GOAL_BYTES}")
    print(f"room_vs_htmx_ratio: {room / reference:.2f}")
    print(f"room_vs_goal_ratio: {room / ROOM_GOAL_BYTES:.2f}")


if __name__ == "__main__":
    main()
