"""The relay forwards RTP packets: each subscriber gets one continuous stream per m-line, its
lost packets back from the relay's history, and its keyframe requests reach the publisher."""

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator

from aiortc.rtp import RtpPacket
from relay_peers import FakeWeb, is_keyframe, wait_until

from praatbox.relay import vp8
from praatbox.relay.aiortc_hooks import SendParameters
from praatbox.relay.counts import counts
from praatbox.relay.forwarding import RETRANSMIT_SPACING_S, Feed, Outlet
from praatbox.relay.layers import RETRANSMIT_BURST_S, LayerSettings, SubscriberLink

PEERS = ["alice", "bob", "carol"]


def _unwrapped(sequence_numbers: list[int]) -> list[int]:
    """Sequence numbers in arrival order, made monotonic across the 16-bit wrap."""
    out: list[int] = []
    for number in sequence_numbers:
        if out:
            step = (number - out[-1]) % 65536
            number = out[-1] + (step if step < 32768 else step - 65536)
        out.append(number)
    return out


@contextlib.asynccontextmanager
async def flowing_room(frames: int = 10) -> AsyncIterator[FakeWeb]:
    """Room "r1" with PEERS, once video flows between every pair; closed after."""
    web = FakeWeb()
    try:
        await web.open_room("r1", PEERS)

        def flowing() -> bool:
            return all(len(web.browser("r1", me).frames_from(other, "video")) >= frames
                       for me in PEERS for other in PEERS if other != me)

        await wait_until(flowing, 30, "video between every pair")
        yield web
    finally:
        await web.close()


def test_sequence_numbers_stay_contiguous_when_a_subscriber_line_shows_a_rejoined_publisher(
) -> None:
    async def scenario() -> None:
        async with flowing_room() as web:
            bob = web.browser("r1", "bob")
            mid = bob.mid_of("carol", "video")
            ssrc, _ = bob.ssrcs(mid)
            bob_session = web.relay.rooms["r1"].sessions["bob"]
            offers = bob.offers

            # Carol's connection goes and a new one comes: bob's m-line is reused for it.
            await web.leave("r1", "carol")
            await wait_until(lambda: bob.offers > offers
                             and bob_session.pc.signalingState == "stable", 20,
                             "bob to answer the offer without carol")
            before = len(bob.packets(ssrc))
            frames = len(bob.frames_from("carol", "video"))
            carol = await web.join("r1", "carol")
            await wait_until(lambda: len(bob.frames_from("carol", "video")) >= frames + 15
                             and bob.frames_from("carol", "video")[-1].data in carol.video.sent,
                             30, "bob receiving carol's new connection")
            assert bob.mid_of("carol", "video") == mid
            assert bob.ssrcs(mid) == (ssrc, bob.ssrcs(mid)[1])

            packets = bob.packets(ssrc)
            assert before > 0 and len(packets) >= before + 15
            numbers = _unwrapped([p.sequence_number for p in packets])
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), (
                "one run of sequence numbers, no gap and no repeat across the switch")
            timestamps = [p.timestamp for p in packets]
            assert all((b - a) % 2**32 < 2**31 for a, b in zip(timestamps, timestamps[1:],
                                                                strict=False)), (
                "timestamps never go back")
            first_new = packets[before]
            assert first_new.payload[0] & 0x10, "the new source starts at a frame's first packet"

    asyncio.run(scenario())


def test_a_nacked_packet_comes_back_from_the_relay_history_on_the_rtx_stream() -> None:
    async def scenario() -> None:
        async with flowing_room() as web:
            bob = web.browser("r1", "bob")
            mid = bob.mid_of("alice", "video")
            ssrc, rtx_ssrc = bob.ssrcs(mid)
            lost = bob.packets(ssrc)[-5]
            retransmitted = counts.retransmitted_packets

            receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.mid == mid)
            await receiver._send_rtcp_nack(ssrc, [lost.sequence_number])

            def answered() -> list[RtpPacket]:
                return [p for p in bob.packets(rtx_ssrc)
                        if int.from_bytes(p.payload[:2], "big") == lost.sequence_number]

            await wait_until(lambda: bool(answered()), 5, "the retransmission")
            rtx = answered()[0]
            assert rtx.payload[2:] == lost.payload, "the same payload, byte for byte"
            assert rtx.timestamp == lost.timestamp
            assert counts.retransmitted_packets == retransmitted + 1
            # A packet not in the history (never sent, or long gone) is not answered.
            await receiver._send_rtcp_nack(ssrc, [(lost.sequence_number - 1000) % 65536])
            await asyncio.sleep(0.5)
            assert counts.retransmitted_packets == retransmitted + 1

    asyncio.run(scenario())


