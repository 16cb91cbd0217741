"""Group rooms on the relay: one aiortc peer connection per browser (`session.py`), media
fanned out between them.

The relay is always the offerer. On a join or leave the relay reuses or inactivates
transceivers and re-offers, so media that is already flowing is never interrupted. Signaling
frames are the `/ws-relay` frames of docs/signaling.md; the transport that carries them is
injected, so rooms run without a socket. Twice a second each room weighs its subscribers'
links and caps its publishers for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiortc import RTCConfiguration

from .config import DEFAULT_RESTART_INTERVAL_SECONDS
from .counts import counts
from .layers import LayerSettings
from .session import Frame, PeerSession, Send, SignalError

logger = logging.getLogger(__name__)

# How often each room weighs its subscribers' links (layers, pauses, publisher caps).
ADAPT_INTERVAL_S = 0.5


class Room:
    """The browsers of one group room, each connected to the relay."""

    def __init__(
        self, room_id: str, configuration: RTCConfiguration, send: Send,
        restart_interval_s: float = DEFAULT_RESTART_INTERVAL_SECONDS,
        layer_settings: LayerSettings | None = None,
    ) -> None:
        self.room_id = room_id
        self.sessions: dict[str, PeerSession] = {}
        self._configuration = configuration
        self._send = send
        self._restart_interval_s = restart_interval_s
        self._layer_settings = layer_settings
        self._next_restart: dict[str, float] = {}  # peer id -> monotonic time
        self._adapting: asyncio.Task[None] | None = None

    @property
    def published_streams(self) -> int:
        return sum(s.published_streams for s in self.sessions.values())

    async def add_peers(self, peer_ids: list[str]) -> None:
        """Connect browsers and show each to everyone in the room, with one offer per browser."""
        added = False
        for peer_id in peer_ids:
            if peer_id in self.sessions:
                continue
            session = self._new_session(peer_id)
            for other in self.sessions.values():
                session.subscribe(other)
                other.subscribe(session)
            self.sessions[peer_id] = session
            added = True
        if self._layer_settings is not None and self._adapting is None:
            self._adapting = asyncio.ensure_future(self._adapt_periodically())
        if added:
            for session in list(self.sessions.values()):
                await session.negotiate()

    async def remove_peer(self, peer_id: str) -> None:
        """Disconnect a browser and take its picture away from the others."""
        session = self.sessions.pop(peer_id, None)
        self._next_restart.pop(peer_id, None)
        if session is None:
            return
        for other in self.sessions.values():
            other.unsubscribe(peer_id)
        await session.close()
        for other in list(self.sessions.values()):
            await other.negotiate()

    async def handle_signal(self, peer_id: str, data: Any) -> None:
        """Apply one browser's signal; a bad one gets an error reply to that browser only."""
        session = self.sessions.get(peer_id)
        if session is None:
            logger.debug("signal from a peer the relay does not serve: dropped")
            return
        if isinstance(data, dict) and data.get("restart") is True:
            await self.restart_peer(peer_id)
            return
        if isinstance(data, dict) and data.get("resend") is True:
            await session.resend_offer()
            return
        if isinstance(data, dict) and isinstance(data.get("videoOff"), bool):
            session.pause_video(data["videoOff"])
            return
        try:
            await session.handle_signal(data)
        except SignalError as exc:
            logger.info("rejected a signal: %s", exc)
            error = {"code": "bad-field", "message": str(exc)}
            await self._signal_sender(peer_id)({"error": error})

    async def restart_peer(self, peer_id: str) -> None:
        """Replace the connection of a browser that lost its path (aiortc cannot restart ICE),
        at most once per restart interval: each one costs a new ICE and DTLS handshake.

        Only that browser gets an offer. The others keep their m-lines, now fed from the new
        connection: a leave and a join would give them a second m-line with the same msid
        (the peer id stays), which browsers refuse, and renegotiate the whole room.
        """
        now = time.monotonic()
        old = self.sessions.get(peer_id)
        if old is None:
            return
        if now < self._next_restart.get(peer_id, 0.0):
            logger.info("dropped a connection restart asked for too soon")
            return
        self._next_restart[peer_id] = now + self._restart_interval_s
        fresh = self._new_session(peer_id)
        for other in self.sessions.values():
            if other is not old:
                fresh.subscribe(other)
                other.resubscribe(fresh)
        self.sessions[peer_id] = fresh
        await old.close()
        await fresh.negotiate()

    async def adapt(self, now: float) -> None:
        """Weigh every subscriber's link: its layer, and how fast each publisher may send so
        that those who get only the base layer still get it whole."""
        for session in self.sessions.values():
            for feed in session.feeds.values():
                feed.sample_rates(now)
        for session in self.sessions.values():
            session.adapt(now)
        for publisher in list(self.sessions.values()):
            limit = self._publish_limit(publisher) if publisher.publish_cap is not None else None
            if publisher.publish_cap is not None:
                publisher.publish_cap.set(limit)
            await publisher.tell_layers(held=limit is not None)

    def _publish_limit(self, publisher: PeerSession) -> int | None:
        """The most `publisher` may send for everyone's base layer to fit (None: no limit)."""
        feed = publisher.feeds["video"]
        full = feed.needs(feed.top_layer)
        base_share = feed.needs(0) / full if full > 0 else 1.0
        limits = []
        for subscriber in self.sessions.values():
            if (subscriber is publisher or subscriber.link is None
                    or publisher.peer_id not in subscriber.publishers()):
                continue
            rate = subscriber.link.publisher_rate_for(base_share, len(subscriber.pictures()))
            if rate is not None:
                limits.append(rate)
        return int(min(limits)) if limits else None

    async def close(self) -> None:
        if self._adapting is not None:
            self._adapting.cancel()
        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            await session.close()

    def _new_session(self, peer_id: str) -> PeerSession:
        return PeerSession(peer_id, self._configuration, self._signal_sender(peer_id),
                           self._layer_settings)

    async def _adapt_periodically(self) -> None:
        while True:
            await asyncio.sleep(ADAPT_INTERVAL_S)
            try:
                await self.adapt(time.monotonic())
            except Exception:  # a bad reading must not end adaptation for the room
                logger.exception("adapting video to the links failed")

    def _signal_sender(self, peer_id: str) -> Send:
        async def send_signal(data: Frame) -> None:
            await self._send({"type": "signal", "room": self.room_id, "to": peer_id, "data": data})

        return send_signal


