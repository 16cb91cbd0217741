// The call page: the only module that touches the DOM. Wires media, signaling and peer links.

import { GroupSession } from "./group.js";
import { initInvite } from "./invite.js";
import { openLocalMedia } from "./media.js";
import { PeerLink } from "./peer.js";
import { Preview } from "./preview.js";
import { safetyWords } from "./safety.js";
import { initScreenShare } from "./screenshare.js";
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
  /** @type {import("./blur.js").BlurredVideo | null} our blurred picture, while blur is on */
  blur: null,
};

/** @type {Signaling} */
let signaling;
/** @type {Promise<string[]> | null} */
let wordList = null;
/** @type {import("./screenshare.js").ScreenShare | null} null: this browser cannot share */
let screenShare = null;
/** @type {ReturnType<typeof initInvite> | null} the counsellor's invite panel */
let invite = null;

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
  if (invite) invite.peersChanged(state.peers.size);
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
    localStream: outgoingStream(),
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
    localStream: outgoingStream(),
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
  if (screenShare) screenShare.stop();
  if (invite) invite.hide();
  if (state.blur) state.blur.stop();
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
  if (invite) invite.setLocked(locked);
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
  screenShare = initScreenShare(
    { button: /** @type {HTMLButtonElement} */ ($("screen-share")), banner: $("screen-share-banner"),
      stopButton: /** @type {HTMLButtonElement} */ ($("screen-share-stop")) },
    { sendVideo: async () => useOutgoingVideo(), announce, strings },
  );
  const invitePanel = optional("invite");
  if (invitePanel) invite = initInvite(invitePanel, { announce, openPasswordForm: () => toggleModeratorPanel(true) });
  $("hangup").addEventListener("click", () => {
    signaling.send({ type: "hangup" });
    tabMemory(ENTERED_KEY, "");  // coming back later goes through the preview again
    finish("ended", strings.youLeft);
  });
  $("mic-toggle").addEventListener("click", (event) => toggleTrack(event.currentTarget, "audio", "mute", "unmute"));
  $("camera-toggle").addEventListener("click", (event) =>
    toggleTrack(event.currentTarget, "video", "cameraOff", "cameraOn"),
  );
  $("blur-toggle").addEventListener("click", () => toggleBlur());
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
  if (kind === "video" && state.blur) state.blur.track.enabled = nowEnabled;
  button.setAttribute("aria-pressed", String(!nowEnabled));
  button.textContent = strings[nowEnabled ? offLabel : onLabel];
}

// -- background blur (static/js/blur.js, loaded with MediaPipe on first use) -------------------

const BLUR_UNSUPPORTED = new Set(["wasm", "webgl", "canvas"]);

/** What we send: the shared screen while sharing (with our microphone), else our picture. */
function outgoingStream() {
  if (!screenShare || !screenShare.track) return pictureStream();
  const audio = state.localStream ? state.localStream.getAudioTracks() : [];
  return new MediaStream([...audio, screenShare.track]);
}

/** Our picture (also the self view): the camera, or its blurred copy while blur is on. */
function pictureStream() {
  if (!state.localStream || !state.blur) return state.localStream;
  return new MediaStream([...state.localStream.getAudioTracks(), state.blur.track]);
}

/** Send and show the outgoing picture on every connection, without renegotiating. */
function useOutgoingVideo() {
  const stream = outgoingStream();
  const track = stream ? stream.getVideoTracks()[0] || null : null;
  for (const link of state.links.values()) link.replaceVideo(track).catch((error) => console.warn(error));
  if (state.group) state.group.setLocalStream(stream).catch((error) => console.warn(error));
  /** @type {HTMLVideoElement} */ ($("local-video")).srcObject = pictureStream();
}

function showBlurButton() {
  const button = $("blur-toggle");
  button.setAttribute("aria-pressed", String(Boolean(state.blur)));
  button.textContent = strings[state.blur ? "blurOff" : "blurOn"];
}

/** Take over a blurred picture someone else started (the preview step), or switch blur off. */
function adoptBlur(blurred) {
  if (state.blur && state.blur !== blurred) state.blur.stop();
  state.blur = blurred;
  if (blurred) {
    blurred.onError = () => {
      adoptBlur(null);
      showProblem(strings.blurFailed);
    };
  }
  useOutgoingVideo();
  showBlurButton();
}

