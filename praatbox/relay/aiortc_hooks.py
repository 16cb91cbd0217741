"""Every hook into aiortc's and aioice's internals, in one place, checked when the relay starts.

These libraries have no public API for what the relay needs, so a few private names are used;
`check_hooks` fails at start (not in the middle of a call) when an upgrade moved one of them:

- a publisher's RTP packets: the relay's receivers get a `PacketTap` in place of their jitter
  buffer, so each packet is handed on as aiortc has checked it (SRTP, RTX unwrapped, NACKs and
  receiver reports to the publisher, REMB) and never reassembled into a frame;
- a subscriber's packets: the relay writes them itself (`rtp_writer`: SRTP protect, then the
  nominated ICE pair's socket) with the SSRCs of the aiortc sender that owns the m-line, which
  keeps its RTCP: sender reports (counters filled in by the relay), NACKs answered by the relay
  (`_retransmit`), PLI/FIR turned into a keyframe request to the publisher (`_send_keyframe`),
  the subscriber's receiver estimate (REMB) and loss shown to the relay (`_handle_rtcp_packet`);
- keyframe requests to a publisher go through a receiver's `_send_rtcp_pli`; the receiver
  estimate a receiver sends its publisher can be capped (`_send_rtcp`, `RembCap`);
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

import asyncio
import fractions
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Protocol

import aioice.ice
import aiortc.rtcrtpreceiver
import av
from aioice import Candidate, mdns
from aiortc import RTCDtlsTransport, RTCIceTransport, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import is_rtx
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from praatbox.turn.peers import PeerPolicy

from .rtp import ABS_SEND_TIME_URI, AUDIO_LEVEL_URI, MID_URI

logger = logging.getLogger(__name__)

# The versions these hooks were written against (pyproject.toml pins the same ranges).
SUPPORTED_VERSIONS = {"aiortc": "1.16.", "aioice": "0.13."}
# aiortc keeps each receiver's jitter buffer in a name-mangled private attribute.
JITTER_BUFFER_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"

# An mDNS lookup is a query to this multicast group: it follows the policy for that address.
MDNS_GROUP = ("224.0.0.251", 5353)

_validate_remote_candidate = aioice.ice.validate_remote_candidate
_add_remote_candidate = aioice.ice.Connection.add_remote_candidate


def _uses(function: Callable[..., Any], *names: str) -> bool:
    return set(names) <= set(function.__code__.co_names)


def check_hooks() -> None:
    """Refuse to start when aiortc or aioice lacks a name the hooks below rely on."""
    problems = [f"{package} {version(package)} (hooks are for {prefix}x)"
                for package, prefix in SUPPORTED_VERSIONS.items()
                if not version(package).startswith(prefix)]
    expected = {
        "aiortc.rtcrtpreceiver.get_decoder": hasattr(aiortc.rtcrtpreceiver, "get_decoder"),
        "RTCRtpReceiver._send_rtcp_pli": hasattr(RTCRtpReceiver, "_send_rtcp_pli"),
        f"RTCRtpReceiver.{JITTER_BUFFER_ATTRIBUTE}":
            _uses(RTCRtpReceiver.__init__, JITTER_BUFFER_ATTRIBUTE)
            and _uses(RTCRtpReceiver._handle_rtp_packet, JITTER_BUFFER_ATTRIBUTE),
        "RTCRtpSender._send_keyframe, _retransmit and _send_rtcp": all(
            hasattr(RTCRtpSender, name) for name in ("_send_keyframe", "_retransmit", "_send_rtcp")
        ) and _uses(RTCRtpSender._handle_rtcp_packet, "_send_keyframe", "_retransmit")
          and _uses(RTCRtpSender._run_rtcp, "_send_rtcp"),
        "RTCRtpSender._ssrc and _rtx_ssrc": _uses(RTCRtpSender.__init__, "_ssrc", "_rtx_ssrc"),
        "RTCRtpSender._handle_rtcp_packet": hasattr(RTCRtpSender, "_handle_rtcp_packet"),
        "RTCRtpReceiver._send_rtcp sends REMB": _uses(RTCRtpReceiver._handle_rtp_packet,
                                                       "_send_rtcp", "pack_remb_fci"),
        "RTCRtpSender._stream_id and _track_id": {"_stream_id", "_track_id"} <= set(
            RTCRtpSender.__init__.__code__.co_names + RTCRtpSender.replaceTrack.__code__.co_names),
        "RTCDtlsTransport._state and _tx_srtp": _uses(RTCDtlsTransport._send_rtp,
                                                      "_state", "_tx_srtp"),
        "RTCIceTransport._connection": _uses(RTCIceTransport.__init__, "_connection"),
        "aioice.ice.Connection._nominated": _uses(aioice.ice.Connection.sendto,
                                                  "_nominated", "protocol", "remote_addr"),
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
    """Make every aiortc receiver in this process yield encoded frames, not pictures.

    For the aiortc peers that stand in for browsers in the tests and the bench: they can then
    compare the frames they receive with the ones sent, without decoding. The relay itself
    needs no decoder: its receivers never reassemble frames (`PacketTap`).
    """
    aiortc.rtcrtpreceiver.get_decoder = _pass_through_decoder


OnPacket = Callable[[RtpPacket], None]
OnFrame = Callable[[bytes], None]


class PacketTap:
    """Stands in for an aiortc receiver's jitter buffer: hands each packet on, keeps none.

    The receiver calls `add` from its packet handler in the event loop, after SRTP, RTX
    unwrapping, NACK bookkeeping and bitrate estimation. Returning no frame means nothing ever
    reaches the receiver's decoder thread (which only ends, with the receiver). With `on_frame`
    (the test-only decode probe) the packets also go through aiortc's own jitter buffer, and
    each frame it completes is shown to `on_frame`.
    """

    def __init__(self, jitter_buffer: Any, on_packet: OnPacket, on_frame: OnFrame | None) -> None:
        self._jitter_buffer = jitter_buffer
        self._on_packet = on_packet
        self._on_frame = on_frame

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        try:
            self._on_packet(packet)
            if self._on_frame is not None:
                frame = self._jitter_buffer.add(packet)[1]
                if frame is not None:
                    self._on_frame(frame.data)
        except Exception:
            # An exception here would end the whole connection's receive loop.
            logger.exception("forwarding a packet failed")
        return False, None


def tap_packets(receiver: RTCRtpReceiver, on_packet: OnPacket,
                on_frame: OnFrame | None = None) -> None:
    """Put a `PacketTap` where `receiver` reassembles frames."""
    jitter_buffer = getattr(receiver, JITTER_BUFFER_ATTRIBUTE)
    setattr(receiver, JITTER_BUFFER_ATTRIBUTE, PacketTap(jitter_buffer, on_packet, on_frame))


async def send_pli(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """Ask the publisher behind `receiver` for a keyframe (an RTCP PLI for `ssrc`)."""
    await receiver._send_rtcp_pli(ssrc)


def _remb(packet: AnyRtcpPacket) -> tuple[int, list[int]] | None:
    """The bitrate and SSRCs of a receiver estimate (REMB), None for any other packet."""
    if not isinstance(packet, RtcpPsfbPacket) or packet.fmt != RTCP_PSFB_APP:
        return None
    try:
        return unpack_remb_fci(packet.fci)
    except ValueError:
        return None


class RembCap:
    """Caps the receiver estimate (REMB) a relay receiver sends its publisher: the browser then
    sends no more than that. aiortc sends its own estimate about once a second; a lower cap is
    sent at once."""

    def __init__(self, receiver: RTCRtpReceiver) -> None:
        self.cap_bps: int | None = None
        self._last: tuple[int, int, list[int]] | None = None  # sender SSRC, estimate, SSRCs
        self._send = receiver._send_rtcp
        self._pending: set[asyncio.Future[None]] = set()
        receiver._send_rtcp = self._send_capped  # type: ignore[method-assign]

    def set(self, cap_bps: int | None) -> None:
        lower = cap_bps is not None and (self.cap_bps is None or cap_bps < self.cap_bps)
        self.cap_bps = cap_bps
        if lower and self._last is not None:
            ssrc, estimate, ssrcs = self._last
            packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=ssrc, media_ssrc=0,
                                    fci=pack_remb_fci(estimate, ssrcs))
            task = asyncio.ensure_future(self._send_capped(packet))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _send_capped(self, packet: AnyRtcpPacket) -> None:
        remb = _remb(packet)
        if remb is not None and isinstance(packet, RtcpPsfbPacket):
            estimate, ssrcs = remb
            self._last = (packet.ssrc, estimate, ssrcs)
            if self.cap_bps is not None and estimate > self.cap_bps:
                packet.fci = pack_remb_fci(self.cap_bps, ssrcs)
        await self._send(packet)


@dataclass(frozen=True)
class SendParameters:
    """What a subscriber's browser agreed to receive on one m-line."""

    ssrc: int
    rtx_ssrc: int
    payload_type: int
    rtx_payload_type: int | None
    clock_rate: int
    mid: str | None
    mid_extension_id: int | None
    abs_send_time_extension_id: int | None
    audio_level_extension_id: int | None


