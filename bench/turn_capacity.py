"""Highest zero-loss message rate: coturn, and the bundled server with 1 and 2 workers.

Run inside a loopback-only namespace: ``sh scripts/run-in-netns.sh .venv/bin/python
bench/turn_capacity.py``. All servers run for the whole benchmark; each step of the ramp
(``turnutils_uclient`` sessions of 500 100-byte ChannelData messages/s through coturn's echo
peer) runs against each server in turn, so machine noise hits them alike. A server leaves the
ramp at its first step with any loss; the ramp ends when no server delivers 5 % more than at
the step before (the load generator's own limit). coturn runs with its default relay threads
(one per core), as an operator would run it, and with one relay thread (as in
turn_vs_coturn.py) beside one worker of ours. The load generator and the echo peer share the
machine's cores with the servers: the figures are what this machine relays, not what a server
would on cores of its own.

Prints ``name: value`` lines; the last ones are the capacities and their ratios to coturn's.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.turn_vs_coturn import (  # noqa: E402
    PACED_INTERVAL_MS,
    Load,
    run_load,
    start_coturn,
    start_ours,
)
from tests.live import free_port  # noqa: E402

MESSAGES_PER_SESSION_PER_SECOND = 1000 // PACED_INTERVAL_MS
STEP_SESSIONS = (50, 100, 150, 200, 300, 400)
# The ramp goes on while some server delivers this much more than at the step before.
GROWTH = 1.05
PAYLOAD_BYTES = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="sending time per step")
    options = parser.parse_args()
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="turncapacity-") as tmp:
        peer_port = free_port()
        peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes = [peer]
        try:
            servers: dict[str, tuple[int, int]] = {}
            for name, start in (
                ("coturn", lambda port: start_coturn(Path(tmp), port, relay_threads=None)),
                ("coturn_1_thread", lambda port: start_coturn(Path(tmp), port)),
                ("ours_1_worker", lambda port: start_ours(port, workers=1)),
                ("ours_2_workers", lambda port: start_ours(port, workers=2)),
            ):
                port = free_port()
                process = start(port)
                processes.append(process)
                servers[name] = (port, process.pid)
                best[name] = 0.0
            active = set(servers)
            previous: dict[str, float] = {}
            for step, sessions in enumerate(STEP_SESSIONS):
                offered = sessions * MESSAGES_PER_SESSION_PER_SECOND
                load = Load(f"step_{offered}", [], sessions, PACED_INTERVAL_MS, PAYLOAD_BYTES)
                for name, (port, pid) in servers.items():
                    if name not in active:
                        continue
                    # A fresh source address per step: no 437 from the allocations that
                    # earlier steps left behind on the same 5-tuples.
                    result = run_load(load, port, pid, peer_port, options.seconds,
                                      local_ip=f"127.0.1.{step + 1}")
                    print(f"capacity.{load.name}.{name}.msgs_per_s: "
                          f"{result.rate_per_second:.0f}")
                    print(f"capacity.{load.name}.{name}.loss_percent: "
                          f"{result.loss_percent:.3f}")
                    print(f"capacity.{load.name}.{name}.other_cpu_percent: "
                          f"{result.other_cpu_percent:.1f}")
                    sys.stdout.flush()
                    if result.loss_percent == 0.0:
                        best[name] = max(best[name], result.rate_per_second)
                    else:
                        active.discard(name)
                growing = {name for name in active
                           if best[name] > GROWTH * previous.get(name, 0.0)}
                previous = dict(best)
                if not growing:
                    break
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
    for name, rate in best.items():
        print(f"capacity.{name}.zero_loss_msgs_per_s: {rate:.0f}")
    if best.get("coturn_1_thread"):
        ratio = best["ours_1_worker"] / best["coturn_1_thread"]
        print(f"capacity_ratio_ours_1_worker_over_coturn_1_thread: {ratio:.2f}")
    if best.get("coturn"):
        for name in ("ours_1_worker", "ours_2_workers"):
            print(f"capacity_ratio_{name}_over_coturn: {best[name] / best['coturn']:.2f}")


if __name__ == "__main__":
    main()
