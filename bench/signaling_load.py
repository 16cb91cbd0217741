"""Signaling under load: N WebSocket participants in N/2 rooms of two, against the real server.

The server is gunicorn with the gevent worker, started exactly as the tests start it
(`tests.live.start_web`). This process is the only client: asyncio + `websockets`, one connection
per participant. Each room is opened the way a counsellor opens it (POST /start with fresh terms:
the answer's session cookie holds the room's moderator code); the clients' session cookies are
minted with the app's own signing serializer.

Load: every participant sends a `signal` to its partner every 2 s (75 % ~300 B, 25 % 2-10 KB of
SDP-like text carrying a sequence number and a send timestamp) for `--seconds`, then all send a
burst of 10 at the same moment. Measured: connected participants, lost messages (sent vs
received by the partners), forward latency (send -> partner's receive, both in this process),
server CPU (utime+stime of the worker(s) from /proc, % of one core) and RSS, and /healthz latency
polled every 200 ms from a thread of this process.

Reference: this script with `--serve-reference PORT` is a minimal asyncio `websockets` server
that pairs the participants of a room (room id from the path), speaks the same wire format
(welcome, peer-joined, signal stamped with `from`) and uses the same permessage-deflate settings
as ours (no context takeover). It takes the identical load at `--reference-clients` (1,000), so
the CPU per forwarded message of both can be compared.

Latencies include the client's own scheduling: one Python process drives every participant.

Run inside a loopback-only namespace, as `make bench` does:

    sh scripts/run-in-netns.sh env PYTHONPATH=. .venv/bin/python bench/signaling_load.py
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import http.client
import json
import logging
import os
import random
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.proc import CLOCK_TICKS_PER_SECOND, child_pids, cpu_ticks, memory_mb  # noqa: E402

SECRET = "bench-signaling-load-secret"
SEND_INTERVAL_SECONDS = 2.0
BURST_MESSAGES = 10
SMALL_SHARE = 0.75
SMALL_FRAME_BYTES = 300
LARGE_FRAME_BYTES = (2_000, 10_000)
CONNECT_CONCURRENCY = 50  # rooms being set up at once
OPEN_ROOM_THREADS = 16
STEADY_DRAIN_SECONDS = 5.0
BURST_DRAIN_SECONDS = 30.0
CLOSE_SECONDS = 10.0
HEALTH_INTERVAL_SECONDS = 0.2
HEALTH_TIMEOUT_SECONDS = 10.0
STARTUP_SECONDS = 20.0
TIME_LIMIT_SECONDS = 330
PROBLEM_MARKERS = ("Traceback", "ERROR", "CRITICAL", "WARNING", "Exception")


# ---------------------------------------------------------------------------------------------
# The reference server (a subprocess of this script)


def serve_reference(port: int) -> None:
    """Pair participants by room id and forward their signals, nothing else."""
    raise_fd_limit()
    rooms: dict[str, dict[str, Any]] = {}

    def process_request(connection: Any, request: Any) -> Any:
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, '{"status":"ok"}\n')
        return None

    async def handler(ws: Any) -> None:
        room_id = ws.request.path.rsplit("/", 1)[-1]
        peers = rooms.setdefault(room_id, {})
        if len(peers) >= 2:
            await ws.close(1008, "room-full")
            return
        me = secrets.token_urlsafe(9)
        for other in list(peers.values()):
            await other.send(json.dumps({"type": "peer-joined", "peer": me}))
        await ws.send(json.dumps({
            "type": "welcome", "self": me, "moderator": not peers, "peers": list(peers),
            "mode": "p2p",
        }))
        peers[me] = ws
        try:
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "signal":
                    target = peers.get(message.get("to"))
                    if target is not None:
                        await target.send(json.dumps(
                            {"type": "signal", "from": me, "data": message["data"]}
                        ))
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')
        except ConnectionClosed:
            pass
        finally:
            peers.pop(me, None)
            if not peers:
                rooms.pop(room_id, None)

    async def main() -> None:
        deflate = ServerPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True
        )
        async with websockets.serve(
            handler, "127.0.0.1", port, process_request=process_request, compression=None,
            extensions=[deflate], ping_interval=25, max_size=256 * 1024, backlog=2048,
        ) as server:
            await server.serve_forever()

    asyncio.run(main())  # plain asyncio on purpose: the stock Python reference


# ---------------------------------------------------------------------------------------------
# Processes: start, measure, stop


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Target:
    """A server under test: where it listens, which processes do its work, how to stop it."""

    name: str
    url: str
    worker_pids: Callable[[], list[int]]
    log: Callable[[], str]
    stop: Callable[[], None]
    opens_rooms: bool  # ours needs POST /start by the moderator first

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def start_ours(workdir: Path) -> Target:
    from tests.live import start_web

    server = start_web(workdir, {"PRAATBOX_SECRET_KEY": SECRET, "PRAATBOX_LOG_LEVEL": "info"})
    seen: set[int] = set()

    def workers() -> list[int]:
        pids = child_pids(server.process.pid)
        seen.update(pids)
        return pids

    def stop() -> None:
        try:
            server.stop()
        finally:
            for pid in seen:  # a worker left behind by a killed master
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    workers()
    return Target("ours", server.url, workers, server.log, stop, opens_rooms=True)


def start_reference(workdir: Path) -> Target:
    from tests.live import free_port

    port = free_port()
    log_path = workdir / f"reference-{port}.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-reference", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    target = Target(
        "reference", f"http://127.0.0.1:{port}", lambda: [process.pid],
        lambda: log_path.read_text(errors="replace"), stop, opens_rooms=False,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reference server exited:\n{target.log()}")
        if health_ms("127.0.0.1", port, 1.0) is not None:
            return target
        time.sleep(0.1)
    stop()
    raise RuntimeError(f"reference server did not answer:\n{target.log()}")


def health_ms(host: str, port: int, timeout: float) -> float | None:
    """One GET /healthz on a fresh connection; its latency in ms, or None if it failed."""
    start = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            return None
    except OSError:
        return None
    finally:
        connection.close()
    return (time.monotonic() - start) * 1000


class HealthPoller(threading.Thread):
    """Poll /healthz every 200 ms (or at once when poked); keep (monotonic start, ms or None)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, float | None]] = []
        self._wake = threading.Event()
        self._stopping = False

    def run(self) -> None:
        while not self._stopping:
            start = time.monotonic()
            self.samples.append((start, health_ms("127.0.0.1", self.port, HEALTH_TIMEOUT_SECONDS)))
            self._wake.wait(max(0.0, HEALTH_INTERVAL_SECONDS - (time.monotonic() - start)))
            self._wake.clear()

    def poke(self) -> None:
        self._wake.set()

    def finish(self) -> None:
        self._stopping = True
        self._wake.set()
        self.join(timeout=HEALTH_TIMEOUT_SECONDS + 1)

    def between(self, start: float, end: float) -> tuple[list[float], int]:
        chosen = [ms for at, ms in self.samples if start <= at <= end]
        return [ms for ms in chosen if ms is not None], sum(ms is None for ms in chosen)


