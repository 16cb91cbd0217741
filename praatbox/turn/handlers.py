"""STUN/TURN request handling: one request in, at most one response out.

No sockets here either: relays are opened through the injected ``open_relay`` callable, and
the caller sends the returned bytes. Comments name the RFC 8656 / RFC 8489 step implemented.
"""

import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aioice import stun

from praatbox.turn import codec
from praatbox.turn.allocations import (
    Allocation,
    AllocationTable,
    CapacityError,
    ChannelConflict,
    ClientKey,
)
from praatbox.turn.auth import Authenticator
from praatbox.turn.budget import SourceBudget, source_key
from praatbox.turn.config import TurnConfig
from praatbox.turn.peers import PeerPolicy

logger = logging.getLogger(__name__)

Address = tuple[str, int]
RESERVATION_LIFETIME_SECONDS = 30  # RFC 8656 §7.2: about 30 seconds
# Unauthenticated replies (Binding answers, 401s) per source address: a client needs two or
# three; a forged source must not turn the server into an amplifier.
REPLY_BUDGET_PER_SECOND = 20.0
REPLY_BURST = 40.0


class Relay(Protocol):
    """What the handler needs from a relay socket opened by the I/O layer."""

    address: Address

    def start(self, allocation: Allocation) -> None: ...

    def close(self) -> None: ...


