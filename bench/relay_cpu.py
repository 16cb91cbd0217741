"""CPU of the media relay per room shape, interleaved with Janus's videoroom in the same run.

aiortc clients in this process publish pre-encoded 640x480 30 fps VP8 at about 1 Mbit/s
(only the first frame is a keyframe; later keyframes only on request) and subscribe without
decoding. They talk to our relay (`python -m praatbox.relay`, its own process) through a
stand-in `/ws-relay` server, and to a private Janus (Debian `janus`, videoroom plugin; see
bench/janus_client.py) over its HTTP API. Each room shape runs on both servers back to back
(the order alternates per case), because the shared machine's load drifts between minutes.
CPU of each server comes from /proc/PID/stat. Run inside a loopback-only namespace:

    sh scripts/run-in-netns.sh .venv/bin/python bench/relay_cpu.py --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.codecs.opus import OpusEncoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from praatbox.relay.aiortc_hooks import install_pass_through, use_host_addresses
from praatbox.relay.auth import relay_token, relay_token_valid
from praatbox.relay.config import rtc_configuration

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import janus_client  # noqa: E402
from bench.frame_encryption import FrameSealer  # noqa: E402
from bench.proc import CLOCK_TICKS_PER_SECOND, cpu_seconds, machine_busy_ticks  # noqa: E402

SECRET = "bench-secret"
FPS = 30
WIDTH, HEIGHT = 640, 480
BITRATE = 1_000_000
MEDIA_START_TIMEOUT_S = 30.0
HEADLINE_CASE = "4person"
# The goals for a 4-person room: under half a core at full frame rate, and (packet forwarding)
# at most 1.5x Janus's CPU at full frame rate, video only and with Opus.
GOAL_CPU_PCT, GOAL_RATIO, FULL_FPS = 50.0, 1.5, 29.0
RATIO_GOAL_CASES = ("4person", "4person_opus")


@dataclass(frozen=True)
class Case:
    """One room shape: publishers send and watch each other, watchers only watch."""

    name: str
    publishers: int
    watchers: int
    audio: bool
    # Frames as group E2EE sends them (bench/frame_encryption.py): the relay must not care.
    e2ee: bool = False

    @property
    def forwarded(self) -> int:
        """Video streams the server sends out (each publisher to every other participant)."""
        return self.publishers * (self.publishers - 1 + self.watchers)


CASES = [
    Case("1to1", 1, 1, False),
    Case("1to3", 1, 3, False),
    Case("3person", 3, 0, False),
    Case("4person", 4, 0, False),
    Case("4person_opus", 4, 0, True),
    Case("4person_e2ee", 4, 0, False, e2ee=True),
    Case("4person_opus_e2ee", 4, 0, True, e2ee=True),
]
# Our relay with video adaptation switched off, measured beside the default when asked.
ADAPT_OFF = "ours_adapt_off"
# Each E2EE case beside the same room in the clear, as a ratio printed in the same run.
E2EE_GOAL_RATIO = 1.10


@dataclass(frozen=True)
class Media:
    """Pre-encoded frames every publisher replays (encoding once keeps the clients cheap)."""

    video: list[bytes]
    audio: list[bytes]

    def encrypted(self) -> Media:
        """The same frames sealed under one sender key (a replay repeats counters: bench only)."""
        sealer = FrameSealer(key_id=1)
        return Media([sealer.seal(f, "video") for f in self.video],
                     [sealer.seal(f, "audio") for f in self.audio])


@dataclass(frozen=True)
class Result:
    """One measurement; CPU figures are % of one core."""

    server_pct: float
    fps: float
    audio_fps: float
    clients_pct: float
    machine_pct: float


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
    """Opus frames of noise, 20 ms each."""
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
    """One aiortc PeerConnection; counts the frames it receives per kind (without decoding).

    `streams` is how many video streams it should receive, to tell when media is flowing.
    """

    def __init__(
        self, peer: str, streams: int, video: list[bytes] | None = None,
        audio: list[bytes] | None = None, audio_first: bool = False,
    ) -> None:
        self.peer, self.streams = peer, streams
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.frames = {"audio": 0, "video": 0}
        self.tasks: list[asyncio.Task[None]] = []
        # Our relay offers audio first: aiortc with max-bundle never connects when a video
        # transceiver precedes an audio one created by the offer, hence `audio_first`.
        if audio:
            self.pc.addTrack(Replay("audio", audio, 0.02, 48000))
        elif video and audio_first:
            self.pc.addTransceiver("audio", direction="inactive")
        if video:
            track = Replay("video", video, 1 / FPS, 90000)
            self.pc.addTrack(track).__dict__["_send_keyframe"] = track.request_keyframe

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tasks.append(asyncio.ensure_future(self.count(track)))

    async def count(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.frames[track.kind] += 1

    async def offer(self) -> dict[str, Any]:
        """A complete offer (aiortc gathers before returning: no trickle needed)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return {"type": "offer", "sdp": self.pc.localDescription.sdp, "trickle": False}

    async def accept(self, answer: dict[str, Any]) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    async def answer(self, offer: dict[str, Any]) -> dict[str, Any]:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return {"type": "answer", "sdp": self.pc.localDescription.sdp, "trickle": False}

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()


