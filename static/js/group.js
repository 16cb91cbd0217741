// @ts-check
/**
 * Group mode: one RTCPeerConnection to the media relay.
 *
 * The relay always offers (docs/signaling.md). Its first audio and video m-lines receive what
 * this browser publishes; every other m-line carries one publisher, whose peer id is the
 * MediaStream id. The relay re-offers on every join and leave: a publisher that left shows
 * up as a transceiver that became inactive. Every sender and receiver goes through the
 * group's frame encryption (group-e2ee.js), which the relay forwards unread.
 */

import { ConnectionWatch, RESTART_RETRY_MS } from "./connection-watch.js";
import { needsInsertableStreams } from "./group-e2ee.js";

/** Cap our upload: every participant's video goes through one server. */
const VIDEO_MAX_BITRATE_BPS = 500_000;
/**
 * Two temporal layers: the relay sends someone on a weak link only the base layer (every other
 * frame, about two thirds of the bits). Three layers would leave a base of under 5 frames a
 * second from a 15 fps camera.
 */
const SCALABILITY_MODE = "L1T2";

/**
 * What the relay sends this page of each publisher's video: the temporal layer (0: the base,
 * half the frame rate) and whether that is all the publisher sends; null while paused.
 * @typedef {Record<string, {layer: number, full: boolean} | null>} VideoLayers
 */

/**
 * @typedef {{description: RTCSessionDescriptionInit} | {candidate: RTCIceCandidateInit}
 *   | {error: {code: string, message: string}}
 *   | {layers: VideoLayers, paused: boolean, held: boolean}} RelaySignal
 */

export class GroupSession {
  /**
   * @param {object} options
   * @param {(data: object) => void} options.sendSignal sends `{type: "signal", to: "relay", data}`
   * @param {MediaStream | null} [options.localStream]
   * @param {(peerId: string, stream: MediaStream) => void} [options.onRemoteStream]
   * @param {(peerId: string) => void} [options.onRemoteGone]
   * @param {(state: RTCPeerConnectionState) => void} [options.onConnectionState]
   * @param {(error: {code: string, message: string}) => void} [options.onError]
   * @param {(paused: boolean) => void} [options.onVideoPaused] the relay paused (or resumed) all
   *   video to this page: the link cannot carry it
   * @param {RTCIceServer[]} [options.iceServers] our TURN server, if any; never a third party
   * @param {import("./group-e2ee.js").GroupEncryption | null} [options.encryption]
   * @param {() => void} [options.onLost] the path to the relay is lost: aiortc cannot restart
   *   ICE, so the owner replaces this session with a fresh one
   * @param {boolean} [options.replacing] this session replaces a lost one (or the room moved)
   * @param {string | null} [options.lostUfrag] the relay's ICE username fragment in the lost
   *   connection: its offers, still on their way, belong to that connection and are dropped
   */
  constructor({
    sendSignal,
    localStream = null,
    onRemoteStream = () => {},
    onRemoteGone = () => {},
    onConnectionState = () => {},
    onError = () => {},
    onVideoPaused = () => {},
    iceServers = [],
    encryption = null,
    onLost = () => {},
    replacing = false,
    lostUfrag = null,
  }) {
    this.sendSignal = sendSignal;
    this.localStream = localStream;
    this.onRemoteStream = onRemoteStream;
    this.onRemoteGone = onRemoteGone;
    this.onConnectionState = onConnectionState;
    this.onError = onError;
    this.onVideoPaused = onVideoPaused;
    /** @type {VideoLayers} */
    this.layers = {};
    /** The relay holds our video back for someone else's link: our send estimate is its ask. */
    this.held = false;
    /** @type {number | null} our video's cap while our link is weak (bits/s) */
    this.videoLimit = null;
    this.encryption = encryption;
    this.lostUfrag = lostUfrag;
    /** The connection to the relay, exposed for getStats. */
    this.pc = new RTCPeerConnection(/** @type {RTCConfiguration} */ ({
      iceServers, bundlePolicy: "max-bundle",
      ...(encryption && needsInsertableStreams() ? { encodedInsertableStreams: true } : {}),
    }));
    /** @type {Map<RTCRtpTransceiver, string>} which publisher each receiving transceiver shows */
    this.publisherOf = new Map();
    /** @type {Map<string, MediaStream>} */
    this.streams = new Map();
    /** Signals are applied one at a time, in order. */
    this.queue = Promise.resolve();
    this.closed = false;

    this.addPublishingSenders();
    this.pc.addEventListener("icecandidate", (event) => {
      // A null candidate (end of gathering) needs no message: the relay ignores it anyway.
      if (event.candidate && event.candidate.candidate) {
        this.sendSignal({ candidate: event.candidate.toJSON() });
      }
    });
    this.pc.addEventListener("connectionstatechange", () => {
      this.onConnectionState(this.pc.connectionState);
    });
    this.pc.addEventListener("track", (event) => this.handleTrack(event));
    // aiortc cannot restart ICE, and a path that changed (another network) never heals: a
    // connection `disconnected` for a few seconds is replaced by a fresh one (`onLost`).
    this.watch = new ConnectionWatch(this.pc, onLost);
    if (replacing) {
      // Reconnecting until connected; given up on (replaced again) if that takes too long.
      this.watch.reconnecting = true;
      this.watch.schedule(RESTART_RETRY_MS);
    }
  }

