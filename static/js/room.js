// The call page: the only module that touches the DOM. Wires media, signaling and peer links.

import { GroupSession } from "./group.js";
import { openLocalMedia } from "./media.js";
import { PeerLink } from "./peer.js";
import { safetyWords } from "./safety.js";
import { Signaling } from "./signaling.js";
import { fingerprints, summarise } from "./stats.js";

const STATUS_INTERVAL_MS = 1000;

const config = JSON.parse(document.getElementById("room-config").textContent);
const strings = JSON.parse(document.getElementById("room-strings").textContent);
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const optional = (id) => document.getElementById(id);

const state = {
  joined: false,
  self: null,
  moderator: Boolean(config.moderator),
  locked: $("lock-label").dataset.locked === "true",
  /** "p2p", "group" (through the relay) or "mesh" (direct to everyone: no relay available) */
  mode: "p2p",
  ended: false,
  securityState: "waiting",
  /** @type {string[]} */
  safetyWords: [],
  safetyKey: "",
  /** @type {MediaStream | null} */
  localStream: null,
  /** @type {Set<string>} the other participants */
  peers: new Set(),
  /** @type {Map<string, PeerLink>} direct connections (p2p and mesh) */
  links: new Map(),
  /** @type {GroupSession | null} the connection to the relay (group) */
  group: null,
};

/** @type {Signaling} */
let signaling;
/** @type {Promise<string[]> | null} */
let wordList = null;

function announce(text) {
  const item = document.createElement("p");
  item.className = "notice";
  item.textContent = text;
  $("notices").append(item);
  window.setTimeout(() => item.remove(), 8000);
}

function showMediaProblem(problem) {
  const key = { denied: "mediaDenied", missing: "mediaMissing", busy: "mediaBusy", insecure: "mediaMissing" }[problem];
  if (key) showProblem(strings[key]);
}

function showProblem(text) {
  const box = $("media-problem");
  box.textContent = text;
  box.hidden = false;
}

// -- remote tiles -----------------------------------------------------------------------------

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
  if (state.moderator) {
    const kick = document.createElement("button");
    kick.type = "button";
    kick.className = "kick";
    kick.dataset.testid = "kick";
    kick.textContent = strings.kick;
    kick.addEventListener("click", () => signaling.send({ type: "kick", peer: peerId }));
    tile.append(kick);
  }
  $("stage").append(tile);
  return tile;
}

function playWithSound(video) {
  video.play().catch(() => {
    // Autoplay with sound was refused: the controls let one tap start it.
    video.controls = true;
  });
}

function updatePresence() {
  $("alone").hidden = state.peers.size > 0;
  $("third-person-warning").hidden = state.peers.size < 2;
}

function showStream(peerId, stream) {
  const video = /** @type {HTMLVideoElement} */ (tileFor(peerId).querySelector("video"));
  if (video.srcObject !== stream) {
    video.srcObject = stream;
    playWithSound(video);
  }
}

function addPeer(peerId) {
  if (!state.peers.has(peerId)) {
    state.peers.add(peerId);
    tileFor(peerId);
    updatePresence();
  }
  if (state.mode !== "group") linkTo(peerId);
}

function linkTo(peerId) {
  const existing = state.links.get(peerId);
  if (existing) return existing;
  const link = new PeerLink({
    peerId,
    polite: String(state.self) > peerId,
    iceServers: config.iceServers,
    iceTransportPolicy: config.iceTransportPolicy,
    localStream: state.localStream,
    sendSignal: (data) => signaling.signal(peerId, data),
    onStream: (stream) => showStream(peerId, stream),
    onConnectionState: () => refreshSecurityStatus(),
  });
  state.links.set(peerId, link);
  return link;
}

function removePeer(peerId) {
  const link = state.links.get(peerId);
  if (link) link.close();
  state.links.delete(peerId);
  state.peers.delete(peerId);
  const tile = document.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"]`);
  if (tile) tile.remove();
  updatePresence();
  refreshSecurityStatus();
}

// -- group mode: one connection to the relay instead of one per person -----------------------

function openGroup() {
  return new GroupSession({
    sendSignal: (data) => signaling.signal("relay", data),
    localStream: state.localStream,
    iceServers: config.iceServers,
    onRemoteStream: (peerId, stream) => {
      if (state.peers.has(peerId)) showStream(peerId, stream);
    },
    onRemoteGone: (peerId) => {
      const video = document.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"] video`);
      if (video) /** @type {HTMLVideoElement} */ (video).srcObject = null;
    },
    onConnectionState: (connectionState) => {
      if (connectionState === "failed") showProblem(strings.groupFailed);
      refreshSecurityStatus();
    },
    onError: (error) => console.warn("the relay refused a signal", error.code),
  });
}

function closeGroup() {
  if (state.group) state.group.close();
  state.group = null;
}

