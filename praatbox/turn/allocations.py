"""Allocation state: allocations, permissions, channels, quotas and expiry.

No sockets and no clock: callers pass ``now`` (monotonic seconds) and an opaque relay handle,
and close the relays of the allocations this table hands back as removed. The dictionaries
read by the per-packet path (``routes``, ``Allocation.permissions``, ``Allocation.peer_channels``)
only ever hold live entries; ``sweep`` removes what expired.
"""

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from praatbox.turn.budget import source_key

MAX_PERMISSIONS_PER_ALLOCATION = 128
MAX_CHANNELS_PER_ALLOCATION = 128

Address = tuple[str, int]
ClientKey = Hashable  # the client's address (UDP) or its connection object (TCP, TLS)


@dataclass(eq=False)
class Channel:
    number: int
    peer: Address
    expires_at: float


@dataclass(eq=False)
class Allocation:
    """One client's relay: its 5-tuple, credentials, permissions and channels."""

    client: ClientKey
    client_address: Address
    username: str
    user: str
    key: bytes
    relay: Any
    relay_address: Address
    expires_at: float
    allocate_transaction_id: bytes = b""
    allocate_response: bytes = b""
    # peer IP -> expiry; read per Data/Send packet
    permissions: dict[str, float] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    # peer address -> ChannelData header prefix (channel number); read per relayed packet
    peer_channels: dict[Address, int] = field(default_factory=dict)


class PortSet(Protocol):
    """Where live relay ports are kept: a set, or one shared by the workers."""

    def __contains__(self, port: object) -> bool: ...

    def add(self, port: int) -> None: ...

    def discard(self, port: int) -> None: ...


class CapacityError(Exception):
    """Raised when an allocation would exceed its bounded permission or channel count."""


class ChannelConflict(Exception):
    """Raised when a channel or a peer is already bound to something else (RFC 8656 §12.2)."""


