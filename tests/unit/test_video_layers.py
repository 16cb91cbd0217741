"""The relay's pure parts of adapting video to a subscriber's link: the VP8 payload descriptor,
renumbering without gaps, and the layer choice from the subscriber's feedback."""

import math

import pytest

from praatbox.relay import vp8
from praatbox.relay.layers import ALL_LAYERS, LayerSettings, SubscriberLink
from praatbox.relay.renumber import Renumbering


def vp8_payload(picture_id: int, temporal_id: int, *, start: bool = True, keyframe: bool = False,
                sync: bool = False) -> bytes:
    """X, I (15-bit picture id), L and T set, as Chromium writes them for L1T2."""
    first = 0x80 | (0x10 if start else 0)
    tid = temporal_id << 6 | (0x20 if sync else 0)
    header = bytes([first, 0xE0, 0x80 | picture_id >> 8, picture_id & 0xFF, 7, tid])
    return header + (b"\x00\x9d" if keyframe else b"\x01\x9d")


def test_the_descriptor_gives_layer_sync_picture_id_and_keyframe():
    descriptor = vp8.describe(vp8_payload(300, 1, sync=True))
    assert descriptor is not None
    assert (descriptor.starts_frame, descriptor.keyframe, descriptor.picture_id,
            descriptor.temporal_id, descriptor.layer_sync) == (True, False, 300, 1, True)
    key = vp8.describe(vp8_payload(5, 0, keyframe=True))
    assert key is not None and key.keyframe and key.temporal_id == 0
    middle = vp8.describe(vp8_payload(5, 0, start=False, keyframe=True))
    assert middle is not None and not middle.starts_frame and not middle.keyframe
    # Without the extension: no layers, no picture id; the classic keyframe bit still counts.
    plain = vp8.describe(b"\x10\x00\x02")
    assert plain is not None and plain.keyframe and plain.temporal_id is None
    assert plain.picture_id is None


@pytest.mark.parametrize("payload", [b"", b"\x80", b"\x80\x80", b"\x80\x80\x81", b"\x80\x20"])
def test_a_truncated_descriptor_is_refused_not_misread(payload):
    assert vp8.describe(payload) is None


def test_a_new_picture_id_keeps_every_other_byte():
    payload = vp8_payload(32767, 1, sync=True) + b"frame data"
    descriptor = vp8.describe(payload)
    assert descriptor is not None
    rewritten = vp8.with_picture_id(payload, descriptor, 12)
    again = vp8.describe(rewritten)
    assert again is not None and again.picture_id == 12 and again.layer_sync
    assert rewritten[:2] == payload[:2] and rewritten[4:] == payload[4:]


def _through(numbering: Renumbering, numbers, leave_out=()):
    out = []
    for number in numbers:
        position = numbering.extend(number)
        if position is None:
            out.append(None)
        elif number in leave_out and position == numbering.newest:
            numbering.leave_out(position)
        else:
            out.append(numbering.output(position))
    return out


def test_numbers_left_out_close_up_and_a_late_one_keeps_its_place():
    numbering = Renumbering(1 << 16, 1000)
    numbering.anchor(50)
    # 53 and 54 are left out; 52 arrives late, after 55: it goes into its own place.
    assert _through(numbering, [50, 51, 53, 54, 55, 52, 56], leave_out={53, 54}) == [
        1000, 1001, 1003, 1002, 1004]


def test_numbering_runs_on_across_the_wrap_and_a_new_source():
    numbering = Renumbering(1 << 16, 65530)
    numbering.anchor(65534)
    first = _through(numbering, [65534, 65535, 0, 1, 2], leave_out={0})
    assert first == [65530, 65531, 65532, 65533]
    numbering.anchor(7)  # the publisher came back with new numbers
    assert _through(numbering, [7, 8, 6]) == [65534, 65535, None]  # 6: before the new start


def test_keeping_the_first_sources_own_numbers():
    numbering = Renumbering(vp8.PICTURE_ID_MODULO)
    numbering.anchor(32000)
    assert _through(numbering, [32000, 32001, 32767, 0]) == [32000, 32001, 32767, 0]


def test_only_the_newest_number_can_be_left_out():
    numbering = Renumbering(1 << 16, 0)
    numbering.anchor(10)
    numbering.extend(11)
    with pytest.raises(ValueError):
        numbering.leave_out(10)


