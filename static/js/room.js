// @ts-check
// The call page: the only module here that looks up the page's elements; it wires media,
// signaling, peer links and the parts of the page together.

import { CaptureSession } from "./capture-session.js";
import { ChatPanel } from "./chat.js";
import { CaptureConsent } from "./consent.js";
import { installDebugApi } from "./debug-api.js";
import { enterThroughPreview, forgetEntry } from "./entry.js";
import { GroupSession } from "./group.js";
import { GroupEncryption } from "./group-e2ee.js";
import { freshIceServers } from "./ice-credentials.js";
import { initInvite } from "./invite.js";
import { LinkQuality, videoCap } from "./link-quality.js";
import { ModeratorControls } from "./moderation.js";
import { PeerLink, prepareCertificate } from "./peer.js";
import { initScreenShare } from "./screenshare.js";
import { SecurityStatus, securityState } from "./security-status.js";
import { Signaling } from "./signaling.js";
import { fingerprints, summariseCall } from "./stats.js";
import { RemoteTiles } from "./tiles.js";

const STATUS_INTERVAL_MS = 1000;
/** @type {Record<string, string>} */
const MEDIA_PROBLEM_STRINGS = {
  denied: "mediaDenied",
  missing: "mediaMissing",
  busy: "mediaBusy",
  insecure: "mediaMissing",
};

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @type {import("./types").RoomConfig} */
const config = JSON.parse($("room-config").textContent || "{}");
/** @type {Record<string, string>} */
const strings = JSON.parse($("room-strings").textContent || "{}");

/** @type {import("./types").CallState} */
const state = {
  joined: false,
  self: null,
  moderator: Boolean(config.moderator),
  locked: $("lock-label").dataset.locked === "true",
  mode: "p2p",
  ended: false,
  localStream: null,
  peers: new Set(),
  links: new Map(),
  group: null,
  screenShare: null,
  blur: null,
  encryption: new GroupEncryption({
    send: (to, data) => signaling.send({ type: "e2ee", to, data }),
    onChange: () => refreshSecurityStatus(),
    onChat: (from, text) => chat.receive(from, text),
  }),
};

/** This page's own link: weak (judged from getStats()), and whether the person chose audio only. */
const ownLink = { weak: false, audioOnly: false, videoPaused: false };

/** @type {Signaling} */
let signaling;
/** @type {ReturnType<typeof initInvite> | null} the counsellor's invite panel */
let invite = null;
/** @type {ModeratorControls} */
let moderation;

/** @param {string} text */
function announce(text) {
  const item = document.createElement("p");
  item.className = "notice";
  item.textContent = text;
  $("notices").append(item);
  window.setTimeout(() => item.remove(), 8000);
}

const status = new SecurityStatus(
  {
    badge: $("security-status"),
    label: $("security-label"),
    safety: /** @type {HTMLDetailsElement} */ ($("safety")),
    words: $("safety-words"),
    problem: $("safety-problem"),
    pairHint: $("safety-hint-pair"),
    groupHint: $("safety-hint-group"),
  },
  { strings, announce },
);

const chat = new ChatPanel(
  {
    panel: $("chat"),
    log: /** @type {HTMLOListElement} */ ($("chat-log")),
    form: /** @type {HTMLFormElement} */ ($("chat-form")),
    input: /** @type {HTMLInputElement} */ ($("chat-input")),
    toggle: $("chat-toggle"),
    badge: $("chat-unread"),
  },
  { strings, announce, send: sendChat },
);

/**
 * Send a chat message to everyone: over the data channels of direct connections, or sealed for
 * each person through the server in a group (which cannot read it).
 * @param {string} text
 * @returns {boolean} whether anyone could get it
 */
function sendChat(text) {
  if (state.mode === "group") return state.encryption.sendChat(text) > 0;
  let sent = false;
  for (const link of state.links.values()) sent = link.sendChat(text) || sent;
  return sent;
}

/** @param {string} id */
const buttonOrNull = (id) => /** @type {HTMLButtonElement | null} */ (document.getElementById(id));

/** The counsellor's recording and live stream; other pages only show and answer. */
const captureSession = config.moderator
  ? new CaptureSession({
      sources: (consented) => captureSources(consented),
      streaming: config.streaming || null,
      iceServers: config.iceServers,
      download: /** @type {HTMLAnchorElement} */ ($("record-download")),
      downloadBox: $("recording-ready"),
      strings,
      announce,
      stopCapture: (kind) => signaling.send({ type: "capture", kind, on: false }),
    })
  : null;

