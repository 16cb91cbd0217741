"""Log lines an operator can read or parse: one format for the web, TURN and relay processes.

`PRAATBOX_LOG_FORMAT` picks `text` (the default: one human line per event), `keyvalue` (logfmt)
or `json` (one object per line). Every line carries a correlation id (`cid`): eight random hex
characters drawn per HTTP request, which a WebSocket keeps for its whole life. It ties the lines of
one request or connection together and says nothing else: it is derived from no room, peer or
address. What the lines say is up to each call site: no terms, passwords, SDP, candidates or
addresses (tests check the logs).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Mapping
from contextvars import ContextVar

FORMAT_SETTING = "PRAATBOX_LOG_FORMAT"
TEXT, KEYVALUE, JSON = "text", "keyvalue", "json"
FORMATS = (TEXT, KEYVALUE, JSON)
DEFAULT_FORMAT = TEXT
CORRELATION_ID_BYTES = 4  # eight hex characters: unique enough among a day's requests
NO_CORRELATION = "-"
TEXT_LAYOUT = "%(asctime)s %(levelname)s %(name)s [%(cid)s]: %(message)s"
# logfmt values are quoted when they hold a space, a quote, an equals sign or nothing at all.
KEYVALUE_SPECIAL = (" ", '"', "=", "\\", "\n", "\r", "\t")

# Contextvars follow each greenlet under gevent and each task under asyncio: the id set by one
# request never shows up on another's lines.
correlation_id: ContextVar[str] = ContextVar("praatbox_correlation_id", default=NO_CORRELATION)


def start_correlation() -> None:
    """Give the current request (and a WebSocket opened by it) a fresh correlation id."""
    correlation_id.set(secrets.token_hex(CORRELATION_ID_BYTES))


def end_correlation(error: BaseException | None = None) -> None:  # noqa: ARG001 - Flask's hook
    """Forget the id once the request (or its WebSocket) is done: a thread or greenlet that serves
    the next request must not log under the last one's id."""
    correlation_id.set(NO_CORRELATION)


def log_format(environ: Mapping[str, str] = os.environ) -> str:
    """Return the format the setting names; refuse an unknown one rather than guess."""
    chosen = environ.get(FORMAT_SETTING, "").strip().lower() or DEFAULT_FORMAT
    if chosen not in FORMATS:
        raise ValueError(f"{FORMAT_SETTING} must be one of {', '.join(FORMATS)}, not {chosen!r}")
    return chosen


def _iso_time(record: logging.LogRecord) -> str:
    """UTC with milliseconds: lines of processes on different hosts sort together."""
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _fields(formatter: logging.Formatter, record: logging.LogRecord) -> dict[str, object]:
    """The fields of a structured line, the exception (if any) folded into one of them."""
    fields: dict[str, object] = {
        "time": _iso_time(record),
        "level": record.levelname.lower(),
        "logger": record.name,
        "pid": record.process,
        "cid": correlation_id.get(),
        "msg": record.getMessage(),
    }
    if record.exc_info:
        fields["exc"] = formatter.formatException(record.exc_info)
    if record.stack_info:
        fields["stack"] = formatter.formatStack(record.stack_info)
    return fields


class TextFormatter(logging.Formatter):
    """Today's human line, with the correlation id after the logger's name."""

    def __init__(self) -> None:
        super().__init__(TEXT_LAYOUT)

    def format(self, record: logging.LogRecord) -> str:
        record.cid = correlation_id.get()
        return super().format(record)


class KeyValueFormatter(logging.Formatter):
    """One logfmt line per record (`key=value`, quoted where needed), tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_logfmt_value(value)}"
                        for key, value in _fields(self, record).items())


class JsonFormatter(logging.Formatter):
    """One JSON object per record; `cid` is null outside a request or connection."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(self, record)
        if fields["cid"] == NO_CORRELATION:
            fields["cid"] = None
        return json.dumps(fields, ensure_ascii=False, default=str)


def _logfmt_value(value: object) -> str:
    text = str(value)
    if text and not any(special in text for special in KEYVALUE_SPECIAL):
        return text
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


FORMATTERS: dict[str, type[logging.Formatter]] = {
    TEXT: TextFormatter, KEYVALUE: KeyValueFormatter, JSON: JsonFormatter,
}


def formatter(environ: Mapping[str, str] = os.environ) -> logging.Formatter:
    """The formatter of the configured format (gunicorn's own logger uses it too)."""
    return FORMATTERS[log_format(environ)]()


def configure_logging(level: int | str, environ: Mapping[str, str] = os.environ) -> None:
    """Send every logger's lines to stderr in the configured format, unless logging is set up
    already (a test runner capturing it)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(environ))
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # A Python warning would otherwise reach stderr as a bare, unformatted line.
    logging.captureWarnings(True)
