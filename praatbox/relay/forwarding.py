"""Forward a publisher's RTP packets to its subscribers, one header rewrite per subscriber.

Reassembling frames and packing them again cost most of the relay's CPU, and decoding would
break browser-side frame encryption. So each packet a publisher sends goes out to every
subscriber as it came, with the subscriber's SSRC, payload type, sequence number and timestamp
in a new header (`rtp.py`). aiortc still does ICE, DTLS, SRTP, SDP and the RTCP of each stream;
the hooks that make it hand over packets instead of frames are in `aiortc_hooks.py`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.rtp import RtcpSenderInfo, RtpPacket

from . import rtp
from .aiortc_hooks import IdleTrack, SendParameters, send_pli, take_over_sender, tap_packets
from .counts import counts

logger = logging.getLogger(__name__)

# Packets each subscriber stream keeps for retransmission on a NACK: about 1 s of 1 Mbit/s
# video, more than a round trip; older requests are not answered (the browser then asks for
# a keyframe). The same depth as aiortc's own senders.
HISTORY_PACKETS = 128
# At most one keyframe request per publisher per interval: every subscriber's PLI and every
# newcomer waiting for a keyframe lands here, and each keyframe costs the publisher several
# times a delta frame.
KEYFRAME_REQUEST_INTERVAL_S = 0.5
# Sequence numbers start in the lower half, as aiortc's do: libsrtp guesses the rollover
# counter from them, and an early wrap confuses it.
SEQUENCE_START_RANGE = 1 << 15
HALF_SEQUENCE = 1 << 15

# Test-only: given a track's kind, something to show every published frame to (`decode_probe`).
FrameObserver = Callable[[str], Callable[[bytes], None] | None]
frame_observer: FrameObserver | None = None


class Feed:
    """One publisher's track of one kind, fanned out to the outlets attached to it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        # Bumped when the publisher's SSRC changes: outlets then start over at a keyframe.
        self.source = 0
        self._ssrc: int | None = None
        self._outlets: tuple[Outlet, ...] = ()
        self._receiver: RTCRtpReceiver | None = None
        self._last_request = -math.inf
        self._deferred: asyncio.TimerHandle | None = None
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def started(self) -> bool:
        return self._receiver is not None

    def start(self, receiver: RTCRtpReceiver) -> None:
        """Fan out the packets `receiver` gets (and ask its publisher for keyframes)."""
        self._receiver = receiver
        observe = frame_observer(self.kind) if frame_observer is not None else None
        tap_packets(receiver, self._fan_out, observe)

    def add(self, outlet: Outlet) -> None:
        self._outlets = (*self._outlets, outlet)

    def remove(self, outlet: Outlet) -> None:
        self._outlets = tuple(o for o in self._outlets if o is not outlet)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per interval (later ones are merged)."""
        if self.kind != "video" or self._ssrc is None or self._receiver is None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_request + KEYFRAME_REQUEST_INTERVAL_S - loop.time()
        if wait <= 0:
            self._last_request = loop.time()
            task = asyncio.ensure_future(send_pli(self._receiver, self._ssrc))
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
        for outlet in self._outlets:
            outlet.detach()
        await asyncio.gather(*self._pending, return_exceptions=True)

    def _fan_out(self, packet: RtpPacket) -> None:
        """Send one packet to every outlet; runs inside aiortc's packet handler."""
        if packet.ssrc != self._ssrc:
            self._ssrc = packet.ssrc
            self.source += 1
        video = self.kind == "video"
        keyframe = video and rtp.vp8_starts_keyframe(packet.payload)
        now = time.time()
        outlets = self._outlets
        for outlet in outlets:
            outlet.forward(packet, keyframe, now)
        if packet.marker or not video:  # one frame per outlet, for the metrics
            counts.forwarded_frames += len(outlets)


