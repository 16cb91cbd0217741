"""HTTP views: home (terms form), room (call page), pages (help, health, metrics)."""

from __future__ import annotations

from flask import current_app

from praatbox.hub import MemoryHub


def hub() -> MemoryHub:
    """Return the application's room hub."""
    hub_: MemoryHub = current_app.extensions["praatbox.hub"]
    return hub_
