"""One server under fuzzing, its clients and the fake clock, fed along four paths."""

from __future__ import annotations

import asyncio
import collections
import random
import socket
import struct
import traceback
from collections.abc import Hashable
from typing import Any

from aioice import stun

from praatbox.credentials import issue_turn_credentials, rest_password
from praatbox.turn import codec
from praatbox.turn.config import TurnConfig
from praatbox.turn.server import TurnServer
from praatbox.turn.tcp import TcpConnection
from tests.turn.fuzz.fakes import Client, Credential, Failure, FakeTransport, FakeUdpSocket, Pending
from tests.turn.fuzz.generators import Generators
from tests.turn.fuzz.oracle import Oracle
from tests.turn.fuzz.wire import (
    INVARIANT_INTERVAL,
    MAX_REPORTED_FAILURES,
    MONOTONIC_START,
    OLD_SECRET,
    PEER_PORTS_FROM,
    REALM,
    RELAY_PORTS,
    SECRET,
    STATIC_PASSWORD,
    STATIC_USER,
    TOTAL_QUOTA,
    USER_QUOTA,
    WALL_START,
    Address,
    authenticated_peers,
)


class Fuzzer(Generators, Oracle):
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
            self.server.relay_reader(allocation.relay, allocation)(len(payloads) + 1)
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
