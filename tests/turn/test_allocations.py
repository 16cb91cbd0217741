"""Allocation state and request handling with injected time and fake relay sockets."""

import os
import random
import struct
from dataclasses import replace

import pytest
from aioice import stun
from aioice.turn import make_integrity_key

from praatbox.turn import codec
from praatbox.turn.allocations import (
    MAX_PERMISSIONS_PER_ALLOCATION,
    Allocation,
    AllocationTable,
    CapacityError,
    ChannelConflict,
)
from praatbox.turn.handlers import RequestHandler
from praatbox.turn.peers import PeerPolicy

CLIENT = ("203.0.113.5", 50000)
PEER = ("198.51.100.7", 40000)
WALL_NOW = 1_800_000_000.0


class FakeRelay:
    """Stands in for a relay socket: records what the handler asks of it."""

    next_port = 30000

    def __init__(self) -> None:
        FakeRelay.next_port += 1
        self.address = ("192.0.2.10", FakeRelay.next_port)
        self.started = False
        self.closed = False

    def start(self, allocation: Allocation) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True


def open_fake_relay(even: bool, pair: bool) -> list[FakeRelay]:
    return [FakeRelay(), FakeRelay()] if pair else [FakeRelay()]


def make_allocation(table: AllocationTable, client=CLIENT, user="alice", now=0.0) -> Allocation:
    allocation = Allocation(
        client=client, client_address=client, username=user, user=user, key=b"k",
        relay=FakeRelay(), relay_address=("192.0.2.10", 1), expires_at=now + 600,
    )
    table.add(allocation)
    return allocation


# --- the table -----------------------------------------------------------------------------


def test_sweep_expires_permissions_channels_and_allocations_on_their_own_clocks():
    table = AllocationTable(user_quota=10, total_quota=100)
    allocation = make_allocation(table)
    table.permit(allocation, ["198.51.100.1"], 300, now=0)
    table.bind_channel(allocation, 0x4000, PEER, 600, now=0)
    table.sweep(299)
    assert "198.51.100.1" in allocation.permissions
    table.sweep(300)
    assert "198.51.100.1" not in allocation.permissions
    assert PEER[0] in allocation.permissions  # the channel keeps its peer's permission
    assert table.routes[(CLIENT, 0x4000)] == (allocation, PEER)
    assert table.sweep(600) == [allocation]
    assert len(table) == 0 and not table.routes


def test_channel_refresh_extends_channel_and_permission():
    table = AllocationTable(10, 100)
    allocation = make_allocation(table, now=0)
    table.bind_channel(allocation, 0x4000, PEER, 600, now=0)
    table.refresh(allocation, 600, now=500)
    table.bind_channel(allocation, 0x4000, PEER, 600, now=500)
    table.sweep(700)
    assert allocation.channels[0x4000].expires_at == 1100
    assert allocation.permissions[PEER[0]] == 1100


def test_channel_numbers_and_peers_are_bound_one_to_one():
    table = AllocationTable(10, 100)
    allocation = make_allocation(table)
    table.bind_channel(allocation, 0x4000, PEER, 600, now=0)
    with pytest.raises(ChannelConflict):
        table.bind_channel(allocation, 0x4000, ("198.51.100.8", 1), 600, now=0)
    with pytest.raises(ChannelConflict):
        table.bind_channel(allocation, 0x4001, PEER, 600, now=0)


def test_permissions_are_bounded_per_allocation():
    table = AllocationTable(10, 100)
    allocation = make_allocation(table)
    ips = [f"198.51.{i // 256}.{i % 256}" for i in range(MAX_PERMISSIONS_PER_ALLOCATION)]
    table.permit(allocation, ips, 300, now=0)
    with pytest.raises(CapacityError):
        table.permit(allocation, ["203.0.113.200"], 300, now=0)
    table.permit(allocation, ips[:3], 300, now=10)  # refreshing existing ones still works


def test_quota_counts_per_user_and_in_total():
    table = AllocationTable(user_quota=2, total_quota=3)
    first = make_allocation(table, client=("203.0.113.5", 1), user="alice")
    make_allocation(table, client=("203.0.113.5", 2), user="alice")
    assert table.quota_error("alice", "203.0.113.5") == 486
    make_allocation(table, client=("203.0.113.5", 3), user="bob")
    assert table.quota_error("carol", "203.0.113.5") == 508
    table.remove(first)
    assert table.quota_error("alice", "203.0.113.5") is None


