"""The TURN codec: what it adds to aioice's, checked against aioice's own parser."""

import struct

import pytest
from aioice import stun
from hypothesis import given, settings
from hypothesis import strategies as st

from praatbox.turn import codec

KEY = b"0123456789abcdef"
TXID = bytes(range(12))
PEER = ("198.51.100.7", 40000)


def test_response_is_signed_and_fingerprinted_as_aioice_expects():
    data = codec.encode_message(
        stun.Method.ALLOCATE | stun.Class.RESPONSE, TXID,
        {"XOR-RELAYED-ADDRESS": PEER, "LIFETIME": 600}, key=KEY,
    )
    message = stun.parse_message(data)  # raises if the fingerprint is wrong
    assert message.attributes["XOR-RELAYED-ADDRESS"] == PEER
    assert message.attributes["LIFETIME"] == 600
    assert message.check_message_integrity(KEY)
    assert not message.check_message_integrity(b"other key")


def test_error_420_lists_the_unknown_attributes():
    data = codec.encode_message(
        stun.Method.ALLOCATE | stun.Class.ERROR, TXID, codec.error_attributes(420),
        raw_attributes=[codec.unknown_attributes_attribute([0x7777, 0x0031])],
    )
    assert stun.parse_message(data).error_code == 420
    raw = dict(codec.scan_attributes(data))
    assert raw[codec.UNKNOWN_ATTRIBUTES] == struct.pack("!HH", 0x7777, 0x0031)


def test_unknown_required_attributes_ignores_optional_and_known_ones():
    raw = [(0x0006, b"user"), (codec.DONT_FRAGMENT, b""), (0x8055, b"x"), (0x7777, b"")]
    assert codec.unknown_required_attributes(raw) == [0x7777]


def test_scan_attributes_keeps_repeated_peer_addresses():
    message = stun.Message(stun.Method.CREATE_PERMISSION, stun.Class.REQUEST, TXID)
    first = bytes(message)
    peers = [("198.51.100.1", 1), ("198.51.100.2", 2), ("198.51.100.3", 3)]
    body = b"".join(
        struct.pack("!HH", codec.XOR_PEER_ADDRESS, 8) + stun.pack_xor_address(p, TXID)
        for p in peers
    )
    data = stun.set_body_length(first + body, len(body))
    raw = codec.scan_attributes(data)
    assert codec.peer_addresses(raw, TXID) == peers


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x00\x00" + b"\x00" * 16,  # wrong magic cookie
        b"\x00\x01\x00\x04" + struct.pack("!I", stun.COOKIE) + TXID,  # body missing
        b"\x00\x01\x00\x04" + struct.pack("!I", stun.COOKIE) + TXID + b"\x00\x06\x00\x09",
        b"\x00\x01\x00\x03" + struct.pack("!I", stun.COOKIE) + TXID + b"abc",
        b"\xc0\x01\x00\x00" + struct.pack("!I", stun.COOKIE) + TXID,
    ],
)
def test_malformed_messages_raise_value_error(data):
    with pytest.raises(ValueError):
        codec.decode_message(data)


def test_send_indication_fast_parser_matches_aioice():
    message = stun.Message(stun.Method.SEND, stun.Class.INDICATION, TXID,
                           {"XOR-PEER-ADDRESS": PEER, "DATA": b"hello"})
    assert codec.parse_send_indication(bytes(message)) == (PEER, b"hello")


def test_send_indication_without_data_is_malformed():
    message = stun.Message(stun.Method.SEND, stun.Class.INDICATION, TXID,
                           {"XOR-PEER-ADDRESS": PEER})
    with pytest.raises(ValueError):
        codec.parse_send_indication(bytes(message))


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 1200])
def test_data_indication_parses_with_aioice(size):
    payload = bytes(range(256)) * 5
    data = codec.encode_data_indication(PEER, payload[:size])
    message = stun.parse_message(data)
    assert message.message_method == stun.Method.DATA
    assert message.message_class == stun.Class.INDICATION
    assert message.attributes["XOR-PEER-ADDRESS"] == PEER
    assert message.attributes["DATA"] == payload[:size]


def test_stream_framing_cuts_padded_channel_data_and_keeps_the_rest():
    stun_message = bytes(stun.Message(stun.Method.BINDING, stun.Class.REQUEST, TXID))
    channel = codec.channel_data_header(0x4001, 5) + b"hello" + b"\x00\x00\x00"
    stream = channel + stun_message + channel[:6]
    frames, rest = codec.split_stream(stream)
    assert frames == [channel, stun_message]
    assert rest == channel[:6]
    frames, rest = codec.split_stream(rest + channel[6:])
    assert frames == [channel] and rest == b""


def test_stream_framing_refuses_bytes_that_are_neither_stun_nor_channel_data():
    with pytest.raises(ValueError):
        codec.split_stream(b"\x80\x00\x00\x04abcd")
    with pytest.raises(ValueError):
        codec.split_stream(b"\x00\x01\x00\x05" + bytes(21))


def test_channel_data_is_told_apart_from_stun():
    assert codec.is_channel_data(0x40)
    assert codec.is_channel_data(0x7F)
    assert not codec.is_channel_data(0x00)
    assert not codec.is_channel_data(0x80)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_value_error(data):
    for parse in (codec.decode_message, codec.parse_send_indication, codec.split_stream):
        try:
            parse(data)
        except ValueError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=24)), max_size=6))
def test_well_framed_messages_with_arbitrary_attributes_raise_only_value_error(attributes):
    body = b""
    for attr_type, value in attributes:
        body += struct.pack("!HH", attr_type, len(value)) + value + bytes(-len(value) & 3)
    header = struct.pack("!HHI12s", stun.Method.ALLOCATE, len(body), stun.COOKIE, TXID)
    data = header + body
    try:
        message, raw = codec.decode_message(data)
    except ValueError:
        return
    codec.unknown_required_attributes(raw)
    for extract in (codec.requested_family, codec.even_port, codec.reservation_token):
        try:
            extract(raw)
        except ValueError:
            pass
    try:
        codec.peer_addresses(raw, TXID)
    except ValueError:
        pass
