import json

import pytest

from praatbox.signaling.protocol import ProtocolError, decode_client_frame, decode_relay_frame

OFFER = {"type": "signal", "to": "abc", "data": {"description": {"type": "offer", "sdp": "v=0"}}}


def test_signal_keeps_only_known_fields_and_drops_a_forged_from():
    frame = dict(OFFER, **{"from": "someone-else", "extra": 1})
    assert decode_client_frame(json.dumps(frame)) == {
        "type": "signal", "to": "abc", "data": {"description": {"type": "offer", "sdp": "v=0"}}}


def test_candidate_and_end_of_candidates_are_accepted():
    candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0",
                 "sdpMLineIndex": 0, "usernameFragment": "abcd"}
    frame = {"type": "signal", "to": "abc", "data": {"candidate": candidate}}
    assert decode_client_frame(json.dumps(frame))["data"]["candidate"] == candidate
    frame = {"type": "signal", "to": "abc", "data": {"candidate": None}}
    assert decode_client_frame(json.dumps(frame))["data"] == {"candidate": None}


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "bad-json"),
        (b'{"type": "ping"}', "bad-json"),
        ("[1, 2]", "bad-json"),
        ('{"type": "launch"}', "unknown-type"),
        ('{"no": "type"}', "unknown-type"),
        ('{"type": 5}', "unknown-type"),
        ('{"type": "signal", "data": {}}', "bad-field"),
        ('{"type": "signal", "to": "abc"}', "bad-field"),
        ('{"type": "signal", "to": "a b", "data": {"candidate": null}}', "bad-field"),
        ('{"type": "signal", "to": "abc", "data": {"description": {"type": "hello"}}}',
         "bad-field"),
        ('{"type": "signal", "to": "abc", "data": {"description": {"type": "offer", "sdp": 5}}}',
         "bad-field"),
        ('{"type": "signal", "to": "abc", "data": {"candidate": {"sdpMLineIndex": true}}}',
         "bad-field"),
        ('{"type": "signal", "to": "abc", "data": {}}', "bad-field"),
        ("[" * 100_000, "too-large"),
        ("[" * 50_000, "bad-json"),
        (json.dumps({"type": "ping", "pad": "x" * 70_000}), "too-large"),
    ],
)
def test_bad_frames_raise_a_protocol_error_with_a_code(raw, code):
    with pytest.raises(ProtocolError) as caught:
        decode_client_frame(raw)
    assert caught.value.code == code


def test_the_relays_video_layers_reach_the_browser_checked_and_nothing_else():
    frame = decode_relay_frame(json.dumps({
        "type": "signal", "room": "r" * 20, "to": "abc", "data": {
            "layers": {"peer1": {"layer": 0, "full": False, "extra": "<b>"}, "peer2": None},
            "paused": False, "held": "yes", "script": "alert(1)"}}))
    assert frame["data"] == {"layers": {"peer1": {"layer": 0, "full": False}, "peer2": None},
                             "paused": False, "held": False}


@pytest.mark.parametrize("layers", [
    [], {"<img>": None}, {"p": {"layer": 9, "full": True}}, {"p": {"layer": True, "full": True}},
    {"p": {"layer": 0, "full": "yes"}}, {f"p{n}": None for n in range(65)},
])
def test_bad_video_layers_from_the_relay_are_refused(layers):
    with pytest.raises(ProtocolError):
        decode_relay_frame(json.dumps({"type": "signal", "room": "r" * 20, "to": "abc",
                                       "data": {"layers": layers, "paused": False}}))