def _forward_frames(outlet: Outlet, frames: int) -> None:
    """A keyframe, then base-layer frames: one packet of ~1 KB each."""
    for number in range(1, frames + 1):
        payload = _layered(number, 0, keyframe=number == 1) + bytes(1000)
        outlet.forward(_packet(number, payload), vp8.describe(payload), time.time())


def test_a_packet_asked_for_again_and_again_is_sent_again_once_per_interval() -> None:
    """A browser repeats its NACK every round trip (or a malicious one floods them): answering
    each would fill a lossy link with copies, or make the relay an amplifier."""
    outlet, sent = _outlet("video")
    _forward_frames(outlet, 20)
    first = sent[0].sequence_number
    before = len(sent)
    for _ in range(50):
        outlet.retransmit(first)
    assert len(sent) == before + 1
    time.sleep(RETRANSMIT_SPACING_S)
    outlet.retransmit(first)
    assert len(sent) == before + 2, "asked again after the interval: sent again"


def test_retransmissions_fill_at_most_their_share_of_the_subscribers_link() -> None:
    outlet, sent = _outlet("video")
    link = _linked(outlet, 1)
    now = time.monotonic()
    link.estimate(400_000, now)
    link.choose(now, [300_000.0, 500_000.0], 2)  # budget: 85 % of 400 kbit/s
    _forward_frames(outlet, 100)
    before = len(sent)
    for packet in list(sent):  # every packet asked for at once
        outlet.retransmit(packet.sequence_number)
    resent_bytes = sum(len(p.payload) for p in sent[before:])
    share = 0.85 * 400_000 * LayerSettings().retransmit_share / 8
    assert 0 < resent_bytes <= share * RETRANSMIT_BURST_S + 1100


def test_a_member_flooding_nacks_gets_each_packet_again_at_most_once_per_interval() -> None:
    """A malicious member asking for the same packets again and again (50 NACKs of 20 packets
    each): the relay sends each again at most once per RETRANSMIT_SPACING_S, not 50 times."""
    async def scenario() -> None:
        async with flowing_room() as web:
            bob = web.browser("r1", "bob")
            mid = bob.mid_of("alice", "video")
            ssrc, rtx_ssrc = bob.ssrcs(mid)
            numbers = [p.sequence_number for p in bob.packets(ssrc)[-20:]]
            receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.mid == mid)
            before = len(bob.packets(rtx_ssrc))
            started = time.monotonic()
            for _ in range(50):
                await receiver._send_rtcp_nack(ssrc, numbers)
            elapsed = time.monotonic() - started
            await asyncio.sleep(0.5)
            resent = Counter(int.from_bytes(p.payload[:2], "big")
                             for p in bob.packets(rtx_ssrc)[before:])
            assert resent and set(resent) <= set(numbers)
            assert max(resent.values()) <= 1 + elapsed / RETRANSMIT_SPACING_S, resent

    asyncio.run(scenario())


def test_a_subscribers_pli_makes_the_publisher_send_a_keyframe_it_then_receives() -> None:
    async def scenario() -> None:
        async with flowing_room(frames=20) as web:
            bob, alice = web.browser("r1", "bob"), web.browser("r1", "alice")
            mid = bob.mid_of("alice", "video")
            ssrc, _ = bob.ssrcs(mid)
            await asyncio.sleep(0.6)  # past the relay's keyframe request throttle
            keyframes_sent = alice.video.keyframes_sent
            received = len(bob.frames_from("alice", "video"))

            receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.mid == mid)
            await receiver._send_rtcp_pli(ssrc)

            await wait_until(lambda: alice.video.keyframes_sent > keyframes_sent, 5,
                             "alice to be asked for a keyframe")
            await wait_until(
                lambda: any(is_keyframe("video", f.data)
                            for f in bob.frames_from("alice", "video")[received:]),
                5, "the keyframe at bob")

    asyncio.run(scenario())


