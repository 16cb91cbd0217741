"""Static scripts and styles go out compressed; pages never do (they hold the CSRF token)."""

from __future__ import annotations

import gzip

import pytest

from tests.forms import TERMS, post_terms

BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.mark.parametrize("path", ["/static/js/room.js", "/static/css/praatbox.css",
                                  "/static/vendor/htmx.min.js"])
def test_static_assets_are_compressed_for_browsers_that_accept_it(client, path):
    plain = client.get(path).get_data()
    compressed = client.get(path, headers=BROWSER)
    assert compressed.headers["Content-Encoding"] in {"zstd", "br", "deflate"}
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert len(compressed.get_data()) < len(plain) / 2


def test_a_client_that_only_takes_gzip_gets_what_it_can_read(client):
    response = client.get("/static/js/room.js", headers={"Accept-Encoding": "gzip"})
    if response.headers.get("Content-Encoding") == "gzip":
        assert gzip.decompress(response.get_data()) == client.get("/static/js/room.js").get_data()
    else:  # streamed files are never gzipped by Flask-Compress: then they go uncompressed
        assert "Content-Encoding" not in response.headers


def test_pages_with_secrets_and_visitor_text_are_never_compressed(client):
    """BREACH-style attacks compare compressed sizes of a secret next to chosen text."""
    home = client.get("/?lang=en", headers=BROWSER)
    assert "Content-Encoding" not in home.headers
    started = post_terms(client, "/start", TERMS)
    room = client.get(started.headers["Location"], headers=BROWSER)
    assert room.status_code == 200
    assert "Content-Encoding" not in room.headers
