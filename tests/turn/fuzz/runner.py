"""A seeded fuzz run and its report (the command line is scripts/fuzz_turn.py)."""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from unittest import mock

from praatbox.turn import handlers as handlers_module
from praatbox.turn import server as server_module
from tests.turn.fuzz.fakes import Failure
from tests.turn.fuzz.fuzzer import Fuzzer

DESCRIPTION = "Fuzz the TURN server's packet path: STUN/TURN requests, mutations and junk."


class _FailureLog(logging.Handler):
    """Turn handle_stun's "request failed" warning into a failure, with its traceback."""

    def __init__(self, fuzzer: "Fuzzer") -> None:
        super().__init__(logging.WARNING)
        self.fuzzer = fuzzer

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("request failed"):
            # Called inside handle_stun's except block: the exception is still current.
            self.fuzzer.fail("caught by handle_stun", traceback.format_exc())


@dataclass
class FuzzReport:
    seed: int
    inputs: int
    seconds: float
    counts: dict[str, int]
    server_stats: dict[str, int]
    unexpected_exceptions: int
    invariant_violations: int
    failures: list[Failure]

    def lines(self) -> Iterator[str]:
        for failure in self.failures:
            yield f"FAILURE ({failure.kind}) at step {failure.index}"
            yield f"input: {failure.data.hex()}"
            yield from failure.detail.rstrip().splitlines()
            yield f"replay: scripts/fuzz_turn.py --seed {self.seed} --inputs {failure.inputs}"
        if self.unexpected_exceptions + self.invariant_violations > len(self.failures):
            yield f"(only the first {len(self.failures)} failures are shown)"
        yield f"seed: {self.seed}"
        yield f"inputs: {self.inputs}"
        for name, value in sorted(self.counts.items()):
            if not name.startswith("inputs"):
                yield f"{name}: {value}"
        for name in ("inputs_direct", "inputs_udp_loop", "inputs_tcp_stream", "inputs_peer"):
            yield f"{name}: {self.counts.get(name, 0)}"
        for name, value in sorted(self.server_stats.items()):
            yield f"server_{name}: {value}"
        yield f"seconds: {self.seconds:.1f}"
        yield f"inputs_per_second: {self.inputs / max(self.seconds, 1e-9):.0f}"
        yield f"invariant_violations: {self.invariant_violations}"
        yield f"unexpected_exceptions: {self.unexpected_exceptions}"


@contextmanager
def _patched(fuzzer: Fuzzer) -> Iterator[None]:
    """Make the server replayable and watched while the fuzzer runs.

    Its clock is the fuzzer's; its random choices (relay ports, nonce key, reservation
    tokens) come from the seed, because they end up in later inputs; its "request failed"
    log is a failure.
    """
    clock = SimpleNamespace(monotonic=lambda: fuzzer.now, time=fuzzer.wall)
    seeded = random.Random(fuzzer.seed + 1)
    fuzzer.handler.auth._nonce_key = seeded.randbytes(32)
    log = logging.getLogger(server_module.__name__)
    handler = _FailureLog(fuzzer)
    level = log.level
    log.addHandler(handler)
    if not log.isEnabledFor(logging.WARNING):
        log.setLevel(logging.WARNING)
    try:
        with (
            mock.patch.object(server_module, "time", clock),
            mock.patch.object(server_module, "random", random.Random(fuzzer.seed + 2)),
            mock.patch.object(handlers_module, "os", SimpleNamespace(urandom=seeded.randbytes)),
        ):
            yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def run_fuzz(inputs: int, seed: int = 1) -> FuzzReport:
    """Feed about ``inputs`` messages to a fresh server; never raises for what it finds."""
    started = time.perf_counter()
    fuzzer = Fuzzer(seed)
    try:
        with _patched(fuzzer):
            fuzzer.run(inputs)
    finally:
        fuzzer.close()
    return FuzzReport(
        seed=seed,
        inputs=fuzzer.inputs(),
        seconds=time.perf_counter() - started,
        counts={k: v for k, v in fuzzer.counts.items()},
        server_stats=dict(fuzzer.server.stats),
        unexpected_exceptions=fuzzer.unexpected,
        invariant_violations=fuzzer.violations,
        failures=fuzzer.failures,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--inputs", type=int, default=100_000, help="messages to feed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = run_fuzz(args.inputs, args.seed)
    sys.stdout.write("".join(line + "\n" for line in report.lines()))
    return 1 if report.unexpected_exceptions or report.invariant_violations else 0
