"""The web process's Prometheus metrics (prometheus-client): room gauges read from the hub at
scrape time, and the event counters of `web_counters`."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from praatbox.hub import current_hub
from praatbox.web_counters import COUNTERS

# prometheus-client's own setting: a folder where every gunicorn worker keeps its counts.
MULTIPROCESS_SETTING = "PROMETHEUS_MULTIPROC_DIR"


class RoomCounts:
    """Open rooms and connected participants; in Redis mode, those of every web process."""

    def collect(self) -> Iterator[Metric]:
        hub = current_hub()
        rooms, participants = hub.counts()
        yield GaugeMetricFamily(
            "praatbox_rooms", "Open rooms (all web processes when Redis is used).", value=rooms)
        yield GaugeMetricFamily(
            "praatbox_participants",
            "Connected participants (all web processes when Redis is used).", value=participants)
        by_mode = GaugeMetricFamily(
            "praatbox_participants_by_mode",
            "Connected participants by how their room's media flows: p2p, group (through a "
            "relay) or mesh (all web processes when Redis is used).", labels=["mode"])
        for mode, count in hub.participants_by_mode().items():
            by_mode.add_metric([mode], count)
        yield by_mode


def scrape_registry() -> CollectorRegistry:
    """The registry `/metrics` serves: with the multiprocess folder set, the counts of every
    worker read from its files (a scrape reaches only one worker); else this process's."""
    registry = CollectorRegistry()
    registry.register(RoomCounts())
    if os.environ.get(MULTIPROCESS_SETTING):
        multiprocess.MultiProcessCollector(registry)
    else:
        for counter in COUNTERS:
            registry.register(counter)
    return registry


# Counts only, never ids or terms. The collector reads the app of the scraping request, so one
# registry serves every app in the process.
REGISTRY = scrape_registry()
