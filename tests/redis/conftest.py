"""Two web processes sharing rooms through the test Redis."""

from __future__ import annotations

import pytest

from tests.live import start_web


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
