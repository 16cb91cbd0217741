"""Fuzz the TURN server's packet path: structured STUN/TURN requests, mutations and junk.

    python scripts/fuzz_turn.py --inputs 1000000 [--seed 1]

wire.py builds messages, generators.py draws inputs, oracle.py checks what the server does,
fuzzer.py drives the four paths below and runner.py makes a seeded run and its report.

A ``TurnServer`` is built but not started: no listener is bound, time is a fake clock, and
relay sockets are real (bounded by a small total quota) but their ``sendto`` is replaced by
a check that records instead of sending. Inputs are driven through four paths:

* directly into ``RequestHandler.handle`` (and ``codec.parse_send_indication`` for Send
  indications), where ``ValueError`` means "malformed" and any other exception is a bug;
* the UDP read loop ``TurnServer._on_udp_readable`` fed from a fake listener socket
  (ChannelData fast path, Send indications, requests);
* ``TcpConnection.data_received`` with the byte stream cut into random chunks;
* real datagrams from peer sockets to relay sockets, read by ``TurnServer.relay_reader``.

``handle_stun`` catches every exception and logs "request failed"; such a log is counted as
an unexpected exception too (with the traceback of the exception being handled).

Requests are built the way a client builds them, so they get past the header checks and the
authentication: the nonce comes from a 401/438 answer, the key is MD5(username:realm:password)
of REST credentials, MESSAGE-INTEGRITY is correct. Attributes are drawn from the TURN types
with valid or corrupted values, then a fraction of the signed messages is mutated. A few
client addresses and TCP connections share the server, so allocations, permissions and
channels build up, and the clock jumps now and then so that expiry paths run.

Besides exceptions, "invariant violations" are bugs too: every response is parsed and checked
(transaction id, signature, required attributes); no permission may come from an attribute
after MESSAGE-INTEGRITY (RFC 8489 section 14.5); every datagram a relay would send is checked
against the permissions and the peer filter; nothing expired survives a sweep; the allocation
table's invariants (routes, quotas, no leaked relay sockets) are checked every 1000 steps.

A seed replays exactly: the server's random choices (relay ports, nonce key, reservation
tokens) are drawn from it too. Each failure is printed with its input (hex), its traceback or
description and the command that replays the run up to it. The last lines are ``name: value``
counts; the last one is ``unexpected_exceptions: N``. The exit status is 1 when there was an
unexpected exception or an invariant violation.
"""

from tests.turn.fuzz.runner import FuzzReport, main, run_fuzz

__all__ = ["FuzzReport", "main", "run_fuzz"]
