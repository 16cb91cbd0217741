"""TURN wire formats on top of ``aioice.stun``: what its codec lacks, and the fast paths.

aioice parses and serialises STUN messages but silently drops attributes it does not know,
keeps only the last of repeated ones and cannot write UNKNOWN-ATTRIBUTES. So requests are parsed
by aioice *and* scanned raw here, responses are written here with aioice's packers, and the
per-packet paths (ChannelData, Send and Data indications) never build a ``Message``.
"""

import functools
import random
import socket
import struct
from typing import Any

from aioice import stun

COOKIE_BYTES = struct.pack("!I", stun.COOKIE)
CHANNEL_NUMBER_MIN = 0x4000
# RFC 8656 narrowed the range to 0x4FFF, but RFC 5766 clients (coturn's turnutils_uclient among
# them) pick numbers up to 0x7FFF; coturn accepts them, and nothing else starts with 0b01.
CHANNEL_NUMBER_MAX = 0x7FFF
UDP_PROTOCOL = 17
FAMILY_IPV4 = 0x01

# Attribute types, spelt as in RFC 8489 / RFC 8656.
MESSAGE_INTEGRITY = 0x0008
UNKNOWN_ATTRIBUTES = 0x000A
XOR_PEER_ADDRESS = 0x0012
DATA = 0x0013
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
DONT_FRAGMENT = 0x001A
RESERVATION_TOKEN = 0x0022
FINGERPRINT = 0x8028

SEND_INDICATION = stun.Method.SEND | stun.Class.INDICATION
DATA_INDICATION = stun.Method.DATA | stun.Class.INDICATION
SEND_INDICATION_BYTES = struct.pack("!H", SEND_INDICATION)

# Comprehension-required attributes (type < 0x8000) we act on; any other one in a request
# gets a 420 (RFC 8489 section 6.3.1).
UNDERSTOOD_ATTRIBUTES = frozenset(
    {entry[0] for entry in stun.ATTRIBUTES if entry[0] < 0x8000}
    | {REQUESTED_ADDRESS_FAMILY, DONT_FRAGMENT, EVEN_PORT, RESERVATION_TOKEN}
)

ERROR_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    420: "Unknown Attribute",
    437: "Allocation Mismatch",
    438: "Stale Nonce",
    440: "Address Family not Supported",
    441: "Wrong Credentials",
    442: "Unsupported Transport Protocol",
    443: "Peer Address Family Mismatch",
    486: "Allocation Quota Reached",
    508: "Insufficient Capacity",
}

RawAttribute = tuple[int, bytes]
# Received bytes, or a view of the receive buffer on the per-packet paths.
Buffer = bytes | bytearray | memoryview


def is_channel_data(first_byte: int) -> bool:
    """ChannelData starts with 0b01, STUN with 0b00 (RFC 8656 section 12)."""
    return first_byte & 0xC0 == 0x40


def scan_attributes(data: bytes) -> list[RawAttribute]:
    """Return the attributes of a STUN message as ``(type, value)``, strictly bounded.

    Only FINGERPRINT counts after MESSAGE-INTEGRITY (RFC 8489 §14.5): anything else there is
    unsigned, and honouring it would let anyone on the path add peers to a signed request.
    """
    if len(data) < stun.HEADER_LENGTH or data[0] & 0xC0 or data[4:8] != COOKIE_BYTES:
        raise ValueError("not a STUN message")
    length = struct.unpack_from("!H", data, 2)[0]
    if length % 4 or len(data) != stun.HEADER_LENGTH + length:
        raise ValueError("STUN message length does not match")
    attributes = []
    pos = stun.HEADER_LENGTH
    signed = False
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("truncated STUN attribute header")
        attr_type, attr_len = struct.unpack_from("!HH", data, pos)
        end = pos + 4 + attr_len
        if end > len(data):
            raise ValueError("STUN attribute overruns the message")
        if not signed or attr_type == FINGERPRINT:
            attributes.append((attr_type, data[pos + 4 : end]))
        signed = signed or attr_type == MESSAGE_INTEGRITY
        pos = end + stun.padding_length(attr_len)
    return attributes


def decode_message(data: bytes) -> tuple[stun.Message, list[RawAttribute]]:
    """Parse a STUN message; raise ``ValueError`` on anything malformed."""
    raw = scan_attributes(data)
    try:
        message = stun.parse_message(data)
    except (ValueError, struct.error, IndexError, KeyError) as exc:
        raise ValueError(f"bad STUN message: {exc}") from exc
    return message, raw


def unknown_required_attributes(raw: list[RawAttribute]) -> list[int]:
    """Return the comprehension-required attribute types we do not understand."""
    return sorted({t for t, _ in raw if t < 0x8000 and t not in UNDERSTOOD_ATTRIBUTES})


def peer_addresses(raw: list[RawAttribute], transaction_id: bytes) -> list[tuple[str, int]]:
    """Return every XOR-PEER-ADDRESS (CreatePermission may carry several)."""
    found = []
    for attr_type, value in raw:
        if attr_type == XOR_PEER_ADDRESS:
            found.append(stun.unpack_xor_address(value, transaction_id))
    return found