def test_quota_counts_per_source_address_whatever_the_user():
    table = AllocationTable(user_quota=10, total_quota=100, address_quota=2)
    first = make_allocation(table, client=("203.0.113.5", 1), user="alice")
    make_allocation(table, client=("203.0.113.5", 2), user="bob")
    assert table.quota_error("carol", "203.0.113.5") == 486
    assert table.quota_error("carol", "203.0.113.6") is None
    table.remove(first)
    assert table.quota_error("carol", "203.0.113.5") is None


def test_live_relay_ports_are_those_of_allocations_in_the_table():
    table = AllocationTable(10, 100)
    allocation = make_allocation(table)
    assert table.relay_ports == {allocation.relay_address[1]}
    table.remove(allocation)
    assert table.relay_ports == set()


def test_sweep_unbinds_channels_to_peers_no_longer_allowed():
    table = AllocationTable(10, 100)
    allocation = make_allocation(table)
    table.bind_channel(allocation, 0x4000, ("192.0.2.10", 50000), 600, now=0)
    table.sweep(1, peer_allowed=lambda peer: peer[1] != 50000)
    assert allocation.channels == {} and table.routes == {}


def test_reserved_ports_are_bounded_and_expire():
    table = AllocationTable(user_quota=10, total_quota=1)
    relay = FakeRelay()
    table.reserve(b"token-01", relay, expires_at=30)
    assert not table.can_reserve()
    assert table.expired_reservations(29) == []
    assert table.expired_reservations(30) == [relay]
    assert table.can_reserve() and table.take_reservation(b"token-01") is None


# --- the request handler -------------------------------------------------------------------


class Client:
    """Drives a RequestHandler the way a UDP client would, with the clock in the test's hand."""

    def __init__(self, handler: RequestHandler, credentials: tuple[str, str],
                 address=CLIENT) -> None:
        self.handler = handler
        self.username, password = credentials
        self.key = make_integrity_key(self.username, handler.auth.realm, password)
        self.address = address
        self.now = 0.0
        self.nonce = handler.auth.make_nonce(self.now, address[0])
        self.last_response = b""

    def send(self, data: bytes) -> stun.Message:
        response = self.handler.handle(data, self.address, self.address, self.now, WALL_NOW)
        assert response is not None
        self.last_response = response
        return stun.parse_message(response)

    def request(self, method: stun.Method, attributes: dict | None = None,
                extra: list[tuple[int, bytes]] | None = None,
                transaction_id: bytes | None = None) -> stun.Message:
        attrs = dict(attributes or {})
        attrs.update({"USERNAME": self.username, "REALM": self.handler.auth.realm,
                      "NONCE": self.nonce})
        message = stun.Message(method, stun.Class.REQUEST, transaction_id, attrs)
        data = bytes(message)
        for attr_type, value in extra or []:
            attribute = struct.pack("!HH", attr_type, len(value)) + value
            attribute += bytes(-len(value) & 3)
            data = stun.set_body_length(data + attribute, len(data) - 20 + len(attribute))
        integrity = stun.message_integrity(data, self.key)
        data = stun.set_body_length(data, len(data) - 20 + 24) + b"\x00\x08\x00\x14" + integrity
        return self.send(data)

    def allocate(self, **attributes) -> stun.Message:
        attributes.setdefault("REQUESTED-TRANSPORT", codec.UDP_PROTOCOL << 24)
        return self.request(stun.Method.ALLOCATE, attributes)


@pytest.fixture
def handler(turn_config) -> RequestHandler:
    config = replace(turn_config, listen=("192.0.2.10", 3478), relay_ip="192.0.2.10",
                     allowed_peers=[])
    table = AllocationTable(config.user_quota, config.total_quota)
    policy = PeerPolicy([], [], ["192.0.2.10"], table.relay_ports)
    return RequestHandler(config, table, policy, open_fake_relay)


@pytest.fixture
def fresh(issue_credentials):
    """Credentials valid at WALL_NOW: ``fresh()`` or ``fresh("bob")``."""
    return lambda user="alice": issue_credentials(user, now=WALL_NOW)


@pytest.fixture
def client(handler, fresh) -> Client:
    return Client(handler, fresh())


def test_allocate_answers_with_relay_lifetime_and_mapped_address_signed(client):
    response = client.allocate(LIFETIME=1200)
    assert response.message_class == stun.Class.RESPONSE
    assert response.check_message_integrity(client.key)
    assert response.attributes["XOR-MAPPED-ADDRESS"] == CLIENT
    assert response.attributes["LIFETIME"] == 1200
    assert response.attributes["XOR-RELAYED-ADDRESS"][0] == "192.0.2.10"


