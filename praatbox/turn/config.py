"""Settings of the TURN server, read from ``PRAATBOX_TURN_*`` environment variables."""

import ipaddress
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from praatbox.credentials import split_secrets
from praatbox.keys import TURN_REST, derive_key
from praatbox.metrics_server import parse_listen

logger = logging.getLogger(__name__)

DEFAULT_LISTEN = "0.0.0.0:3478"
DEFAULT_TLS_LISTEN = "0.0.0.0:5349"
DEFAULT_RELAY_PORTS = (49152, 65535)
DEFAULT_REALM = "praatbox"
# Lifetimes as coturn (RFC 8656 defaults).
DEFAULT_ALLOCATION_LIFETIME_SECONDS = 600
MAX_ALLOCATION_LIFETIME_SECONDS = 3600
PERMISSION_LIFETIME_SECONDS = 300
CHANNEL_LIFETIME_SECONDS = 600
NONCE_LIFETIME_SECONDS = 600
# A visitor keeps one TURN user for hours (the web caches it in the session): room page and
# self-test, a 6-person mesh (5 connections x UDP and TCP) and a reload or two before the old
# allocations expire.
DEFAULT_USER_QUOTA = 30
DEFAULT_TOTAL_QUOTA = 1000
# One source address (IPv4, or IPv6 /64) holds at most a tenth of the server: several browsers
# behind one NAT still fit, one attacker with many credentials does not fill it.
DEFAULT_ADDRESS_QUOTA = 100
DEFAULT_MAX_CONNECTIONS = 4096
DEFAULT_ADDRESS_CONNECTIONS = 100
# A TCP/TLS client allocates within a second or two of connecting; a connection (or a TLS
# handshake) that has no allocation after this long is closed.
DEFAULT_TCP_IDLE_SECONDS = 10.0
# Processes sharing the listening port (SO_REUSEPORT); one is enough below one core's load.
DEFAULT_WORKERS = 1
MAX_WORKERS = 64
# Prometheus /metrics and /healthz, on loopback unless set otherwise ("none": off).
DEFAULT_METRICS_LISTEN = "127.0.0.1:9641"

Address = tuple[str, int]


@dataclass
class TurnConfig:
    """Everything the server needs; tests build one directly."""

    secrets: list[str]
    listen: Address = ("0.0.0.0", 3478)
    relay_ip: str = "127.0.0.1"
    relay_bind_ip: str = "0.0.0.0"
    relay_ports: tuple[int, int] = DEFAULT_RELAY_PORTS
    realm: str = DEFAULT_REALM
    static_users: dict[str, str] = field(default_factory=dict)
    allowed_peers: list[str] = field(default_factory=list)
    denied_peers: list[str] = field(default_factory=list)
    tls_listen: Address | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    user_quota: int = DEFAULT_USER_QUOTA
    total_quota: int = DEFAULT_TOTAL_QUOTA
    address_quota: int = DEFAULT_ADDRESS_QUOTA
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    address_connections: int = DEFAULT_ADDRESS_CONNECTIONS
    tcp_idle_seconds: float = DEFAULT_TCP_IDLE_SECONDS
    default_lifetime_seconds: int = DEFAULT_ALLOCATION_LIFETIME_SECONDS
    max_lifetime_seconds: int = MAX_ALLOCATION_LIFETIME_SECONDS
    permission_lifetime_seconds: int = PERMISSION_LIFETIME_SECONDS
    channel_lifetime_seconds: int = CHANNEL_LIFETIME_SECONDS
    nonce_lifetime_seconds: int = NONCE_LIFETIME_SECONDS
    metrics_listen: Address | None = None
    workers: int = DEFAULT_WORKERS


def parse_address(text: str, default_port: int) -> Address:
    """Parse ``host:port``, ``[v6]:port`` or a bare host."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or str(default_port)
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif text.count(":") > 1:
        host, port = text, str(default_port)
    else:
        host, port = text, str(default_port)
    ipaddress.ip_address(host)  # ValueError on a name: we bind to addresses only
    return host, int(port)


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _guess_public_ip() -> str:
    """Return the address of the interface that routes outwards, without sending anything."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _secrets(env: Mapping[str, str]) -> list[str]:
    # Same fallback as the web app (praatbox/config.py): the TURN key derived from the master
    # secret, so `make run` needs one secret only and the TURN key reveals nothing else.
    found = split_secrets(env.get("PRAATBOX_TURN_SECRET"))
    if found:
        return found
    if env.get("PRAATBOX_SECRET_KEY"):
        return [derive_key(env["PRAATBOX_SECRET_KEY"], TURN_REST)]
    logger.warning(
        "neither PRAATBOX_TURN_SECRET nor PRAATBOX_SECRET_KEY is set: using a random secret, "
        "so credentials issued by the web app will be refused"
    )
    return [secrets.token_urlsafe(32)]


