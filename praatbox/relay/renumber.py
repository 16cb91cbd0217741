"""Map a publisher's wrapping numbers onto one subscriber stream that never skips or goes back.

A subscriber's stream shows one publisher after another (each anchored where the last one
stopped) and leaves out what the subscriber's link cannot carry (the upper temporal layers).
Its RTP sequence numbers and VP8 picture ids must still run without gaps: a browser asks again
for a missing packet, and waits for a missing picture. So every number a stream leaves out is
remembered, and each later one is moved down by how many were left out before it. Pure state.
"""

from __future__ import annotations

from bisect import bisect_left

# How far behind the newest number a late one may still be sent: well past a second of video,
# which is as long as a retransmission takes to come in.
LATE_WINDOW = 1024


class Renumbering:
    """Numbers modulo `modulo` from one source at a time, renumbered without gaps."""

    def __init__(self, modulo: int, first_output: int | None = None) -> None:
        """`first_output`: the first source's first number; None keeps its own numbers."""
        self._modulo = modulo
        self._half = modulo // 2
        self._next_output = first_output  # not reduced: only grows
        self._anchored = False
        self._anchor = 0  # the extended number the current source started at
        self._newest = 0  # the newest extended number seen of the current source
        self._shift = 0  # output = extended input + shift - numbers left out before it
        self._left_out: list[int] = []  # extended numbers left out, ascending, recent only
        self._left_out_earlier = 0  # how many were forgotten from that list (all older)

    @property
    def anchored(self) -> bool:
        return self._anchored

    @property
    def newest(self) -> int:
        return self._newest

    def anchor(self, number: int) -> None:
        """Start a new source at `number`: it maps to the number after the last one given."""
        self._anchored = True
        self._anchor = self._newest = number
        if self._next_output is None:
            self._next_output = number
        self._shift = self._next_output - number
        self._left_out.clear()
        self._left_out_earlier = 0

    def extend(self, number: int) -> int | None:
        """`number` without the wrap (newer ones move `newest` on); None when it is older than
        the anchor or than the late window."""
        if not self._anchored:
            return None
        step = (number - self._newest) % self._modulo
        if step < self._half:
            self._newest += step
            self._forget_before(self._newest - LATE_WINDOW)
            return self._newest
        extended = self._newest - (self._modulo - step)
        if extended < max(self._anchor, self._newest - LATE_WINDOW):
            return None
        return extended

    def leave_out(self, extended: int) -> None:
        """Skip the newest number: later ones move down by one. Only the newest can be skipped:
        a late number keeps its place, later numbers went out already counting it."""
        if extended != self._newest:
            raise ValueError("only the newest number can be left out")
        if not self._left_out or self._left_out[-1] != extended:
            self._left_out.append(extended)

    def output(self, extended: int) -> int | None:
        """The stream's number for `extended` (reduced modulo); None if it was left out."""
        left_out = self._left_out
        before = self._left_out_earlier
        if left_out:
            at = bisect_left(left_out, extended)
            if at < len(left_out) and left_out[at] == extended:
                return None
            before += at
        number = extended + self._shift - before
        assert self._next_output is not None  # set by the anchor `extend` needed
        if number >= self._next_output:
            self._next_output = number + 1
        return number % self._modulo

    def _forget_before(self, oldest: int) -> None:
        left_out = self._left_out
        if left_out and left_out[0] < oldest:
            at = bisect_left(left_out, oldest)
            self._left_out_earlier += at
            del left_out[:at]