@pytest.mark.parametrize("requested, granted", [(None, 600), (30, 600), (99999, 3600)])
def test_allocation_lifetime_is_clamped_as_coturn_does(client, requested, granted):
    attributes = {} if requested is None else {"LIFETIME": requested}
    assert client.allocate(**attributes).attributes["LIFETIME"] == granted


def test_allocate_retransmission_gets_the_same_answer_and_no_second_relay(client, handler):
    txid = os.urandom(12)
    attributes = {"REQUESTED-TRANSPORT": codec.UDP_PROTOCOL << 24}
    first = client.request(stun.Method.ALLOCATE, attributes, transaction_id=txid)
    again = client.request(stun.Method.ALLOCATE, attributes, transaction_id=txid)
    assert again.attributes == first.attributes
    assert len(handler.table) == 1
    other = client.request(stun.Method.ALLOCATE, attributes)
    assert other.error_code == 437


def test_allocate_accepts_dont_fragment_and_refuses_tcp_and_ipv6(client):
    tcp = client.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 6 << 24})
    assert tcp.error_code == 442
    ipv6 = client.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24},
                          extra=[(codec.REQUESTED_ADDRESS_FAMILY, b"\x02\x00\x00\x00")])
    assert ipv6.error_code == 440
    ok = client.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24},
                        extra=[(codec.DONT_FRAGMENT, b"")])
    assert ok.message_class == stun.Class.RESPONSE


def test_even_port_with_reservation_hands_out_a_token_for_the_next_port(handler, fresh):
    first = Client(handler, fresh(), address=("203.0.113.5", 1))
    second = Client(handler, fresh(), address=("203.0.113.5", 2))
    rtp = first.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24},
                        extra=[(codec.EVEN_PORT, b"\x80")])
    token = dict(codec.scan_attributes(first.last_response))[codec.RESERVATION_TOKEN]
    rtcp = second.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24},
                          extra=[(codec.RESERVATION_TOKEN, token)])
    assert rtcp.attributes["XOR-RELAYED-ADDRESS"][1] == rtp.attributes["XOR-RELAYED-ADDRESS"][1] + 1
    again = Client(handler, fresh(), address=("203.0.113.5", 3))
    reused = again.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": 17 << 24},
                           extra=[(codec.RESERVATION_TOKEN, token)])
    assert reused.error_code == 508


def test_refresh_extends_and_lifetime_zero_deletes(client, handler):
    client.allocate()
    allocation = handler.table.get(CLIENT)
    client.now = 500
    refreshed = client.request(stun.Method.REFRESH, {"LIFETIME": 600})
    assert refreshed.attributes["LIFETIME"] == 600
    assert allocation.expires_at == 1100
    deleted = client.request(stun.Method.REFRESH, {"LIFETIME": 0})
    assert deleted.attributes["LIFETIME"] == 0
    assert handler.table.get(CLIENT) is None and allocation.relay.closed
    assert client.request(stun.Method.REFRESH, {"LIFETIME": 600}).error_code == 437


def test_create_permission_installs_several_peers_at_once(client, handler):
    client.allocate()
    peers = [("198.51.100.1", 1), ("198.51.100.2", 2)]
    message = stun.Message(stun.Method.CREATE_PERMISSION, stun.Class.REQUEST)
    extra = [(codec.XOR_PEER_ADDRESS, stun.pack_xor_address(p, message.transaction_id))
             for p in peers]
    response = client.request(stun.Method.CREATE_PERMISSION, extra=extra,
                              transaction_id=message.transaction_id)
    assert response.message_class == stun.Class.RESPONSE
    assert set(handler.table.get(CLIENT).permissions) == {"198.51.100.1", "198.51.100.2"}


def test_create_permission_is_all_or_nothing_when_one_peer_is_denied(client, handler):
    client.allocate()
    peers = [("198.51.100.1", 1), ("10.0.0.1", 2)]
    message = stun.Message(stun.Method.CREATE_PERMISSION, stun.Class.REQUEST)
    extra = [(codec.XOR_PEER_ADDRESS, stun.pack_xor_address(p, message.transaction_id))
             for p in peers]
    response = client.request(stun.Method.CREATE_PERMISSION, extra=extra,
                              transaction_id=message.transaction_id)
    assert response.error_code == 403
    assert response.check_message_integrity(client.key)
    assert not handler.table.get(CLIENT).permissions


@pytest.mark.parametrize("number", [0x3FFF, 0x8000, 0xFFFF])
def test_channel_bind_refuses_numbers_outside_the_range(client, number):
    client.allocate()
    response = client.request(stun.Method.CHANNEL_BIND,
                              {"CHANNEL-NUMBER": number, "XOR-PEER-ADDRESS": PEER})
    assert response.error_code == 400


