"""Abuse on real sockets: bad credentials, forbidden peers, quotas, junk packets, log hygiene."""

import logging
import os
import random
import socket
import struct
import time

import pytest
from aioice import stun

from praatbox.turn import codec

UDP = {"REQUESTED-TRANSPORT": codec.UDP_PROTOCOL << 24}


def test_wrong_password_gets_401_with_a_fresh_challenge(turn_server, raw_client,
                                                        issue_credentials):
    server = turn_server()
    username, _ = issue_credentials()
    client = raw_client(server.udp_address, username, "wrong password")
    response = client.request(stun.Method.ALLOCATE, UDP)
    assert response.error_code == 401
    assert response.attributes["REALM"] == "praatbox" and response.attributes["NONCE"]
    assert len(server.table) == 0


def test_expired_credentials_are_refused(turn_server, raw_client, issue_credentials):
    server = turn_server()
    client = raw_client(server.udp_address,
                        *issue_credentials(ttl_seconds=60, now=time.time() - 3600))
    assert client.request(stun.Method.ALLOCATE, UDP).error_code == 401


def test_forged_or_foreign_nonce_is_stale(turn_server, raw_client, issue_credentials):
    server = turn_server()
    client = raw_client(server.udp_address, *issue_credentials())
    client.nonce = b"00000000" + b"0" * 16
    response = client.request(stun.Method.ALLOCATE, UDP)
    assert response.error_code == 438
    client.nonce = response.attributes["NONCE"]
    assert client.request(stun.Method.ALLOCATE, UDP).message_class == stun.Class.RESPONSE


def test_success_and_error_responses_after_authentication_are_signed(turn_server, raw_client,
                                                                     issue_credentials):
    server = turn_server()
    client = raw_client(server.udp_address, *issue_credentials())
    assert client.request(stun.Method.ALLOCATE, UDP).check_message_integrity(client.key)
    mismatch = client.request(stun.Method.ALLOCATE, UDP)  # new transaction: 437
    assert mismatch.error_code == 437
    assert mismatch.check_message_integrity(client.key)


@pytest.mark.parametrize(
    "peer",
    [("127.0.0.1", 9), ("10.0.0.1", 9), ("192.168.1.1", 9), ("100.64.0.1", 9),
     ("169.254.169.254", 80), ("::ffff:127.0.0.1", 9), ("fd00::1", 9), ("224.0.0.1", 9)],
)
def test_loopback_private_and_metadata_peers_are_refused_by_default(turn_server, raw_client,
                                                                    issue_credentials, peer):
    server = turn_server(allowed_peers=[])
    client = raw_client(server.udp_address, *issue_credentials())
    client.request(stun.Method.ALLOCATE, UDP)
    assert client.request(stun.Method.CREATE_PERMISSION, peers=[peer]).error_code == 403
    bind = client.request(stun.Method.CHANNEL_BIND, {"CHANNEL-NUMBER": 0x4000}, peers=[peer])
    assert bind.error_code == 403


def test_send_indication_to_a_refused_peer_never_leaves_the_server(turn_server, raw_client,
                                                                   issue_credentials):
    server = turn_server(allowed_peers=[])
    client = raw_client(server.udp_address, *issue_credentials())
    client.request(stun.Method.ALLOCATE, UDP)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(0.5)
        send = stun.Message(stun.Method.SEND, stun.Class.INDICATION,
                            attributes={"XOR-PEER-ADDRESS": peer.getsockname(), "DATA": b"x"})
        client.sock.send(bytes(send))
        with pytest.raises(socket.timeout):
            peer.recv(100)


def test_loopback_peers_are_allowed_when_configured(turn_server, raw_client, issue_credentials):
    server = turn_server(allowed_peers=["127.0.0.0/8"])
    client = raw_client(server.udp_address, *issue_credentials())
    client.request(stun.Method.ALLOCATE, UDP)
    response = client.request(stun.Method.CREATE_PERMISSION, peers=[("127.0.0.1", 9)])
    assert response.message_class == stun.Class.RESPONSE


def test_denied_peers_override_allowed_ones(turn_server, raw_client, issue_credentials):
    server = turn_server(allowed_peers=["127.0.0.0/8"], denied_peers=["127.0.0.2/32"])
    client = raw_client(server.udp_address, *issue_credentials())
    client.request(stun.Method.ALLOCATE, UDP)
    assert client.request(stun.Method.CREATE_PERMISSION, peers=[("127.0.0.2", 9)]).error_code \
        == 403


def test_per_user_quota_answers_486(turn_server, raw_client, issue_credentials):
    server = turn_server(user_quota=2)
    credentials = issue_credentials()
    answers = [raw_client(server.udp_address, *credentials).request(stun.Method.ALLOCATE, UDP)
               for _ in range(3)]
    assert [a.error_code for a in answers] == [None, None, 486]
    other_user = raw_client(server.udp_address, *issue_credentials("bob"))
    assert other_user.request(stun.Method.ALLOCATE, UDP).error_code is None


