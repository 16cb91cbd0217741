"""Group rooms on the relay: one aiortc peer connection per browser, media fanned out between them.

The relay is always the offerer. In each browser's connection the first audio and video
m-lines carry what the browser publishes (recvonly here); every other m-line carries one
publisher's track (sendonly), tagged with the publisher's peer id as MediaStream id. On a
join or leave the relay reuses or inactivates transceivers and re-offers, so media that is
already flowing is never interrupted. Signaling frames are the `/ws-relay` frames of
docs/signaling.md; the transport that carries them is injected, so rooms run without a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from .aiortc_hooks import RembCap, label_sender
from .config import DEFAULT_RESTART_INTERVAL_SECONDS
from .counts import counts
from .forwarding import Feed, Outlet
from .layers import ALL_LAYERS, LayerSettings, SubscriberLink

logger = logging.getLogger(__name__)

KINDS = ("audio", "video")
# Only these reach the browsers: VP8 keyframes can be told from the clear payload header (group
# E2EE keeps it clear), and every browser decodes it.
PREFERRED_MIME_TYPES = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}

Frame = dict[str, Any]
Send = Callable[[Frame], Awaitable[None]]

# How often each room weighs its subscribers' links (layers, pauses, publisher caps).
ADAPT_INTERVAL_S = 0.5


class SignalError(ValueError):
    """A browser's signal the relay cannot apply; reported to that browser only."""


def _prefer_codecs(transceiver: RTCRtpTransceiver) -> None:
    wanted = PREFERRED_MIME_TYPES[transceiver.kind]
    codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])


@dataclass
class Slot:
    """One sendonly transceiver in a subscriber's connection, showing one publisher at a time."""

    transceiver: RTCRtpTransceiver
    outlet: Outlet
    publisher: str | None