def test_one_subscribers_loss_costs_the_others_no_frame() -> None:
    async def scenario() -> None:
        async with flowing_room() as web:
            alice, bob, carol = (web.browser("r1", p) for p in PEERS)
            retransmitted = counts.retransmitted_packets
            sent, received = alice.video.frames_sent, len(carol.frames_from("alice", "video"))

            bob.drop_every = 4  # a quarter of bob's packets never arrive: bob sends NACKs
            await wait_until(lambda: alice.video.frames_sent >= sent + 45, 10, "3 s of video")
            await wait_until(lambda: counts.retransmitted_packets > retransmitted, 5,
                             "the relay answering bob's NACKs")
            await asyncio.sleep(0.3)  # the last frames on their way to carol

            assert bob.dropped > 0
            sent_during = alice.video.frames_sent - sent
            received_during = len(carol.frames_from("alice", "video")) - received
            assert received_during >= sent_during - 2, "carol got every frame alice sent"

    asyncio.run(scenario())


def _outlet(kind: str) -> tuple[Outlet, list[RtpPacket]]:
    """An outlet attached to a feed, writing into a list instead of a subscriber's transport."""
    sent: list[RtpPacket] = []

    def write(data: bytes) -> bool:
        sent.append(RtpPacket.parse(data))
        return True

    outlet = Outlet(kind)
    outlet.sender_started(SendParameters(
        ssrc=1111, rtx_ssrc=2222, payload_type=111, rtx_payload_type=None, clock_rate=48000,
        mid="2", mid_extension_id=1, abs_send_time_extension_id=None,
        audio_level_extension_id=None), write)
    outlet.attach(Feed(kind))
    return outlet, sent


def _packet(sequence_number: int, payload: bytes = b"\x01") -> RtpPacket:
    return RtpPacket(payload_type=96, sequence_number=sequence_number % 65536,
                     timestamp=960 * sequence_number, ssrc=5, payload=payload)


def test_an_outlet_keeps_numbering_a_long_stream_across_the_publishers_wrap() -> None:
    outlet, sent = _outlet("audio")
    for number in range(60_000, 130_000):  # more than the 16-bit space, wrapping on the way
        outlet.forward(_packet(number), None, 0.0)
    numbers = [p.sequence_number for p in sent]
    assert len(numbers) == 70_000
    assert all((b - a) % 65536 == 1 for a, b in zip(numbers, numbers[1:], strict=False))
    assert {p.ssrc for p in sent} == {1111} and {p.payload_type for p in sent} == {111}


def test_an_outlet_drops_what_came_before_its_start_and_keeps_reordered_packets() -> None:
    outlet, sent = _outlet("audio")
    for number in (100, 101, 99, 103, 102):
        outlet.forward(_packet(number), None, 0.0)
    first = sent[0].sequence_number
    assert [(p.sequence_number - first) % 65536 for p in sent] == [0, 1, 3, 2]
    assert [p.payload for p in sent] == [b"\x01"] * 4


def test_a_video_outlet_starts_at_the_first_packet_of_a_keyframe() -> None:
    outlet, sent = _outlet("video")
    delta, keyframe = b"\x10\x01\x02", b"\x10\x00\x02"  # VP8: S=1 partition 0, then the P bit
    for number, payload in ((1, delta), (2, keyframe), (3, b"\x00\x55"), (4, delta)):
        outlet.forward(_packet(number, payload), vp8.describe(payload), 0.0)
    assert [p.payload for p in sent] == [keyframe, b"\x00\x55", delta]


def test_a_paused_video_outlet_sends_nothing_and_resumes_at_a_keyframe_in_sequence() -> None:
    outlet, sent = _outlet("video")
    delta, keyframe = b"\x10\x01\x02", b"\x10\x00\x02"
    for number, payload, paused in ((1, keyframe, False), (2, delta, False), (3, keyframe, True),
                                    (4, delta, True), (5, delta, False), (6, keyframe, False),
                                    (7, delta, False)):
        outlet.pause(paused)  # audio only, then video again
        outlet.forward(_packet(number, payload), vp8.describe(payload), 0.0)
    assert [p.payload for p in sent] == [keyframe, delta, keyframe, delta]
    numbers = [p.sequence_number for p in sent]
    assert all((b - a) % 65536 == 1 for a, b in zip(numbers, numbers[1:], strict=False))


