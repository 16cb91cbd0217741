"""Prometheus view of the TURN server: counters the server already keeps, read at scrape time.

Nothing here runs per packet: the collector reads plain integers when Prometheus scrapes.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from praatbox.turn.server import TurnServer

QUOTA_KINDS = ("user", "address", "total")


class TurnCollector(Collector):
    """Turn one server's counts into ``praatbox_turn_*`` metrics."""

    def __init__(self, server: TurnServer) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        """Read the server's counts (from the metrics thread: plain reads, no locks needed)."""
        server = self.server
        stats = server.handler.stats
        yield GaugeMetricFamily("praatbox_turn_allocations", "Live allocations.",
                                value=len(server.table))
        yield CounterMetricFamily("praatbox_turn_allocations_created",
                                  "Allocations created.", value=stats["allocate"])
        refusals = CounterMetricFamily("praatbox_turn_quota_refusals",
                                       "Allocate requests refused by a quota.", labels=["quota"])
        for kind in QUOTA_KINDS:
            refusals.add_metric([kind], server.table.refusals[kind])
        yield refusals
        yield CounterMetricFamily("praatbox_turn_unauthorized",
                                  "Requests answered 401 (challenge or wrong credentials).",
                                  value=stats["error_401"])
        packets = CounterMetricFamily("praatbox_turn_relayed_packets", "Packets relayed.",
                                      labels=["direction"])
        packets.add_metric(["to_peer"], server.packets_to_peer)
        packets.add_metric(["to_client"], server.packets_to_client)
        yield packets
        sizes = CounterMetricFamily("praatbox_turn_relayed_bytes",
                                    "Payload bytes relayed.", labels=["direction"])
        sizes.add_metric(["to_peer"], server.bytes_to_peer)
        sizes.add_metric(["to_client"], server.bytes_to_client)
        yield sizes
        yield GaugeMetricFamily("praatbox_turn_connections", "Open TCP and TLS connections.",
                                value=len(server.connections))


def turn_registry(server: TurnServer) -> CollectorRegistry:
    """A registry of its own (no process or GC collectors of the default one)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(TurnCollector(server))
    return registry
