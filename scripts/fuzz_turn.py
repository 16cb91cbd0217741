#!/usr/bin/env python3
"""Fuzz the TURN server's packet path: structured STUN/TURN requests, mutations and junk.

    python scripts/fuzz_turn.py --inputs 1000000 [--seed 1]

A ``TurnServer`` is built but not started: no listener is bound, time is a fake clock, and
relay sockets are real (bounded by a small total quota) but their ``sendto`` is replaced by
a check that records instead of sending. Inputs are driven through four paths:

* directly into ``RequestHandler.handle`` (and ``codec.parse_send_indication`` for Send
  indications), where ``ValueError`` means "malformed" and any other exception is a bug;
* the UDP read loop ``TurnServer._on_udp_readable`` fed from a fake listener socket
  (ChannelData fast path, Send indications, requests);
* ``TcpConnection.data_received`` with the byte stream cut into random chunks;
* real datagrams from peer sockets to relay sockets, read by ``TurnServer.relay_reader``.

``handle_stun`` catches every exception and logs "request failed"; such a log is counted as
an unexpected exception too (with the traceback of the exception being handled).

Requests are built the way a client builds them, so they get past the header checks and the
authentication: the nonce comes from a 401/438 answer, the key is MD5(username:realm:password)
of REST credentials, MESSAGE-INTEGRITY is correct. Attributes are drawn from the TURN types
with valid or corrupted values, then a fraction of the signed messages is mutated. A few
client addresses and TCP connections share the server, so allocations, permissions and
channels build up, and the clock jumps now and then so that expiry paths run.

Besides exceptions, "invariant violations" are bugs too: every response is parsed and checked
(transaction id, signature, required attributes); no permission may come from an attribute
after MESSAGE-INTEGRITY (RFC 8489 section 14.5); every datagram a relay would send is checked
against the permissions and the peer filter; nothing expired survives a sweep; the allocation
table's invariants (routes, quotas, no leaked relay sockets) are checked every 1000 steps.

A seed replays exactly: the server's random choices (relay ports, nonce key, reservation
tokens) are drawn from it too. Each failure is printed with its input (hex), its traceback or
description and the command that replays the run up to it. The last lines are ``name: value``
counts; the last one is ``unexpected_exceptions: N``. The exit status is 1 when there was an
unexpected exception or an invariant violation.
"""

import argparse
import asyncio
import collections
import ipaddress
import logging
import random
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest import mock

from aioice import stun
from aioice.turn import make_integrity_key

from praatbox.credentials import issue_turn_credentials, rest_password
from praatbox.turn import codec
from praatbox.turn import handlers as handlers_module
from praatbox.turn import server as server_module
from praatbox.turn.config import TurnConfig
from praatbox.turn.server import TcpConnection, TurnServer

Address = tuple[str, int]

SECRET = "fuzz-secret"
OLD_SECRET = "fuzz-old-secret"
REALM = "praatbox"
STATIC_USER, STATIC_PASSWORD = "static", "static-password"
MONOTONIC_START = 100_000.0
WALL_START = 1_700_000_000.0
RELAY_PORTS = (20000, 29999)
PEER_PORTS_FROM = 31000  # the peer sockets' ports: fixed, so that a seed replays exactly
TOTAL_QUOTA = 6
USER_QUOTA = 3
INVARIANT_INTERVAL = 1000
MAX_REPORTED_FAILURES = 10
UDP_MAX_PAYLOAD = 65507

# Message classes (already in their bit positions) and methods.
REQUEST, INDICATION, SUCCESS, ERROR = 0x000, 0x010, 0x100, 0x110
BINDING, ALLOCATE, REFRESH, SEND, DATA_METHOD = 0x001, 0x003, 0x004, 0x006, 0x007
CREATE_PERMISSION, CHANNEL_BIND = 0x008, 0x009

# Attribute types.
MAPPED_ADDRESS = 0x0001
CHANGE_REQUEST = 0x0003
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA = 0x0013
REALM_ATTR = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
MESSAGE_INTEGRITY_SHA256 = 0x001C
PASSWORD_ALGORITHM = 0x001D
USERHASH = 0x001E
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
PRIORITY = 0x0024
USE_CANDIDATE = 0x0025
CONNECTION_ID = 0x002A
ADDITIONAL_ADDRESS_FAMILY = 0x8000
ALTERNATE_DOMAIN = 0x8003
ICMP = 0x8004
SOFTWARE = 0x8022
ALTERNATE_SERVER = 0x8023
FINGERPRINT = 0x8028
ICE_CONTROLLED = 0x8029
RESPONSE_ORIGIN = 0x802B

PEER_IPS = [
    # allowed by the test configuration (127.0.0.0/8) or public
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "198.51.100.7", "203.0.113.9", "8.8.8.8",
    # refused by default
    "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "255.255.255.255", "224.0.0.1", "192.0.0.8", "198.18.0.1",
    # IPv6: refused, or mapped/compatible/6to4/NAT64 forms of IPv4, or allowed but IPv6 (443)
    "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:198.51.100.7", "::127.0.0.1",
    "::2", "2002:7f00:1::1", "2002:c633:6407::1", "64:ff9b::7f00:1", "64:ff9b::a00:1",
    "64:ff9b:1::7f00:1", "fe80::1", "fc00::1", "fd00::1", "ff02::1", "2001:db8::1",
    "2606:4700::1111",
]
PEER_PORTS = [0, 1, 9, 53, 3478, RELAY_PORTS[0], RELAY_PORTS[0] + 1, RELAY_PORTS[1], 65535]
CHANNELS = [0x4000, 0x4001, 0x4002, 0x4FFF, 0x5000, 0x7FFE, 0x7FFF]
BAD_CHANNELS = [0x0000, 0x3FFF, 0x8000, 0xBFFF, 0xFFFF]
LIFETIMES = [0, 0, 1, 599, 600, 601, 3600, 3601, 0xFFFFFFFF]


def message_type(method: int, cls: int) -> int:
    """The 14-bit STUN message type: method bits with the two class bits interleaved."""
    return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | cls


def tlv(attr_type: int, value: bytes, declared: int | None = None) -> bytes:
    """One attribute, padded to 4 bytes; ``declared`` lies about the length."""
    length = len(value) if declared is None else declared
    return struct.pack("!HH", attr_type, length) + value + bytes(-len(value) % 4)


def set_length(data: bytes, length: int | None = None) -> bytes:
    """Fix (or set) the header's length field."""
    if length is None:
        length = len(data) - stun.HEADER_LENGTH
    return data[:2] + struct.pack("!H", length & 0xFFFF) + data[4:]


