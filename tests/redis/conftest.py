"""Two web processes sharing rooms through the test Redis."""

from __future__ import annotations

import pytest

from tests.live import start_two_webs


@pytest.fixture(scope="module")
def two_webs(redis_url, tmp_path_factory):
    """Two gunicorn web processes (same secret) that share rooms through the test Redis."""
    first, second = start_two_webs(tmp_path_factory.mktemp("webs"),
                                   {"PRAATBOX_REDIS_URL": redis_url})
    yield first, second
    first.stop()
    second.stop()
