// @ts-check
/**
 * The counsellor's invite panel (templates/partials/_invite.html): two paths, kept apart.
 * Not confidential: the room link (copy, WhatsApp, e-mail). Confidential: the three terms, large,
 * to read out by phone, and an `sms:` link with them. The terms come from this tab's memory
 * (terms-memory.js), never from the server, and never go into a request; the password never
 * goes anywhere. Works inside the panel element it is given; room.js finds that element.
 */

import { forgetRoomTerms, termsForRoom } from "./terms-memory.js";

const COPIED_MS = 4000;

/**
 * @param {HTMLElement} panel the `#invite` details element
 * @param {object} options
 * @param {(text: string) => void} options.announce shows a notice in the live region
 * @param {() => void} options.openPasswordForm opens the moderator's password form
 * @returns {{setLocked: (locked: boolean) => void, peersChanged: (count: number) => void,
 *   hide: () => void, forget: () => void}}
 */
export function initInvite(panel, { announce, openPasswordForm }) {
  /** @param {string} name */
  const part = (name) => /** @type {HTMLElement} */ (panel.querySelector(`[data-invite="${name}"]`));
  const roomId = panel.dataset.roomId || "";
  let touched = false;
  panel.querySelector("summary")?.addEventListener("click", () => (touched = true));

  const copy = part("copy");
  const urlField = /** @type {HTMLInputElement} */ (part("url"));
  copy.addEventListener("click", async () => {
    const url = copy.dataset.url || urlField.value;
    try {
      await navigator.clipboard.writeText(url);
      copy.dataset.copied = "true";
      announce(panel.dataset.copiedText || "");
      window.setTimeout(() => delete copy.dataset.copied, COPIED_MS);
    } catch {
      urlField.focus();
      urlField.select();
      announce(panel.dataset.copyFailedText || "");
    }
  });
  urlField.addEventListener("focus", () => urlField.select());

  part("add-password").addEventListener("click", () => openPasswordForm());

  const terms = termsForRoom(roomId);
  if (terms) {
    const items = panel.querySelectorAll('[data-invite="term"]');
    terms.forEach((term, index) => (items[index].textContent = term));
    part("terms").hidden = false;
    const sms = /** @type {HTMLAnchorElement} */ (part("sms"));
    const body = `${panel.dataset.smsIntro || ""} ${terms.map((term, i) => `${i + 1}. ${term}`).join(", ")}`;
    // `?&body=` is understood by both Android and iOS messaging apps.
    sms.href = `sms:?&body=${encodeURIComponent(body)}`;
    sms.hidden = false;
  } else {
    part("terms-missing").hidden = false;
  }

  return {
    setLocked(locked) {
      part("lock-reminder").hidden = locked;
    },
    /** Make room for the video once somebody came in, unless the counsellor chose otherwise. */
    peersChanged(count) {
      if (count > 0 && !touched) {
        /** @type {HTMLDetailsElement} */ (panel).open = false;
        touched = true;
      }
    },
    hide() {
      panel.hidden = true;
    },
    /** The session was ended for everyone: its terms are of no use any more in this tab. */
    forget() {
      forgetRoomTerms(roomId);
      panel.hidden = true;
    },
  };
}
