"""Test-only: try to decode the video the relay forwards, to show that it cannot (group E2EE).

With group end-to-end encryption the browsers encrypt every frame before it reaches the relay, so
a relay that tries to decode what passes through it gets nothing. The browser tests turn this
probe on (PRAATBOX_RELAY_DECODE_PROBE=1) and read its counts from the log, once with encryption
on and once with a browser that cannot encrypt. Never on by default: decoding every published
frame costs a core per few streams, and a production relay has no business looking.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import av

logger = logging.getLogger(__name__)

LOG_INTERVAL_S = 1.0


class DecodeProbe:
    """Counts, over all video feeds, the frames a VP8 decoder could and could not decode."""

    def __init__(self) -> None:
        self.decoded = 0
        self.undecodable = 0
        self._logged_at = 0.0

    def observer(self, kind: str) -> Callable[[bytes], None] | None:
        """One decoder per published video track (VP8 decoding keeps state between frames)."""
        if kind != "video":
            return None
        decoder = av.CodecContext.create("vp8", "r")

        def observe(data: bytes) -> None:
            try:
                self.decoded += len(decoder.decode(av.Packet(data)))
            except av.FFmpegError:
                self.undecodable += 1
            self._log()

        return observe

    def _log(self) -> None:
        now = time.monotonic()
        if now - self._logged_at >= LOG_INTERVAL_S:
            self._logged_at = now
            logger.info("decode probe: %d video frames decoded, %d not decodable",
                        self.decoded, self.undecodable)
