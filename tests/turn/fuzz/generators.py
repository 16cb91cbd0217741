"""Inputs: attribute values, signed requests, mutations, ChannelData and junk."""

from __future__ import annotations

import struct

from aioice import stun

from praatbox.turn import codec
from tests.turn.fuzz.fakes import Client, Pending
from tests.turn.fuzz.wire import (
    ADDITIONAL_ADDRESS_FAMILY,
    ALLOCATE,
    ALTERNATE_DOMAIN,
    ALTERNATE_SERVER,
    BAD_CHANNELS,
    BINDING,
    CHANGE_REQUEST,
    CHANNEL_BIND,
    CHANNEL_NUMBER,
    CHANNELS,
    CONNECTION_ID,
    CREATE_PERMISSION,
    DATA,
    DATA_METHOD,
    DONT_FRAGMENT,
    ERROR,
    ERROR_CODE,
    EVEN_PORT,
    FINGERPRINT,
    ICE_CONTROLLED,
    ICMP,
    INDICATION,
    LIFETIME,
    LIFETIMES,
    MAPPED_ADDRESS,
    MESSAGE_INTEGRITY,
    MESSAGE_INTEGRITY_SHA256,
    NONCE,
    PASSWORD_ALGORITHM,
    PEER_IPS,
    PEER_PORTS,
    PRIORITY,
    REALM,
    REALM_ATTR,
    REFRESH,
    REQUEST,
    REQUESTED_ADDRESS_FAMILY,
    REQUESTED_TRANSPORT,
    RESERVATION_TOKEN,
    RESPONSE_ORIGIN,
    SEND,
    SOFTWARE,
    SUCCESS,
    UNKNOWN_ATTRIBUTES,
    USE_CANDIDATE,
    USERHASH,
    USERNAME,
    XOR_MAPPED_ADDRESS,
    XOR_PEER_ADDRESS,
    XOR_RELAYED_ADDRESS,
    Address,
    append_fingerprint,
    append_integrity,
    loose_attributes,
    message_type,
    set_length,
    tlv,
)


