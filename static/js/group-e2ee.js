// @ts-check
// Group end-to-end encryption (docs/e2ee.md): who holds which frame key, and when keys change.
//
// Every page has its own sending key and hands its 32-byte secret to each other participant,
// wrapped with their pairwise key (e2ee-keys.js) in `e2ee` signaling messages the server passes
// on unread. Whenever someone joins or leaves, every page makes a new sending key and gives it
// only to the people present; it switches to it once they all confirmed (or after a short
// wait), so the others never miss a frame and someone who left never gets a key made after.
// The frames themselves are encrypted in a worker (e2ee-worker.js). No DOM code here.

import { frameKey } from "./e2ee-frame.js";
import {
  chatContext, createIdentity, identityText, open, pairwiseKey, readPublicKeys, seal, SECRET_BYTES,
  secretContext,
} from "./e2ee-keys.js";

/** Switch to a new key this long after handing it out, even if not everyone confirmed it. */
const SWITCH_AFTER_MS = 1500;
/** Keys kept per other sender: the one they use, the one they are about to use, one before. */
const KEYS_KEPT_PER_SENDER = 3;
/** Messages kept for one participant whose signaling socket dropped, until they are back. */
export const HELD_PER_PEER_MAX = 100;

/** Whether this browser can transform encoded frames, with either API. */
export function canEncryptFrames() {
  return "RTCRtpScriptTransform" in window
    || (typeof RTCRtpSender !== "undefined" && "createEncodedStreams" in RTCRtpSender.prototype);
}

/** Whether the group connection must be created with `encodedInsertableStreams` (older API). */
export function needsInsertableStreams() {
  return !("RTCRtpScriptTransform" in window) && canEncryptFrames();
}

/**
 * @typedef {object} Peer
 * @property {boolean} capable its browser can encrypt frames
 * @property {string} [identity] identityText() of its public keys, once its hello came
 * @property {CryptoKey} [pairwise]
 * @property {boolean} helloSent
 * @property {number[]} keyIds its sending keys we hold, oldest first
 * @property {object[] | null} held messages for it while its socket is down (null: it is here)
 */
/** @typedef {{keyId: number, secret: Uint8Array}} OwnKey */

export class GroupEncryption {
  /**
   * @param {object} options
   * @param {(to: string, data: object) => void} options.send an `e2ee` message to one participant
   * @param {() => void} [options.onChange] who can encrypt, or the group's identities, changed
   * @param {(from: string, text: unknown) => void} [options.onChat] a chat message arrived
   */
  constructor({ send, onChange = () => {}, onChat = () => {} }) {
    this.send = send;
    this.onChange = onChange;
    this.onChat = onChat;
    /** Chat messages sent, and the last one received per sender: a replayed one is dropped. */
    this.chatSent = 0;
    /** @type {Map<string, number>} */
    this.chatSeen = new Map();
    this.capable = canEncryptFrames();
    /** @type {Worker | null} */
    this.worker = this.capable
      ? new Worker(new URL("./e2ee-worker.js", import.meta.url), { type: "module" })
      : null;
    if (this.worker) this.worker.onmessage = (event) => this.fromWorker(event.data);
    /** @type {string | null} */
    this.self = null;
    /** @type {Map<string, Peer>} */
    this.peers = new Map();
    /** @type {OwnKey | null} the key frames are encrypted with now */
    this.current = null;
    /** @type {{key: OwnKey, waiting: Set<string>, timer: number} | null} handed out, not yet used */
    this.pending = null;
    /** Every key id this page ever held: what someone who leaves could still know. */
    this.known = new Set();
    /** @type {Promise<import("./e2ee-keys.js").Identity> | null} */
    this.identity = null;
    /** @type {{encrypted: number, decrypted: number, dropped: number, clear: number}} */
    this.counts = { encrypted: 0, decrypted: 0, dropped: 0, clear: 0 };
    /** @type {WeakSet<RTCRtpSender | RTCRtpReceiver>} */
    this.transformed = new WeakSet();
    /** Messages are handled one at a time, in the order they came. */
    this.queue = Promise.resolve();
  }

  /** Every participant's browser encrypts frames: the group is end-to-end encrypted. */
  get active() {
    return this.capable && [...this.peers.values()].every((peer) => peer.capable);
  }

  /**
   * We entered the room (`welcome`): make our identity and first key, greet everyone present.
   * @param {string} self @param {string[]} peers @param {string[]} withoutE2ee
   */
  start(self, peers, withoutE2ee) {
    this.self = self;
    this.identity = createIdentity();
    for (const peerId of peers) this.peers.set(peerId, newPeer(!withoutE2ee.includes(peerId)));
    this.run(async () => {
      this.useEncryption();
      await this.rotate();
      for (const peerId of peers) await this.greet(peerId);
    });
  }

  /** @param {string} peerId @param {boolean} capable */
  peerJoined(peerId, capable) {
    if (!this.peers.has(peerId)) this.peers.set(peerId, newPeer(capable));
    this.run(async () => {
      this.useEncryption();
      await this.rotate(); // the newcomer gets only this key and later ones
      await this.greet(peerId);
    });
  }