def _port_range(text: str | None) -> tuple[int, int]:
    if not text:
        return DEFAULT_RELAY_PORTS
    low, _, high = text.partition("-")
    first, last = int(low), int(high or low)
    if not 1 <= first <= last <= 65535:
        raise ValueError(f"bad relay port range {text!r}")
    return first, last


def _static_users(text: str | None) -> dict[str, str]:
    users = {}
    for item in _split(text):
        name, sep, password = item.partition(":")
        if not sep:
            raise ValueError("PRAATBOX_TURN_USERS entries are user:password")
        users[name] = password
    return users


def load_config(env: Mapping[str, str] | None = None) -> TurnConfig:
    """Build the configuration from the environment (``os.environ`` by default)."""
    env = os.environ if env is None else env
    listen = parse_address(env.get("PRAATBOX_TURN_LISTEN") or DEFAULT_LISTEN, 3478)
    wildcard = ipaddress.ip_address(listen[0]).is_unspecified
    relay_ip = env.get("PRAATBOX_TURN_RELAY_IP") or (_guess_public_ip() if wildcard else listen[0])
    cert, key = env.get("PRAATBOX_TURN_TLS_CERT"), env.get("PRAATBOX_TURN_TLS_KEY")
    tls_listen = None
    if cert and key:
        tls_listen = parse_address(env.get("PRAATBOX_TURN_TLS_LISTEN") or DEFAULT_TLS_LISTEN, 5349)
    for name in ("PRAATBOX_TURN_ALLOWED_PEERS", "PRAATBOX_TURN_DENIED_PEERS"):
        for cidr in _split(env.get(name)):
            ipaddress.ip_network(cidr, strict=False)  # fail at start, not per packet
    workers = int(env.get("PRAATBOX_TURN_WORKERS") or DEFAULT_WORKERS)
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"PRAATBOX_TURN_WORKERS must be 1 to {MAX_WORKERS}")
    if workers > 1 and listen[1] == 0:
        raise ValueError("PRAATBOX_TURN_WORKERS > 1 needs a fixed port in PRAATBOX_TURN_LISTEN")
    return TurnConfig(
        secrets=_secrets(env),
        listen=listen,
        relay_ip=relay_ip,
        # Behind 1:1 NAT the advertised address is not local: bind where we listen.
        # Relays are IPv4 only (see docs/turn.md).
        relay_bind_ip=listen[0] if ":" not in listen[0] else "0.0.0.0",
        relay_ports=_port_range(env.get("PRAATBOX_TURN_RELAY_PORTS")),
        realm=env.get("PRAATBOX_TURN_REALM") or DEFAULT_REALM,
        static_users=_static_users(env.get("PRAATBOX_TURN_USERS")),
        allowed_peers=_split(env.get("PRAATBOX_TURN_ALLOWED_PEERS")),
        denied_peers=_split(env.get("PRAATBOX_TURN_DENIED_PEERS")),
        tls_listen=tls_listen,
        tls_cert=cert,
        tls_key=key,
        user_quota=int(env.get("PRAATBOX_TURN_USER_QUOTA") or DEFAULT_USER_QUOTA),
        total_quota=int(env.get("PRAATBOX_TURN_TOTAL_QUOTA") or DEFAULT_TOTAL_QUOTA),
        address_quota=int(env.get("PRAATBOX_TURN_ADDRESS_QUOTA") or DEFAULT_ADDRESS_QUOTA),
        max_connections=int(env.get("PRAATBOX_TURN_MAX_CONNECTIONS") or DEFAULT_MAX_CONNECTIONS),
        address_connections=int(
            env.get("PRAATBOX_TURN_ADDRESS_CONNECTIONS") or DEFAULT_ADDRESS_CONNECTIONS),
        tcp_idle_seconds=float(
            env.get("PRAATBOX_TURN_TCP_IDLE_SECONDS") or DEFAULT_TCP_IDLE_SECONDS),
        metrics_listen=parse_listen(env.get("PRAATBOX_TURN_METRICS_LISTEN"),
                                    DEFAULT_METRICS_LISTEN),
        workers=workers,
    )
