// @ts-check
// The frame-encryption worker of group calls: every encoded frame this page sends to the relay is
// encrypted here, and every frame it receives is decrypted here (format: e2ee-frame.js). The page
// hands over the keys (group-e2ee.js makes and exchanges them); no key ever leaves the browsers.
//
// Frames arrive through RTCRtpScriptTransform (`rtctransform` events) or, in browsers that only
// have the older API, as the streams of createEncodedStreams() posted by the page.

import { decryptFrame, encryptFrame, keyIdOf, MAX_COUNTER } from "./e2ee-frame.js";

/** How often the page hears how many frames went through (for its status and debug API). */
const REPORT_INTERVAL_MS = 1000;

/** @typedef {import("./e2ee-frame.js").FrameKey} FrameKey */
/** @typedef {{kind: "audio" | "video", direction: "send" | "receive"}} TransformOptions */
/**
 * @typedef {{readable: ReadableStream, writable: WritableStream, options?: any,
 *   generateKeyFrame?: () => Promise<unknown>, sendKeyFrameRequest?: () => Promise<unknown>}} Transformer
 */

const scope = /** @type {any} */ (self);

/** The key this page encrypts with now, and the counter of the next frame under it. */
/** @type {{frameKey: FrameKey, counter: number} | null} */
let sending = null;
/** @type {Map<number, FrameKey>} the other senders' keys, by key id */
const receiving = new Map();
/** Encrypt (a room where every browser can) or pass frames through unchanged. */
let encrypting = true;
/** Receivers that dropped frames for want of a key: they ask for a key frame once it comes. */
const starving = new Set();
/** @type {Set<Transformer>} */
const senders = new Set();
const counts = { encrypted: 0, decrypted: 0, dropped: 0, clear: 0 };
let exhaustionReported = false;

/** @param {any} frame an RTCEncodedVideoFrame or RTCEncodedAudioFrame */
function typeOf(frame) {
  return typeof frame.type === "string" ? frame.type : undefined;
}

/**
 * @param {TransformOptions} options
 * @returns {TransformStream}
 */
function encrypter({ kind }) {
  return new TransformStream({
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      if (!encrypting || data.length === 0) {
        counts.clear += 1;
        controller.enqueue(frame);
        return;
      }
      const current = sending;
      if (!current || current.counter > MAX_COUNTER) {
        // Never send a frame unencrypted in an encrypted room: drop it until a key is there.
        counts.dropped += 1;
        if (current && !exhaustionReported) {
          exhaustionReported = true;
          scope.postMessage({ op: "counter-exhausted" });
        }
        return;
      }
      const counter = current.counter;
      current.counter += 1; // before the await: audio and video share the counter
      frame.data = (await encryptFrame(current.frameKey, counter, data, kind, typeOf(frame))).buffer;
      counts.encrypted += 1;
      controller.enqueue(frame);
    },
  });
}

/**
 * @param {TransformOptions} options @param {Transformer | null} transformer
 * @returns {TransformStream}
 */
function decrypter({ kind }, transformer) {
  return new TransformStream({
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      const keyId = keyIdOf(data);
      const key = keyId === null ? undefined : receiving.get(keyId);
      if (key) {
        try {
          frame.data = (await decryptFrame(key, data, kind, typeOf(frame))).buffer;
          counts.decrypted += 1;
          controller.enqueue(frame);
          return;
        } catch {
          // Altered, or a clear frame whose last bytes happened to match a key id: below.
        }
      }
      if (!encrypting || data.length === 0) {
        counts.clear += 1;
        controller.enqueue(frame);
        return;
      }
      counts.dropped += 1;
      if (transformer) starving.add(transformer);
    },
  });
}

/**
 * Run one sender's or receiver's frames through encryption or decryption.
 * @param {Transformer} transformer @param {TransformOptions} options
 */
function attach(transformer, options) {
  const stream = options.direction === "send" ? encrypter(options) : decrypter(options, transformer);
  if (options.direction === "send") senders.add(transformer);
  transformer.readable
    .pipeThrough(stream)
    .pipeTo(transformer.writable)
    .catch(() => undefined) // the connection closed
    .finally(() => {
      senders.delete(transformer);
      starving.delete(transformer);
    });
}

/** A new key from another sender: receivers that waited for it ask for a key frame. */
function askForKeyFrames() {
  for (const transformer of starving) {
    if (transformer.sendKeyFrameRequest) transformer.sendKeyFrameRequest().catch(() => undefined);
  }
  starving.clear();
}

/** We switched keys: start the others' pictures afresh with a key frame under the new key. */
function sendKeyFrames() {
  for (const transformer of senders) {
    if (transformer.generateKeyFrame) transformer.generateKeyFrame().catch(() => undefined);
  }
}

scope.onrtctransform = (/** @type {any} */ event) => {
  attach(event.transformer, event.transformer.options);
};

scope.onmessage = (/** @type {MessageEvent} */ event) => {
  // Keys come derived (CryptoKeys clone into workers): each message takes effect at once, in order.
  const message = event.data;
  if (message.op === "streams") {
    attach({ readable: message.readable, writable: message.writable }, message.options);
  } else if (message.op === "send-key") {
    sending = { frameKey: message.frameKey, counter: 0 };
    exhaustionReported = false;
    sendKeyFrames();
  } else if (message.op === "receive-key") {
    receiving.set(message.frameKey.keyId, message.frameKey);
    askForKeyFrames();
  } else if (message.op === "forget-keys") {
    for (const keyId of message.keyIds) receiving.delete(keyId);
  } else if (message.op === "encrypt") {
    encrypting = Boolean(message.on);
  }
};

setInterval(() => scope.postMessage({ op: "counts", counts }), REPORT_INTERVAL_MS);
