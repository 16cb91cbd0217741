"""Flooding the signaling socket, as an attacker does it: valid maximum-size signals to a room
peer, sent as fast as the connection takes them. The flood must cost only the flooder."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.signaling.client import connect, join, pair, receive, run

MAX_FRAME_BYTES = 60_000  # the codec refuses frames over 64 KiB
FLOOD_TIMEOUT_SECONDS = 30.0
FLOOD_LOG_LINE = "sent too fast"


def offer(to: str, sdp_bytes: int) -> str:
    sdp = "v=0\r\n" + "a=candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host\r\n" * (
        sdp_bytes // 60)
    return json.dumps({"type": "signal", "to": to,
                       "data": {"description": {"type": "offer", "sdp": sdp}}})


def candidate(to: str, number: int) -> str:
    line = f"candidate:{number} 1 udp 2122260223 192.168.1.{number} {50000 + number} typ host"
    return json.dumps({"type": "signal", "to": to,
                       "data": {"candidate": {"candidate": line, "sdpMid": "0",
                                              "sdpMLineIndex": 0}}})


async def drain(ws: websockets.ClientConnection, timeout: float = 2.0) -> list[dict]:
    """Everything the socket has received until it goes quiet."""
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        return frames


def flood_lines(web, since: int) -> list[str]:
    return [line for line in web.log()[since:].splitlines() if FLOOD_LOG_LINE in line]


async def flood_until_closed(web, user, room, victim_id: str) -> str:
    """Send maximum-size signals to the victim until the server closes the socket; return the
    flooder's peer id after checking how it was told."""
    flooder = await connect(web, user, room)
    flooder_id = (await receive(flooder, "welcome"))["self"]
    frame = offer(victim_id, MAX_FRAME_BYTES - 3_000)
    assert len(frame) < MAX_FRAME_BYTES
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(FLOOD_TIMEOUT_SECONDS):
            while True:
                await flooder.send(frame)
                await asyncio.sleep(0)  # read what comes back, as a browser's event loop does
    assert flooder.close_code == 1008 and flooder.close_reason == "sending too fast"
    told = [f for f in await drain(flooder) if f["type"] == "error"]
    assert told and told[-1]["code"] == "rate-limited"
    return flooder_id


def test_a_flooder_is_closed_and_its_slow_peer_keeps_receiving(web):
    counsellor, client, room = pair(web)
    log_start = len(web.log())

    async def scenario():
        victim = await connect(web, counsellor, room)  # reads nothing while the flood lasts
        victim_id = (await receive(victim, "welcome"))["self"]
        flooder_id = await flood_until_closed(web, client, room, victim_id)
        with pytest.raises(websockets.InvalidStatus) as refused:  # no fresh budget by reconnecting
            await connect(web, client, room)
        assert refused.value.response.status_code == 429

        frames = await drain(victim)
        assert [f for f in frames if f["type"] == "signal" and f["from"] == flooder_id]
        assert {"type": "peer-left", "peer": flooder_id, "reason": "disconnected"} in frames
        await victim.send('{"type": "ping"}')
        assert await receive(victim, "pong")  # still connected
        await victim.close()

    run(scenario())
    assert len(flood_lines(web, log_start)) == 1  # one for the flooder, not one per frame
    assert "outbox full" not in web.log()[log_start:]


def test_a_reconnect_burst_passes_untouched(web):
    counsellor, client, room = pair(web)
    log_start = len(web.log())

    async def scenario():
        peer, _ = await join(web, counsellor, room)
        joiner = await connect(web, client, room)
        peer_id = (await receive(joiner, "welcome"))["peers"][0]
        # One offer, its 40 candidates and two renegotiations, all at once, as a large real
        # offer (a dozen tracks) would be sent after a reload.
        burst = [offer(peer_id, 20_000)] + [candidate(peer_id, n) for n in range(1, 41)]
        burst += [offer(peer_id, 20_000), offer(peer_id, 20_000), '{"type": "ping"}']
        for frame in burst:
            await joiner.send(frame)
        assert await receive(joiner, "pong")
        signals = [f for f in await drain(peer) if f["type"] == "signal"]
        assert [s["data"] for s in signals] == [json.loads(f)["data"] for f in burst[:-1]]
        assert not [f for f in await drain(joiner, 0.5) if f["type"] == "error"]
        await joiner.send('{"type": "ping"}')
        assert await receive(joiner, "pong")
        await joiner.close()
        await peer.close()

    run(scenario())
    assert flood_lines(web, log_start) == []