def _first(raw: list[RawAttribute], wanted: int) -> bytes | None:
    for attr_type, value in raw:
        if attr_type == wanted:
            return value
    return None


def requested_family(raw: list[RawAttribute]) -> int | None:
    """Return the REQUESTED-ADDRESS-FAMILY value, if present."""
    value = _first(raw, REQUESTED_ADDRESS_FAMILY)
    if value is not None and len(value) != 4:
        raise ValueError("bad REQUESTED-ADDRESS-FAMILY")
    return None if value is None else value[0]


def even_port(raw: list[RawAttribute]) -> bool | None:
    """Return None without EVEN-PORT, else whether the next port must be reserved (R bit)."""
    value = _first(raw, EVEN_PORT)
    if value is not None and len(value) != 1:
        raise ValueError("bad EVEN-PORT")
    return None if value is None else bool(value[0] & 0x80)


def reservation_token(raw: list[RawAttribute]) -> bytes | None:
    """Return the RESERVATION-TOKEN value, if present."""
    value = _first(raw, RESERVATION_TOKEN)
    if value is not None and len(value) != 8:
        raise ValueError("bad RESERVATION-TOKEN")
    return value


def encode_attribute(attr_type: int, value: bytes) -> bytes:
    """Return one attribute, padded to 4 bytes (also for values aioice cannot pack)."""
    padding = bytes(stun.padding_length(len(value)))
    return struct.pack("!HH", attr_type, len(value)) + value + padding


def _append(data: bytes, attr_type: int, value: bytes) -> bytes:
    attribute = encode_attribute(attr_type, value)
    return stun.set_body_length(data, len(data) - stun.HEADER_LENGTH + len(attribute)) + attribute


def encode_message(
    message_type: int,
    transaction_id: bytes,
    attributes: dict[str, Any],
    key: bytes | None = None,
    raw_attributes: list[RawAttribute] | None = None,
    fingerprint: bool = True,
) -> bytes:
    """Serialise a message with aioice's attribute packers, signed with ``key`` if given.

    ``raw_attributes`` carries the attributes aioice cannot write (UNKNOWN-ATTRIBUTES,
    RESERVATION-TOKEN). FINGERPRINT is optional in STUN and TURN (RFC 8489 §14.7): answer
    with one when the request had one, as coturn does.
    """
    body = b""
    for name, value in attributes.items():
        attr_type, _, attr_pack, _ = stun.ATTRIBUTES_BY_NAME[name]
        if attr_pack is stun.pack_xor_address:
            packed = attr_pack(value, transaction_id)
        else:
            packed = attr_pack(value)
        body += encode_attribute(attr_type, packed)
    for attr_type, value in raw_attributes or []:
        body += encode_attribute(attr_type, value)
    data = struct.pack("!HHI12s", message_type, len(body), stun.COOKIE, transaction_id) + body
    if key is not None:
        data = _append(data, MESSAGE_INTEGRITY, stun.message_integrity(data, key))
    if not fingerprint:
        return data
    return _append(data, FINGERPRINT, struct.pack("!I", stun.message_fingerprint(data)))


def has_fingerprint(raw: list[RawAttribute]) -> bool:
    """Whether a request carried FINGERPRINT (then its answer carries one too)."""
    return any(attr_type == FINGERPRINT for attr_type, _ in raw)


def unknown_attributes_attribute(types: list[int]) -> RawAttribute:
    """Return UNKNOWN-ATTRIBUTES listing ``types`` (for a 420)."""
    return UNKNOWN_ATTRIBUTES, b"".join(struct.pack("!H", t) for t in types)


def error_attributes(code: int, reason: bool = True) -> dict[str, Any]:
    """Return the ERROR-CODE attribute for ``code``, with its RFC reason phrase or none.

    The phrase is for humans and may be empty (RFC 8489 §14.8): unauthenticated answers go
    without it, since each of their bytes can be aimed at a victim from a forged source.
    """
    return {"ERROR-CODE": (code, ERROR_REASONS[code] if reason else "")}


_unpack_stun_start = struct.Struct("!HHI").unpack_from
_unpack_two_shorts = struct.Struct("!HH").unpack_from


def parse_send_indication(data: Buffer) -> tuple[tuple[str, int], Buffer]:
    """Return ``(peer, payload)`` of a Send indication without building a ``Message``.

    ``data`` may be a view of the receive buffer; the payload is then a view too (no copy).
    """
    end = len(data)
    if end < stun.HEADER_LENGTH:
        raise ValueError("not a STUN message")
    _, length, cookie = _unpack_stun_start(data)
    if cookie != stun.COOKIE:
        raise ValueError("not a STUN message")
    if end != stun.HEADER_LENGTH + length:
        raise ValueError("STUN message length does not match")
    peer = None
    payload = None
    pos = stun.HEADER_LENGTH
    while pos + 4 <= end:
        attr_type, attr_len = _unpack_two_shorts(data, pos)
        value_end = pos + 4 + attr_len
        if value_end > end:
            raise ValueError("STUN attribute overruns the message")
        if attr_type == DATA:
            payload = data[pos + 4 : value_end]
        elif attr_type == XOR_PEER_ADDRESS:
            peer = _unpack_xor_peer(bytes(data[pos + 4 : value_end]), data)
        elif attr_type < 0x8000 and attr_type not in UNDERSTOOD_ATTRIBUTES:
            raise ValueError("unknown comprehension-required attribute")
        pos = value_end + (-attr_len & 3)
    if peer is None or payload is None:
        raise ValueError("Send indication without XOR-PEER-ADDRESS or DATA")
    return peer, payload


