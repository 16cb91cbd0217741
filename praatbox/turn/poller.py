"""Relay sockets in an epoll set of their own, which the event loop watches as one reader.

The event loop runs one callback per ready socket, and a callback that drains its socket pays
for a raised ``BlockingIOError`` at the end. Relay sockets mostly hold one or two datagrams
when they wake (measured: 2 per wakeup at 25k msg/s over 50 sessions), so that was most of
the cost of a datagram beyond its two system calls: about 3.0 µs per datagram against 2.2 µs
here, where one loop callback polls the set and each ready socket gets one read per round. The
set is level-triggered, so a socket with more waiting is ready again in the next round.
"""

import asyncio
import select
from collections.abc import Callable

# Rounds per loop callback: a flood on one socket cannot keep the loop from the listeners.
POLL_ROUNDS = 256


class RelayPoller:
    """Call ``reader()`` of each ready socket, once per round, until none is ready."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._readers: dict[int, Callable[[], object]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let ``loop`` wake us when any socket of the set is readable."""
        self._loop = loop
        loop.add_reader(self._epoll.fileno(), self.poll)

    def add(self, fd: int, reader: Callable[[], object]) -> None:
        self._readers[fd] = reader
        self._epoll.register(fd, select.EPOLLIN)

    def remove(self, fd: int) -> None:
        """Forget ``fd``; call before closing it (its number may be reused at once)."""
        if self._readers.pop(fd, None) is not None:
            self._epoll.unregister(fd)

    def poll(self) -> None:
        """Read ready sockets, one datagram each per round."""
        readers, poll = self._readers, self._epoll.poll
        for _ in range(POLL_ROUNDS):
            events = poll(0)
            if not events:
                return
            for fd, _ in events:
                reader = readers.get(fd)
                if reader is not None:
                    reader()

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()
