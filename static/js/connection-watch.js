// @ts-check
// Notice when a connection's media path is lost (a network change, a TURN server restart), so
// that its owner can restart ICE or open a fresh connection. No UI code here.

/** `disconnected` often heals by itself within a second or two (a brief loss of packets). */
export const DISCONNECTED_GRACE_MS = 3000;
/** A restart that did not connect (the network is still down) is tried again after this. */
export const RESTART_RETRY_MS = 8000;

export class ConnectionWatch {
  /**
   * Call `onLost` once the connection has been `disconnected` for DISCONNECTED_GRACE_MS or is
   * `failed`, then every RESTART_RETRY_MS until it is `connected` again.
   * @param {RTCPeerConnection} pc
   * @param {() => void} onLost
   */
  constructor(pc, onLost) {
    this.pc = pc;
    this.onLost = onLost;
    /** Between losing the path and having it back: the status says "reconnecting". */
    this.reconnecting = false;
    this.timer = 0;
    pc.addEventListener("connectionstatechange", () => this.check());
  }

  check() {
    const state = this.pc.connectionState;
    if (state === "connected" || state === "closed") {
      this.reconnecting = false;
      this.stop();
    } else if (state === "disconnected" || state === "failed") {
      this.reconnecting = true;
      if (state === "failed") this.stop();
      this.schedule(state === "failed" ? 0 : DISCONNECTED_GRACE_MS);
    }
  }

  /** @param {number} delayMs */
  schedule(delayMs) {
    if (this.timer) return;
    this.timer = window.setTimeout(() => {
      this.timer = 0;
      const state = this.pc.connectionState;
      if (state === "connected" || state === "closed") return;
      this.schedule(RESTART_RETRY_MS);
      this.onLost();
    }, delayMs);
  }

  stop() {
    window.clearTimeout(this.timer);
    this.timer = 0;
  }
}
