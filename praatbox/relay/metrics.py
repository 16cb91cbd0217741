"""Prometheus view of the relay: room state and running totals, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .counts import RelayCounts, counts
from .relay import Relay


class RelayState:
    """The relay serving the current web connection (None while disconnected)."""

    def __init__(self) -> None:
        self.relay: Relay | None = None

    def connected(self) -> bool:
        """Ready means connected to the web process, so rooms can be placed here."""
        return self.relay is not None


class RelayCollector(Collector):
    """Turn the relay's rooms and totals into ``praatbox_relay_*`` metrics."""

    def __init__(self, state: RelayState, totals: RelayCounts) -> None:
        self.state = state
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        """Read from the metrics thread: copies of the room dicts, never a lock on the loop."""
        relay = self.state.relay
        rooms = list(relay.rooms.values()) if relay is not None else []
        sessions = [s for room in rooms for s in list(room.sessions.values())]
        yield GaugeMetricFamily("praatbox_relay_rooms", "Rooms served.", value=len(rooms))
        yield GaugeMetricFamily("praatbox_relay_peer_connections",
                                "Browser peer connections.", value=len(sessions))
        yield GaugeMetricFamily("praatbox_relay_published_streams",
                                "Audio and video tracks received from publishers.",
                                value=sum(s.published_streams for s in sessions))
        links = [s.link for s in sessions if s.link is not None]
        yield GaugeMetricFamily("praatbox_relay_video_reduced_subscribers",
                                "Browsers getting only the base video layer: their link is weak.",
                                value=sum(link.reduced for link in links))
        yield GaugeMetricFamily("praatbox_relay_video_paused_subscribers",
                                "Browsers getting no video: their link cannot carry it.",
                                value=sum(link.paused for link in links))
        yield CounterMetricFamily("praatbox_relay_forwarded_frames",
                                  "Media frames handed to subscribers.",
                                  value=self.totals.forwarded_frames)
        yield CounterMetricFamily("praatbox_relay_retransmitted_packets",
                                  "Packets sent again on a subscriber's NACK.",
                                  value=self.totals.retransmitted_packets)
        yield CounterMetricFamily("praatbox_relay_keyframe_requests",
                                  "Keyframe requests (PLI) sent to publishers.",
                                  value=self.totals.keyframe_requests)
        yield CounterMetricFamily("praatbox_relay_bad_frames",
                                  "Signaling frames from the web process dropped as bad.",
                                  value=self.totals.bad_frames)


def relay_registry(state: RelayState, totals: RelayCounts = counts) -> CollectorRegistry:
    """A registry of its own (no process or GC collectors of the default one)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(RelayCollector(state, totals))
    return registry
