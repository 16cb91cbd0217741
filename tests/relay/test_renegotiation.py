"""Joins and leaves renegotiate subscribers without interrupting media already flowing."""

import asyncio

from relay_peers import FakeWeb, wait_until


def _max_gap(times: list[float]) -> float:
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


def test_join_and_leave_keep_existing_media_flowing() -> None:
    async def scenario() -> None:
        web = FakeWeb()
        try:
            await web.open_room("r1", ["alice", "bob", "carol"])
            bob = web.browser("r1", "bob")
            await wait_until(
                lambda: len(bob.frames_from("alice", "video")) >= 10
                and len(bob.frames_from("carol", "video")) >= 10,
                30,
                "bob receiving alice and carol",
            )
            bob_session = web.relay.rooms["r1"].sessions["bob"]
            assert bob_session.publishers() == ["alice", "alice", "carol", "carol"]
            offers_before = bob.offers
            start = len(bob.frames_from("alice", "video"))

            await web.leave("r1", "carol")
            await wait_until(
                lambda: bob.offers > offers_before and bob_session.pc.signalingState == "stable",
                20,
                "bob to answer the offer without carol",
            )
            dave = await web.join("r1", "dave")
            await wait_until(
                lambda: len(dave.frames_from("alice", "video")) >= 5
                and len(dave.frames_from("bob", "video")) >= 5
                and len(bob.frames_from("dave", "video")) >= 5,
                30,
                "dave connected both ways",
            )
            # Carol's transceivers went inactive and were reused for dave: no m-line growth.
            assert bob_session.publishers() == ["alice", "alice", "dave", "dave"]
            assert bob.offers >= offers_before + 2
            from_alice = bob.frames_from("alice", "video")
            assert len(from_alice) > start + 10
            # Alice's video kept arriving at bob through both renegotiations.
            assert _max_gap([f.at for f in from_alice[start - 1 :]]) < 2.5
            assert all(f.data in web.browser("r1", "alice").video.sent for f in from_alice)
        finally:
            await web.close()

    asyncio.run(scenario())


def test_malformed_signals_get_an_error_and_other_rooms_keep_working() -> None:
    async def scenario() -> None:
        web = FakeWeb()
        try:
            await web.open_room("good", ["alice", "bob"])
            await web.open_room("bad", ["xavier", "yolanda"])
            send = web.relay.handle
            for data in (
                {"description": {"type": "answer", "sdp": "v=0\r\nthis is not sdp\r\n"}},
                {"description": {"type": "offer", "sdp": "v=0\r\n"}},
                {"candidate": {"candidate": "candidate:garbage", "sdpMid": "0"}},
                {"candidate": "not an object"},
                {"nothing": True},
                "not an object",
            ):
                await send({"type": "signal", "room": "bad", "from": "xavier", "data": data})
            await send({"type": "signal", "room": "bad", "from": "nobody", "data": {}})
            await send({"type": "no-such-type", "room": "bad"})
            await send({"type": "signal", "data": {}})

            await wait_until(lambda: len(web.errors_for("bad", "xavier")) >= 6, 20, "errors")
            assert all(e["code"] == "bad-field" for e in web.errors_for("bad", "xavier"))
            assert not web.errors_for("good", "alice") and not web.errors_for("bad", "yolanda")

            bob = web.browser("good", "bob")
            alice = web.browser("good", "alice")
            await wait_until(
                lambda: len(bob.frames_from("alice", "video")) >= 10
                and len(alice.frames_from("bob", "video")) >= 10,
                30,
                "the good room's media",
            )
            # The bad room itself recovers once its peers answer properly.
            yolanda = web.browser("bad", "yolanda")
            await wait_until(
                lambda: len(yolanda.frames_from("xavier", "video")) >= 5, 30, "bad room's media"
            )
        finally:
            await web.close()

    asyncio.run(scenario())
