"""What people do in the browser, as reusable steps for the browser tests and benchmarks."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from playwright.sync_api import Browser, Page, expect

MEDIA_PERMISSIONS = ["camera", "microphone"]


@contextlib.contextmanager
def people(browser: Browser, base_url: str, **options: Any) -> Iterator[Callable[[], Page]]:
    """Open independent browser contexts (separate cookies, like separate devices), one page
    each; close them all at the end. `options` go to `new_context` (viewport, permissions …)."""
    options.setdefault("permissions", MEDIA_PERMISSIONS)
    contexts = []

    def make() -> Page:
        context = browser.new_context(base_url=base_url, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def fill_terms(page: Page, name: str, location: str, word: str, lang: str | None = "en") -> None:
    """Type the terms on the home page in `lang` (None: the language the browser already has)."""
    page.goto(f"/?lang={lang}" if lang else "/")
    page.get_by_test_id("term-name").fill(name)
    page.get_by_test_id("term-location").fill(location)
    page.get_by_test_id("term-word").fill(word)


# What a room URL shows first: the preview, the waiting screen, the password prompt, or (after a
# reload in the same tab, or after waiting) the call itself.
ROOM_ENTRY = ", ".join([
    "[data-testid=preview-enter]:visible", "[data-testid=waiting-screen]",
    "[data-testid=password-input]", "#room:not(.previewing)",
])


def enter_room(page: Page) -> None:
    """Press *Enter the session* if the page shows the preview; stop at whatever else it shows."""
    page.locator(ROOM_ENTRY).first.wait_for()
    enter = page.get_by_test_id("preview-enter")
    if enter.is_visible():
        enter.click()
        page.locator("#room:not(.previewing)").wait_for(state="attached")


def start_session(page: Page, terms: tuple[str, str, str], lang: str | None = "en") -> None:
    fill_terms(page, *terms, lang=lang)
    page.get_by_test_id("start").click()
    page.wait_for_url("**/r/*")
    enter_room(page)


def join_session(page: Page, terms: tuple[str, str, str], lang: str | None = "en") -> None:
    fill_terms(page, *terms, lang=lang)
    page.get_by_test_id("join").click()
    page.wait_for_url("**/r/*")
    enter_room(page)


def state(page: Page) -> dict[str, Any]:
    return page.evaluate("window.praatbox.state()")


def wait_for_state(page: Page, check, timeout: float = 20.0, what: str = "state") -> dict[str, Any]:
    """Poll the debug API until `check(state)` holds; fail with the last state seen."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            last = state(page)
        except Exception:  # the page may be navigating (waiting screen → room)
            last = {}
        if last and check(last):
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; last state: {last}")


def receiving_media(current: dict[str, Any], frames: int = 10) -> bool:
    """True when some remote peer's video is decoding and its audio arriving."""
    return any(m["framesDecoded"] >= frames and m["audioBytesReceived"] > 0
               and m["connectionState"] == "connected" for m in current["media"].values())


def expect_security_state(page: Page, value: str, timeout: float = 10.0) -> None:
    """The status badge follows getStats() once a second, so give it that second."""
    expect(page.get_by_test_id("security-status")).to_have_attribute(
        "data-state", value, timeout=timeout * 1000
    )
