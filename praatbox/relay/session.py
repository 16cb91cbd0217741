"""One browser's connection to the relay: what it publishes, and the m-lines it receives on.

In each browser's connection the first audio and video m-lines carry what the browser
publishes (recvonly here); every other m-line carries one publisher's track (sendonly), tagged
with the publisher's peer id as MediaStream id. The session also weighs its browser's link
(`layers.py`) and applies the choice to its video outlets.
"""

from __future__ import annotations

import logging
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
from .forwarding import Feed, Outlet
from .layers import LayerSettings, SubscriberLink

logger = logging.getLogger(__name__)

KINDS = ("audio", "video")
# Only these reach the browsers: VP8 keyframes can be told from the clear payload header (group
# E2EE keeps it clear), and every browser decodes it.
PREFERRED_MIME_TYPES = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}

Frame = dict[str, Any]
Send = Callable[[Frame], Awaitable[None]]



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
        if self._video_paused and not paused and self.link is not None:
            self.link.resume()
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

    def adapt(self, now: float) -> None:
        """Choose the video layer this browser's link carries, and apply it; not while it
        chose audio only (no video, no feedback to judge its link by: a try would always
        look clean). Publishers stay held for it meanwhile: its video comes back whole."""
        if self.link is None or self._video_paused:
            return
        feeds = [feed for _, feed in self.pictures()]
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

    async def tell_layers(self, held: bool) -> None:
        """Tell this browser what it gets of each publisher's video, and whether its own video
        is held back for someone else's link (its send estimate then says nothing about its
        own link); only when that changed."""
        if self.link is None:
            return
        layer = self.link.layer
        told = {"paused": layer is None, "held": held, "layers": {
            publisher: None if layer is None else {
                "layer": min(layer, feed.top_layer), "full": layer >= feed.top_layer}
            for publisher, feed in self.pictures()}}
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
