"""The fuzzed server's clients, credentials and fake sockets (nothing is bound)."""

from __future__ import annotations

import collections
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from aioice.turn import make_integrity_key

from tests.turn.fuzz.wire import REALM, Address


@dataclass
class Credential:
    username: str
    password: str
    weight: int

    @property
    def key(self) -> bytes:
        return make_integrity_key(self.username, REALM, self.password)


@dataclass(eq=False)
class Client:
    name: str
    key: Hashable
    address: Address
    datagram: bool
    credential: Credential
    last_allocate: tuple[bytes, bytes | None] | None = None
    transport: "FakeTransport | None" = None
    # TCP: requests whose bytes may still sit in the connection's buffer (a frame that
    # claims more bytes than it has swallows what follows, even in a later step)
    unanswered: dict[tuple[int, bytes], "Pending"] = field(default_factory=dict)


@dataclass
class Pending:
    """A request as sent (after any mutation), to check its response."""

    client: Client
    request: bytes = b""
    key: bytes | None = None

    @property
    def method(self) -> int:
        return int.from_bytes(self.request[0:2], "big") & 0x3EEF  # as aioice reads it

    @property
    def txid(self) -> bytes:
        return self.request[8:20]

    @property
    def match(self) -> tuple[int, bytes]:
        """What its response carries: (method, transaction id)."""
        return self.method, self.txid


@dataclass
class Failure:
    kind: str
    index: int
    inputs: int
    data: bytes
    detail: str


class FakeUdpSocket:
    """The listener socket for ``_on_udp_readable``: a queue in, a list out."""

    def __init__(self) -> None:
        self.inbox: collections.deque[tuple[bytes, Any] | OSError] = collections.deque()
        self.sent: list[tuple[bytes, Any]] = []

    def recvfrom(self, size: int) -> tuple[bytes, Any]:
        if not self.inbox:
            raise BlockingIOError
        item = self.inbox.popleft()
        if isinstance(item, OSError):
            raise item  # an ICMP error surfacing on the socket
        return item[0][:size], item[1]

    def recvfrom_into(self, buffer: bytearray) -> tuple[int, Any]:
        data, address = self.recvfrom(len(buffer))
        buffer[: len(data)] = data
        return len(data), address

    def sendto(self, data: bytes, address: Any) -> int:
        self.sent.append((bytes(data), address))
        return len(data)

    def fileno(self) -> int:
        return -1

    def close(self) -> None:
        pass


class FakeTransport:
    """Enough of an asyncio transport for ``TcpConnection``."""

    def __init__(self, peer: Address) -> None:
        self.peer = peer
        self.written: list[bytes] = []
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        self.closing = True
