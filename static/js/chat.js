// @ts-check
// The call's chat panel: for someone who cannot speak freely at that moment, or must spell a word.
// Messages live only in this page (never stored, gone on hang-up or reload) and are shown as text,
// never as HTML. How they travel is room.js's business (a data channel between two browsers, or
// end-to-end encrypted through the server in a group). Works inside the elements it is given.

/** The longest message, in characters (the input's maxlength says the same). */
export const MAX_CHAT_CHARS = 500;
/** Messages kept on screen: older ones go (nothing is kept anywhere else either). */
const MAX_SHOWN = 200;

/**
 * @typedef {object} ChatElements
 * @property {HTMLElement} panel
 * @property {HTMLOListElement} log
 * @property {HTMLFormElement} form
 * @property {HTMLInputElement} input
 * @property {HTMLElement} toggle the control that shows and hides the panel
 * @property {HTMLElement} badge unread count on the toggle
 */

/**
 * Read a chat message from another browser: plain text within the limit, else null.
 * @param {unknown} value
 * @returns {string | null}
 */
export function chatText(value) {
  if (typeof value !== "string") return null;
  const text = value.trim();
  return text && text.length <= MAX_CHAT_CHARS ? text : null;
}

export class ChatPanel {
  /**
   * @param {ChatElements} ui
   * @param {{strings: Record<string, string>, announce: (text: string) => void,
   *          send: (text: string) => boolean}} options `send` returns false when nobody got it
   */
  constructor(ui, { strings, announce, send }) {
    this.ui = ui;
    this.strings = strings;
    this.announce = announce;
    this.send = send;
    this.unread = 0;
    /** @type {Map<string, number>} who is "Participant n" on this page */
    this.numbers = new Map();
    ui.toggle.addEventListener("click", () => this.setOpen(ui.panel.hidden));
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.ui.panel.hidden = !open;
    this.ui.toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      this.unread = 0;
      this.showUnread();
      this.ui.input.focus();
    }
  }

  submit() {
    const text = chatText(this.ui.input.value);
    if (!text) return;
    if (!this.send(text)) {
      this.announce(this.strings.chatNobody);
      return;
    }
    this.ui.input.value = "";
    this.add(this.strings.chatYou, text, true);
  }

  /**
   * A message from another participant.
   * @param {string} peerId @param {unknown} value
   */
  receive(peerId, value) {
    const text = chatText(value);
    if (!text) return;
    if (!this.numbers.has(peerId)) this.numbers.set(peerId, this.numbers.size + 1);
    this.add(this.strings.chatOther.replace("{n}", String(this.numbers.get(peerId))), text, false);
    if (this.ui.panel.hidden) {
      this.unread += 1;
      this.showUnread();
      this.announce(this.unreadText());
    }
  }

  /** Hang-up: nothing of the conversation stays on the page. */
  clear() {
    this.ui.log.replaceChildren();
    this.unread = 0;
    this.showUnread();
  }

  /** @param {string} who @param {string} text @param {boolean} own */
  add(who, text, own) {
    const item = document.createElement("li");
    item.dataset.testid = "chat-message";
    item.className = own ? "own" : "";
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = who;
    const body = document.createElement("span");
    body.className = "text";
    body.dir = "auto";
    body.textContent = text; // text, never HTML
    item.append(name, " ", body);
    this.ui.log.append(item);
    while (this.ui.log.children.length > MAX_SHOWN) this.ui.log.firstElementChild?.remove();
    item.scrollIntoView({ block: "nearest" });
  }

  unreadText() {
    return this.strings.chatUnread.replace("{n}", String(this.unread));
  }

  showUnread() {
    this.ui.badge.hidden = this.unread === 0;
    this.ui.badge.textContent = String(this.unread);
    if (this.unread) this.ui.toggle.setAttribute("aria-description", this.unreadText());
    else this.ui.toggle.removeAttribute("aria-description");
  }
}
