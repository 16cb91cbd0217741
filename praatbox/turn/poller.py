"""Relay sockets in an epoll set of their own, which the event loop watches as one reader.

The event loop runs one callback per ready socket, and a callback that drains its socket pays
for a raised ``BlockingIOError`` at the end. Relay sockets mostly hold one or two datagrams
when they wake (measured: 2 per wakeup at 25k msg/s over 50 sessions), so that was most of
the cost of a datagram beyond its two system calls: about 3.0 µs per datagram against 2.2 µs
here, where one loop callback polls the set and each ready socket gets one read per round. The
set is level-triggered, so a socket with more waiting is ready again in the next round; one
that is (a flood from one peer) is drained in the next round instead, where the exception
that ends the drain is shared by many datagrams.
"""

import asyncio
import select
from collections.abc import Callable

# Rounds per loop callback, and datagrams per busy socket per round: a flood on one socket
# cannot keep the loop from the listeners.
POLL_ROUNDS = 64
DRAIN_LIMIT_PACKETS = 64

Reader = Callable[[int], object]  # reader(limit): read up to ``limit`` datagrams


class RelayPoller:
    """Call ``reader()`` of each ready socket, once per round, until none is ready."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._readers: dict[int, Reader] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy: set[int] = set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let ``loop`` wake us when any socket of the set is readable."""
        self._loop = loop
        loop.add_reader(self._epoll.fileno(), self.poll)

    def add(self, fd: int, reader: Reader) -> None:
        self._readers[fd] = reader
        self._epoll.register(fd, select.EPOLLIN)

    def remove(self, fd: int) -> None:
        """Forget ``fd``; call before closing it (its number may be reused at once)."""
        if self._readers.pop(fd, None) is not None:
            self._epoll.unregister(fd)

    def poll(self) -> None:
        """Read ready sockets: one datagram each per round, or drain those still ready."""
        readers, poll, busy = self._readers, self._epoll.poll, self._busy
        for _ in range(POLL_ROUNDS):
            events = poll(0)
            if not events:
                return
            for fd, _ in events:
                reader = readers.get(fd)
                if reader is not None:
                    reader(DRAIN_LIMIT_PACKETS if fd in busy else 1)
            # Ready in the last round with data left, or ready again: busy until a round
            # finds it idle (kept across callbacks, so a steady flood is always drained).
            self._busy = busy = {fd for fd, _ in events}

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()
