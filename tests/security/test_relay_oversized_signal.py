"""No signal a browser may send knocks the media relay off: the relay's other rooms keep flowing."""

import asyncio
import json

import pytest

from praatbox.signaling.protocol import MAX_FORWARD_BYTES, MAX_MESSAGE_BYTES, ProtocolError, encode
from tests.live import start_relay
from tests.relay.relay_peers import wait_until
from tests.security.relay_rooms import Participant, aiortc_browsers, group_room, join_room

# 60 KB in UTF-8, under the 64 KiB frame limit; 180 KB if forwarded as \u00e9 escapes.
ESCAPED_SDP = "é" * 30_000
ATTACKS = 4
FRAMES_AFTER_ATTACK = 15  # one second of video from every publisher to every subscriber


@pytest.fixture(scope="module")
def relay(web, tmp_path_factory):
    process = start_relay(tmp_path_factory.mktemp("relay"), web)
    yield process
    process.stop()


def video_frames(room: list[Participant]) -> dict[tuple[str, str], int]:
    """Video frames each participant received from each other one."""
    return {
        (me.peer_id, other.peer_id): len(me.browser.frames_from(other.peer_id, "video"))
        for me in room for other in room if other is not me and me.browser is not None
    }


def test_escaped_sdp_under_the_frame_limit_leaves_the_relay_and_its_other_rooms_running(
    web, relay
):
    (good_users, good_room), (bad_users, bad_room) = group_room(web), group_room(web)

    async def scenario() -> None:
        with aiortc_browsers():
            good = await join_room(web, good_users, good_room, media=True)
            bad = await join_room(web, bad_users, bad_room)
            try:
                await wait_until(lambda: min(video_frames(good).values()) >= 10, 30,
                                 "video between the three people of the other room")
                attacker = bad[0]
                await attacker.wait_from_relay("description")
                before = video_frames(good)
                for number in range(ATTACKS):
                    # A lone surrogate cannot be UTF-8: the web must escape it, not choke on it.
                    sdp = ESCAPED_SDP if number % 2 else "\ud800" + ESCAPED_SDP
                    await attacker.to_relay({"description": {"type": "answer", "sdp": sdp}})
                    await asyncio.sleep(0.5)
                await attacker.wait_from_relay("error", ATTACKS)
                # Over the frame limit, the web refuses the frame itself.
                await attacker.to_relay({"description": {"type": "answer", "sdp": "é" * 33_000}})
                await wait_until(lambda: len(attacker.of_type("error")) == 1, 10, "too-large")
                assert attacker.of_type("error")[0]["code"] == "too-large"

                await wait_until(
                    lambda: all(count >= before[pair] + FRAMES_AFTER_ATTACK
                                for pair, count in video_frames(good).items()),
                    20, "the other room's video after the attack")
                assert all(f["mode"] == "group" for p in good for f in p.of_type("mode"))
                assert len(attacker.from_relay("error")) == ATTACKS
            finally:
                for participant in good + bad:
                    await participant.close()

    asyncio.run(scenario())
    assert "went away" not in web.log()
    relay_log = relay.log()
    assert relay_log.count("connected to the web process") == 1
    assert relay_log.count("rejected a signal") == ATTACKS, "one log line per bad answer"


def test_forwards_stay_unescaped_and_within_what_a_relay_accepts():
    for sdp in (ESCAPED_SDP, "\ud800" + ESCAPED_SDP, "x\\\udfff\""):
        message = {"type": "signal", "room": "r" * 64, "from": "p" * 32,
                   "data": {"description": {"type": "answer", "sdp": sdp}}}
        text = encode(message)
        assert json.loads(text) == message
        assert len(text.encode("utf-8")) <= MAX_FORWARD_BYTES
    # The largest frame a browser may send, forwarded: it still fits.
    sdp = "é" * ((MAX_MESSAGE_BYTES - 100) // 2)
    frame = json.dumps({"type": "signal", "to": "relay",
                        "data": {"description": {"type": "answer", "sdp": sdp}}},
                       ensure_ascii=False)
    assert len(frame.encode()) <= MAX_MESSAGE_BYTES
    forward = {"type": "signal", "room": "r" * 64, "from": "p" * 32,
               "data": json.loads(frame)["data"]}
    assert len(encode(forward).encode()) > len(frame.encode())
    with pytest.raises(ProtocolError) as refused:
        encode({"type": "signal", "data": {"description": {"sdp": "x" * MAX_FORWARD_BYTES}}})
    assert refused.value.code == "too-large"
