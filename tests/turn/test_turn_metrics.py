"""`python -m praatbox.turn` serves Prometheus metrics and a readiness answer on its own port."""

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint
from prometheus_client.parser import text_string_to_metric_families

from praatbox.credentials import issue_turn_credentials
from praatbox.keys import TURN_REST, derive_key
from praatbox.metrics_server import parse_listen
from praatbox.turn.config import DEFAULT_METRICS_LISTEN
from tests.live import LIVE_SECRET, free_port, start_turn
from tests.turn.test_server_aioice import Inbox, echo, start_echo_peer

HTTP_TIMEOUT_SECONDS = 5
DEFAULT_METRICS_ADDRESS = parse_listen(None, DEFAULT_METRICS_LISTEN)
PACKETS = 6  # test_server_aioice.echo sends six payloads and waits for each to come back


def get(url: str) -> tuple[int, bytes]:
    """GET `url`; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by name and sorted labels."""
    status, body = get(base + "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def credentials(user: str) -> tuple[str, str]:
    return issue_turn_credentials(derive_key(LIVE_SECRET, TURN_REST), user, 3600, time.time())


def test_metrics_count_allocations_refusals_and_relayed_packets(tmp_path) -> None:
    metrics_port = free_port()
    base = f"http://127.0.0.1:{metrics_port}"
    turn, port = start_turn(tmp_path, {
        "PRAATBOX_TURN_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
        "PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8",
        "PRAATBOX_TURN_USER_QUOTA": "1",
    })
    try:
        status, body = get(base + "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        before = samples(base)
        assert before[("praatbox_turn_allocations", ())] == 0

        async def scenario() -> None:
            peer_transport, _ = await start_echo_peer()
            user = credentials("visitor")
            endpoint, inbox = await create_turn_endpoint(Inbox, ("127.0.0.1", port), *user)
            await echo(endpoint, inbox, peer_transport.get_extra_info("sockname"))
            during = samples(base)
            assert during[("praatbox_turn_allocations", ())] == 1
            with pytest.raises(stun.TransactionFailed):  # the same user: over its quota of one
                await create_turn_endpoint(Inbox, ("127.0.0.1", port), *user)
            endpoint.close()
            await asyncio.wait_for(inbox.closed.wait(), HTTP_TIMEOUT_SECONDS)
            peer_transport.close()

        asyncio.run(scenario())
        after = samples(base)
    finally:
        turn.stop()
    assert after[("praatbox_turn_allocations_created_total", ())] == 1
    assert after[("praatbox_turn_quota_refusals_total", (("quota", "user"),))] == 1
    assert after[("praatbox_turn_quota_refusals_total", (("quota", "total"),))] == 0
    assert after[("praatbox_turn_unauthorized_total", ())] >= 1  # the first answer challenges
    for direction in ("to_peer", "to_client"):
        labels = (("direction", direction),)
        assert after[("praatbox_turn_relayed_packets_total", labels)] >= PACKETS
        assert after[("praatbox_turn_relayed_bytes_total", labels)] > 0
    assert after[("praatbox_turn_connections", ())] == 0


def test_metrics_setting_none_serves_nothing(tmp_path) -> None:
    turn, _ = start_turn(tmp_path, {"PRAATBOX_TURN_METRICS_LISTEN": "none"})
    try:
        with pytest.raises(ConnectionRefusedError):  # not on the default port either
            socket.create_connection(DEFAULT_METRICS_ADDRESS, HTTP_TIMEOUT_SECONDS).close()
    finally:
        turn.stop()
    assert "metrics" not in turn.log()


def test_taken_metrics_port_leaves_the_server_running_without_metrics(tmp_path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        turn, _ = start_turn(tmp_path, {"PRAATBOX_TURN_METRICS_LISTEN": f"127.0.0.1:{taken}"})
        try:
            assert turn.process.poll() is None
            assert "running without metrics" in turn.log()
        finally:
            turn.stop()

