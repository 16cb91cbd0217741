"""A real redis-server on a free loopback port, with its own folder and no persistence."""

from __future__ import annotations

import subprocess
import time

import pytest
import redis

from tests.live import free_port, start_web

REDIS_SERVER = "/usr/bin/redis-server"
STARTUP_TIMEOUT_SECONDS = 10.0


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
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
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
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


@pytest.fixture(scope="module")
def two_webs(redis_url, tmp_path_factory):
    """Two gunicorn web processes (same secret) that share rooms through the test Redis."""
    env = {"PRAATBOX_REDIS_URL": redis_url}
    first = start_web(tmp_path_factory.mktemp("web-a"), env)
    try:
        second = start_web(tmp_path_factory.mktemp("web-b"), env)
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()