  /** Whether the path to the relay was lost and no new one is up yet. */
  get reconnecting() {
    return this.watch.reconnecting;
  }

  /** The relay's ICE username fragment in this connection, else in the one it replaced. */
  relayUfrag() {
    return iceUfrag(this.pc.remoteDescription ? this.pc.remoteDescription.sdp : "") || this.lostUfrag;
  }

  /**
   * Apply a signal from the relay: an offer, an ICE candidate, or an error report.
   * @param {RelaySignal} data
   * @returns {Promise<void>}
   */
  handleSignal(data) {
    this.queue = this.queue
      .then(() => this.applySignal(data))
      .catch((error) => console.warn("group: signal failed", error));
    return this.queue;
  }

  /** @param {RelaySignal} data */
  async applySignal(data) {
    if (this.closed) return;
    if ("description" in data && data.description.type === "offer") {
      if (this.lostUfrag && iceUfrag(data.description.sdp || "") === this.lostUfrag) return;
      await this.pc.setRemoteDescription(data.description);
      await this.attachLocalTracks();
      this.preferVp8();
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      const answer = /** @type {RTCSessionDescription} */ (this.pc.localDescription);
      this.sendSignal({ description: { type: answer.type, sdp: answer.sdp } });
      await this.capVideoBitrate();
      this.forgetGonePublishers();
    } else if ("candidate" in data && data.candidate && data.candidate.candidate) {
      await this.pc.addIceCandidate(data.candidate);
    } else if ("error" in data) {
      this.onError(data.error);
    } else if ("layers" in data) {
      this.layers = data.layers;
      this.held = data.held === true;
      this.onVideoPaused(data.paused);
    }
  }

  /**
   * Use a new camera/microphone stream (or none) from now on, without renegotiating.
   * @param {MediaStream | null} stream
   */
  setLocalStream(stream) {
    this.localStream = stream;
    return this.attachLocalTracks();
  }

  close() {
    this.closed = true;
    this.watch.stop();
    this.pc.close();
    for (const peerId of this.streams.keys()) this.onRemoteGone(peerId);
    this.streams.clear();
    this.publisherOf.clear();
  }

