"""A browser that lost its path to the relay gets a new connection (aiortc has no ICE restart):
the others keep their m-lines and get no offer, and a browser asking in a loop is refused."""

import asyncio

from relay_peers import FakeWeb, wait_until

RESTART_REQUESTS = 10


def test_a_new_connection_carries_media_both_ways_and_restarts_are_spaced() -> None:
    async def scenario() -> None:
        web = FakeWeb()
        lost = None
        try:
            await web.open_room("r1", ["alice", "bob", "carol"])
            alice, lost = web.browser("r1", "alice"), web.browser("r1", "bob")
            await wait_until(lambda: len(lost.frames_from("alice", "video")) >= 5
                             and len(alice.frames_from("bob", "video")) >= 5, 30,
                             "bob connected both ways")
            old_session = web.relay.rooms["r1"].sessions["bob"]
            offers = alice.offers

            bob = await web.restart("r1", "bob")
            await wait_until(lambda: len(bob.frames_from("alice", "video")) >= 5
                             and len(bob.frames_from("carol", "video")) >= 5, 30,
                             "bob's new connection receiving alice and carol")
            new_session = web.relay.rooms["r1"].sessions["bob"]
            assert new_session is not old_session
            assert old_session.pc.connectionState == "closed"
            # Bob's media reaches alice again, from his new connection.
            received = len(alice.frames_from("bob", "video"))
            await wait_until(lambda: len(alice.frames_from("bob", "video")) >= received + 5
                             and alice.frames_from("bob", "video")[-1].data in bob.video.sent,
                             30, "alice receiving bob's new connection")
            # On the m-lines that showed his old one: alice needed no new offer (a second m-line
            # with bob's msid would make a browser refuse the offer).
            assert alice.offers == offers

            # A browser asking again and again: within the interval every request is dropped,
            # and bob's connection stays the one that works.
            for _ in range(RESTART_REQUESTS):
                await web.relay.handle({"type": "signal", "room": "r1", "from": "bob",
                                        "data": {"restart": True}})
            await asyncio.sleep(1.0)
            assert web.relay.rooms["r1"].sessions["bob"] is new_session
            assert alice.offers == offers
        finally:
            if lost is not None:
                await lost.close()
            await web.close()

    asyncio.run(scenario())


class SocketDownWeb(FakeWeb):
    """Loses what the relay sends to a browser whose signaling socket is down."""

    def __init__(self) -> None:
        super().__init__()
        self.socket_down: set[str] = set()

    async def _from_relay(self, frame):
        if frame.get("to") not in self.socket_down:
            await super()._from_relay(frame)


def test_an_offer_lost_while_a_browser_was_away_comes_again_when_it_asks() -> None:
    async def scenario() -> None:
        web = SocketDownWeb()
        try:
            await web.open_room("r1", ["alice", "bob"])
            alice = web.browser("r1", "alice")
            await wait_until(lambda: len(alice.frames_from("bob", "video")) >= 5, 30,
                             "alice receiving bob")
            web.socket_down.add("alice")
            await web.join("r1", "carol")  # the offer showing carol to alice is lost
            await asyncio.sleep(0.5)
            web.socket_down.clear()
            offers = alice.offers

            await web.relay.handle({"type": "signal", "room": "r1", "from": "alice",
                                    "data": {"resend": True}})
            await wait_until(lambda: len(alice.frames_from("carol", "video")) >= 5, 30,
                             "alice receiving carol")
            assert alice.offers == offers + 1
            # Nothing waits for an answer any more: asking again brings nothing.
            await web.relay.handle({"type": "signal", "room": "r1", "from": "alice",
                                    "data": {"resend": True}})
            await asyncio.sleep(0.5)
            assert alice.offers == offers + 1
        finally:
            await web.close()

    asyncio.run(scenario())