SETTINGS = LayerSettings()
NEEDS = [300_000.0, 500_000.0]  # two pictures: base layers, all layers


def _run(link: SubscriberLink, seconds: float, start: float, *, estimate: float | None = None,
         loss: float | None = None, needs=NEEDS, step: float = 0.5):
    """Feed readings every `step` s and let the link choose; returns the layers chosen."""
    chosen = []
    now = start
    while now < start + seconds:
        if estimate is not None:
            link.estimate(estimate, now)
        if loss is not None:
            link.loss(loss, now)
        chosen.append(link.choose(now, needs, 2))
        now += step
    return chosen


def test_a_link_without_feedback_gets_every_layer():
    link = SubscriberLink(SETTINGS)
    assert set(_run(link, 5, 0.0)) == {1}  # the top of what is sent
    assert link.layer == ALL_LAYERS
    assert link.publisher_rate_for(0.6, 2) is None


def test_loss_steps_down_at_once_and_asks_publishers_for_what_fits():
    link = SubscriberLink(SETTINGS)
    _run(link, 2, 0.0, estimate=700_000)
    assert _run(link, 0.5, 2.0, estimate=400_000, loss=0.3) == [0]
    assert link.reduced and not link.paused  # what the relay's metrics count
    # Its base layers must fit 85 % of 400 kbit/s over two pictures, at a 60 % base share.
    assert link.publisher_rate_for(0.6, 2) == pytest.approx(0.85 * 400_000 / 2 / 0.6)


def test_a_clean_link_is_probed_and_the_layer_kept_while_the_estimate_climbs():
    link = SubscriberLink(SETTINGS)
    _run(link, 0.5, 0.0, estimate=400_000, loss=0.3)
    assert link.layer == 0
    # Clean again; the estimate (about what is sent) is below what every layer needs.
    chosen = _run(link, 10, 0.5, estimate=360_000, loss=0.0)
    assert 1 in chosen
    first_up = chosen.index(1)
    assert first_up * 0.5 <= SETTINGS.clean_before_probe_s + SETTINGS.first_probe_wait_s + 0.5
    assert set(chosen[first_up:]) == {1}, "a rising estimate is no reason to go back down"


def test_a_failed_probe_is_tried_again_after_a_few_seconds_not_at_once():
    link = SubscriberLink(SETTINGS)
    now = 0.0
    link.estimate(400_000, now)
    link.loss(0.3, now)
    link.choose(now, NEEDS, 2)
    probes = []
    while now < 40:
        now += 0.5
        link.estimate(400_000, now)
        link.loss(0.3 if link.layer == 1 else 0.0, now)  # the upper layer does not fit
        if link.choose(now, NEEDS, 2) == 1:
            probes.append(now)
    gaps = [b - a for a, b in zip(probes, probes[1:], strict=False)]
    assert len(probes) >= 5
    assert min(gaps) >= SETTINGS.longest_probe_wait_s  # the first failure doubled the wait
    assert max(gaps) <= SETTINGS.longest_probe_wait_s + SETTINGS.clean_before_probe_s + 1.5


def test_a_congested_link_below_the_floor_pauses_video_and_tries_again_later():
    link = SubscriberLink(SETTINGS)
    _run(link, 1, 0.0, estimate=500_000)
    chosen = _run(link, 4, 1.0, estimate=40_000, loss=0.4)
    assert chosen[-1] is None and link.publisher_rate_for(0.6, 2) is None
    assert link.paused and not link.reduced
    later = _run(link, 8, 5.0, estimate=40_000, loss=0.0)
    assert 0 in later, "a clean link gets the base layer again"


def test_a_low_estimate_on_a_clean_link_is_not_starving():
    """A browser's estimate follows what it receives: a still picture needs little."""
    link = SubscriberLink(SETTINGS)
    chosen = _run(link, 10, 0.0, estimate=50_000, loss=0.0, needs=[40_000.0, 70_000.0])
    assert None not in chosen and chosen[-1] == 1


def test_one_layer_publishers_never_hold_anyone_back():
    link = SubscriberLink(SETTINGS)
    _run(link, 2, 0.0, estimate=200_000, loss=0.3, needs=[400_000.0])
    assert link.publisher_rate_for(1.0, 2) is None
    assert not math.isinf(link.budget_bps)


