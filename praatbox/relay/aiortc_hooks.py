"""Every hook into aiortc's and aioice's internals, in one place, checked when the relay starts.

These libraries have no public API for what the relay needs, so a few private names are used;
`check_hooks` fails at start (not in the middle of a call) when an upgrade moved one of them:

- receivers yield encoded frames: `aiortc.rtcrtpreceiver.get_decoder` is replaced by a
  pass-through, and the relay's receivers get a tap in place of their decoder queue;
- keyframe requests go through a receiver's `_send_rtcp_pli`, and a subscriber's requests
  reach the publisher through its sender's `_send_keyframe`;
- a sender's msid (`_stream_id`, `_track_id`) names the publisher for the browser;
- the local addresses offered (`aioice.ice.get_host_addresses`) and the remote ones checked.

A browser names its ICE candidates itself. Used as given, they would make the relay send STUN
checks (and then media) to the relay host's loopback services, the cloud metadata endpoint
(169.254.169.254) or the private network behind it. So every remote candidate passes the TURN
server's peer policy (`praatbox.turn.peers`, same settings) before aioice pairs it: candidates
in the SDP of an answer and trickled ones alike (aiortc hands both to
`Connection.add_remote_candidate`), and mDNS names once resolved.
"""

from __future__ import annotations

import fractions
import logging
import queue
from importlib.metadata import version
from typing import Callable

import aioice.ice
import aiortc.rtcrtpreceiver
import av
from aioice import Candidate, mdns
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from praatbox.turn.peers import PeerPolicy

logger = logging.getLogger(__name__)

# The versions these hooks were written against (pyproject.toml pins the same ranges).
SUPPORTED_VERSIONS = {"aiortc": "1.16.", "aioice": "0.13."}
# aiortc keeps each receiver's decoder queue in a name-mangled private attribute.
DECODER_QUEUE_ATTRIBUTE = "_RTCRtpReceiver__decoder_queue"

# An mDNS lookup is a query to this multicast group: it follows the policy for that address.
MDNS_GROUP = ("224.0.0.251", 5353)

_validate_remote_candidate = aioice.ice.validate_remote_candidate
_add_remote_candidate = aioice.ice.Connection.add_remote_candidate


def check_hooks() -> None:
    """Refuse to start when aiortc or aioice lacks a name the hooks below rely on."""
    problems = [f"{package} {version(package)} (hooks are for {prefix}x)"
                for package, prefix in SUPPORTED_VERSIONS.items()
                if not version(package).startswith(prefix)]
    expected = {
        "aiortc.rtcrtpreceiver.get_decoder": hasattr(aiortc.rtcrtpreceiver, "get_decoder"),
        "RTCRtpReceiver._send_rtcp_pli": hasattr(RTCRtpReceiver, "_send_rtcp_pli"),
        "RTCRtpSender._send_keyframe": hasattr(RTCRtpSender, "_send_keyframe"),
        "RTCRtpSender._stream_id and _track_id": {"_stream_id", "_track_id"} <= set(
            RTCRtpSender.__init__.__code__.co_names + RTCRtpSender.replaceTrack.__code__.co_names),
        f"RTCRtpReceiver.{DECODER_QUEUE_ATTRIBUTE}":
            DECODER_QUEUE_ATTRIBUTE in RTCRtpReceiver.__init__.__code__.co_names,
        "aioice.ice.get_host_addresses": hasattr(aioice.ice, "get_host_addresses"),
        "aioice.ice.validate_remote_candidate": hasattr(aioice.ice, "validate_remote_candidate"),
        "aioice.ice.Connection.add_remote_candidate":
            hasattr(aioice.ice.Connection, "add_remote_candidate"),
    }
    problems += [f"{name} is missing" for name, found in expected.items() if not found]
    if problems:
        raise RuntimeError("the relay's aiortc/aioice hooks do not fit: " + "; ".join(problems))


class PassThroughDecoder(Decoder):
    """Hand the reassembled frame on as an `av.Packet` instead of decoding it."""

    def __init__(self, clock_rate: int) -> None:
        self._time_base = fractions.Fraction(1, clock_rate)

    def decode(self, encoded_frame: JitterFrame) -> list[av.Packet]:  # type: ignore[override]
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = self._time_base
        return [packet]


def _pass_through_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    return PassThroughDecoder(codec.clockRate)


def install_pass_through() -> None:
    """Make every aiortc receiver in this process yield encoded packets (relay process only):
    a sender whose track yields packets only repacks them into RTP."""
    aiortc.rtcrtpreceiver.get_decoder = _pass_through_decoder


def replace_decoder_queue(
    receiver: RTCRtpReceiver, make: Callable[[queue.Queue[object]], object]
) -> None:
    """Put `make(original queue)` where `receiver` queues frames for its decoder thread."""
    setattr(receiver, DECODER_QUEUE_ATTRIBUTE, make(getattr(receiver, DECODER_QUEUE_ATTRIBUTE)))


def forward_keyframe_requests(sender: RTCRtpSender, request: Callable[[], None]) -> None:
    """Route a subscriber's keyframe requests (PLI/FIR) to `request`: aiortc's sender would only
    set a flag for its own encoder, but with pass-through the keyframe must come from the
    publisher."""
    sender._send_keyframe = request  # type: ignore[method-assign]


def label_sender(sender: RTCRtpSender, stream_id: str, track_id: str) -> None:
    """Set the msid a sender announces: how the browser tells whose picture this is."""
    sender._stream_id = stream_id
    sender._track_id = track_id


async def request_keyframe(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """Ask the publisher behind `receiver` for a keyframe (an RTCP PLI for `ssrc`)."""
    await receiver._send_rtcp_pli(ssrc)


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
