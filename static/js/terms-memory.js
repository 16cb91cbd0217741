// @ts-check
/**
 * The counsellor's three terms, remembered in this tab only (sessionStorage), so the invite panel
 * can show them to be read out. The server never knows them: they are kept client-side, never
 * put in a URL, a cookie or a request. No DOM code here.
 *
 * The home page cannot know the room id (a keyed hash made on the server), so it stores the
 * terms as "pending" just before *Start*; the room page claims them for its id when it opens.
 */

const PENDING_KEY = "praatbox.pending-terms";
const ROOM_KEY_PREFIX = "praatbox.terms.";
/** A pending entry older than this did not lead to a room (a typo, a reused-terms warning…). */
const PENDING_MAX_AGE_MS = 10 * 60 * 1000;

/** @returns {Storage | null} */
function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the invite panel says the terms are unknown
  }
}

/**
 * Keep the terms typed on the home page until the room page claims them.
 * @param {string[]} terms name, location, word
 */
export function rememberPendingTerms(terms) {
  const store = storage();
  if (!store) return;
  const cleaned = terms.map((term) => term.trim().replace(/\s+/g, " "));
  if (cleaned.some((term) => !term)) return;
  store.setItem(PENDING_KEY, JSON.stringify({ terms: cleaned, at: Date.now() }));
}

/** Drop pending terms (a client joining must not leave a counsellor's terms behind). */
export function forgetPendingTerms() {
  const store = storage();
  if (store) store.removeItem(PENDING_KEY);
}

/**
 * Move fresh pending terms under this room's id, then return the terms known for it.
 * @param {string} roomId
 * @returns {string[] | null}
 */
export function termsForRoom(roomId) {
  const store = storage();
  if (!store) return null;
  const pending = parse(store.getItem(PENDING_KEY));
  store.removeItem(PENDING_KEY);
  if (pending && Array.isArray(pending.terms) && Date.now() - Number(pending.at) < PENDING_MAX_AGE_MS) {
    store.setItem(ROOM_KEY_PREFIX + roomId, JSON.stringify(pending.terms));
  }
  const terms = parse(store.getItem(ROOM_KEY_PREFIX + roomId));
  return Array.isArray(terms) && terms.length === 3 && terms.every((t) => typeof t === "string") ? terms : null;
}

/**
 * Forget a room's terms (the session ended).
 * @param {string} roomId
 */
export function forgetRoomTerms(roomId) {
  const store = storage();
  if (store) store.removeItem(ROOM_KEY_PREFIX + roomId);
}

/** @param {string | null} text */
function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