class Generators:
    """Draws inputs from the fuzzer's seeded random source (mixed into ``Fuzzer``)."""

    def random_bytes(self, low: int, high: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(low, high))

    def corrupt(self, value: bytes) -> bytes:
        rng = self.rng
        choice = rng.randrange(7)
        if choice == 0 and value:
            return value[: rng.randrange(len(value))]
        if choice == 1:
            return value + self.random_bytes(1, 8)
        if choice == 2:
            return rng.randbytes(len(value))
        if choice == 3:
            return b""
        if choice == 4:
            return self.random_bytes(100, 1200)
        if choice == 5 and value:
            i = rng.randrange(len(value))
            return value[:i] + bytes([value[i] ^ (1 << rng.randrange(8))]) + value[i + 1:]
        return self.random_bytes(0, 24)

    def pick_peer(self, client: Client) -> Address:
        rng = self.rng
        r = rng.random()
        allocation = self.table.get(client.key)
        if r < 0.3 and allocation is not None and (allocation.permissions or allocation.channels):
            if allocation.channels and rng.random() < 0.5:
                return rng.choice(list(allocation.channels.values())).peer
            return (rng.choice(list(allocation.permissions)), rng.choice(PEER_PORTS))
        if r < 0.55:
            return rng.choice(self.peer_addresses)
        if r < 0.62 and self.relay_addresses:
            return rng.choice(self.relay_addresses)
        ip = rng.choice(PEER_IPS)
        port = rng.choice(PEER_PORTS) if rng.random() < 0.7 else rng.randrange(65536)
        return (ip, port)

    def peer_value(self, peer: Address, txid: bytes) -> bytes:
        rng = self.rng
        r = rng.random()
        value = stun.pack_xor_address(peer, txid)
        if r < 0.9:
            return value
        if r < 0.93:
            return value[:1] + bytes([rng.choice([0, 3, 255])]) + value[2:]  # bad family
        if r < 0.95:
            return value[:1] + bytes([value[1] ^ 3]) + value[2:]  # the other family's length
        if r < 0.97:
            return stun.pack_address(peer)  # not XOR-ed
        return self.corrupt(value)

    def peer_attribute(self, client: Client, txid: bytes) -> bytes:
        return tlv(XOR_PEER_ADDRESS, self.peer_value(self.pick_peer(client), txid))

    def channel_value(self, client: Client) -> bytes:
        rng = self.rng
        allocation = self.table.get(client.key)
        r = rng.random()
        if r < 0.3 and allocation is not None and allocation.channels:
            number = rng.choice(list(allocation.channels))
        elif r < 0.85:
            number = rng.choice(CHANNELS) if rng.random() < 0.7 else rng.randint(0x4000, 0x7FFF)
        else:
            number = rng.choice(BAD_CHANNELS) if rng.random() < 0.7 else rng.randrange(65536)
        value = struct.pack("!HH", number, 0 if rng.random() < 0.95 else rng.randrange(65536))
        r = rng.random()
        if r < 0.03:
            return value[:2]  # aioice reads the first two bytes only
        if r < 0.06:
            return self.corrupt(value)
        return value

    def u32(self, value: int) -> bytes:
        return struct.pack("!I", value & 0xFFFFFFFF)

    def family_value(self) -> bytes:
        rng = self.rng
        value = bytes([rng.choice([1, 1, 2, 0, 3, rng.randrange(256)]), 0, 0, 0])
        return value if rng.random() < 0.9 else self.corrupt(value)

    def extra_attribute(self, client: Client, txid: bytes) -> bytes:
        """One attribute drawn from the TURN types, valid or not."""
        rng = self.rng
        kind = rng.randrange(22)
        if kind == 0:
            return tlv(REQUESTED_TRANSPORT, self.transport_value())
        if kind == 1:
            return tlv(LIFETIME, self.lifetime_value())
        if kind in (2, 3):
            return tlv(XOR_PEER_ADDRESS, self.peer_value(self.pick_peer(client), txid))
        if kind == 4:
            return tlv(CHANNEL_NUMBER, self.channel_value(client))
        if kind == 5:
            return tlv(DATA, self.random_bytes(0, 64))
        if kind == 6:
            return tlv(DONT_FRAGMENT, b"" if rng.random() < 0.8 else self.random_bytes(1, 4))
        if kind == 7:
            return tlv(EVEN_PORT, self.even_port_value())
        if kind == 8:
            return tlv(RESERVATION_TOKEN, self.token_value())
        if kind == 9:
            return tlv(REQUESTED_ADDRESS_FAMILY, self.family_value())
        if kind == 10:
            return tlv(ADDITIONAL_ADDRESS_FAMILY, self.family_value())
        if kind == 11:  # random comprehension-required type
            return tlv(rng.randrange(0x0000, 0x8000), self.random_bytes(0, 12))
        if kind == 12:  # random comprehension-optional type
            return tlv(rng.randrange(0x8000, 0x10000), self.random_bytes(0, 12))
        if kind == 13:  # types aioice parses, with random values
            attr_type = rng.choice([MAPPED_ADDRESS, CHANGE_REQUEST, ERROR_CODE, PRIORITY,
                                    USE_CANDIDATE, XOR_MAPPED_ADDRESS, XOR_RELAYED_ADDRESS,
                                    SOFTWARE, ICE_CONTROLLED, RESPONSE_ORIGIN])
            return tlv(attr_type, self.random_bytes(0, 24))
        if kind == 14:  # known to RFC 8489/8656, not understood here
            attr_type = rng.choice([MESSAGE_INTEGRITY_SHA256, PASSWORD_ALGORITHM, USERHASH,
                                    CONNECTION_ID, UNKNOWN_ATTRIBUTES, ALTERNATE_DOMAIN, ICMP,
                                    ALTERNATE_SERVER])
            return tlv(attr_type, self.random_bytes(0, 32))
        if kind == 15:
            return tlv(FINGERPRINT, self.random_bytes(4, 4))  # in the middle: wrong
        if kind == 16:  # a length-field lie
            value = self.random_bytes(0, 12)
            return tlv(rng.choice([LIFETIME, XOR_PEER_ADDRESS, DATA, USERNAME, 0x8055]), value,
                       declared=rng.randrange(65536))
        if kind == 17:
            return tlv(rng.choice([USERNAME, REALM_ATTR, NONCE]), self.random_bytes(0, 40))
        if kind == 18:
            return tlv(MESSAGE_INTEGRITY, self.random_bytes(0, 24))  # too early
        if kind == 19:
            return tlv(DATA, self.random_bytes(1000, 9000))
        if kind == 20:
            return tlv(XOR_PEER_ADDRESS, self.peer_value(self.pick_peer(client), txid))
        return tlv(CHANNEL_NUMBER, self.channel_value(client))

    def transport_value(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.85:
            return self.u32(codec.UDP_PROTOCOL << 24)
        if r < 0.9:
            return self.u32(6 << 24)  # TCP: 442
        if r < 0.93:
            return self.u32(codec.UDP_PROTOCOL << 24 | rng.randrange(1 << 24))  # RFFU set
        if r < 0.96:
            return self.u32(rng.randrange(1 << 32))
        return self.corrupt(self.u32(codec.UDP_PROTOCOL << 24))

    def lifetime_value(self) -> bytes:
        rng = self.rng
        value = rng.choice(LIFETIMES) if rng.random() < 0.8 else rng.randrange(1 << 32)
        return self.u32(value) if rng.random() < 0.95 else self.corrupt(self.u32(value))

    def even_port_value(self) -> bytes:
        rng = self.rng
        value = bytes([rng.choice([0x80, 0x00, rng.randrange(256)])])
        return value if rng.random() < 0.9 else self.corrupt(value)

    def token_value(self) -> bytes:
        rng = self.rng
        if self.tokens and rng.random() < 0.6:
            value = rng.choice(self.tokens)
        else:
            value = rng.randbytes(8)
        return value if rng.random() < 0.92 else self.corrupt(value)

    def method_attributes(self, method: int, client: Client, txid: bytes) -> list[bytes]:
        """The attributes a client would send for this method (each may be left out)."""
        rng = self.rng
        attributes: list[bytes] = []
        if method == ALLOCATE:
            if rng.random() < 0.95:
                attributes.append(tlv(REQUESTED_TRANSPORT, self.transport_value()))
            if rng.random() < 0.3:
                attributes.append(tlv(LIFETIME, self.lifetime_value()))
            if rng.random() < 0.2:
                attributes.append(tlv(DONT_FRAGMENT, b""))
            r = rng.random()
            if r < 0.15:
                attributes.append(tlv(EVEN_PORT, self.even_port_value()))
            elif r < 0.27:
                attributes.append(tlv(RESERVATION_TOKEN, self.token_value()))
            if rng.random() < 0.08:
                attributes.append(tlv(REQUESTED_ADDRESS_FAMILY, self.family_value()))
            if rng.random() < 0.04:
                attributes.append(tlv(ADDITIONAL_ADDRESS_FAMILY, self.family_value()))
        elif method == REFRESH:
            if rng.random() < 0.7:
                attributes.append(tlv(LIFETIME, self.lifetime_value()))
            if rng.random() < 0.05:
                attributes.append(tlv(REQUESTED_ADDRESS_FAMILY, self.family_value()))
        elif method == CREATE_PERMISSION:
            for _ in range(rng.choice([0, 1, 1, 1, 1, 2, 3, 5])):
                attributes.append(self.peer_attribute(client, txid))
        elif method == CHANNEL_BIND:
            if rng.random() < 0.95:
                attributes.append(tlv(CHANNEL_NUMBER, self.channel_value(client)))
            for _ in range(rng.choice([0, 1, 1, 1, 1, 1, 1, 2])):
                attributes.append(self.peer_attribute(client, txid))
        elif method in (SEND, DATA_METHOD):
            if rng.random() < 0.95:
                attributes.append(tlv(XOR_PEER_ADDRESS,
                                      self.peer_value(self.pick_peer(client), txid)))
            if rng.random() < 0.95:
                attributes.append(tlv(DATA, self.random_bytes(0, 64)))
        return attributes

    def pick_method(self, client: Client) -> int:
        rng = self.rng
        r = rng.random()
        allocate = 0.08 if self.table.get(client.key) is not None else 0.45
        for method, share in ((ALLOCATE, allocate), (REFRESH, 0.10), (CREATE_PERMISSION, 0.22),
                              (CHANNEL_BIND, 0.22), (BINDING, 0.06), (SEND, 0.06),
                              (DATA_METHOD, 0.02), (0x002, 0.02)):
            if r < share:
                return method
            r -= share
        return rng.randrange(0x1000)

    def pick_class(self, method: int) -> int:
        rng = self.rng
        if method in (SEND, DATA_METHOD):
            return INDICATION if rng.random() < 0.9 else rng.choice([REQUEST, SUCCESS, ERROR])
        return REQUEST if rng.random() < 0.92 else rng.choice([INDICATION, SUCCESS, ERROR])

    def build_stun(self, client: Client, mutate: float) -> Pending:
        """A STUN message from this client, mutated with probability ``mutate``."""
        pending = self._build_stun(client)
        if self.rng.random() < mutate:
            pending.request = self.mutate(pending.request)
        return pending

    def _build_stun(self, client: Client) -> Pending:
        rng = self.rng
        if client.last_allocate is not None and rng.random() < 0.03:
            self.counts["gen_retransmission"] += 1
            data, key = client.last_allocate
            return Pending(client, data, key)
        method = self.pick_method(client)
        cls = self.pick_class(method)
        txid = rng.randbytes(12)
        pending = Pending(client)
        attributes = self.method_attributes(method, client, txid)
        for _ in range(rng.choice([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8])):
            attributes.insert(rng.randrange(len(attributes) + 1),
                              self.extra_attribute(client, txid))
        if attributes and rng.random() < 0.03:  # a duplicate, before signing
            attributes.append(rng.choice(attributes))
        if rng.random() < 0.01:
            rng.shuffle(attributes)
        header = struct.pack("!HHI12s", message_type(method, cls), 0, stun.COOKIE, txid)
        data = set_length(header + b"".join(attributes))
        if len(data) > 60000:
            data = set_length(header)
        ip = client.address[0]
        signed = method not in (BINDING, SEND, DATA_METHOD) or rng.random() < 0.05
        if signed and ip not in self.nonces and rng.random() < 0.7:
            signed = False  # ask for a challenge first, as a client does
        if signed and rng.random() < 0.03:
            signed = False
        if signed:
            data, key = self.sign(data, client)
            pending.key = key
        if rng.random() < 0.4:
            data = append_fingerprint(data)
        if method == ALLOCATE and cls == REQUEST and signed:
            client.last_allocate = (data, pending.key)
        pending.request = data
        return pending

    def sign(self, data: bytes, client: Client) -> tuple[bytes, bytes | None]:
        """Add USERNAME, REALM, NONCE and MESSAGE-INTEGRITY as a client would."""
        rng = self.rng
        credential = client.credential if rng.random() < 0.9 else self._pick_credential()
        key = credential.key
        username = credential.username.encode()
        if rng.random() < 0.01:
            username = rng.choice([b"\xff\xfe", b"\xed\xa0\x80:x", b"9" * 5000 + b":x",
                                   self.random_bytes(0, 20)])
        nonce = self.nonces.get(client.address[0])
        r = rng.random()
        if nonce is None or r < 0.02:
            nonce = rng.choice([self.random_bytes(0, 24), b"00000000" + b"0" * 16])
        elif r < 0.05 and self.nonces:
            nonce = rng.choice(list(self.nonces.values()))  # another address's nonce
        auth = [tlv(USERNAME, username), tlv(REALM_ATTR, REALM.encode()), tlv(NONCE, nonce)]
        if rng.random() < 0.03:
            del auth[rng.randrange(3)]
        if rng.random() < 0.01:
            auth[-1:] = [tlv(REALM_ATTR, b"other realm"), auth[-1]]
        data = set_length(data + b"".join(auth))
        r = rng.random()
        if r < 0.93:
            return append_integrity(data, key), key
        if r < 0.96:
            other = self._pick_credential()
            return append_integrity(data, other.key), None
        if r < 0.98:
            return set_length(data + tlv(MESSAGE_INTEGRITY, self.random_bytes(20, 20))), None
        return set_length(data + tlv(MESSAGE_INTEGRITY, self.random_bytes(0, 40))), None

    def mutate(self, data: bytes) -> bytes:
        """Damage a finished message: the server must still answer or drop it cleanly."""
        rng = self.rng
        choice = rng.randrange(11)
        self.counts["gen_mutated"] += 1
        if choice == 0:  # bit flips anywhere
            buffer = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
            return bytes(buffer)
        if choice == 1:  # a bit flip in the header
            buffer = bytearray(data)
            buffer[rng.randrange(stun.HEADER_LENGTH)] ^= 1 << rng.randrange(8)
            return bytes(buffer)
        if choice == 2:
            return data[: rng.randrange(len(data))]
        if choice == 3:
            return data + self.random_bytes(1, 8)
        if choice == 4:  # attributes after MESSAGE-INTEGRITY, length fixed: not authenticated
            extra = b"".join(tlv(t, v) for t, v in rng.choice([
                [(XOR_PEER_ADDRESS, stun.pack_xor_address(self.rng.choice(self.peer_addresses),
                                                          data[8:20]))],
                [(rng.randrange(0x8000), self.random_bytes(0, 8))],
                [(LIFETIME, self.u32(0))],
                [(EVEN_PORT, b"\x80")],
                [(REQUESTED_ADDRESS_FAMILY, b"\x02\x00\x00\x00")],
                [(RESERVATION_TOKEN, self.random_bytes(7, 9))],
            ]))
            data = set_length(data + extra)
            return append_fingerprint(data) if rng.random() < 0.5 else data
        if choice == 5:  # the header's length lies
            lie = rng.choice([0, len(data), len(data) - 24, rng.randrange(65536)])
            return set_length(data, lie)
        attributes = loose_attributes(data)
        if not attributes:
            return data[:stun.HEADER_LENGTH] + self.random_bytes(0, 40)
        pos, size = rng.choice(attributes)
        if choice == 6:  # an attribute's length lies
            lie = rng.choice([0, 1, 3, size, size + 4, rng.randrange(65536)])
            return data[: pos + 2] + struct.pack("!H", lie) + data[pos + 4:]
        if choice == 7:  # a duplicated attribute, header length fixed
            return set_length(data[: pos + size] + data[pos: pos + size] + data[pos + size:])
        if choice == 8:  # an attribute removed
            return set_length(data[:pos] + data[pos + size:])
        if choice == 9:  # another transaction id
            return data[:8] + rng.randbytes(12) + data[20:]
        return data[:4] + rng.randbytes(4) + data[8:]  # the cookie

    def channel_data(self, client: Client, padded: bool) -> bytes:
        rng = self.rng
        allocation = self.table.get(client.key)
        if allocation is not None and allocation.channels and rng.random() < 0.7:
            number = rng.choice(list(allocation.channels))
        else:
            number = rng.randint(0x4000, 0x7FFF) if rng.random() < 0.8 else rng.choice(CHANNELS)
        payload = self.random_bytes(0, 120) if rng.random() < 0.995 else self.random_bytes(0, 1500)
        declared = len(payload)
        r = rng.random()
        if r < 0.05:
            declared = rng.randrange(65536)
        elif r < 0.08:
            declared = max(0, len(payload) - rng.randint(1, 4))
        frame = struct.pack("!HH", number, declared) + payload
        if padded:
            frame += bytes(-len(frame) % 4)
        return frame

    def junk(self) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return self.random_bytes(0, 64)
        if r < 0.5:  # a STUN header with random attributes
            header = struct.pack("!HHI12s", rng.randrange(0x4000), 0, stun.COOKIE,
                                 rng.randbytes(12))
            body = b"".join(tlv(rng.randrange(65536), self.random_bytes(0, 16))
                            for _ in range(rng.randrange(5)))
            return set_length(header + body)
        if r < 0.7:  # a header and random body of the right length
            body = self.random_bytes(0, 16) * 4
            return struct.pack("!HHI12s", rng.randrange(0x4000), len(body), stun.COOKIE,
                               rng.randbytes(12)) + body
        if r < 0.85:
            return self.random_bytes(1, 3)
        return codec.SEND_INDICATION_BYTES + self.random_bytes(0, 40)
