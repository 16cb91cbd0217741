"""Running totals of the relay process, kept as plain integers for the metrics collector.

One relay process serves one web connection at a time; the totals span reconnections.
"""

from dataclasses import dataclass


@dataclass
class RelayCounts:
    """Totals the relay's code adds to with a plain ``+=`` (no locks, no per-frame calls)."""

    forwarded_frames: int = 0
    retransmitted_packets: int = 0
    keyframe_requests: int = 0
    bad_frames: int = 0


counts = RelayCounts()
