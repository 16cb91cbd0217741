"""Sockets of the TURN server: UDP, TCP and TLS listeners (connections in `tcp`), relay sockets,
the expiry sweep.

Stock asyncio datagram transports cost one event-loop pass per datagram (measured on loopback:
about 12.6k echo messages/s, against 65-75k/s for a loop that drains ``recvfrom``). So the
listener is read with ``loop.add_reader`` and a loop that drains ``recvfrom_into`` until it
would block, and relay sockets through one epoll set (``poller``). ChannelData is forwarded
with one dict lookup and no parsing, from the receive buffer. Everything that can raise on
network input is caught here, per packet.
"""

import asyncio
import ipaddress
import logging
import math
import random
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, cast

from aioice.ice import get_host_addresses

from praatbox.turn import codec
from praatbox.turn.allocations import Allocation, AllocationTable, add_count
from praatbox.turn.budget import source_key
from praatbox.turn.config import TurnConfig
from praatbox.turn.handlers import RequestHandler
from praatbox.turn.peers import PeerPolicy
from praatbox.turn.poller import RelayPoller
from praatbox.turn.tcp import TcpConnection
from praatbox.turn.workers import WorkerShare

logger = logging.getLogger(__name__)

# The largest UDP payload, and room in front of it for the header a relayed datagram gets
# (ChannelData 4 bytes, a Data indication 36) and behind it for padding: relayed packets are
# written in place in one buffer, never copied into new objects.
RECV_BUFFER_BYTES = 65536
HEADROOM_BYTES = codec.DATA_INDICATION_HEADER_BYTES
PADDING_ROOM_BYTES = 4
# Packets handled per readiness callback: enough to amortise the wakeup, few enough that one
# busy socket cannot starve the others.
DRAIN_LIMIT_PACKETS = 256
LISTENER_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024
RELAY_SOCKET_BUFFER_BYTES = 512 * 1024
RELAY_BIND_ATTEMPTS = 64
SWEEP_INTERVAL_SECONDS = 1.0
STATS_INTERVAL_SECONDS = 60.0

Address = tuple[str, int]


