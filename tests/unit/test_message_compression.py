"""Signaling messages: small ones go out as they are, large ones compressed (RFC 7692 lets the
sender choose per message), and both read back the same on the other side."""

import zlib

from wsproto.frame_protocol import Opcode, RsvBits

from praatbox.signaling.transport import COMPRESS_MIN_BYTES, LargeMessagesDeflate


class ServerSide:
    client = False


def outbound(data: bytes) -> tuple[RsvBits, bytes]:
    extension = LargeMessagesDeflate(client_no_context_takeover=True,
                                     server_no_context_takeover=True)
    return extension.frame_outbound(ServerSide(), Opcode.TEXT, RsvBits(False, False, False),
                                    data, True)


def test_a_small_message_goes_out_uncompressed():
    candidate = b'{"type":"signal","from":"x","data":{"candidate":null}}'
    rsv, data = outbound(candidate)
    assert rsv.rsv1 is False and data == candidate


def test_a_large_message_is_compressed_and_inflates_back():
    sdp = b'{"type":"signal","data":{"description":{"sdp":"' + b"a=candidate:1 " * 200 + b'"}}}'
    assert len(sdp) >= COMPRESS_MIN_BYTES
    rsv, data = outbound(sdp)
    assert rsv.rsv1 is True and len(data) < len(sdp) / 4
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(data + b"\x00\x00\xff\xff") == sdp
