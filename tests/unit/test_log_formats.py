"""PRAATBOX_LOG_FORMAT: each format writes one line per record, with the correlation id."""

from __future__ import annotations

import json
import logging
import sys

import gevent
import pytest

from praatbox import logs


def record(message: str = "signaling: rejected a frame (%s)", *args: object,
           exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("boom\nsecond line")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("praatbox.test", logging.WARNING, __file__, 1, message,
                             args or ("bad-json",), exc_info)


def test_an_unknown_format_is_refused_and_text_is_the_default():
    assert logs.log_format({}) == "text"
    assert logs.log_format({"PRAATBOX_LOG_FORMAT": " JSON "}) == "json"
    with pytest.raises(ValueError, match="PRAATBOX_LOG_FORMAT"):
        logs.log_format({"PRAATBOX_LOG_FORMAT": "xml"})


def test_json_is_one_object_per_line_even_with_a_traceback():
    formatter = logs.formatter({"PRAATBOX_LOG_FORMAT": "json"})
    line = formatter.format(record(exc=True))
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["msg"] == "signaling: rejected a frame (bad-json)"
    assert fields["level"] == "warning" and fields["logger"] == "praatbox.test"
    assert fields["cid"] is None  # outside any request
    assert "RuntimeError: boom" in fields["exc"]


def test_keyvalue_quotes_what_needs_quoting_and_stays_on_one_line():
    formatter = logs.formatter({"PRAATBOX_LOG_FORMAT": "keyvalue"})
    line = formatter.format(record('said "%s" a=b', "hi\nthere", exc=True))
    assert "\n" not in line
    assert 'msg="said \\"hi\\nthere\\" a=b"' in line
    assert " level=warning logger=praatbox.test " in line and " cid=- " in line


def test_the_correlation_id_follows_each_greenlet():
    """gevent runs each request's greenlet in its own context: ids never cross."""
    formatter = logs.formatter({"PRAATBOX_LOG_FORMAT": "text"})
    seen: dict[int, list[str]] = {}

    def request(number: int) -> None:
        logs.start_correlation()
        mine = logs.correlation_id.get()
        for _ in range(3):
            gevent.sleep(0)  # let the other greenlet run and set its own id
            assert f"[{mine}]" in formatter.format(record())
            seen.setdefault(number, []).append(logs.correlation_id.get())

    gevent.joinall([gevent.spawn(request, n) for n in range(2)], raise_error=True)
    assert all(len(set(ids)) == 1 for ids in seen.values())
    assert seen[0][0] != seen[1][0]
    assert logs.correlation_id.get() == logs.NO_CORRELATION  # nothing leaked to the caller
