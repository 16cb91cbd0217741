"""End-to-end key messages and the counsellor's "require E2EE" over real sockets: what each
browser says it can do (`?e2ee=1`), what the others learn, and who is refused or removed."""

import asyncio
import json

import pytest
import websockets

from tests.live import HttpUser
from tests.signaling.client import pair, receive, run, terms, ws_url

KEY = {"kind": "identity", "key": "MCowBQYDK2VuAyEAq83x", "note": "één"}


async def connect_e2ee(web, user, room, capability="1"):
    """Open the room socket as the room page does; `capability` None: no query at all."""
    query = "" if capability is None else f"?e2ee={capability}"
    return await websockets.connect(
        ws_url(web, room) + query,
        additional_headers={"Cookie": user.cookie_header(), "Origin": web.url}, max_size=None)


def three_users(web):
    """A counsellor and two clients who gave the terms of the same fresh room."""
    chosen = terms()
    counsellor, client, room = pair(web, chosen)
    third = HttpUser(web.url)
    assert third.enter("join", chosen) == room
    return counsellor, client, third, room


async def meet(web, counsellor, client, room, capability="1"):
    """The counsellor (who can encrypt) and the client enter; return both sockets and peer ids."""
    a = await connect_e2ee(web, counsellor, room)
    first = (await receive(a, "welcome"))["self"]
    b = await connect_e2ee(web, client, room, capability)
    second = (await receive(b, "welcome"))["self"]
    return a, first, b, second


async def refusal(ws):
    """The error frame and the close a refused socket gets."""
    error = await receive(ws, "error")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    return error, closed.value.rcvd


def test_key_messages_reach_the_other_participant_with_the_sender_stamped(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a = await connect_e2ee(web, counsellor, room)
        welcome = await receive(a, "welcome")
        assert welcome["e2eeRequired"] is False and welcome["withoutE2ee"] == []
        b = await connect_e2ee(web, client, room)
        welcome_b = await receive(b, "welcome")
        assert welcome_b["withoutE2ee"] == []
        joined = await receive(a, "peer-joined")
        assert joined == {"type": "peer-joined", "peer": welcome_b["self"], "e2ee": True}
        await b.send(json.dumps({"type": "e2ee", "to": welcome["self"], "data": KEY,
                                 "from": welcome["self"]}))
        got = await receive(a, "e2ee")
        assert got == {"type": "e2ee", "from": welcome_b["self"], "data": KEY}
        for ws in (a, b):
            await ws.close()

    run(scenario())


@pytest.mark.parametrize("capability", ["0", None, "yes", "true"])
def test_a_browser_that_did_not_say_e2ee_1_counts_as_unable(web, capability):
    counsellor, client, third, room = three_users(web)

    async def scenario():
        a, _, b, peer = await meet(web, counsellor, client, room, capability)
        assert (await receive(a, "peer-joined"))["e2ee"] is False
        c = await connect_e2ee(web, third, room)
        assert (await receive(c, "welcome"))["withoutE2ee"] == [peer]
        for ws in (a, b, c):
            await ws.close()

    run(scenario())


def test_a_required_room_refuses_a_browser_that_cannot_encrypt_with_its_own_error_code(web):
    chosen = terms()
    counsellor, client, room = pair(web, chosen)

    async def scenario():
        a = await connect_e2ee(web, counsellor, room)
        await receive(a, "welcome")
        await a.send(json.dumps({"type": "require-e2ee", "on": True}))
        assert await receive(a, "require-e2ee") == {"type": "require-e2ee", "on": True}
        for capability in ("0", None):
            refused = await connect_e2ee(web, client, room, capability)
            error, close = await refusal(refused)
            assert error["code"] == "e2ee-required"
            assert (close.code, close.reason) == (1008, "e2ee-required")
        b = await connect_e2ee(web, client, room)
        welcome = await receive(b, "welcome")
        assert welcome["e2eeRequired"] is True and welcome["withoutE2ee"] == []
        for ws in (a, b):
            await ws.close()

    run(scenario())


def test_requiring_e2ee_removes_a_present_browser_that_cannot_encrypt(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _, b, peer = await meet(web, counsellor, client, room, "0")
        await a.send(json.dumps({"type": "require-e2ee", "on": True}))
        assert await receive(b, "e2ee-required") == {"type": "e2ee-required"}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(b.recv(), 5)
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1000, "e2ee-required")
        assert (await receive(a, "require-e2ee"))["on"] is True
        left = await receive(a, "peer-left")
        assert left == {"type": "peer-left", "peer": peer, "reason": "e2ee-required"}
        await a.send(json.dumps({"type": "require-e2ee", "on": False}))
        assert (await receive(a, "require-e2ee"))["on"] is False
        back = await connect_e2ee(web, client, room, "0")  # no longer required: welcome again
        assert (await receive(back, "welcome"))["e2eeRequired"] is False
        for ws in (a, back):
            await ws.close()

    run(scenario())
