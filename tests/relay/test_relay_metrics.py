"""The relay serves Prometheus metrics of its rooms and a readiness answer on its own port."""

import asyncio
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from relay_peers import FakeWeb, wait_until

from praatbox.metrics_server import start_metrics_server
from praatbox.relay.config import load_config
from praatbox.relay.counts import counts
from praatbox.relay.layers import LayerSettings
from praatbox.relay.metrics import RelayState, relay_registry
from tests.live import free_port, start_relay
from tests.turn.test_turn_metrics import get

PEERS = ["alice", "bob"]


def samples(base: str) -> dict[str, float]:
    """Every unlabelled sample of /metrics by name."""
    status, body = get(base + "/metrics")
    assert status == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_live_relay_is_ready_once_connected_to_the_web_process(tmp_path, web) -> None:
    port = free_port()
    relay = start_relay(tmp_path, web, {"PRAATBOX_RELAY_METRICS_LISTEN": f"127.0.0.1:{port}"})
    try:
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        figures = samples(f"http://127.0.0.1:{port}")
    finally:
        relay.stop()
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert figures["praatbox_relay_rooms"] == 0
    assert figures["praatbox_relay_bad_frames_total"] == 0


def test_metrics_follow_a_room_and_count_frames() -> None:
    state = RelayState()
    server = start_metrics_server(("127.0.0.1", 0), relay_registry(state), state.connected)
    assert server is not None
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def scenario() -> dict[str, float]:
        assert get(base + "/healthz")[0] == 503  # no web connection yet
        web = FakeWeb(LayerSettings())
        state.relay = web.relay
        try:
            assert get(base + "/healthz")[0] == 200
            before = samples(base)
            await web.open_room("r1", PEERS)

            def flowing() -> bool:
                return all(
                    web.browser("r1", me).frames_from(other, "video")
                    for me in PEERS for other in PEERS if other != me
                )

            await wait_until(flowing, 30, "video between the two peers")
            during = samples(base)
            assert during["praatbox_relay_rooms"] == 1
            assert during["praatbox_relay_peer_connections"] == 2
            assert during["praatbox_relay_published_streams"] == 4
            # Two browsers on loopback: nobody's video reduced or paused.
            assert during["praatbox_relay_video_reduced_subscribers"] == 0
            assert during["praatbox_relay_video_paused_subscribers"] == 0
            assert (during["praatbox_relay_forwarded_frames_total"]
                    > before["praatbox_relay_forwarded_frames_total"])
            # A newcomer needs a keyframe the publishers only send when asked.
            carol = await web.join("r1", "carol")
            await wait_until(lambda: bool(carol.frames_from("alice", "video")), 30, "carol")
            assert (samples(base)["praatbox_relay_keyframe_requests_total"]
                    > before["praatbox_relay_keyframe_requests_total"])
            bad = counts.bad_frames
            await web.relay.handle({"type": "no-such-frame", "room": "r1"})
            await web.relay.handle({"type": "signal"})  # no room
            await wait_until(lambda: counts.bad_frames == bad + 2, 5, "both frames dropped")
            return samples(base)
        finally:
            await web.close()

    try:
        after = asyncio.run(scenario())
    finally:
        server.shutdown()
        server.server_close()
    assert after["praatbox_relay_bad_frames_total"] >= 2


def test_metrics_setting_defaults_to_loopback_and_none_switches_it_off() -> None:
    assert load_config({}).metrics_listen == ("127.0.0.1", 9642)
    assert load_config({"PRAATBOX_RELAY_METRICS_LISTEN": "none"}).metrics_listen is None
    state = RelayState()
    assert start_metrics_server(None, relay_registry(state), state.connected) is None
    with pytest.raises(ValueError):  # a name, not an address: refused at start
        load_config({"PRAATBOX_RELAY_METRICS_LISTEN": "metrics.example.org:9642"})
