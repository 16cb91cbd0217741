"""The frames a browser sends when a media path or its socket was lost: counts, and restart and
resend requests to the relay only."""

import json

import pytest

from praatbox.signaling.protocol import ProtocolError, decode_client_frame


def test_an_ice_restart_report_keeps_nothing_but_its_type():
    raw = json.dumps({"type": "ice-restart", "peer": "abc",
                      "candidate": "1 1 udp 1 10.0.0.1 9 typ host"})
    assert decode_client_frame(raw) == {"type": "ice-restart"}


@pytest.mark.parametrize("ask", ["restart", "resend"])
def test_a_restart_or_resend_request_goes_to_the_relay_only(ask):
    raw = json.dumps({"type": "signal", "to": "relay", "data": {ask: True, "sdp": "x"}})
    assert decode_client_frame(raw) == {"type": "signal", "to": "relay", "data": {ask: True}}


@pytest.mark.parametrize("to, data", [
    ("Jk2LmN0pQr5s", {"restart": True}),  # another browser restarts ICE itself
    ("Jk2LmN0pQr5s", {"resend": True}),
    ("relay", {"restart": 1}),
    ("relay", {"restart": "yes"}),
    ("relay", {"resend": 1}),
])
def test_other_restart_shapes_are_refused(to, data):
    with pytest.raises(ProtocolError) as error:
        decode_client_frame(json.dumps({"type": "signal", "to": to, "data": data}))
    assert error.value.code == "bad-field"