def send_parameters(sender: RTCRtpSender, parameters: RTCRtpSendParameters) -> SendParameters:
    """Read the negotiated codec, RTX, mid and header extension ids of `sender`."""
    codec = parameters.codecs[0]
    if codec.payloadType is None:
        raise ValueError("negotiated codec without a payload type")
    rtx = next((c.payloadType for c in parameters.codecs
                if is_rtx(c) and c.parameters.get("apt") == codec.payloadType), None)
    ids = {extension.uri: extension.id for extension in parameters.headerExtensions}
    return SendParameters(
        ssrc=sender._ssrc, rtx_ssrc=sender._rtx_ssrc, payload_type=codec.payloadType,
        rtx_payload_type=rtx, clock_rate=codec.clockRate, mid=parameters.muxId,
        mid_extension_id=ids.get(MID_URI), abs_send_time_extension_id=ids.get(ABS_SEND_TIME_URI),
        audio_level_extension_id=ids.get(AUDIO_LEVEL_URI),
    )


class SenderOwner(Protocol):
    """Who writes a sender's packets, and so answers its subscriber's RTCP."""

    def sender_started(self, parameters: SendParameters, write: Callable[[bytes], bool]) -> None:
        """The subscriber's transport is up: packets may go out through `write`."""

    def keyframe_requested(self) -> None:
        """The subscriber sent a PLI or FIR."""

    def retransmit(self, sequence_number: int) -> None:
        """The subscriber sent a NACK for this packet."""

    def estimate_received(self, bitrate_bps: int) -> None:
        """The subscriber's receiver estimate (REMB) names this sender's stream."""

    def loss_reported(self, fraction_lost: int) -> None:
        """The subscriber's receiver report on this stream: the fraction lost in 256ths."""

    def sender_info(self) -> RtcpSenderInfo | None:
        """Counters for the next sender report (None: keep aiortc's)."""


