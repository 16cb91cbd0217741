"""The counsellor's controls over raw WebSocket frames: only the moderator may use them."""

import asyncio
import json

import pytest
import websockets

from tests.live import HttpUser
from tests.signaling.client import connect, join, pair, receive, run, set_password, terms, unlock


@pytest.mark.parametrize("frame", [
    {"type": "end"}, {"type": "kick", "peer": "PEER"}, {"type": "admit", "peer": "PEER"},
    {"type": "deny", "peer": "PEER"}, {"type": "waiting-room", "on": True},
])
def test_a_client_cannot_use_moderator_actions(web, frame):
    counsellor, client, room = pair(web)

    async def scenario():
        a = await connect(web, counsellor, room)
        moderator = (await receive(a, "welcome"))["self"]
        b, _ = await join(web, client, room)
        await b.send(json.dumps(frame).replace("PEER", moderator))
        error = await receive(b, "error")
        assert error["code"] == "not-allowed"
        await b.send('{"type": "ping"}')
        await receive(b, "pong")
        await a.send('{"type": "ping"}')
        await receive(a, "pong")  # the counsellor is still there
        await a.close()
        await b.close()

    run(scenario())


def test_kicked_client_is_disconnected_and_cannot_rejoin(web):
    counsellor, client, room = pair(web)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        b = await connect(web, client, room)
        victim = (await receive(b, "welcome"))["self"]
        await a.send(json.dumps({"type": "kick", "peer": victim}))
        assert await receive(b, "kicked")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(b.recv(), 5)
        left = await receive(a, "peer-left")
        assert left["reason"] == "kicked"
        with pytest.raises(websockets.InvalidStatus):
            await connect(web, client, room)
        await a.close()

    run(scenario())
    url, html = client.get(room)
    assert 'data-testid="kicked-notice"' in html


def test_third_person_knocks_on_a_locked_room_until_admitted(web):
    chosen = terms()
    counsellor, client, room = pair(web, chosen)
    set_password(counsellor, room, "kamille-tuin")
    third = HttpUser(web.url)
    third.enter("join", chosen)

    async def scenario():
        a, _ = await join(web, counsellor, room)
        unlock(client, room, "kamille-tuin")
        b, _ = await join(web, client, room)
        unlock(third, room, "kamille-tuin")
        c = await connect(web, third, room)
        await receive(c, "knocking")
        knock = await receive(a, "knock")
        await a.send(json.dumps({"type": "admit", "peer": knock["peer"]}))
        welcome = await receive(c, "welcome")
        assert len(welcome["peers"]) == 2
        assert (await receive(b, "peer-joined"))["peer"] == knock["peer"]
        for ws in (a, b, c):
            await ws.close()

    run(scenario())


def test_end_for_all_disconnects_everyone_and_forgets_the_room(web):
    counsellor, client, room = pair(web)
    set_password(counsellor, room, "kamille-tuin")
    unlock(client, room, "kamille-tuin")

    async def scenario():
        a, _ = await join(web, counsellor, room)
        b, _ = await join(web, client, room)
        await a.send('{"type": "end"}')
        assert await receive(b, "ended")
        assert await receive(a, "ended")

    run(scenario())
    _, html = client.get(room)
    assert 'data-testid="waiting-screen"' in html  # the room and its password are gone


def test_without_the_password_there_is_no_socket_and_no_peer_list(web):
    counsellor, client, room = pair(web)
    set_password(counsellor, room, "kamille-tuin")
    stranger = HttpUser(web.url)

    async def scenario():
        for user in (client, stranger):
            with pytest.raises(websockets.InvalidStatus) as caught:
                await connect(web, user, room)
            assert caught.value.response.status_code == 403

    run(scenario())
    _, html = stranger.get(room)
    assert 'data-testid="password-input"' in html and "remote-video" not in html
