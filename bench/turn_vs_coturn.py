"""Bundled TURN server vs coturn under identical turnutils_uclient loads, interleaved.

Run inside a loopback-only namespace: ``sh scripts/run-in-netns.sh .venv/bin/python
bench/turn_vs_coturn.py``. Both servers run for the whole benchmark; each load runs against
coturn, then ours, so machine noise hits both alike. Server CPU comes from /proc/PID/stat.
Prints ``name: value`` lines; the last is the headline ratio (ours / coturn, CPU per message).
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.proc import (  # noqa: E402
    CLOCK_TICKS_PER_SECOND,
    child_pids,
    cpu_ticks,
    machine_busy_ticks,
)
from tests.live import free_port  # noqa: E402

SECRET = "bench-secret"
REALM = "praatbox"
SESSIONS = 50
PACED_INTERVAL_MS = 2  # 50 sessions x one message per 2 ms = 25,000 messages/s


@dataclass
class Load:
    name: str
    flags: list[str]
    sessions: int
    interval_ms: int
    length: int


LOADS = [
    Load("udp_channel_100B", [], SESSIONS, PACED_INTERVAL_MS, 100),
    Load("udp_channel_1000B", [], SESSIONS, PACED_INTERVAL_MS, 1000),
    Load("udp_send_100B", ["-s"], SESSIONS, PACED_INTERVAL_MS, 100),
    Load("udp_send_1000B", ["-s"], SESSIONS, PACED_INTERVAL_MS, 1000),
    Load("tcp_channel_100B", ["-t"], SESSIONS, PACED_INTERVAL_MS, 100),
    Load("tcp_channel_1000B", ["-t"], SESSIONS, PACED_INTERVAL_MS, 1000),
    Load("udp_channel_1_session_unpaced", [], 1, 0, 100),
]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def start_coturn(workdir: Path, port: int,
                 relay_threads: int | None = 0) -> subprocess.Popen[bytes]:
    """coturn with the same credentials; one relay thread unless ``relay_threads`` is None
    (coturn's default: a thread per core)."""
    config = workdir / f"turnserver-{port}.conf"
    threads = [] if relay_threads is None else [f"relay-threads={relay_threads}"]
    config.write_text(
        "\n".join(
            [
                "listening-ip=127.0.0.1", f"listening-port={port}", "relay-ip=127.0.0.1",
                "min-port=40000", "max-port=44999", "use-auth-secret",
                f"static-auth-secret={SECRET}", f"realm={REALM}", "allow-loopback-peers",
                "no-tls", "no-dtls", "no-cli", *threads, "no-software-attribute",
                f"log-file={workdir / f'coturn-{port}.log'}",
                f"pidfile={workdir / f'coturn-{port}.pid'}",
                f"userdb={workdir / f'coturn-{port}.db'}", "simple-log", "no-stdout-log",
                "no-rfc5780",
            ]
        )
        + "\n"
    )
    process = subprocess.Popen(["turnserver", "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return process


def start_ours(port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        PRAATBOX_TURN_SECRET=SECRET, PRAATBOX_TURN_LISTEN=f"127.0.0.1:{port}",
        PRAATBOX_TURN_RELAY_PORTS="45000-49999", PRAATBOX_TURN_ALLOWED_PEERS="127.0.0.0/8",
        # coturn has no quotas by default, and turnutils_uclient leaves its UDP allocations
        # to expire: without these, later loads (all from 127.0.0.1) would hit 486/508.
        PRAATBOX_TURN_REALM=REALM, PRAATBOX_TURN_USER_QUOTA="100000",
        PRAATBOX_TURN_TOTAL_QUOTA="100000", PRAATBOX_TURN_ADDRESS_QUOTA="100000",
        PRAATBOX_TURN_LOG_LEVEL="WARNING", PRAATBOX_TURN_WORKERS=str(workers),
        # Workers serve metrics on consecutive ports; the benchmark reads /proc instead.
        PRAATBOX_TURN_METRICS_LISTEN="none",
    )
    process = subprocess.Popen([sys.executable, "-m", "praatbox.turn"], env=env, cwd=ROOT)
    wait_port(port)
    return process


@dataclass
class Result:
    sent: int
    received: int
    loss_percent: float
    rate_per_second: float
    cpu_us_per_message: float
    other_cpu_percent: float


def run_load(load: Load, server_port: int, server_pid: int, peer_port: int,
             seconds: float, local_ip: str = "127.0.0.1") -> Result:
    """Run one turnutils_uclient load; server CPU is the process's and its workers'.

    turnutils_uclient leaves its UDP allocations to expire (10 min): a later load from the
    same ``local_ip`` may draw a source port that still has one, and get a 437.
    """
    per_session_rate = 1000 / load.interval_ms if load.interval_ms else 12500
    messages = max(100, int(per_session_rate * seconds))
    args = ["turnutils_uclient", "-c", *load.flags, "-W", SECRET, "-u", "bench",
            "-e", "127.0.0.1", "-r", str(peer_port), "-p", str(server_port),
            "-m", str(load.sessions), "-n", str(messages), "-l", str(load.length),
            "-z", str(load.interval_ms), "-L", local_ip, "127.0.0.1"]
    # New sessions all come from one address, whose 401 challenges the reply budget paces at
    # 20/s after a burst of 40 (docs/turn.md, Limits): hundreds of sessions take a while to
    # allocate with this server (coturn has no such budget).
    timeout = seconds + 60 + load.sessions / 2
    server_pids = [server_pid, *child_pids(server_pid)]
    before_cpu, before_busy, started = cpu_ticks(server_pids), machine_busy_ticks(), time.time()
    client = subprocess.Popen(["timeout", "-k", "5", str(int(timeout)), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = client.communicate()
    elapsed = time.time() - started
    server_cpu = cpu_ticks(server_pids) - before_cpu
    busy = machine_busy_ticks() - before_busy
    client_ticks = _children_ticks()
    sent = received = 0
    progress = []
    for match in re.finditer(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output):
        sent, received = int(match.group(1)), int(match.group(2))
        progress.append(received)
    lost = re.search(r"Total lost packets (\d+) \(([\d.]+)%\)", output)
    if lost is None:
        print(f"{load.name}: turnutils_uclient failed:\n{output[-2000:]}", file=sys.stderr)
    loss = float(lost.group(2)) if lost else 100.0
    deltas = [b - a for a, b in zip(progress, progress[1:], strict=False)]
    windows = [sum(deltas[i : i + 3]) / 3 for i in range(max(1, len(deltas) - 2))]
    rate = max(windows) if deltas else 0.0
    other = max(0, busy - server_cpu - client_ticks) / CLOCK_TICKS_PER_SECOND / elapsed * 100
    per_message = server_cpu / CLOCK_TICKS_PER_SECOND * 1e6 / received if received else 0.0
    return Result(sent, received, loss, rate, per_message, other)


_last_children = [0]


def _children_ticks() -> int:
    """CPU of the finished turnutils_uclient (and timeout) since the last call."""
    times = os.times()
    total = int((times.children_user + times.children_system) * CLOCK_TICKS_PER_SECOND)
    delta, _last_children[0] = total - _last_children[0], total
    return delta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="sending time per load (use 20 for the long run)")
    parser.add_argument("--only", help="run only loads whose name contains this")
    parser.add_argument("--repeat", type=int, default=1,
                        help="pairs of runs per load (coturn, ours, coturn, ...); the ratio "
                        "is taken per pair and its median printed with the spread")
    options = parser.parse_args()
    loads = [load for load in LOADS if not options.only or options.only in load.name]
    with tempfile.TemporaryDirectory(prefix="turnbench-") as tmp:
        workdir = Path(tmp)
        coturn_port, ours_port, peer_port = free_port(), free_port(), free_port()
        peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        coturn = start_coturn(workdir, coturn_port)
        ours = start_ours(ours_port)
        servers = {"coturn": (coturn_port, coturn.pid), "ours": (ours_port, ours.pid)}
        ratios = {}
        try:
            _children_ticks()
            for load in loads:
                pair_ratios = []
                for _ in range(options.repeat):
                    results = {}
                    for name, (port, pid) in servers.items():
                        results[name] = result = run_load(load, port, pid, peer_port,
                                                          options.seconds)
                        prefix = f"{load.name}.{name}"
                        print(f"{prefix}.msgs_per_s: {result.rate_per_second:.0f}")
                        print(f"{prefix}.delivered: {result.received}/{result.sent}")
                        print(f"{prefix}.loss_percent: {result.loss_percent:.3f}")
                        print(f"{prefix}.cpu_us_per_msg: {result.cpu_us_per_message:.1f}")
                        print(f"{prefix}.other_cpu_percent: {result.other_cpu_percent:.1f}")
                        sys.stdout.flush()
                    if results["coturn"].cpu_us_per_message:
                        pair_ratios.append(results["ours"].cpu_us_per_message
                                           / results["coturn"].cpu_us_per_message)
                        print(f"{load.name}.pair_ratio: {pair_ratios[-1]:.2f}")
                if pair_ratios:
                    ratios[load.name] = ratio = statistics.median(pair_ratios)
                    print(f"{load.name}.cpu_ratio_ours_over_coturn: {ratio:.2f} "
                          f"(pairs {min(pair_ratios):.2f}-{max(pair_ratios):.2f})")
        finally:
            for process in (ours, coturn, peer):
                process.terminate()
            for process in (ours, coturn, peer):
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
        headline = "udp_channel_100B"
        if headline not in ratios and ratios:
            headline = next(iter(ratios))
        if headline in ratios:
            print(f"cpu_ratio_ours_over_coturn_{headline}: {ratios[headline]:.2f}")


if __name__ == "__main__":
    main()
