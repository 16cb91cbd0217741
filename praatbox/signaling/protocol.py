"""Signaling wire codec: JSON text frames ⇄ validated dicts (see docs/signaling.md).

Only the fields listed here survive decoding, so a client can never smuggle extra data (or a
forged `from`) through the server to another participant.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from praatbox.rooms.model import CAPTURE_KINDS

Message = dict[str, Any]

# The largest frame a browser or relay may send (an SDP with many candidates fits easily).
MAX_MESSAGE_BYTES = 64 * 1024

MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 1_000
PEER_ID_PATTERN = re.compile(r"^(relay|[A-Za-z0-9_-]{1,32})$")
# Publishers one `layers` signal may name: more than any room holds.
MAX_VIDEO_LAYER_ENTRIES = 64
ROOM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_RELAY_COUNT = 100_000
DESCRIPTION_TYPES = {"offer", "answer", "pranswer", "rollback"}
# An `e2ee` message's data (key-agreement messages between browsers, opaque to the server): at
# most this many bytes as compact JSON (setting PRAATBOX_E2EE_MAX_DATA_BYTES), and at most this
# deep, so that no later (recursive) JSON encoding or decoding of a forward can overflow a stack.
MAX_E2EE_DATA_BYTES = 4096
MAX_E2EE_DATA_DEPTH = 32


class ProtocolError(ValueError):
    """A frame that breaks the wire format; `code` goes back to the client in an error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _string(value: Any, name: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise ProtocolError("bad-field", f"{name} must be a string")
    if len(value) > max_chars:
        raise ProtocolError("bad-field", f"{name} is too long")
    return value


def _description(value: Any) -> Message:
    if not isinstance(value, dict):
        raise ProtocolError("bad-field", "description must be an object")
    kind = value.get("type")
    if kind not in DESCRIPTION_TYPES:
        raise ProtocolError("bad-field", "description.type is not offer, answer or rollback")
    sdp = _string(value.get("sdp", ""), "description.sdp", MAX_SDP_CHARS)
    return {"type": kind, "sdp": sdp}


def _candidate(value: Any) -> Message | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError("bad-field", "candidate must be an object or null")
    candidate: Message = {
        "candidate": _string(value.get("candidate", ""), "candidate.candidate", MAX_CANDIDATE_CHARS)
    }
    mid = value.get("sdpMid")
    candidate["sdpMid"] = None if mid is None else _string(mid, "candidate.sdpMid", 64)
    index = value.get("sdpMLineIndex")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                              or not 0 <= index < 1024):
        raise ProtocolError("bad-field", "candidate.sdpMLineIndex must be a small integer")
    candidate["sdpMLineIndex"] = index
    fragment = value.get("usernameFragment")
    if fragment is not None:
        candidate["usernameFragment"] = _string(fragment, "candidate.usernameFragment", 256)
    return candidate


def _recipient(frame: Message) -> str:
    to = frame.get("to")
    if not isinstance(to, str) or not PEER_ID_PATTERN.match(to):
        raise ProtocolError("bad-field", "to must name a participant")
    return to


def _signal(frame: Message) -> Message:
    to = _recipient(frame)
    data = frame.get("data")
    if not isinstance(data, dict):
        raise ProtocolError("bad-field", "data must be an object")
    if "description" in data:
        payload: Message = {"description": _description(data["description"])}
    elif "candidate" in data:
        payload = {"candidate": _candidate(data["candidate"])}
    elif to == "relay" and data.get("restart") is True:
        # The browser lost its path to the relay, which cannot restart ICE: a new connection.
        payload = {"restart": True}
    elif to == "relay" and data.get("resend") is True:
        # The browser's signaling socket was down: the relay's offer may never have reached it.
        payload = {"resend": True}
    elif to == "relay" and isinstance(data.get("videoOff"), bool):
        # Audio only: the relay stops (or resumes) sending this browser video.
        payload = {"videoOff": data["videoOff"]}
    else:
        raise ProtocolError("bad-field", "data needs a description or a candidate")
    return {"type": "signal", "to": to, "data": payload}


def _e2ee(frame: Message) -> Message:
    """Keep `data` as it is: the server only forwards the browsers' key agreement."""
    to = _recipient(frame)
    data = frame.get("data")
    if not isinstance(data, dict):
        raise ProtocolError("bad-field", "data must be an object")
    if _depth(data) > MAX_E2EE_DATA_DEPTH:
        raise ProtocolError("bad-field", "data is nested too deeply")
    return {"type": "e2ee", "to": to, "data": data}