def _linked(outlet: Outlet, layer: int) -> SubscriberLink:
    """Give the outlet a subscriber link that chose `layer`."""
    outlet.link = SubscriberLink(LayerSettings())
    outlet.link.layer = layer
    return outlet.link


def _layered(picture_id: int, temporal_id: int, *, keyframe: bool = False, sync: bool = False,
             start: bool = True) -> bytes:
    """A VP8 payload as Chromium sends L1T2: picture id, TL0PICIDX and the layer in front."""
    first = 0x80 | (0x10 if start else 0)
    return (bytes([first, 0xE0, 0x80 | picture_id >> 8, picture_id & 0xFF, 3,
                   temporal_id << 6 | (0x20 if sync else 0)])
            + (b"\x00" if keyframe else b"\x01") + bytes([picture_id & 0xFF]))


def test_a_video_outlet_on_the_base_layer_leaves_out_the_upper_one_without_gaps() -> None:
    outlet, sent = _outlet("video")
    _linked(outlet, 0)
    number = 0
    # Frames of two packets each: a keyframe, then layers 1, 0, 1, 0 ...
    for picture in range(10):
        layer = 0 if picture % 2 == 0 else 1
        for start in (True, False):
            number += 1
            payload = _layered(picture, layer, keyframe=picture == 0, start=start)
            outlet.forward(_packet(number, payload), vp8.describe(payload), 0.0)
    assert len(sent) == 10, "five base frames of two packets"
    numbers = [p.sequence_number for p in sent]
    assert all((b - a) % 65536 == 1 for a, b in zip(numbers, numbers[1:], strict=False))
    pictures = [vp8.describe(p.payload).picture_id for p in sent]  # type: ignore[union-attr]
    assert pictures == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], "picture ids close up too"
    assert [p.payload[-1] for p in sent][::2] == [0, 2, 4, 6, 8], "the base frames, in order"


def test_a_video_outlet_takes_the_upper_layer_again_at_a_layer_sync_frame() -> None:
    outlet, sent = _outlet("video")
    link = _linked(outlet, 0)
    frames = [(0, 0, True, False), (1, 1, False, False), (2, 0, False, False)]
    frames += [(3, 1, False, False), (4, 0, False, False), (5, 1, False, True),
               (6, 0, False, False), (7, 1, False, False)]
    for number, (picture, layer, keyframe, sync) in enumerate(frames, start=1):
        if picture == 3:
            link.layer = 1  # the link has room again: from the next sync frame on
        payload = _layered(picture, layer, keyframe=keyframe, sync=sync)
        outlet.forward(_packet(number, payload), vp8.describe(payload), 0.0)
    assert [p.payload[-1] for p in sent] == [0, 2, 4, 5, 6, 7]
    assert [vp8.describe(p.payload).picture_id for p in sent] == [  # type: ignore[union-attr]
        0, 1, 2, 3, 4, 5]
    assert outlet.layer == 1


def test_a_late_packet_of_a_left_out_layer_still_fills_its_place() -> None:
    """A retransmission from the publisher arriving after its layer was dropped: later numbers
    counted it, so it goes out rather than leave a gap the browser would ask for."""
    outlet, sent = _outlet("video")
    key, upper_head, upper_tail = (_layered(0, 0, keyframe=True), _layered(1, 1),
                                   _layered(1, 1, start=False))
    outlet.forward(_packet(1, key), vp8.describe(key), 0.0)
    outlet.forward(_packet(2, upper_head), vp8.describe(upper_head), 0.0)
    _linked(outlet, 0)
    base = _layered(2, 0)
    outlet.forward(_packet(4, base), vp8.describe(base), 0.0)  # frame 1's tail (3) still missing
    outlet.forward(_packet(3, upper_tail), vp8.describe(upper_tail), 0.0)
    numbers = sorted(p.sequence_number for p in sent)
    assert numbers == list(range(numbers[0], numbers[0] + 4))