class Relay:
    """Every room pinned to this relay, driven by `/ws-relay` frames from the web process.

    Each room applies its frames in order in its own task, so a slow peer (ICE gathering
    through TURN) holds up its own room only, and an error ends one frame, not a room.
    """

    def __init__(
        self, send: Send, configuration: RTCConfiguration,
        restart_interval_s: float = DEFAULT_RESTART_INTERVAL_SECONDS,
        layer_settings: LayerSettings | None = None,
    ) -> None:
        self._send = send
        self._configuration = configuration
        self._restart_interval_s = restart_interval_s
        self._layer_settings = layer_settings
        self._rooms: dict[str, Room] = {}
        self._queues: dict[str, asyncio.Queue[Frame | None]] = {}
        self._workers: set[asyncio.Future[None]] = set()
        self._load: tuple[int, int] | None = None

    @property
    def rooms(self) -> dict[str, Room]:
        return self._rooms

    def load(self) -> tuple[int, int]:
        """Rooms served, and media tracks received from publishers (the main CPU cost)."""
        return len(self._rooms), sum(r.published_streams for r in self._rooms.values())

    async def handle(self, frame: Frame) -> None:
        """Queue one frame from the web process for its room."""
        kind = frame.get("type")
        room_id = frame.get("room")
        if not isinstance(room_id, str) or not room_id:
            logger.warning("frame %r without a room: dropped", kind)
            counts.bad_frames += 1
            return
        if kind == "room-open" and room_id not in self._queues:
            room = Room(room_id, self._configuration, self._send, self._restart_interval_s,
                        self._layer_settings)
            self._rooms[room_id] = room
            self._queues[room_id] = asyncio.Queue()
            worker = asyncio.ensure_future(self._run_room(room, self._queues[room_id]))
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        queue = self._queues.get(room_id)
        if queue is None:
            logger.debug("frame %r for a room this relay does not serve: dropped", kind)
            return
        queue.put_nowait(frame)
        if kind == "room-close":
            queue.put_nowait(None)
            del self._queues[room_id]

    async def report_load(self) -> None:
        """Send `relay-load` if rooms or streams changed since the last report."""
        load = self.load()
        if load != self._load:
            self._load = load
            await self._send({"type": "relay-load", "rooms": load[0], "streams": load[1]})

    async def close(self) -> None:
        """Drop every room (the web process re-opens the rooms it still needs)."""
        for queue in self._queues.values():
            queue.put_nowait(None)
        self._queues.clear()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _run_room(self, room: Room, queue: asyncio.Queue[Frame | None]) -> None:
        try:
            while (frame := await queue.get()) is not None:
                try:
                    await self._apply(room, frame)
                    await self.report_load()
                except Exception as exc:  # ends this frame only; traceback at debug level
                    counts.bad_frames += 1
                    logger.warning("relay frame %r failed (%s)", frame.get("type"),
                                   type(exc).__name__, exc_info=logger.isEnabledFor(logging.DEBUG))
        finally:
            await room.close()
            if self._rooms.get(room.room_id) is room:
                del self._rooms[room.room_id]
            with contextlib.suppress(Exception):
                await self.report_load()

    async def _apply(self, room: Room, frame: Frame) -> None:
        kind = frame.get("type")
        peer = frame.get("peer")
        if kind == "room-open":
            peers = frame.get("peers")
            if isinstance(peers, list):
                await room.add_peers([p for p in peers if isinstance(p, str) and p])
        elif kind == "peer-joined" and isinstance(peer, str) and peer:
            await room.add_peers([peer])
        elif kind == "peer-left" and isinstance(peer, str):
            await room.remove_peer(peer)
        elif kind == "signal" and isinstance(frame.get("from"), str):
            await room.handle_signal(frame["from"], frame.get("data"))
        elif kind != "room-close":
            logger.warning("unexpected relay frame %r: dropped", kind)
            counts.bad_frames += 1