def _depth(value: dict[str, Any] | list[Any]) -> int:
    """How deeply objects and arrays nest in a decoded JSON value (iterative: no recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, level + 1) for child in children
                       if isinstance(child, (dict, list)))
    return deepest


def _bare(kind: str) -> Callable[[Message], Message]:
    return lambda frame: {"type": kind}


def _about_peer(kind: str) -> Callable[[Message], Message]:
    def decode(frame: Message) -> Message:
        peer = frame.get("peer")
        if not isinstance(peer, str) or not PEER_ID_PATTERN.match(peer):
            raise ProtocolError("bad-field", "peer must name a participant")
        return {"type": kind, "peer": peer}

    return decode


def _switch(kind: str) -> Callable[[Message], Message]:
    """A counsellor's on/off switch: `{"type": kind, "on": true|false}`."""
    def decode(frame: Message) -> Message:
        if not isinstance(frame.get("on"), bool):
            raise ProtocolError("bad-field", "on must be true or false")
        return {"type": kind, "on": frame["on"]}

    return decode


def _capture_kind(frame: Message) -> str:
    kind = frame.get("kind")
    if kind not in CAPTURE_KINDS:
        raise ProtocolError("bad-field", "kind must be rec or live")
    return str(kind)


def _capture(frame: Message) -> Message:
    """The counsellor asks to record or stream (`on`: true), or stops (false)."""
    if not isinstance(frame.get("on"), bool):
        raise ProtocolError("bad-field", "on must be true or false")
    return {"type": "capture", "kind": _capture_kind(frame), "on": frame["on"]}


def _consent(frame: Message) -> Message:
    """A participant's yes or no to a recording or stream (a later no withdraws the yes)."""
    if not isinstance(frame.get("accept"), bool):
        raise ProtocolError("bad-field", "accept must be true or false")
    return {"type": "consent", "kind": _capture_kind(frame), "accept": frame["accept"]}


def _link(frame: Message) -> Message:
    """How this browser's own link does: weak (video reduced), and whether it asks for audio
    only (the others stop sending it video)."""
    weak, audio_only = frame.get("weak"), frame.get("audioOnly", False)
    if not isinstance(weak, bool) or not isinstance(audio_only, bool):
        raise ProtocolError("bad-field", "weak and audioOnly must be true or false")
    return {"type": "link", "weak": weak, "audioOnly": audio_only}


CLIENT_MESSAGES: dict[str, Callable[[Message], Message]] = {
    "signal": _signal,
    "hangup": _bare("hangup"),
    "ping": _bare("ping"),
    "ice-restart": _bare("ice-restart"),
    "end": _bare("end"),
    "admit": _about_peer("admit"),
    "deny": _about_peer("deny"),
    "kick": _about_peer("kick"),
    "waiting-room": _switch("waiting-room"),
    "require-e2ee": _switch("require-e2ee"),
    "e2ee": _e2ee,
    "capture": _capture,
    "consent": _consent,
    "link": _link,
}


def decode_client_frame(
    raw: str | bytes, max_e2ee_data_bytes: int = MAX_E2EE_DATA_BYTES
) -> Message:
    """Parse and validate one frame from a browser; raise ProtocolError when it is not valid
    (`max_e2ee_data_bytes`: the PRAATBOX_E2EE_MAX_DATA_BYTES setting)."""
    message = _decode(raw, CLIENT_MESSAGES)
    if message["type"] == "e2ee" and _compact(message["data"])[1] > max_e2ee_data_bytes:
        raise ProtocolError("too-large", f"e2ee data is larger than {max_e2ee_data_bytes} bytes")
    return message


def decode_resume_frame(raw: str | bytes, max_token_chars: int) -> Message:
    """Parse the first frame of a resuming socket: `{"type": "resume", "peer", "token"}`."""
    message = _decode(raw, RESUME_MESSAGES)
    return {**message, "token": _string(message["token"], "token", max_token_chars)}


def _resume(frame: Message) -> Message:
    peer = _about_peer("resume")(frame)["peer"]
    return {"type": "resume", "peer": peer, "token": frame.get("token")}


RESUME_MESSAGES: dict[str, Callable[[Message], Message]] = {"resume": _resume}


def _count(frame: Message, name: str, minimum: int = 0) -> int:
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError("bad-field", f"{name} must be an integer")
    if not minimum <= value <= MAX_RELAY_COUNT:
        raise ProtocolError("bad-field", f"{name} is out of range")
    return value