def append_integrity(data: bytes, key: bytes) -> bytes:
    return set_length(data + tlv(MESSAGE_INTEGRITY, stun.message_integrity(data, key)))


def append_fingerprint(data: bytes) -> bytes:
    fingerprint = stun.message_fingerprint(data)
    return set_length(data + tlv(FINGERPRINT, struct.pack("!I", fingerprint)))


def loose_attributes(data: bytes) -> list[tuple[int, int]]:
    """``(offset, total size)`` of the attributes that fit, for mutations."""
    found = []
    pos = stun.HEADER_LENGTH
    while pos + 4 <= len(data):
        length = struct.unpack_from("!H", data, pos + 2)[0]
        size = 4 + length + (-length % 4)
        if pos + size > len(data):
            break
        found.append((pos, size))
        pos += size
    return found


def authenticated_peers(data: bytes) -> list[Address]:
    """The XOR-PEER-ADDRESS values before MESSAGE-INTEGRITY, decoded as the server should."""
    peers = []
    for pos, _ in loose_attributes(data):
        attr_type, length = struct.unpack_from("!HH", data, pos)
        if attr_type == MESSAGE_INTEGRITY:
            break
        if attr_type == XOR_PEER_ADDRESS:
            try:
                peers.append(stun.unpack_xor_address(data[pos + 4: pos + 4 + length], data[8:20]))
            except ValueError:
                pass
    return peers


def same_ip(a: str, b: str) -> bool:
    """Compare addresses as packed bytes (a scope id does not survive the wire)."""
    return ipaddress.ip_address(a.split("%")[0]).packed == ipaddress.ip_address(b).packed


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

    def sendto(self, data: bytes, address: Any) -> int:
        self.sent.append((data, address))
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


class _FailureLog(logging.Handler):
    """Turn handle_stun's "request failed" warning into a failure, with its traceback."""

    def __init__(self, fuzzer: "Fuzzer") -> None:
        super().__init__(logging.WARNING)
        self.fuzzer = fuzzer

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("request failed"):
            # Called inside handle_stun's except block: the exception is still current.
            self.fuzzer.fail("caught by handle_stun", traceback.format_exc())


