// The call page: the only module that touches the DOM. Wires media, signaling and peer links.

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
  mode: "p2p",
  ended: false,
  securityState: "waiting",
  /** @type {string[]} */
  safetyWords: [],
  safetyKey: "",
  /** @type {MediaStream | null} */
  localStream: null,
  /** @type {Map<string, PeerLink>} */
  links: new Map(),
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
  if (!key) return;
  const box = $("media-problem");
  box.textContent = strings[key];
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
  $("alone").hidden = state.links.size > 0;
  $("third-person-warning").hidden = state.links.size < 2;
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
  updatePresence();
  return link;
}

function removePeer(peerId) {
  const link = state.links.get(peerId);
  if (link) link.close();
  state.links.delete(peerId);
  const tile = document.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"]`);
  if (tile) tile.remove();
  updatePresence();
  refreshSecurityStatus();
}

// -- what the connections really do ----------------------------------------------------------

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
  await refreshSafetyWords();
  if (next === state.securityState) return;
  state.securityState = next;
  const status = $("security-status");
  status.dataset.state = next === "connecting" ? "waiting" : next;
  $("security-label").textContent = strings[next];
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
    } else {
      announce(message.reason === "hangup" ? strings.peerLeft : strings.peerLost);
    }
  },
  signal(message) {
    addPeer(message.from).handleSignal(message.data).catch((error) => console.warn(error));
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
      locked: state.locked,
      mode: state.mode,
      participants: [state.self, ...state.links.keys()].filter(Boolean),
      media: await mediaSummary(),
      e2ee: state.mode !== "group",
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
