// The call page: the only module that touches the DOM. Wires media, signaling and peer links.

import { openLocalMedia } from "./media.js";
import { PeerLink } from "./peer.js";
import { Signaling } from "./signaling.js";
import { summarise } from "./stats.js";

const STATUS_INTERVAL_MS = 1000;

const config = JSON.parse(document.getElementById("room-config").textContent);
const strings = JSON.parse(document.getElementById("room-strings").textContent);
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  joined: false,
  self: null,
  moderator: Boolean(config.moderator),
  mode: "p2p",
  ended: false,
  securityState: "waiting",
  /** @type {MediaStream | null} */
  localStream: null,
  /** @type {Map<string, PeerLink>} */
  links: new Map(),
};

/** @type {Signaling} */
let signaling;

function announce(text) {
  const item = document.createElement("p");
  item.className = "notice";
  item.textContent = text;
  $("notices").append(item);
  window.setTimeout(() => item.remove(), 8000);
}

function showMediaProblem(problem) {
  const key = { denied: "mediaDenied", missing: "mediaMissing", busy: "mediaBusy", insecure: "mediaMissing" }[problem];
  if (!key) return;
  const box = $("media-problem");
  box.textContent = strings[key];
  box.hidden = false;
}

function tileFor(peerId) {
  let tile = document.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"]`);
  if (tile) return tile;
  tile = document.createElement("div");
  tile.className = "tile";
  tile.dataset.peer = peerId;
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.dataset.testid = "remote-video";
  video.dataset.peer = peerId;
  video.setAttribute("aria-label", strings.remoteVideo);
  tile.append(video);
  $("stage").append(tile);
  $("alone").hidden = true;
  return tile;
}

function playWithSound(video) {
  video.play().catch(() => {
    // Autoplay with sound was refused: one tap on the picture starts it.
    video.controls = true;
  });
}

function addPeer(peerId) {
  const existing = state.links.get(peerId);
  if (existing) return existing;
  const link = new PeerLink({
    peerId,
    polite: String(state.self) > peerId,
    iceServers: config.iceServers,
    iceTransportPolicy: config.iceTransportPolicy,
    localStream: state.localStream,
    sendSignal: (data) => signaling.signal(peerId, data),
    onStream: (stream) => {
      const video = /** @type {HTMLVideoElement} */ (tileFor(peerId).querySelector("video"));
      if (video.srcObject !== stream) {
        video.srcObject = stream;
        playWithSound(video);
      }
    },
    onConnectionState: () => refreshSecurityStatus(),
  });
  state.links.set(peerId, link);
  tileFor(peerId);
  return link;
}

function removePeer(peerId) {
  const link = state.links.get(peerId);
  if (link) link.close();
  state.links.delete(peerId);
  const tile = document.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"]`);
  if (tile) tile.remove();
  $("alone").hidden = state.links.size > 0;
  refreshSecurityStatus();
}

async function mediaSummary() {
  const media = {};
  for (const [peerId, link] of state.links) media[peerId] = await summarise(link.pc);
  return media;
}

/** Derive the security state from what the connections really use. */
async function refreshSecurityStatus() {
  if (state.ended) return;
  const media = await mediaSummary();
  const connected = Object.values(media).filter((m) => m.connectionState === "connected");
  let next = "waiting";
  if (state.mode === "group") next = "group";
  else if (connected.length) next = connected.some((m) => m.candidateType === "relay") ? "p2p-turn" : "p2p";
  else if (state.links.size) next = "connecting";
  if (next === state.securityState) return;
  state.securityState = next;
  const status = $("security-status");
  status.dataset.state = next === "connecting" ? "waiting" : next;
  $("security-label").textContent = strings[next];
  if (next !== "connecting") announce(strings[next]);
}

function endCall(sendHangup) {
  if (state.ended) return;
  state.ended = true;
  if (sendHangup) signaling.send({ type: "hangup" });
  signaling.close();
  for (const link of state.links.values()) link.close();
  state.links.clear();
  if (state.localStream) state.localStream.getTracks().forEach((track) => track.stop());
  for (const id of ["stage", "local-video", "controls"]) $(id).hidden = true;
  $("ended").hidden = false;
  $("ended").querySelector("a").focus();
}

function wireControls() {
  $("hangup").addEventListener("click", () => endCall(true));
  $("mic-toggle").addEventListener("click", (event) => toggleTrack(event.currentTarget, "audio", "mute", "unmute"));
  $("camera-toggle").addEventListener("click", (event) =>
    toggleTrack(event.currentTarget, "video", "cameraOff", "cameraOn"),
  );
}

function toggleTrack(button, kind, offLabel, onLabel) {
  if (!state.localStream) return;
  const tracks = state.localStream.getTracks().filter((track) => track.kind === kind);
  const nowEnabled = !tracks.every((track) => track.enabled);
  tracks.forEach((track) => (track.enabled = nowEnabled));
  button.setAttribute("aria-pressed", String(!nowEnabled));
  button.textContent = strings[nowEnabled ? offLabel : onLabel];
}

function connectSignaling() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  signaling = new Signaling(`${scheme}//${location.host}/ws/${config.roomId}`);
  signaling.on("welcome", (message) => {
    state.self = message.self;
    state.moderator = message.moderator;
    state.mode = message.mode;
    state.joined = true;
    message.peers.forEach(addPeer);
    refreshSecurityStatus();
  });
  signaling.on("peer-joined", (message) => {
    addPeer(message.peer);
    announce(strings.peerJoined);
  });
  signaling.on("peer-left", (message) => {
    removePeer(message.peer);
    announce(message.reason === "hangup" ? strings.peerLeft : strings.peerLost);
  });
  signaling.on("signal", (message) => {
    addPeer(message.from).handleSignal(message.data).catch((error) => console.warn(error));
  });
  signaling.on("error", (message) => {
    if (message.code === "room-full") announce(strings.roomFull);
    else if (message.code === "room-not-open") announce(strings.notAllowed);
    else console.warn("signaling error", message.code);
  });
  signaling.onclose = () => {
    state.joined = false;
    if (!state.ended) {
      const box = $("media-problem");
      box.textContent = strings.connectionLost;
      box.hidden = false;
    }
  };
  return signaling.connect();
}

window.praatbox = {
  async state() {
    return {
      joined: state.joined,
      self: state.self,
      moderator: state.moderator,
      locked: false,
      mode: state.mode,
      participants: [state.self, ...state.links.keys()].filter(Boolean),
      media: await mediaSummary(),
      e2ee: state.mode !== "group",
      safetyWords: [],
      recording: false,
      streaming: false,
      blur: false,
    };
  },
};

async function main() {
  wireControls();
  const { stream, problem } = await openLocalMedia();
  state.localStream = stream;
  if (stream) /** @type {HTMLVideoElement} */ ($("local-video")).srcObject = stream;
  showMediaProblem(problem);
  await connectSignaling().catch(() => undefined);
  window.setInterval(refreshSecurityStatus, STATUS_INTERVAL_MS);
}

main();
