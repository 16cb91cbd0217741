"""RTP as the relay rewrites it: headers (RFC 3550), one-byte header extensions (RFC 8285),
retransmissions (RTX, RFC 4588) and the abs-send-time a receiver estimates bandwidth from.
Pure functions.

The relay forwards a publisher's payload as it came (`vp8.py` reads and renumbers the VP8
payload descriptor) and writes a new header per subscriber.
"""

from __future__ import annotations

import struct

RTP_HEADER = struct.Struct("!BBHII")
RTP_HEADER_LENGTH = 12
# Version 2, extension bit set: every packet the relay writes carries at least the mid.
VERSION_2_WITH_EXTENSION = 0x90
ONE_BYTE_EXTENSION_PROFILE = b"\xbe\xde"
NTP_EPOCH_OFFSET_S = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
SEQUENCE_MODULO = 1 << 16
TIMESTAMP_MODULO = 1 << 32

# Header extension URIs the relay writes (the ones aiortc negotiates).
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def extension_element(extension_id: int, value: bytes) -> bytes:
    """One element of a one-byte header extension block (RFC 8285 section 4.2)."""
    if not 1 <= extension_id <= 14:
        raise ValueError(f"one-byte header extension id {extension_id} out of 1..14")
    if not 1 <= len(value) <= 16:
        raise ValueError(f"one-byte header extension value of {len(value)} bytes")
    return bytes([extension_id << 4 | (len(value) - 1)]) + value


def extension_block(elements: bytes) -> bytes:
    """The header extension (profile, length in words, elements, zero padding)."""
    padding = -len(elements) % 4
    words = (len(elements) + padding) // 4
    return ONE_BYTE_EXTENSION_PROFILE + words.to_bytes(2, "big") + elements + bytes(padding)


def abs_send_time_element(extension_id: int, value: int) -> bytes:
    return extension_element(extension_id, (value & 0xFFFFFF).to_bytes(3, "big"))


def audio_level_element(extension_id: int, level: tuple[bool, int]) -> bytes:
    voice, dbov = level
    return extension_element(extension_id, bytes([voice << 7 | (dbov & 0x7F)]))


def pack_packet(
    marker: int, payload_type: int, sequence_number: int, timestamp: int, ssrc: int,
    extension: bytes, payload: bytes,
) -> bytes:
    """An RTP packet with the extension block from `extension_block` and no CSRC or padding."""
    return RTP_HEADER.pack(VERSION_2_WITH_EXTENSION, marker << 7 | payload_type,
                           sequence_number, timestamp, ssrc) + extension + payload


def header_length(packet: bytes) -> int:
    """Where the payload starts: fixed header, CSRCs and the header extension."""
    if len(packet) < RTP_HEADER_LENGTH:
        raise ValueError("RTP packet shorter than its fixed header")
    length = RTP_HEADER_LENGTH + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        if len(packet) < length + 4:
            raise ValueError("RTP packet with a truncated header extension")
        length += 4 + 4 * int.from_bytes(packet[length + 2:length + 4], "big")
    if len(packet) < length:
        raise ValueError("RTP packet with a truncated header extension")
    return length


def rtx_packet(packet: bytes, payload_type: int, sequence_number: int, ssrc: int) -> bytes:
    """Wrap a sent packet for retransmission on the RTX stream (RFC 4588 section 4): same
    timestamp, marker and header extensions, the original sequence number before the payload."""
    start = header_length(packet)
    fixed = RTP_HEADER.pack(packet[0], (packet[1] & 0x80) | payload_type, sequence_number,
                            int.from_bytes(packet[4:8], "big"), ssrc)
    return fixed + packet[RTP_HEADER_LENGTH:start] + packet[2:4] + packet[start:]


def sequence_number_of(packet: bytes) -> int:
    return int.from_bytes(packet[2:4], "big")


def abs_send_time(unix_time_s: float) -> int:
    """The 24-bit abs-send-time (6.18 fixed-point seconds of the NTP time) for a Unix time."""
    return int((unix_time_s + NTP_EPOCH_OFFSET_S) * (1 << 18)) & 0xFFFFFF


def ntp_timestamp(unix_time_s: float) -> int:
    """A 64-bit NTP timestamp (RFC 3550 section 4) for a Unix time."""
    seconds = int(unix_time_s)
    fraction = int((unix_time_s - seconds) * (1 << 32)) & 0xFFFFFFFF
    return (seconds + NTP_EPOCH_OFFSET_S) << 32 | fraction
