"""Which peer addresses a client may relay to: the guard against using TURN as a proxy.

An open relay lets anyone on the internet reach the server's loopback services, the cloud
metadata endpoint (169.254.169.254) and the private network behind it. So every range that is
not the public internet is refused unless the operator allows it explicitly.
"""

import ipaddress
from collections.abc import Container

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = tuple[str, int]

MAX_CACHED_VERDICTS = 10000

DENIED_BY_DEFAULT: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network", includes unspecified
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",  # unspecified
        "::1/128",  # loopback
        "fc00::/7",  # ULA
        "fe80::/10",  # link-local
        "ff00::/8",  # multicast
    )
)

SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# Verdicts, cached per peer IP.
ALLOW = 1
DENY = 0
LIVE_RELAY_PORTS_ONLY = 2  # the server's own address: only live allocations' relay ports


def canonical_address(address: IPAddress) -> IPAddress:
    """Return the IPv4 address an IPv6 form really reaches (mapped, 6to4, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    if any(address in prefix for prefix in NAT64_PREFIXES) or (
        address in IPV4_COMPATIBLE and int(address) > 1
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


class PeerPolicy:
    """Decide whether a peer address may be relayed to.

    The most specific matching network among the operator's allowed and denied lists wins
    (a tie denies). With no match, the server's own addresses are reachable only on the relay
    ports of live allocations (two relayed browsers talk relay to relay; any other service
    bound on the host stays out of reach, even inside the relay port range), and the built-in
    ranges are denied.
    """

    def __init__(
        self,
        allowed: list[str] | None = None,
        denied: list[str] | None = None,
        own_addresses: list[str] | None = None,
        live_ports: Container[int] = frozenset(),
    ) -> None:
        rules = [(ipaddress.ip_network(c, strict=False), True) for c in allowed or []]
        rules += [(ipaddress.ip_network(c, strict=False), False) for c in denied or []]
        # Longest prefix first; at equal length, denials first.
        self._rules = sorted(rules, key=lambda rule: (-rule[0].prefixlen, rule[1]))
        self._own = {canonical_address(ipaddress.ip_address(a)) for a in own_addresses or []}
        self._live_ports = live_ports
        self._cache: dict[str, int] = {}

    def is_allowed(self, peer: Address) -> bool:
        """Return True when relaying to ``peer`` (IP, port) is permitted; cheap when cached."""
        verdict = self._cache.get(peer[0])
        if verdict is None:
            verdict = self._decide(peer[0])
            if len(self._cache) >= MAX_CACHED_VERDICTS:
                self._cache.clear()
            self._cache[peer[0]] = verdict
        if verdict == LIVE_RELAY_PORTS_ONLY:
            return peer[1] in self._live_ports
        return verdict == ALLOW

    def _decide(self, ip: str) -> int:
        try:
            address = canonical_address(ipaddress.ip_address(ip))
        except ValueError:
            return DENY
        for network, allowed in self._rules:
            if address.version == network.version and address in network:
                return ALLOW if allowed else DENY
        if address in self._own:
            return LIVE_RELAY_PORTS_ONLY
        if any(
            address.version == network.version and address in network
            for network in DENIED_BY_DEFAULT
        ):
            return DENY
        return ALLOW

