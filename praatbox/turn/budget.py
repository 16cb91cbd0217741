"""Budgets per source address: token buckets in bounded memory that a flood cannot reset.

A table that is cleared when full lets anyone who forges enough source addresses refill the
bucket of the address they attack; so only buckets that are full again (they carry no state)
are forgotten, and while every tracked source is still spending, new sources share one bucket.
"""

import ipaddress
from collections import OrderedDict

DEFAULT_MAX_SOURCES = 10000
# Stands for every source the table has no room for (never a real address).
SHARED_SOURCE = "*"


def source_key(ip: str) -> str:
    """Return what one subscriber holds: an IPv4 address, or the /64 of an IPv6 address."""
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Address(int(address) >> 64 << 64)) + "/64"


class SourceBudget:
    """One token bucket per source; ``allow`` spends a token when one is left."""

    def __init__(
        self, rate_per_second: float, burst: float, max_sources: int = DEFAULT_MAX_SOURCES
    ) -> None:
        self._rate_per_second = rate_per_second
        self._burst = burst
        self._max_sources = max_sources
        # A bucket is full again this long after its last use.
        self._refill_seconds = burst / rate_per_second
        # source -> (tokens, last use); least recently used first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, source: str, now: float) -> bool:
        """Spend one token of ``source``'s bucket; False when it is empty."""
        buckets = self._buckets
        entry = buckets.get(source)
        if entry is None and len(buckets) >= self._max_sources:
            self._forget_full(now)
            if len(buckets) >= self._max_sources:
                source = SHARED_SOURCE
                entry = buckets.get(source)
        tokens, last = entry if entry is not None else (self._burst, now)
        tokens = min(self._burst, tokens + (now - last) * self._rate_per_second)
        allowed = tokens >= 1.0
        buckets[source] = (tokens - 1.0 if allowed else tokens, now)
        buckets.move_to_end(source)
        return allowed

    def _forget_full(self, now: float) -> None:
        """Drop the least recently used buckets that have refilled completely."""
        buckets = self._buckets
        while buckets:
            source = next(iter(buckets))
            if now - buckets[source][1] < self._refill_seconds:
                return
            del buckets[source]
