"""The `e2ee` and `require-e2ee` frames: key-agreement data passes the server as it is, within
limits that keep the web process and the recipients safe."""

import json

import pytest

from praatbox.signaling.protocol import (
    MAX_E2EE_DATA_BYTES,
    MAX_E2EE_DATA_DEPTH,
    ProtocolError,
    decode_client_frame,
    encode,
)


def e2ee_frame(data, to="Jk2LmN0pQr5s", **extra):
    return json.dumps({"type": "e2ee", "to": to, "data": data, **extra}, ensure_ascii=False)


def refused(raw, **limits):
    with pytest.raises(ProtocolError) as caught:
        decode_client_frame(raw, **limits)
    return caught.value.code


def test_opaque_data_is_kept_exactly_and_a_forged_from_is_dropped():
    data = {"kind": "wrap", "keys": [{"id": 7, "iv": "AAECAw", "box": "zz=="}], "note": "één ✓",
            "n": None, "ok": True, "f": 1.5, "nested": {"a": {"b": []}}}
    message = decode_client_frame(e2ee_frame(data, **{"from": "someone-else", "x": 1}))
    assert message == {"type": "e2ee", "to": "Jk2LmN0pQr5s", "data": data}
    forwarded = json.loads(encode({"type": "e2ee", "from": "q3V8kR2mX0aZ", "data": data}))
    assert forwarded["data"] == data


def test_data_up_to_the_limit_passes_and_one_byte_more_is_too_large():
    filler = "x" * (MAX_E2EE_DATA_BYTES - len('{"k":""}'))
    assert decode_client_frame(e2ee_frame({"k": filler}))["data"] == {"k": filler}
    assert refused(e2ee_frame({"k": filler + "x"})) == "too-large"


def test_the_limit_counts_utf8_bytes_of_compact_json_not_the_sent_spacing():
    # Sent with lots of spaces, but compact it fits: the sender's formatting does not count.
    spaced = '{"type": "e2ee", "to": "abc", "data": {"k":' + " " * 8000 + '"v"}}'
    assert decode_client_frame(spaced)["data"] == {"k": "v"}
    # 1,400 three-byte characters: 1,400 characters, but 4,200 bytes.
    assert refused(e2ee_frame({"k": "€" * 1400})) == "too-large"


def test_the_limit_is_a_setting():
    data = {"k": "x" * 100}
    assert refused(e2ee_frame(data), max_e2ee_data_bytes=64) == "too-large"
    assert decode_client_frame(e2ee_frame(data), max_e2ee_data_bytes=200)["data"] == data


@pytest.mark.parametrize("data", ["a string", 5, None, True, ["a", "list"]])
def test_data_must_be_an_object(data):
    assert refused(e2ee_frame(data)) == "bad-field"


def test_missing_data_is_refused():
    assert refused('{"type": "e2ee", "to": "abc"}') == "bad-field"


@pytest.mark.parametrize("to", [None, 5, "", "a b", "x" * 33, "../relay", ["abc"]])
def test_a_bad_recipient_is_refused(to):
    assert refused(e2ee_frame({"k": 1}, to=to)) == "bad-field"


def test_deep_nesting_is_refused_before_anything_recurses_into_it():
    within = {"k": 1}
    for _ in range(MAX_E2EE_DATA_DEPTH - 1):
        within = {"k": within}
    assert decode_client_frame(e2ee_frame(within))["data"] == within
    # Nested as deep as the JSON parser allows: the forward would overflow json.dumps' stack.
    deep = '{"type": "e2ee", "to": "abc", "data": ' + '{"k":' * 900 + "1" + "}" * 901
    assert refused(deep) == "bad-field"
    assert refused(e2ee_frame({"k": within})) == "bad-field"


@pytest.mark.parametrize("on", [True, False])
def test_require_e2ee_carries_a_boolean(on):
    raw = json.dumps({"type": "require-e2ee", "on": on, "extra": 1})
    assert decode_client_frame(raw) == {"type": "require-e2ee", "on": on}


@pytest.mark.parametrize("on", [None, 1, "true", []])
def test_require_e2ee_refuses_anything_but_a_boolean(on):
    assert refused(json.dumps({"type": "require-e2ee", "on": on})) == "bad-field"