class Outlet:
    """One subscriber's m-line: the publisher it shows, and the RTP stream it writes.

    It outlives the feed it is attached to, so the subscriber's transceiver can show the next
    publisher. Sequence numbers stay contiguous and timestamps continuous across such switches,
    so the browser sees one stream that pauses; each new source starts at a keyframe.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.track = IdleTrack(kind)
        self._feed: Feed | None = None
        self._params: SendParameters | None = None
        self._write: Callable[[bytes], bool] | None = None
        self._mid_element = b""
        self._source = -1  # the feed's source this stream is anchored to (-1: none yet)
        # The newest publisher sequence number forwarded, and how many numbers it is past the
        # anchor: a late packet further back than that was never this stream's to send.
        self._newest_sequence = 0
        self._past_anchor = 0
        self._sequence_offset = 0
        self._timestamp_offset = 0
        self._next_sequence = random.randrange(SEQUENCE_START_RANGE)
        self._next_rtx_sequence = random.randrange(SEQUENCE_START_RANGE)
        self._last_timestamp: int | None = None
        self._last_sent_at = 0.0
        self._history: list[bytes | None] = [None] * HISTORY_PACKETS
        self._packets = 0
        self._octets = 0
        self._paused = False

    @property
    def feed(self) -> Feed | None:
        return self._feed

    def take_over(self, sender: RTCRtpSender) -> None:
        """Write what `sender` sends (its track must be this outlet's `track`)."""
        take_over_sender(sender, self)

    def attach(self, feed: Feed) -> None:
        """Start relaying `feed`; the stream resumes at its next keyframe."""
        self.detach()
        self._feed = feed
        self._source = -1
        feed.add(self)

    def detach(self) -> None:
        if self._feed is not None:
            self._feed.remove(self)
            self._feed = None

    def pause(self, paused: bool) -> None:
        """Stop (or resume) sending: the subscriber chose audio only. A resumed stream anchors
        again at the next keyframe, its numbers continuing where they stopped."""
        if self._paused and not paused:
            self._source = -1
        self._paused = paused

    def stop(self) -> None:
        self.detach()
        self.track.stop()

    # SenderOwner: called by the subscriber's aiortc sender.

    def sender_started(self, parameters: SendParameters, write: Callable[[bytes], bool]) -> None:
        self._params = parameters
        self._write = write
        self._mid_element = (
            rtp.extension_element(parameters.mid_extension_id, parameters.mid.encode())
            if parameters.mid and parameters.mid_extension_id else b"")

    def keyframe_requested(self) -> None:
        """Forward the subscriber's PLI/FIR to the publisher (not while paused)."""
        if self._feed is not None and not self._paused:
            self._feed.request_keyframe()

    def retransmit(self, sequence_number: int) -> None:
        """Answer a NACK from the history, on the RTX stream when one was negotiated; not while
        paused (the link is left to audio)."""
        packet = self._history[sequence_number % HISTORY_PACKETS]
        if (packet is None or self._write is None or self._params is None or self._paused
                or rtp.sequence_number_of(packet) != sequence_number):
            return
        params = self._params
        if params.rtx_payload_type is not None:
            packet = rtp.rtx_packet(packet, params.rtx_payload_type, self._next_rtx_sequence,
                                    params.rtx_ssrc)
            self._next_rtx_sequence = (self._next_rtx_sequence + 1) % rtp.SEQUENCE_MODULO
        self._write(packet)
        counts.retransmitted_packets += 1

    def sender_info(self) -> RtcpSenderInfo | None:
        if self._last_timestamp is None:
            return None
        return RtcpSenderInfo(
            ntp_timestamp=rtp.ntp_timestamp(self._last_sent_at),
            rtp_timestamp=self._last_timestamp,
            packet_count=self._packets & 0xFFFFFFFF,
            octet_count=self._octets & 0xFFFFFFFF,
        )

    # The hot path: once per published packet and subscriber.

    def forward(self, packet: RtpPacket, keyframe: bool, now: float) -> None:
        """Rewrite one of the feed's packets for this subscriber and send it."""
        params = self._params
        if params is None or self._write is None or self._feed is None or self._paused:
            return
        sequence_number = packet.sequence_number
        if self._source != self._feed.source:
            if self.kind == "video" and not keyframe:
                self._feed.request_keyframe()
                return
            self._anchor(packet, params.clock_rate, now)
        else:
            ahead = (sequence_number - self._newest_sequence) % rtp.SEQUENCE_MODULO
            if ahead < HALF_SEQUENCE:
                self._newest_sequence = sequence_number
                self._past_anchor += ahead
            elif rtp.SEQUENCE_MODULO - ahead > self._past_anchor:
                return  # older than where this stream started: its number was someone else's
        sequence = (sequence_number + self._sequence_offset) % rtp.SEQUENCE_MODULO
        timestamp = (packet.timestamp + self._timestamp_offset) % rtp.TIMESTAMP_MODULO
        elements = self._mid_element
        extensions = packet.extensions
        if extensions.abs_send_time is not None and params.abs_send_time_extension_id:
            elements += rtp.abs_send_time_element(params.abs_send_time_extension_id,
                                                  extensions.abs_send_time)
        if extensions.audio_level is not None and params.audio_level_extension_id:
            elements += rtp.audio_level_element(params.audio_level_extension_id,
                                                extensions.audio_level)
        data = rtp.pack_packet(packet.marker, params.payload_type, sequence, timestamp,
                               params.ssrc, rtp.extension_block(elements), packet.payload)
        self._history[sequence % HISTORY_PACKETS] = data
        if (sequence - self._next_sequence) % rtp.SEQUENCE_MODULO < HALF_SEQUENCE:
            self._next_sequence = (sequence + 1) % rtp.SEQUENCE_MODULO
            self._last_timestamp = timestamp
            self._last_sent_at = now
        if self._write(data):
            self._packets += 1
            self._octets += len(packet.payload)

    def _anchor(self, packet: RtpPacket, clock_rate: int, now: float) -> None:
        """Map a new source's numbers onto this stream: the next sequence number, and a
        timestamp as far past the last one as time has passed."""
        assert self._feed is not None
        self._source = self._feed.source
        self._newest_sequence = packet.sequence_number
        self._past_anchor = 0
        self._sequence_offset = self._next_sequence - packet.sequence_number
        if self._last_timestamp is None:
            start = random.randrange(rtp.TIMESTAMP_MODULO)
        else:
            elapsed = max(1, int((now - self._last_sent_at) * clock_rate))
            start = self._last_timestamp + elapsed
        self._timestamp_offset = start - packet.timestamp
