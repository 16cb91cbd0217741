"""One TURN client over TCP or TLS: stream framing, bounded writes, admission by the server."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING, cast

from praatbox.turn import codec
from praatbox.turn.config import Address

if TYPE_CHECKING:
    from praatbox.turn.server import TurnServer

# Relayed media is datagrams: past this much unsent data a TCP client's packets are dropped.
TCP_WRITE_BUFFER_LIMIT_BYTES = 1024 * 1024


class TcpConnection(asyncio.Protocol):
    """A TURN client over TCP or TLS: framing, and at most one allocation (RFC 8656 §5)."""

    def __init__(self, server: TurnServer) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)
        self.source = ""
        self.opened_at = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = (host, port)
        if not self.server.admit(self):
            self.transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        view = memoryview(buffer)
        server = self.server
        pos, size = 0, len(buffer)
        while size - pos >= 4:
            try:
                full = codec.stream_frame_length(buffer, pos)
            except ValueError:
                server.stats["malformed"] += 1
                self.abort()
                return
            if size - pos < full:
                break
            # Frames are views of the received bytes: ChannelData goes on without a copy.
            if codec.is_channel_data(buffer[pos]):
                server.relay_channel_data(view[pos : pos + full], self)
            elif not server.handle_stun(view[pos : pos + full], self, self.peer, self.reply,
                                        datagram=False):
                self.abort()
                return
            pos += full
        self.buffer = buffer[pos:] if pos < size else b""

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        # Relayed media is datagrams: drop rather than queue without bound.
        if transport.get_write_buffer_size() > TCP_WRITE_BUFFER_LIMIT_BYTES:
            return
        transport.write(data)

    def reply(self, data: bytes, client: object) -> None:
        self.write(data)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.forget(self)
        self.server.release(self)