def _make_udp_socket(
    host: str, port: int, buffer_bytes: int, reuse_port: bool = False
) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, buffer_bytes)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class UdpRelay:
    """One allocation's relay socket; forwards what peers send back to the client."""

    def __init__(self, server: "TurnServer", sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.sendto = sock.sendto
        self.address: Address = (server.config.relay_ip, sock.getsockname()[1])

    def start(self, allocation: Allocation) -> None:
        self.server.poller.add(self.sock.fileno(), self.server.relay_reader(self, allocation))

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.server.poller.remove(self.sock.fileno())
            self.sock.close()


class TurnServer:
    """The STUN/TURN server; ``await start()``, then ``await close()``."""

    def __init__(self, config: TurnConfig, share: WorkerShare | None = None) -> None:
        self.config = config
        self.share = share
        self.table = AllocationTable(
            config.user_quota, config.total_quota, config.address_quota,
            share.live_relay_ports if share else None,
        )
        self.policy = PeerPolicy(
            config.allowed_peers, config.denied_peers, own_addresses(config),
            self.table.relay_ports,
        )
        self.handler = RequestHandler(config, self.table, self.policy, self._open_relay,
                                      share.nonce_key if share else None)
        self.stats = self.handler.stats
        self.poller = RelayPoller()
        self.connections: set[TcpConnection] = set()
        self._connections_per_source: dict[str, int] = {}
        self.udp_address: Address = ("", 0)
        self.tcp_address: Address = ("", 0)
        self.tls_address: Address | None = None
        self.listening = False
        # Relayed traffic, read by the metrics collector at scrape time; the UDP readers add
        # once per drained batch, so counting costs nothing measurable per packet.
        self.packets_to_peer = self.bytes_to_peer = 0
        self.packets_to_client = self.bytes_to_client = 0
        self._udp_sock: socket.socket | None = None
        # One receive buffer for every socket: a packet is sent on before the next is read.
        self._buffer = bytearray(HEADROOM_BYTES + RECV_BUFFER_BYTES + PADDING_ROOM_BYTES)
        self._view = memoryview(self._buffer)
        self._servers: list[asyncio.Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.loop: asyncio.AbstractEventLoop

    async def start(self) -> None:
        """Bind the listeners (UDP and TCP share the port; port 0 picks a free one)."""
        self.loop = asyncio.get_running_loop()
        host, port = self.config.listen
        # Workers share the port; the kernel keeps each client with one of them.
        reuse_port = self.share is not None
        for _ in range(20):
            udp = _make_udp_socket(host, port, LISTENER_SOCKET_BUFFER_BYTES, reuse_port)
            bound_port = udp.getsockname()[1]
            try:
                server = await self.loop.create_server(
                    lambda: TcpConnection(self), host, bound_port, reuse_address=True,
                    reuse_port=reuse_port,
                )
            except OSError:
                udp.close()
                if port:
                    raise
                continue
            break
        else:
            raise OSError("no free port for UDP and TCP together")
        self._udp_sock = udp
        self._servers.append(server)
        self.udp_address = self.tcp_address = (host, bound_port)
        self.loop.add_reader(udp.fileno(), self._on_udp_readable)
        self.poller.start(self.loop)
        if self.config.tls_listen and self.config.tls_cert and self.config.tls_key:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
            tls_host, tls_port = self.config.tls_listen
            tls = await self.loop.create_server(
                lambda: TcpConnection(self), tls_host, tls_port, ssl=context, reuse_address=True,
                reuse_port=reuse_port, ssl_handshake_timeout=self.config.tcp_idle_seconds,
            )
            self._servers.append(tls)
            self.tls_address = (tls_host, tls.sockets[0].getsockname()[1])
        self._tasks.append(asyncio.create_task(self._sweep_forever()))
        self.listening = True
        logger.info("TURN listening on port %d (udp, tcp)%s%s", bound_port,
                    " and tls" if self.tls_address else "",
                    f", worker {self.share.index + 1} of {self.share.count}" if self.share else "")

    async def close(self) -> None:
        """Stop listening, close every relay and connection."""
        self.listening = False
        for task in self._tasks:
            task.cancel()
        for allocation in list(self.table.allocations.values()):
            self.table.remove(allocation)
            allocation.relay.close()
        for relay in self.table.expired_reservations(math.inf):
            relay.close()
        if self._udp_sock is not None:
            self.loop.remove_reader(self._udp_sock.fileno())
            self._udp_sock.close()
            self._udp_sock = None
        for connection in list(self.connections):
            connection.abort()
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self._servers.clear()
        self.poller.close()

    def admit(self, connection: TcpConnection) -> bool:
        """Count a new TCP/TLS connection, or refuse it: too many in total or from its source."""
        source = source_key(connection.peer[0])
        count = self._connections_per_source.get(source, 0)
        if (
            len(self.connections) >= self.config.max_connections
            or count >= self.config.address_connections
        ):
            self.stats["connection_refused"] += 1
            return False
        connection.source = source
        add_count(self._connections_per_source, source, 1)
        self.connections.add(connection)
        return True

    def forget(self, connection: TcpConnection) -> None:
        """Uncount a connection that closed (once; refused ones were never counted)."""
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        add_count(self._connections_per_source, connection.source, -1)

    def release(self, client: object) -> None:
        """Free the allocation of a client that went away."""
        allocation = self.table.get(client)
        if allocation is not None:
            self.table.remove(allocation)
            allocation.relay.close()

    def _open_relay(self, even: bool, pair: bool) -> list[UdpRelay]:
        """Bind a relay socket on a random port of the range (EVEN-PORT: even, or a pair)."""
        low, high = self.config.relay_ports
        for _ in range(RELAY_BIND_ATTEMPTS):
            port = random.randint(low, high - 1 if pair else high)
            if even or pair:
                port -= port % 2
                if port < low:
                    continue
            sockets: list[socket.socket] = []
            try:
                for offset in (0, 1) if pair else (0,):
                    sockets.append(_make_udp_socket(
                        self.config.relay_bind_ip, port + offset, RELAY_SOCKET_BUFFER_BYTES
                    ))
            except OSError:
                for sock in sockets:
                    sock.close()
                continue
            return [UdpRelay(self, sock) for sock in sockets]
        raise OSError("no free relay port")

    def handle_stun(
        self, data: codec.Buffer, client: object, client_address: Address,
        send: Callable[[bytes, object], None], datagram: bool = True,
    ) -> bool:
        """Handle one non-ChannelData message; False when it was malformed.

        ``data`` may be a view of the receive buffer: only a Send indication's payload is
        read from it in place; a request is copied before parsing.
        """
        try:
            if data[0:2] == codec.SEND_INDICATION_BYTES:
                # RFC 8656 §11.2: without a permission the indication is silently discarded.
                peer, payload = codec.parse_send_indication(data)
                allocation = self.table.allocations.get(client)
                if (
                    allocation is not None
                    and peer[0] in allocation.permissions
                    and self.policy.is_allowed(peer)
                ):
                    allocation.relay.sendto(payload, peer)
                    self.packets_to_peer += 1
                    self.bytes_to_peer += len(payload)
                return True
            response = self.handler.handle(
                bytes(data), client, client_address, time.monotonic(), time.time(), datagram
            )
        except ValueError:
            self.stats["malformed"] += 1
            return False
        except OSError:
            return True  # the relay's send buffer is full: drop, as UDP would
        except Exception as exc:  # one bad request must never stop the server
            logger.warning("request failed: %s", type(exc).__name__)
            return False
        if response is not None:
            send(response, client)
        return True

    def _on_udp_readable(self) -> None:
        sock = self._udp_sock
        if sock is None:
            return
        recvfrom_into = sock.recvfrom_into
        buffer, view = self._buffer, self._view
        routes = self.table.routes
        packets = relayed_bytes = 0
        for _ in range(DRAIN_LIMIT_PACKETS):
            try:
                received, address = recvfrom_into(buffer)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # ICMP errors surface here; they concern one client only
            first = buffer[0]
            if 0x40 <= first < 0x80 and received >= 4:
                # ChannelData, before any STUN parsing: one lookup, the payload sent from
                # the receive buffer (codec.is_channel_data and relay_channel_data inlined).
                route = routes.get((address, (first << 8) | buffer[1]))
                size = (buffer[2] << 8) | buffer[3]
                if route is not None and size + 4 <= received:
                    try:
                        route[0].relay.sendto(view[4 : 4 + size], route[1])
                        packets += 1
                        relayed_bytes += size
                    except OSError:
                        pass  # the relay's send buffer is full: drop, as UDP would
                continue
            if received:
                self.handle_stun(view[:received], address, address[:2], self._udp_send)
        self.packets_to_peer += packets
        self.bytes_to_peer += relayed_bytes

    def relay_channel_data(self, frame: codec.Buffer, client: object) -> None:
        """Forward one ChannelData frame from a stream client to its peer; drop what fails."""
        route = self.table.routes.get((client, (frame[0] << 8) | frame[1]))
        if route is not None:
            size = (frame[2] << 8) | frame[3]
            try:
                route[0].relay.sendto(frame[4 : 4 + size], route[1])
            except OSError:
                return
            self.packets_to_peer += 1
            self.bytes_to_peer += size

    def _udp_send(self, data: bytes, address: Any) -> None:
        if self._udp_sock is not None:
            try:
                self._udp_sock.sendto(data, address)
            except OSError:
                pass  # the client's buffer is full or it is gone: as for any datagram

    def relay_reader(self, relay: UdpRelay, allocation: Allocation) -> Callable[[int], None]:
        """Return the read callback of a relay socket: up to ``limit`` peer datagrams to the
        client.

        The datagram lands at ``HEADROOM_BYTES`` in the shared buffer; its ChannelData or Data
        indication header is written in front of it and the whole goes out from there.
        """
        recvfrom_into = relay.sock.recvfrom_into
        buffer, view = self._buffer, self._view
        payload_view = view[HEADROOM_BYTES:-PADDING_ROOM_BYTES]
        channel_data_start = HEADROOM_BYTES - 4
        write_header = codec.write_channel_data_header
        write_data_indication = codec.write_data_indication
        peer_channels = allocation.peer_channels
        permissions = allocation.permissions
        client = allocation.client
        if isinstance(client, TcpConnection):
            write = client.write
            pad = codec.write_padding

            def send(data: memoryview) -> None:
                write(bytes(data))

            stream = True
        else:
            assert self._udp_sock is not None
            udp_sendto = self._udp_sock.sendto
            address = cast(Address, client)

            def send(data: memoryview) -> None:
                udp_sendto(data, address)

            stream = False

        def on_readable(limit: int) -> None:
            packets = relayed_bytes = 0
            for _ in range(limit):
                try:
                    size, peer = recvfrom_into(payload_view)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue  # an ICMP error about one peer
                try:
                    channel = peer_channels.get(peer)
                    if channel is not None:
                        write_header(buffer, channel_data_start, channel, size)
                        end = HEADROOM_BYTES + size
                        if stream:  # ChannelData over TCP is padded to 4 bytes
                            end = pad(buffer, end)
                        send(view[channel_data_start:end])
                    elif peer[0] in permissions:
                        send(view[: write_data_indication(buffer, peer, size)])
                    else:
                        continue
                except OSError:
                    continue  # the client's socket buffer is full: drop, as UDP would
                packets += 1
                relayed_bytes += size
            self.packets_to_client += packets
            self.bytes_to_client += relayed_bytes

        return on_readable

    async def _sweep_forever(self) -> None:
        last_report = time.monotonic()
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
            now = time.monotonic()
            for allocation in self.table.sweep(now, self.policy.is_allowed):
                allocation.relay.close()
                self.handler.stats["expired"] += 1
            for relay in self.table.expired_reservations(now):
                relay.close()
            for connection in list(self.connections):
                idle = now - connection.opened_at > self.config.tcp_idle_seconds
                if idle and self.table.get(connection) is None:
                    connection.abort()
            if now - last_report >= STATS_INTERVAL_SECONDS:
                last_report = now
                self._report()

    def _report(self) -> None:
        counts = dict(sorted(self.handler.stats.items()))
        logger.info("TURN allocations=%d connections=%d %s", len(self.table),
                    len(self.connections), counts)


def own_addresses(config: TurnConfig) -> list[str]:
    """Return the addresses a peer could use to reach this host's own services."""
    own = {config.relay_ip, config.relay_bind_ip, config.listen[0]}
    if any(ipaddress.ip_address(a).is_unspecified for a in own):
        own.update(get_host_addresses(use_ipv4=True, use_ipv6=True))
    return sorted(a for a in own if not ipaddress.ip_address(a).is_unspecified)