  /**
   * Make the senders of what we publish before the relay's first offer, each with its frame
   * encryption: the offer's first audio and video m-lines take them (JSEP gives a remote offer's
   * m-line to a transceiver that addTrack made). Chromium never hands frames to the transform of
   * a sender whose transceiver a remote offer created, so that media would leave unencrypted.
   * A kind we have no track for gets a placeholder, replaced by nothing at once.
   */
  addPublishingSenders() {
    const stream = this.localStream || new MediaStream();
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      const own = this.localStream ? this.localStream.getTracks().find((t) => t.kind === kind) : undefined;
      const placeholder = own ? null : placeholderTrack(kind);
      const sender = this.pc.addTrack(own || /** @type {Placeholder} */ (placeholder).track, stream);
      if (this.encryption) this.encryption.protectSender(sender, kind);
      if (placeholder) sender.replaceTrack(null).finally(placeholder.release);
    }
  }

  /** The transceivers the relay receives on: the first audio and the first video m-line. */
  publishingTransceivers() {
    /** @type {{audio?: RTCRtpTransceiver, video?: RTCRtpTransceiver}} */
    const found = {};
    for (const transceiver of this.pc.getTransceivers()) {
      const kind = /** @type {"audio" | "video"} */ (transceiver.receiver.track.kind);
      if (!found[kind]) found[kind] = transceiver;
    }
    return found;
  }

  async attachLocalTracks() {
    const publishing = this.publishingTransceivers();
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      const transceiver = publishing[kind];
      if (!transceiver || transceiver.currentDirection === "stopped") continue;
      const tracks = this.localStream ? this.localStream.getTracks() : [];
      const track = tracks.find((t) => t.kind === kind) || null;
      transceiver.direction = "sendonly";
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    }
  }

  /** VP8 passes through the relay untouched (encrypted frames included); H.264 does not. */
  preferVp8() {
    const capabilities = window.RTCRtpReceiver.getCapabilities?.("video");
    if (!capabilities) return;
    const vp8 = capabilities.codecs.filter((c) => /^video\/(vp8|rtx)$/i.test(c.mimeType));
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.receiver.track.kind !== "video" || !transceiver.setCodecPreferences) continue;
      try {
        transceiver.setCodecPreferences(vp8);
      } catch (error) {
        console.warn("group: cannot prefer VP8", error);
      }
    }
  }

  /**
   * Send our video at most this fast while our own link is weak (null: the group cap again),
   * so that our audio and the feedback about what we receive still get through.
   * @param {number | null} maxBitrate bits/s
   */
  limitVideo(maxBitrate) {
    this.videoLimit = maxBitrate === null ? null : Math.min(maxBitrate, VIDEO_MAX_BITRATE_BPS);
    return this.capVideoBitrate();
  }

  /** Cap our video's bitrate and send it in temporal layers. */
  async capVideoBitrate() {
    const sender = this.publishingTransceivers().video?.sender;
    if (!sender || !sender.track) return;
    const parameters = sender.getParameters();
    if (!parameters.encodings || parameters.encodings.length === 0) parameters.encodings = [{}];
    const encoding = /** @type {RTCRtpEncodingParameters & {scalabilityMode?: string}} */ (
      parameters.encodings[0]);
    const maxBitrate = this.videoLimit === null ? VIDEO_MAX_BITRATE_BPS : this.videoLimit;
    if (encoding.maxBitrate === maxBitrate) return;
    encoding.maxBitrate = maxBitrate;
    encoding.scalabilityMode = SCALABILITY_MODE;
    try {
      await sender.setParameters(parameters);
    } catch (error) {
      // A browser without temporal layers still sends its video whole.
      delete encoding.scalabilityMode;
      await sender.setParameters(parameters).catch((again) => console.warn("group: cannot cap the video bitrate", again));
    }
  }

  /**
   * The m-lines that currently carry one publisher's media (for per-person getStats).
   * @param {string} peerId
   * @returns {Set<string>}
   */
  midsOf(peerId) {
    const mids = new Set();
    for (const [transceiver, publisher] of this.publisherOf) {
      if (publisher === peerId && transceiver.mid) mids.add(transceiver.mid);
    }
    return mids;
  }

  /** @param {RTCTrackEvent} event */
  handleTrack(event) {
    if (this.encryption) {
      this.encryption.protectReceiver(event.receiver, /** @type {"audio" | "video"} */ (event.track.kind));
    }
    const stream = event.streams[0];
    if (!stream) return;
    const peerId = stream.id;
    this.publisherOf.set(event.transceiver, peerId);
    event.track.addEventListener("ended", () => this.forgetGonePublishers());
    if (this.streams.get(peerId) !== stream) {
      this.streams.set(peerId, stream);
      this.onRemoteStream(peerId, stream);
    }
  }

  /** Report publishers none of whose transceivers still receive anything. */
  forgetGonePublishers() {
    const active = new Set();
    for (const [transceiver, peerId] of this.publisherOf) {
      const direction = transceiver.currentDirection;
      const live = transceiver.receiver.track.readyState === "live";
      if (live && (direction === "recvonly" || direction === "sendrecv")) {
        active.add(peerId);
      } else {
        this.publisherOf.delete(transceiver);
      }
    }
    for (const peerId of [...this.streams.keys()]) {
      if (!active.has(peerId)) {
        this.streams.delete(peerId);
        this.onRemoteGone(peerId);
      }
    }
  }
}

/**
 * The ICE username fragment of a session description (null when it has none).
 * @param {string} sdp
 */
function iceUfrag(sdp) {
  const match = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  return match ? match[1] : null;
}

/** @typedef {{track: MediaStreamTrack, release: () => void}} Placeholder */

/**
 * A track that stands in for a kind we do not send (no camera, no microphone), only to create
 * its sender; it never carries media.
 * @param {"audio" | "video"} kind
 * @returns {Placeholder}
 */
function placeholderTrack(kind) {
  if (kind === "video") {
    const track = document.createElement("canvas").captureStream(0).getVideoTracks()[0];
    return { track, release: () => track.stop() };
  }
  const context = new AudioContext();
  const track = context.createMediaStreamDestination().stream.getAudioTracks()[0];
  return { track, release: () => { track.stop(); context.close(); } };
}
