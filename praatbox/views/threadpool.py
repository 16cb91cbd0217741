"""CPU-heavy work (password hashing) in gevent's thread pool, so the event loop keeps serving
every other room meanwhile (scrypt releases the GIL)."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from flask import current_app, has_app_context
from gevent import get_hub
from gevent.lock import BoundedSemaphore
from gevent.monkey import is_module_patched

from praatbox.config import MAX_CONCURRENT_HASHES

Result = TypeVar("Result")


def run_in_threadpool(function: Callable[..., Result], *args: Any) -> Result:
    """Run `function(*args)` in a worker thread under gevent; directly elsewhere (unit tests)."""
    if not is_module_patched("threading"):
        return function(*args)
    at_once = MAX_CONCURRENT_HASHES
    if has_app_context():
        at_once = int(current_app.config["PASSWORD_HASHES_AT_ONCE"])
    with _slots(at_once):
        result: Result = get_hub().threadpool.apply(function, args)
        return result


@functools.cache
def _slots(at_once: int) -> BoundedSemaphore:
    return BoundedSemaphore(at_once)
