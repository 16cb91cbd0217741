"""The web process's Prometheus metrics (prometheus-client), read from the hub at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric

from praatbox.hub import current_hub


class RoomCounts:
    """Open rooms and connected participants; in Redis mode, those of every web process."""

    def collect(self) -> Iterator[Metric]:
        rooms, participants = current_hub().counts()
        yield GaugeMetricFamily(
            "praatbox_rooms", "Open rooms (all web processes when Redis is used).", value=rooms)
        yield GaugeMetricFamily(
            "praatbox_participants",
            "Connected participants (all web processes when Redis is used).", value=participants)


# Counts only, never ids or terms. The collector reads the app of the scraping request, so one
# registry serves every app in the process.
REGISTRY = CollectorRegistry()
REGISTRY.register(RoomCounts())
