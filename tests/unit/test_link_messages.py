"""What a page on a weak link may say: `link` to everyone, and "no video for me" to the relay."""

import json

import pytest

from praatbox.signaling.protocol import ProtocolError, decode_client_frame


def test_a_link_report_keeps_only_its_two_switches():
    raw = json.dumps({"type": "link", "weak": True, "from": "forged", "estimate": 1})
    assert decode_client_frame(raw) == {"type": "link", "weak": True, "audioOnly": False}


@pytest.mark.parametrize("off", [True, False])
def test_audio_only_goes_to_the_relay(off):
    raw = json.dumps({"type": "signal", "to": "relay", "data": {"videoOff": off, "sdp": "x"}})
    assert decode_client_frame(raw) == {"type": "signal", "to": "relay",
                                        "data": {"videoOff": off}}


@pytest.mark.parametrize("to, data", [("Jk2LmN0pQr5s", {"videoOff": True}),
                                      ("relay", {"videoOff": 1})])
def test_other_audio_only_shapes_are_refused(to, data):
    with pytest.raises(ProtocolError) as error:
        decode_client_frame(json.dumps({"type": "signal", "to": to, "data": data}))
    assert error.value.code == "bad-field"
