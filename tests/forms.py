"""Form posts through Flask's test client, shared by the tests that enter rooms."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

TEST_SECRET = "test-secret-key-for-praatbox"
TERMS = {"name": "Praatbox Gent", "location": "Zürich", "word": "apple"}


def csrf_from(html: str) -> str:
    """Return the CSRF token a page embeds in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_terms(client: FlaskClient, path: str, terms: dict[str, str] = TERMS,
               htmx: bool = False) -> TestResponse:
    """Post the terms to /start or /join with the home page's CSRF token, as a browser does."""
    token = csrf_from(client.get("/").get_data(as_text=True))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=dict(terms, csrf_token=token), headers=headers)
