"""The peer filter: what a TURN client may reach through the server, by default and configured."""

import pytest

from praatbox.turn.peers import PeerPolicy


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",
        "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::",
        "fd00::1", "fe80::1", "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:7f00:0001::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "not an address",
    ],
)
def test_non_public_peers_are_refused_by_default(ip):
    assert not PeerPolicy().is_allowed((ip, 5000))


@pytest.mark.parametrize("ip", ["198.51.100.7", "8.8.8.8", "2001:db8::1", "::ffff:8.8.8.8"])
def test_public_peers_are_allowed_by_default(ip):
    assert PeerPolicy().is_allowed((ip, 5000))


def test_allowed_peers_open_a_range_and_a_more_specific_denial_wins():
    policy = PeerPolicy(allowed=["127.0.0.0/8", "10.0.0.0/8"], denied=["10.9.0.0/16"])
    assert policy.is_allowed(("127.0.0.1", 5000))
    assert policy.is_allowed(("::ffff:127.0.0.1", 5000))
    assert policy.is_allowed(("10.1.0.1", 5000))
    assert not policy.is_allowed(("10.9.0.1", 5000))
    assert not policy.is_allowed(("192.168.0.1", 5000))


def test_denied_peers_close_public_ranges_and_ties_deny():
    policy = PeerPolicy(allowed=["198.51.100.0/24"], denied=["198.51.100.0/24", "8.8.8.0/24"])
    assert not policy.is_allowed(("198.51.100.7", 5000))
    assert not policy.is_allowed(("8.8.8.8", 53))
    assert policy.is_allowed(("8.8.4.4", 53))


def test_own_public_address_is_reachable_only_on_live_relay_ports():
    live_ports = {50000}
    policy = PeerPolicy(own_addresses=["203.0.113.10"], live_ports=live_ports)
    assert policy.is_allowed(("203.0.113.10", 50000))  # another allocation's relay
    assert not policy.is_allowed(("203.0.113.10", 50002))  # in the range, but no allocation
    assert not policy.is_allowed(("203.0.113.10", 22))
    assert not policy.is_allowed(("203.0.113.10", 3478))
    assert not policy.is_allowed(("::ffff:203.0.113.10", 8000))
    live_ports.discard(50000)  # the allocation ended: its port is closed to peers again
    assert not policy.is_allowed(("203.0.113.10", 50000))


def test_own_private_address_still_reaches_live_relay_ports():
    policy = PeerPolicy(own_addresses=["192.168.1.20"], live_ports={50000})
    assert policy.is_allowed(("192.168.1.20", 50000))
    assert not policy.is_allowed(("192.168.1.20", 6379))
    assert not policy.is_allowed(("192.168.1.21", 50000))
