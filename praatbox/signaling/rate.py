"""How fast one signaling socket may send: token buckets on messages and on bytes.

A flood must hurt only its sender. A socket over its budget is held back (nothing more is read
from it until the budget has refilled, so its own writes stall) and, held back too long in all,
closed; it may connect again once its budget is whole. The budget belongs to the visitor, not
the socket: reconnecting does not refill it.
Real signaling never comes near the limits: a reconnect of one client in a four-person mesh is
3 offers and ~100 candidates at once, far inside the bursts.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Mapping

# A recipient's outbox holds 512 messages: one sender alone, bursting and then held back until it
# is closed, can queue at most BURST + rate × MAX_HELD (300 with these defaults).
MESSAGES_PER_SECOND = 50.0
BURST_MESSAGES = 200
BYTES_PER_SECOND = 256 * 1024
BURST_BYTES = 1024 * 1024
MAX_HELD_SECONDS = 2.0
MAX_REMEMBERED_SENDERS = 10_000


@dataclass(frozen=True)
class Budget:
    """One socket's allowance (each value has a PRAATBOX_SIGNALING_* setting)."""

    messages_per_second: float = MESSAGES_PER_SECOND
    burst_messages: float = BURST_MESSAGES
    bytes_per_second: float = BYTES_PER_SECOND
    burst_bytes: float = BURST_BYTES
    max_held_seconds: float = MAX_HELD_SECONDS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Budget:
        """Read the budget from the app's settings."""
        return cls(
            messages_per_second=float(config["SIGNALING_MESSAGES_PER_SECOND"]),
            burst_messages=float(config["SIGNALING_BURST_MESSAGES"]),
            bytes_per_second=float(config["SIGNALING_BYTES_PER_SECOND"]),
            burst_bytes=float(config["SIGNALING_BURST_BYTES"]),
            max_held_seconds=float(config["SIGNALING_MAX_HELD_SECONDS"]),
        )


class TokenBucket:
    """Refills at `rate` per second up to `capacity`; taking more than it holds runs a debt."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._updated = now

    def take(self, amount: float, now: float) -> float:
        """Take `amount`; return the seconds until the debt is paid off (0: within budget)."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate) - amount
        self._updated = now
        return max(0.0, -self._tokens / self._rate)

    def full(self, now: float) -> bool:
        return self.full_in(now) <= 0.0

    def full_in(self, now: float) -> float:
        """Seconds until the bucket is full again."""
        elapsed = max(0.0, now - self._updated)
        tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        return (self._capacity - tokens) / self._rate


class SendRate:
    """One socket's buckets, and how long it has been held back so far."""

    def __init__(self, budget: Budget, now: float) -> None:
        self._budget = budget
        self._messages = TokenBucket(budget.messages_per_second, budget.burst_messages, now)
        self._bytes = TokenBucket(budget.bytes_per_second, budget.burst_bytes, now)
        self.held_frames = 0
        self.held_seconds = 0.0

    def hold(self, frame_bytes: int, now: float) -> float:
        """Count one received frame; return how long to stop reading before handling it."""
        wait = max(self._messages.take(1, now), self._bytes.take(frame_bytes, now))
        if wait > 0:
            self.held_frames += 1
            self.held_seconds += wait
        return wait

    def penalise(self, messages: float, now: float) -> None:
        """Spend `messages` of the budget at once (a refused resume): the debt counts as time
        held back, so a sender that keeps at it is soon refused new sockets."""
        self.held_seconds += self._messages.take(messages, now)

    def at_rest(self, now: float) -> bool:
        """True when forgetting this socket's state gives its sender nothing: both buckets are
        full, and it was never held back so long that its next hold closes it."""
        return (not self.exhausted() and self._messages.full(now) and self._bytes.full(now))

    def exhausted(self) -> bool:
        """True once the socket has been held back longer than any real client ever is."""
        return self.held_seconds > self._budget.max_held_seconds

    def refused_for(self, now: float) -> float:
        """Seconds before a sender closed for flooding may connect again (its budget is whole)."""
        if not self.exhausted():
            return 0.0
        return max(self._messages.full_in(now), self._bytes.full_in(now))


class SenderRates:
    """Each visitor's `SendRate` in this process, kept across their reconnects.

    A visitor with no socket left is forgotten once its state is at rest (a fresh one would be
    the same), so reconnecting never buys budget and churn leaves nothing behind; the least
    recently seen go first should more than `max_senders` be remembered all the same.
    """

    def __init__(self, max_senders: int = MAX_REMEMBERED_SENDERS) -> None:
        self._max_senders = max_senders
        self._rates: OrderedDict[str, SendRate] = OrderedDict()
        self._sockets: dict[str, int] = {}
        # Visitors whose last socket closed, oldest first: forgotten once at rest.
        self._idle: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rates)

    def refused_for(self, sender: str, now: float) -> float:
        rate = self._rates.get(sender)
        return rate.refused_for(now) if rate else 0.0

    def of(self, sender: str, budget: Budget, now: float) -> SendRate:
        """The rate of a socket `sender` opens (call `closed` when it ends)."""
        self._forget_rested(now)
        rate = self._rates.pop(sender, None) or SendRate(budget, now)
        self._rates[sender] = rate
        self._sockets[sender] = self._sockets.get(sender, 0) + 1
        self._idle.pop(sender, None)
        while len(self._rates) > self._max_senders:
            oldest, _ = self._rates.popitem(last=False)
            self._idle.pop(oldest, None)
        return rate

    def closed(self, sender: str, now: float) -> None:
        """One of `sender`'s sockets ended."""
        left = self._sockets.pop(sender, 1) - 1
        if left > 0:
            self._sockets[sender] = left
        elif sender in self._rates:
            self._idle[sender] = None
        self._forget_rested(now)

    def _forget_rested(self, now: float) -> None:
        """Forget idle visitors at rest, oldest first (stopping at one that is not yet)."""
        while self._idle:
            sender = next(iter(self._idle))
            rate = self._rates.get(sender)
            if rate is not None and not rate.at_rest(now):
                return
            del self._idle[sender]
            self._rates.pop(sender, None)
