"""A client set up for coturn's REST scheme with a bare timestamp as its username.

`turnutils_uclient -W <secret>` without `-u` sends the expiry alone as the username; coturn
accepts it, so the bundled server must too. Real processes, coturn's echo peer, zero loss.
"""

from __future__ import annotations

from praatbox.keys import TURN_REST, derive_key
from tests.live import LIVE_SECRET, start_turn
from tests.turn.turn_clients import assert_nothing_lost, echo_peer, run_tool

MESSAGES = 20


def test_uclient_with_secret_and_no_user_allocates_without_loss(tmp_path):
    turn, port = start_turn(tmp_path, {"PRAATBOX_TURN_ALLOWED_PEERS": "127.0.0.0/8"})
    try:
        with echo_peer() as peer:
            output = run_tool([
                "turnutils_uclient", "-W", derive_key(LIVE_SECRET, TURN_REST),
                "-e", peer[0], "-r", str(peer[1]), "-p", str(port), "-n", str(MESSAGES),
                "127.0.0.1",
            ])
    finally:
        turn.stop()
    assert_nothing_lost(output, MESSAGES)