/** Switch between direct connections and the relay, as the server decided; say so. */
function setMode(mode) {
  const previous = state.mode;
  state.mode = mode;
  closeGroup();
  if (mode === "group") {
    for (const link of state.links.values()) link.close();
    state.links.clear();
    // Also on a repeated `group`: the room moved to another relay.
    state.group = openGroup();
  } else {
    for (const peerId of state.peers) linkTo(peerId);
  }
  if (previous !== mode) announce(strings[{ group: "toGroup", mesh: "mesh", p2p: "toP2p" }[mode]]);
  refreshSecurityStatus();
}

// -- what the connections really do ----------------------------------------------------------

async function mediaSummary() {
  const media = {};
  for (const [peerId, link] of state.links) media[peerId] = await summarise(link.pc);
  const group = state.group;
  if (group) {
    // Per publisher (from the m-lines the relay tagged with their id), and the whole connection.
    for (const peerId of state.peers) media[peerId] = await summarise(group.pc, group.midsOf(peerId));
    media.relay = await summarise(group.pc);
  }
  return media;
}

/** Derive the security state from what the connections really use. */
async function refreshSecurityStatus() {
  if (state.ended) return;
  const media = await mediaSummary();
  const connected = Object.values(media).filter((m) => m.connectionState === "connected");
  const label = state.mode === "mesh" ? "mesh" : "";
  let next = "waiting";
  if (state.mode === "group") next = "group";
  else if (connected.length) next = connected.some((m) => m.candidateType === "relay") ? "p2p-turn" : "p2p";
  else if (state.links.size) next = "connecting";
  await refreshSafetyWords();
  if (`${next}|${label}` === state.securityState) return;
  state.securityState = `${next}|${label}`;
  const status = $("security-status");
  status.dataset.state = next === "connecting" ? "waiting" : next;
  $("security-label").textContent = strings[label && next !== "connecting" ? label : next];
  if (next !== "connecting") announce(strings[next]);
}

/** Show the safety words of a two-person call, from the certificates actually in use. */
async function refreshSafetyWords() {
  const links = [...state.links.values()];
  const pair = links.length === 1 && state.mode === "p2p" ? await fingerprints(links[0].pc) : null;
  const key = pair ? `${pair.local}|${pair.remote}` : "";
  if (key === state.safetyKey) return;
  state.safetyKey = key;
  state.safetyWords = [];
  if (pair) {
    wordList = wordList || fetch(`/wordlist/${config.language}.json`).then((r) => r.json());
    state.safetyWords = await safetyWords(pair, await wordList);
  }
  $("safety-words").textContent = state.safetyWords.join(" · ");
  $("safety").hidden = !pair;
}

// -- leaving ---------------------------------------------------------------------------------

/** Stop everything and show one of the closing panels (ended, kicked, denied). */
function finish(panelId, title) {
  if (state.ended) return;
  state.ended = true;
  signaling.close();
  for (const link of state.links.values()) link.close();
  state.links.clear();
  closeGroup();
  if (state.localStream) state.localStream.getTracks().forEach((track) => track.stop());
  for (const id of ["stage", "local-video", "controls", "knocking", "safety", "third-person-warning", "knocks"]) {
    $(id).hidden = true;
  }
  const panel = optional("moderator-panel");
  if (panel) panel.hidden = true;
  if (title) $("ended-title").textContent = title;
  $(panelId).hidden = false;
  const focusTarget = $(panelId).querySelector("a") || $(panelId);
  focusTarget.setAttribute("tabindex", "-1");
  focusTarget.focus();
}

// -- the counsellor's controls ---------------------------------------------------------------