def _relay_hello(frame: Message) -> Message:
    return {"type": "relay-hello", "capacity": _count(frame, "capacity", minimum=1)}


def _relay_load(frame: Message) -> Message:
    """Keep `streams` only: the web counts the rooms it pinned to the relay itself."""
    return {"type": "relay-load", "streams": _count(frame, "streams")}


def _video_layers(data: Message) -> Message:
    """The relay tells one browser what it sends it of each publisher's video (docs/relay.md)."""
    layers = data.get("layers")
    if not isinstance(layers, dict) or len(layers) > MAX_VIDEO_LAYER_ENTRIES:
        raise ProtocolError("bad-field", "layers must be an object of publishers")
    checked: Message = {}
    for peer, entry in layers.items():
        if not PEER_ID_PATTERN.match(peer):
            raise ProtocolError("bad-field", "layers must name participants")
        if entry is None:
            checked[peer] = None
            continue
        layer = entry.get("layer") if isinstance(entry, dict) else None
        full = entry.get("full") if isinstance(entry, dict) else None
        if (not isinstance(layer, int) or isinstance(layer, bool) or not 0 <= layer <= 3
                or not isinstance(full, bool)):
            raise ProtocolError("bad-field", "a layer is a number 0-3 and whether it is full")
        checked[peer] = {"layer": layer, "full": full}
    return {"layers": checked, "paused": data.get("paused") is True,
            "held": data.get("held") is True}


def _relay_signal(frame: Message) -> Message:
    room = frame.get("room")
    if not isinstance(room, str) or not ROOM_ID_PATTERN.match(room):
        raise ProtocolError("bad-field", "room must name a room")
    data = frame.get("data")
    if isinstance(data, dict) and "layers" in data:
        payload = _video_layers(data)
    elif isinstance(data, dict) and "error" in data:
        # The relay tells one browser that its answer or candidate was unusable.
        error = data["error"] if isinstance(data["error"], dict) else {}
        payload = {"error": {
            "code": _string(error.get("code"), "error.code", 64),
            "message": _string(error.get("message"), "error.message", 500),
        }}
    else:
        payload = _signal(frame)["data"]
    return {"type": "signal", "room": room, "to": _recipient(frame), "data": payload}


RELAY_MESSAGES: dict[str, Callable[[Message], Message]] = {
    "relay-hello": _relay_hello,
    "relay-load": _relay_load,
    "signal": _relay_signal,
}


def decode_relay_frame(raw: str | bytes) -> Message:
    """Parse and validate one frame from a media relay (docs/signaling.md, `/ws-relay`)."""
    return _decode(raw, RELAY_MESSAGES)


def _decode(raw: str | bytes, messages: dict[str, Callable[[Message], Message]]) -> Message:
    if isinstance(raw, (bytes, bytearray)):
        raise ProtocolError("bad-json", "frames must be JSON text")
    if len(raw) > MAX_MESSAGE_BYTES or len(raw.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too-large", "frame is larger than 64 KiB")
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError("bad-json", "frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise ProtocolError("bad-json", "frame must be a JSON object")
    kind = frame.get("type")
    decode = messages.get(kind) if isinstance(kind, str) else None
    if decode is None:
        raise ProtocolError("unknown-type", "unknown message type")
    return decode(frame)


# A forwarded signal carries what its sender sent (at most MAX_MESSAGE_BYTES) plus the room and
# sender ids; a relay accepts twice this (praatbox/relay/__main__.py).
MAX_FORWARD_BYTES = MAX_MESSAGE_BYTES + 1024


def encode(message: Message) -> str:
    """Serialise a server message as compact JSON of at most MAX_FORWARD_BYTES in UTF-8.

    Characters stay unescaped: json's default `\\uXXXX` would make a forward up to three times
    the size of the frame it came from. Lone surrogates (a browser may send them escaped) cannot
    be UTF-8, so only they are escaped again. Raises ProtocolError("too-large") over the limit,
    so the sender's socket handler refuses the forward instead of sending it.
    """
    text, size = _compact(message)
    if size > MAX_FORWARD_BYTES:
        raise ProtocolError("too-large", "message is too large to forward")
    return text


def _compact(value: Any) -> tuple[str, int]:
    """Write a value as `encode` sends it; return the text and its size in UTF-8 bytes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if text.isascii():
        return text, len(text)
    try:
        return text, len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a surrogate: backslashreplace writes its JSON escape
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text, len(text.encode("utf-8"))


def error_message(code: str, message: str) -> Message:
    return {"type": "error", "code": code, "message": message}