const consent = new CaptureConsent(
  {
    recIndicator: $("rec-indicator"),
    liveIndicator: $("live-indicator"),
    dialog: $("consent"),
    question: $("consent-question"),
    accept: /** @type {HTMLButtonElement} */ ($("consent-accept")),
    decline: /** @type {HTMLButtonElement} */ ($("consent-decline")),
    withdraw: /** @type {HTMLButtonElement} */ ($("consent-withdraw")),
    waiting: document.getElementById("consent-waiting"),
    buttons: {
      rec: { start: buttonOrNull("record-start"), stop: buttonOrNull("record-stop") },
      live: { start: buttonOrNull("live-start"), stop: buttonOrNull("live-stop") },
    },
  },
  {
    strings,
    announce,
    send: (message) => signaling.send(message),
    onChange: (captures) => {
      if (captureSession && !state.ended) captureSession.update(captures, state.self);
    },
  },
);

/**
 * Who is in the recording or stream: ourselves and everyone who said yes (which, while it runs,
 * is everyone in the room: a newcomer enters only after answering).
 * @param {string[]} consented
 */
function captureSources(consented) {
  const videos = [/** @type {HTMLVideoElement} */ ($("local-video"))];
  for (const peerId of state.peers) {
    const video = consented.includes(peerId) ? tiles.find(peerId)?.querySelector("video") : null;
    if (video) videos.push(video);
  }
  return videos.map((video) => ({ video }));
}

const tiles = new RemoteTiles($("stage"), {
  strings,
  canKick: () => state.moderator,
  onKick: (peerId) => signaling.send({ type: "kick", peer: peerId }),
});

/** @param {string | null} problem */
function showMediaProblem(problem) {
  const key = problem && MEDIA_PROBLEM_STRINGS[problem];
  if (key) showProblem(strings[key]);
}

/** @param {string} text */
function showProblem(text) {
  const box = $("media-problem");
  box.textContent = text;
  box.hidden = false;
}

// -- the other participants -----------------------------------------------------------------

function updatePresence() {
  $("alone").hidden = state.peers.size > 0;
  $("third-person-warning").hidden = state.peers.size < 2;
  if (invite) invite.peersChanged(state.peers.size);
}

/** @param {string} peerId */
function addPeer(peerId) {
  if (!state.peers.has(peerId)) {
    state.peers.add(peerId);
    tiles.tileFor(peerId);
    updatePresence();
  }
  if (state.mode !== "group") linkTo(peerId);
}

/** @param {string} peerId */
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
    onChat: (text) => chat.receive(peerId, text),
    onStream: (stream) => tiles.show(peerId, stream),
    onConnectionState: () => refreshSecurityStatus(),
    iceRestarted: reportIceRestart,
    freshIceServers: () => freshIceServers(config),
  });
  state.links.set(peerId, link);
  return link;
}

/** @param {string} peerId */
function removePeer(peerId) {
  const link = state.links.get(peerId);
  if (link) link.close();
  state.links.delete(peerId);
  state.peers.delete(peerId);
  state.encryption.peerLeft(peerId);
  tiles.remove(peerId);
  updatePresence();
  refreshSecurityStatus();
}

// -- group mode: one connection to the relay instead of one per person -----------------------

/**
 * @param {boolean} replacing a lost relay connection, or the room moved to another relay
 * @param {string | null} [lostUfrag] the relay's ICE username fragment in the lost connection
 */
function openGroup(replacing, lostUfrag = null) {
  return new GroupSession({
    sendSignal: (data) => signaling.signal("relay", data),
    localStream: outgoingStream(),
    iceServers: config.iceServers,
    encryption: state.encryption,
    onRemoteStream: (peerId, stream) => {
      if (state.peers.has(peerId)) tiles.show(peerId, stream);
    },
    onRemoteGone: (peerId) => tiles.clear(peerId),
    onConnectionState: (connection) => {
      // A new relay connection (a new group, a restart) starts sending video: say audio only.
      if (connection === "connected" && ownLink.audioOnly) tellRelayVideo();
      refreshSecurityStatus();
    },
    onError: (error) => console.warn("the relay refused a signal", error.code),
    onVideoPaused: (paused) => {
      ownLink.videoPaused = paused;
      showOwnLink();
    },
    onLost: () => reopenGroup().catch((error) => console.warn(error)),
    replacing,
    lostUfrag,
  });
}

