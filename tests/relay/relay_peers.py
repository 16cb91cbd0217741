"""aiortc peers standing in for browsers, and an in-memory web process linking them to a Relay."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc import sdp as aiortc_sdp
from aiortc.codecs.opus import OpusEncoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import RtpPacket

from praatbox.relay.config import rtc_configuration
from praatbox.relay.layers import LayerSettings
from praatbox.relay.relay import Relay

VIDEO_FPS = 15
VIDEO_FRAMES = 45
AUDIO_FRAME_S = 0.02


def encode_video(
    seed: int, count: int = VIDEO_FRAMES, width: int = 160, height: int = 120
) -> list[bytes]:
    """VP8 frames of a moving gradient: the first a keyframe, none after it."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, VIDEO_FPS)
    codec.bit_rate = 150_000
    codec.gop_size = 100_000
    packets = []
    for i in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        for p, plane in enumerate(frame.planes):
            size = plane.line_size * plane.height
            plane.update(bytes((x + 3 * i + 40 * p + 17 * seed) % 256 for x in range(size)))
        frame.pts = i
        frame.time_base = codec.time_base
        packets += codec.encode(frame)
    packets += codec.encode(None)
    return [bytes(p) for p in packets]


def encode_audio(count: int = 50) -> list[bytes]:
    """Opus frames of 20 ms silence (content does not matter to a pass-through)."""
    encoder = OpusEncoder()
    payloads = []
    for i in range(count):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 48000
        frame.pts = i * 960
        frame.time_base = fractions.Fraction(1, 48000)
        encoded, _ = encoder.encode(frame)
        payloads += encoded
    return payloads


def is_keyframe(kind: str, data: bytes) -> bool:
    """Whether a whole encoded frame starts playback (VP8: bit 0 of the frame tag is 0)."""
    return kind == "audio" or (bool(data) and not data[0] & 0x01)


class PacketSource(MediaStreamTrack):
    """Replay encoded frames in real time; a keyframe request replays frame 0 (the keyframe)."""

    def __init__(self, kind: str, frames: list[bytes], interval_s: float, clock_rate: int) -> None:
        super().__init__()
        self.kind = kind
        self.frames = frames
        self.sent: set[bytes] = set()
        self.keyframes_sent = 0
        self._interval_s = interval_s
        self._step = int(interval_s * clock_rate)
        self._time_base = fractions.Fraction(1, clock_rate)
        self._count = 0
        self._index = 0
        self._start: float | None = None
        self._keyframe_requested = False

    @property
    def frames_sent(self) -> int:
        return self._count

    def request_keyframe(self) -> None:
        self._keyframe_requested = True

    async def recv(self) -> av.Packet:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._count * self._interval_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if self._keyframe_requested:
            self._keyframe_requested = False
            self._index = 0
        data = self.frames[self._index]
        self._index = self._index + 1 if self._index + 1 < len(self.frames) else 1
        if is_keyframe(self.kind, data) and self.kind == "video":
            self.keyframes_sent += 1
        self.sent.add(data)
        packet = av.Packet(data)
        packet.pts = self._count * self._step
        packet.time_base = self._time_base
        self._count += 1
        return packet


@dataclass
class Received:
    at: float
    publisher: str | None
    kind: str
    data: bytes


