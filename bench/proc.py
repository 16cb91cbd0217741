"""CPU and memory of processes read from /proc, so every bench reports them the same way."""

from __future__ import annotations

import os
from collections.abc import Iterable

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
KIB_PER_MIB = 1024


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_ticks(pids: Iterable[int]) -> int:
    """utime + stime of the processes (all their threads); a process that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process and all its threads."""
    return cpu_ticks([pid]) / CLOCK_TICKS_PER_SECOND


def machine_busy_ticks() -> int:
    """Ticks the whole machine (all cores) spent busy: shows how loaded the shared machine was."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4]  # minus idle and iowait


def parent_pids() -> dict[int, int]:
    """Every process's parent, read once from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parents[int(entry)] = int(_stat_fields(int(entry))[1])
        except OSError:
            continue
    return parents


def child_pids(parent: int) -> list[int]:
    """The direct children of a process (gunicorn's workers), sorted."""
    return sorted(pid for pid, ppid in parent_pids().items() if ppid == parent)


def process_tree(roots: Iterable[int], parents: dict[int, int] | None = None) -> list[int]:
    """The processes and all their descendants (a browser's renderers, GPU and utilities)."""
    parents = parent_pids() if parents is None else parents
    tree, grew = set(roots), True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sorted(tree)


def memory_mb(pids: Iterable[int], key: str) -> float:
    """Sum of one /proc/PID/status memory line (VmRSS now, VmHWM peak) over the processes."""
    total_kb = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith(key + ":"):
                        total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / KIB_PER_MIB
