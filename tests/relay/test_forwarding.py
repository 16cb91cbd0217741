"""The relay forwards encoded media between aiortc peers without decoding it."""

import asyncio
import time

import aiortc.rtcrtpreceiver
import pytest
from aiortc import RTCRtpReceiver
from relay_peers import FakeWeb, is_keyframe, wait_until

from praatbox.relay.aiortc_hooks import PassThroughDecoder, check_hooks

PEERS = ["alice", "bob", "carol"]


def test_every_peer_receives_the_others_frames_byte_for_byte() -> None:
    async def scenario() -> None:
        web = FakeWeb()
        try:
            await web.open_room("r1", PEERS)

            def all_flowing() -> bool:
                return all(
                    len(web.browser("r1", me).frames_from(other, kind)) >= 10
                    for me in PEERS
                    for other in PEERS
                    if other != me
                    for kind in ("audio", "video")
                )

            await wait_until(all_flowing, 30, "media from every publisher at every subscriber")
            for me in PEERS:
                browser = web.browser("r1", me)
                assert not browser.frames_from(me, "video"), "nobody receives their own media"
                for other in PEERS:
                    if other == me:
                        continue
                    publisher = web.browser("r1", other)
                    for kind, source in (("video", publisher.video), ("audio", publisher.audio)):
                        frames = browser.frames_from(other, kind)
                        assert all(f.data in source.sent for f in frames), "frames were altered"
            relay_room = web.relay.rooms["r1"]
            assert relay_room.published_streams == 2 * len(PEERS)
            assert web.relay.load() == (1, 6)
            assert any(f["type"] == "relay-load" and f["streams"] == 6 for f in web.frames)
        finally:
            await web.close()

    asyncio.run(scenario())


def test_relay_receivers_use_the_pass_through_decoder() -> None:
    codec = aiortc.rtcrtpreceiver.RTCRtpCodecParameters(
        mimeType="video/VP8", clockRate=90000, payloadType=96
    )
    assert isinstance(aiortc.rtcrtpreceiver.get_decoder(codec), PassThroughDecoder)


def test_late_subscriber_gets_a_keyframe_within_two_seconds() -> None:
    async def scenario() -> None:
        web = FakeWeb()
        try:
            await web.open_room("r1", ["alice", "bob"])
            bob = web.browser("r1", "bob")
            await wait_until(lambda: len(bob.frames_from("alice", "video")) >= 15, 30, "bob")
            # Publishers send no keyframes of their own after the first: only a forwarded
            # PLI can produce one for the newcomer.
            keyframes_before = web.browser("r1", "alice").video.keyframes_sent
            carol = await web.join("r1", "carol")
            await wait_until(lambda: carol.pc.connectionState == "connected", 30, "carol connected")
            connected_at = time.monotonic()
            await wait_until(lambda: bool(carol.frames_from("alice", "video")), 10, "a frame")
            first = carol.frames_from("alice", "video")[0]
            assert is_keyframe("video", first.data), "the newcomer's video starts at a keyframe"
            assert first.at - connected_at < 2.0
            assert web.browser("r1", "alice").video.keyframes_sent > keyframes_before
        finally:
            await web.close()

    asyncio.run(scenario())


def test_the_installed_aiortc_and_aioice_offer_every_private_name_the_relay_hooks_into():
    check_hooks()  # raises, naming what is missing, at the relay's start


def test_an_aiortc_upgrade_that_drops_a_hooked_name_stops_the_relay_at_start(monkeypatch):
    monkeypatch.delattr(RTCRtpReceiver, "_send_rtcp_pli")
    with pytest.raises(RuntimeError, match="_send_rtcp_pli is missing"):
        check_hooks()