class FakeBrowser:
    """Answer offers like group.js does, publish synthetic media, and record what arrives."""

    def __init__(self, peer_id: str, seed: int, send: Callable[[dict[str, Any]], Any]) -> None:
        self.peer_id = peer_id
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.video = PacketSource("video", encode_video(seed), 1 / VIDEO_FPS, 90000)
        self.audio = PacketSource("audio", encode_audio(), AUDIO_FRAME_S, 48000)
        self.pc.addTrack(self.audio)
        video_sender = self.pc.addTrack(self.video)
        video_sender._send_keyframe = self.video.request_keyframe  # type: ignore[method-assign]
        self.received: list[Received] = []
        self.offers = 0
        self._send = send
        self._mid_publisher: dict[str, str | None] = {}
        self._mid_kind: dict[str, str] = {}
        self._packets: list[RtpPacket] = []
        self._recording = False
        # Drop every n-th RTP packet that arrives (0: none), as a lossy path would.
        self.drop_every = 0
        self.dropped = 0
        self._lock = asyncio.Lock()
        self._readers: list[asyncio.Task[None]] = []

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
            assert transceiver.mid is not None
            if not self._recording:
                self._record_packets(transceiver.receiver.transport)
            self._readers.append(asyncio.ensure_future(self._read(track, transceiver.mid)))

    async def handle_signal(self, data: dict[str, Any]) -> None:
        async with self._lock:
            if "description" not in data:
                return
            offer = data["description"]
            await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
            for media in aiortc_sdp.SessionDescription.parse(offer["sdp"]).media:
                publisher = None
                if media.direction in ("sendonly", "sendrecv") and media.msid:
                    publisher = media.msid.split()[0]
                self._mid_publisher[media.rtp.muxId] = publisher
                self._mid_kind[media.rtp.muxId] = media.kind
            self.offers += 1
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            answer = self.pc.localDescription
            await self._send({"description": {"type": answer.type, "sdp": answer.sdp}})

    def frames_from(self, publisher: str, kind: str) -> list[Received]:
        return [r for r in self.received if r.publisher == publisher and r.kind == kind]

    def mid_of(self, publisher: str, kind: str) -> str:
        """The m-line that shows `publisher`'s `kind` now."""
        return next(mid for mid, who in self._mid_publisher.items()
                    if who == publisher and self._mid_kind[mid] == kind)

    def ssrcs(self, mid: str) -> tuple[int, int]:
        """The media and RTX SSRC the relay announced for an m-line (its FID group)."""
        description = aiortc_sdp.SessionDescription.parse(self.pc.remoteDescription.sdp)
        media = next(m for m in description.media if m.rtp.muxId == mid)
        group = next(g for g in media.ssrc_group if g.semantic == "FID")
        return int(group.items[0]), int(group.items[1])

    def packets(self, ssrc: int) -> list[RtpPacket]:
        """Every RTP packet of one SSRC that arrived, as sent (RTX not unwrapped)."""
        return [p for p in self._packets if p.ssrc == ssrc]

    def _record_packets(self, transport: RTCDtlsTransport) -> None:
        # The wire after SRTP, before aiortc routes packets to receivers (it drops RTX packets
        # when several video m-lines share a transport: it never maps their SSRC).
        self._recording = True
        handle = transport._handle_rtp_data

        async def record(data: bytes, arrival_time_ms: int) -> None:
            packet = RtpPacket.parse(data)
            if self.drop_every and packet.sequence_number % self.drop_every == 0:
                self.dropped += 1
                return
            self._packets.append(packet)
            await handle(data, arrival_time_ms)

        transport._handle_rtp_data = record  # type: ignore[method-assign]

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    async def _read(self, track: MediaStreamTrack, mid: str) -> None:
        while True:
            try:
                packet = await track.recv()
            except MediaStreamError:
                return
            publisher = self._mid_publisher.get(mid)
            self.received.append(Received(time.monotonic(), publisher, track.kind, bytes(packet)))


class FakeWeb:
    """The web process's side of `/ws-relay`, in memory: routes signals between relay and peers."""

    def __init__(self, layer_settings: LayerSettings | None = None) -> None:
        self.relay = Relay(self._from_relay, rtc_configuration([]), layer_settings=layer_settings)
        self.browsers: dict[tuple[str, str], FakeBrowser] = {}
        self.frames: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._seed = 0

    def browser(self, room: str, peer: str) -> FakeBrowser:
        return self.browsers[(room, peer)]

    def _add_browser(self, room: str, peer: str) -> FakeBrowser:
        async def send(data: dict[str, Any]) -> None:
            await self.relay.handle({"type": "signal", "room": room, "from": peer, "data": data})

        self._seed += 1
        browser = FakeBrowser(peer, self._seed, send)
        self.browsers[(room, peer)] = browser
        return browser

    async def _from_relay(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        browser = self.browsers.get((frame.get("room", ""), frame.get("to", "")))
        if frame["type"] == "signal" and browser is not None and "description" in frame["data"]:
            task = asyncio.ensure_future(browser.handle_signal(frame["data"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def open_room(self, room: str, peers: list[str]) -> None:
        for peer in peers:
            self._add_browser(room, peer)
        await self.relay.handle({"type": "room-open", "room": room, "peers": peers})

    async def join(self, room: str, peer: str) -> FakeBrowser:
        browser = self._add_browser(room, peer)
        await self.relay.handle({"type": "peer-joined", "room": room, "peer": peer})
        return browser

    async def restart(self, room: str, peer: str) -> FakeBrowser:
        """Do what a browser that lost its path does: a new connection, and ask for an offer."""
        browser = self._add_browser(room, peer)
        await self.relay.handle(
            {"type": "signal", "room": room, "from": peer, "data": {"restart": True}})
        return browser

    async def leave(self, room: str, peer: str) -> None:
        browser = self.browsers.pop((room, peer))
        await self.relay.handle({"type": "peer-left", "room": room, "peer": peer})
        await browser.close()

    def errors_for(self, room: str, peer: str) -> list[dict[str, Any]]:
        return [
            f["data"]["error"]
            for f in self.frames
            if f["type"] == "signal"
            and (f["room"], f["to"]) == (room, peer)
            and "error" in f["data"]
        ]

    async def close(self) -> None:
        await self.relay.close()
        for browser in self.browsers.values():
            await browser.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate`; fail with `what` if it does not hold within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