/** The path to the relay was lost: aiortc cannot restart ICE, so ask it for a new connection. */
async function reopenGroup() {
  await freshIceServers(config).catch(() => null);
  if (state.mode !== "group" || state.ended || !state.group) return;
  const lostUfrag = state.group.relayUfrag();
  closeGroup();
  state.group = openGroup(true, lostUfrag);
  signaling.signal("relay", { restart: true });
  reportIceRestart();
  refreshSecurityStatus();
}

/** Tell the server that a connection restarted (it counts them, nothing more). */
function reportIceRestart() {
  signaling.send({ type: "ice-restart" });
}

function closeGroup() {
  if (state.group) state.group.close();
  state.group = null;
}

/**
 * Switch between direct connections and the relay, as the server decided; say so.
 * @param {"p2p" | "group" | "mesh"} mode
 */
function setMode(mode) {
  const previous = state.mode;
  const moved = mode === "group" && state.group !== null;
  state.mode = mode;
  closeGroup();
  if (mode === "group") {
    for (const link of state.links.values()) link.close();
    state.links.clear();
    // Also on a repeated `group`: the room moved to another relay.
    state.group = openGroup(moved);
    if (moved) announce(strings.relayMoved);
  } else {
    for (const peerId of state.peers) linkTo(peerId);
  }
  if (previous !== mode) announce(strings[{ group: "toGroup", mesh: "mesh", p2p: "toP2p" }[mode]]);
  refreshSecurityStatus();
}

// -- what the connections really do ----------------------------------------------------------

/** Derive the security status and the safety words from what the connections really use. */
async function refreshSecurityStatus() {
  if (state.ended) return;
  const media = await summariseCall(state);
  const links = [...state.links.values()];
  const group = state.mode === "group";
  await status.showSafetyWords(() => safetyKeys(links), group);
  const reconnecting = links.some((link) => link.reconnecting) || Boolean(state.group && state.group.reconnecting);
  status.show(securityState(media, state.mode, links.length, groupEncrypted(), reconnecting), state.mode);
}

/** In a group: whether every frame is encrypted in the browsers (everyone can, and we have a key). */
function groupEncrypted() {
  return state.encryption.active && state.encryption.current !== null;
}

/**
 * The keys the safety numbers cover: both DTLS fingerprints of a call of two, every identity key
 * of an encrypted group; null when there are none to compare.
 * @param {import("./peer.js").PeerLink[]} links
 * @returns {Promise<string[] | null>}
 */
async function safetyKeys(links) {
  if (state.mode === "group") return groupEncrypted() ? state.encryption.identities() : null;
  if (links.length !== 1 || state.mode !== "p2p") return null;
  const pair = await fingerprints(links[0].pc);
  return pair ? [pair.local, pair.remote].map((f) => f.toLowerCase()) : null;
}

// -- leaving ---------------------------------------------------------------------------------

/**
 * Stop everything and show one of the closing panels (ended, kicked, denied).
 * @param {string} panelId @param {string} [title]
 */
function finish(panelId, title) {
  if (state.ended) return;
  state.ended = true;
  signaling.close();
  for (const link of state.links.values()) link.close();
  state.links.clear();
  closeGroup();
  state.encryption.close();
  chat.clear();
  if (state.screenShare) state.screenShare.stop();
  if (invite) invite.hide();
  if (state.blur) state.blur.stop();
  // The recording stops with the call and stays offered for saving; a stream just ends.
  const captured = captureSession ? captureSession.stopAll() : Promise.resolve();
  captured.finally(() => {
    if (state.localStream) state.localStream.getTracks().forEach((track) => track.stop());
  });
  consent.reset(String(state.self), []);
  for (const id of ["stage", "local-video", "controls", "knocking", "safety", "third-person-warning", "chat"]) {
    $(id).hidden = true;
  }
  moderation.hide();
  if (title) $("ended-title").textContent = title;
  $(panelId).hidden = false;
  const focusTarget = $(panelId).querySelector("a") || $(panelId);
  focusTarget.setAttribute("tabindex", "-1");
  focusTarget.focus();
}

// -- the counsellor's controls ---------------------------------------------------------------