def test_total_cap_answers_508(turn_server, raw_client, issue_credentials):
    server = turn_server(total_quota=1)
    first = raw_client(server.udp_address, *issue_credentials("alice"))
    second = raw_client(server.udp_address, *issue_credentials("bob"))
    assert first.request(stun.Method.ALLOCATE, UDP).error_code is None
    assert second.request(stun.Method.ALLOCATE, UDP).error_code == 508


def test_unknown_comprehension_required_attribute_gets_420(turn_server, raw_client,
                                                           issue_credentials):
    server = turn_server()
    client = raw_client(server.udp_address, *issue_credentials())
    response = client.request(stun.Method.ALLOCATE, UDP, extra=[(0x7777, b"\x00" * 4)])
    assert response.error_code == 420
    raw = dict(codec.scan_attributes(client.last_response))
    assert raw[codec.UNKNOWN_ATTRIBUTES] == struct.pack("!H", 0x7777)
    optional = client.request(stun.Method.ALLOCATE, UDP, extra=[(0x8777, b"\x00" * 4)])
    assert optional.message_class == stun.Class.RESPONSE


def test_unauthenticated_replies_are_rate_limited(turn_server):
    server = turn_server()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(server.udp_address)
        sock.settimeout(0.5)
        for _ in range(200):
            sock.send(bytes(stun.Message(stun.Method.ALLOCATE, stun.Class.REQUEST)))
        answered = 0
        try:
            while True:
                sock.recv(1000)
                answered += 1
        except socket.timeout:
            pass
    assert 20 <= answered < 100
    assert server.stats["reply_dropped"] > 100


def test_tcp_replies_are_not_rate_limited_since_tcp_sources_cannot_be_forged(turn_server):
    server = turn_server()
    request = bytes(stun.Message(stun.Method.ALLOCATE, stun.Class.REQUEST))
    with socket.create_connection(server.tcp_address, timeout=2) as tcp:
        tcp.sendall(request * 100)
        received = b""
        while len(codec.split_stream(received)[0]) < 100:
            chunk = tcp.recv(65536)
            assert chunk, "connection closed"
            received += chunk
    frames, _ = codec.split_stream(received)
    assert all(stun.parse_message(frame).error_code == 401 for frame in frames)


def _junk_datagrams() -> list[bytes]:
    rng = random.Random(3)
    header = struct.pack("!HHI", stun.Method.ALLOCATE, 8, stun.COOKIE) + os.urandom(12)
    junk = [
        b"\x00",
        b"\x40\x00",  # ChannelData shorter than its header
        b"\x40\x00\xff\xff" + b"x" * 10,  # ChannelData longer than the datagram
        b"\x00\x01\x00\x00" + b"\x00" * 16,  # no magic cookie
        header + b"\x00\x12\x00\x40abcd",  # attribute overruns the message
        header + b"\x00\x12\x00\x02ab\x00\x00",  # truncated XOR-PEER-ADDRESS
        struct.pack("!HHI", 0x0FFF, 0, stun.COOKIE) + os.urandom(12),  # unknown method
        struct.pack("!HHI", codec.SEND_INDICATION, 8, stun.COOKIE) + os.urandom(12)
        + b"\x00\x13\x00\x08abcd",
    ]
    junk += [os.urandom(rng.randint(1, 300)) for _ in range(300)]
    junk += [header[:4] + os.urandom(rng.randint(16, 120)) for _ in range(300)]
    return junk


def test_malformed_packets_do_not_kill_the_server(turn_server, raw_client, issue_credentials):
    server = turn_server()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in _junk_datagrams():
            sock.sendto(datagram, server.udp_address)
    for junk in (b"\x80" * 64, b"\x00\x01\x00\x05" + b"\x00" * 40):
        with socket.create_connection(server.tcp_address, timeout=2) as tcp:
            tcp.sendall(junk)
            assert tcp.recv(100) == b""  # the server closed this connection only
    client = raw_client(server.udp_address, *issue_credentials())
    assert client.request(stun.Method.ALLOCATE, UDP).message_class == stun.Class.RESPONSE
    binding = client.request(stun.Method.BINDING, sign=False)
    assert binding.attributes["XOR-MAPPED-ADDRESS"] == client.sock.getsockname()
    assert server.stats["malformed"] > 100


def test_idle_tcp_connections_without_allocation_are_closed(turn_server):
    server = turn_server(tcp_idle_seconds=0.5)
    with socket.create_connection(server.tcp_address, timeout=4) as tcp:
        assert tcp.recv(100) == b""


def test_info_logs_carry_counts_but_no_credentials_or_addresses(turn_server, raw_client,
                                                                issue_credentials, caplog):
    caplog.set_level(logging.INFO, logger="praatbox.turn")
    server = turn_server()
    username, password = issue_credentials()
    client = raw_client(server.udp_address, username, password)
    client.request(stun.Method.ALLOCATE, UDP)
    client.request(stun.Method.CREATE_PERMISSION, peers=[("127.0.0.1", 9)])
    raw_client(server.udp_address, username, "wrong").request(stun.Method.ALLOCATE, UDP)
    server.loop.call_soon_threadsafe(server._report)
    time.sleep(0.3)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "allocate" in text
    for secret in (username, password, "127.0.0.1", "test-secret"):
        assert secret not in text