  /** @param {string} peerId */
  peerLeft(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    this.post({ op: "forget-keys", keyIds: peer.keyIds });
    this.run(async () => {
      this.useEncryption();
      if (this.pending) this.pending.waiting.delete(peerId);
      await this.rotate(); // a key they never received
    });
  }

  /**
   * Someone's signaling socket dropped (they are reconnecting), or they are back: the server
   * passes nothing to a socket that is gone, so what we send them meanwhile waits here.
   * @param {string} peerId @param {boolean} away
   */
  setAway(peerId, away) {
    const peer = this.peers.get(peerId);
    if (!peer || away === Boolean(peer.held)) return;
    const held = peer.held || [];
    peer.held = away ? [] : null;
    this.run(async () => {
      for (const data of held) this.send(peerId, data);
    });
  }

  /**
   * Our own socket resumed: what others sent us meanwhile is lost, so ask each of them for their
   * newest key (a hello is answered with it) and give them ours again.
   */
  resync() {
    this.run(async () => {
      if (!this.identity) return;
      const key = this.pending ? this.pending.key : this.current;
      const publicKeys = (await this.identity).publicKeys;
      for (const peerId of this.peers.keys()) {
        this.deliver(peerId, { kind: "hello", publicKeys });
        if (key) await this.giveKey(peerId, key);
      }
    });
  }

  /**
   * A message another page sent us through the server.
   * @param {string} from @param {any} data
   */
  handle(from, data) {
    this.run(async () => {
      if (!data || typeof data !== "object") return;
      if (data.kind === "hello") await this.greeted(from, data);
      else if (data.kind === "key") await this.receiveKey(from, data);
      else if (data.kind === "ack") this.acknowledged(from, data.keyId);
      else if (data.kind === "chat") await this.receiveChat(from, data);
    });
  }

  /**
   * Send a chat message to everyone, each copy sealed with that person's pairwise key: the server
   * passes on what it cannot read. Returns how many people it went to (0: nobody could get it).
   * @param {string} text
   */
  sendChat(text) {
    const recipients = [...this.peers].filter(([, peer]) => peer.pairwise);
    this.chatSent += 1;
    const plaintext = new TextEncoder().encode(JSON.stringify({ seq: this.chatSent, text }));
    this.run(async () => {
      for (const [peerId, peer] of recipients) {
        if (!this.self || !peer.pairwise) continue;
        const sealed = await seal(peer.pairwise, plaintext, chatContext(this.self, peerId));
        this.deliver(peerId, { kind: "chat", ...sealed });
      }
    });
    return recipients.length;
  }

  /**
   * Encrypt what this sender sends (once per sender; before any track is attached to it).
   * @param {RTCRtpSender} sender @param {"audio" | "video"} kind
   */
  protectSender(sender, kind) {
    this.transform(sender, { kind, direction: "send" });
  }

  /** @param {RTCRtpReceiver} receiver @param {"audio" | "video"} kind */
  protectReceiver(receiver, kind) {
    this.transform(receiver, { kind, direction: "receive" });
  }

  /** The group's safety numbers cover these (null until every participant's hello came). */
  async identities() {
    if (!this.identity) return null;
    const own = identityText((await this.identity).publicKeys);
    const others = [...this.peers.values()].map((peer) => peer.identity);
    return others.every(Boolean) ? [own, .../** @type {string[]} */ (others)] : null;
  }

  /** For the debug API: the key we send with and every key id this page held. */
  keys() {
    return { sending: this.current ? this.current.keyId : null, known: [...this.known] };
  }

  close() {
    if (this.pending) window.clearTimeout(this.pending.timer);
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }

  // -- inside ---------------------------------------------------------------------------------

  /** @param {() => Promise<void>} step */
  run(step) {
    this.queue = this.queue.then(step).catch((error) => console.warn("e2ee:", error));
  }

  /**
   * Send to one participant now, or keep it for when their socket is back (the oldest kept
   * messages give way: resync() brings the newest key anyway).
   * @param {string} peerId @param {object} data
   */
  deliver(peerId, data) {
    const held = this.peers.get(peerId)?.held;
    if (!held) {
      this.send(peerId, data);
      return;
    }
    held.push(data);
    if (held.length > HELD_PER_PEER_MAX) held.shift();
  }

  /** @param {object} message */
  post(message) {
    if (this.worker) this.worker.postMessage(message);
  }

  /** Encrypt when everyone can; when someone cannot, everyone sends in the clear (and says so). */
  useEncryption() {
    this.post({ op: "encrypt", on: this.active });
    this.onChange();
  }

  /**
   * @param {RTCRtpSender | RTCRtpReceiver} target
   * @param {{kind: "audio" | "video", direction: "send" | "receive"}} options
   */
  transform(target, options) {
    if (!this.worker || this.transformed.has(target)) return;
    this.transformed.add(target);
    const api = /** @type {any} */ (window);
    const endpoint = /** @type {any} */ (target);
    if ("RTCRtpScriptTransform" in window) {
      endpoint.transform = new api.RTCRtpScriptTransform(this.worker, options);
    } else {
      const { readable, writable } = endpoint.createEncodedStreams();
      this.worker.postMessage({ op: "streams", readable, writable, options }, [readable, writable]);
    }
  }

