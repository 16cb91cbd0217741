"""Run a private Janus (Debian `janus`, videoroom plugin) and drive it over its HTTP API.

Used by bench/relay_cpu.py as the reference SFU. Janus runs as a subprocess with its own
config folder in a temp dir (the Debian package's auto-start service is never touched):
only the videoroom plugin and the HTTP transport, HTTP on 127.0.0.1, ICE on "lo" only.
Janus never gathers loopback candidates, so the process gets an LD_PRELOAD shim
(bench/janus/loopback_ifaddrs.c, compiled here with `cc`) that hides the loopback flag.
The HTTP client follows aiortc's examples/janus/janus.py, on plain asyncio streams so that
the bench needs no extra package. Not a benchmark itself: it has no `__main__`.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.live import free_port

JANUS_BIN = "/usr/bin/janus"
SHIM_SOURCE = Path(__file__).with_name("janus") / "loopback_ifaddrs.c"
START_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 20.0


class JanusUnavailable(RuntimeError):
    """Janus cannot run here; the message says why (printed as `janus: not measured (...)`)."""


def janus_lib_dir() -> Path:
    """The Debian package's module folder (multiarch path, e.g. /usr/lib/x86_64-linux-gnu/janus)."""
    if not os.access(JANUS_BIN, os.X_OK):
        raise JanusUnavailable(f"{JANUS_BIN} missing: apt-get install janus")
    found = glob.glob("/usr/lib/*/janus/plugins/libjanus_videoroom.so")
    if not found:
        raise JanusUnavailable("the janus videoroom plugin is missing")
    return Path(found[0]).parent.parent


