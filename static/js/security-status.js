// @ts-check
// The security status badge and the safety words, both derived from live getStats().
// Works inside the elements it is given.

import { safetyWords } from "./safety.js";
import { fingerprints } from "./stats.js";

const FAILED = "failed"; // the safety key while the words cannot be worked out

/**
 * What the connections really do: "waiting", "connecting", "p2p", "p2p-turn" or "group".
 * @param {Record<string, {connectionState: string, candidateType: string | null}>} media
 * @param {string} mode "p2p", "mesh" or "group"
 * @param {number} linkCount direct connections set up so far
 */
export function securityState(media, mode, linkCount) {
  if (mode === "group") return "group";
  const connected = Object.values(media).filter((m) => m.connectionState === "connected");
  if (connected.length) return connected.some((m) => m.candidateType === "relay") ? "p2p-turn" : "p2p";
  return linkCount ? "connecting" : "waiting";
}

export class SecurityStatus {
  /**
   * @param {import("./types").SecurityElements} ui
   * @param {{strings: Record<string, string>, announce: (text: string) => void}} options
   */
  constructor({ badge, label, safety, words, problem }, { strings, announce }) {
    this.strings = strings;
    this.announce = announce;
    this.shown = "waiting|";
    this.badge = badge;
    this.label = label;
    this.safety = safety;
    this.words = words;
    this.problem = problem;
    /** @type {string[]} */
    this.safetyWords = [];
    this.safetyKey = "";
  }

  /**
   * Show the state (with "mesh" as its label when no relay was available) and announce changes.
   * @param {string} next what securityState() said
   * @param {string} mode "p2p", "mesh" or "group"
   */
  show(next, mode) {
    const label = mode === "mesh" && next !== "connecting" ? "mesh" : next;
    if (`${next}|${label}` === this.shown) return;
    this.shown = `${next}|${label}`;
    this.badge.dataset.state = next === "connecting" ? "waiting" : next;
    this.label.textContent = this.strings[label];
    if (next !== "connecting") this.announce(this.strings[next]);
  }

  /**
   * Show the safety words of a two-person direct call, from the certificates actually in use.
   * When they cannot be worked out (getStats or WebCrypto failing), say so in the safety area
   * instead of leaving it blank, and try again on the next call.
   * @param {RTCPeerConnection | null} pc the one direct connection, or null when there is none
   */
  async showSafetyWords(pc) {
    let key = "";
    /** @type {string[]} */
    let words = [];
    try {
      const pair = pc ? await fingerprints(pc) : null;
      key = pair ? `${pair.local}|${pair.remote}` : "";
      if (key === this.safetyKey) return;
      if (pair) words = await safetyWords(pair);
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
  }
}