/** @param {boolean} locked */
function setLocked(locked) {
  state.locked = locked;
  const label = $("lock-label");
  label.dataset.locked = String(locked);
  if (invite) invite.setLocked(locked);
  if (locked) label.textContent = strings.passwordSet;
}

function wireControls() {
  state.screenShare = initScreenShare(
    { button: /** @type {HTMLButtonElement} */ ($("screen-share")), banner: $("screen-share-banner"),
      stopButton: /** @type {HTMLButtonElement} */ ($("screen-share-stop")) },
    { sendVideo: async () => useOutgoingVideo(), announce, strings },
  );
  const invitePanel = document.getElementById("invite");
  moderation = new ModeratorControls(
    {
      knocks: $("knocks"),
      panel: document.getElementById("moderator-panel"),
      panelButton: document.getElementById("add-password"),
      waitingRoom: /** @type {HTMLInputElement | null} */ (document.getElementById("waiting-room-toggle")),
      requireE2ee: requireE2eeToggle(),
      endForAll: document.getElementById("end-for-all"),
    },
    { send: (message) => signaling.send(message), strings, onLocked: () => setLocked(true) },
  );
  if (invitePanel) invite = initInvite(invitePanel, { announce, openPasswordForm: () => moderation.openPanel(true) });
  $("hangup").addEventListener("click", () => {
    signaling.send({ type: "hangup" });
    forgetEntry(config.roomId);
    finish("ended", strings.youLeft);
  });
  const micToggle = $("mic-toggle");
  const cameraToggle = $("camera-toggle");
  micToggle.addEventListener("click", () => toggleTrack(micToggle, "audio", "mute", "unmute"));
  cameraToggle.addEventListener("click", () => toggleTrack(cameraToggle, "video", "cameraOff", "cameraOn"));
  $("blur-toggle").addEventListener("click", () => toggleBlur());
  $("audio-only").addEventListener("click", () => {
    ownLink.audioOnly = !ownLink.audioOnly;
    $("audio-only").setAttribute("aria-pressed", String(ownLink.audioOnly));
    useOutgoingVideo();
    showOwnLink();
    if (state.group) tellRelayVideo();
  });
}

// -- this page's own link --------------------------------------------------------------------

/**
 * The link turned weak or good: say so here and to the others; on direct connections, keep our
 * video under what the link carries (room for audio), or lift that cap.
 * @param {boolean} weak @param {number | null} sendEstimate bits/s
 */
function linkChanged(weak, sendEstimate) {
  ownLink.weak = weak;
  showOwnLink();
  capDirectVideo(weak ? sendEstimate : null);
}

/** @param {number | null} sendEstimate the send estimate while weak, null: no cap */
function capDirectVideo(sendEstimate) {
  const maxBitrate = sendEstimate === null ? null : videoCap(sendEstimate);
  for (const link of state.links.values()) link.limitVideo({ maxBitrate }).catch((error) => console.warn(error));
  if (state.group) state.group.limitVideo(maxBitrate).catch((error) => console.warn(error));
}

function showOwnLink() {
  const relayPaused = ownLink.videoPaused && !ownLink.audioOnly;
  $("weak-link").hidden = !(ownLink.weak || ownLink.audioOnly || relayPaused);
  $("weak-link-reduced").hidden = relayPaused;
  $("weak-link-paused").hidden = !relayPaused;
  tellLink();
}

/** Ask the relay to send this page no video while audio only is on, and video again after. */
function tellRelayVideo() {
  signaling.signal("relay", { videoOff: ownLink.audioOnly });
}

function tellLink() {
  if (state.joined) signaling.send({ type: "link", weak: ownLink.weak, audioOnly: ownLink.audioOnly });
}

/**
 * The counsellor's "require end-to-end encryption" switch; a browser that cannot encrypt itself
 * cannot require it (the server refuses, and would have to remove the counsellor).
 */
function requireE2eeToggle() {
  const toggle = /** @type {HTMLInputElement | null} */ (document.getElementById("require-e2ee-toggle"));
  if (toggle && !state.encryption.capable) toggle.disabled = true;
  return toggle;
}

/**
 * @param {HTMLElement} button @param {"audio" | "video"} kind
 * @param {string} offLabel @param {string} onLabel string keys
 */
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