class IdleTrack(MediaStreamTrack):
    """The track of a sender whose packets the relay writes: it never yields a frame, so the
    sender's own RTP loop waits without cost until the sender stops."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._stopped = asyncio.Event()

    async def recv(self) -> av.Packet:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


def rtp_writer(transport: RTCDtlsTransport) -> Callable[[bytes], bool]:
    """Protect and send one RTP packet at once, in the caller's turn of the event loop.

    aiortc's own path (`_send_rtp`) is three coroutines deep for one `sendto`; the relay
    sends each publisher's packet to every subscriber from inside the receive handler. The
    transport's byte and packet counters are left as they are. False: not sent (not connected).
    """
    connection = transport.transport._connection

    def write(packet: bytes) -> bool:
        pair = connection._nominated.get(1)
        if pair is None or transport._state is not DtlsState.CONNECTED:
            return False
        pair.protocol.transport.sendto(transport._tx_srtp.protect(packet), pair.remote_addr)
        return True

    return write


def take_over_sender(sender: RTCRtpSender, owner: SenderOwner) -> None:
    """Let `owner` write what `sender` sends and answer its RTCP (the sender's track must be an
    `IdleTrack`). aiortc's sender keeps the SDP (SSRCs, msid), RTCP routing, receiver reports
    and its sender-report timer."""
    start = sender.send

    async def send(parameters: RTCRtpSendParameters) -> None:
        await start(parameters)
        owner.sender_started(send_parameters(sender, parameters), rtp_writer(sender.transport))

    async def retransmit(sequence_number: int) -> None:
        owner.retransmit(sequence_number)

    send_rtcp = sender._send_rtcp

    async def send_reports(packets: list[AnyRtcpPacket]) -> None:
        info = owner.sender_info()
        if info is not None:
            for packet in packets:
                if isinstance(packet, RtcpSrPacket):
                    packet.sender_info = info
        await send_rtcp(packets)

    handle_rtcp = sender._handle_rtcp_packet
    ssrc = sender._ssrc

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        remb = _remb(packet)
        if remb is not None:
            owner.estimate_received(remb[0])
        elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == ssrc:
                    owner.loss_reported(report.fraction_lost)
        await handle_rtcp(packet)

    sender.send = send  # type: ignore[method-assign]
    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]
    sender._send_keyframe = owner.keyframe_requested  # type: ignore[method-assign]
    sender._retransmit = retransmit  # type: ignore[method-assign]
    sender._send_rtcp = send_reports  # type: ignore[method-assign]


def label_sender(sender: RTCRtpSender, stream_id: str, track_id: str) -> None:
    """Set the msid a sender announces: how the browser tells whose picture this is."""
    sender._stream_id = stream_id
    sender._track_id = track_id


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
