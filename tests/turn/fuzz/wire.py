"""STUN/TURN wire constants and message helpers the fuzzer builds its inputs from."""

from __future__ import annotations

import ipaddress
import struct

from aioice import stun

Address = tuple[str, int]

SECRET = "fuzz-secret"
OLD_SECRET = "fuzz-old-secret"
REALM = "praatbox"
STATIC_USER, STATIC_PASSWORD = "static", "static-password"
MONOTONIC_START = 100_000.0
WALL_START = 1_700_000_000.0
RELAY_PORTS = (20000, 29999)
PEER_PORTS_FROM = 31000  # the peer sockets' ports: fixed, so that a seed replays exactly
TOTAL_QUOTA = 6
USER_QUOTA = 3
INVARIANT_INTERVAL = 1000
MAX_REPORTED_FAILURES = 10
UDP_MAX_PAYLOAD = 65507

# Message classes (already in their bit positions) and methods.
REQUEST, INDICATION, SUCCESS, ERROR = 0x000, 0x010, 0x100, 0x110
BINDING, ALLOCATE, REFRESH, SEND, DATA_METHOD = 0x001, 0x003, 0x004, 0x006, 0x007
CREATE_PERMISSION, CHANNEL_BIND = 0x008, 0x009

# Attribute types.
MAPPED_ADDRESS = 0x0001
CHANGE_REQUEST = 0x0003
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA = 0x0013
REALM_ATTR = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
MESSAGE_INTEGRITY_SHA256 = 0x001C
PASSWORD_ALGORITHM = 0x001D
USERHASH = 0x001E
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
PRIORITY = 0x0024
USE_CANDIDATE = 0x0025
CONNECTION_ID = 0x002A
ADDITIONAL_ADDRESS_FAMILY = 0x8000
ALTERNATE_DOMAIN = 0x8003
ICMP = 0x8004
SOFTWARE = 0x8022
ALTERNATE_SERVER = 0x8023
FINGERPRINT = 0x8028
ICE_CONTROLLED = 0x8029
RESPONSE_ORIGIN = 0x802B

PEER_IPS = [
    # allowed by the test configuration (127.0.0.0/8) or public
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "198.51.100.7", "203.0.113.9", "8.8.8.8",
    # refused by default
    "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "255.255.255.255", "224.0.0.1", "192.0.0.8", "198.18.0.1",
    # IPv6: refused, or mapped/compatible/6to4/NAT64 forms of IPv4, or allowed but IPv6 (443)
    "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:198.51.100.7", "::127.0.0.1",
    "::2", "2002:7f00:1::1", "2002:c633:6407::1", "64:ff9b::7f00:1", "64:ff9b::a00:1",
    "64:ff9b:1::7f00:1", "fe80::1", "fc00::1", "fd00::1", "ff02::1", "2001:db8::1",
    "2606:4700::1111",
]
PEER_PORTS = [0, 1, 9, 53, 3478, RELAY_PORTS[0], RELAY_PORTS[0] + 1, RELAY_PORTS[1], 65535]
CHANNELS = [0x4000, 0x4001, 0x4002, 0x4FFF, 0x5000, 0x7FFE, 0x7FFF]
BAD_CHANNELS = [0x0000, 0x3FFF, 0x8000, 0xBFFF, 0xFFFF]
LIFETIMES = [0, 0, 1, 599, 600, 601, 3600, 3601, 0xFFFFFFFF]


def message_type(method: int, cls: int) -> int:
    """The 14-bit STUN message type: method bits with the two class bits interleaved."""
    return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | cls


def tlv(attr_type: int, value: bytes, declared: int | None = None) -> bytes:
    """One attribute, padded to 4 bytes; ``declared`` lies about the length."""
    length = len(value) if declared is None else declared
    return struct.pack("!HH", attr_type, length) + value + bytes(-len(value) % 4)


def set_length(data: bytes, length: int | None = None) -> bytes:
    """Fix (or set) the header's length field."""
    if length is None:
        length = len(data) - stun.HEADER_LENGTH
    return data[:2] + struct.pack("!H", length & 0xFFFF) + data[4:]


def append_integrity(data: bytes, key: bytes) -> bytes:
    return set_length(data + tlv(MESSAGE_INTEGRITY, stun.message_integrity(data, key)))


def append_fingerprint(data: bytes) -> bytes:
    fingerprint = stun.message_fingerprint(data)
    return set_length(data + tlv(FINGERPRINT, struct.pack("!I", fingerprint)))


def loose_attributes(data: bytes) -> list[tuple[int, int]]:
    """``(offset, total size)`` of the attributes that fit, for mutations."""
    found = []
    pos = stun.HEADER_LENGTH
    while pos + 4 <= len(data):
        length = struct.unpack_from("!H", data, pos + 2)[0]
        size = 4 + length + (-length % 4)
        if pos + size > len(data):
            break
        found.append((pos, size))
        pos += size
    return found


def authenticated_peers(data: bytes) -> list[Address]:
    """The XOR-PEER-ADDRESS values before MESSAGE-INTEGRITY, decoded as the server should."""
    peers = []
    for pos, _ in loose_attributes(data):
        attr_type, length = struct.unpack_from("!HH", data, pos)
        if attr_type == MESSAGE_INTEGRITY:
            break
        if attr_type == XOR_PEER_ADDRESS:
            try:
                peers.append(stun.unpack_xor_address(data[pos + 4: pos + 4 + length], data[8:20]))
            except ValueError:
                pass
    return peers


def same_ip(a: str, b: str) -> bool:
    """Compare addresses as packed bytes (a scope id does not survive the wire)."""
    return ipaddress.ip_address(a.split("%")[0]).packed == ipaddress.ip_address(b).packed
