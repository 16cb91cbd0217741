"""coturn's own test client against our server: REST credentials, channels, Send indications,
TCP, TLS and ten sessions at once, through coturn's echo peer; nothing may be lost.

Without ``-c`` every session also allocates an RTCP relay (EVEN-PORT + RESERVATION-TOKEN), and
turnutils_uclient picks channel numbers up to 0x7FFF.
"""

import pytest

from tests.turn.turn_clients import assert_nothing_lost

MESSAGES_PER_SESSION = 20


def uclient(server_port: int, peer: tuple[str, int], secret: str, flags: list[str],
            run_tool) -> str:
    return run_tool([
        "turnutils_uclient", *flags, "-W", secret, "-u", "uclient",
        "-e", peer[0], "-r", str(peer[1]), "-p", str(server_port),
        "-n", str(MESSAGES_PER_SESSION), "-l", "172", "127.0.0.1",
    ])


@pytest.mark.parametrize(
    "flags, sessions",
    [([], 1), (["-s"], 1), (["-t"], 1), (["-t", "-s"], 1), (["-m", "10"], 10)],
    ids=["udp-channels", "udp-send-indications", "tcp-channels", "tcp-send-indications",
         "udp-10-sessions"],
)
def test_uclient_relays_without_loss(turn_server, turn_config, coturn_peer, run_tool, flags,
                                     sessions):
    server = turn_server()
    output = uclient(server.udp_address[1], coturn_peer, turn_config.secrets[0], flags,
                     run_tool)
    assert_nothing_lost(output, sessions * MESSAGES_PER_SESSION)
    assert server.stats["allocate"] >= sessions


def test_uclient_relays_over_tls_without_loss(turn_server, turn_config, coturn_peer, run_tool,
                                              tls_certificate):
    cert, key = tls_certificate
    server = turn_server(tls_listen=("127.0.0.1", 0), tls_cert=cert, tls_key=key)
    assert server.tls_address is not None
    output = uclient(server.tls_address[1], coturn_peer, turn_config.secrets[0], ["-t", "-S"],
                     run_tool)
    assert_nothing_lost(output, MESSAGES_PER_SESSION)


def test_uclient_with_a_wrong_secret_is_refused(turn_server, coturn_peer, run_tool):
    server = turn_server()
    output = uclient(server.udp_address[1], coturn_peer, "not-the-secret", [], run_tool)
    assert "Cannot complete Allocation" in output
    assert server.stats["allocate"] == 0
    assert server.stats["auth_failed"] >= 1