def _trying_the_full_layer(link: SubscriberLink) -> float:
    """Step the link down on loss, then run it clean until it tries the full layer; returns
    when the try began."""
    now = 0.0
    link.estimate(400_000, now)
    link.loss(0.3, now)
    link.choose(now, NEEDS, 2)
    while link.layer != 1:
        now += 0.5
        link.estimate(400_000, now)
        link.loss(0.0, now)
        link.choose(now, NEEDS, 2)
    return now


def test_lost_packets_of_a_tried_layer_end_the_try_at_once():
    """Before the next receiver report: the browser's NACKs say the queue overflows."""
    link = SubscriberLink(SETTINGS)
    began = _trying_the_full_layer(link)
    link.lost(began - 0.2, began + 0.1)  # sent before the try: says nothing about it
    for _ in range(SETTINGS.probe_lost_packets - 1):
        link.lost(began + 0.05, began + 0.1)
    assert link.layer == 1
    link.lost(began + 0.05, began + 0.1)
    assert link.layer == 0


def test_a_burst_of_lost_packets_steps_down_before_the_next_receiver_report():
    link = SubscriberLink(SETTINGS)
    _run(link, 2, 0.0, estimate=2_000_000, loss=0.0)
    assert link.layer == ALL_LAYERS
    for k in range(SETTINGS.burst_lost_packets - 1):
        link.lost(2.0, 2.0 + k * 0.1)  # spread over more than half a second: no burst
    assert link.layer == ALL_LAYERS
    for _ in range(SETTINGS.burst_lost_packets):
        link.lost(3.0, 3.1)
    assert link.layer == 0


def test_a_link_losing_packets_before_its_first_estimate_asks_publishers_for_the_floor():
    link = SubscriberLink(SETTINGS)
    _run(link, 1, 0.0, loss=0.3)
    assert link.layer == 0
    assert link.publisher_rate_for(0.6, 2) == SETTINGS.publish_floor_bps


def test_publishers_stay_held_while_the_full_layer_is_tried_from_the_base():
    link = SubscriberLink(SETTINGS)
    _trying_the_full_layer(link)
    assert link.publisher_rate_for(0.6, 2) is not None, "the try is of the layer alone"


def test_video_back_after_audio_only_ends_a_try_under_way_when_it_stopped():
    """While someone chose audio only nothing is sent to try a layer with."""
    link = SubscriberLink(SETTINGS)
    _trying_the_full_layer(link)
    link.resume()
    assert link.layer == 0 and link.publisher_rate_for(0.6, 2) is not None


def test_a_fallen_estimate_without_loss_never_pauses_video():
    """After its link was overused a browser's estimate drops to what arrived just then: that
    can be far below the floor while its link carries the base layers without loss."""
    link = SubscriberLink(SETTINGS)
    _run(link, 2, 0.0, estimate=300_000, loss=0.0)
    chosen = _run(link, 10, 2.0, estimate=40_000, loss=0.0, needs=[150_000.0, 250_000.0])
    assert None not in chosen


def test_going_up_counts_on_what_the_layers_needed_lately():
    """An encoder spends little for a while after a keyframe: that is no room for more."""
    link = SubscriberLink(LayerSettings(clean_before_probe_s=60))  # no tries here
    _run(link, 0.5, 0.0, estimate=300_000, loss=0.3)
    _run(link, 1.5, 0.5, estimate=300_000, loss=0.0)
    assert link.layer == 0
    # Both layers would fit 85 % of 300 kbit/s now, but the full layer needed 500 a second ago.
    chosen = _run(link, 2, 2.0, estimate=300_000, loss=0.0, needs=[100_000.0, 180_000.0])
    assert set(chosen) == {0}
    later = _run(link, 4, 4.0, estimate=300_000, loss=0.0, needs=[100_000.0, 180_000.0])
    assert later[-1] == 1, "once the peak has passed"


def test_a_stale_low_estimate_does_not_keep_a_clean_link_on_the_base_layer():
    """A browser that received no video for a while (audio only) keeps a low estimate, which
    grows a few percent a second: the relay tries the full layer on a clean link anyway."""
    link = SubscriberLink(SETTINGS)
    _run(link, 0.5, 0.0, estimate=300_000, loss=0.3)
    chosen = _run(link, 5, 0.5, estimate=44_000, loss=0.0, needs=[75_000.0, 130_000.0])
    assert 1 in chosen
