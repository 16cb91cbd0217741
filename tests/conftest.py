"""Shared fixtures: the Flask app and its test client (real HTTP servers live in tests/live)."""

from __future__ import annotations

import re

import pytest

from praatbox import create_app

TEST_SECRET = "test-secret-key-for-praatbox"


@pytest.fixture
def app():
    return create_app({"SECRET_KEY": TEST_SECRET, "TURN_URLS": [], "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    """Return the CSRF token a page embeds in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and later `asyncio.run()` calls would refuse to start."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)