class RequestError(Exception):
    """An error response to send; ``handle`` signs it once the request was authenticated."""

    def __init__(self, code: int, extra: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra or {}


class RequestHandler:
    """Turn a decoded request into a response, updating the allocation table."""

    def __init__(
        self,
        config: TurnConfig,
        table: AllocationTable,
        policy: PeerPolicy,
        open_relay: Callable[[bool, bool], Sequence[Relay]],
        nonce_key: bytes | None = None,
    ) -> None:
        self.config = config
        self.table = table
        self.policy = policy
        self.open_relay = open_relay
        self.auth = Authenticator(
            config.secrets, config.realm, config.nonce_lifetime_seconds, config.static_users,
            nonce_key,
        )
        # A forged source's datagrams spread over the workers (each source port hashes
        # anywhere): each worker gets its share, so the budget per source holds for the server.
        self.budget = SourceBudget(REPLY_BUDGET_PER_SECOND / config.workers,
                                   REPLY_BURST / config.workers)
        self.stats: Counter[str] = Counter()

    def handle(
        self, data: bytes, client: ClientKey, client_address: Address, now: float,
        wall_now: float, datagram: bool = True,
    ) -> bytes | None:
        """Answer one STUN message; ``ValueError`` means the bytes were malformed.

        Unauthenticated replies to datagrams are budgeted per source: a UDP source address
        can be forged to aim our replies at a victim, a TCP one cannot.
        """
        message, raw = codec.decode_message(data)
        if message.message_class != stun.Class.REQUEST:
            return None  # indications other than Send are ignored (RFC 8489 §6.3.2)
        txid = message.transaction_id
        fingerprint = codec.has_fingerprint(raw)
        if message.message_method == stun.Method.BINDING:
            if datagram and not self._may_reply(client_address, now):
                return None
            return self._binding(message, raw, client_address, fingerprint)
        key: bytes | None = None
        try:
            allocation, key, user = self._authenticate(message, client, client_address[0], now,
                                                       wall_now)
            unknown = codec.unknown_required_attributes(raw)
            if unknown:
                logger.debug("unknown attributes %s", [hex(t) for t in unknown])
                return self._error(message, 420, key, fingerprint, unknown_attributes=unknown)
            attributes, raw_out = self._dispatch(message, raw, allocation, client,
                                                 client_address, key, user, now)
        except _Retransmission as exc:
            return exc.response
        except RequestError as exc:
            self.stats[f"error_{exc.code}"] += 1
            if key is None and datagram and not self._may_reply(client_address, now):
                return None
            return self._error(message, exc.code, key, fingerprint, exc.extra)
        response = codec.encode_message(
            message.message_method | stun.Class.RESPONSE, txid, attributes, key, raw_out,
            fingerprint,
        )
        if message.message_method == stun.Method.ALLOCATE:
            allocation = self.table.get(client)
            if allocation is not None:
                allocation.allocate_transaction_id = txid
                allocation.allocate_response = response
        return response

    def _error(
        self, message: stun.Message, code: int, key: bytes | None, fingerprint: bool,
        extra: dict[str, Any] | None = None, unknown_attributes: list[int] | None = None,
    ) -> bytes:
        """An error answer; unsigned ones carry only what the RFC requires (no reason phrase)."""
        attributes = codec.error_attributes(code, reason=key is not None)
        attributes.update(extra or {})
        raw = [codec.unknown_attributes_attribute(unknown_attributes)] if unknown_attributes else []
        return codec.encode_message(
            message.message_method | stun.Class.ERROR, message.transaction_id, attributes, key, raw,
            fingerprint,
        )

    def _may_reply(self, client_address: Address, now: float) -> bool:
        if self.budget.allow(source_key(client_address[0]), now):
            return True
        self.stats["reply_dropped"] += 1
        return False

    def _binding(
        self, message: stun.Message, raw: list[codec.RawAttribute], client_address: Address,
        fingerprint: bool,
    ) -> bytes:
        unknown = codec.unknown_required_attributes(raw)
        if unknown:
            return self._error(message, 420, None, fingerprint, unknown_attributes=unknown)
        self.stats["binding"] += 1
        return codec.encode_message(
            stun.Method.BINDING | stun.Class.RESPONSE, message.transaction_id,
            {"XOR-MAPPED-ADDRESS": client_address}, fingerprint=fingerprint,
        )

    def _authenticate(
        self, message: stun.Message, client: ClientKey, client_ip: str, now: float,
        wall_now: float,
    ) -> tuple[Allocation | None, bytes, str]:
        """Long-term credential checks of RFC 8489 §9.2.4, in the RFC's order."""
        attrs = message.attributes
        if "MESSAGE-INTEGRITY" not in attrs:
            raise RequestError(401, self._challenge(now, client_ip))
        if not all(name in attrs for name in ("USERNAME", "REALM", "NONCE")):
            raise RequestError(400)
        username = attrs["USERNAME"]
        allocation = self.table.get(client)
        if allocation is not None and username == allocation.username:
            user, keys = allocation.user, [allocation.key]
        else:
            user, keys = self.auth.candidate_keys(username, wall_now)
        key = next((k for k in keys if message.check_message_integrity(k)), None)
        if key is None:
            self.stats["auth_failed"] += 1
            raise RequestError(401, self._challenge(now, client_ip))
        if not self.auth.nonce_is_valid(attrs["NONCE"], now, client_ip):
            raise RequestError(438, self._challenge(now, client_ip))
        return allocation, key, user

    def _challenge(self, now: float, client_ip: str) -> dict[str, Any]:
        return {"REALM": self.auth.realm, "NONCE": self.auth.make_nonce(now, client_ip)}

    def _dispatch(
        self, message: stun.Message, raw: list[codec.RawAttribute],
        allocation: Allocation | None, client: ClientKey, client_address: Address,
        key: bytes, user: str, now: float,
    ) -> tuple[dict[str, Any], list[codec.RawAttribute]]:
        method = message.message_method
        if method == stun.Method.ALLOCATE:
            return self._allocate(message, raw, allocation, client, client_address, key, user,
                                  now)
        if allocation is None:
            raise RequestError(437)
        if message.attributes["USERNAME"] != allocation.username:
            # RFC 8656 §5: an authenticated non-Allocate request on the 5-tuple of another
            # user's allocation. (An Allocate gets 437, which clients answer with a new socket.)
            raise RequestError(441)
        if method == stun.Method.REFRESH:
            return self._refresh(message, raw, allocation, now), []
        if method == stun.Method.CREATE_PERMISSION:
            return self._create_permission(message, raw, allocation, now), []
        if method == stun.Method.CHANNEL_BIND:
            return self._channel_bind(message, raw, allocation, now), []
        raise RequestError(400)

    def _lifetime(self, message: stun.Message) -> int:
        """RFC 8656 §7.2 / §8: min(requested, max), but never below the default."""
        requested = message.attributes.get("LIFETIME")
        if requested is None:
            return self.config.default_lifetime_seconds
        return max(self.config.default_lifetime_seconds,
                   min(requested, self.config.max_lifetime_seconds))

    def _allocate(
        self, message: stun.Message, raw: list[codec.RawAttribute],
        allocation: Allocation | None, client: ClientKey, client_address: Address,
        key: bytes, user: str, now: float,
    ) -> tuple[dict[str, Any], list[codec.RawAttribute]]:
        if allocation is not None:
            # RFC 8656 §7.2 step 2: a retransmission gets the same answer, anything else 437.
            if (
                message.transaction_id == allocation.allocate_transaction_id
                and message.attributes["USERNAME"] == allocation.username
            ):
                raise _Retransmission(allocation.allocate_response)
            raise RequestError(437)
        transport = message.attributes.get("REQUESTED-TRANSPORT")
        if transport is None:
            raise RequestError(400)
        if transport >> 24 != codec.UDP_PROTOCOL:
            raise RequestError(442)
        family = codec.requested_family(raw)
        even = codec.even_port(raw)
        token = codec.reservation_token(raw)
        if token is not None and (even is not None or family is not None):
            raise RequestError(400)  # RFC 8656 §7.2 steps 4 and 5
        if family is not None and family != codec.FAMILY_IPV4:
            raise RequestError(440)
        quota_error = self.table.quota_error(user, client_address[0])
        if quota_error is not None:
            raise RequestError(quota_error)
        raw_out: list[codec.RawAttribute] = []
        if token is not None:
            reserved = self.table.take_reservation(token)
            if reserved is None:
                raise RequestError(508)
            relay = reserved
        else:
            try:
                # EVEN-PORT with the R bit asks to hold the next port back too, if we can: not
                # with several workers, where the Allocate claiming it may reach another one.
                reserve = bool(even) and self.config.workers == 1 and self.table.can_reserve()
                relays = self.open_relay(even is not None, reserve)
            except OSError:
                logger.warning("no relay port available")
                raise RequestError(508) from None
            relay = relays[0]
            if len(relays) > 1:
                new_token = os.urandom(8)
                self.table.reserve(new_token, relays[1], now + RESERVATION_LIFETIME_SECONDS)
                raw_out.append((codec.RESERVATION_TOKEN, new_token))
        lifetime = self._lifetime(message)
        allocation = Allocation(
            client=client, client_address=client_address, username=message.attributes["USERNAME"],
            user=user, key=key, relay=relay, relay_address=relay.address,
            expires_at=now + lifetime,
        )
        self.table.add(allocation)
        relay.start(allocation)
        self.stats["allocate"] += 1
        attributes = {
            "XOR-RELAYED-ADDRESS": relay.address,
            "LIFETIME": lifetime,
            "XOR-MAPPED-ADDRESS": client_address,
        }
        return attributes, raw_out

    def _refresh(
        self, message: stun.Message, raw: list[codec.RawAttribute], allocation: Allocation,
        now: float,
    ) -> dict[str, Any]:
        family = codec.requested_family(raw)
        if family is not None and family != codec.FAMILY_IPV4:
            raise RequestError(443)
        if message.attributes.get("LIFETIME") == 0:
            self.table.remove(allocation)
            allocation.relay.close()
            self.stats["delete"] += 1
            return {"LIFETIME": 0}
        lifetime = self._lifetime(message)
        self.table.refresh(allocation, lifetime, now)
        self.stats["refresh"] += 1
        return {"LIFETIME": lifetime}

    def _checked_peers(
        self, message: stun.Message, raw: list[codec.RawAttribute]
    ) -> list[Address]:
        peers = codec.peer_addresses(raw, message.transaction_id)
        if not peers:
            raise RequestError(400)
        for peer in peers:
            if not self.policy.is_allowed(peer):
                self.stats["peer_denied"] += 1
                raise RequestError(403)
            if ":" in peer[0]:
                raise RequestError(443)
        return peers

    def _create_permission(
        self, message: stun.Message, raw: list[codec.RawAttribute], allocation: Allocation,
        now: float,
    ) -> dict[str, Any]:
        peers = self._checked_peers(message, raw)
        try:
            self.table.permit(allocation, [peer[0] for peer in peers],
                              self.config.permission_lifetime_seconds, now)
        except CapacityError:
            raise RequestError(508) from None
        self.stats["permission"] += 1
        return {}

    def _channel_bind(
        self, message: stun.Message, raw: list[codec.RawAttribute], allocation: Allocation,
        now: float,
    ) -> dict[str, Any]:
        number = message.attributes.get("CHANNEL-NUMBER")
        if number is None or not codec.CHANNEL_NUMBER_MIN <= number <= codec.CHANNEL_NUMBER_MAX:
            raise RequestError(400)
        peers = self._checked_peers(message, raw)
        if len(peers) != 1:
            raise RequestError(400)
        try:
            self.table.bind_channel(allocation, number, peers[0],
                                    self.config.channel_lifetime_seconds, now)
        except ChannelConflict:
            raise RequestError(400) from None
        except CapacityError:
            raise RequestError(508) from None
        self.stats["channel_bind"] += 1
        return {}


class _Retransmission(Exception):
    def __init__(self, response: bytes) -> None:
        super().__init__("retransmission")
        self.response = response