# ---------------------------------------------------------------------------------------------
# Admission: rooms and session cookies


def new_room_id() -> str:
    return base64.b32encode(os.urandom(15)).decode().lower()[:20]


def cookie_minter() -> Callable[[str, str], str]:
    """Sign `session["rooms"] = {room_id: role}` exactly as the app does."""
    from praatbox import create_app
    from praatbox.rooms import membership

    app = create_app({"SECRET_KEY": SECRET, "TURN_URLS": []})
    logging.getLogger().setLevel(logging.WARNING)
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    name = app.config["SESSION_COOKIE_NAME"]

    def mint(room_id: str, role: str) -> str:
        return f"{name}={serializer.dumps({membership.SESSION_KEY: {room_id: role}})}"

    return mint


def open_rooms(target: Target, count: int) -> list[tuple[str, str]]:
    """Start `count` rooms with fresh terms, as a counsellor does; return (room id, moderator
    cookie) of each room that opened."""

    def open_one(_: int) -> tuple[str, str] | None:
        connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
            cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
            if token is None:
                return None
            terms = {"name": "bench", "location": "load", "word": secrets.token_hex(8),
                     "csrf_token": token.group(1)}
            connection.request("POST", "/start", urllib.parse.urlencode(terms), headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            location = response.getheader("Location") or ""
            moderator = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
            if response.status != HTTPStatus.SEE_OTHER or "/r/" not in location:
                return None
            return location.rsplit("/", 1)[-1], moderator
        except OSError:
            return None
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(OPEN_ROOM_THREADS) as pool:
        return [room for room in pool.map(open_one, range(count)) if room is not None]


# ---------------------------------------------------------------------------------------------
# The load


def sdp_filler(rng: random.Random, size: int = 64 * 1024) -> str:
    """SDP-looking text (numbers vary, as in real offers) to slice message bodies from."""
    lines: list[str] = []
    length = 0
    while length < size:
        pick = rng.random()
        if pick < 0.3:
            line = (
                f"a=candidate:{rng.getrandbits(32)} 1 udp {rng.getrandbits(31)} "
                f"192.168.{rng.randrange(256)}.{rng.randrange(256)} {rng.randrange(1024, 65535)} "
                f"typ host generation 0 ufrag {secrets.token_hex(2)} network-id 1"
            )
        elif pick < 0.5:
            line = f"a=ssrc:{rng.getrandbits(32)} cname:{secrets.token_urlsafe(12)}"
        elif pick < 0.7:
            pt = rng.randrange(96, 128)
            line = f"a=rtpmap:{pt} VP8/90000\r\na=rtcp-fb:{pt} nack pli\r\na=rtcp-fb:{pt} goog-remb"
        elif pick < 0.85:
            line = (f"a=fmtp:{rng.randrange(96, 128)} level-asymmetry-allowed=1;"
                    f"packetization-mode=1;profile-level-id=42e01f")
        else:
            digest = ":".join(f"{rng.randrange(256):02X}" for _ in range(32))
            line = f"a=fingerprint:sha-256 {digest}"
        lines.append(line)
        length += len(line) + 2
    return "\r\n".join(lines) + "\r\n"


class Participant:
    __slots__ = ("ws", "me", "partner", "seq", "sent", "received", "last_seq", "out_of_order",
                 "send_failures")

    def __init__(self, ws: ClientConnection, me: str) -> None:
        self.ws = ws
        self.me = me
        self.partner = ""
        self.seq = 0
        self.sent = 0
        self.received = 0
        self.last_seq = 0
        self.out_of_order = 0
        self.send_failures = 0


@dataclass
class Load:
    """Everything one run observes on the client side."""

    rng: random.Random
    filler: str
    participants: list[Participant] = field(default_factory=list)
    steady_ms: list[float] = field(default_factory=list)
    burst_ms: list[float] = field(default_factory=list)
    frame_bytes: int = 0
    frames: int = 0
    misrouted: int = 0
    error_frames: dict[str, int] = field(default_factory=dict)
    peer_left: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # close code/reason before the end
    connect_failures: dict[str, int] = field(default_factory=dict)
    closing: bool = False

    def sent(self) -> int:
        return sum(p.sent for p in self.participants)

    def received(self) -> int:
        return sum(p.received for p in self.participants)


def count(table: dict[str, int], key: str) -> None:
    table[key] = table.get(key, 0) + 1


async def send_signal(load: Load, peer: Participant, phase: str) -> None:
    if load.rng.random() < SMALL_SHARE:
        target = SMALL_FRAME_BYTES
    else:
        target = load.rng.randint(*LARGE_FRAME_BYTES)
    body = max(0, int((target - 140) / 1.03))  # envelope and \r\n escapes
    start = load.rng.randrange(0, len(load.filler) - body)
    peer.seq += 1
    sdp = f"bench {peer.seq} {time.perf_counter_ns()} {phase}\n" + load.filler[start:start + body]
    text = json.dumps({
        "type": "signal", "to": peer.partner,
        "data": {"description": {"type": "offer", "sdp": sdp}},
    })
    try:
        await peer.ws.send(text)
    except ConnectionClosed:
        peer.send_failures += 1
        return
    peer.sent += 1
    load.frames += 1
    load.frame_bytes += len(text)


async def read_frames(load: Load, peer: Participant) -> None:
    """Record every signal's latency; count anything unexpected."""
    try:
        async for raw in peer.ws:
            now = time.perf_counter_ns()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "signal":
                sdp = message["data"]["description"]["sdp"]
                _, seq_text, sent_text, phase = sdp[:sdp.index("\n")].split()
                latency = (now - int(sent_text)) / 1e6
                (load.burst_ms if phase == "b" else load.steady_ms).append(latency)
                seq = int(seq_text)
                peer.received += 1
                if seq <= peer.last_seq:
                    peer.out_of_order += 1
                peer.last_seq = seq
                if message.get("from") != peer.partner:
                    load.misrouted += 1
            elif kind == "error":
                count(load.error_frames, str(message.get("code")))
            elif kind == "peer-left":
                load.peer_left += 1
            elif kind == "peer-joined":
                peer.partner = message["peer"]
    except ConnectionClosed:
        pass
    finally:
        if not load.closing:
            count(load.dropped, f"{peer.ws.close_code} {peer.ws.close_reason or ''}".strip())


async def next_of(ws: ClientConnection, kind: str, timeout: float = 20.0) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message.get("type") == kind:
            return message


async def join_room(
    load: Load, target: Target, room: tuple[str, str, str], gate: asyncio.Semaphore,
    readers: list[asyncio.Task[None]],
) -> None:
    room_id, moderator_cookie, client_cookie = room
    uri = target.url.replace("http://", "ws://") + f"/ws/{room_id}"

    async def open_socket(cookie: str) -> ClientConnection:
        return await connect(
            uri, origin=target.url, additional_headers={"Cookie": cookie}, proxy=None,
            open_timeout=30, ping_interval=None, max_size=1 << 20, close_timeout=5,
        )

    async with gate:
        sockets: list[ClientConnection] = []
        try:
            a = await open_socket(moderator_cookie)
            sockets.append(a)
            welcome_a = await next_of(a, "welcome")
            b = await open_socket(client_cookie)
            sockets.append(b)
            welcome_b = await next_of(b, "welcome")
            joined = await next_of(a, "peer-joined")
        except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
            count(load.connect_failures, type(error).__name__ + (
                f" {error}" if isinstance(error, websockets.InvalidStatus) else ""))
            for ws in sockets:
                ws.transport.abort()
            return
    first, second = Participant(a, welcome_a["self"]), Participant(b, welcome_b["self"])
    first.partner, second.partner = joined["peer"], welcome_a["self"]
    if welcome_b["peers"] != [first.me] or joined["peer"] != second.me:
        load.misrouted += 1
    for peer in (first, second):
        load.participants.append(peer)
        readers.append(asyncio.create_task(read_frames(load, peer)))


async def steady_sender(load: Load, peer: Participant, start: float, end: float) -> None:
    loop = asyncio.get_running_loop()
    when = start + load.rng.uniform(0, SEND_INTERVAL_SECONDS)
    while when < end:
        await asyncio.sleep(max(0.0, when - loop.time()))
        await send_signal(load, peer, "s")
        when += SEND_INTERVAL_SECONDS


async def burst_sender(load: Load, peer: Participant) -> None:
    for _ in range(BURST_MESSAGES):
        await send_signal(load, peer, "b")
        await asyncio.sleep(0)  # let this process read while it sends: one client, many sockets


async def drained(load: Load, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if load.received() >= load.sent():
            return True
        await asyncio.sleep(0.01)
    return load.received() >= load.sent()


@dataclass
class Marks:
    """Monotonic times, server CPU ticks and client CPU seconds at the phase boundaries."""

    times: dict[str, float] = field(default_factory=dict)
    ticks: dict[str, int] = field(default_factory=dict)
    client: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, target: Target) -> None:
        self.times[name] = time.monotonic()
        self.ticks[name] = cpu_ticks(target.worker_pids())
        self.client[name] = client_cpu_seconds()

    def seconds(self, start: str, end: str) -> float:
        return self.times[end] - self.times[start]

    def cpu_pct(self, start: str, end: str) -> float:
        cpu_seconds = (self.ticks[end] - self.ticks[start]) / CLOCK_TICKS_PER_SECOND
        return 100 * cpu_seconds / self.seconds(start, end)

    def client_pct(self, start: str, end: str) -> float:
        return 100 * (self.client[end] - self.client[start]) / self.seconds(start, end)


async def drive(
    load: Load, target: Target, rooms: list[tuple[str, str, str]], seconds: float, marks: Marks,
    poller: HealthPoller,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    readers: list[asyncio.Task[None]] = []
    marks.mark("connect", target)
    await asyncio.gather(*(join_room(load, target, room, gate, readers) for room in rooms))
    marks.mark("steady", target)
    start = loop.time()
    await asyncio.gather(*(
        steady_sender(load, peer, start, start + seconds) for peer in load.participants
    ))
    steady_drained = await drained(load, STEADY_DRAIN_SECONDS)
    marks.mark("burst", target)
    poller.poke()  # a /healthz request in flight while the burst lands
    await asyncio.gather(*(burst_sender(load, peer) for peer in load.participants))
    marks.mark("burst_sent", target)
    burst_drained = await drained(load, BURST_DRAIN_SECONDS)
    marks.mark("end", target)
    rss = memory_mb(target.worker_pids(), "VmRSS")
    peak = memory_mb(target.worker_pids(), "VmHWM")
    load.closing = True
    closes = [asyncio.create_task(peer.ws.close()) for peer in load.participants]
    if closes:
        await asyncio.wait(closes, timeout=CLOSE_SECONDS)
    for peer in load.participants:
        peer.ws.transport.abort()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, *closes, return_exceptions=True)
    return {"rss": rss, "peak": peak, "steady_drained": steady_drained,
            "burst_drained": burst_drained}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_load(
    target: Target, clients: int, seconds: float, mint: Callable[[str, str], str], prefix: str,
) -> dict[str, Any]:
    """Drive one server with `clients` participants; print and return the figures."""
    rng = random.Random(clients)
    open_started = time.monotonic()
    if target.opens_rooms:
        opened = open_rooms(target, clients // 2)
    else:
        opened = [(room_id, mint(room_id, "moderator"))
                  for room_id in (new_room_id() for _ in range(clients // 2))]
    open_failures = clients // 2 - len(opened)
    open_seconds = time.monotonic() - open_started
    rooms = [(room_id, moderator, mint(room_id, "client")) for room_id, moderator in opened]
    pids_before = target.worker_pids()
    log_before = len(target.log())
    poller = HealthPoller(target.port)
    poller.start()
    load = Load(rng, sdp_filler(rng))
    marks = Marks()
    try:
        extra = run_async(drive(load, target, rooms, seconds, marks, poller))
    finally:
        poller.finish()
    pids_after = target.worker_pids()
    new_log = target.log()[log_before:]
    problems = [line for line in new_log.splitlines()
                if any(marker in line for marker in PROBLEM_MARKERS)]

    sent, received = load.sent(), load.received()
    msg_ticks = marks.ticks["end"] - marks.ticks["steady"]
    all_health, all_failed = poller.between(marks.times["connect"], marks.times["end"])
    burst_health, burst_failed = poller.between(marks.times["burst"], marks.times["end"])
    steady_health, _ = poller.between(marks.times["steady"], marks.times["burst"])
    figures: dict[str, Any] = {
        "clients": clients,
        "connected": len(load.participants),
        "connect_failures": sum(load.connect_failures.values()),
        "open_room_failures": open_failures,
        "open_rooms_s": round(open_seconds, 1),
        "connect_s": round(marks.seconds("connect", "steady"), 1),
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "send_failures": sum(p.send_failures for p in load.participants),
        "out_of_order": sum(p.out_of_order for p in load.participants),
        "misrouted": load.misrouted,
        "error_frames": sum(load.error_frames.values()),
        "dropped_connections": sum(load.dropped.values()),
        "mean_frame_bytes": round(load.frame_bytes / max(1, load.frames)),
        "p50_ms": round(percentile(load.steady_ms, 0.50), 2),
        "p99_ms": round(percentile(load.steady_ms, 0.99), 2),
        "max_ms": round(max(load.steady_ms, default=float("nan")), 1),
        "burst_p50_ms": round(percentile(load.burst_ms, 0.50), 1),
        "burst_p99_ms": round(percentile(load.burst_ms, 0.99), 1),
        "burst_max_ms": round(max(load.burst_ms, default=float("nan")), 1),
        "all_p99_ms": round(percentile(load.steady_ms + load.burst_ms, 0.99), 1),
        "burst_send_ms": round(1000 * marks.seconds("burst", "burst_sent")),
        "burst_drain_ms": round(1000 * marks.seconds("burst", "end")),
        "cpu_pct": round(marks.cpu_pct("steady", "burst"), 1),
        "cpu_pct_with_burst": round(marks.cpu_pct("steady", "end"), 1),
        "cpu_burst_pct": round(marks.cpu_pct("burst", "end"), 1),
        "cpu_connect_pct": round(marks.cpu_pct("connect", "steady"), 1),
        "cpu_us_per_msg": round(1e6 * msg_ticks / CLOCK_TICKS_PER_SECOND / max(1, received), 1),
        "rss_mb": round(extra["rss"], 1),
        "rss_peak_mb": round(extra["peak"], 1),
        "healthz_max_ms": round(max(all_health, default=float("nan")), 1),
        "healthz_p99_ms": round(percentile(all_health, 0.99), 1),
        "healthz_steady_max_ms": round(max(steady_health, default=float("nan")), 1),
        "healthz_burst_max_ms": round(max(burst_health, default=float("nan")), 1),
        "healthz_failures": all_failed,
        "healthz_burst_failures": burst_failed,
        "client_cpu_pct": round(marks.client_pct("steady", "burst"), 1),
        "client_cpu_burst_pct": round(marks.client_pct("burst", "end"), 1),
        "worker_restarts": int(pids_before != pids_after),
        "server_log_problems": len(problems),
    }
    for name, value in figures.items():
        print(f"{prefix}_{name}: {value}", flush=True)
    details = {
        "connect_failures": load.connect_failures, "error_frames": load.error_frames,
        "dropped_connections": load.dropped,
    }
    for name, table in details.items():
        if table:
            print(f"{prefix}_{name}_detail: {json.dumps(table, sort_keys=True)}", flush=True)
    if not extra["steady_drained"] or not extra["burst_drained"]:
        print(f"# {prefix}: not every message arrived within the drain time "
              f"(steady {extra['steady_drained']}, burst {extra['burst_drained']})",
              file=sys.stderr)
    for line in problems[:10]:
        print(f"# {prefix} server log: {line}", file=sys.stderr)
    return figures


def run_async(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


# ---------------------------------------------------------------------------------------------


def goal(met: bool, shown: Any) -> str:
    return f"{'met' if met else 'MISSED'} ({shown})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 2000])
    parser.add_argument("--seconds", type=float, default=20.0, help="steady phase per run")
    parser.add_argument("--reference-clients", type=int, default=None,
                        help="N for the websockets reference (default: the smallest --clients;"
                             " 0: skip it)")
    parser.add_argument("--serve-reference", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_clients is None:
        args.reference_clients = min(args.clients)
    if args.serve_reference:
        serve_reference(args.serve_reference)
        return 0
    if any(n < 2 or n % 2 for n in args.clients + [args.reference_clients or 2]):
        parser.error("client counts must be even: rooms of two")

    def give_up(signum: int, _frame: Any) -> None:
        raise SystemExit(f"signaling_load: stopped by signal {signum}")

    signal.signal(signal.SIGTERM, give_up)
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(TIME_LIMIT_SECONDS)
    print(f"fd_limit: {raise_fd_limit()}", flush=True)
    mint = cookie_minter()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="signaling-load-") as tmp:
        workdir = Path(tmp)
        for clients in args.clients:
            target = start_ours(workdir)
            try:
                results[f"n{clients}"] = run_load(target, clients, args.seconds, mint,
                                                  f"n{clients}")
            finally:
                target.stop()
        if args.reference_clients:
            target = start_reference(workdir)
            try:
                results["ref"] = run_load(target, args.reference_clients, args.seconds, mint,
                                          f"reference_n{args.reference_clients}")
            finally:
                target.stop()
    signal.alarm(0)

    ratio = float("nan")
    ours = results.get(f"n{args.reference_clients}")
    if ours and "ref" in results:
        ratio = ours["cpu_us_per_msg"] / max(1e-9, results["ref"]["cpu_us_per_msg"])
        print(f"cpu_per_msg_ratio_vs_websockets_n{args.reference_clients}: {ratio:.2f}")
    n = 1000 if "n1000" in results else args.clients[0]
    first = results[f"n{n}"]
    burst_health_ok = first["healthz_burst_max_ms"] <= 1000 and not first["healthz_burst_failures"]
    print(f"goal_n{n}_all_connected: {goal(first['connected'] == n, first['connected'])}")
    print(f"goal_n{n}_zero_lost: {goal(first['lost'] == 0, first['lost'])}")
    print(f"goal_n{n}_p99_le_20ms: {goal(first['p99_ms'] <= 20, first['p99_ms'])}")
    print(f"goal_n{n}_rss_le_200mb: {goal(first['rss_peak_mb'] <= 200, first['rss_peak_mb'])}")
    print(f"goal_n{n}_healthz_le_1s_during_burst: "
          f"{goal(burst_health_ok, first['healthz_burst_max_ms'])}")
    print(f"headline_n{n}_p99_ms_and_cpu_ratio_vs_websockets: {first['p99_ms']} ms, {ratio:.2f}x",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
