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

from . import rtp, vp8
from .aiortc_hooks import IdleTrack, SendParameters, send_pli, take_over_sender, tap_packets
from .counts import counts
from .layers import ALL_LAYERS, SubscriberLink
from .renumber import Renumbering

logger = logging.getLogger(__name__)

# Packets each subscriber stream keeps for retransmission on a NACK: about 1 s of 1 Mbit/s
# video, more than a round trip; older requests are not answered (the browser then asks for
# a keyframe). The same depth as aiortc's own senders.
HISTORY_PACKETS = 128
# A packet is sent again at most this often, however often it is asked for: a browser repeats
# its NACK every round trip, which on a short path is far less than the time a copy needs to
# get through a queue.
RETRANSMIT_SPACING_S = 0.1
# At most one keyframe request per publisher per interval: every subscriber's PLI and every
# newcomer waiting for a keyframe lands here, and each keyframe costs the publisher several
# times a delta frame.
KEYFRAME_REQUEST_INTERVAL_S = 0.5
# Sequence numbers start in the lower half, as aiortc's do: libsrtp guesses the rollover
# counter from them, and an early wrap confuses it.
SEQUENCE_START_RANGE = 1 << 15
HALF_SEQUENCE = 1 << 15
# A stream's first receiver reports count losses of packets sent before the browser knew the
# stream (the offer still on its way): they say nothing about the link.
LOSS_SETTLE_S = 2.0
# Weight of the newest second in a feed's bitrate per layer.
RATE_SMOOTHING = 0.5

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
        # Payload bytes per temporal layer since the last sample, and bits a second per layer.
        self._layer_octets = [0] * (ALL_LAYERS + 1)
        self._sampled_at: float | None = None
        self.layer_rates: tuple[float, ...] = ()
        # Packets received, and how far the publisher's sequence numbers advanced, since the
        # last sample: what its link to the relay lost.
        self._received = 0
        self._advanced = 0
        self._highest_sequence: int | None = None
        self._losses = (0.0, 0.0)  # the last two samples

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

    def needs(self, layer: int) -> float:
        """Bits a second of this feed's layers up to `layer` (all it sends when it has none)."""
        return sum(self.layer_rates[:layer + 1])

    @property
    def top_layer(self) -> int:
        """The highest temporal layer this feed sends (0: it sends none or no layers)."""
        return max(0, len(self.layer_rates) - 1)

    @property
    def upstream_loss(self) -> float:
        """The share of the publisher's packets lost on the way to the relay, recently."""
        return max(self._losses)

    def sample_rates(self, now: float) -> None:
        """Update the bitrate per temporal layer, and the upstream loss, from the packets since
        the last sample."""
        if self._advanced > 0:
            self._losses = (self._losses[1], max(0.0, 1 - self._received / self._advanced))
        self._received = self._advanced = 0
        if self._sampled_at is not None and now > self._sampled_at:
            elapsed = now - self._sampled_at
            fresh = [octets * 8 / elapsed for octets in self._layer_octets]
            old = list(self.layer_rates) + [0.0] * (len(fresh) - len(self.layer_rates))
            rates = [RATE_SMOOTHING * new + (1 - RATE_SMOOTHING) * before
                     for new, before in zip(fresh, old, strict=True)]
            while len(rates) > 1 and rates[-1] < 1_000:  # a layer no longer sent
                rates.pop()
            self.layer_rates = tuple(rates)
        self._sampled_at = now
        self._layer_octets = [0] * (ALL_LAYERS + 1)

    def _fan_out(self, packet: RtpPacket) -> None:
        """Send one packet to every outlet; runs inside aiortc's packet handler."""
        if packet.ssrc != self._ssrc:
            self._ssrc = packet.ssrc
            self.source += 1
            self._highest_sequence = None
        self._received += 1
        if self._highest_sequence is None:
            self._highest_sequence = packet.sequence_number
        else:
            ahead = (packet.sequence_number - self._highest_sequence) % rtp.SEQUENCE_MODULO
            if ahead < HALF_SEQUENCE:
                self._advanced += ahead
                self._highest_sequence = packet.sequence_number
        video = self.kind == "video"
        descriptor = vp8.describe(packet.payload) if video else None
        self._layer_octets[(descriptor and descriptor.temporal_id) or 0] += len(packet.payload)
        now = time.time()
        outlets = self._outlets
        for outlet in outlets:
            outlet.forward(packet, descriptor, now)
        if packet.marker or not video:  # one frame per outlet, for the metrics
            counts.forwarded_frames += len(outlets)


