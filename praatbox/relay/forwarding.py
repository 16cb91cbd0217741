"""Forward a publisher's encoded frames to its subscribers without decoding them.

Decoding and re-encoding would cost a core per few streams, and would break browser-side frame
encryption. aiortc's receivers are made to yield encoded frames (`aiortc_hooks`), and the relay's
own receivers go one step further: a `FrameTap` takes each reassembled frame before it reaches
aiortc's decoder thread.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import math
import queue
import time
from collections import deque
from collections.abc import Awaitable, Callable

import av
from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from .aiortc_hooks import replace_decoder_queue
from .counts import counts

logger = logging.getLogger(__name__)

# A subscriber further behind than this is cut back to the next keyframe (video) or to
# the newest frame (audio): ~3 s of video at 30 fps, ~1 s of 20 ms Opus frames.
VIDEO_BUFFER_FRAMES = 90
AUDIO_BUFFER_FRAMES = 50
# At most one keyframe request per publisher per interval: every subscriber's PLI and every
# overflow lands here, and each keyframe costs the publisher several times a delta frame.
KEYFRAME_REQUEST_INTERVAL_S = 0.5

OnFrame = Callable[[RTCRtpCodecParameters, JitterFrame], None]
# Test-only: given a track's kind, something to show every published frame to (`decode_probe`).
FrameObserver = Callable[[str], Callable[[bytes], None] | None]
frame_observer: FrameObserver | None = None


class FrameTap:
    """Stands in for an aiortc receiver's decoder queue and hands frames on in the event loop.

    aiortc queues each reassembled frame to a decoder thread, which sends it back to the event
    loop (`run_coroutine_threadsafe`): per frame two thread hops, a GIL handover and a self-pipe
    wakeup, then one more task wakeup to read the track. That was the largest share of the
    relay's CPU per published stream. Only the stop marker (None) reaches the thread, so the
    receiver still ends it (and its track) as before.
    """

    def __init__(self, decoder_queue: queue.Queue[object], on_frame: OnFrame) -> None:
        self._queue = decoder_queue
        self._on_frame = on_frame

    @classmethod
    def install(cls, receiver: RTCRtpReceiver, on_frame: OnFrame) -> None:
        """Put a tap in place of `receiver`'s decoder queue."""
        replace_decoder_queue(receiver, lambda decoder_queue: cls(decoder_queue, on_frame))

    def put(self, item: tuple[RTCRtpCodecParameters, JitterFrame] | None) -> None:
        """Called by the receiver in the event loop, from its packet handler."""
        if item is None:
            self._queue.put(None)
            return
        try:
            self._on_frame(*item)
        except Exception:
            # An exception here would end the whole connection's receive loop.
            logger.exception("forwarding a frame failed")

    def get(self) -> object:
        """Called by the decoder thread if it started after the tap was installed."""
        return self._queue.get()


def is_keyframe(kind: str, data: bytes) -> bool:
    """Tell whether a frame can start playback (VP8: bit 0 of the frame tag is 0, RFC 6386)."""
    if kind == "audio":
        return True
    return bool(data) and not data[0] & 0x01


