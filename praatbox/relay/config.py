"""Relay settings from PRAATBOX_* environment variables."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCBundlePolicy

from praatbox.metrics_server import Address, parse_listen
from praatbox.turn.peers import PeerPolicy

from .layers import LayerSettings

logger = logging.getLogger(__name__)

DEFAULT_WEB_URL = "http://127.0.0.1:8000"
DEFAULT_CAPACITY_ROOMS = 20
RELAY_PATH = "/ws-relay"
# Prometheus /metrics and /healthz, on loopback unless set otherwise ("none": off).
DEFAULT_METRICS_LISTEN = "127.0.0.1:9642"
# A browser that lost its path gets a new connection at most this often: each one costs an ICE
# and a DTLS handshake, so a browser asking in a loop must not keep the relay rebuilding.
DEFAULT_RESTART_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class RelayConfig:
    """Everything `python -m praatbox.relay` needs to know."""

    web_url: str = DEFAULT_WEB_URL
    secret_key: str = ""
    capacity: int = DEFAULT_CAPACITY_ROOMS
    host_ips: tuple[str, ...] = ()
    ice_servers: tuple[RTCIceServer, ...] = field(default_factory=tuple)
    allowed_peers: tuple[str, ...] = ()
    denied_peers: tuple[str, ...] = ()
    metrics_listen: Address | None = None
    restart_interval_seconds: float = DEFAULT_RESTART_INTERVAL_SECONDS
    # How video adapts to each subscriber's link (None: every layer to everyone, as it comes).
    layer_settings: LayerSettings | None = field(default_factory=LayerSettings)
    # Test-only (`decode_probe`): try to decode every forwarded video frame, log the counts.
    decode_probe: bool = False

    @property
    def signaling_url(self) -> str:
        """The `/ws-relay` WebSocket address on the web process."""
        return signaling_url(self.web_url)

    def rtc_configuration(self) -> RTCConfiguration:
        """Build a configuration that never falls back to aiortc's public STUN default."""
        return rtc_configuration(list(self.ice_servers))

    def peer_policy(self) -> PeerPolicy:
        """The TURN server's policy for which remote addresses the relay may send checks to."""
        return PeerPolicy(list(self.allowed_peers), list(self.denied_peers))


def rtc_configuration(ice_servers: list[RTCIceServer]) -> RTCConfiguration:
    """Bundle everything on one transport, and use only the ICE servers given (maybe none)."""
    return RTCConfiguration(iceServers=ice_servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def signaling_url(web_url: str) -> str:
    """Turn the web's base URL (http/https) into its `/ws-relay` URL (ws/wss)."""
    parts = urlsplit(web_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError("PRAATBOX_RELAY_URL must be an http(s) URL")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + RELAY_PATH, "", ""))


def parse_ice_servers(text: str) -> tuple[RTCIceServer, ...]:
    """Parse `[{"urls": ..., "username": ..., "credential": ...}, ...]`."""
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError("PRAATBOX_RELAY_ICE_SERVERS must be a JSON list")
    servers = []
    for entry in entries:
        if not isinstance(entry, dict) or "urls" not in entry:
            raise ValueError("every ICE server needs `urls`")
        servers.append(
            RTCIceServer(
                urls=entry["urls"],
                username=entry.get("username"),
                credential=entry.get("credential"),
            )
        )
    return tuple(servers)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


def _networks(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Read a CIDR list, failing at start rather than on a browser's candidate."""
    networks = _split(environ.get(name))
    for cidr in networks:
        ipaddress.ip_network(cidr, strict=False)
    return networks


def _layer_settings(environ: Mapping[str, str]) -> LayerSettings | None:
    """PRAATBOX_RELAY_ADAPT_VIDEO=0 turns adaptation off; the rates are in kbit/s."""
    if environ.get("PRAATBOX_RELAY_ADAPT_VIDEO", "1") == "0":
        return None
    defaults = LayerSettings()

    def kbit_per_second(name: str, default_bps: int) -> int:
        value = int(environ.get(name) or default_bps // 1000)
        if value < 0:
            raise ValueError(f"{name} must be 0 kbit/s or more")
        return value * 1000

    return LayerSettings(
        video_floor_bps=kbit_per_second("PRAATBOX_RELAY_VIDEO_FLOOR_KBPS",
                                        defaults.video_floor_bps),
        publish_floor_bps=kbit_per_second("PRAATBOX_RELAY_PUBLISH_FLOOR_KBPS",
                                          defaults.publish_floor_bps),
        retransmit_max_bps=kbit_per_second("PRAATBOX_RELAY_RETRANSMIT_MAX_KBPS",
                                           defaults.retransmit_max_bps))


def load_config(environ: Mapping[str, str]) -> RelayConfig:
    """Read the relay's settings; raise ValueError on a setting that cannot work."""
    capacity = int(environ.get("PRAATBOX_RELAY_CAPACITY") or DEFAULT_CAPACITY_ROOMS)
    if capacity < 1:
        raise ValueError("PRAATBOX_RELAY_CAPACITY must be at least 1")
    ice_text = environ.get("PRAATBOX_RELAY_ICE_SERVERS", "").strip()
    restart_interval = float(environ.get("PRAATBOX_RELAY_RESTART_INTERVAL_SECONDS")
                             or DEFAULT_RESTART_INTERVAL_SECONDS)
    if not restart_interval >= 0:
        raise ValueError("PRAATBOX_RELAY_RESTART_INTERVAL_SECONDS must be 0 or more")
    config = RelayConfig(
        layer_settings=_layer_settings(environ),
        web_url=environ.get("PRAATBOX_RELAY_URL") or DEFAULT_WEB_URL,
        secret_key=environ.get("PRAATBOX_SECRET_KEY", ""),
        capacity=capacity,
        host_ips=_split(environ.get("PRAATBOX_RELAY_HOST_IPS")),
        ice_servers=parse_ice_servers(ice_text) if ice_text else (),
        allowed_peers=_networks(environ, "PRAATBOX_TURN_ALLOWED_PEERS"),
        denied_peers=_networks(environ, "PRAATBOX_TURN_DENIED_PEERS"),
        metrics_listen=parse_listen(environ.get("PRAATBOX_RELAY_METRICS_LISTEN"),
                                    DEFAULT_METRICS_LISTEN),
        decode_probe=environ.get("PRAATBOX_RELAY_DECODE_PROBE") == "1",
        restart_interval_seconds=restart_interval,
    )
    signaling_url(config.web_url)
    return config

