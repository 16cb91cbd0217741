"""Take the docs screenshots: home, a running two-person call at desktop and phone size, and the
client's phone in Arabic (right-to-left): the call and the home page.

Run inside the loopback-only namespace (the call's media must stay on loopback):
    sh scripts/run-in-netns.sh .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.fake_camera import write_person_clip  # noqa: E402
from tests.browser.flows import (  # noqa: E402
    join_session,
    receiving_media,
    start_session,
    wait_for_state,
)
from tests.live import start_web  # noqa: E402

DOCS = ROOT / "docs"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 640}
TERMS = ("Beratung Gent", "Gent", "zonnebloem")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        web = start_web(Path(tmp))
        try:
            with sync_playwright() as playwright:
                # A head-and-shoulders figure looks more like a call than Chromium's test card.
                clip = write_person_clip(Path(tmp) / "person.y4m")
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS + [f"--use-file-for-fake-video-capture={clip}"])
                counsellor_context = browser.new_context(
                    permissions=["camera", "microphone"], base_url=web.url, viewport=DESKTOP)
                client_context = browser.new_context(
                    permissions=["camera", "microphone"], base_url=web.url, viewport=PHONE,
                    is_mobile=True, has_touch=True, device_scale_factor=2)
                counsellor = counsellor_context.new_page()
                client = client_context.new_page()

                counsellor.goto("/?lang=en")
                counsellor.screenshot(path=DOCS / "screenshot-home.png")

                start_session(counsellor, TERMS)
                join_session(client, TERMS)
                for page in (counsellor, client):
                    wait_for_state(page, receiving_media, what="a running call")
                    expect(page.get_by_test_id("security-status")).to_have_attribute(
                        "data-state", "p2p")
                for page in (counsellor, client):  # the join notices fade after 8 s
                    page.wait_for_function(
                        "() => !document.querySelector('#notices .notice')", timeout=12_000)
                counsellor.screenshot(path=DOCS / "screenshot-room.png")
                client.screenshot(path=DOCS / "screenshot-room-phone.png")

                # The client switches to Arabic on the call page: it reloads and rejoins.
                client.get_by_test_id("lang-select").select_option("ar")
                client.wait_for_url("**lang=ar*")
                wait_for_state(client, receiving_media, what="the call in Arabic")
                client.wait_for_function(
                    "() => !document.querySelector('#notices .notice')", timeout=12_000)
                client.screenshot(path=DOCS / "screenshot-room-phone-ar.png")
                client.goto("/")
                client.screenshot(path=DOCS / "screenshot-home-phone-ar.png")
                browser.close()
        finally:
            web.stop()
    for name in ("screenshot-home.png", "screenshot-room.png", "screenshot-room-phone.png",
                 "screenshot-room-phone-ar.png", "screenshot-home-phone-ar.png"):
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
