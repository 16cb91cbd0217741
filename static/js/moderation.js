// @ts-check
// The counsellor's controls: knock notices, the password / waiting-room / require-E2EE panel,
// end for all.
// Works inside the elements it is given; a client's page has only `knocks`.

/**
 * @typedef {{send: (message: import("./types").ClientMessage) => void, strings: Record<string, string>,
 *            onLocked: () => void}} ModerationOptions
 */

export class ModeratorControls {
  /** @param {import("./types").ModerationElements} ui @param {ModerationOptions} options */
  constructor({ knocks, panel, panelButton, waitingRoom, requireE2ee, endForAll }, { send, strings, onLocked }) {
    this.send = send;
    this.strings = strings;
    this.knocks = knocks;
    this.panel = panel;
    this.panelButton = panelButton;
    this.waitingRoom = waitingRoom;
    this.requireE2ee = requireE2ee || null;
    if (panelButton) panelButton.addEventListener("click", () => this.openPanel());
    if (endForAll) endForAll.addEventListener("click", () => send({ type: "end" }));
    if (waitingRoom) {
      waitingRoom.addEventListener("change", () => send({ type: "waiting-room", on: waitingRoom.checked }));
    }
    if (requireE2ee) {
      requireE2ee.addEventListener("change", () => send({ type: "require-e2ee", on: requireE2ee.checked }));
    }
    // The password form is an HTMX partial: after a save it reports the new lock state.
    document.body.addEventListener("htmx:afterSwap", () => {
      const lockState = panel && panel.querySelector("#password-form .lock-state");
      if (lockState && lockState.getAttribute("data-locked") === "true") onLocked();
    });
  }

  /** A prominent "someone wants to join" with Admit / Deny. @param {string} peerId */
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

  /** @param {string} peerId */
  removeKnock(peerId) {
    const notice = this.knockOf(peerId);
    if (notice) notice.remove();
  }

  /** @param {string} peerId */
  knockOf(peerId) {
    return this.knocks.querySelector(`.knock[data-peer="${CSS.escape(peerId)}"]`);
  }

  /**
   * Open, close (or with no argument toggle) the password panel; focus its input when open.
   * @param {boolean} [open]
   */
  openPanel(open) {
    if (!this.panel || !this.panelButton) return;
    this.panel.hidden = open === undefined ? !this.panel.hidden : !open;
    this.panelButton.setAttribute("aria-expanded", String(!this.panel.hidden));
    if (!this.panel.hidden) {
      // Looked up each time: HTMX replaces the form after every save.
      const input = /** @type {HTMLInputElement | null} */ (this.panel.querySelector("#password-set-input"));
      if (input) input.focus();
    }
  }

  /** @param {boolean} on */
  setWaitingRoom(on) {
    if (this.waitingRoom) this.waitingRoom.checked = on;
  }

  /** Show the server's state of "require end-to-end encryption". @param {boolean} on */
  setRequireE2ee(on) {
    if (this.requireE2ee) this.requireE2ee.checked = on;
  }

  hide() {
    if (this.panel) this.panel.hidden = true;
    this.knocks.hidden = true;
  }
}
