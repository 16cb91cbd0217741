// @ts-check
// The encrypted frame format of group calls (docs/e2ee.md), in the spirit of SFrame (RFC 9605):
//
//   clear codec header | AES-GCM ciphertext of the rest, with its 16-byte tag | key id | counter
//
// The codec header stays readable because the relay and the receiving browser need it: a VP8 key
// frame's 10 bytes (frame tag, start code, size) tell a key frame from a delta frame and give the
// picture size; a delta frame keeps its 3-byte frame tag; Opus keeps its 1-byte TOC. The header
// and the trailer are authenticated (additional data), so nobody can alter them unnoticed.
// No DOM here: the frame-encryption worker imports this module.

/** Clear bytes kept at the front of each frame: VP8 key frame, VP8 delta frame, Opus. */
export const CLEAR_BYTES = { key: 10, delta: 3, audio: 1 };
export const TAG_BYTES = 16;
/** Key id (uint32) and frame counter (uint32), big-endian, after the ciphertext. */
export const TRAILER_BYTES = 8;
const IV_BYTES = 12;
const SALT_INFO = "praatbox frame salt v1";
const KEY_INFO = "praatbox frame key v1";
/** The largest counter: a sender must take a new key before it would reuse one. */
export const MAX_COUNTER = 0xffffffff;

/**
 * @typedef {object} FrameKey
 * @property {number} keyId random uint32 naming the key in every frame it encrypts
 * @property {CryptoKey} key AES-GCM key, derived from the sender's secret
 * @property {Uint8Array} salt 12 bytes: the IV of frame n is the salt XOR n
 */

/**
 * Derive a frame key (and its IV salt) from the 32-byte secret a sender hands out.
 * @param {number} keyId @param {BufferSource} secret
 * @returns {Promise<FrameKey>}
 */
export async function frameKey(keyId, secret) {
  const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits", "deriveKey"]);
  const hkdf = (/** @type {string} */ info) => ({
    name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info),
  });
  const key = await crypto.subtle.deriveKey(hkdf(KEY_INFO), base, { name: "AES-GCM", length: 128 },
    false, ["encrypt", "decrypt"]);
  const salt = new Uint8Array(await crypto.subtle.deriveBits(hkdf(SALT_INFO), base, IV_BYTES * 8));
  return { keyId, key, salt };
}

/**
 * How many bytes of this frame stay in the clear.
 * @param {"audio" | "video"} kind @param {string | undefined} type RTCEncodedVideoFrame.type
 * @param {number} length of the frame before encryption
 */
export function clearBytes(kind, type, length) {
  const wanted = kind === "audio" ? CLEAR_BYTES.audio : type === "key" ? CLEAR_BYTES.key : CLEAR_BYTES.delta;
  return Math.min(wanted, length);
}

/** @param {Uint8Array} salt @param {number} counter */
function ivFor(salt, counter) {
  const iv = salt.slice();
  const view = new DataView(iv.buffer);
  view.setUint32(IV_BYTES - 4, view.getUint32(IV_BYTES - 4) ^ counter);
  return iv;
}

/** @param {number} keyId @param {number} counter */
function trailer(keyId, counter) {
  const bytes = new Uint8Array(TRAILER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, keyId);
  view.setUint32(4, counter);
  return bytes;
}

/** @param {Uint8Array[]} parts */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Encrypt one encoded frame. The caller owns the counter and never passes the same one twice
 * for one key (a repeated IV under AES-GCM would reveal both frames).
 * @param {FrameKey} frameKey @param {number} counter
 * @param {Uint8Array} data the encoded frame
 * @param {"audio" | "video"} kind @param {string | undefined} type RTCEncodedVideoFrame.type
 * @returns {Promise<Uint8Array>}
 */
export async function encryptFrame(frameKey, counter, data, kind, type) {
  const clear = clearBytes(kind, type, data.length);
  const header = data.subarray(0, clear);
  const tail = trailer(frameKey.keyId, counter);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: ivFor(frameKey.salt, counter), additionalData: concat(header, tail) },
    frameKey.key, data.subarray(clear),
  );
  return concat(header, new Uint8Array(ciphertext), tail);
}

/**
 * Read the key id of an encrypted frame, or null when it is too short to be one.
 * @param {Uint8Array} data
 */
export function keyIdOf(data) {
  if (data.length < TAG_BYTES + TRAILER_BYTES) return null;
  return new DataView(data.buffer, data.byteOffset + data.length - TRAILER_BYTES).getUint32(0);
}

/**
 * Decrypt one frame; rejects when it was not encrypted with this key or was altered.
 * @param {FrameKey} frameKey @param {Uint8Array} data
 * @param {"audio" | "video"} kind @param {string | undefined} type RTCEncodedVideoFrame.type
 * @returns {Promise<Uint8Array>}
 */
export async function decryptFrame(frameKey, data, kind, type) {
  const end = data.length - TRAILER_BYTES;
  const clear = clearBytes(kind, type, end - TAG_BYTES);
  const header = data.subarray(0, clear);
  const tail = data.subarray(end);
  const counter = new DataView(tail.buffer, tail.byteOffset).getUint32(4);
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: ivFor(frameKey.salt, counter), additionalData: concat(header, tail) },
    frameKey.key, data.subarray(clear, end),
  );
  return concat(header, new Uint8Array(plaintext));
}