async function toggleBlur() {
  if (state.blur) {
    adoptBlur(null);
    return;
  }
  const camera = state.localStream ? state.localStream.getVideoTracks()[0] : undefined;
  if (!camera) {
    showProblem(strings.blurNoCamera);
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($("blur-toggle"));
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = strings.blurLoading;
  try {
    const { createBlur } = await import("./blur.js");
    const blurred = await createBlur(camera);
    if (state.ended) blurred.stop();
    else {
      adoptBlur(blurred);
      announce(strings.blurStarted);
    }
  } catch (error) {
    console.warn(error);
    showProblem(strings[BLUR_UNSUPPORTED.has(error && error.reason) ? "blurUnsupported" : "blurFailed"]);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    showBlurButton();
  }
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
    if (invite) invite.forget();
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
      screenSharing: Boolean(screenShare && screenShare.sharing),
      recording: false,
      streaming: false,
      blur: Boolean(state.blur && state.blur.producing),
    };
  },
};

// -- the preview before entering --------------------------------------------------------------

const ENTERED_KEY = `praatbox.entered.${config.roomId}`;
const DEVICES_KEY = "praatbox.devices";

function tabMemory(key, value) {
  try {
    if (value !== undefined) window.sessionStorage.setItem(key, value);
    return window.sessionStorage.getItem(key);
  } catch {
    return null;  // storage blocked: the preview simply shows again after a reload
  }
}

/**
 * Show the preview, unless this tab already passed it for this room (a reload) or the person
 * waited for the counsellor on the waiting screen (promised to join by itself).
 */
async function enterThroughPreview() {
  let choice = {};
  try {
    choice = JSON.parse(tabMemory(DEVICES_KEY) || "{}");
  } catch {
    choice = {};
  }
  let result;
  const previewed = !(config.autoEnter || tabMemory(ENTERED_KEY) === "1");
  if (!previewed) {
    result = await openLocalMedia(choice);
    if (!result.stream && result.problem !== "denied") result = await openLocalMedia();
  } else {
    const preview = new Preview({
      section: $("preview"),
      video: /** @type {HTMLVideoElement} */ ($("preview-video")),
      cameraSelect: /** @type {HTMLSelectElement} */ ($("camera-select")),
      micSelect: /** @type {HTMLSelectElement} */ ($("mic-select")),
      level: /** @type {HTMLMeterElement} */ ($("mic-level")),
      micToggle: /** @type {HTMLButtonElement} */ ($("preview-mic-toggle")),
      cameraToggle: /** @type {HTMLButtonElement} */ ($("preview-camera-toggle")),
      problem: $("preview-problem"),
      retry: /** @type {HTMLButtonElement} */ ($("preview-retry")),
      enter: /** @type {HTMLButtonElement} */ ($("preview-enter")),
      blurToggle: /** @type {HTMLButtonElement} */ ($("preview-blur-toggle")),
    }, strings, choice);
    result = await preview.run();
    tabMemory(DEVICES_KEY, JSON.stringify(result.choice));
  }
  tabMemory(ENTERED_KEY, "1");
  $("room").classList.remove("previewing");
  // The preview's controls vanished: put keyboard focus on the call's first control.
  if (previewed) $("mic-toggle").focus();
  return result;
}

/** Make an in-call toggle show what the preview left it at (muted stays muted). */
function syncToggle(id, kind, offLabel, onLabel) {
  const tracks = state.localStream ? state.localStream.getTracks().filter((track) => track.kind === kind) : [];
  const enabled = !tracks.length || tracks.some((track) => track.enabled);
  $(id).setAttribute("aria-pressed", String(!enabled));
  $(id).textContent = strings[enabled ? offLabel : onLabel];
}

async function main() {
  wireControls();
  const { stream, problem, blurred } = await enterThroughPreview();
  state.localStream = stream;
  if (stream) /** @type {HTMLVideoElement} */ ($("local-video")).srcObject = stream;
  syncToggle("mic-toggle", "audio", "mute", "unmute");
  syncToggle("camera-toggle", "video", "cameraOff", "cameraOn");
  if (blurred) adoptBlur(blurred);
  showMediaProblem(problem);
  await connectSignaling().catch(() => undefined);
  window.setInterval(refreshSecurityStatus, STATUS_INTERVAL_MS);
}

main();