  /** Make a new sending key and hand it to everyone present; use it once they have it. */
  async rotate() {
    if (!this.capable) return;
    const key = this.newKey();
    if (this.pending) window.clearTimeout(this.pending.timer);
    const waiting = new Set(this.peers.keys());
    this.pending = { key, waiting, timer: window.setTimeout(() => this.switchTo(key), SWITCH_AFTER_MS) };
    for (const peerId of this.peers.keys()) await this.giveKey(peerId, key);
    if (waiting.size === 0) await this.switchTo(key);
  }

  /** @returns {OwnKey} */
  newKey() {
    let keyId = 0;
    do keyId = crypto.getRandomValues(new Uint32Array(1))[0];
    while (this.known.has(keyId));
    this.known.add(keyId);
    return { keyId, secret: crypto.getRandomValues(new Uint8Array(SECRET_BYTES)) };
  }

  /** @param {OwnKey} key */
  async switchTo(key) {
    if (!this.pending || this.pending.key !== key) return;
    window.clearTimeout(this.pending.timer);
    this.pending = null;
    this.current = key;
    this.post({ op: "send-key", frameKey: await frameKey(key.keyId, key.secret) });
  }

  /** @param {string} peerId */
  async greet(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer || peer.helloSent || !this.identity) return;
    peer.helloSent = true;
    this.deliver(peerId, { kind: "hello", publicKeys: (await this.identity).publicKeys });
  }

  /** @param {string} from @param {any} data */
  async greeted(from, data) {
    const peer = this.peers.get(from);
    if (!peer || !this.identity) return;
    const theirs = readPublicKeys(data.publicKeys);
    const identity = identityText(theirs);
    if (peer.identity && peer.identity !== identity) return; // one identity per page and session
    peer.identity = identity;
    peer.pairwise = await pairwiseKey(await this.identity, theirs);
    await this.greet(from);
    // Only the newest key: one made after they came, since their arrival made us rotate.
    const key = this.pending ? this.pending.key : this.current;
    if (key) await this.giveKey(from, key);
    this.onChange();
  }

  /** @param {string} peerId @param {OwnKey} key */
  async giveKey(peerId, key) {
    const peer = this.peers.get(peerId);
    if (!peer || !peer.pairwise || !this.self) return;
    const { iv, sealed } = await seal(peer.pairwise, key.secret, secretContext(this.self, peerId, key.keyId));
    this.deliver(peerId, { kind: "key", keyId: key.keyId, iv, wrapped: sealed });
  }

  /** @param {string} from @param {any} data */
  async receiveKey(from, data) {
    const peer = this.peers.get(from);
    if (!peer || !peer.pairwise || !this.self || !Number.isInteger(data.keyId)) return;
    const keyId = /** @type {number} */ (data.keyId);
    if (peer.keyIds.includes(keyId)) {
      this.deliver(from, { kind: "ack", keyId }); // sent again after a resume
      return;
    }
    const secret = await open(peer.pairwise, { iv: data.iv, sealed: data.wrapped },
      secretContext(from, this.self, keyId));
    if (secret.length !== SECRET_BYTES) throw new Error("a frame-key secret has 32 bytes");
    if (!this.peers.has(from)) return; // they left while we unwrapped
    this.known.add(keyId);
    this.post({ op: "receive-key", frameKey: await frameKey(keyId, secret) });
    peer.keyIds.push(keyId);
    const old = peer.keyIds.splice(0, Math.max(0, peer.keyIds.length - KEYS_KEPT_PER_SENDER));
    if (old.length) this.post({ op: "forget-keys", keyIds: old });
    this.deliver(from, { kind: "ack", keyId });
  }

  /** @param {string} from @param {any} data */
  async receiveChat(from, data) {
    const peer = this.peers.get(from);
    if (!peer || !peer.pairwise || !this.self) return;
    const message = JSON.parse(new TextDecoder().decode(
      await open(peer.pairwise, data, chatContext(from, this.self))));
    if (!Number.isInteger(message.seq) || message.seq <= (this.chatSeen.get(from) || 0)) return;
    this.chatSeen.set(from, message.seq);
    this.onChat(from, message.text);
  }

  /** @param {string} from @param {unknown} keyId */
  acknowledged(from, keyId) {
    const pending = this.pending;
    if (!pending || pending.key.keyId !== keyId) return;
    pending.waiting.delete(from);
    if (pending.waiting.size === 0) this.run(() => this.switchTo(pending.key));
  }

  /** @param {any} message */
  fromWorker(message) {
    if (message.op === "counts") this.counts = message.counts;
    else if (message.op === "counter-exhausted") this.run(() => this.rotate());
  }
}

/** @param {boolean} capable @returns {Peer} */
function newPeer(capable) {
  return { capable, helloSent: false, keyIds: [], held: null };
}