def build_shim(workdir: Path) -> Path:
    """Compile the getifaddrs shim; it is tiny, so building per run beats shipping a binary."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise JanusUnavailable("no C compiler for the loopback shim: apt-get install gcc")
    target = workdir / "loopback_ifaddrs.so"
    result = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(target), str(SHIM_SOURCE), "-ldl"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise JanusUnavailable(f"loopback shim did not build: {result.stderr.strip()[:200]}")
    return target


def modules_except(folder: Path, keep: str) -> str:
    """Comma list of every module in `folder` but `keep`, for a jcfg `disable` directive."""
    names = sorted(p.name for p in folder.glob("*.so") if p.name != keep)
    return ",".join(names)


def write_config(confdir: Path, lib: Path, http_port: int) -> Path:
    """Write janus.jcfg plus the HTTP and videoroom configs; return janus.jcfg's path.

    - `interface` and `ice_enforce_list` keep media on 127.0.0.1 (with the shim).
    - No rooms in the videoroom config: the bench creates its own with `bitrate = 0` and
      `fir_freq = 0` (the Debian demo room caps video at 128 kbit/s and asks for periodic
      keyframes, which our relay does not do).
    - Events and loggers stay off; `session_timeout = 0` since the bench long-polls anyway.
    """
    janus = f"""general: {{
    configs_folder = "{confdir}"
    plugins_folder = "{lib / 'plugins'}"
    transports_folder = "{lib / 'transports'}"
    events_folder = "{lib / 'events'}"
    loggers_folder = "{lib / 'loggers'}"
    debug_level = 3
    interface = "127.0.0.1"
    session_timeout = 0
    server_name = "praatbox-bench"
}}
media: {{
    ipv6 = false
}}
nat: {{
    nice_debug = false
    ice_enforce_list = "lo"
    ignore_mdns = true
}}
plugins: {{
    disable = "{modules_except(lib / 'plugins', 'libjanus_videoroom.so')}"
}}
transports: {{
    disable = "{modules_except(lib / 'transports', 'libjanus_http.so')}"
}}
loggers: {{
    disable = "{modules_except(lib / 'loggers', '')}"
}}
events: {{
    broadcast = false
}}
"""
    http = f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {http_port}
    ip = "127.0.0.1"
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
"""
    (confdir / "janus.jcfg").write_text(janus)
    (confdir / "janus.transport.http.jcfg").write_text(http)
    (confdir / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    return confdir / "janus.jcfg"


async def http_json(
    method: str, host: str, port: int, path: str, body: dict[str, Any] | None = None
) -> Any:
    """One HTTP/1.0 request: Janus then answers unchunked and closes, so read to EOF."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    header, _, content = raw.partition(b"\r\n\r\n")
    status = header.split(b" ", 2)[1] if header.startswith(b"HTTP/") else b"?"
    if status != b"200":
        raise RuntimeError(f"janus HTTP {method} {path}: status {status.decode()}")
    return json.loads(content)


class JanusSession:
    """One Janus API session (like one browser tab): handles, requests, a long-poll loop.

    Asynchronous plugin requests are acked on the POST and answered later on the long poll;
    the poll loop hands each event to the request waiting on its transaction.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.path = ""
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.poll_task: asyncio.Task[None] | None = None

    async def post(self, path: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send one API message with a fresh transaction; return Janus's immediate reply."""
        message = {**message, "transaction": secrets.token_hex(6)}
        reply: dict[str, Any] = await http_json("POST", "127.0.0.1", self.port, path, message)
        if reply.get("janus") == "error":
            raise RuntimeError(f"janus error: {reply.get('error')}")
        return reply

    async def create(self) -> None:
        reply = await self.post("/janus", {"janus": "create"})
        self.path = f"/janus/{reply['data']['id']}"
        self.poll_task = asyncio.ensure_future(self.poll())

    async def attach(self, plugin: str = "janus.plugin.videoroom") -> JanusHandle:
        reply = await self.post(self.path, {"janus": "attach", "plugin": plugin})
        return JanusHandle(self, f"{self.path}/{reply['data']['id']}")

    async def poll(self) -> None:
        """Long-poll events forever; route the ones that answer a pending transaction.

        If polling fails, the pending requests fail with it instead of waiting for a timeout.
        """
        try:
            while True:
                events = await http_json("GET", "127.0.0.1", self.port, f"{self.path}?maxev=10")
                for event in events if isinstance(events, list) else [events]:
                    future = self.waiting.pop(event.get("transaction", ""), None)
                    if future is not None and not future.done():
                        future.set_result(event)
        except (OSError, RuntimeError, ValueError) as error:
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(RuntimeError(f"janus long poll failed: {error}"))
            self.waiting.clear()

    async def destroy(self) -> None:
        if self.poll_task is not None:
            self.poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poll_task
        if self.path:
            with contextlib.suppress(OSError, RuntimeError):
                await self.post(self.path, {"janus": "destroy"})


class JanusHandle:
    """One plugin handle; `request` for synchronous videoroom requests, `message` for async."""

    def __init__(self, session: JanusSession, path: str) -> None:
        self.session, self.path = session, path

    async def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous request (e.g. `create`): the plugin's data comes in the reply."""
        reply = await self.session.post(self.path, {"janus": "message", "body": body})
        return plugin_data(reply)

    async def message(
        self, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An asynchronous request (join, configure, start): wait for its event on the poll."""
        message: dict[str, Any] = {"janus": "message", "body": body,
                                   "transaction": secrets.token_hex(6)}
        if jsep is not None:
            message["jsep"] = jsep
        future = asyncio.get_running_loop().create_future()
        self.session.waiting[message["transaction"]] = future
        reply = await http_json("POST", "127.0.0.1", self.session.port, self.path, message)
        if reply.get("janus") != "ack":
            self.session.waiting.pop(message["transaction"], None)
            raise RuntimeError(f"janus did not ack {body.get('request')}: {reply}")
        event = await asyncio.wait_for(future, REQUEST_TIMEOUT_S)
        plugin_data(event)
        return event


def plugin_data(reply: dict[str, Any]) -> dict[str, Any]:
    """The videoroom's answer inside a Janus reply; raise on a videoroom error."""
    data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
    if "error" in data or reply.get("janus") == "error":
        raise RuntimeError(f"videoroom error: {data.get('error') or reply.get('error')}")
    return data


class JanusProcess:
    """A private Janus instance; `async with JanusProcess() as janus:` starts and stops it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / "janus.log"

    async def __aenter__(self) -> JanusProcess:
        lib = janus_lib_dir()
        shim = build_shim(self.workdir)
        config = write_config(self.workdir, lib, self.port)
        env = dict(os.environ, LD_PRELOAD=str(shim))
        self.process = await asyncio.create_subprocess_exec(
            JANUS_BIN, "--config", str(config), "--configs-folder", str(self.workdir),
            "--disable-stdout", "--disable-colors", "--log-file", str(self.log_path),
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await self.wait_ready()
        except BaseException:
            await self.stop()
            raise
        return self

    async def wait_ready(self) -> None:
        """Janus loads its modules before HTTP answers; `info` then lists the plugin."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise JanusUnavailable(f"janus exited at start: {self.log_tail()}")
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                info = await http_json("POST", "127.0.0.1", self.port, "/janus",
                                       {"janus": "info", "transaction": "ready"})
                if "janus.plugin.videoroom" in info.get("plugins", {}):
                    return
            await asyncio.sleep(0.2)
        raise JanusUnavailable(f"janus not ready in {START_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:])
        return "no log"

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """TERM, then KILL if Janus has not finished its clean shutdown in 10 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()



async def create_room(handle: JanusHandle, room: int, publishers: int) -> None:
    """A bench room: no bitrate cap, no periodic keyframe requests, VP8 + Opus only."""
    await handle.request({
        "request": "create", "room": room, "publishers": publishers, "bitrate": 0,
        "fir_freq": 0, "videocodec": "vp8", "audiocodec": "opus", "permanent": False,
    })


async def publish(
    handle: JanusHandle, room: int, display: str, offer: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Join as publisher and send the offer; return the feed id and Janus's answer."""
    joined = await handle.message({"request": "join", "ptype": "publisher", "room": room,
                                   "display": display})
    feed = int(plugin_data(joined)["id"])
    configured = await handle.message({"request": "configure"}, jsep=offer)
    return feed, configured["jsep"]


async def subscribe(handle: JanusHandle, room: int, feeds: list[int]) -> dict[str, Any]:
    """Subscribe to every feed on one PeerConnection (Janus 1.x multistream); return the offer."""
    attached = await handle.message({"request": "join", "ptype": "subscriber", "room": room,
                                     "streams": [{"feed": feed} for feed in feeds]})
    offer: dict[str, Any] = attached["jsep"]
    return offer


async def start(handle: JanusHandle, answer: dict[str, Any]) -> None:
    """Answer the subscriber offer; Janus starts forwarding once ICE/DTLS are up."""
    await handle.message({"request": "start"}, jsep=answer)
