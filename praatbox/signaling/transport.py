"""WebSocket plumbing shared by the browsers' and the relays' sockets: the flask-sock instance,
the receive loop, each connection's outbound queue, and the socket under simple-websocket (whole
writes, paused reads, a close the peer can read)."""

from __future__ import annotations

import functools
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import simple_websocket.ws
from flask import request
from flask_sock import Sock
from wsproto.events import TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode, RsvBits

from praatbox import web_counters
from praatbox.signaling.protocol import encode

logger = logging.getLogger(__name__)

RECEIVE_TIMEOUT_SECONDS = 5.0
OUTBOX_MAX_MESSAGES = 512
CLOSE_NORMAL = 1000
CLOSE_POLICY_VIOLATION = 1008
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

    def send_nowait(self, data: bytes) -> bytes:
        """Write what the kernel takes at once, never waiting; return the rest (gevent's socket
        wraps a non-blocking OS socket: writing to that one directly cannot yield)."""
        raw = getattr(self._sock, "_sock", None)
        if raw is None:
            return data
        try:
            sent = raw.send(data)
        except BlockingIOError:
            return data
        return data[sent:]

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


def use_sendall_transport() -> None:
    """Give the upgrade a transport that writes whole frames (call before the upgrade)."""
    raw = request.environ.get("gunicorn.socket")
    if raw is not None:
        request.environ["gunicorn.socket"] = Transport(raw)


def received_frames(ws: Any) -> Iterator[str | bytes]:
    """Yield frames as they arrive. The receive timeout lets the loop notice a socket that
    closed without a close frame (a blocking receive never returns then)."""
    while ws.connected:
        raw = ws.receive(timeout=RECEIVE_TIMEOUT_SECONDS)
        if raw is not None:
            web_counters.signaling_received(raw)
            yield raw


sock = Sock()

# Messages shorter than this go out uncompressed: a candidate or a ping compresses by a few dozen
# bytes, while each compressed message costs a new deflate state (no context takeover) and most
# of the server's per-message CPU after the socket calls themselves.
COMPRESS_MIN_BYTES = 1024


class LargeMessagesDeflate(PerMessageDeflate):
    """permessage-deflate (RFC 7692) that compresses only messages worth it: the extension lets
    a sender choose per message (RSV1 set or not); a browser reads both. Ours: wsproto's
    extension, with the one decision it lacks."""

    def frame_outbound(self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes,
                       fin: bool) -> tuple[RsvBits, bytes]:
        # simple-websocket sends every message as one frame, so a final text or binary frame
        # is a whole message: sent as it is, the next message starts afresh.
        if fin and opcode in (Opcode.TEXT, Opcode.BINARY) and len(data) < COMPRESS_MIN_BYTES:
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)


# Per-connection deflate state costs ~240 KB; without context takeover it is small.
simple_websocket.ws.PerMessageDeflate = functools.partial(
    LargeMessagesDeflate, client_no_context_takeover=True, server_no_context_takeover=True
)


class SocketOutbox:
    """A participant's outbound queue, drained in order by a writer of its own.

    When nothing is queued or being written, a message is written at once from the sender's
    greenlet (saving the writer's wake-up, a third of the switches per forwarded message), but
    only as far as the kernel takes it without waiting: the rest goes to the writer, so a slow
    recipient still never holds up whoever sends to it.
    """

    def __init__(self, ws: Any, first_fields: dict[str, Any] | None = None) -> None:
        """`first_fields`: added to the first message only (a browser socket's resume token)."""
        self._ws = ws
        self._first_fields = first_fields
        # Text: a message for the writer to frame and send; bytes: the unsent rest of a frame.
        self._queue: queue.Queue[str | bytes | None] = queue.Queue(maxsize=OUTBOX_MAX_MESSAGES)
        self._closing_reason = ""
        self._writing = False
        self._stopped = False
        self._writer = threading.Thread(target=self._drain, daemon=True)
        self._writer.start()

    def put(self, message: dict[str, Any]) -> None:
        if self._first_fields:
            message, self._first_fields = {**message, **self._first_fields}, None
        text = encode(message)
        transport = self._ws.sock
        if (not self._writing and not self._stopped and self._queue.empty()
                and self._ws.connected and isinstance(transport, Transport)):
            self._write_now(transport, text)
            return
        self._enqueue(text)

    def _write_now(self, transport: Transport, text: str) -> None:
        try:
            rest = transport.send_nowait(self._ws.ws.send(TextMessage(data=text)))
        except Exception:  # the peer is gone; the reader notices and cleans up
            return
        web_counters.signaling_sent(text)
        if rest:
            self._enqueue(rest)

    def _enqueue(self, item: str | bytes) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if self._ws.connected:  # once per connection, not once per message
                logger.warning("signaling: outbox full, closing a slow connection")
            self._ws.connected = False

    def end(self, reason: str) -> None:
        """Close the connection once everything queued so far is sent (kick, deny, end)."""
        self._closing_reason = reason
        self._stop()

    def close(self) -> None:
        """Stop the writer once everything queued so far is sent."""
        self._stop()
        self._writer.join(timeout=2)

    def _stop(self) -> None:
        self._stopped = True
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            self._ws.connected = False

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            self._writing = True
            try:
                if isinstance(item, bytes):
                    self._ws.sock.send(item)
                else:
                    self._ws.send(item)
                    web_counters.signaling_sent(item)
            except Exception:  # the peer is gone; the reader notices and cleans up
                return
            finally:
                self._writing = False
        if self._closing_reason:
            try:
                self._ws.close(CLOSE_NORMAL, self._closing_reason)
            except Exception:  # already closed by the other side
                pass