class Server(Protocol):
    """What `measure` needs from our relay and from Janus."""

    name: str

    @property
    def pid(self) -> int: ...

    async def open_room(self, case: Case, media: Media) -> list[Client]:
        """Connect everyone in `case`; return the clients that receive video."""

    async def close_room(self, case: Case) -> None:
        """Hang everyone up and forget the room."""


class OurRelay:
    """`python -m praatbox.relay` in its own process, driven through a stand-in /ws-relay."""

    def __init__(self, name: str = "ours", env: dict[str, str] | None = None) -> None:
        self.name = name
        self._env = env or {}
        self.clients: dict[str, Client] = {}
        self.connected: asyncio.Queue[Any] = asyncio.Queue()
        self.process: asyncio.subprocess.Process | None = None
        self.ws: Any = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OurRelay]:
        """Serve /ws-relay, start the relay process, wait until it has connected."""
        async with websockets.serve(self.handle, "127.0.0.1", 0, process_request=auth) as server:
            port = server.sockets[0].getsockname()[1]
            env = dict(os.environ, PRAATBOX_RELAY_URL=f"http://127.0.0.1:{port}",
                       PRAATBOX_SECRET_KEY=SECRET, PRAATBOX_RELAY_HOST_IPS="127.0.0.1",
                       PRAATBOX_TURN_ALLOWED_PEERS="127.0.0.0/8", PRAATBOX_LOG_LEVEL="WARNING",
                       **self._env)
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "praatbox.relay", env=env
            )
            try:
                self.ws = await asyncio.wait_for(self.connected.get(), 20)
                yield self
            finally:
                self.process.terminate()
                await self.process.wait()

    async def handle(self, ws: Any) -> None:
        await self.connected.put(ws)
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in ws:
                await self.on_frame(ws, json.loads(message))

    async def on_frame(self, ws: Any, frame: dict[str, Any]) -> None:
        """Answer the relay's offers on behalf of the client they are addressed to."""
        client = self.clients.get(frame.get("to", ""))
        if frame["type"] != "signal" or client is None or "description" not in frame["data"]:
            return
        answer = await client.answer(frame["data"]["description"])
        await ws.send(json.dumps({"type": "signal", "room": frame["room"], "from": client.peer,
                                  "data": {"description": answer}}))

    async def open_room(self, case: Case, media: Media) -> list[Client]:
        self.clients.clear()
        audio = media.audio if case.audio else None
        for i in range(case.publishers):
            self.clients[f"p{i}"] = Client(f"p{i}", case.publishers - 1, media.video, audio,
                                           audio_first=True)
        for i in range(case.watchers):
            self.clients[f"w{i}"] = Client(f"w{i}", case.publishers)
        await self.ws.send(json.dumps({"type": "room-open", "room": f"room-{case.name}",
                                       "peers": list(self.clients)}))
        return list(self.clients.values())

    async def close_room(self, case: Case) -> None:
        await self.ws.send(json.dumps({"type": "room-close", "room": f"room-{case.name}"}))
        for client in self.clients.values():
            await client.close()
        self.clients.clear()