class Feed:
    """One publisher's track of one kind, fanned out to the outlets attached to it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._outlets: set[Outlet] = set()
        self._send_pli: Callable[[], Awaitable[None]] | None = None
        self._time_base: fractions.Fraction | None = None
        self._last_request = -math.inf
        self._deferred: asyncio.TimerHandle | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._observe = frame_observer(kind) if frame_observer is not None else None

    @property
    def started(self) -> bool:
        return self._send_pli is not None

    def start(self, receiver: RTCRtpReceiver, send_pli: Callable[[], Awaitable[None]]) -> None:
        """Fan out the frames `receiver` reassembles; `send_pli` asks for a keyframe."""
        self._send_pli = send_pli
        FrameTap.install(receiver, self._fan_out)

    def add(self, outlet: Outlet) -> None:
        self._outlets.add(outlet)

    def remove(self, outlet: Outlet) -> None:
        self._outlets.discard(outlet)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per interval (later ones are merged)."""
        if self.kind != "video" or self._send_pli is None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_request + KEYFRAME_REQUEST_INTERVAL_S - loop.time()
        if wait <= 0:
            self._last_request = loop.time()
            task = asyncio.ensure_future(self._send_pli())
            counts.keyframe_requests += 1
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        elif self._deferred is None:
            self._deferred = loop.call_later(wait, self._deferred_request)

    def _deferred_request(self) -> None:
        self._deferred = None
        self.request_keyframe()

    async def stop(self) -> None:
        """Let go of every outlet (their transceivers stay for reuse)."""
        if self._deferred is not None:
            self._deferred.cancel()
        for outlet in list(self._outlets):
            outlet.detach()
        await asyncio.gather(*self._pending, return_exceptions=True)

    def _fan_out(self, codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        """Hand one reassembled frame to every outlet; runs inside aiortc's packet handler."""
        if self._time_base is None:
            self._time_base = fractions.Fraction(1, codec.clockRate)
        data = frame.data
        if self._observe is not None:
            self._observe(data)
        keyframe = is_keyframe(self.kind, data)
        outlets = list(self._outlets)
        for outlet in outlets:
            outlet.push(data, frame.timestamp, self._time_base, keyframe)
        counts.forwarded_frames += len(outlets)


class Outlet(MediaStreamTrack):
    """A subscriber's outgoing track: a bounded buffer of one feed's frames.

    It outlives the feed it is attached to, so the subscriber's transceiver (and the aiortc
    sender loop reading this track, which ends for good if a track ends) can be reused for
    the next publisher. Timestamps are rebased so the subscriber sees one continuous stream.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._capacity = VIDEO_BUFFER_FRAMES if kind == "video" else AUDIO_BUFFER_FRAMES
        self._buffer: deque[tuple[bytes, int, fractions.Fraction]] = deque()
        self._wakeup = asyncio.Event()
        self._feed: Feed | None = None
        self._reading = False
        self._need_keyframe = True
        self._pts_offset: int | None = None
        self._last_pts: int | None = None
        self._last_time = 0.0

    @property
    def feed(self) -> Feed | None:
        return self._feed

    def attach(self, feed: Feed) -> None:
        """Start relaying `feed`; playback resumes at its next keyframe."""
        self.detach()
        self._feed = feed
        self._need_keyframe = True
        self._pts_offset = None
        feed.add(self)
        if self._reading:
            feed.request_keyframe()

    def detach(self) -> None:
        if self._feed is not None:
            self._feed.remove(self)
            self._feed = None
        self._buffer.clear()

    def request_keyframe(self) -> None:
        """Forward the subscriber's PLI/FIR to the publisher (installed on the aiortc sender)."""
        if self._feed is not None:
            self._feed.request_keyframe()

    def push(self, data: bytes, pts: int, time_base: fractions.Fraction, keyframe: bool) -> None:
        """Queue one encoded frame; called by the feed for every frame the publisher sends."""
        if not self._reading or self._feed is None:
            return
        if self._need_keyframe:
            if not keyframe:
                self._feed.request_keyframe()
                return
            self._need_keyframe = False
        if len(self._buffer) >= self._capacity:
            # Dropping delta frames would corrupt the picture until the next keyframe anyway.
            logger.debug("%s outlet overflowed: dropping %d frames", self.kind, len(self._buffer))
            self._buffer.clear()
            if self.kind == "video" and not keyframe:
                self._need_keyframe = True
                self._feed.request_keyframe()
                return
        self._buffer.append((data, pts, time_base))
        self._wakeup.set()

    async def recv(self) -> av.Packet:
        if not self._reading:
            # The sender only reads once the subscriber's transport is up: start from a
            # keyframe now rather than from frames it could not have decoded.
            self._reading = True
            if self._feed is not None:
                self._feed.request_keyframe()
        while not self._buffer:
            if self.readyState != "live":
                raise MediaStreamError
            self._wakeup.clear()
            await self._wakeup.wait()
        data, pts, time_base = self._buffer.popleft()
        packet = av.Packet(data)
        packet.pts = self._rebase(pts, time_base)
        packet.time_base = time_base
        return packet

    def _rebase(self, pts: int, time_base: fractions.Fraction) -> int:
        now = time.monotonic()
        if self._pts_offset is None:
            if self._last_pts is None:
                self._pts_offset = 0
            else:
                elapsed = max(1, int((now - self._last_time) / time_base))
                self._pts_offset = self._last_pts + elapsed - pts
        self._last_pts = pts + self._pts_offset
        self._last_time = now
        return self._last_pts

    def stop(self) -> None:
        self.detach()
        super().stop()
        self._wakeup.set()