def test_channel_bind_binds_refreshes_and_refuses_rebinding(client, handler):
    client.allocate()
    bind = {"CHANNEL-NUMBER": 0x4000, "XOR-PEER-ADDRESS": PEER}
    assert client.request(stun.Method.CHANNEL_BIND, bind).message_class == stun.Class.RESPONSE
    assert client.request(stun.Method.CHANNEL_BIND, bind).message_class == stun.Class.RESPONSE
    other_peer = {"CHANNEL-NUMBER": 0x4000, "XOR-PEER-ADDRESS": ("198.51.100.9", 1)}
    assert client.request(stun.Method.CHANNEL_BIND, other_peer).error_code == 400
    other_number = {"CHANNEL-NUMBER": 0x4001, "XOR-PEER-ADDRESS": PEER}
    assert client.request(stun.Method.CHANNEL_BIND, other_number).error_code == 400
    allocation = handler.table.get(CLIENT)
    assert handler.table.routes[(CLIENT, 0x4000)] == (allocation, PEER)


def test_requests_without_allocation_get_437(client):
    for method, attributes in [
        (stun.Method.REFRESH, {"LIFETIME": 600}),
        (stun.Method.CREATE_PERMISSION, {"XOR-PEER-ADDRESS": PEER}),
        (stun.Method.CHANNEL_BIND, {"CHANNEL-NUMBER": 0x4000, "XOR-PEER-ADDRESS": PEER}),
    ]:
        assert client.request(method, attributes).error_code == 437


def test_other_credentials_on_the_same_five_tuple_get_441_and_a_signed_answer(client, handler,
                                                                              fresh):
    client.allocate()
    intruder = Client(handler, fresh("mallory"))
    response = intruder.request(stun.Method.REFRESH, {"LIFETIME": 600})
    assert response.error_code == 441
    assert response.check_message_integrity(intruder.key)
    assert handler.table.get(CLIENT).username == client.username


def test_allocate_with_new_credentials_on_a_used_five_tuple_gets_437(client, handler, fresh):
    """A client that reuses a source port (coturn's uclient) retries from a new one on 437."""
    client.allocate()
    newcomer = Client(handler, fresh("bob"))
    assert newcomer.allocate().error_code == 437


def test_nonce_goes_stale_after_its_lifetime(client):
    client.now = 599
    assert client.allocate().message_class == stun.Class.RESPONSE
    client.now = 600
    stale = client.request(stun.Method.REFRESH, {"LIFETIME": 600})
    assert stale.error_code == 438
    assert stale.attributes["REALM"] == client.handler.auth.realm
    assert stale.attributes["NONCE"] != client.nonce


def test_per_user_quota_answers_486(handler, fresh):
    handler.table.user_quota = 1
    alice = fresh()
    first = Client(handler, alice, address=("203.0.113.5", 1))
    second = Client(handler, alice, address=("203.0.113.5", 2))
    assert first.allocate().message_class == stun.Class.RESPONSE
    assert second.allocate().error_code == 486


def test_random_requests_raise_only_value_error(handler):
    rng = random.Random(7)
    for _ in range(2000):
        method = rng.choice([1, 3, 4, 8, 9])
        body = b""
        for _ in range(rng.randint(0, 5)):
            attr_type = rng.choice([0x0006, 0x0008, 0x000C, 0x000D, 0x0012, 0x0014, 0x0015,
                                    0x0017, 0x0018, 0x0019, 0x001A, 0x0022, rng.randint(0, 0xFFFF)])
            value = os.urandom(rng.randint(0, 24))
            body += struct.pack("!HH", attr_type, len(value)) + value + bytes(-len(value) & 3)
        data = struct.pack("!HHI12s", method, len(body), stun.COOKIE, os.urandom(12)) + body
        try:
            handler.handle(data, CLIENT, CLIENT, 0.0, WALL_NOW)
        except ValueError:
            pass


def test_handler_ignores_indications_and_responses(handler):
    indication = stun.Message(stun.Method.BINDING, stun.Class.INDICATION)
    assert handler.handle(bytes(indication), CLIENT, CLIENT, 0.0, WALL_NOW) is None


def test_binding_is_answered_without_credentials(handler):
    request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
    response = stun.parse_message(handler.handle(bytes(request), CLIENT, CLIENT, 0.0, WALL_NOW))
    assert response.attributes["XOR-MAPPED-ADDRESS"] == CLIENT

