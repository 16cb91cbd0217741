// The security status badge and the safety words, both derived from live getStats().

import { safetyWords } from "./safety.js";
import { fingerprints } from "./stats.js";

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
   * @param {{strings: Record<string, string>, language: string, announce: (text: string) => void}} options
   */
  constructor({ strings, language, announce }) {
    this.strings = strings;
    this.language = language;
    this.announce = announce;
    this.shown = "waiting|";
    this.badge = /** @type {HTMLElement} */ (document.getElementById("security-status"));
    this.label = /** @type {HTMLElement} */ (document.getElementById("security-label"));
    this.safety = /** @type {HTMLElement} */ (document.getElementById("safety"));
    this.words = /** @type {HTMLElement} */ (document.getElementById("safety-words"));
    /** @type {string[]} */
    this.safetyWords = [];
    this.safetyKey = "";
    /** @type {Promise<string[]> | null} */
    this.wordList = null;
  }

  /** Show the state (with "mesh" as its label when no relay was available) and announce changes. */
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
   * @param {RTCPeerConnection | null} pc the one direct connection, or null when there is none
   */
  async showSafetyWords(pc) {
    const pair = pc ? await fingerprints(pc) : null;
    const key = pair ? `${pair.local}|${pair.remote}` : "";
    if (key === this.safetyKey) return;
    this.safetyKey = key;
    this.safetyWords = [];
    if (pair) {
      this.wordList = this.wordList || fetch(`/wordlist/${this.language}.json`).then((r) => r.json());
      this.safetyWords = await safetyWords(pair, await this.wordList);
    }
    this.words.textContent = this.safetyWords.join(" · ");
    this.safety.hidden = !pair;
  }
}
