// @ts-check
// One peer-to-peer connection, with "perfect negotiation" (webrtc/samples). No UI code here.

import { ConnectionWatch } from "./connection-watch.js";

// The next connection's DTLS certificate, made before anyone waits for it: the first one also
// starts the browser's WebRTC machinery (30-40 ms before an offer, more on a busy phone). Each
// certificate is taken by one connection only, so every connection keeps a key of its own.
/** @type {RTCCertificate | null} */
let spareCertificate = null;
/** The browsers' own default key for a connection's certificate. @type {EcKeyGenParams} */
const CERTIFICATE_KEY = { name: "ECDSA", namedCurve: "P-256" };

/** Make the next connection's certificate now (the page calls this while the preview runs). */
export function prepareCertificate() {
  if (!window.RTCPeerConnection || !RTCPeerConnection.generateCertificate) return;
  RTCPeerConnection.generateCertificate(CERTIFICATE_KEY).then(
    (certificate) => {
      spareCertificate = certificate;
    },
    () => {}, // the connection makes its own then, as it always did
  );
}

/** @returns {RTCCertificate[] | undefined} the spare certificate, if one is ready and valid */
function takeCertificate() {
  const certificate = spareCertificate;
  spareCertificate = null;
  if (!certificate) return undefined;
  prepareCertificate();
  return certificate.expires > Date.now() ? [certificate] : undefined;
}

export class PeerLink {
  /**
   * @param {{peerId: string, polite: boolean, iceServers: RTCIceServer[],
   *          iceTransportPolicy?: RTCIceTransportPolicy, localStream: MediaStream | null,
   *          sendSignal: (data: object) => void, onStream: (stream: MediaStream) => void,
   *          onConnectionState: (state: string) => void,
   *          iceRestarted?: () => void, onChat?: (text: unknown) => void,
   *          freshIceServers?: () => Promise<RTCIceServer[] | null>}} options
   */
  constructor(options) {
    this.peerId = options.peerId;
    this.polite = options.polite;
    this.sendSignal = options.sendSignal;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    const pc = new RTCPeerConnection({
      iceServers: options.iceServers,
      iceTransportPolicy: options.iceTransportPolicy || "all",
      certificates: takeCertificate(),
    });
    this.pc = pc;
    /** @type {{audio: RTCRtpSender | null, video: RTCRtpSender | null}} */
    this.senders = { audio: null, video: null };
    this.localStream = options.localStream;
    this.attachLocal(options.localStream);
    // Chat straight between the two browsers (DTLS, like the media). Both sides make it with the
    // same id, so it rides on the media's negotiation and nobody has to offer it.
    this.chat = pc.createDataChannel("chat", { negotiated: true, id: 0 });
    this.chat.onmessage = (event) => options.onChat && options.onChat(event.data);
    pc.onnegotiationneeded = async () => {
      // The first offer comes from the impolite side only: two first offers crossing each other
      // (both sides learn of each other at once) lost the call now and then in Chromium.
      if (this.polite && !pc.currentRemoteDescription) return;
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.sendSignal({ description: pc.localDescription });
      } catch (error) {
        console.warn("offer failed", error);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      this.sendSignal({ candidate: candidate ? candidate.toJSON() : null });
    };
    pc.ontrack = ({ track, streams }) => {
      options.onStream(streams[0] || new MediaStream([track]));
    };
    // Only the impolite side restarts ICE: its offer wins a collision, so two restarts never
    // cross, and the polite side answers the restart offer as any other.
    this.watch = new ConnectionWatch(pc, () => {
      if (!this.polite) this.restartIce(options);
    });
    pc.onconnectionstatechange = () => options.onConnectionState(pc.connectionState);
  }

  /** Whether the media path was lost and is not back yet. */
  get reconnecting() {
    return this.watch.reconnecting;
  }

  /**
   * Gather new candidates on a new ICE session (new TURN allocations), with TURN credentials
   * that are still valid; the offer goes out through onnegotiationneeded.
   * @param {{iceRestarted?: () => void, freshIceServers?: () => Promise<RTCIceServer[] | null>}} options
   */
  async restartIce({ iceRestarted, freshIceServers }) {
    const iceServers = freshIceServers ? await freshIceServers().catch(() => null) : null;
    if (this.pc.connectionState === "closed") return;
    if (iceServers) this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    this.pc.restartIce();
    if (iceRestarted) iceRestarted();
  }

  /**
   * @param {string} text
   * @returns {boolean} whether the other browser can get it now
   */
  sendChat(text) {
    if (this.chat.readyState !== "open") return false;
    this.chat.send(text);
    return true;
  }

  /**
   * Send our camera and microphone, or ask to receive only when we have none.
   * @param {MediaStream | null} stream
   */
  attachLocal(stream) {
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      const track = stream ? stream.getTracks().find((t) => t.kind === kind) : undefined;
      if (track) {
        this.senders[kind] = this.pc.addTrack(track, /** @type {MediaStream} */ (stream));
      } else {
        this.pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
  }

  /**
   * Swap the outgoing video (blur, screen share) without renegotiating.
   * @param {MediaStreamTrack | null} track
   */
  async replaceVideo(track) {
    if (!this.senders.video && track) this.startSendingVideo();
    if (this.senders.video) await this.senders.video.replaceTrack(track);
  }

  /**
   * Limit our video on this connection (a weak link, or the other side asked for audio only):
   * `maxBitrate` in bits/s, null lifts the cap; `active` false stops sending video at all.
   * @param {{maxBitrate?: number | null, active?: boolean}} limits
   */
  async limitVideo({ maxBitrate, active }) {
    const sender = this.senders.video;
    if (!sender) return;
    const parameters = sender.getParameters();
    if (!parameters.encodings || !parameters.encodings.length) return; // not negotiated yet
    for (const encoding of parameters.encodings) {
      if (maxBitrate === null) delete encoding.maxBitrate;
      else if (maxBitrate !== undefined) encoding.maxBitrate = maxBitrate;
      if (active !== undefined) encoding.active = active;
    }
    await sender.setParameters(parameters);
  }

  /** We came without a camera but share a screen: make the receive-only video m-line send too. */
  startSendingVideo() {
    const transceiver = this.pc
      .getTransceivers()
      .find((t) => t.receiver.track.kind === "video" && t.currentDirection !== "stopped");
    if (!transceiver) return;
    transceiver.direction = "sendrecv"; // renegotiates through onnegotiationneeded
    // Keep the new video in the same stream as our audio, so the other side shows one tile.
    if (this.localStream && transceiver.sender.setStreams) transceiver.sender.setStreams(this.localStream);
    this.senders.video = transceiver.sender;
  }

  /**
   * Apply an offer, answer or ICE candidate from the other side.
   * @param {import("./types").PeerSignal} data
   */
  async handleSignal(data) {
    const pc = this.pc;
    if ("description" in data && data.description) {
      const description = data.description;
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      this.settingRemoteAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);
      this.settingRemoteAnswer = false;
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.sendSignal({ description: pc.localDescription });
      }
    } else if ("candidate" in data) {
      try {
        await pc.addIceCandidate(data.candidate || undefined);
      } catch (error) {
        if (!this.ignoreOffer) console.warn("candidate rejected", error);
      }
    }
  }

  close() {
    this.watch.stop();
    this.pc.close();
  }
}
