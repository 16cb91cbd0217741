"""docs/signaling.md names every message the code sends or accepts: a newcomer writing a client
(or a relay) reads the doc, not the source, so a message missing there is a protocol bug.

Convention of the doc: each message type has a heading line `### `type`` under the `## ` section
of its direction; error codes, close reasons and refused-upgrade statuses are rows of tables.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import praatbox
from praatbox.rooms import registry
from praatbox.signaling.protocol import CLIENT_MESSAGES, RELAY_MESSAGES

SOURCE = Path(praatbox.__file__).parent
DOC = SOURCE.parent / "docs" / "signaling.md"
BROWSER_TO_SERVER = "Browser → server"
SERVER_TO_BROWSER = "Server → browser"
RELAY_TO_WEB = "Relay → web"
WEB_TO_RELAY = "Web → relay"


def _trees(*packages: str) -> Iterator[ast.AST]:
    for package in packages:
        for path in sorted((SOURCE / package).glob("*.py")):
            yield ast.parse(path.read_text(), str(path))


def _constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _sent_dicts(*packages: str) -> Iterator[tuple[str, set[str]]]:
    """Each dict literal with a constant "type": (type, its keys)."""
    for tree in _trees(*packages):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            fields = {_constant(key): value for key, value in zip(node.keys, node.values,
                                                                   strict=True)}
            kind = _constant(fields.get("type"))
            if kind is not None:
                yield kind, {key for key in fields if key is not None}


def _state_messages() -> tuple[set[str], set[str]]:
    """Types the room state sends (rooms/, hub/): to relays (every such frame names its `room`),
    and to browsers (the others)."""
    to_relay: set[str] = set()
    to_browser: set[str] = set()
    for kind, keys in _sent_dicts("rooms", "hub"):
        (to_relay if "room" in keys else to_browser).add(kind)
    return to_relay, to_browser


def _calls(name: str, *packages: str) -> Iterator[ast.Call]:
    for tree in _trees(*packages):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == name:
                yield node


def _error_codes() -> set[str]:
    """ProtocolError("code", …) and error_message("code", …) calls, and RoomError classes'
    `code = "…"`."""
    found = [call.args[0] for name in ("ProtocolError", "error_message")
             for call in _calls(name, "rooms", "hub", "signaling") if call.args]
    for tree in _trees("rooms", "hub", "signaling"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found += [statement.value for statement in node.body
                          if isinstance(statement, ast.Assign)
                          and [getattr(t, "id", "") for t in statement.targets] == ["code"]]
    return {code for node in found if (code := _constant(node)) is not None}


def _close_reasons() -> set[str]:
    """Reasons the room state closes a browser's socket with: Close(peer, "reason")."""
    return {reason for call in _calls("Close", "rooms", "hub")
            if len(call.args) == 2 and (reason := _constant(call.args[1])) is not None}


def _refused_upgrades() -> set[int]:
    """The statuses `abort(…)` answers a refused WebSocket upgrade with."""
    return {status for call in _calls("abort", "signaling")
            if call.args and isinstance(status := getattr(call.args[0], "value", None), int)}


def _doc() -> str:
    return DOC.read_text()


def _sections(text: str) -> dict[str, str]:
    """The doc's `## ` sections by title."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def _headed_types(text: str) -> set[str]:
    return set(re.findall(r"^###\s+`([a-z0-9-]+)`", text, flags=re.MULTILINE))


def _column(text: str, index: int) -> set[str]:
    """What the tables' cells in one column name: each `code` in them, or their plain text."""
    values: set[str] = set()
    for row in re.findall(r"^\|(.*)\|$", text, flags=re.MULTILINE):
        cells = row.split("|")
        if index < len(cells):
            cell = cells[index].strip()
            values.update(re.findall(r"`([^`]+)`", cell) or [cell])
    return values


def _missing(expected: set[str], section: str) -> set[str]:
    sections = _sections(_doc())
    assert section in sections, f"docs/signaling.md has no `## {section}` section"
    return expected - _headed_types(sections[section])


def test_every_browser_message_has_a_section() -> None:
    assert not _missing(set(CLIENT_MESSAGES), BROWSER_TO_SERVER)


def test_every_relay_message_has_a_section() -> None:
    assert not _missing(set(RELAY_MESSAGES), RELAY_TO_WEB)


def test_every_message_the_server_sends_has_a_section() -> None:
    to_relay, to_browser = _state_messages()
    assert {"welcome", "room-open"} <= to_browser | to_relay  # the scan finds the messages
    assert not _missing(to_browser, SERVER_TO_BROWSER)
    assert not _missing(to_relay, WEB_TO_RELAY)
    # What the socket handlers build themselves (`pong`, `error`) and every decoded frame.
    signaling = {kind for kind, _ in _sent_dicts("signaling")}
    assert not signaling - _headed_types(_doc())


def test_every_error_code_is_in_the_table() -> None:
    codes = _error_codes()
    assert {"bad-json", "room-full", "rate-limited", "kicked"} <= codes
    table = _column(_sections(_doc())["Error codes"], 0)
    assert not codes - table


def test_every_close_reason_is_in_the_table() -> None:
    reasons = _close_reasons()
    assert "replaced" in reasons
    table = _sections(_doc())["Close codes"]
    assert not reasons - _column(table, 1)
    assert {"1000", "1008"} <= _column(table, 0)


def test_every_refused_upgrade_status_is_documented() -> None:
    statuses = _refused_upgrades()
    assert {403, 404, 429} <= statuses
    assert not {str(status) for status in statuses} - _column(_doc(), 0)


def test_the_welcome_documents_the_current_protocol_version() -> None:
    welcome = _sections(_doc())[SERVER_TO_BROWSER].split("### `welcome`")[1].split("\n### ")[0]
    assert re.search(rf'"version":\s*{registry.PROTOCOL_VERSION}\b', welcome)


def test_every_json_example_parses() -> None:
    examples = re.findall(r"^```json\n(.*?)^```", _doc(), flags=re.MULTILINE | re.DOTALL)
    assert len(examples) >= len(CLIENT_MESSAGES) + len(RELAY_MESSAGES)
    for example in examples:
        assert isinstance(json.loads(example)["type"], str)
