"""Shared fixtures: the Flask app and its test client (real HTTP servers live in tests/live)."""

from __future__ import annotations

import subprocess
import time

import pytest
import redis

from praatbox import create_app
from tests.forms import TEST_SECRET
from tests.live import free_port, start_web

# Every request of the test client comes from 127.0.0.1 (see tests/live.py).
GENEROUS_BUDGETS = {"TERM_LOOKUP_LIMIT": "10000 per minute", "ROOMS_OPENED_LIMIT": "10000 per hour"}
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_STARTUP_TIMEOUT_SECONDS = 10.0


@pytest.fixture
def app():
    return create_app({"SECRET_KEY": TEST_SECRET, "TURN_URLS": [], "TESTING": True,
                       **GENEROUS_BUDGETS})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The app under gunicorn's gevent worker, as `make run` starts it (in-memory rooms)."""
    server = start_web(tmp_path_factory.mktemp("web"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port, with its own folder and no persistence."""
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = open(folder / "redis.log", "wb")
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url)
    deadline = time.monotonic() + REDIS_STARTUP_TIMEOUT_SECONDS
    while True:
        try:
            probe.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((folder / "redis.log").read_text()) from None
            time.sleep(0.05)
    probe.close()
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def redis_client(redis_url):
    """A client on an emptied Redis (every test starts with no rooms)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    yield client
    client.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and later `asyncio.run()` calls would refuse to start."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)
