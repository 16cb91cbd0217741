"""The counsellor's browser CPU with recording on vs off, in a call of three at 640×480.

Three separate headless Chromium processes (so the counsellor's browser can be measured alone),
each with Chromium's own 640×480 fake camera, meet in one room (a mesh: no relay is started).
The CPU of the counsellor's browser (the main process and every descendant: renderer, GPU,
network, audio) is read from /proc over a window with recording off, then on (the composer
draws the grid at 25 fps, Web Audio mixes, MediaRecorder encodes VP8 + Opus), alternately, for
`--rounds` pairs in the same run. The ratio on/off is the headline.

    sh scripts/run-in-netns.sh env PYTHONPATH=. .venv/bin/python bench/recording.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.proc import (  # noqa: E402
    CLOCK_TICKS_PER_SECOND,
    cpu_ticks,
    machine_busy_ticks,
    parent_pids,
    process_tree,
)
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.flows import join_session, start_session, wait_for_state  # noqa: E402
from tests.live import start_web  # noqa: E402

WARM_UP_SECONDS = 5.0
ROLE_SWITCH = "--praatbox-bench-role"  # Chromium ignores switches it does not know


def browser_tree(role: str) -> list[int]:
    """The Chromium main process launched with this role, and all its descendants."""
    parents = parent_pids()
    marked = set()
    for pid in parents:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if f"{ROLE_SWITCH}={role}".encode() in cmdline.read():
                    marked.add(pid)
        except OSError:
            continue
    roots = [pid for pid in marked if parents.get(pid) not in marked]
    if len(roots) != 1:
        raise RuntimeError(f"expected one Chromium main process with {ROLE_SWITCH}={role}")
    return process_tree(roots, parents)


def share_of_a_core(role: str, seconds: float) -> tuple[float, float]:
    """(% of a core the browser used, % of the whole machine busy) over `seconds`."""
    before, busy_before = cpu_ticks(browser_tree(role)), machine_busy_ticks()
    time.sleep(seconds)
    after, busy_after = cpu_ticks(browser_tree(role)), machine_busy_ticks()
    per_second = CLOCK_TICKS_PER_SECOND * seconds
    cores = os.cpu_count() or 1
    machine = (busy_after - busy_before) / per_second / cores * 100
    return (after - before) / per_second * 100, machine


def set_recording(pages: list[Page], on: bool) -> None:
    counsellor, *others = pages
    counsellor.get_by_test_id("record-start" if on else "record-stop").click()
    if on:
        for page in others:
            page.get_by_test_id("consent-accept").click()
    for page in pages:
        wait_for_state(page, lambda s: s["recording"] is on, what=f"recording {on}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    off: list[tuple[float, float]] = []
    on: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        web = start_web(Path(tmp))
        try:
            browsers = [playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS + [f"{ROLE_SWITCH}={role}"])
                for role in ("counsellor", "client1", "client2")]
            pages = [browser.new_context(permissions=["camera", "microphone"],
                                         base_url=web.url).new_page() for browser in browsers]
            terms = ("bench box", "gent", "opname")
            start_session(pages[0], terms)
            for page in pages[1:]:
                join_session(page, terms)
            for page in pages:
                wait_for_state(page, lambda s: len(s["participants"]) == 3 and all(
                    m["framesDecoded"] > 30 for m in s["media"].values()) and len(s["media"]) == 2,
                    timeout=60, what="decoding both others")
            time.sleep(WARM_UP_SECONDS)
            for _ in range(args.rounds):
                off.append(share_of_a_core("counsellor", args.seconds))
                set_recording(pages, True)
                time.sleep(1.0)
                on.append(share_of_a_core("counsellor", args.seconds))
                set_recording(pages, False)
                time.sleep(1.0)
            for browser in browsers:
                browser.close()
        finally:
            web.stop()
    for index, (without, with_recording) in enumerate(zip(off, on, strict=True), start=1):
        print(f"round_{index}_counsellor_cpu_recording_off_percent: {without[0]:.1f}"
              f" (machine busy {without[1]:.0f} %)")
        print(f"round_{index}_counsellor_cpu_recording_on_percent: {with_recording[0]:.1f}"
              f" (machine busy {with_recording[1]:.0f} %)")
    median_off = statistics.median(share for share, _ in off)
    median_on = statistics.median(share for share, _ in on)
    print(f"counsellor_cpu_recording_off_median_percent: {median_off:.1f}")
    print(f"counsellor_cpu_recording_on_median_percent: {median_on:.1f}")
    print(f"recording_on_vs_off_ratio: {median_on / median_off:.2f}")


if __name__ == "__main__":
    main()