class Outlet:
    """One subscriber's m-line: the publisher it shows, and the RTP stream it writes.

    It outlives the feed it is attached to, so the subscriber's transceiver can show the next
    publisher. Sequence numbers and VP8 picture ids stay contiguous and timestamps continuous
    across such switches and across the frames of upper temporal layers it leaves out, so the
    browser sees one stream that pauses or slows; each new source starts at a keyframe.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.track = IdleTrack(kind)
        # Where this subscriber's feedback goes (its link's layer choice); set by its session.
        self.link: SubscriberLink | None = None
        self._feed: Feed | None = None
        self._params: SendParameters | None = None
        self._write: Callable[[bytes], bool] | None = None
        self._mid_element = b""
        self._source = -1  # the feed's source this stream is anchored to (-1: none yet)
        self._sequence = Renumbering(rtp.SEQUENCE_MODULO, random.randrange(SEQUENCE_START_RANGE))
        self._pictures = Renumbering(vp8.PICTURE_ID_MODULO)
        self._timestamp_offset = 0
        self._next_rtx_sequence = random.randrange(SEQUENCE_START_RANGE)
        self._last_timestamp: int | None = None
        self._last_sent_at = 0.0
        self._anchored_at = -math.inf
        self._history: list[bytes | None] = [None] * HISTORY_PACKETS
        self._sent_at = [0.0] * HISTORY_PACKETS  # wall-clock time
        self._resent_at = [-math.inf] * HISTORY_PACKETS
        self._packets = 0
        self._octets = 0
        self._paused = False
        # The highest temporal layer sent (the link's choice is taken at a frame that allows it).
        self._layer = ALL_LAYERS

    @property
    def feed(self) -> Feed | None:
        return self._feed

    @property
    def layer(self) -> int:
        """The highest temporal layer this stream carries now."""
        return self._layer

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
        """Stop (or resume) sending: the subscriber chose audio only, or its link carries no
        video. A resumed stream anchors again at the next keyframe, its numbers continuing where
        they stopped."""
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
        paused (the link is left to audio), and not twice within RETRANSMIT_SPACING_S."""
        slot = sequence_number % HISTORY_PACKETS
        packet = self._history[slot]
        if (packet is None or self._write is None or self._params is None or self._paused
                or rtp.sequence_number_of(packet) != sequence_number):
            return
        now = time.monotonic()
        if self.link is not None and math.isinf(self._resent_at[slot]):
            # Packets carry wall-clock send times (abs-send-time); the link keeps monotonic ones.
            self.link.lost(self._sent_at[slot] - time.time() + now, now)
        if now - self._resent_at[slot] < RETRANSMIT_SPACING_S:
            return
        if self.link is not None and not self.link.may_retransmit(len(packet), now):
            self._resent_at[slot] = now - RETRANSMIT_SPACING_S  # reported lost once; may go later
            return
        self._resent_at[slot] = now
        params = self._params
        if params.rtx_payload_type is not None:
            packet = rtp.rtx_packet(packet, params.rtx_payload_type, self._next_rtx_sequence,
                                    params.rtx_ssrc)
            self._next_rtx_sequence = (self._next_rtx_sequence + 1) % rtp.SEQUENCE_MODULO
        self._write(packet)
        counts.retransmitted_packets += 1

    def estimate_received(self, bitrate_bps: int) -> None:
        """The subscriber's receiver estimate (REMB) naming this stream."""
        if self.link is not None and self.kind == "video":
            self.link.estimate(bitrate_bps, time.monotonic())

    def loss_reported(self, fraction_lost: int) -> None:
        """A receiver report on this stream: the fraction lost, in 256ths. What the publisher's
        own link lost on the way to the relay shows up here too (its gaps are forwarded as
        they are): only the rest counts against this subscriber's link."""
        now = time.monotonic()
        if (self.link is not None and self.kind == "video" and not self._paused
                and self._feed is not None and now - self._anchored_at >= LOSS_SETTLE_S):
            self.link.loss(max(0.0, fraction_lost / 256 - self._feed.upstream_loss), now)

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

    def forward(self, packet: RtpPacket, descriptor: vp8.Descriptor | None, now: float) -> None:
        """Rewrite one of the feed's packets for this subscriber and send it (or leave it out:
        a temporal layer above the one this subscriber gets)."""
        params = self._params
        if params is None or self._write is None or self._feed is None or self._paused:
            return
        if self._source != self._feed.source:
            if self.kind == "video" and (descriptor is None or not descriptor.keyframe):
                self._feed.request_keyframe()
                return
            self._anchor(packet, descriptor, params.clock_rate, now)
        sequence_position = self._sequence.extend(packet.sequence_number)
        if sequence_position is None:
            return  # older than this stream's start: its number was never this stream's
        newest = sequence_position == self._sequence.newest
        payload = packet.payload
        if descriptor is not None:
            if descriptor.starts_frame and newest:
                self._switch_layer(descriptor)
            picture = (None if descriptor.picture_id is None
                       else self._pictures.extend(descriptor.picture_id))
            layer = descriptor.temporal_id
            if newest and layer is not None and layer > self._layer:
                self._sequence.leave_out(sequence_position)
                if picture is not None and picture == self._pictures.newest:
                    self._pictures.leave_out(picture)
                return
            # A late packet goes out whatever its layer: later numbers counted its place, and a
            # gap would have the browser ask for it, then for a keyframe.
            if picture is not None:
                picture_id = self._pictures.output(picture)
                if picture_id is not None and picture_id != descriptor.picture_id:
                    payload = vp8.with_picture_id(payload, descriptor, picture_id)
        sequence = self._sequence.output(sequence_position)
        if sequence is None:
            return
        timestamp = (packet.timestamp + self._timestamp_offset) % rtp.TIMESTAMP_MODULO
        elements = self._mid_element
        if params.abs_send_time_extension_id:  # the subscriber estimates its link from it
            elements += rtp.abs_send_time_element(params.abs_send_time_extension_id,
                                                  rtp.abs_send_time(now))
        extensions = packet.extensions
        if extensions.audio_level is not None and params.audio_level_extension_id:
            elements += rtp.audio_level_element(params.audio_level_extension_id,
                                                extensions.audio_level)
        data = rtp.pack_packet(packet.marker, params.payload_type, sequence, timestamp,
                               params.ssrc, rtp.extension_block(elements), payload)
        slot = sequence % HISTORY_PACKETS
        self._history[slot] = data
        self._sent_at[slot] = now
        self._resent_at[slot] = -math.inf
        if newest:
            self._last_timestamp = timestamp
            self._last_sent_at = now
        if self._write(data):
            self._packets += 1
            self._octets += len(payload)

    @property
    def _wanted_layer(self) -> int:
        """The subscriber's link's choice: fewer layers from the next frame on, more from the
        next frame that may be switched to (no keyframe is asked for: on the weak link this is
        for, one would fill the queue and cost more than the layer). Every layer without
        adaptation; a paused link sends nothing anyway."""
        link = self.link
        return ALL_LAYERS if link is None or link.layer is None else link.layer

    def _switch_layer(self, descriptor: vp8.Descriptor) -> None:
        """At the start of a frame: fewer layers at once; more at a keyframe, or at a frame of
        the wanted layers that refers to the base layer only (layer sync)."""
        wanted = self._wanted_layer
        if wanted < self._layer or descriptor.keyframe or (
                wanted > self._layer and descriptor.layer_sync
                and descriptor.temporal_id is not None and descriptor.temporal_id <= wanted):
            self._layer = wanted

    def _anchor(self, packet: RtpPacket, descriptor: vp8.Descriptor | None, clock_rate: int,
                now: float) -> None:
        """Map a new source's numbers onto this stream: the next sequence number and picture
        id, and a timestamp as far past the last one as time has passed."""
        assert self._feed is not None
        self._source = self._feed.source
        self._anchored_at = time.monotonic()
        self._sequence.anchor(packet.sequence_number)
        if descriptor is not None and descriptor.picture_id is not None:
            self._pictures.anchor(descriptor.picture_id)
        self._layer = self._wanted_layer
        if self._last_timestamp is None:
            start = random.randrange(rtp.TIMESTAMP_MODULO)
        else:
            elapsed = max(1, int((now - self._last_sent_at) * clock_rate))
            start = self._last_timestamp + elapsed
        self._timestamp_offset = start - packet.timestamp