def auth(connection: Any, request: Any) -> Any:
    """The stand-in /ws-relay checks the relay's bearer token like the web process does."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if relay_token_valid(relay_token(SECRET), token):
        return None
    return connection.respond(401, "no\n")


class JanusServer:
    """Janus's videoroom: each participant is one API session with a publisher handle (own
    PeerConnection) and a subscriber handle (one multistream PeerConnection for all feeds)."""

    name = "janus"

    def __init__(self, process: janus_client.JanusProcess) -> None:
        self.process = process
        self.room_ids = itertools.count(1000)
        self.room = 0
        self.clients: list[Client] = []
        self.sessions: list[janus_client.JanusSession] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    async def new_session(self) -> janus_client.JanusSession:
        session = janus_client.JanusSession(self.process.port)
        await session.create()
        self.sessions.append(session)
        return session

    async def open_room(self, case: Case, media: Media) -> list[Client]:
        self.room = next(self.room_ids)
        admin = await (await self.new_session()).attach()
        await janus_client.create_room(admin, self.room, case.publishers)
        sessions = [await self.new_session() for _ in range(case.publishers + case.watchers)]
        feeds = [await self.publish(sessions[i], f"p{i}", media, case.audio)
                 for i in range(case.publishers)]
        await wait_connected(self.clients)
        watching = []
        for i, session in enumerate(sessions):
            others = [feed for j, feed in enumerate(feeds) if j != i]
            if others:
                watching.append(await self.subscribe(session, f"s{i}", others))
        return watching

    async def publish(
        self, session: janus_client.JanusSession, peer: str, media: Media, audio: bool
    ) -> int:
        """Publish one participant's media; return its feed id."""
        client = Client(peer, 0, media.video, media.audio if audio else None)
        self.clients.append(client)
        handle = await session.attach()
        feed, answer = await janus_client.publish(handle, self.room, peer, await client.offer())
        await client.accept(answer)
        return feed

    async def subscribe(
        self, session: janus_client.JanusSession, peer: str, feeds: list[int]
    ) -> Client:
        """Receive every feed in `feeds` on one PeerConnection."""
        client = Client(peer, len(feeds))
        self.clients.append(client)
        handle = await session.attach()
        offer = await janus_client.subscribe(handle, self.room, feeds)
        await janus_client.start(handle, await client.answer(offer))
        return client

    async def close_room(self, case: Case) -> None:
        for client in self.clients:
            await client.close()
        if self.sessions:
            admin = await self.sessions[0].attach()
            with contextlib.suppress(RuntimeError):
                await admin.request({"request": "destroy", "room": self.room})
        for session in self.sessions:
            await session.destroy()
        self.clients, self.sessions = [], []


async def wait_connected(clients: list[Client]) -> None:
    """Until every PeerConnection is up: Janus refuses to subscribe to a feed before that."""
    deadline = time.monotonic() + MEDIA_START_TIMEOUT_S
    while any(c.pc.connectionState != "connected" for c in clients):
        if time.monotonic() > deadline:
            raise RuntimeError("publishers did not connect")
        await asyncio.sleep(0.1)


async def wait_for_media(case: Case, clients: list[Client]) -> None:
    """Until every receiver has had a second's worth of frames from each expected stream."""
    deadline = time.monotonic() + MEDIA_START_TIMEOUT_S
    while any(c.frames["video"] < FPS * c.streams for c in clients):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{case.name}: media did not start")
        await asyncio.sleep(0.2)


def received(clients: list[Client]) -> tuple[int, int]:
    """Video and audio frames received so far by all clients together."""
    return (sum(c.frames["video"] for c in clients), sum(c.frames["audio"] for c in clients))


