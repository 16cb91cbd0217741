// @ts-check
// The security status badge and the safety words, both derived from what the connections and
// the group's encryption really do. Works inside the elements it is given.

import { safetyWords } from "./safety.js";

const FAILED = "failed"; // the safety key while the words cannot be worked out

/**
 * What the connections really do: "waiting", "connecting", "reconnecting" (a media path was lost
 * and nothing else carries media), "p2p", "p2p-turn", "group-e2ee" (through the relay, frames
 * encrypted in the browsers) or "group" (through the relay, not).
 * @param {Record<string, {connectionState: string, candidateType: string | null}>} media
 * @param {string} mode "p2p", "mesh" or "group"
 * @param {number} linkCount direct connections set up so far
 * @param {boolean} groupEncrypted every browser in the group encrypts its frames
 * @param {boolean} [reconnecting] a connection (or the relay's) lost its path and is restarting
 */
export function securityState(media, mode, linkCount, groupEncrypted, reconnecting = false) {
  if (mode === "group") {
    if (reconnecting) return "reconnecting";
    return groupEncrypted ? "group-e2ee" : "group";
  }
  const connected = Object.values(media).filter((m) => m.connectionState === "connected");
  if (connected.length) return connected.some((m) => m.candidateType === "relay") ? "p2p-turn" : "p2p";
  if (reconnecting) return "reconnecting";
  return linkCount ? "connecting" : "waiting";
}

/** States shown with the `waiting` badge (data-state takes a fixed set of values). */
const WAITING_BADGE = new Set(["connecting", "reconnecting"]);

export class SecurityStatus {
  /**
   * @param {import("./types").SecurityElements} ui
   * @param {{strings: Record<string, string>, announce: (text: string) => void}} options
   */
  constructor({ badge, label, safety, words, problem, pairHint, groupHint }, { strings, announce }) {
    this.strings = strings;
    this.announce = announce;
    this.shown = "waiting|";
    this.badge = badge;
    this.label = label;
    this.safety = safety;
    this.words = words;
    this.problem = problem;
    this.pairHint = pairHint;
    this.groupHint = groupHint;
    /** @type {string[]} */
    this.safetyWords = [];
    this.safetyKey = "";
    /** The group's words last shown ("" before any), to announce when they change. */
    this.groupWords = "";
  }

  /**
   * Show the state (with "mesh" as its label when no relay was available) and announce changes.
   * @param {string} next what securityState() said
   * @param {string} mode "p2p", "mesh" or "group"
   */
  show(next, mode) {
    let label = mode === "mesh" && !WAITING_BADGE.has(next) ? "mesh" : next;
    if (next === "group") label = "groupNoE2ee"; // the only reason a group goes unencrypted
    if (`${next}|${label}` === this.shown) return;
    this.shown = `${next}|${label}`;
    this.badge.dataset.state = WAITING_BADGE.has(next) ? "waiting" : next;
    this.label.textContent = this.strings[label];
    const spoken = { group: "e2eeOff", "group-e2ee": "e2eeOn" }[next] || next;
    if (next !== "connecting") this.announce(this.strings[spoken]);
  }

  /**
   * Show the safety words over the keys in use (a call of two: both DTLS fingerprints; a group:
   * every identity key). When they cannot be worked out (getStats or WebCrypto failing), say so
   * in the safety area instead of leaving it blank, and try again on the next call. In a group,
   * new words (someone joined or left) are announced: they must be compared again.
   * @param {() => Promise<string[] | null>} keysInUse null when there is nothing to compare
   * @param {boolean} group
   */
  async showSafetyWords(keysInUse, group) {
    let key = "";
    /** @type {string[]} */
    let words = [];
    try {
      const keys = await keysInUse();
      key = keys ? [...keys].sort().join("|") : "";
      if (key === this.safetyKey) return;
      if (keys) words = await safetyWords(keys);
    } catch {
      key = FAILED;
    }
    if (key === this.safetyKey) return;
    const failed = key === FAILED;
    if (failed) this.safety.open = true; // once, as the failure starts: the message must be seen
    this.safetyKey = key;
    this.safetyWords = words;
    this.words.textContent = words.join(" · ");
    this.words.hidden = failed;
    this.problem.hidden = !failed;
    this.safety.hidden = key === "";
    this.pairHint.hidden = group;
    this.groupHint.hidden = !group;
    if (group && words.length) {
      // Compared with the last words shown, across the gap while a newcomer's keys arrive.
      if (this.groupWords && this.groupWords !== this.words.textContent) {
        this.announce(this.strings.safetyChanged);
      }
      this.groupWords = this.words.textContent;
    }
  }
}
