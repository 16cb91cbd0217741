"""Serve ``/metrics`` (Prometheus text) and ``/healthz`` on a local port, off the event loop.

The TURN server and the relay run one asyncio loop each; a scrape must not wait for it, so a
small threaded HTTP server answers from a daemon thread and reads counters at scrape time.
"""

import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

logger = logging.getLogger(__name__)

DISABLED = "none"
HEALTH_OK_BYTES = json.dumps({"status": "ok"}).encode()
HEALTH_WAITING_BYTES = json.dumps({"status": "starting"}).encode()

Address = tuple[str, int]


def parse_listen(text: str | None, default: str) -> Address | None:
    """Parse a ``host:port`` (or ``[v6]:port``) setting; ``none`` switches the endpoint off."""
    text = (text or default).strip()
    if text.lower() == DISABLED:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"metrics address {text!r} is not host:port (or none)")
    host = host.strip("[]")
    ipaddress.ip_address(host)  # an address, never a name: bind only where the setting says
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"metrics port {port} out of range")
    return host, int(port)


class _Handler(BaseHTTPRequestHandler):
    """Answer GET /metrics and GET /healthz; everything else is 404."""

    registry: CollectorRegistry
    ready: Callable[[], bool]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._answer(200, CONTENT_TYPE_LATEST, generate_latest(self.registry))
        elif path == "/healthz":
            ready = type(self).ready()
            self._answer(200 if ready else 503, "application/json",
                         HEALTH_OK_BYTES if ready else HEALTH_WAITING_BYTES)
        else:
            self._answer(404, "text/plain; charset=utf-8", b"not found\n")

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: scrapes every few seconds would drown the process's own log."""


class _Ipv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def start_metrics_server(
    address: Address | None, registry: CollectorRegistry, ready: Callable[[], bool],
) -> ThreadingHTTPServer | None:
    """Serve in a daemon thread; on a taken port log one warning and run without metrics."""
    if address is None:
        return None
    handler = type("MetricsHandler", (_Handler,), {
        "registry": registry, "ready": staticmethod(ready),
    })
    server_class = _Ipv6Server if ":" in address[0] else ThreadingHTTPServer
    try:
        server = server_class(address, handler)
    except OSError as exc:
        logger.warning("metrics endpoint not started (%s): running without metrics", exc.strerror)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("metrics on port %d (/metrics, /healthz)", server.server_address[1])
    return server
