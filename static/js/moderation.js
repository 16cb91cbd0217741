// The counsellor's controls: knock notices, the password / waiting-room panel, end for all.

/**
 * @typedef {{send: (message: object) => void, strings: Record<string, string>,
 *            onLocked: () => void}} ModerationOptions
 */

export class ModeratorControls {
  /** @param {ModerationOptions} options */
  constructor({ send, strings, onLocked }) {
    this.send = send;
    this.strings = strings;
    this.knocks = /** @type {HTMLElement} */ (document.getElementById("knocks"));
    this.panel = document.getElementById("moderator-panel");
    this.panelButton = document.getElementById("add-password");
    this.waitingRoom = /** @type {HTMLInputElement | null} */ (document.getElementById("waiting-room-toggle"));
    const endForAll = document.getElementById("end-for-all");
    if (this.panelButton) this.panelButton.addEventListener("click", () => this.openPanel());
    if (endForAll) endForAll.addEventListener("click", () => send({ type: "end" }));
    if (this.waitingRoom) {
      const toggle = this.waitingRoom;
      toggle.addEventListener("change", () => send({ type: "waiting-room", on: toggle.checked }));
    }
    // The password form is an HTMX partial: after a save it reports the new lock state.
    document.body.addEventListener("htmx:afterSwap", () => {
      const lockState = document.querySelector("#password-form .lock-state");
      if (lockState && lockState.getAttribute("data-locked") === "true") onLocked();
    });
  }

  /** A prominent "someone wants to join" with Admit / Deny. */
  showKnock(peerId) {
    if (this.knockOf(peerId)) return;
    const notice = document.createElement("div");
    notice.className = "knock";
    notice.dataset.peer = peerId;
    notice.dataset.testid = "knock-notice";
    notice.setAttribute("role", "alert");
    const text = document.createElement("p");
    text.textContent = this.strings.knock;
    notice.append(text);
    for (const action of ["admit", "deny"]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = action;
      button.className = action === "admit" ? "primary" : "secondary";
      button.textContent = this.strings[action];
      button.addEventListener("click", () => {
        this.send({ type: action, peer: peerId });
        notice.remove();
      });
      notice.append(button);
    }
    this.knocks.append(notice);
  }

  removeKnock(peerId) {
    const notice = this.knockOf(peerId);
    if (notice) notice.remove();
  }

  knockOf(peerId) {
    return this.knocks.querySelector(`.knock[data-peer="${CSS.escape(peerId)}"]`);
  }

  /** Open, close (or with no argument toggle) the password panel; focus its input when open. */
  openPanel(open) {
    if (!this.panel || !this.panelButton) return;
    this.panel.hidden = open === undefined ? !this.panel.hidden : !open;
    this.panelButton.setAttribute("aria-expanded", String(!this.panel.hidden));
    if (!this.panel.hidden) {
      const input = document.getElementById("password-set-input");
      if (input) input.focus();
    }
  }

  setWaitingRoom(on) {
    if (this.waitingRoom) this.waitingRoom.checked = on;
  }

  hide() {
    if (this.panel) this.panel.hidden = true;
    this.knocks.hidden = true;
  }
}
