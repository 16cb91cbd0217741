"""The socket under simple-websocket: whole writes, paused reads, a close the peer can read."""

from __future__ import annotations

import socket
import time
from typing import Any

# Closing: how long and how much to keep reading (and discarding) so the peer reads our close.
LINGER_SECONDS = 1.0
LINGER_MAX_BYTES = 1024 * 1024


class Transport:
    """The socket as simple-websocket uses it: `send` writes everything (simple-websocket ignores
    short writes), and `recv` reads nothing before `resume_at` (a sender held back for flooding:
    its frames wait in the kernel, its own writes stall, nothing piles up in this process)."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.resume_at = 0.0

    def send(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        wait = self.resume_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # gevent's sleep under gunicorn: only this socket's reader waits
        data: bytes = self._sock.recv(size)
        return data

    def close(self) -> None:
        """Stop writing, then read until the peer closes too: closing with unread input (a
        flooder's) resets the connection, and the peer may then lose our close frame."""
        discarded = 0
        deadline = time.monotonic() + LINGER_SECONDS
        try:
            self._sock.shutdown(socket.SHUT_WR)
            while discarded < LINGER_MAX_BYTES and time.monotonic() < deadline:
                self._sock.settimeout(max(0.01, deadline - time.monotonic()))
                data = self._sock.recv(64 * 1024)
                if not data:
                    break
                discarded += len(data)
        except OSError:  # timed out, or the peer is gone already
            pass
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)