function showKnock(peerId) {
  if (document.querySelector(`.knock[data-peer="${CSS.escape(peerId)}"]`)) return;
  const notice = document.createElement("div");
  notice.className = "knock";
  notice.dataset.peer = peerId;
  notice.dataset.testid = "knock-notice";
  notice.setAttribute("role", "alert");
  const text = document.createElement("p");
  text.textContent = strings.knock;
  notice.append(text);
  for (const [action, testId, label] of [["admit", "admit", strings.admit], ["deny", "deny", strings.deny]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.testid = testId;
    button.className = action === "admit" ? "primary" : "secondary";
    button.textContent = label;
    button.addEventListener("click", () => {
      signaling.send({ type: action, peer: peerId });
      notice.remove();
    });
    notice.append(button);
  }
  $("knocks").append(notice);
}

function removeKnock(peerId) {
  const notice = document.querySelector(`.knock[data-peer="${CSS.escape(peerId)}"]`);
  if (notice) notice.remove();
}

function setLocked(locked) {
  state.locked = locked;
  const label = $("lock-label");
  label.dataset.locked = String(locked);
  if (locked) label.textContent = strings.passwordSet;
}

function toggleModeratorPanel(open) {
  const panel = optional("moderator-panel");
  const button = optional("add-password");
  if (!panel || !button) return;
  panel.hidden = open === undefined ? !panel.hidden : !open;
  button.setAttribute("aria-expanded", String(!panel.hidden));
  if (!panel.hidden) {
    const input = optional("password-set-input");
    if (input) input.focus();
  }
}

function wireControls() {
  $("hangup").addEventListener("click", () => {
    signaling.send({ type: "hangup" });
    finish("ended", strings.youLeft);
  });
  $("mic-toggle").addEventListener("click", (event) => toggleTrack(event.currentTarget, "audio", "mute", "unmute"));
  $("camera-toggle").addEventListener("click", (event) =>
    toggleTrack(event.currentTarget, "video", "cameraOff", "cameraOn"),
  );
  if (!state.moderator) return;
  $("add-password").addEventListener("click", () => toggleModeratorPanel());
  $("end-for-all").addEventListener("click", () => signaling.send({ type: "end" }));
  const waitingRoom = /** @type {HTMLInputElement} */ ($("waiting-room-toggle"));
  waitingRoom.addEventListener("change", () => signaling.send({ type: "waiting-room", on: waitingRoom.checked }));
  document.body.addEventListener("htmx:afterSwap", () => {
    const lockState = document.querySelector("#password-form .lock-state");
    if (lockState && lockState.getAttribute("data-locked") === "true") setLocked(true);
  });
}

function toggleTrack(button, kind, offLabel, onLabel) {
  if (!state.localStream) return;
  const tracks = state.localStream.getTracks().filter((track) => track.kind === kind);
  const nowEnabled = !tracks.every((track) => track.enabled);
  tracks.forEach((track) => (track.enabled = nowEnabled));
  button.setAttribute("aria-pressed", String(!nowEnabled));
  button.textContent = strings[nowEnabled ? offLabel : onLabel];
}

// -- signaling -------------------------------------------------------------------------------

const handlers = {
  welcome(message) {
    state.self = message.self;
    state.moderator = message.moderator;
    state.mode = message.mode;
    state.joined = true;
    $("knocking").hidden = true;
    setLocked(message.locked);
    message.peers.forEach(addPeer);
    if (message.mode === "group") setMode("group");
    (message.knocking || []).forEach(showKnock);
    refreshSecurityStatus();
  },
  "peer-joined"(message) {
    addPeer(message.peer);
    announce(strings.peerJoined);
  },
  "peer-left"(message) {
    removePeer(message.peer);
    if (message.reason === "kicked") {
      announce(strings.peerKicked);
      toggleModeratorPanel(true);
    } else if (message.reason !== "replaced") {
      // "replaced": the same browser reconnected (a reload); it is announced as it joins again.
      announce(message.reason === "hangup" ? strings.peerLeft : strings.peerLost);
    }
  },
  mode(message) {
    setMode(message.mode);
  },
  signal(message) {
    if (message.from === "relay") {
      if (state.group) state.group.handleSignal(message.data);
      return;
    }
    addPeer(message.from);
    const link = state.links.get(message.from);
    if (link) link.handleSignal(message.data).catch((error) => console.warn(error));
  },
  knocking() {
    $("knocking").hidden = false;
  },
  knock(message) {
    showKnock(message.peer);
    announce(strings.knock);
  },
  "knock-withdrawn"(message) {
    removeKnock(message.peer);
  },
  locked() {
    setLocked(true);
    announce(strings.locked);
  },
  "waiting-room"(message) {
    const toggle = /** @type {HTMLInputElement | null} */ (optional("waiting-room-toggle"));
    if (toggle) toggle.checked = message.on;
  },
  "attempts-warning"() {
    announce(strings.attemptsWarning);
  },
  denied() {
    finish("denied");
  },
  kicked() {
    finish("kicked");
  },
  ended() {
    finish("ended", strings.endedByModerator);
  },
  error(message) {
    if (message.code === "room-full") announce(strings.roomFull);
    else if (message.code === "room-not-open" || message.code === "kicked") announce(strings.notAllowed);
    else console.warn("signaling error", message.code);
  },
};

function connectSignaling() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  signaling = new Signaling(`${scheme}//${location.host}/ws/${config.roomId}`);
  for (const [type, handler] of Object.entries(handlers)) signaling.on(type, handler);
  signaling.onclose = () => {
    state.joined = false;
    if (!state.ended) showProblem(strings.connectionLost);
  };
  return signaling.connect();
}

window.praatbox = {
  async state() {
    return {
      joined: state.joined,
      self: state.self,
      moderator: state.moderator,
      locked: state.locked,
      mode: state.mode === "group" ? "group" : "p2p",
      participants: [state.self, ...state.peers].filter(Boolean),
      media: await mediaSummary(),
      e2ee: state.mode !== "group",
      meshFallback: state.mode === "mesh",
      safetyWords: state.safetyWords,
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