/** What we send: the shared screen while sharing (with our microphone), else our picture. */
function outgoingStream() {
  if (ownLink.audioOnly) return new MediaStream(state.localStream ? state.localStream.getAudioTracks() : []);
  const screenShare = state.screenShare;
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

/**
 * Take over a blurred picture someone else started (the preview step), or switch blur off.
 * @param {import("./blur.js").BlurredVideo | null} blurred
 */
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
  /** @type {typeof import("./blur.js") | null} */
  let blur = null;
  try {
    blur = await import("./blur.js");
    const blurred = await blur.createBlur(camera);
    if (state.ended) blurred.stop();
    else {
      adoptBlur(blurred);
      announce(strings.blurStarted);
    }
  } catch (error) {
    console.warn(error);
    showProblem(strings[blur && blur.isUnsupported(error) ? "blurUnsupported" : "blurFailed"]);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    showBlurButton();
  }
}

// -- signaling -------------------------------------------------------------------------------

/** @type {import("./server-messages").ServerHandlers} */
const handlers = {
  welcome(message) {
    performance.mark("praatbox:welcome");
    state.self = message.self;
    state.moderator = message.moderator;
    state.mode = message.mode;
    state.joined = true;
    $("knocking").hidden = true;
    setLocked(message.locked);
    const withoutE2ee = message.withoutE2ee || [];
    state.encryption.start(message.self, message.peers, withoutE2ee);
    message.peers.forEach(addPeer);
    for (const peerId of message.reconnecting || []) {
      tiles.setReconnecting(peerId, true);
      state.encryption.setAway(peerId, true);
    }
    if (message.mode === "group") setMode("group");
    moderation.setRequireE2ee(Boolean(message.e2eeRequired));
    for (const peerId of message.knocking || []) moderation.showKnock(peerId);
    moderation.setWaitingRoom(message.waitingRoom);
    consent.reset(message.self, message.captures || []);
    refreshSecurityStatus();
  },
  "peer-joined"(message) {
    state.encryption.peerJoined(message.peer, Boolean(message.e2ee));
    addPeer(message.peer);
    announce(strings.peerJoined);
    if (ownLink.weak || ownLink.audioOnly) tellLink();
  },
  link(message) {
    tiles.setWeakLink(message.from, message.weak || message.audioOnly);
    const link = state.links.get(message.from);
    if (link) link.limitVideo({ active: !message.audioOnly }).catch((error) => console.warn(error));
  },
  resumed(message) {
    catchUp(message);
  },
  "peer-reconnecting"(message) {
    tiles.setReconnecting(message.peer, true);
    state.encryption.setAway(message.peer, true);
  },
  "peer-resumed"(message) {
    tiles.setReconnecting(message.peer, false);
    state.encryption.setAway(message.peer, false);
  },
  "peer-left"(message) {
    removePeer(message.peer);
    if (message.reason === "kicked") {
      announce(strings.peerKicked);
      moderation.openPanel(true);
    } else if (message.reason === "e2ee-required") {
      announce(strings.peerRefusedE2ee);
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
      const data = /** @type {import("./group.js").RelaySignal} */ (message.data);
      if (state.group) state.group.handleSignal(data);
      return;
    }
    if (!state.peers.has(message.from)) return; // a signal from someone who already left
    if (state.mode !== "group") linkTo(message.from);
    const link = state.links.get(message.from);
    const data = /** @type {import("./types").PeerSignal} */ (message.data);
    if (link) link.handleSignal(data).catch((error) => console.warn(error));
  },
  e2ee(message) {
    if (state.peers.has(message.from)) state.encryption.handle(message.from, message.data);
  },
  "require-e2ee"(message) {
    moderation.setRequireE2ee(message.on);
    announce(strings[message.on ? "requireE2eeOn" : "requireE2eeOff"]);
  },
  "e2ee-required"() {
    finish("e2ee-refused");
  },
  knocking() {
    $("knocking").hidden = false;
  },
  "consent-needed"(message) {
    $("knocking").hidden = true;
    consent.askAtDoor(message.captures);
  },
  capture(message) {
    consent.update(message);
  },
  knock(message) {
    moderation.showKnock(message.peer);
    announce(strings.knock);
  },
  "knock-withdrawn"(message) {
    moderation.removeKnock(message.peer);
  },
  locked() {
    setLocked(true);
    announce(strings.locked);
  },
  "waiting-room"(message) {
    moderation.setWaitingRoom(message.on);
  },
  "attempts-warning"(message) {
    announce(strings.attemptsWarning);
    const reset = document.getElementById("attempts-reset");
    if (message.lockedOut && reset) reset.hidden = false;
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
    if (message.code === "e2ee-required") finish("e2ee-refused");
    else if (message.code === "room-full") announce(strings.roomFull);
    else if (message.code === "room-not-open" || message.code === "kicked") announce(strings.notAllowed);
    else console.warn("signaling error", message.code);
  },
};