async def measure(server: Server, case: Case, media: Media, seconds: float) -> Result:
    """Open the room, let it settle, sample CPU and frames for `seconds`, close the room."""
    try:
        clients = await server.open_room(case, media)
        await wait_for_media(case, clients)
        await asyncio.sleep(1)
        pids = (server.pid, os.getpid())
        cpu0, busy0 = [cpu_seconds(pid) for pid in pids], machine_busy_ticks()
        frames0, t0 = received(clients), time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        server_s, own_s = (cpu_seconds(pid) - c0 for pid, c0 in zip(pids, cpu0, strict=True))
        machine_s = (machine_busy_ticks() - busy0) / CLOCK_TICKS_PER_SECOND
        video, audio = (
            (now - then) / elapsed / case.forwarded
            for now, then in zip(received(clients), frames0, strict=True)
        )
    finally:
        await server.close_room(case)
        await asyncio.sleep(1)
    return Result(100 * server_s / elapsed, video, audio, 100 * own_s / elapsed,
                  100 * machine_s / elapsed)


def report(case: Case, server: str, result: Result) -> None:
    prefix = f"{case.name}_{server}"
    print(f"{prefix}_relay_cpu_pct: {result.server_pct:.1f}")
    print(f"{prefix}_cpu_pct_per_forwarded_stream: {result.server_pct / case.forwarded:.2f}")
    print(f"{prefix}_subscriber_fps: {result.fps:.1f}")
    if case.audio:
        print(f"{prefix}_subscriber_audio_frames_per_s: {result.audio_fps:.1f}")
    print(f"{prefix}_clients_cpu_pct: {result.clients_pct:.1f}")
    print(f"{prefix}_machine_busy_cpu_pct: {result.machine_pct:.1f}")


def report_goals(by_case: dict[str, dict[str, Result]]) -> str:
    """Print the goals for the 4-person rooms; return the headline line (printed last)."""
    ours = by_case[HEADLINE_CASE]["ours"]
    print(f"goal_4person_under_{GOAL_CPU_PCT:.0f}pct_at_full_fps: "
          f"{'yes' if ours.server_pct < GOAL_CPU_PCT and ours.fps >= FULL_FPS else 'no'}")
    for name in RATIO_GOAL_CASES:
        results = by_case.get(name, {})
        if "ours" in results and "janus" in results:
            ratio = results["ours"].server_pct / results["janus"].server_pct
            met = ratio <= GOAL_RATIO and results["ours"].fps >= FULL_FPS
            print(f"goal_{name}_at_most_{GOAL_RATIO:g}x_janus_at_full_fps: "
                  f"{'yes' if met else 'no'}")
    janus = by_case[HEADLINE_CASE].get("janus")
    if janus is None:
        return f"relay_cpu_{HEADLINE_CASE}_pct_of_core: {ours.server_pct:.1f}"
    ratio = ours.server_pct / janus.server_pct
    return f"relay_cpu_ratio_ours_over_janus_{HEADLINE_CASE}: {ratio:.2f}"


def report_e2ee(by_case: dict[str, dict[str, Result]]) -> None:
    """Our relay's CPU with encrypted frames over the same room in the clear (goal: ±10 %)."""
    for case in CASES:
        clear = by_case.get(case.name.removesuffix("_e2ee"), {}).get("ours")
        sealed = by_case.get(case.name, {}).get("ours")
        if not case.e2ee or clear is None or sealed is None:
            continue
        ratio = sealed.server_pct / clear.server_pct
        print(f"{case.name}_relay_cpu_ratio_e2ee_over_clear: {ratio:.2f}")
        print(f"goal_{case.name}_within_10pct_of_clear: "
              f"{'yes' if abs(ratio - 1) <= E2EE_GOAL_RATIO - 1 else 'no'}")


