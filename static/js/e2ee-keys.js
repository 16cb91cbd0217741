// @ts-check
// Key agreement between browsers (docs/e2ee.md): each page makes an identity key pair for the
// session, agrees a pairwise key with every other participant (ECDH, then HKDF), and wraps its
// frame-key secrets for each of them with AES-GCM. The server only passes the results on.
// No DOM and no signaling here.

const PAIRWISE_INFO = "praatbox pairwise v1";
const WRAP_IV_BYTES = 12;
export const SECRET_BYTES = 32;

/**
 * @typedef {{x25519?: CryptoKeyPair, p256: CryptoKeyPair}} KeyPairs
 * @typedef {{x25519?: string, p256: string}} PublicKeys base64 of the raw public keys
 * @typedef {{pairs: KeyPairs, publicKeys: PublicKeys}} Identity
 */

/** @param {ArrayBuffer | Uint8Array} bytes */
export function toBase64(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
}

/** @param {string} text @returns {Uint8Array} throws on anything but base64 */
export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Make this page's identity: X25519 where the browser has it, and always P-256, so that two
 * browsers can agree on a curve whatever each supports.
 * @returns {Promise<Identity>}
 */
export async function createIdentity() {
  /** @type {KeyPairs} */
  const pairs = {
    p256: /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])),
  };
  try {
    pairs.x25519 = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(
      { name: "X25519" }, false, ["deriveBits"]));
  } catch {
    // An older browser: P-256 alone.
  }
  /** @type {PublicKeys} */
  const publicKeys = {
    p256: toBase64(await crypto.subtle.exportKey("raw", pairs.p256.publicKey)),
  };
  if (pairs.x25519) {
    publicKeys.x25519 = toBase64(await crypto.subtle.exportKey("raw", pairs.x25519.publicKey));
  }
  return { pairs, publicKeys };
}

/**
 * The identity as one string, the same on every page: what the group safety numbers cover.
 * @param {PublicKeys} keys
 */
export function identityText(keys) {
  return keys.x25519 ? `p256:${keys.p256}|x25519:${keys.x25519}` : `p256:${keys.p256}`;
}

/**
 * Check the public keys another page sent (a hello); throws on anything malformed.
 * @param {any} value @returns {PublicKeys}
 */
export function readPublicKeys(value) {
  if (!value || typeof value.p256 !== "string") throw new Error("hello without a P-256 key");
  fromBase64(value.p256);
  /** @type {PublicKeys} */
  const keys = { p256: value.p256 };
  if (typeof value.x25519 === "string") {
    fromBase64(value.x25519);
    keys.x25519 = value.x25519;
  }
  return keys;
}

/**
 * Agree the key that wraps everything this page and one other page send each other.
 * @param {Identity} own @param {PublicKeys} theirs
 * @returns {Promise<CryptoKey>} AES-GCM, the same on both pages
 */
export async function pairwiseKey(own, theirs) {
  const useX25519 = Boolean(own.pairs.x25519 && own.publicKeys.x25519 && theirs.x25519);
  const algorithm = useX25519 ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  const ownPair = useX25519 ? /** @type {CryptoKeyPair} */ (own.pairs.x25519) : own.pairs.p256;
  const ownPublic = /** @type {string} */ (useX25519 ? own.publicKeys.x25519 : own.publicKeys.p256);
  const theirPublic = /** @type {string} */ (useX25519 ? theirs.x25519 : theirs.p256);
  const peerKey = await crypto.subtle.importKey("raw", fromBase64(theirPublic), algorithm, false, []);
  const shared = await crypto.subtle.deriveBits(
    { name: algorithm.name, public: peerKey }, ownPair.privateKey, 256);
  const base = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  // Both public keys, in the same order on both pages, bind the key to this pair of identities.
  const info = [PAIRWISE_INFO, ...[ownPublic, theirPublic].sort()].join("|");
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
    base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/**
 * What a wrapped frame-key secret is bound to: who sent it to whom, under which key id. A secret
 * replayed to someone else, or under another id, does not unwrap.
 * @param {string} from @param {string} to @param {number} keyId
 */
export function secretContext(from, to, keyId) {
  return `${from}|${to}|${keyId}`;
}

/**
 * What a chat message is bound to: sent by `from` to `to` (never a key id: no collision).
 * @param {string} from @param {string} to
 */
export function chatContext(from, to) {
  return `${from}|${to}|chat`;
}

/**
 * Encrypt for the one page that shares this pairwise key, bound to `context`.
 * @param {CryptoKey} pairwise @param {Uint8Array} plaintext @param {string} context
 * @returns {Promise<{iv: string, sealed: string}>}
 */
export async function seal(pairwise, plaintext, context) {
  const iv = crypto.getRandomValues(new Uint8Array(WRAP_IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) }, pairwise, plaintext);
  return { iv: toBase64(iv), sealed: toBase64(sealed) };
}

/**
 * @param {CryptoKey} pairwise @param {{iv: unknown, sealed: unknown}} message
 * @param {string} context
 * @returns {Promise<Uint8Array>} rejects when it was not sealed for this context, or was altered
 */
export async function open(pairwise, message, context) {
  if (typeof message.iv !== "string" || typeof message.sealed !== "string") {
    throw new Error("a sealed message has an iv and a body");
  }
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(message.iv), additionalData: new TextEncoder().encode(context) },
    pairwise, fromBase64(message.sealed));
  return new Uint8Array(plaintext);
}
