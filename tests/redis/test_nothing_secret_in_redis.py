"""Redis never sees the three terms or a password: not in any key or value, not in any command."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
from urllib.parse import urlsplit

import pytest

from tests.live import HttpUser
from tests.signaling.client import connect, join, receive, run, set_password, unlock

TERMS = {"name": "Zebrakamer", "location": "Oostmolen", "word": "abrikoos"}
PASSWORD = "Geheim-Wachtwoord-42"
WRONG_PASSWORD = "Verkeerd-Wachtwoord-17"


class Monitor:
    """Every command Redis executes, as its MONITOR feed prints them."""

    def __init__(self, redis_url: str) -> None:
        address = urlsplit(redis_url)
        self._sock = socket.create_connection((address.hostname, address.port), timeout=5)
        self._sock.sendall(b"MONITOR\r\n")
        assert self._sock.recv(5) == b"+OK\r\n"

    def read_all(self) -> str:
        self._sock.settimeout(0.5)
        chunks = []
        try:
            while chunk := self._sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        self._sock.close()
        return b"".join(chunks).decode("utf-8", "replace")


READERS = {
    "string": lambda client, key: client.get(key),
    "hash": lambda client, key: client.hgetall(key),
    "set": lambda client, key: client.smembers(key),
    "zset": lambda client, key: client.zrange(key, 0, -1, withscores=True),
    "list": lambda client, key: client.lrange(key, 0, -1),
}


def everything_stored(client) -> str:
    """All keys and values in Redis, as one text."""
    return "\n".join(f"{key} {READERS[client.type(key)](client, key)!r}"
                     for key in client.scan_iter())


def test_a_whole_session_leaves_no_term_and_no_password_in_redis(two_webs, redis_client,
                                                                 redis_url):
    first, second = two_webs
    monitor = Monitor(redis_url)
    counsellor, client, stranger = (HttpUser(first.url), HttpUser(second.url),
                                    HttpUser(second.url))
    room = counsellor.enter("start", TERMS)
    set_password(counsellor, room, PASSWORD)
    assert client.enter("join", TERMS) == room
    assert stranger.enter("join", TERMS) == room
    with pytest.raises(urllib.error.HTTPError):  # 422: that password is not right
        unlock(stranger, room, WRONG_PASSWORD)
    unlock(client, room, PASSWORD)
    during = []

    async def scenario():
        a = await connect(first, counsellor, room)
        mod = (await receive(a, "welcome"))["self"]
        b, _ = await join(second, client, room)
        await b.send(json.dumps({"type": "signal", "to": mod, "data": {"candidate": None}}))
        await receive(a, "signal")
        during.append(everything_stored(redis_client))
        await b.send(json.dumps({"type": "hangup"}))
        await receive(a, "peer-left")
        await a.send(json.dumps({"type": "end"}))
        await receive(a, "ended")
        await a.close()
        await b.close()

    run(scenario())
    time.sleep(0.2)
    after = everything_stored(redis_client)
    commands = monitor.read_all()
    room_id = room.rsplit("/", 1)[-1]
    assert room_id in during[0] and room_id in commands  # the scan and the feed really saw the room
    assert "password" in during[0]  # its scrypt hash, under that name
    seen = "\n".join([during[0], after, commands]).casefold()
    for secret in [*TERMS.values(), PASSWORD, WRONG_PASSWORD]:
        assert secret.casefold() not in seen