async def run_case(
    case: Case, servers: list[Server], media: Media, seconds: float
) -> dict[str, Result]:
    """Measure one case on each server in turn; a Janus failure leaves our figures standing."""
    results: dict[str, Result] = {}
    for server in servers:
        try:
            results[server.name] = await measure(server, case, media, seconds)
        except (RuntimeError, OSError, asyncio.TimeoutError, KeyError) as error:
            if server.name == "ours":
                raise
            print(f"{case.name}_{server.name}: not measured ({error})")
            continue
        report(case, server.name, results[server.name])
    if "janus" in results and "ours" in results:
        ratio = results["ours"].server_pct / results["janus"].server_pct
        print(f"{case.name}_ratio_ours_over_janus: {ratio:.2f}")
    return results


@contextlib.asynccontextmanager
async def janus_if_possible(workdir: Path, wanted: bool) -> AsyncIterator[JanusServer | None]:
    """A running Janus, or None (after saying why) when it cannot run on this machine."""
    if not wanted:
        print("janus: not measured (--no-janus)")
        yield None
        return
    async with contextlib.AsyncExitStack() as stack:
        try:
            process = await stack.enter_async_context(janus_client.JanusProcess(workdir))
        except janus_client.JanusUnavailable as error:
            print(f"janus: not measured ({error})")
            yield None
            return
        print(f"janus: {janus_client.JANUS_BIN} pid {process.pid}, videoroom, 127.0.0.1")
        yield JanusServer(process)


def report_adaptation(by_case: dict[str, dict[str, Result]]) -> None:
    """Our relay adapting video per subscriber (the default) over the same relay with
    PRAATBOX_RELAY_ADAPT_VIDEO=0: what reading every packet's VP8 layer, renumbering and the
    half-second choice cost when every link is good."""
    for name, results in by_case.items():
        if "ours" in results and ADAPT_OFF in results:
            ratio = results["ours"].server_pct / results[ADAPT_OFF].server_pct
            print(f"{name}_relay_cpu_ratio_adapting_over_not: {ratio:.2f}")


async def run(cases: list[Case], seconds: float, with_janus: bool, adapt_off: bool) -> None:
    video, audio = encode_video(), encode_audio()
    media = Media(video, audio)
    sealed = media.encrypted()
    kbps = sum(map(len, video)) * 8 * FPS / len(video) / 1000
    print(f"video: {WIDTH}x{HEIGHT} {FPS} fps VP8, {kbps:.0f} kbit/s, 1 keyframe in {len(video)}")
    print(f"seconds_per_case: {seconds:g}")
    with tempfile.TemporaryDirectory(prefix="bench-janus-") as workdir:
        async with contextlib.AsyncExitStack() as stack:
            ours = await stack.enter_async_context(OurRelay().running())
            janus = await stack.enter_async_context(janus_if_possible(Path(workdir), with_janus))
            servers: list[Server] = [ours] + ([janus] if janus else [])
            if adapt_off:
                servers.append(await stack.enter_async_context(OurRelay(
                    ADAPT_OFF, {"PRAATBOX_RELAY_ADAPT_VIDEO": "0"}).running()))
            by_case: dict[str, dict[str, Result]] = {}
            for index, case in enumerate(cases):
                order = servers if index % 2 == 0 else servers[::-1]
                by_case[case.name] = await run_case(
                    case, order, sealed if case.e2ee else media, seconds)
    report_e2ee(by_case)
    report_adaptation(by_case)
    if HEADLINE_CASE in by_case:
        print(report_goals(by_case))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per case")
    parser.add_argument("--no-janus", action="store_true", help="measure our relay only")
    parser.add_argument("--adapt-off-too", action="store_true",
                        help="also measure our relay with PRAATBOX_RELAY_ADAPT_VIDEO=0")
    parser.add_argument("--cases", nargs="+", choices=[c.name for c in CASES],
                        default=[c.name for c in CASES], help="room shapes to run")
    args = parser.parse_args()
    cases = [c for c in CASES if c.name in args.cases]
    install_pass_through()
    use_host_addresses(("127.0.0.1",))
    asyncio.run(run(cases, args.seconds, not args.no_janus, args.adapt_off_too))


if __name__ == "__main__":
    main()
