"""Soak: one web process, ~500 participants joining, talking and leaving in churn for minutes.

Shows whether the signaling server leaks: the gunicorn worker's RSS and open file descriptors
(/proc/PID/fd) are sampled every few seconds; "steady state" is the median of the samples in
minute 2 (after warm-up), "end" the median of the samples in the last minute, and the script
prints end/steady for both and whether each is within 5 %. It also prints the p99 forward latency
(send -> partner's receive, both in this process) of every minute.

Churn: `--participants`/2 slots each run rooms of two one after the other. A room is opened the
way a counsellor opens it (POST /start with fresh terms), both participants join over WebSocket
(session cookies minted with the app's serializer), each sends a `signal` to its partner every
2 s (75 % ~300 B, 25 % 2-10 KB of SDP-like text) for a random life of 20-60 s; then one of them
(chosen at random) leaves: it stops sending, waits for the partner's signals sent up to that
moment, sends `hangup` and closes. The partner keeps talking for another 0-3 s, then closes once
it has every signal the leaver sent. The slot opens its next room at once, so about
`--participants` are connected at any time.

Lost message: a signal sent by the leaver (all of them precede its hangup) that its partner did
not receive, or a signal the partner sent before the leaver began leaving that the leaver did not
receive. Signals the partner sent after that moment go to a partner that is leaving or gone and
are counted apart ("to_leaving_partner"), never as lost; once the leaver is gone the server
answers them with an `unknown-peer` error frame (printed under error_frames). Rooms of three are
not part of the churn.

Limits raised for the bench: the server runs with `tests.live.start_web`'s generous address
budgets (PRAATBOX_ROOMS_OPENED_LIMIT and PRAATBOX_TERM_LOOKUP_LIMIT at 10000 per interval),
because every room here is opened from one loopback address.

    sh scripts/run-in-netns.sh env PYTHONPATH=. nice -n 10 .venv/bin/python bench/soak.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.proc import memory_mb  # noqa: E402
from bench.signaling_load import (  # noqa: E402
    CONNECT_CONCURRENCY,
    PROBLEM_MARKERS,
    Load,
    Participant,
    Target,
    cookie_minter,
    count,
    join_room,
    open_rooms,
    percentile,
    raise_fd_limit,
    run_async,
    sdp_filler,
    start_ours,
    steady_sender,
)

ROOM_LIFE_SECONDS = (20.0, 60.0)
PARTNER_LINGER_SECONDS = (0.0, 3.0)
DRAIN_TIMEOUT_SECONDS = 10.0
MIN_ROOM_LIFE_SECONDS = 5.0
SAMPLE_INTERVAL_SECONDS = 5.0
STEADY_MINUTE = 2  # the median of this minute's samples is the steady state
TOLERANCE_SHARE = 0.05
SECONDS_PER_MINUTE = 60.0


@dataclass
class Soak:
    """What the churn observes beyond `Load`: lost and excused signals, samples, minute marks."""

    load: Load
    target: Target
    mint: Callable[[str, str], str]
    gate: asyncio.Semaphore
    lost: int = 0
    to_leaving_partner: int = 0
    to_leaving_delivered: int = 0
    rooms: int = 0
    connected: int = 0
    room_failures: int = 0
    samples: list[tuple[float, float, int, int]] = field(default_factory=list)  # t, MB, fds, n
    minute_marks: list[int] = field(default_factory=list)  # len(load.steady_ms) per minute


def open_fds(pids: list[int]) -> int:
    """Open file descriptors of the processes (entries of /proc/PID/fd)."""
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            continue
    return total


async def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def close(peer: Participant, reader: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(peer.ws.close(), DRAIN_TIMEOUT_SECONDS)
    except (asyncio.TimeoutError, ConnectionClosed):
        peer.ws.transport.abort()
    await asyncio.wait_for(asyncio.shield(reader), DRAIN_TIMEOUT_SECONDS)


async def one_room(soak: Soak, life: float) -> None:
    """Open a room, let two participants talk for `life` seconds, and let one of them leave."""
    load = soak.load
    opened = await asyncio.to_thread(open_rooms, soak.target, 1)
    if not opened:
        soak.room_failures += 1
        return
    room_id, moderator = opened[0]
    readers: list[asyncio.Task[None]] = []
    room = (room_id, moderator, soak.mint(room_id, "client"))
    await join_room(load, soak.target, room, soak.gate, readers)
    if len(readers) != 2:
        return
    soak.rooms += 1
    soak.connected += 2
    pair = load.participants[-2:]
    loop = asyncio.get_running_loop()
    start = loop.time()
    leaver_index = load.rng.randrange(2)
    leaver, stayer = pair[leaver_index], pair[1 - leaver_index]
    leaver_reader, stayer_reader = readers[leaver_index], readers[1 - leaver_index]
    linger = load.rng.uniform(*PARTNER_LINGER_SECONDS)
    stayer_talk = asyncio.create_task(steady_sender(load, stayer, start, start + life + linger))
    await steady_sender(load, leaver, start, start + life)

    due_to_leaver = stayer.sent
    await wait_until(lambda: leaver.received >= due_to_leaver, DRAIN_TIMEOUT_SECONDS)
    try:
        await leaver.ws.send(json.dumps({"type": "hangup"}))
    except ConnectionClosed:
        pass
    await close(leaver, leaver_reader)
    soak.connected -= 1
    await stayer_talk
    await wait_until(lambda: stayer.received >= leaver.sent, DRAIN_TIMEOUT_SECONDS)
    await close(stayer, stayer_reader)
    soak.connected -= 1

    soak.lost += max(0, leaver.sent - stayer.received) + max(0, due_to_leaver - leaver.received)
    soak.to_leaving_partner += stayer.sent - due_to_leaver
    soak.to_leaving_delivered += max(0, leaver.received - due_to_leaver)


async def slot(soak: Soak, deadline: float) -> None:
    """Rooms one after the other until the deadline; every room ends before it."""
    loop = asyncio.get_running_loop()
    first = True
    while True:
        life = soak.load.rng.uniform(*ROOM_LIFE_SECONDS)
        if first:  # spread the first ends so that leaving is churn from the start
            life = soak.load.rng.uniform(MIN_ROOM_LIFE_SECONDS, ROOM_LIFE_SECONDS[1])
            first = False
        life = min(life, deadline - loop.time())
        if life < MIN_ROOM_LIFE_SECONDS:
            return
        try:
            await one_room(soak, life)
        except Exception as error:  # noqa: BLE001 - counted and reported, the churn goes on
            count(soak.load.connect_failures, f"room: {type(error).__name__}")


async def sampler(soak: Soak, start: float, minutes: int) -> None:
    loop = asyncio.get_running_loop()
    next_minute = 1
    while (now := loop.time() - start) < minutes * SECONDS_PER_MINUTE:
        pids = soak.target.worker_pids()
        soak.samples.append((now, memory_mb(pids, "VmRSS"), open_fds(pids), soak.connected))
        while now >= next_minute * SECONDS_PER_MINUTE:
            soak.minute_marks.append(len(soak.load.steady_ms))
            next_minute += 1
        await asyncio.sleep(SAMPLE_INTERVAL_SECONDS)


async def churn(soak: Soak, participants: int, minutes: int) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    watch = asyncio.create_task(sampler(soak, start, minutes))
    await asyncio.gather(*(slot(soak, start + minutes * SECONDS_PER_MINUTE)
                           for _ in range(participants // 2)))
    watch.cancel()
    del soak.minute_marks[minutes - 1:]  # the last minute ends with the churn
    soak.minute_marks.append(len(soak.load.steady_ms))
    return loop.time() - start


def median_between(samples: list[tuple[float, float, int, int]], index: int, start: float,
                   end: float) -> float:
    chosen = [sample[index] for sample in samples if start <= sample[0] < end]
    return statistics.median(chosen) if chosen else float("nan")


def report(soak: Soak, minutes: int, seconds: float) -> bool:
    """Print every figure; return whether the soak met its goals."""
    load = soak.load
    sent, received = load.sent(), load.received()
    print(f"rooms: {soak.rooms}  room_open_or_join_failures: {soak.room_failures} "
          f"connect_failures: {sum(load.connect_failures.values())}")
    print(f"signals_sent: {sent}  received: {received}  lost: {soak.lost}  "
          f"to_leaving_partner: {soak.to_leaving_partner} (delivered "
          f"{soak.to_leaving_delivered})  out_of_order: "
          f"{sum(p.out_of_order for p in load.participants)}  misrouted: {load.misrouted}  "
          f"send_failures: {sum(p.send_failures for p in load.participants)}")
    if load.error_frames:
        print(f"error_frames: {json.dumps(load.error_frames, sort_keys=True)}")
    print(f"closes_seen_by_clients: {json.dumps(load.dropped, sort_keys=True)}")
    previous = 0
    for minute, mark in enumerate(soak.minute_marks, start=1):
        window = load.steady_ms[previous:mark]
        connected = [s[3] for s in soak.samples
                     if (minute - 1) * SECONDS_PER_MINUTE <= s[0] < minute * SECONDS_PER_MINUTE]
        print(f"minute {minute}: signals {len(window)}  p50 {percentile(window, 0.5):.1f} ms  "
              f"p99 {percentile(window, 0.99):.1f} ms  connected (median) "
              f"{statistics.median(connected) if connected else 0:.0f}")
        previous = mark
    for t, rss, fds, live in soak.samples:
        print(f"sample t={t:6.1f}s rss_mb={rss:.1f} fds={fds} connected={live}")
    steady_start = (STEADY_MINUTE - 1) * SECONDS_PER_MINUTE
    end_start = (minutes - 1) * SECONDS_PER_MINUTE
    ok = soak.lost == 0 and not soak.room_failures
    for name, index in (("rss_mb", 1), ("open_fds", 2)):
        steady = median_between(soak.samples, index, steady_start, steady_start + 60)
        end = median_between(soak.samples, index, end_start, seconds + 1)
        ratio = end / steady
        within = abs(ratio - 1) <= TOLERANCE_SHARE
        ok = ok and within
        print(f"{name}: steady (median of minute {STEADY_MINUTE}) {steady:.1f}  end (median of "
              f"the last minute) {end:.1f}  end/steady {ratio:.3f}  "
              f"{'within' if within else 'NOT within'} 5 %")
    print(f"goal_zero_lost: {'met' if soak.lost == 0 else 'MISSED'} ({soak.lost})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--participants", type=int, default=500)
    args = parser.parse_args()
    if args.minutes < STEADY_MINUTE + 1 or args.participants < 2 or args.participants % 2:
        parser.error(f"--minutes must be at least {STEADY_MINUTE + 1}; --participants even")
    print(f"fd_limit: {raise_fd_limit()}")
    print("limits raised: PRAATBOX_ROOMS_OPENED_LIMIT=10000 per hour, "
          "PRAATBOX_TERM_LOOKUP_LIMIT=10000 per minute (one loopback address opens every room)",
          flush=True)
    mint = cookie_minter()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        target = start_ours(Path(tmp))
        try:
            log_before = len(target.log())
            pids_before = target.worker_pids()
            rng = random.Random(args.participants)

            async def run() -> tuple[Soak, float]:
                soak = Soak(Load(rng, sdp_filler(rng)), target, mint,
                            asyncio.Semaphore(CONNECT_CONCURRENCY))
                return soak, await churn(soak, args.participants, args.minutes)

            soak, seconds = run_async(run())
            problems = [line for line in target.log()[log_before:].splitlines()
                        if any(marker in line for marker in PROBLEM_MARKERS)]
            print(f"worker_restarts: {int(pids_before != target.worker_pids())}  "
                  f"server_log_problems: {len(problems)}")
            for line in problems[:10]:
                print(f"# server log: {line}")
        finally:
            target.stop()
    return 0 if report(soak, args.minutes, seconds) else 1


if __name__ == "__main__":
    sys.exit(main())
