"""Which temporal layer of video each subscriber gets, and how fast publishers may send.

Browsers in a group publish VP8 with two temporal layers (L1T2): the base layer alone is half
the frame rate at about two thirds of the bits. For each subscriber the relay picks the
highest layer its link carries, judged from that browser's own feedback: its receiver
estimate (REMB, from the delay of the relay's packets) and the loss in its receiver reports.
A link that cannot carry even the base layers has its video paused (audio goes on); and while
someone gets only the base layer, publishers are asked (a lower REMB) to send no more than that
base fits into that person's link, down to a floor, so one weak link does not starve.

A browser's estimate only grows up to about one and a half times what it receives, and the
full layer is more than that over the base; so a link that looks clean is probed: the next
layer is tried, and taken back at once on loss (waiting twice as long before the next try, up
to a few seconds). Losing an upper temporal layer never breaks the picture: the base layer
never refers to it. Pure state; `relay.py` feeds it readings and applies its choices.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSettings:
    """How the relay adapts video to each subscriber's link."""

    # Share of a subscriber's estimate that its video may fill. The estimate is of the video
    # alone (only video carries the send times it is measured from), and audio's share of the
    # link already shows in the delays it is measured from.
    headroom: float = 0.85
    # Receiver-reported loss that makes the relay step down at once.
    loss_high: float = 0.10
    # Loss below which a link counts as clean.
    loss_clean: float = 0.02
    # A reading older than this no longer counts (browsers report about once a second).
    feedback_max_age_s: float = 3.0
    # An estimate with room for more must hold this long before stepping up.
    up_hold_s: float = 1.0
    # Clean this long before the next layer is tried beyond the estimate.
    clean_before_probe_s: float = 1.0
    # A tried layer is kept this long unless loss says otherwise.
    probe_grace_s: float = 3.0
    first_probe_wait_s: float = 2.0
    longest_probe_wait_s: float = 3.0
    # Per picture: below this estimate, video to this subscriber pauses.
    video_floor_bps: int = 30_000
    pause_after_s: float = 2.0
    # Publishers are never asked to send less than this for a weak subscriber.
    publish_floor_bps: int = 150_000
    # A step down below this fraction of what the current layer needs (without loss).
    down_margin: float = 0.75
    # Share of the budget that retransmissions may fill: a browser asks for each lost packet
    # again every round trip, and answering every request on a link that already loses packets
    # fills it with copies (the queue never drains, the loss goes on for seconds).
    retransmit_share: float = 0.5
    # ... and never more than this, estimate or not (a browser that sends no estimate and asks
    # for everything again must not turn the relay into an amplifier).
    retransmit_max_bps: int = 2_000_000
    # Packets sent during a try of a higher layer that the subscriber reports lost (asks for
    # again) before the try ends at once, ahead of its next receiver report.
    probe_lost_packets: int = 3
    # ... and this many packets reported lost within LOST_WINDOW_S step down at once, tried
    # layer or not (a link that just narrowed, before its next receiver report).
    burst_lost_packets: int = 10
    # Going up counts on the most the layers needed over this long: an encoder spends little
    # for a while after a keyframe, then catches up.
    needs_peak_s: float = 4.0


@dataclass
class _Reading:
    value: float
    at: float


# A new estimate under this share of the last one: the browser saw its link overused.
ESTIMATE_FALL = 0.95
# Packets reported lost within this long count as one burst.
LOST_WINDOW_S = 0.5
# Retransmissions may catch up on this much of their share at once.
RETRANSMIT_BURST_S = 0.5
# The highest temporal layer id VP8 can mark (two bits): "every layer", until the link is known.
ALL_LAYERS = 3


