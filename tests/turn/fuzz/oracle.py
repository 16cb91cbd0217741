"""What counts as a bug besides an exception: responses, relayed datagrams, the table."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from aioice import stun

from praatbox.turn import codec
from tests.turn.fuzz.fakes import Client, Pending
from tests.turn.fuzz.wire import (
    ALLOCATE,
    BINDING,
    CHANNEL_BIND,
    CREATE_PERMISSION,
    RELAY_PORTS,
    RESERVATION_TOKEN,
    UDP_MAX_PAYLOAD,
    UNKNOWN_ATTRIBUTES,
    Address,
    authenticated_peers,
    same_ip,
)


class Oracle:
    """Checks the server's answers and state (mixed into ``Fuzzer``)."""

    def check_expiry(self) -> None:
        """Right after a sweep nothing expired may be left."""
        for allocation in self.table.allocations.values():
            if allocation.expires_at <= self.last_sweep:
                self.violation("expired allocation survived the sweep")
            if any(at <= self.last_sweep for at in allocation.permissions.values()):
                self.violation("expired permission survived the sweep")
            if any(c.expires_at <= self.last_sweep for c in allocation.channels.values()):
                self.violation("expired channel survived the sweep")

    def _relay_sendto(self, relay: Any) -> Callable[[bytes, Address], int]:
        """Replace a relay's sendto: check that the peer is permitted, send nothing."""

        def sendto(payload: bytes, peer: Address) -> int:
            owner = next((a for a in self.table.allocations.values() if a.relay is relay), None)
            if owner is None:
                self.violation(f"relay without allocation sends to {peer}")
            elif owner.permissions.get(peer[0], 0.0) <= self.last_sweep:
                self.violation(f"relayed to {peer} without permission")
            elif not self.server.policy.is_allowed(peer):
                self.violation(f"relayed to the refused peer {peer}")
            if ":" in peer[0] or not 0 < peer[1] < 65536 or len(payload) > UDP_MAX_PAYLOAD:
                raise OSError("as the kernel would refuse it")
            self.counts["relayed_to_peer"] += 1
            return len(payload)

        return sendto

    def check_invariants(self) -> None:
        table = self.table
        if len(table.allocations) > table.total_quota:
            self.violation("more allocations than the total quota")
        per_user = collections.Counter(a.user for a in table.allocations.values())
        if any(count > table.user_quota for count in per_user.values()):
            self.violation(f"user quota exceeded: {per_user}")
        if dict(per_user) != getattr(table, "_per_user", dict(per_user)):
            self.violation(f"per-user counts drift: {per_user} != {table._per_user}")
        for (client, number), (allocation, peer) in table.routes.items():
            if table.allocations.get(client) is not allocation:
                self.violation(f"route {number:#x} of a removed allocation")
            elif getattr(allocation.channels.get(number), "peer", None) != peer:
                self.violation(f"route {number:#x} without its channel")
        referenced: list[Any] = []
        for client, allocation in table.allocations.items():
            if allocation.client != client:
                self.violation("allocation filed under another client")
            referenced.append(allocation.relay)
            if allocation.relay.sock.fileno() < 0:
                self.violation("live allocation with a closed relay")
            if len(allocation.channels) != len(allocation.peer_channels):
                self.violation("channels and peer_channels differ")
            for number, channel in allocation.channels.items():
                if allocation.peer_channels.get(channel.peer) != number:
                    self.violation(f"channel {number:#x} missing from peer_channels")
                if (client, number) not in table.routes:
                    self.violation(f"channel {number:#x} without route")
                if channel.peer[0] not in allocation.permissions:
                    self.violation(f"channel {number:#x} without permission")
        referenced += [relay for relay, _ in getattr(table, "_reservations", {}).values()]
        if len({id(r) for r in referenced}) != len(referenced):
            self.violation("one relay socket used twice")
        live = {id(r) for r in referenced}
        for key, relay in list(self.opened.items()):
            if relay.sock.fileno() < 0:
                del self.opened[key]
            elif key not in live:
                self.violation(f"leaked relay socket {relay.address}")
                relay.close()
                del self.opened[key]

    def check_response(self, response: bytes, pending: Pending) -> None:
        try:
            message = stun.parse_message(response)
        except ValueError as exc:
            self.violation(f"unparseable response {response.hex()}: {exc}")
            return
        if message.transaction_id != pending.txid:
            self.violation("response with another transaction id")
        if message.message_method != pending.method:
            self.violation(f"response method {message.message_method} to {pending.method:#x}")
        name = message.message_method.name.lower()
        attributes = message.attributes
        signed = "MESSAGE-INTEGRITY" in attributes
        if signed and pending.key is not None and not message.check_message_integrity(
                pending.key):
            self.violation("response signed with another key")
        if message.message_class == stun.Class.RESPONSE:
            self.counts[f"success_{name}"] += 1
            if pending.method != BINDING and not signed:
                self.violation("unsigned success response")
            if pending.method == BINDING:
                mapped = attributes.get("XOR-MAPPED-ADDRESS")
                if mapped is None or not same_ip(pending.client.address[0], mapped[0]):
                    self.violation(f"Binding maps to {mapped}")
            if pending.method == ALLOCATE:
                relayed = attributes.get("XOR-RELAYED-ADDRESS")
                lifetime = attributes.get("LIFETIME", -1)
                config = self.server.config
                if relayed is None or not RELAY_PORTS[0] <= relayed[1] <= RELAY_PORTS[1]:
                    self.violation(f"relayed address {relayed}")
                else:
                    self.relay_addresses.append(relayed)
                if not config.default_lifetime_seconds <= lifetime <= config.max_lifetime_seconds:
                    self.violation(f"allocation lifetime {lifetime}")
                for attr_type, value in codec.scan_attributes(response):
                    if attr_type == RESERVATION_TOKEN:
                        self.tokens.append(value)
            if pending.method in (CREATE_PERMISSION, CHANNEL_BIND):
                allocation = self.table.get(pending.client.key)
                if allocation is not None and any(
                        peer[0] not in allocation.permissions
                        for peer in authenticated_peers(pending.request)):
                    self.violation(f"{name} succeeded without installing permissions")
        elif message.message_class == stun.Class.ERROR:
            code = message.error_code
            self.counts[f"error_{code}"] += 1
            if code in (401, 438):
                nonce = attributes.get("NONCE")
                if nonce is None or (code == 401 and "REALM" not in attributes):
                    self.violation(f"{code} without a challenge")
                else:
                    self.nonces[pending.client.address[0]] = nonce
            if code == 420 and all(t != UNKNOWN_ATTRIBUTES
                                   for t, _ in codec.scan_attributes(response)):
                self.violation("420 without UNKNOWN-ATTRIBUTES")
            if code == 401 and signed:
                self.violation("signed 401")
        else:
            self.violation(f"response of class {message.message_class}")

    def check_replies(self, replies: list[bytes], pending: dict[tuple[int, bytes], Pending],
                      stream: Client | None = None) -> None:
        """Match replies to requests by method and transaction id; ``stream``: a TCP client."""
        for reply in replies:
            if codec.is_channel_data(reply[0]):
                self.violation("ChannelData reply to a request")
                continue
            entry = pending.get((int.from_bytes(reply[0:2], "big") & 0x3EEF, reply[8:20]))
            if entry is None and stream is not None:
                # A frame that lies about its length shifts the framing: the server then
                # answers a "request" made of the tails and heads of ours.
                self.counts["tcp_reply_to_reframed_bytes"] += 1
                entry = Pending(stream, reply[:20])
            if entry is None:
                self.violation(f"reply to no request: {reply[:20].hex()}")
                continue
            self.check_response(reply, entry)
