"""A browser-less signaling client for tests: HTTP users, their room, raw WebSocket frames."""

import asyncio
import itertools
import json

import websockets

from tests.live import HttpUser

_rooms = itertools.count()


def terms():
    return {"name": "box", "location": "gent", "word": f"apple{next(_rooms)}"}


def ws_url(web, room_path):
    return web.url.replace("http", "ws") + "/ws/" + room_path.rsplit("/", 1)[-1]


async def connect(web, user, room_path, origin=None):
    return await websockets.connect(
        ws_url(web, room_path),
        additional_headers={"Cookie": user.cookie_header(), "Origin": origin or web.url},
        max_size=None,
    )


async def join(web, user, room_path):
    """Open the user's socket to the room and return it with its welcome frame."""
    ws = await connect(web, user, room_path)
    return ws, await receive(ws, "welcome")


async def next_frame(ws, timeout=5.0):
    """Return the next frame, whatever its type."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def receive(ws, kind, timeout=5.0):
    """Return the next frame of a type, skipping others."""
    while True:
        frame = await next_frame(ws, timeout)
        if frame["type"] == kind:
            return frame


def pair(web, chosen=None, client_web=None):
    """A counsellor (on `web`) and a client (on `client_web`, default the same) admitted to the
    same fresh room."""
    chosen = chosen or terms()
    client_web = client_web or web
    counsellor, client = HttpUser(web.url), HttpUser(client_web.url)
    room = counsellor.enter("start", chosen)
    assert client.enter("join", {k: v.upper() for k, v in chosen.items()}) == room
    return counsellor, client, room


def set_password(user, room, password):
    """The moderator locks the room (the password panel's form)."""
    user.post(room + "/lock", {"password": password}, room)


def unlock(user, room, password):
    """A joiner answers the password prompt."""
    user.post(room + "/password", {"password": password}, room)


def run(coroutine):
    return asyncio.run(coroutine)
