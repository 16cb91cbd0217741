"""CPU of the media relay (`python -m praatbox.relay`, its own process) per room shape.

aiortc clients in this process publish pre-encoded 640x480 30 fps VP8 at about 1 Mbit/s
(only the first frame is a keyframe; later keyframes only on request), subscribe without
decoding, and talk to the relay through a stand-in `/ws-relay` server. The relay's CPU comes
from /proc/PID/stat. Run inside a loopback-only namespace:

    sh scripts/run-in-netns.sh .venv/bin/python bench/relay_cpu.py --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import os
import sys
import time
from typing import Any

import av
import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.codecs.opus import OpusEncoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from praatbox.relay.auth import relay_token_valid
from praatbox.relay.config import rtc_configuration, use_host_addresses
from praatbox.relay.forwarding import install_pass_through

SECRET = "bench-secret"
FPS = 30
WIDTH, HEIGHT = 640, 480
BITRATE = 1_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# name, publishers, subscribers that only watch, with audio
CASES = [
    ("1to1", 1, 1, False),
    ("1to3", 1, 3, False),
    ("3person", 3, 0, False),
    ("4person", 4, 0, False),
    ("4person_opus", 4, 0, True),
]


def encode_video(count: int = 90) -> list[bytes]:
    """A still pattern under a band of fresh noise: the encoder spends ~1 Mbit/s on it."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = BITRATE
    codec.gop_size = 100_000
    codec.options = {"deadline": "realtime", "cpu-used": "8"}
    base = bytes(range(256)) * (WIDTH * HEIGHT // 256 + 2)
    out = []
    for i in range(count):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for p, plane in enumerate(frame.planes):
            size = plane.line_size * plane.height
            data = bytearray(base[p:][:size])
            band = size // 30
            data[:band] = os.urandom(band)
            plane.update(bytes(data))
        frame.pts = i
        frame.time_base = codec.time_base
        out += [bytes(p) for p in codec.encode(frame)]
    return out


def encode_audio(count: int = 50) -> list[bytes]:
    encoder, out = OpusEncoder(), []
    for i in range(count):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        for plane in frame.planes:
            plane.update(os.urandom(plane.buffer_size))
        frame.sample_rate, frame.pts, frame.time_base = 48000, i * 960, fractions.Fraction(1, 48000)
        out += encoder.encode(frame)[0]
    return out


class Replay(MediaStreamTrack):
    """Replay encoded frames in real time; a keyframe request goes back to frame 0."""

    def __init__(self, kind: str, frames: list[bytes], interval_s: float, clock: int) -> None:
        super().__init__()
        self.kind, self.frames, self.interval_s = kind, frames, interval_s
        self.step, self.time_base = int(interval_s * clock), fractions.Fraction(1, clock)
        self.count, self.index, self.start = 0, 0, time.monotonic()

    def request_keyframe(self) -> None:
        self.index = 0

    async def recv(self) -> av.Packet:
        wait = self.start + self.count * self.interval_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        packet = av.Packet(self.frames[self.index])
        self.index = self.index + 1 if self.index + 1 < len(self.frames) else 1
        packet.pts, packet.time_base = self.count * self.step, self.time_base
        self.count += 1
        return packet


class Client:
    def __init__(self, peer: str, video: list[bytes] | None, audio: list[bytes] | None) -> None:
        self.peer = peer
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.frames = 0
        self.tasks: list[asyncio.Task[None]] = []
        # Transceivers in the relay's m-line order (audio first): aiortc with max-bundle never
        # connects when a video transceiver precedes an audio one created by the offer.
        if audio:
            self.pc.addTrack(Replay("audio", audio, 0.02, 48000))
        elif video:
            self.pc.addTransceiver("audio", direction="inactive")
        if video:
            track = Replay("video", video, 1 / FPS, 90000)
            self.pc.addTrack(track).__dict__["_send_keyframe"] = track.request_keyframe

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self.tasks.append(asyncio.ensure_future(self.count(track)))

    async def count(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.frames += 1

    async def answer(self, offer: dict[str, Any]) -> dict[str, Any]:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return {"type": "answer", "sdp": self.pc.localDescription.sdp}

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def run(seconds: float) -> None:
    video, audio = encode_video(), encode_audio()
    kbps = sum(map(len, video)) * 8 * FPS / len(video) / 1000
    print(f"video: {WIDTH}x{HEIGHT} {FPS} fps VP8, {kbps:.0f} kbit/s, 1 keyframe in {len(video)}")
    clients: dict[str, Client] = {}
    connected: asyncio.Queue[Any] = asyncio.Queue()

    async def handler(ws: Any) -> None:
        await connected.put(ws)
        with contextlib.suppress(websockets.ConnectionClosed):
            await serve(ws)

    async def serve(ws: Any) -> None:
        async for message in ws:
            frame = json.loads(message)
            client = clients.get(frame.get("to", ""))
            if frame["type"] == "signal" and client and "description" in frame["data"]:
                answer = await client.answer(frame["data"]["description"])
                await ws.send(
                    json.dumps(
                        {"type": "signal", "room": frame["room"], "from": client.peer,
                         "data": {"description": answer}}
                    )
                )

    def auth(connection: Any, request: Any) -> Any:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return None if relay_token_valid(SECRET, token) else connection.respond(401, "no\n")

    async with websockets.serve(handler, "127.0.0.1", 0, process_request=auth) as server:
        port = server.sockets[0].getsockname()[1]
        env = dict(os.environ, PRAATBOX_RELAY_URL=f"http://127.0.0.1:{port}",
                   PRAATBOX_SECRET_KEY=SECRET, PRAATBOX_RELAY_HOST_IPS="127.0.0.1",
                   PRAATBOX_LOG_LEVEL="WARNING")
        relay = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "praatbox.relay", env=env
        )
        ws = await asyncio.wait_for(connected.get(), 20)
        headline = ""
        try:
            for name, publishers, watchers, with_audio in CASES:
                room = f"room-{name}"
                clients.clear()
                for i in range(publishers):
                    clients[f"p{i}"] = Client(f"p{i}", video, audio if with_audio else None)
                for i in range(watchers):
                    clients[f"w{i}"] = Client(f"w{i}", None, None)
                watching = list(clients.values())
                forwarded = publishers * (publishers - 1) + publishers * watchers
                await ws.send(json.dumps({"type": "room-open", "room": room,
                                          "peers": list(clients)}))
                deadline = time.monotonic() + 30
                while any(c.frames < 30 * (publishers - c.peer.startswith("p")) for c in watching):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name}: media did not start")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1)
                cpu0, own0 = cpu_seconds(relay.pid), cpu_seconds(os.getpid())
                frames0, t0 = sum(c.frames for c in watching), time.monotonic()
                await asyncio.sleep(seconds)
                elapsed = time.monotonic() - t0
                relay_pct = 100 * (cpu_seconds(relay.pid) - cpu0) / elapsed
                own_pct = 100 * (cpu_seconds(os.getpid()) - own0) / elapsed
                fps = (sum(c.frames for c in watching) - frames0) / elapsed / forwarded
                print(f"{name}_relay_cpu_pct: {relay_pct:.1f}")
                print(f"{name}_cpu_pct_per_forwarded_stream: {relay_pct / forwarded:.2f}")
                print(f"{name}_subscriber_fps: {fps:.1f}")
                print(f"{name}_clients_cpu_pct: {own_pct:.1f}")
                await ws.send(json.dumps({"type": "room-close", "room": room}))
                for client in watching:
                    await client.close()
                await asyncio.sleep(1)
                if name == "4person":
                    headline = f"relay_cpu_4person_pct_of_core: {relay_pct:.1f}"
            print("janus: not measured")
            print(headline)
        finally:
            relay.terminate()
            await relay.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per case")
    args = parser.parse_args()
    install_pass_through()
    use_host_addresses(("127.0.0.1",))
    asyncio.run(run(args.seconds))


if __name__ == "__main__":
    main()