class PeerSession:
    """One browser's connection to the relay: what it publishes and what it receives."""

    def __init__(self, peer_id: str, configuration: RTCConfiguration, send_signal: Send,
                 layer_settings: LayerSettings | None = None) -> None:
        self.peer_id = peer_id
        self.pc = RTCPeerConnection(configuration)
        self.feeds = {kind: Feed(kind) for kind in KINDS}
        # What this browser's link carries (None: the relay sends every layer as it comes).
        self.link = SubscriberLink(layer_settings) if layer_settings is not None else None
        self.publish_cap: RembCap | None = None
        self._send_signal = send_signal
        self._slots: list[Slot] = []
        self._inbound: dict[str, RTCRtpTransceiver] = {}
        self._renegotiate = False
        self._video_paused = False  # the browser asked for audio only
        self._told_layers: dict[str, Any] | None = None
        for kind in KINDS:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            _prefer_codecs(transceiver)
            self._inbound[kind] = transceiver

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            logger.debug("peer connection %s", self.pc.connectionState)

    @property
    def published_streams(self) -> int:
        return sum(feed.started for feed in self.feeds.values())

    def publishers(self) -> list[str | None]:
        """Whose media each sendonly transceiver carries, in m-line order (None: inactive)."""
        return [slot.publisher for slot in self._slots]

    def subscribe(self, publisher: PeerSession) -> None:
        """Show `publisher` to this browser on a free transceiver, or a new one.

        A transceiver is reused only once the browser has answered its `inactive`: a track
        event fires again only after that, so the browser learns the new stream id.
        """
        for kind in KINDS:
            slot = next(
                (
                    s
                    for s in self._slots
                    if s.publisher is None
                    and s.transceiver.kind == kind
                    and s.transceiver.currentDirection == "inactive"
                ),
                None,
            )
            if slot is None:
                outlet = Outlet(kind)
                outlet.link = self.link
                transceiver = self.pc.addTransceiver(outlet.track, direction="sendonly")
                _prefer_codecs(transceiver)
                outlet.take_over(transceiver.sender)
                slot = Slot(transceiver, outlet, None)
                self._slots.append(slot)
            slot.publisher = publisher.peer_id
            label_sender(slot.transceiver.sender, publisher.peer_id, f"{publisher.peer_id}-{kind}")
            slot.transceiver.direction = "sendonly"
            slot.outlet.attach(publisher.feeds[kind])
            slot.outlet.pause(kind == "video" and self._video_off)

    @property
    def _video_off(self) -> bool:
        return self._video_paused or (self.link is not None and self.link.layer is None)

    def pause_video(self, paused: bool) -> None:
        """Send this browser no video (it chose audio only), or send it again."""
        self._video_paused = paused
        self._apply_video_off()

    def _apply_video_off(self) -> None:
        for slot in self._video_slots():
            slot.outlet.pause(self._video_off)

    def _video_slots(self) -> list[Slot]:
        return [slot for slot in self._slots
                if slot.transceiver.kind == "video" and slot.publisher is not None]

    def pictures(self) -> list[tuple[str, Feed]]:
        """Whose video this browser receives, with the feed (publisher id, feed)."""
        return [(slot.publisher, slot.outlet.feed) for slot in self._video_slots()
                if slot.publisher is not None and slot.outlet.feed is not None]

    async def adapt(self, now: float) -> None:
        """Choose the video layer this browser's link carries, apply it, and tell the browser
        what it gets (only when that changed)."""
        if self.link is None:
            return
        pictures = self.pictures()
        feeds = [feed for _, feed in pictures]
        top = max((feed.top_layer for feed in feeds), default=0)
        needs = [sum(feed.needs(layer) for feed in feeds) for layer in range(top + 1)]
        was_off = self._video_off
        before = self.link.layer
        layer = self.link.choose(now, needs, len(feeds))
        if layer != before:
            logger.debug("video layer %s -> %s (estimate allows %.0f kbit/s, layers need %s, "
                        "%.0f %% lost)", before, layer, self.link.budget_bps / 1000,
                        "/".join(f"{need / 1000:.0f}" for need in needs),
                        self.link.recent_loss * 100)
        if self._video_off != was_off:
            self._apply_video_off()
        for slot in self._video_slots():
            slot.outlet.want_layer(ALL_LAYERS if layer is None else layer)
        told = {"paused": layer is None, "layers": {
            publisher: None if layer is None else {
                "layer": min(layer, feed.top_layer), "full": layer >= feed.top_layer}
            for publisher, feed in pictures}}
        if told != self._told_layers and self.pc.connectionState == "connected":
            self._told_layers = told
            await self._send_signal(told)

    def resubscribe(self, publisher: PeerSession) -> None:
        """Show a publisher's new connection on the transceivers that showed its old one: the
        same m-lines and msid, so this browser needs no new offer."""
        for slot in self._slots:
            if slot.publisher == publisher.peer_id:
                slot.outlet.attach(publisher.feeds[slot.transceiver.kind])

    def unsubscribe(self, publisher_id: str) -> None:
        """Stop showing a publisher; its transceivers go inactive and wait for reuse."""
        for slot in self._slots:
            if slot.publisher == publisher_id:
                slot.outlet.detach()
                slot.transceiver.direction = "inactive"
                slot.publisher = None

    async def negotiate(self) -> None:
        """Send a fresh offer, or remember to once the pending one is answered."""
        if self.pc.signalingState != "stable":
            self._renegotiate = True
            return
        self._renegotiate = False
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.resend_offer()

    async def resend_offer(self) -> None:
        """Send the offer waiting for an answer (again: the browser's signaling socket was
        down when it went out); nothing when none waits."""
        description = self.pc.localDescription
        if self.pc.signalingState != "have-local-offer" or description is None:
            return
        await self._send_signal({"description": {"type": description.type, "sdp": description.sdp}})

    async def handle_signal(self, data: Any) -> None:
        """Apply a browser's answer or trickled ICE candidate."""
        if not isinstance(data, dict):
            raise SignalError("data must be an object")
        if "description" in data:
            await self._apply_answer(data["description"])
        elif "candidate" in data:
            await self._apply_candidate(data["candidate"])
        else:
            raise SignalError("data needs `description` or `candidate`")

    async def _apply_answer(self, description: Any) -> None:
        if not isinstance(description, dict) or description.get("type") != "answer":
            raise SignalError("the relay only accepts answers")
        sdp = description.get("sdp")
        if not isinstance(sdp, str) or not sdp.strip():
            raise SignalError("answer without sdp")
        if self.pc.signalingState != "have-local-offer":
            raise SignalError("no offer is waiting for an answer")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            raise SignalError(f"unusable answer ({type(exc).__name__})") from exc
        self._start_feeds()
        if self._renegotiate:
            await self.negotiate()

    async def _apply_candidate(self, candidate: Any) -> None:
        if candidate is None:
            return
        if not isinstance(candidate, dict):
            raise SignalError("candidate must be an object")
        text = candidate.get("candidate")
        if not text:
            return  # end-of-candidates: aiortc keeps checking the pairs it has
        if not isinstance(text, str):
            raise SignalError("candidate must be a string")
        mid = candidate.get("sdpMid")
        index = candidate.get("sdpMLineIndex")
        try:
            parsed = candidate_from_sdp(text.removeprefix("candidate:"))
            parsed.sdpMid = None if mid is None else str(mid)
            parsed.sdpMLineIndex = None if index is None else int(index)
            await self.pc.addIceCandidate(parsed)
        except Exception as exc:
            raise SignalError(f"unusable candidate ({type(exc).__name__})") from exc

    def _start_feeds(self) -> None:
        for kind, transceiver in self._inbound.items():
            feed = self.feeds[kind]
            if not feed.started and transceiver.receiver.track is not None:
                feed.start(transceiver.receiver)
                if kind == "video" and self.link is not None:
                    self.publish_cap = RembCap(transceiver.receiver)

    async def close(self) -> None:
        for slot in self._slots:
            slot.outlet.stop()
        for feed in self.feeds.values():
            await feed.stop()
        await self.pc.close()


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
        for session in list(self.sessions.values()):
            await session.adapt(now)
        for publisher in self.sessions.values():
            if publisher.publish_cap is not None:
                publisher.publish_cap.set(self._publish_limit(publisher))

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
