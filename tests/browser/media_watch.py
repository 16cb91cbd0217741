"""What pages receive, second by second: frames per second of every remote, the longest time a
picture stood still, and whether audio kept arriving (for tests and benchmarks on poor links)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page

from tests.browser.flows import state

SAMPLE_SECONDS = 1.0


@dataclass
class Watch:
    """One page's readings: per second, each remote's decoded fps and audio bytes so far."""

    fps: dict[str, list[float]] = field(default_factory=dict)
    audio: dict[str, list[int]] = field(default_factory=dict)
    video: dict[str, list[int]] = field(default_factory=dict)

    def add(self, media: dict[str, Any]) -> None:
        for peer, entry in media.items():
            if peer == "relay":
                continue
            self.fps.setdefault(peer, []).append(entry["framesPerSecond"] or 0.0)
            self.audio.setdefault(peer, []).append(entry["audioBytesReceived"])
            self.video.setdefault(peer, []).append(entry["videoBytesReceived"])

    def median_fps(self) -> dict[str, float]:
        return {peer: sorted(values)[len(values) // 2] for peer, values in self.fps.items()}

    def video_kbit_per_second(self) -> dict[str, float]:
        return {peer: (values[-1] - values[0]) * 8 / 1000 / max(1, len(values) - 1)
                for peer, values in self.video.items()}

    def longest_stall_seconds(self) -> float:
        """The longest run of readings, of any remote, at 0 fps."""
        longest = 0
        for values in self.fps.values():
            run = 0
            for value in values:
                run = run + 1 if value == 0 else 0
                longest = max(longest, run)
        return longest * SAMPLE_SECONDS

    def audio_gaps(self) -> int:
        """Seconds in which some remote's audio bytes did not grow."""
        return sum(1 for values in self.audio.values()
                   for before, after in zip(values, values[1:], strict=False) if after <= before)


def watch(pages: list[Page], seconds: float) -> list[Watch]:
    """Read every page once a second for `seconds`."""
    watches = [Watch() for _ in pages]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        for page, seen in zip(pages, watches, strict=True):
            seen.add(state(page)["media"])
        time.sleep(max(0.0, SAMPLE_SECONDS - (time.monotonic() - started)))
    return watches
