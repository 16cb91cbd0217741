"""A page tells the others that its own link is weak: the server stamps who it is and forwards
it to everyone else in the room, and only to them."""

import json

import pytest

from tests.signaling.client import connect, join, pair, receive, run


def test_a_weak_link_reaches_the_other_person_stamped_with_its_sender(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        b = await connect(web, client, room)
        weak = (await receive(b, "welcome"))["self"]
        await b.send(json.dumps({"type": "link", "weak": True, "audioOnly": True,
                                 "from": "forged"}))
        notice = await receive(a, "link")
        assert notice == {"type": "link", "from": weak, "weak": True, "audioOnly": True}
        # Nothing comes back to the sender itself.
        await b.send('{"type": "ping"}')
        assert (await receive(b, "pong"))["type"] == "pong"
        await b.send(json.dumps({"type": "link", "weak": False}))
        assert (await receive(a, "link"))["weak"] is False
        await a.close()
        await b.close()

    run(scenario())


@pytest.mark.parametrize("frame", [{"type": "link"}, {"type": "link", "weak": "yes"},
                                   {"type": "link", "weak": True, "audioOnly": 1}])
def test_a_malformed_link_message_is_refused(web, frame):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        await a.send(json.dumps(frame))
        assert (await receive(a, "error"))["code"] == "bad-field"
        await a.close()

    run(scenario())
