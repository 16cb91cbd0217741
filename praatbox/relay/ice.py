"""Process-wide aioice tweaks: the local addresses the relay offers, the remote ones it checks.

A browser names its ICE candidates itself. Used as given, they would make the relay send STUN
checks (and then media) to the relay host's loopback services, the cloud metadata endpoint
(169.254.169.254) or the private network behind it. So every remote candidate passes the TURN
server's peer policy (`praatbox.turn.peers`, same settings) before aioice pairs it: candidates
in the SDP of an answer and trickled ones alike (aiortc hands both to
`Connection.add_remote_candidate`), and mDNS names once resolved.
"""

from __future__ import annotations

import logging

import aioice.ice
from aioice import Candidate, mdns

from praatbox.turn.peers import PeerPolicy

logger = logging.getLogger(__name__)

# An mDNS lookup is a query to this multicast group: it follows the policy for that address.
MDNS_GROUP = ("224.0.0.251", 5353)

_validate_remote_candidate = aioice.ice.validate_remote_candidate
_add_remote_candidate = aioice.ice.Connection.add_remote_candidate


def use_host_addresses(host_ips: tuple[str, ...]) -> None:
    """Offer exactly these IPs as ICE host candidates (process-wide).

    aioice never offers 127.0.0.1, so a relay on a loopback-only host (tests, a relay next to
    a TURN server) would have no candidate at all; an operator may also want to pin the
    interface media uses. The addresses must be bindable on this host.
    """
    if not host_ips:
        return
    addresses = list(host_ips)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [ip for ip in addresses if (":" in ip and use_ipv6) or (":" not in ip and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


def install_peer_policy(policy: PeerPolicy) -> None:
    """Make aioice drop every remote candidate whose address `policy` denies (process-wide).

    aioice calls `validate_remote_candidate` for each candidate it is about to pair, with the
    address it would send checks to (an mDNS name's resolved address included); a ValueError
    there makes it ignore the candidate. An mDNS name is not even looked up while the policy
    denies the mDNS group.
    """

    def validate_remote_candidate(candidate: Candidate, host: str) -> str:
        address = _validate_remote_candidate(candidate, host)
        if not policy.is_allowed((address, candidate.port)):
            logger.debug("remote candidate denied by the peer policy: ignored")
            raise ValueError("address denied by the peer policy")
        return address

    async def add_remote_candidate(
        connection: aioice.ice.Connection, candidate: Candidate | None
    ) -> None:
        if (
            candidate is not None
            and mdns.is_mdns_hostname(candidate.host)
            and not policy.is_allowed(MDNS_GROUP)
        ):
            logger.debug("mDNS candidate ignored: the peer policy denies multicast")
            return
        await _add_remote_candidate(connection, candidate)

    aioice.ice.validate_remote_candidate = validate_remote_candidate
    aioice.ice.Connection.add_remote_candidate = add_remote_candidate  # type: ignore[method-assign,assignment]
