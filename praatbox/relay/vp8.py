"""The VP8 RTP payload descriptor (RFC 7741 section 4.2) as the relay reads and rewrites it.

A browser that publishes temporal layers marks each packet with its layer (TID), whether the
frame may be switched to from the base layer (Y), and a picture id. The relay drops the upper
layers for a subscriber on a weak link; the picture ids of what it sends must then stay
contiguous, or the browser waits for the pictures it never gets. Group E2EE leaves this
descriptor and the VP8 payload header after it in the clear. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

PICTURE_ID_MODULO = 1 << 15
# Partition 0 starts here (S bit set, partition index 0): the first packet of a frame.
_START_OF_FRAME_MASK, _START_OF_FRAME = 0x17, 0x10


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What the relay needs of one packet's payload descriptor."""

    starts_frame: bool
    keyframe: bool
    # The 15-bit picture id and where its two bytes are (None: absent or the short 7-bit form,
    # which the relay leaves alone).
    picture_id: int | None
    picture_id_at: int
    # The temporal layer (0: the base), None when the publisher sends no layers.
    temporal_id: int | None
    layer_sync: bool


def describe(payload: bytes) -> Descriptor | None:
    """Read a VP8 payload descriptor; None for a payload too short to hold the one it claims."""
    if not payload:
        return None
    first = payload[0]
    picture_id: int | None = None
    picture_id_at = 0
    temporal_id: int | None = None
    layer_sync = False
    offset = 1
    if first & 0x80:  # X: an extension byte follows
        if len(payload) < 2:
            return None
        extension = payload[1]
        offset = 2
        if extension & 0x80:  # I: picture id, one byte or (M bit) two
            if len(payload) <= offset:
                return None
            if payload[offset] & 0x80:
                if len(payload) <= offset + 1:
                    return None
                picture_id = (payload[offset] & 0x7F) << 8 | payload[offset + 1]
                picture_id_at = offset
                offset += 2
            else:
                offset += 1
        if extension & 0x40:  # L: TL0PICIDX
            offset += 1
        if extension & 0x30:  # T or K: TID/Y/KEYIDX
            if len(payload) <= offset:
                return None
            if extension & 0x20:
                temporal_id = payload[offset] >> 6
                layer_sync = bool(payload[offset] & 0x20)
            offset += 1
    starts_frame = first & _START_OF_FRAME_MASK == _START_OF_FRAME
    # The VP8 payload header's inverse keyframe bit (P, RFC 6386 section 9.1) is clear.
    keyframe = starts_frame and len(payload) > offset and not payload[offset] & 0x01
    return Descriptor(starts_frame, keyframe, picture_id, picture_id_at, temporal_id, layer_sync)


def with_picture_id(payload: bytes, descriptor: Descriptor, picture_id: int) -> bytes:
    """The payload with another 15-bit picture id (the M bit stays set)."""
    at = descriptor.picture_id_at
    return (payload[:at] + bytes([0x80 | (picture_id >> 8) & 0x7F, picture_id & 0xFF])
            + payload[at + 2:])
