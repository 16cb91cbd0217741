"""Compress the static JavaScript and CSS a page loads (Flask-Compress); never the pages.

A phone on prepaid data loads the call page's scripts on every visit: compressed, they are a
quarter of the bytes. Pages themselves stay uncompressed: a page holds a CSRF token next to text a
visitor chose, and compressing a secret together with attacker-influenced text in one response is
what BREACH-style attacks measure. Static assets hold no secret.
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

COMPRESSED_TYPES = ["text/css", "text/javascript", "application/javascript"]


def init_compression(app: Flask) -> None:
    """Compress only the static asset types above, with what the browser accepts."""
    app.config["COMPRESS_MIMETYPES"] = COMPRESSED_TYPES
    Compress(app)
