"""Real headless Chromium (Debian package) driven by Playwright, inside a loopback-only netns."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.fake_camera import write_test_clip
from tests.browser.flows import people

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
]


def interfaces() -> list[str]:
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    return [line.split(":", 1)[0].strip() for line in lines]


@contextlib.contextmanager
def headless_chromium(folder: Path) -> Iterator[Browser]:
    """Launch Chromium with the fake camera, only inside the loopback namespace; close it after."""
    if interfaces() != ["lo"]:
        pytest.fail("browser tests must run in a loopback-only network namespace: use `make test`"
                    f" (interfaces here: {interfaces()})")
    clip = write_test_clip(folder / "camera.y4m")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS + [f"--use-file-for-fake-video-capture={clip}"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    with headless_chromium(tmp_path_factory.mktemp("media")) as browser:
        yield browser


@pytest.fixture
def new_person(browser, web):
    """Open independent browser contexts (separate cookies, like separate devices)."""
    with people(browser, web.url) as make:
        yield make
