"""Group rooms on a real web process and relay, with raw signaling sockets or aiortc browsers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import aioice.ice
import aiortc.rtcrtpreceiver
import pytest

from praatbox.relay.aiortc_hooks import install_pass_through, use_host_addresses
from tests.live import HttpUser, LiveServer
from tests.relay.relay_peers import FakeBrowser
from tests.signaling.client import connect, terms

FRAME_TIMEOUT_S = 10.0


@contextlib.contextmanager
def aiortc_browsers() -> Iterator[None]:
    """Let aiortc peers in this process offer 127.0.0.1 and record encoded frames, then undo it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
        patch.setattr(aiortc.rtcrtpreceiver, "get_decoder", aiortc.rtcrtpreceiver.get_decoder)
        use_host_addresses(("127.0.0.1",))
        install_pass_through()
        yield


def group_room(web: LiveServer, count: int = 3) -> tuple[list[HttpUser], str]:
    """A counsellor and `count - 1` clients, each with their own browser session, for a new room."""
    chosen = terms()
    counsellor = HttpUser(web.url)
    room = counsellor.enter("start", chosen)
    clients = [HttpUser(web.url) for _ in range(count - 1)]
    for client in clients:
        assert client.enter("join", chosen) == room
    return [counsellor, *clients], room


def browser_json(value: Any) -> str:
    """Serialise like JSON.stringify: characters as they are, only lone surrogates escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class Participant:
    """One signaling socket; everything it receives is kept for the test to look at.

    With a `seed`, an aiortc peer answers the relay's offers like group.js does and publishes
    test media (tests/relay/relay_peers.py).
    """

    def __init__(self, ws: Any, peer_id: str, seed: int | None) -> None:
        self.ws = ws
        self.peer_id = peer_id
        self.frames: list[dict[str, Any]] = []
        self.browser = None if seed is None else FakeBrowser(peer_id, seed, self.to_relay)
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def join(
        cls, web: LiveServer, user: HttpUser, room: str, seed: int | None = None
    ) -> Participant:
        ws = await connect(web, user, room)
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT_S))
            if frame["type"] == "welcome":
                return cls(ws, frame["self"], seed)

    async def to_relay(self, data: dict[str, Any]) -> None:
        await self.ws.send(browser_json({"type": "signal", "to": "relay", "data": data}))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    def from_relay(self, key: str) -> list[dict[str, Any]]:
        """The `data` of the relay's signals that carry `key` (`description` or `error`)."""
        return [f["data"] for f in self.of_type("signal")
                if f["from"] == "relay" and key in f["data"]]

    async def wait_from_relay(self, key: str, count: int = 1) -> None:
        while len(self.from_relay(key)) < count:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), FRAME_TIMEOUT_S)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        if self.browser is not None:
            await self.browser.close()

    async def _read(self) -> None:
        async for text in self.ws:
            frame = json.loads(text)
            self.frames.append(frame)
            self._arrived.set()
            data = frame.get("data", {})
            if self.browser is not None and frame["type"] == "signal" and "description" in data:
                await self.browser.handle_signal(data)


async def join_room(
    web: LiveServer, users: list[HttpUser], room: str, media: bool = False
) -> list[Participant]:
    """Connect everyone in turn; with `media`, each publishes and receives through the relay."""
    return [await Participant.join(web, user, room, seed=i + 1 if media else None)
            for i, user in enumerate(users)]
