"""Fixtures: our TURN server on 127.0.0.1 port 0 in a thread, coturn's tools as subprocesses."""

import asyncio
import contextlib
import datetime
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from praatbox.credentials import issue_turn_credentials
from praatbox.turn.config import TurnConfig
from praatbox.turn.server import TurnServer
from tests.turn import turn_clients
from tests.turn.turn_clients import REALM, RawClient, echo_peer

SECRET = "test-secret"


def make_config(**overrides: object) -> TurnConfig:
    """A server on a free loopback port that may relay to loopback peers."""
    config = TurnConfig(
        secrets=[SECRET],
        listen=("127.0.0.1", 0),
        relay_ip="127.0.0.1",
        relay_bind_ip="127.0.0.1",
        relay_ports=(20000, 29999),
        realm=REALM,
        allowed_peers=["127.0.0.0/8"],
        user_quota=100,
    )
    return replace(config, **overrides)  # type: ignore[arg-type]


class ServerThread:
    """Run a TurnServer on its own uvloop in a thread, as `python -m praatbox.turn` would."""

    def __init__(self, config: TurnConfig) -> None:
        self.server = TurnServer(config)
        self.loop = uvloop.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.server.close())
        self.loop.close()

    def __enter__(self) -> TurnServer:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def turn_server() -> Iterator[Callable[..., TurnServer]]:
    """Start servers with `turn_server(**config_overrides)`; all stop after the test."""
    with contextlib.ExitStack() as stack:

        def start(**overrides: object) -> TurnServer:
            return stack.enter_context(ServerThread(make_config(**overrides)))

        yield start


@pytest.fixture
def coturn_peer() -> Iterator[tuple[str, int]]:
    """coturn's UDP echo peer on a free loopback port."""
    with echo_peer() as peer:
        yield peer


def credentials(user: str = "alice", ttl_seconds: int = 3600,
                now: float | None = None) -> tuple[str, str]:
    """REST credentials for the test secret, as the web app issues them."""
    return issue_turn_credentials(SECRET, user, ttl_seconds, time.time() if now is None else now)


@pytest.fixture
def turn_config() -> TurnConfig:
    return make_config()


@pytest.fixture
def issue_credentials() -> Callable[..., tuple[str, str]]:
    """``issue_credentials(user="alice", ttl_seconds=3600, now=None)``."""
    return credentials


@pytest.fixture
def raw_client() -> Iterator[Callable[..., RawClient]]:
    """``raw_client(server_address, username="", password="")``, closed after the test."""
    clients: list[RawClient] = []

    def connect(server: tuple[str, int], username: str = "", password: str = "") -> RawClient:
        clients.append(RawClient(server, username, password))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def tls_certificate(tmp_path: Path) -> tuple[str, str]:
    """Paths of a throw-away self-signed certificate and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def run_tool() -> Callable[..., str]:
    """``run_tool(args, timeout=60)``: a coturn tool's combined output, under a hard timeout."""
    return turn_clients.run_tool