/**
 * Back after a drop, with the same identity: the connections kept running; catch up on who came,
 * who left and what changed while the socket was gone.
 * @param {import("./server-messages").ServerMessages["resumed"]} message
 */
function catchUp(message) {
  $("reconnecting").hidden = true;
  for (const peerId of [...state.peers]) if (!message.peers.includes(peerId)) removePeer(peerId);
  for (const peerId of message.peers) {
    if (!state.peers.has(peerId)) {
      state.encryption.peerJoined(peerId, !message.withoutE2ee.includes(peerId));
      addPeer(peerId);
    }
    const away = (message.reconnecting || []).includes(peerId);
    tiles.setReconnecting(peerId, away);
    state.encryption.setAway(peerId, away);
  }
  state.encryption.resync(); // what was sent to us meanwhile is lost
  if (message.mode !== state.mode) setMode(message.mode);
  // An offer the relay sent meanwhile is lost too: ask for it again (the media never stopped).
  else if (state.mode === "group") signaling.signal("relay", { resend: true });
  setLocked(message.locked);
  moderation.setWaitingRoom(message.waitingRoom);
  for (const peerId of message.knocking || []) moderation.showKnock(peerId);
  consent.reset(message.self, message.captures || []);
}

function connectSignaling() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // Whether this browser can encrypt frames: a room that requires it refuses one that cannot.
  const e2ee = state.encryption.capable ? 1 : 0;
  signaling = new Signaling(`${scheme}//${location.host}/ws/${config.roomId}?e2ee=${e2ee}`);
  for (const [type, handler] of Object.entries(handlers)) signaling.on(type, handler);
  signaling.onreconnecting = () => {
    $("reconnecting").hidden = false;
  };
  signaling.onclose = () => {
    $("reconnecting").hidden = true;
    state.joined = false;
    if (!state.ended) showProblem(strings.connectionLost);
  };
  return signaling.connect();
}

installDebugApi(state, () => status.safetyWords, groupEncrypted, consent);

/**
 * Make an in-call toggle show what the preview left it at (muted stays muted).
 * @param {string} id @param {"audio" | "video"} kind @param {string} offLabel @param {string} onLabel
 */
function syncToggle(id, kind, offLabel, onLabel) {
  const tracks = state.localStream ? state.localStream.getTracks().filter((track) => track.kind === kind) : [];
  const enabled = !tracks.length || tracks.some((track) => track.enabled);
  $(id).setAttribute("aria-pressed", String(!enabled));
  $(id).textContent = strings[enabled ? offLabel : onLabel];
}

// Marks (`praatbox:*`) time the steps of a join for bench/join_time.py (docs/signaling.md).
async function main() {
  performance.mark("praatbox:room-script");
  prepareCertificate(); // while the preview runs
  wireControls();
  const entry = {
    preview: {
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
    },
    room: $("room"),
    firstControl: $("mic-toggle"),
  };
  const { stream, problem, blurred } = await enterThroughPreview(entry, config, strings);
  performance.mark("praatbox:entered");
  state.localStream = stream;
  if (stream) /** @type {HTMLVideoElement} */ ($("local-video")).srcObject = stream;
  syncToggle("mic-toggle", "audio", "mute", "unmute");
  syncToggle("camera-toggle", "video", "cameraOff", "cameraOn");
  if (blurred) adoptBlur(blurred);
  showMediaProblem(problem);
  await connectSignaling().then(() => performance.mark("praatbox:socket-open"), () => undefined);
  new LinkQuality({
    connections: () => [...[...state.links.values()].map((link) => link.pc), ...(state.group ? [state.group.pc] : [])],
    onChange: linkChanged,
    onWeakSample: (sendEstimate) => capDirectVideo(sendEstimate),
    estimateHeld: () => Boolean(state.group && state.group.held),
  });
  window.setInterval(refreshSecurityStatus, STATUS_INTERVAL_MS);
}

main();