class AllocationTable:
    """All allocations of one server, keyed by client (the 5-tuple up to the listener)."""

    def __init__(
        self, user_quota: int, total_quota: int, address_quota: int | None = None,
        relay_ports: PortSet | None = None,
    ) -> None:
        self.user_quota = user_quota
        self.total_quota = total_quota
        self.address_quota = total_quota if address_quota is None else address_quota
        self.allocations: dict[ClientKey, Allocation] = {}
        # Refused allocations by quota ("user", "address", "total"), for the metrics.
        self.refusals: Counter[str] = Counter()
        # (client, channel number) -> (allocation, peer): the ChannelData fast path
        self.routes: dict[tuple[ClientKey, int], tuple[Allocation, Address]] = {}
        # Ports of live allocations' relays: on the server's own address, peers may reach these
        # and nothing else (the peer policy reads this set; workers share one).
        self.relay_ports: PortSet = set() if relay_ports is None else relay_ports
        self._per_user: dict[str, int] = {}
        self._per_address: dict[str, int] = {}
        # RESERVATION-TOKEN -> (relay kept for a later Allocate, expiry)
        self._reservations: dict[bytes, tuple[Any, float]] = {}

    def __len__(self) -> int:
        return len(self.allocations)

    def get(self, client: ClientKey) -> Allocation | None:
        """Return the allocation of this client (5-tuple or connection), if any."""
        return self.allocations.get(client)

    def quota_error(self, user: str, client_ip: str) -> int | None:
        """Return 486 (user or address quota) or 508 (total cap) for a refused allocation.

        The address quota keeps one source (an IPv4 address, an IPv6 /64) from taking the
        whole server with credentials of many users. Each refusal is counted in ``refusals``.
        """
        if self._per_user.get(user, 0) >= self.user_quota:
            self.refusals["user"] += 1
            return 486
        if len(self.allocations) >= self.total_quota:
            self.refusals["total"] += 1
            return 508
        if self._per_address.get(source_key(client_ip), 0) >= self.address_quota:
            self.refusals["address"] += 1
            return 486
        return None

    def add(self, allocation: Allocation) -> None:
        """Register a new allocation (the caller checked ``quota_error`` first)."""
        self.allocations[allocation.client] = allocation
        add_count(self._per_user, allocation.user, 1)
        add_count(self._per_address, source_key(allocation.client_address[0]), 1)
        self.relay_ports.add(allocation.relay_address[1])

    def remove(self, allocation: Allocation) -> None:
        """Forget an allocation and its routes; the caller closes its relay."""
        if self.allocations.get(allocation.client) is not allocation:
            return
        del self.allocations[allocation.client]
        for number in allocation.channels:
            self.routes.pop((allocation.client, number), None)
        add_count(self._per_user, allocation.user, -1)
        add_count(self._per_address, source_key(allocation.client_address[0]), -1)
        self.relay_ports.discard(allocation.relay_address[1])

    def refresh(self, allocation: Allocation, lifetime_seconds: float, now: float) -> None:
        """Let the allocation live ``lifetime_seconds`` from now."""
        allocation.expires_at = now + lifetime_seconds

    def permit(
        self, allocation: Allocation, peer_ips: list[str], lifetime_seconds: float, now: float
    ) -> None:
        """Install or refresh permissions for all ``peer_ips``, or none (RFC 8656 §10.2)."""
        new = {ip for ip in peer_ips if ip not in allocation.permissions}
        if len(allocation.permissions) + len(new) > MAX_PERMISSIONS_PER_ALLOCATION:
            raise CapacityError("too many permissions")
        for ip in peer_ips:
            allocation.permissions[ip] = max(
                allocation.permissions.get(ip, 0.0), now + lifetime_seconds
            )

    def bind_channel(
        self, allocation: Allocation, number: int, peer: Address, lifetime_seconds: float,
        now: float,
    ) -> None:
        """Bind or refresh a channel; its permission lasts as long as the channel (as coturn)."""
        channel = allocation.channels.get(number)
        if channel is not None and channel.peer != peer:
            raise ChannelConflict("channel bound to another peer")
        bound = allocation.peer_channels.get(peer)
        if bound is not None and bound != number:
            raise ChannelConflict("peer bound to another channel")
        if channel is None:
            if len(allocation.channels) >= MAX_CHANNELS_PER_ALLOCATION:
                raise CapacityError("too many channels")
            self.permit(allocation, [peer[0]], lifetime_seconds, now)
            channel = Channel(number, peer, now + lifetime_seconds)
            allocation.channels[number] = channel
            allocation.peer_channels[peer] = number
            self.routes[(allocation.client, number)] = (allocation, peer)
        else:
            self.permit(allocation, [peer[0]], lifetime_seconds, now)
            channel.expires_at = now + lifetime_seconds

    def can_reserve(self) -> bool:
        """Whether another relay port may be held back (bounded like allocations: fds)."""
        return len(self._reservations) < self.total_quota

    def reserve(self, token: bytes, relay: Any, expires_at: float) -> None:
        """Keep a relay (the odd port of an EVEN-PORT pair) for the holder of ``token``."""
        self._reservations[token] = (relay, expires_at)

    def take_reservation(self, token: bytes) -> Any:
        """Return and forget the relay reserved under ``token``, or None."""
        reserved = self._reservations.pop(token, None)
        return None if reserved is None else reserved[0]

    def expired_reservations(self, now: float) -> list[Any]:
        """Forget and return the reserved relays nobody claimed in time."""
        expired = [token for token, (_, at) in self._reservations.items() if at <= now]
        return [self._reservations.pop(token)[0] for token in expired]

    def sweep(
        self, now: float, peer_allowed: Callable[[Address], bool] = lambda peer: True
    ) -> list[Allocation]:
        """Drop expired channels and permissions; remove and return expired allocations.

        Channels to peers no longer ``peer_allowed`` go too: a channel to another allocation's
        relay port must not outlive that allocation, since anything may bind the port next.
        """
        expired = [a for a in self.allocations.values() if a.expires_at <= now]
        for allocation in expired:
            self.remove(allocation)
        for allocation in self.allocations.values():
            for number, channel in list(allocation.channels.items()):
                if channel.expires_at <= now or not peer_allowed(channel.peer):
                    del allocation.channels[number]
                    allocation.peer_channels.pop(channel.peer, None)
                    self.routes.pop((allocation.client, number), None)
            for ip, expires_at in list(allocation.permissions.items()):
                if expires_at <= now:
                    del allocation.permissions[ip]
        return expired


def add_count(counts: dict[str, int], key: str, change: int) -> None:
    """Add ``change`` to ``counts[key]``, forgetting keys that fall to zero."""
    count = counts.get(key, 0) + change
    if count > 0:
        counts[key] = count
    else:
        counts.pop(key, None)
