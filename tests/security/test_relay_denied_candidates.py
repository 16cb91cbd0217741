"""A browser cannot make the relay probe addresses the peer policy denies (loopback here)."""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import aioice.ice
import pytest
from aioice import Candidate
from aiortc import RTCPeerConnection, RTCSessionDescription

from praatbox.relay.aiortc_hooks import install_peer_policy
from praatbox.relay.config import rtc_configuration
from praatbox.turn.peers import PeerPolicy
from tests.live import LiveServer, start_relay
from tests.relay.relay_peers import wait_until
from tests.security.relay_rooms import group_room, join_room

STUN_MAGIC_COOKIE = b"\x21\x12\xa4\x42"
BINDING_REQUEST = b"\x00\x01"
QUIET_SECONDS = 4.0
CHECK_TIMEOUT_SECONDS = 15.0


def stun_checks(listener: socket.socket) -> int:
    """Count the STUN Binding requests waiting on a non-blocking UDP socket."""
    count = 0
    while True:
        try:
            data = listener.recv(2048)
        except BlockingIOError:
            return count
        count += data[:2] == BINDING_REQUEST and data[4:8] == STUN_MAGIC_COOKIE


def listener() -> socket.socket:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    return udp


def candidate_line(foundation: int, port: int) -> str:
    return f"candidate:{foundation} 1 udp 2130706431 127.0.0.1 {port} typ host"


def answer_naming(sdp: str, port: int) -> str:
    """An answer whose only candidate, in every m-line, is 127.0.0.1:`port`."""
    lines = []
    for line in sdp.split("\r\n"):
        if not line.startswith(("a=candidate:", "a=end-of-candidates")):
            lines.append(line)
        if line.startswith("a=ice-pwd:"):
            lines.append("a=" + candidate_line(1, port))
    return "\r\n".join(lines)


async def probe(
    web: LiveServer, in_sdp: socket.socket, trickled: socket.socket,
    then: Callable[[], Awaitable[None]],
) -> None:
    """Answer the relay's offer naming one listener in the SDP, trickle the other one, then
    await `then` while the call is still up."""
    users, room = group_room(web)
    participants = await join_room(web, users, room)
    browser = RTCPeerConnection(rtc_configuration([]))  # no public STUN server
    try:
        me = participants[0]
        await me.wait_from_relay("description")
        offer = me.from_relay("description")[0]["description"]
        await browser.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await browser.setLocalDescription(await browser.createAnswer())
        sdp = answer_naming(browser.localDescription.sdp, in_sdp.getsockname()[1])
        # Only the answer is needed. A browser that stayed up would send checks of its own; the
        # relay would pair with that source, succeed and stop checking the listeners.
        await browser.close()
        await me.to_relay({"description": {"type": "answer", "sdp": sdp}})
        await me.to_relay({"candidate": {
            "candidate": candidate_line(2, trickled.getsockname()[1]),
            "sdpMid": "0", "sdpMLineIndex": 0}})
        await then()
        assert not me.from_relay("error"), "the relay took the answer and the candidate"
    finally:
        await browser.close()
        for participant in participants:
            await participant.close()


def relay_for(web: LiveServer, folder, allowed: str) -> LiveServer:
    registered = web.log().count("registered")
    relay = start_relay(folder, web, {"PRAATBOX_TURN_ALLOWED_PEERS": allowed,
                                      "PRAATBOX_LOG_LEVEL": "DEBUG"})
    deadline = time.monotonic() + 10
    while web.log().count("registered") == registered and time.monotonic() < deadline:
        time.sleep(0.1)
    return relay


def stop(web: LiveServer, relay: LiveServer) -> None:
    gone = web.log().count("went away")
    relay.stop()
    deadline = time.monotonic() + 10
    while web.log().count("went away") == gone and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.parametrize("allowed", ["", "127.0.0.0/8"], ids=["default", "allow-listed"])
def test_no_check_leaves_for_a_denied_candidate_until_the_operator_allows_it(
    web, tmp_path, allowed
):
    in_sdp, trickled = listener(), listener()
    relay = relay_for(web, tmp_path, allowed)
    checks = {"sdp": 0, "trickled": 0}

    def count_checks() -> bool:
        checks["sdp"] += stun_checks(in_sdp)
        checks["trickled"] += stun_checks(trickled)
        return all(checks.values())

    async def checked() -> None:
        await wait_until(count_checks, CHECK_TIMEOUT_SECONDS, "checks to both candidates")

    async def quiet() -> None:
        await wait_until(lambda: relay.log().count("denied by the peer policy") >= 2,
                         CHECK_TIMEOUT_SECONDS, "the relay to consider both candidates")
        await asyncio.sleep(QUIET_SECONDS)
        count_checks()

    try:
        asyncio.run(probe(web, in_sdp, trickled, checked if allowed else quiet))
        if not allowed:
            assert checks == {"sdp": 0, "trickled": 0}
    finally:
        stop(web, relay)
        in_sdp.close()
        trickled.close()


@pytest.fixture
def policy_patch(monkeypatch):
    """Install a peer policy in this process for one test, and undo it afterwards."""
    monkeypatch.setattr(aioice.ice, "validate_remote_candidate",
                        aioice.ice.validate_remote_candidate)
    monkeypatch.setattr(aioice.ice.Connection, "add_remote_candidate",
                        aioice.ice.Connection.add_remote_candidate)
    lookups: list[str] = []
    answers = {"name.local": "127.0.0.1"}

    class Resolver:
        async def resolve(self, name: str) -> str | None:
            lookups.append(name)
            return answers.get(name)

    async def mdns_protocol(subscriber: object) -> Resolver:
        return Resolver()

    monkeypatch.setattr(aioice.ice, "get_or_create_mdns_protocol", mdns_protocol)
    return lookups, answers


def remote(host: str) -> Candidate:
    return Candidate(foundation="1", component=1, transport="udp", priority=1, host=host,
                     port=9, type="host")


@pytest.mark.parametrize(("allowed", "host", "resolves_to", "looked_up", "kept"), [
    ([], "169.254.169.254", None, False, False),
    ([], "::ffff:169.254.169.254", None, False, False),
    ([], "100.64.1.1", None, False, False),
    ([], "8.8.8.8", None, False, True),
    ([], "name.local", "127.0.0.1", False, False),
    (["224.0.0.0/4"], "name.local", "169.254.169.254", True, False),
    (["224.0.0.0/4", "127.0.0.0/8"], "name.local", "127.0.0.1", True, True),
])
def test_candidates_and_mdns_names_follow_the_peer_policy(
    policy_patch, allowed, host, resolves_to, looked_up, kept
):
    lookups, answers = policy_patch
    answers["name.local"] = resolves_to
    install_peer_policy(PeerPolicy(allowed))

    async def scenario() -> list[Candidate]:
        connection = aioice.ice.Connection(ice_controlling=True)
        await connection.add_remote_candidate(remote(host))
        added = list(connection.remote_candidates)
        await connection.close()
        return added

    assert bool(asyncio.run(scenario())) == kept
    assert bool(lookups) == looked_up