class SubscriberLink:
    """One subscriber's link: what its feedback allows, and the layer it gets (None: paused)."""

    def __init__(self, settings: LayerSettings) -> None:
        self.settings = settings
        self.layer: int | None = ALL_LAYERS
        self.budget_bps = math.inf
        self.recent_loss = 0.0
        self._top = 0  # the highest layer any of its publishers sends
        self._estimate: _Reading | None = None
        self._fell_at = -math.inf
        self._loss: _Reading | None = None
        self._clean_since: float | None = None
        self._roomy_since: float | None = None
        self._starved_since: float | None = None
        self._probe_started: float | None = None
        self._next_probe = 0.0
        self._probe_wait = settings.first_probe_wait_s
        self._probe_lost = 0
        self._lost_at: deque[float] = deque()
        self._probe_from: int | None = None
        self._retransmit_bytes = 0.0
        self._retransmit_at = 0.0
        self._needs_seen: deque[tuple[float, Sequence[float]]] = deque()

    @property
    def paused(self) -> bool:
        """No video goes to this subscriber: its link cannot carry it."""
        return self.layer is None

    @property
    def reduced(self) -> bool:
        """This subscriber gets fewer temporal layers than its publishers send."""
        return self.layer is not None and self.layer < self._top

    def estimate(self, bitrate_bps: float, now: float) -> None:
        """The subscriber's receiver estimate (REMB) for everything the relay sends it. It falls
        only when the browser sees its link overused; it climbs slowly (a few percent a second)
        after more is sent, so a low but rising estimate is no reason to send less."""
        if self._estimate is not None and bitrate_bps < self._estimate.value * ESTIMATE_FALL:
            self._fell_at = now
        self._estimate = _Reading(bitrate_bps, now)

    def loss(self, fraction: float, now: float) -> None:
        """The fraction lost in a receiver report of one of its video streams (the worst of
        those within half a second counts)."""
        if self._loss is None or self._loss.at < now - 0.5 or fraction > self._loss.value:
            self._loss = _Reading(fraction, now)

    def lost(self, sent_at: float, now: float) -> None:
        """The subscriber asked again for a packet sent at `sent_at` (its first request). A
        burst of them, or a few of a tried layer's, step down at once: until the next receiver
        report (up to a second away) the overflowing queue would drop the base layer's packets
        too, and each of those costs a keyframe."""
        lost_at = self._lost_at
        lost_at.append(now)
        while lost_at[0] < now - LOST_WINDOW_S:
            lost_at.popleft()
        trying = self._probe_started is not None and sent_at >= self._probe_started
        if trying:
            self._probe_lost += 1
        if self.layer is None or min(self.layer, self._top) == 0:
            return
        if (trying and self._probe_lost >= self.settings.probe_lost_packets
                or len(lost_at) >= self.settings.burst_lost_packets):
            self._step_down(now, min(self.layer, self._top) - 1)
            lost_at.clear()

    def resume(self) -> None:
        """Video comes back after a pause the subscriber chose: a try of a higher layer that
        was under way when it stopped tells nothing, and ends."""
        if self._probe_started is not None and self._probe_from is not None:
            self.layer = self._probe_from
        self._probe_started = None
        self._clean_since = None

    def may_retransmit(self, size: int, now: float) -> bool:
        """Whether a retransmission of `size` bytes fits the share of the budget left to them
        (a token bucket holding RETRANSMIT_BURST_S of it)."""
        settings = self.settings
        rate = min(self.budget_bps * settings.retransmit_share, settings.retransmit_max_bps) / 8
        self._retransmit_bytes = min(rate * RETRANSMIT_BURST_S, self._retransmit_bytes
                                     + (now - self._retransmit_at) * rate)
        self._retransmit_at = now
        if self._retransmit_bytes < size:
            return False
        self._retransmit_bytes -= size
        return True

    def choose(self, now: float, needs: Sequence[float], pictures: int) -> int | None:
        """The layer for this subscriber now (None: paused). `needs[k]` is what all its pictures
        need at layer k and below, in bits a second; `pictures` how many it receives."""
        settings = self.settings
        top = len(needs) - 1
        if pictures == 0 or top < 0:
            return None if self.layer is None else max(0, min(self.layer, top))
        self._top = top
        self.budget_bps = budget = self._budget(now)
        recent = self._loss is not None and self._recent(self._loss, now)
        self.recent_loss = loss = self._loss.value if self._loss is not None and recent else 0.0
        if loss >= settings.loss_clean:
            self._clean_since = None
        elif self._clean_since is None:
            self._clean_since = now
        # Starved: losing packets with less room than even the base layers need and than the
        # floor. A low estimate alone is not: it follows what is sent, and after the browser
        # saw its link overused it drops to what arrived just then.
        overused = now - self._fell_at <= settings.feedback_max_age_s
        if loss <= settings.loss_high or budget >= min(
                needs[0], settings.video_floor_bps * pictures):
            self._starved_since = None
        elif self._starved_since is None:
            self._starved_since = now
        peak = self._peak_needs(now, needs)
        fit = max((k for k, need in enumerate(peak) if need <= budget), default=-1)
        if self.layer is None:
            if self._may_probe(now):
                self._probe(now, 0)
            return self.layer
        if self._starved_since is not None and now - self._starved_since >= settings.pause_after_s:
            self._step_down(now, None)
            return None
        current = min(self.layer, top)
        probing = (self._probe_started is not None
                   and now - self._probe_started < settings.probe_grace_s)
        congested = overused and loss >= settings.loss_clean and not probing
        if current > 0 and (loss > settings.loss_high
                            or congested and budget < needs[current] * settings.down_margin):
            self._step_down(now, max(0, min(fit, current - 1)))
            return self.layer
        if self._probe_started is not None and not probing:
            self._probe_started = None  # the tried layer held
            self._probe_wait = settings.first_probe_wait_s
        if current < top:
            if fit <= current:
                self._roomy_since = None
            elif self._roomy_since is None:
                self._roomy_since = now
            if self._roomy_since is not None and now - self._roomy_since >= settings.up_hold_s:
                self._probe(now, fit)  # kept unless the link loses what it adds
            elif self._may_probe(now):  # a clean link carries what it gets, whatever the estimate
                self._probe(now, current + 1)
        return min(self.layer, top)

    def publisher_rate_for(self, base_share: float, pictures: int) -> float | None:
        """What each publisher may send so that this subscriber's base layers fit its link;
        None when it does not hold anyone back (it gets every layer, or more than the base, or
        nothing). While a higher layer is tried from the base, publishers stay held: the try is
        of that layer, not of the publishers climbing back as well. A link losing packets
        before its browser has an estimate (it makes one within seconds) asks for the floor."""
        trying_from_base = self._probe_started is not None and self._probe_from == 0
        if (self.layer != 0 and not trying_from_base) or self._top == 0 or pictures == 0:
            return None
        floor = self.settings.publish_floor_bps
        if math.isinf(self.budget_bps):
            return floor
        return max(floor, self.budget_bps / pictures / max(base_share, 0.1))

    def _peak_needs(self, now: float, needs: Sequence[float]) -> list[float]:
        seen = self._needs_seen
        seen.append((now, needs))
        while seen[0][0] < now - self.settings.needs_peak_s:
            seen.popleft()
        return [max(earlier[k] if len(earlier) == len(needs) else 0.0 for _, earlier in seen)
                for k in range(len(needs))]

    def _budget(self, now: float) -> float:
        if self._estimate is None or not self._recent(self._estimate, now):
            return math.inf
        return self._estimate.value * self.settings.headroom

    def _recent(self, reading: _Reading, now: float) -> bool:
        return now - reading.at <= self.settings.feedback_max_age_s

    def _may_probe(self, now: float) -> bool:
        return (now >= self._next_probe and self._clean_since is not None
                and now - self._clean_since >= self.settings.clean_before_probe_s)

    def _probe(self, now: float, layer: int) -> None:
        self._probe_from = self.layer
        self.layer = layer
        self._probe_started = now
        self._probe_lost = 0
        self._next_probe = now + self._probe_wait
        self._roomy_since = None

    def _step_down(self, now: float, layer: int | None) -> None:
        if self._probe_started is not None:  # the tried layer failed: wait longer next time
            self._probe_wait = min(self._probe_wait * 2, self.settings.longest_probe_wait_s)
            self._next_probe = now + self._probe_wait
        self._probe_started = None
        self._roomy_since = None
        self._clean_since = None
        self.layer = layer
