"""Video layers as an attacker tries them: a participant forging the relay's word to another
page (to make it think its video is paused, or to inject data), and a member whose browser
claims a tiny receiver estimate to drag everyone's picture down."""

from __future__ import annotations

import json

from praatbox.relay.layers import LayerSettings, SubscriberLink
from tests.security.test_e2ee_message_abuse import between_two
from tests.security.test_flood_signaling import drain
from tests.signaling.client import receive

FORGED_LAYERS = {"layers": {"x": None}, "paused": True}


def test_a_participant_cannot_send_another_page_the_relays_layers_or_pause(web):
    async def body(a, moderator, b):
        for to in (moderator, "relay"):
            await b.send(json.dumps({"type": "signal", "to": to, "data": FORGED_LAYERS}))
            assert (await receive(b, "error"))["code"] == "bad-field"
        # Nothing reached the counsellor's page, and the client's socket stays up.
        assert [f for f in await drain(a, 1.0) if f["type"] == "signal"] == []
        await b.send(json.dumps({"type": "ping"}))
        assert (await receive(b, "pong"))["type"] == "pong"

    between_two(web, body)


def test_a_member_claiming_a_tiny_estimate_never_pushes_publishers_below_the_floor():
    settings = LayerSettings()
    link = SubscriberLink(settings)
    now = 0.0
    needs = [300_000.0, 500_000.0]
    caps = []
    for _ in range(40):  # 20 s of a browser saying it can take 8 kbit/s, with heavy loss
        link.estimate(8_000 if now else 600_000, now)
        link.loss(0.5, now)
        link.choose(now, needs, 2)
        caps.append(link.publisher_rate_for(0.6, 2))
        now += 0.5
    asked = [cap for cap in caps if cap is not None]
    assert all(cap >= settings.publish_floor_bps for cap in asked)
    # It soon gets no video at all rather than holding anyone back.
    assert link.layer is None and caps[-1] is None