class Fuzzer:
    """One server, its clients and the fake clock; ``run(n)`` feeds it about ``n`` inputs."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = MONOTONIC_START
        self.next_sweep = MONOTONIC_START + 1.0
        self.last_sweep = MONOTONIC_START
        self.counts: collections.Counter[str] = collections.Counter()
        self.failures: list[Failure] = []
        self.unexpected = 0
        self.violations = 0
        self.index = 0
        self.current: bytes = b""
        self.nonces: dict[str, bytes] = {}
        self.tokens: collections.deque[bytes] = collections.deque(maxlen=8)
        self.relay_addresses: collections.deque[Address] = collections.deque(maxlen=8)
        self.opened: dict[int, Any] = {}

        self.loop = asyncio.new_event_loop()
        self.server = TurnServer(TurnConfig(
            secrets=[SECRET, OLD_SECRET],
            listen=("127.0.0.1", 0),
            relay_ip="127.0.0.1",
            relay_bind_ip="127.0.0.1",
            relay_ports=RELAY_PORTS,
            realm=REALM,
            static_users={STATIC_USER: STATIC_PASSWORD},
            allowed_peers=["127.0.0.0/8"],
            user_quota=USER_QUOTA,
            total_quota=TOTAL_QUOTA,
        ))
        self.server.loop = self.loop
        self.udp = FakeUdpSocket()
        self.server._udp_sock = self.udp  # type: ignore[assignment]
        self.handler = self.server.handler
        self.table = self.server.table
        open_relay = self.handler.open_relay

        def tracked_open_relay(even: bool, pair: bool) -> Any:
            relays = open_relay(even, pair)
            for relay in relays:
                relay.sendto = self._relay_sendto(relay)
                self.opened[id(relay)] = relay
            return relays

        self.handler.open_relay = tracked_open_relay
        self.peer_sockets = [self._peer_socket(host) for host in ("127.0.0.1", "127.0.0.2")]
        self.peer_addresses: list[Address] = [s.getsockname() for s in self.peer_sockets]

        self.credentials = self._credentials()
        self.clients = self._clients()

    # -- set-up ------------------------------------------------------------------------------

    @staticmethod
    def _peer_socket(host: str) -> socket.socket:
        for port in range(PEER_PORTS_FROM, PEER_PORTS_FROM + 1000):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            return sock
        raise OSError("no free port for a peer socket")

    def _credentials(self) -> list[Credential]:
        def rest(user: str, ttl: float, secret: str = SECRET, weight: int = 1) -> Credential:
            return Credential(*issue_turn_credentials(secret, user, int(ttl), WALL_START), weight)

        late = f"carol:{int(WALL_START) + 10**8}"
        return [
            rest("alice", 10**8, weight=12),
            rest("bob", 10**8, weight=6),
            rest("dave", 10**8, OLD_SECRET, weight=3),  # rotated secret
            rest("erin", 1800, weight=3),  # expires during the run: refused for new sessions
            rest("frank", -60, weight=2),  # expired
            Credential(late, rest_password(SECRET, late), 2),  # timestamp after the user
            Credential(STATIC_USER, STATIC_PASSWORD, 3),
            Credential("alice-no-expiry", "x", 1),
            Credential(issue_turn_credentials(SECRET, "alice", 10**8, WALL_START)[0],
                       "wrong password", 2),
            Credential("²:mallory", "x", 1),  # a digit that int() refuses
            Credential("", "", 1),
        ]

    def _clients(self) -> list[Client]:
        udp: list[tuple[str, Hashable, Address]] = [
            ("udp-a", ("192.0.2.1", 5000), ("192.0.2.1", 5000)),
            ("udp-a2", ("192.0.2.1", 5001), ("192.0.2.1", 5001)),
            ("udp-b", ("198.51.100.9", 40000), ("198.51.100.9", 40000)),
            ("udp-c", ("10.1.2.3", 3478), ("10.1.2.3", 3478)),
            ("udp-lo", ("127.0.0.1", 50000), ("127.0.0.1", 50000)),
            ("udp-v6", ("2001:db8::1", 6000, 0, 0), ("2001:db8::1", 6000)),
            ("udp-ll", ("fe80::1%lo", 7000, 0, 1), ("fe80::1%lo", 7000)),
            ("udp-mapped", ("::ffff:192.0.2.7", 9000, 0, 0), ("::ffff:192.0.2.7", 9000)),
        ]
        clients = [Client(name, key, address, True, self._pick_credential())
                   for name, key, address in udp]
        for name, peer in (("tcp-a", ("192.0.2.50", 1234)), ("tcp-v6", ("2001:db8::50", 4321))):
            client = Client(name, None, peer, False, self._pick_credential())
            self._connect(client)
            clients.append(client)
        return clients

    def _connect(self, client: Client) -> None:
        connection = TcpConnection(self.server)
        transport = FakeTransport(client.address)
        connection.connection_made(transport)  # type: ignore[arg-type]
        client.key = connection
        client.transport = transport
        client.last_allocate = None
        client.unanswered.clear()

    def _pick_credential(self) -> Credential:
        weights = [c.weight for c in self.credentials]
        return self.rng.choices(self.credentials, weights)[0]

    def close(self) -> None:
        for allocation in list(self.table.allocations.values()):
            self.table.remove(allocation)
            allocation.relay.close()
        for relay in self.table.expired_reservations(float("inf")):
            relay.close()
        for relay in self.opened.values():
            relay.close()
        for client in self.clients:
            if isinstance(client.key, TcpConnection):
                client.key.connection_lost(None)
        for sock in self.peer_sockets:
            sock.close()
        self.loop.close()

    # -- bookkeeping -------------------------------------------------------------------------

    def wall(self) -> float:
        return WALL_START + (self.now - MONOTONIC_START)

    def fail(self, kind: str, detail: str, violation: bool = False) -> None:
        if violation:
            self.violations += 1
        else:
            self.unexpected += 1
        if len(self.failures) < MAX_REPORTED_FAILURES:
            self.failures.append(Failure(kind, self.index, self.inputs(), self.current, detail))

    def violation(self, detail: str) -> None:
        self.fail("invariant", detail, violation=True)

    def advance_clock(self) -> None:
        r = self.rng.random()
        if r < 0.001:
            self.now += self.rng.uniform(200, 4000)
        elif r < 0.011:
            self.now += self.rng.uniform(1, 30)
        else:
            self.now += self.rng.uniform(0, 0.05)
        if self.now >= self.next_sweep:
            # What TurnServer._sweep_forever does every second.
            for allocation in self.table.sweep(self.now):
                allocation.relay.close()
            for relay in self.table.expired_reservations(self.now):
                relay.close()
            self.last_sweep = self.now
            self.next_sweep = self.now + 1.0
            self.counts["sweeps"] += 1
            self.check_expiry()

    def check_expiry(self) -> None:
        """Right after a sweep nothing expired may be left."""
        for allocation in self.table.allocations.values():
            if allocation.expires_at <= self.last_sweep:
                self.violation("expired allocation survived the sweep")
            if any(at <= self.last_sweep for at in allocation.permissions.values()):
                self.violation("expired permission survived the sweep")
            if any(c.expires_at <= self.last_sweep for c in allocation.channels.values()):
                self.violation("expired channel survived the sweep")

    def _relay_sendto(self, relay: Any) -> Callable[[bytes, Address], int]:
        """Replace a relay's sendto: check that the peer is permitted, send nothing."""

        def sendto(payload: bytes, peer: Address) -> int:
            owner = next((a for a in self.table.allocations.values() if a.relay is relay), None)
            if owner is None:
                self.violation(f"relay without allocation sends to {peer}")
            elif owner.permissions.get(peer[0], 0.0) <= self.last_sweep:
                self.violation(f"relayed to {peer} without permission")
            elif not self.server.policy.is_allowed(peer):
                self.violation(f"relayed to the refused peer {peer}")
            if ":" in peer[0] or not 0 < peer[1] < 65536 or len(payload) > UDP_MAX_PAYLOAD:
                raise OSError("as the kernel would refuse it")
            self.counts["relayed_to_peer"] += 1
            return len(payload)

        return sendto

    def check_invariants(self) -> None:
        table = self.table
        if len(table.allocations) > table.total_quota:
            self.violation("more allocations than the total quota")
        per_user = collections.Counter(a.user for a in table.allocations.values())
        if any(count > table.user_quota for count in per_user.values()):
            self.violation(f"user quota exceeded: {per_user}")
        if dict(per_user) != getattr(table, "_per_user", dict(per_user)):
            self.violation(f"per-user counts drift: {per_user} != {table._per_user}")
        for (client, number), (allocation, peer) in table.routes.items():
            if table.allocations.get(client) is not allocation:
                self.violation(f"route {number:#x} of a removed allocation")
            elif getattr(allocation.channels.get(number), "peer", None) != peer:
                self.violation(f"route {number:#x} without its channel")
        referenced: list[Any] = []
        for client, allocation in table.allocations.items():
            if allocation.client != client:
                self.violation("allocation filed under another client")
            referenced.append(allocation.relay)
            if allocation.relay.sock.fileno() < 0:
                self.violation("live allocation with a closed relay")
            if len(allocation.channels) != len(allocation.peer_channels):
                self.violation("channels and peer_channels differ")
            for number, channel in allocation.channels.items():
                if allocation.peer_channels.get(channel.peer) != number:
                    self.violation(f"channel {number:#x} missing from peer_channels")
                if (client, number) not in table.routes:
                    self.violation(f"channel {number:#x} without route")
                if channel.peer[0] not in allocation.permissions:
                    self.violation(f"channel {number:#x} without permission")
        referenced += [relay for relay, _ in getattr(table, "_reservations", {}).values()]
        if len({id(r) for r in referenced}) != len(referenced):
            self.violation("one relay socket used twice")
        live = {id(r) for r in referenced}
        for key, relay in list(self.opened.items()):
            if relay.sock.fileno() < 0:
                del self.opened[key]
            elif key not in live:
                self.violation(f"leaked relay socket {relay.address}")
                relay.close()
                del self.opened[key]

    # -- generators --------------------------------------------------------------------------

    def random_bytes(self, low: int, high: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(low, high))

    def corrupt(self, value: bytes) -> bytes:
        rng = self.rng
        choice = rng.randrange(7)
        if choice == 0 and value:
            return value[: rng.randrange(len(value))]
        if choice == 1:
            return value + self.random_bytes(1, 8)
        if choice == 2:
            return rng.randbytes(len(value))
        if choice == 3:
            return b""
        if choice == 4:
            return self.random_bytes(100, 1200)
        if choice == 5 and value:
            i = rng.randrange(len(value))
            return value[:i] + bytes([value[i] ^ (1 << rng.randrange(8))]) + value[i + 1:]
        return self.random_bytes(0, 24)

    def pick_peer(self, client: Client) -> Address:
        rng = self.rng
        r = rng.random()
        allocation = self.table.get(client.key)
        if r < 0.3 and allocation is not None and (allocation.permissions or allocation.channels):
            if allocation.channels and rng.random() < 0.5:
                return rng.choice(list(allocation.channels.values())).peer
            return (rng.choice(list(allocation.permissions)), rng.choice(PEER_PORTS))
        if r < 0.55:
            return rng.choice(self.peer_addresses)
        if r < 0.62 and self.relay_addresses:
            return rng.choice(self.relay_addresses)
        ip = rng.choice(PEER_IPS)
        port = rng.choice(PEER_PORTS) if rng.random() < 0.7 else rng.randrange(65536)
        return (ip, port)

    def peer_value(self, peer: Address, txid: bytes) -> bytes:
        rng = self.rng
        r = rng.random()
        value = stun.pack_xor_address(peer, txid)
        if r < 0.9:
            return value
        if r < 0.93:
            return value[:1] + bytes([rng.choice([0, 3, 255])]) + value[2:]  # bad family
        if r < 0.95:
            return value[:1] + bytes([value[1] ^ 3]) + value[2:]  # the other family's length
        if r < 0.97:
            return stun.pack_address(peer)  # not XOR-ed
        return self.corrupt(value)

    def peer_attribute(self, client: Client, txid: bytes) -> bytes:
        return tlv(XOR_PEER_ADDRESS, self.peer_value(self.pick_peer(client), txid))

    def channel_value(self, client: Client) -> bytes:
        rng = self.rng
        allocation = self.table.get(client.key)
        r = rng.random()
        if r < 0.3 and allocation is not None and allocation.channels:
            number = rng.choice(list(allocation.channels))
        elif r < 0.85:
            number = rng.choice(CHANNELS) if rng.random() < 0.7 else rng.randint(0x4000, 0x7FFF)
        else:
            number = rng.choice(BAD_CHANNELS) if rng.random() < 0.7 else rng.randrange(65536)
        value = struct.pack("!HH", number, 0 if rng.random() < 0.95 else rng.randrange(65536))
        r = rng.random()
        if r < 0.03:
            return value[:2]  # aioice reads the first two bytes only
        if r < 0.06:
            return self.corrupt(value)
        return value

    def u32(self, value: int) -> bytes:
        return struct.pack("!I", value & 0xFFFFFFFF)

    def family_value(self) -> bytes:
        rng = self.rng
        value = bytes([rng.choice([1, 1, 2, 0, 3, rng.randrange(256)]), 0, 0, 0])
        return value if rng.random() < 0.9 else self.corrupt(value)

    def extra_attribute(self, client: Client, txid: bytes) -> bytes:
        """One attribute drawn from the TURN types, valid or not."""
        rng = self.rng
        kind = rng.randrange(22)
        if kind == 0:
            return tlv(REQUESTED_TRANSPORT, self.transport_value())
        if kind == 1:
            return tlv(LIFETIME, self.lifetime_value())
        if kind in (2, 3):
            return tlv(XOR_PEER_ADDRESS, self.peer_value(self.pick_peer(client), txid))
        if kind == 4:
            return tlv(CHANNEL_NUMBER, self.channel_value(client))
        if kind == 5:
            return tlv(DATA, self.random_bytes(0, 64))
        if kind == 6:
            return tlv(DONT_FRAGMENT, b"" if rng.random() < 0.8 else self.random_bytes(1, 4))
        if kind == 7:
            return tlv(EVEN_PORT, self.even_port_value())
        if kind == 8:
            return tlv(RESERVATION_TOKEN, self.token_value())
        if kind == 9:
            return tlv(REQUESTED_ADDRESS_FAMILY, self.family_value())
        if kind == 10:
            return tlv(ADDITIONAL_ADDRESS_FAMILY, self.family_value())
        if kind == 11:  # random comprehension-required type
            return tlv(rng.randrange(0x0000, 0x8000), self.random_bytes(0, 12))
        if kind == 12:  # random comprehension-optional type
            return tlv(rng.randrange(0x8000, 0x10000), self.random_bytes(0, 12))
        if kind == 13:  # types aioice parses, with random values
            attr_type = rng.choice([MAPPED_ADDRESS, CHANGE_REQUEST, ERROR_CODE, PRIORITY,
                                    USE_CANDIDATE, XOR_MAPPED_ADDRESS, XOR_RELAYED_ADDRESS,
                                    SOFTWARE, ICE_CONTROLLED, RESPONSE_ORIGIN])
            return tlv(attr_type, self.random_bytes(0, 24))
        if kind == 14:  # known to RFC 8489/8656, not understood here
            attr_type = rng.choice([MESSAGE_INTEGRITY_SHA256, PASSWORD_ALGORITHM, USERHASH,
                                    CONNECTION_ID, UNKNOWN_ATTRIBUTES, ALTERNATE_DOMAIN, ICMP,
                                    ALTERNATE_SERVER])
            return tlv(attr_type, self.random_bytes(0, 32))
        if kind == 15:
            return tlv(FINGERPRINT, self.random_bytes(4, 4))  # in the middle: wrong
        if kind == 16:  # a length-field lie
            value = self.random_bytes(0, 12)
            return tlv(rng.choice([LIFETIME, XOR_PEER_ADDRESS, DATA, USERNAME, 0x8055]), value,
                       declared=rng.randrange(65536))
        if kind == 17:
            return tlv(rng.choice([USERNAME, REALM_ATTR, NONCE]), self.random_bytes(0, 40))
        if kind == 18:
            return tlv(MESSAGE_INTEGRITY, self.random_bytes(0, 24))  # too early
        if kind == 19:
            return tlv(DATA, self.random_bytes(1000, 9000))
        if kind == 20:
            return tlv(XOR_PEER_ADDRESS, self.peer_value(self.pick_peer(client), txid))
        return tlv(CHANNEL_NUMBER, self.channel_value(client))

    def transport_value(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.85:
            return self.u32(codec.UDP_PROTOCOL << 24)
        if r < 0.9:
            return self.u32(6 << 24)  # TCP: 442
        if r < 0.93:
            return self.u32(codec.UDP_PROTOCOL << 24 | rng.randrange(1 << 24))  # RFFU set
        if r < 0.96:
            return self.u32(rng.randrange(1 << 32))
        return self.corrupt(self.u32(codec.UDP_PROTOCOL << 24))

    def lifetime_value(self) -> bytes:
        rng = self.rng
        value = rng.choice(LIFETIMES) if rng.random() < 0.8 else rng.randrange(1 << 32)
        return self.u32(value) if rng.random() < 0.95 else self.corrupt(self.u32(value))

    def even_port_value(self) -> bytes:
        rng = self.rng
        value = bytes([rng.choice([0x80, 0x00, rng.randrange(256)])])
        return value if rng.random() < 0.9 else self.corrupt(value)

    def token_value(self) -> bytes:
        rng = self.rng
        if self.tokens and rng.random() < 0.6:
            value = rng.choice(self.tokens)
        else:
            value = rng.randbytes(8)
        return value if rng.random() < 0.92 else self.corrupt(value)

    def method_attributes(self, method: int, client: Client, txid: bytes) -> list[bytes]:
        """The attributes a client would send for this method (each may be left out)."""
        rng = self.rng
        attributes: list[bytes] = []
        if method == ALLOCATE:
            if rng.random() < 0.95:
                attributes.append(tlv(REQUESTED_TRANSPORT, self.transport_value()))
            if rng.random() < 0.3:
                attributes.append(tlv(LIFETIME, self.lifetime_value()))
            if rng.random() < 0.2:
                attributes.append(tlv(DONT_FRAGMENT, b""))
            r = rng.random()
            if r < 0.15:
                attributes.append(tlv(EVEN_PORT, self.even_port_value()))
            elif r < 0.27:
                attributes.append(tlv(RESERVATION_TOKEN, self.token_value()))
            if rng.random() < 0.08:
                attributes.append(tlv(REQUESTED_ADDRESS_FAMILY, self.family_value()))
            if rng.random() < 0.04:
                attributes.append(tlv(ADDITIONAL_ADDRESS_FAMILY, self.family_value()))
        elif method == REFRESH:
            if rng.random() < 0.7:
                attributes.append(tlv(LIFETIME, self.lifetime_value()))
            if rng.random() < 0.05:
                attributes.append(tlv(REQUESTED_ADDRESS_FAMILY, self.family_value()))
        elif method == CREATE_PERMISSION:
            for _ in range(rng.choice([0, 1, 1, 1, 1, 2, 3, 5])):
                attributes.append(self.peer_attribute(client, txid))
        elif method == CHANNEL_BIND:
            if rng.random() < 0.95:
                attributes.append(tlv(CHANNEL_NUMBER, self.channel_value(client)))
            for _ in range(rng.choice([0, 1, 1, 1, 1, 1, 1, 2])):
                attributes.append(self.peer_attribute(client, txid))
        elif method in (SEND, DATA_METHOD):
            if rng.random() < 0.95:
                attributes.append(tlv(XOR_PEER_ADDRESS,
                                      self.peer_value(self.pick_peer(client), txid)))
            if rng.random() < 0.95:
                attributes.append(tlv(DATA, self.random_bytes(0, 64)))
        return attributes

    def pick_method(self, client: Client) -> int:
        rng = self.rng
        r = rng.random()
        allocate = 0.08 if self.table.get(client.key) is not None else 0.45
        for method, share in ((ALLOCATE, allocate), (REFRESH, 0.10), (CREATE_PERMISSION, 0.22),
                              (CHANNEL_BIND, 0.22), (BINDING, 0.06), (SEND, 0.06),
                              (DATA_METHOD, 0.02), (0x002, 0.02)):
            if r < share:
                return method
            r -= share
        return rng.randrange(0x1000)

    def pick_class(self, method: int) -> int:
        rng = self.rng
        if method in (SEND, DATA_METHOD):
            return INDICATION if rng.random() < 0.9 else rng.choice([REQUEST, SUCCESS, ERROR])
        return REQUEST if rng.random() < 0.92 else rng.choice([INDICATION, SUCCESS, ERROR])

    def build_stun(self, client: Client, mutate: float) -> Pending:
        """A STUN message from this client, mutated with probability ``mutate``."""
        pending = self._build_stun(client)
        if self.rng.random() < mutate:
            pending.request = self.mutate(pending.request)
        return pending

    def _build_stun(self, client: Client) -> Pending:
        rng = self.rng
        if client.last_allocate is not None and rng.random() < 0.03:
            self.counts["gen_retransmission"] += 1
            data, key = client.last_allocate
            return Pending(client, data, key)
        method = self.pick_method(client)
        cls = self.pick_class(method)
        txid = rng.randbytes(12)
        pending = Pending(client)
        attributes = self.method_attributes(method, client, txid)
        for _ in range(rng.choice([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8])):
            attributes.insert(rng.randrange(len(attributes) + 1),
                              self.extra_attribute(client, txid))
        if attributes and rng.random() < 0.03:  # a duplicate, before signing
            attributes.append(rng.choice(attributes))
        if rng.random() < 0.01:
            rng.shuffle(attributes)
        header = struct.pack("!HHI12s", message_type(method, cls), 0, stun.COOKIE, txid)
        data = set_length(header + b"".join(attributes))
        if len(data) > 60000:
            data = set_length(header)
        ip = client.address[0]
        signed = method not in (BINDING, SEND, DATA_METHOD) or rng.random() < 0.05
        if signed and ip not in self.nonces and rng.random() < 0.7:
            signed = False  # ask for a challenge first, as a client does
        if signed and rng.random() < 0.03:
            signed = False
        if signed:
            data, key = self.sign(data, client)
            pending.key = key
        if rng.random() < 0.4:
            data = append_fingerprint(data)
        if method == ALLOCATE and cls == REQUEST and signed:
            client.last_allocate = (data, pending.key)
        pending.request = data
        return pending

    def sign(self, data: bytes, client: Client) -> tuple[bytes, bytes | None]:
        """Add USERNAME, REALM, NONCE and MESSAGE-INTEGRITY as a client would."""
        rng = self.rng
        credential = client.credential if rng.random() < 0.9 else self._pick_credential()
        key = credential.key
        username = credential.username.encode()
        if rng.random() < 0.01:
            username = rng.choice([b"\xff\xfe", b"\xed\xa0\x80:x", b"9" * 5000 + b":x",
                                   self.random_bytes(0, 20)])
        nonce = self.nonces.get(client.address[0])
        r = rng.random()
        if nonce is None or r < 0.02:
            nonce = rng.choice([self.random_bytes(0, 24), b"00000000" + b"0" * 16])
        elif r < 0.05 and self.nonces:
            nonce = rng.choice(list(self.nonces.values()))  # another address's nonce
        auth = [tlv(USERNAME, username), tlv(REALM_ATTR, REALM.encode()), tlv(NONCE, nonce)]
        if rng.random() < 0.03:
            del auth[rng.randrange(3)]
        if rng.random() < 0.01:
            auth[-1:] = [tlv(REALM_ATTR, b"other realm"), auth[-1]]
        data = set_length(data + b"".join(auth))
        r = rng.random()
        if r < 0.93:
            return append_integrity(data, key), key
        if r < 0.96:
            other = self._pick_credential()
            return append_integrity(data, other.key), None
        if r < 0.98:
            return set_length(data + tlv(MESSAGE_INTEGRITY, self.random_bytes(20, 20))), None
        return set_length(data + tlv(MESSAGE_INTEGRITY, self.random_bytes(0, 40))), None

    def mutate(self, data: bytes) -> bytes:
        """Damage a finished message: the server must still answer or drop it cleanly."""
        rng = self.rng
        choice = rng.randrange(11)
        self.counts["gen_mutated"] += 1
        if choice == 0:  # bit flips anywhere
            buffer = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
            return bytes(buffer)
        if choice == 1:  # a bit flip in the header
            buffer = bytearray(data)
            buffer[rng.randrange(stun.HEADER_LENGTH)] ^= 1 << rng.randrange(8)
            return bytes(buffer)
        if choice == 2:
            return data[: rng.randrange(len(data))]
        if choice == 3:
            return data + self.random_bytes(1, 8)
        if choice == 4:  # attributes after MESSAGE-INTEGRITY, length fixed: not authenticated
            extra = b"".join(tlv(t, v) for t, v in rng.choice([
                [(XOR_PEER_ADDRESS, stun.pack_xor_address(self.rng.choice(self.peer_addresses),
                                                          data[8:20]))],
                [(rng.randrange(0x8000), self.random_bytes(0, 8))],
                [(LIFETIME, self.u32(0))],
                [(EVEN_PORT, b"\x80")],
                [(REQUESTED_ADDRESS_FAMILY, b"\x02\x00\x00\x00")],
                [(RESERVATION_TOKEN, self.random_bytes(7, 9))],
            ]))
            data = set_length(data + extra)
            return append_fingerprint(data) if rng.random() < 0.5 else data
        if choice == 5:  # the header's length lies
            lie = rng.choice([0, len(data), len(data) - 24, rng.randrange(65536)])
            return set_length(data, lie)
        attributes = loose_attributes(data)
        if not attributes:
            return data[:stun.HEADER_LENGTH] + self.random_bytes(0, 40)
        pos, size = rng.choice(attributes)
        if choice == 6:  # an attribute's length lies
            lie = rng.choice([0, 1, 3, size, size + 4, rng.randrange(65536)])
            return data[: pos + 2] + struct.pack("!H", lie) + data[pos + 4:]
        if choice == 7:  # a duplicated attribute, header length fixed
            return set_length(data[: pos + size] + data[pos: pos + size] + data[pos + size:])
        if choice == 8:  # an attribute removed
            return set_length(data[:pos] + data[pos + size:])
        if choice == 9:  # another transaction id
            return data[:8] + rng.randbytes(12) + data[20:]
        return data[:4] + rng.randbytes(4) + data[8:]  # the cookie

    def channel_data(self, client: Client, padded: bool) -> bytes:
        rng = self.rng
        allocation = self.table.get(client.key)
        if allocation is not None and allocation.channels and rng.random() < 0.7:
            number = rng.choice(list(allocation.channels))
        else:
            number = rng.randint(0x4000, 0x7FFF) if rng.random() < 0.8 else rng.choice(CHANNELS)
        payload = self.random_bytes(0, 120) if rng.random() < 0.995 else self.random_bytes(0, 1500)
        declared = len(payload)
        r = rng.random()
        if r < 0.05:
            declared = rng.randrange(65536)
        elif r < 0.08:
            declared = max(0, len(payload) - rng.randint(1, 4))
        frame = struct.pack("!HH", number, declared) + payload
        if padded:
            frame += bytes(-len(frame) % 4)
        return frame

    def junk(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return self.random_bytes(0, 64)
        if r < 0.5:  # a STUN header with random attributes
            header = struct.pack("!HHI12s", rng.randrange(0x4000), 0, stun.COOKIE,
                                 rng.randbytes(12))
            body = b"".join(tlv(rng.randrange(65536), self.random_bytes(0, 16))
                            for _ in range(rng.randrange(5)))
            return set_length(header + body)
        if r < 0.7:  # a header and random body of the right length
            body = self.random_bytes(0, 16) * 4
            return struct.pack("!HHI12s", rng.randrange(0x4000), len(body), stun.COOKIE,
                               rng.randbytes(12)) + body
        if r < 0.85:
            return self.random_bytes(1, 3)
        return codec.SEND_INDICATION_BYTES + self.random_bytes(0, 40)

    # -- checking responses ------------------------------------------------------------------

    def check_response(self, response: bytes, pending: Pending) -> None:
        try:
            message = stun.parse_message(response)
        except ValueError as exc:
            self.violation(f"unparseable response {response.hex()}: {exc}")
            return
        if message.transaction_id != pending.txid:
            self.violation("response with another transaction id")
        if message.message_method != pending.method:
            self.violation(f"response method {message.message_method} to {pending.method:#x}")
        name = message.message_method.name.lower()
        attributes = message.attributes
        signed = "MESSAGE-INTEGRITY" in attributes
        if signed and pending.key is not None and not message.check_message_integrity(
                pending.key):
            self.violation("response signed with another key")
        if message.message_class == stun.Class.RESPONSE:
            self.counts[f"success_{name}"] += 1
            if pending.method != BINDING and not signed:
                self.violation("unsigned success response")
            if pending.method == BINDING:
                mapped = attributes.get("XOR-MAPPED-ADDRESS")
                if mapped is None or not same_ip(pending.client.address[0], mapped[0]):
                    self.violation(f"Binding maps to {mapped}")
            if pending.method == ALLOCATE:
                relayed = attributes.get("XOR-RELAYED-ADDRESS")
                lifetime = attributes.get("LIFETIME", -1)
                config = self.server.config
                if relayed is None or not RELAY_PORTS[0] <= relayed[1] <= RELAY_PORTS[1]:
                    self.violation(f"relayed address {relayed}")
                else:
                    self.relay_addresses.append(relayed)
                if not config.default_lifetime_seconds <= lifetime <= config.max_lifetime_seconds:
                    self.violation(f"allocation lifetime {lifetime}")
                for attr_type, value in codec.scan_attributes(response):
                    if attr_type == RESERVATION_TOKEN:
                        self.tokens.append(value)
            if pending.method in (CREATE_PERMISSION, CHANNEL_BIND):
                allocation = self.table.get(pending.client.key)
                if allocation is not None and any(
                        peer[0] not in allocation.permissions
                        for peer in authenticated_peers(pending.request)):
                    self.violation(f"{name} succeeded without installing permissions")
        elif message.message_class == stun.Class.ERROR:
            code = message.error_code
            self.counts[f"error_{code}"] += 1
            if code in (401, 438):
                nonce = attributes.get("NONCE")
                if nonce is None or (code == 401 and "REALM" not in attributes):
                    self.violation(f"{code} without a challenge")
                else:
                    self.nonces[pending.client.address[0]] = nonce
            if code == 420 and all(t != UNKNOWN_ATTRIBUTES
                                   for t, _ in codec.scan_attributes(response)):
                self.violation("420 without UNKNOWN-ATTRIBUTES")
            if code == 401 and signed:
                self.violation("signed 401")
        else:
            self.violation(f"response of class {message.message_class}")

    def check_replies(self, replies: list[bytes], pending: dict[tuple[int, bytes], Pending],
                      stream: Client | None = None) -> None:
        """Match replies to requests by method and transaction id; ``stream``: a TCP client."""
        for reply in replies:
            if codec.is_channel_data(reply[0]):
                self.violation("ChannelData reply to a request")
                continue
            entry = pending.get((int.from_bytes(reply[0:2], "big") & 0x3EEF, reply[8:20]))
            if entry is None and stream is not None:
                # A frame that lies about its length shifts the framing: the server then
                # answers a "request" made of the tails and heads of ours.
                self.counts["tcp_reply_to_reframed_bytes"] += 1
                entry = Pending(stream, reply[:20])
            if entry is None:
                self.violation(f"reply to no request: {reply[:20].hex()}")
                continue
            self.check_response(reply, entry)

    # -- the four paths ----------------------------------------------------------------------

    def direct(self, client: Client) -> None:
        """One message straight into RequestHandler.handle (or the Send indication parser)."""
        if self.rng.random() < 0.03:
            pending = Pending(client, self.junk())
        else:
            pending = self.build_stun(client, mutate=0.15)
        data = self.current = pending.request
        self.counts["inputs_direct"] += 1
        if data[0:2] == codec.SEND_INDICATION_BYTES:
            try:
                codec.parse_send_indication(data)
            except ValueError:
                self.counts["send_indication_malformed"] += 1
            except Exception:
                self.fail("parse_send_indication", traceback.format_exc())
            else:
                self.counts["send_indication_parsed"] += 1
            return
        allocation = self.table.get(client.key)
        before = set(allocation.permissions) if allocation is not None else set()
        try:
            response = self.handler.handle(data, client.key, client.address, self.now,
                                           self.wall(), client.datagram)
        except ValueError:
            self.counts["malformed"] += 1
            return
        except Exception:
            self.fail("RequestHandler.handle", traceback.format_exc())
            return
        if response is None:
            self.counts["dropped"] += 1
            return
        self.check_response(response, pending)
        if allocation is not None and allocation is self.table.get(client.key):
            # RFC 8489 section 14.5: attributes after MESSAGE-INTEGRITY must be ignored.
            added = set(allocation.permissions) - before
            signed = {peer[0] for peer in authenticated_peers(data)}
            if added - signed:
                self.violation(f"permission for {sorted(added - signed)}, which only an "
                               "attribute after MESSAGE-INTEGRITY names")

    def udp_loop(self) -> None:
        """A few datagrams through TurnServer._on_udp_readable."""
        rng = self.rng
        pending: dict[tuple[int, bytes], Pending] = {}
        clients = [c for c in self.clients if c.datagram]
        batch = []
        for _ in range(rng.randint(1, 4)):
            client = rng.choice(clients)
            r = rng.random()
            if r < 0.35:
                data = self.channel_data(client, padded=rng.random() < 0.2)
            elif r < 0.97:
                entry = self.build_stun(client, 0.1) if r < 0.9 else Pending(client, self.junk())
                data = entry.request
                pending[entry.match] = entry
            else:
                self.udp.inbox.append(ConnectionRefusedError(111, "ICMP port unreachable"))
                continue
            self.udp.inbox.append((data, client.key))
            batch.append(data)
        self.current = b"".join(batch)
        self.counts["inputs_udp_loop"] += len(batch)
        try:
            self.server._on_udp_readable()
        except Exception:
            self.fail("escaped _on_udp_readable", traceback.format_exc())
        self.udp.inbox.clear()
        replies = [data for data, _ in self.udp.sent]
        self.udp.sent.clear()
        self.check_replies(replies, pending)

    def tcp_stream(self) -> None:
        """Frames over a TCP connection, cut into random chunks for data_received."""
        rng = self.rng
        client = rng.choice([c for c in self.clients if not c.datagram])
        connection = client.key
        assert isinstance(connection, TcpConnection) and client.transport is not None
        pending = client.unanswered
        while len(pending) > 64:
            del pending[next(iter(pending))]
        frames = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.3:
                frames.append(self.channel_data(client, padded=rng.random() < 0.95))
            else:
                entry = self.build_stun(client, 0.08) if r < 0.97 else Pending(client, self.junk())
                pending[entry.match] = entry
                frames.append(entry.request)
        stream = b"".join(frames)
        self.current = stream
        self.counts["inputs_tcp_stream"] += len(frames)
        if not stream:
            return
        cuts = sorted(rng.sample(range(1, len(stream)), min(len(stream) - 1, rng.randrange(4))))
        try:
            for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
                connection.data_received(stream[start:end])
                if client.transport.closing:
                    break
        except Exception:
            self.fail("escaped TcpConnection.data_received", traceback.format_exc())
        written = b"".join(client.transport.written)
        client.transport.written.clear()
        try:
            replies, rest = codec.split_stream(written)
        except ValueError:
            self.violation(f"unframed TCP output {written[:40].hex()}")
            replies, rest = [], b""
        if rest:
            self.violation("partial frame written to TCP")
        self.check_replies(replies, pending, stream=client)
        if client.transport.closing:
            self.counts["tcp_aborted"] += 1
            connection.connection_lost(None)  # as the event loop would, after abort()
            if self.table.get(connection) is not None:
                self.violation("allocation outlives its TCP connection")
            self._connect(client)

    def peer_traffic(self) -> None:
        """Real datagrams from a peer to a relay socket, read by relay_reader."""
        rng = self.rng
        if not self.table.allocations:
            return
        allocation = rng.choice(list(self.table.allocations.values()))
        index = rng.randrange(len(self.peer_sockets))
        sock, peer = self.peer_sockets[index], self.peer_addresses[index]
        payloads = [self.random_bytes(0, 200) for _ in range(rng.randint(1, 3))]
        for payload in payloads:
            try:
                sock.sendto(payload, allocation.relay_address)
            except OSError:
                return
        self.current = b"".join(payloads)
        self.counts["inputs_peer"] += len(payloads)
        client = allocation.client
        transport = next((c.transport for c in self.clients if c.key is client), None)
        try:
            self.server.relay_reader(allocation.relay, allocation)()
        except Exception:
            self.fail("escaped relay_reader", traceback.format_exc())
        if transport is not None:
            out, rest = codec.split_stream(b"".join(transport.written))
            transport.written.clear()
            if rest:
                self.violation("partial frame written to TCP")
        else:
            out = [data for data, address in self.udp.sent if address == client]
            if len(out) != len(self.udp.sent):
                self.violation("relayed data sent to another client")
            self.udp.sent.clear()
        expected = collections.deque(payloads)
        channel = allocation.peer_channels.get(peer)
        for data in out:
            if codec.is_channel_data(data[0]):
                number, size = struct.unpack_from("!HH", data)
                payload = data[4: 4 + size]
                if number != channel:
                    self.violation(f"ChannelData on {number:#x}, channel is {channel}")
                self.counts["peer_to_client_channel_data"] += 1
            else:
                try:
                    message = stun.parse_message(data)
                except ValueError as exc:
                    self.violation(f"bad Data indication {data.hex()}: {exc}")
                    continue
                payload = message.attributes.get("DATA", b"")
                if message.attributes.get("XOR-PEER-ADDRESS") != peer:
                    self.violation("Data indication from the wrong peer")
                if peer[0] not in allocation.permissions:
                    self.violation("Data indication without permission")
                self.counts["peer_to_client_data_indication"] += 1
            while expected and expected[0] != payload:
                expected.popleft()  # datagrams may be lost, never altered
            if not expected:
                self.violation("relayed payload altered")
            else:
                expected.popleft()
        if channel is None and peer[0] not in allocation.permissions and out:
            self.violation("peer data relayed without permission")

    # -- driver ------------------------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        self.advance_clock()
        r = rng.random()
        if r < 0.003:
            client = rng.choice(self.clients)
            client.credential = self._pick_credential()
        if r < 0.0002:  # a flood of unauthenticated requests from one address: budget
            client = rng.choice([c for c in self.clients if c.datagram])
            for _ in range(60):
                self.current = bytes(stun.Message(stun.Method.BINDING, stun.Class.REQUEST))
                try:
                    response = self.handler.handle(self.current, client.key, client.address,
                                                   self.now, self.wall())
                except Exception:
                    self.fail("RequestHandler.handle", traceback.format_exc())
                    continue
                self.counts["flood_dropped" if response is None else "flood_answered"] += 1
            self.counts["inputs_direct"] += 60
            return
        r = rng.random()
        if r < 0.70:
            self.direct(rng.choice(self.clients))
        elif r < 0.86:
            self.udp_loop()
        elif r < 0.97:
            self.tcp_stream()
        else:
            self.peer_traffic()

    def inputs(self) -> int:
        return sum(self.counts[k] for k in ("inputs_direct", "inputs_udp_loop",
                                            "inputs_tcp_stream", "inputs_peer"))

    def run(self, inputs: int) -> None:
        while self.inputs() < inputs:
            self.index += 1
            self.step()
            if self.index % INVARIANT_INTERVAL == 0:
                self.check_invariants()
        self.check_invariants()


@dataclass
class FuzzReport:
    seed: int
    inputs: int
    seconds: float
    counts: dict[str, int]
    server_stats: dict[str, int]
    unexpected_exceptions: int
    invariant_violations: int
    failures: list[Failure]

    def lines(self) -> Iterator[str]:
        for failure in self.failures:
            yield f"FAILURE ({failure.kind}) at step {failure.index}"
            yield f"input: {failure.data.hex()}"
            yield from failure.detail.rstrip().splitlines()
            yield f"replay: scripts/fuzz_turn.py --seed {self.seed} --inputs {failure.inputs}"
        if self.unexpected_exceptions + self.invariant_violations > len(self.failures):
            yield f"(only the first {len(self.failures)} failures are shown)"
        yield f"seed: {self.seed}"
        yield f"inputs: {self.inputs}"
        for name, value in sorted(self.counts.items()):
            if not name.startswith("inputs"):
                yield f"{name}: {value}"
        for name in ("inputs_direct", "inputs_udp_loop", "inputs_tcp_stream", "inputs_peer"):
            yield f"{name}: {self.counts.get(name, 0)}"
        for name, value in sorted(self.server_stats.items()):
            yield f"server_{name}: {value}"
        yield f"seconds: {self.seconds:.1f}"
        yield f"inputs_per_second: {self.inputs / max(self.seconds, 1e-9):.0f}"
        yield f"invariant_violations: {self.invariant_violations}"
        yield f"unexpected_exceptions: {self.unexpected_exceptions}"


@contextmanager
def _patched(fuzzer: Fuzzer) -> Iterator[None]:
    """Make the server replayable and watched while the fuzzer runs.

    Its clock is the fuzzer's; its random choices (relay ports, nonce key, reservation
    tokens) come from the seed, because they end up in later inputs; its "request failed"
    log is a failure.
    """
    clock = SimpleNamespace(monotonic=lambda: fuzzer.now, time=fuzzer.wall)
    seeded = random.Random(fuzzer.seed + 1)
    fuzzer.handler.auth._nonce_key = seeded.randbytes(32)
    log = logging.getLogger(server_module.__name__)
    handler = _FailureLog(fuzzer)
    level = log.level
    log.addHandler(handler)
    if not log.isEnabledFor(logging.WARNING):
        log.setLevel(logging.WARNING)
    try:
        with (
            mock.patch.object(server_module, "time", clock),
            mock.patch.object(server_module, "random", random.Random(fuzzer.seed + 2)),
            mock.patch.object(handlers_module, "os", SimpleNamespace(urandom=seeded.randbytes)),
        ):
            yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def run_fuzz(inputs: int, seed: int = 1) -> FuzzReport:
    """Feed about ``inputs`` messages to a fresh server; never raises for what it finds."""
    started = time.perf_counter()
    fuzzer = Fuzzer(seed)
    try:
        with _patched(fuzzer):
            fuzzer.run(inputs)
    finally:
        fuzzer.close()
    return FuzzReport(
        seed=seed,
        inputs=fuzzer.inputs(),
        seconds=time.perf_counter() - started,
        counts={k: v for k, v in fuzzer.counts.items()},
        server_stats=dict(fuzzer.server.stats),
        unexpected_exceptions=fuzzer.unexpected,
        invariant_violations=fuzzer.violations,
        failures=fuzzer.failures,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="messages to feed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = run_fuzz(args.inputs, args.seed)
    sys.stdout.write("".join(line + "\n" for line in report.lines()))
    return 1 if report.unexpected_exceptions or report.invariant_violations else 0


if __name__ == "__main__":
    sys.exit(main())