def _unpack_xor_peer(value: bytes, message: Buffer) -> tuple[str, int]:
    if len(value) == 8 and value[1] == FAMILY_IPV4:
        return _unpack_xor_ipv4(value)
    return stun.unpack_xor_address(value, bytes(message[8:20]))


@functools.lru_cache(maxsize=4096)
def _unpack_xor_ipv4(value: bytes) -> tuple[str, int]:
    """The peer of an IPv4 XOR-PEER-ADDRESS (cached: a client sends to few peers, often)."""
    port = ((value[2] << 8) | value[3]) ^ 0x2112
    address = (int.from_bytes(value[4:8], "big") ^ stun.COOKIE).to_bytes(4, "big")
    return socket.inet_ntoa(address), port


@functools.lru_cache(maxsize=4096)
def xor_peer_attribute(peer: tuple[str, int]) -> bytes:
    """Return the XOR-PEER-ADDRESS attribute of an IPv4 peer (independent of the id)."""
    address = int.from_bytes(socket.inet_aton(peer[0]), "big") ^ stun.COOKIE
    return struct.pack("!HHBBHI", XOR_PEER_ADDRESS, 8, 0, FAMILY_IPV4, peer[1] ^ 0x2112, address)


# A Data indication's bytes before its payload: STUN header, XOR-PEER-ADDRESS (IPv4), DATA's
# attribute header.
DATA_INDICATION_HEADER_BYTES = 36
_pack_stun_start = struct.Struct("!HHI").pack_into
_pack_two_shorts = struct.Struct("!HH").pack_into
_PADDING = (b"", b"\0", b"\0\0", b"\0\0\0")


def write_data_indication(buffer: bytearray, peer: tuple[str, int], size: int) -> int:
    """Turn ``buffer[36 : 36 + size]`` into a Data indication in place; return its length.

    Unsigned, no fingerprint (RFC 8656 section 11.3). The buffer needs 3 spare bytes after the
    payload for the padding.
    """
    padding = -size & 3
    _pack_stun_start(buffer, 0, DATA_INDICATION, 16 + size + padding, stun.COOKIE)
    # An indication starts no transaction: its id need not be secret, and os.urandom would
    # cost a system call per relayed packet.
    buffer[8:20] = random.randbytes(12)
    buffer[20:32] = xor_peer_attribute(peer)
    _pack_two_shorts(buffer, 32, DATA, size)
    return write_padding(buffer, DATA_INDICATION_HEADER_BYTES + size)


def write_padding(buffer: bytearray, end: int) -> int:
    """Zero the bytes that pad ``buffer[:end]`` to a multiple of 4; return the padded end."""
    padding = -end & 3
    buffer[end : end + padding] = _PADDING[padding]
    return end + padding


def encode_data_indication(peer: tuple[str, int], payload: bytes) -> bytes:
    """Build a Data indication as new bytes (the relay writes them in place instead)."""
    buffer = bytearray(DATA_INDICATION_HEADER_BYTES + len(payload) + 3)
    buffer[DATA_INDICATION_HEADER_BYTES : DATA_INDICATION_HEADER_BYTES + len(payload)] = payload
    return bytes(buffer[: write_data_indication(buffer, peer, len(payload))])


# ``channel_data_header(channel, size)``: the 4-byte ChannelData header; ``write_channel_data_
# header(buffer, offset, channel, size)`` writes it in place, on every relayed packet.
channel_data_header = struct.Struct("!HH").pack
write_channel_data_header = _pack_two_shorts


def stream_frame_length(buffer: bytes, pos: int) -> int:
    """Length on a TCP stream of the frame at ``pos`` (4 bytes there), ChannelData padded.

    Raises ``ValueError`` on bytes that are neither STUN nor ChannelData.
    """
    length = (buffer[pos + 2] << 8) | buffer[pos + 3]
    kind = buffer[pos] & 0xC0
    if kind == 0x40:
        return 4 + length + (-length & 3)
    if kind == 0 and not length & 3:
        return stun.HEADER_LENGTH + length
    raise ValueError("neither STUN nor ChannelData (or a STUN length not a multiple of 4)")


def split_stream(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Cut a TCP byte stream into whole STUN messages and ChannelData (padded to 4 bytes).

    Returns the complete frames and the unconsumed rest; raises ``ValueError`` on bytes that
    can be neither, after which the connection cannot be resynchronised.
    """
    frames = []
    pos = 0
    size = len(buffer)
    while size - pos >= 4:
        full = stream_frame_length(buffer, pos)
        if size - pos < full:
            break
        frames.append(buffer[pos : pos + full])
        pos += full
    return frames, buffer[pos:]
