// @ts-check
// Home page: pick a suggested word.

import { forgetPendingTerms, rememberPendingTerms } from "./terms-memory.js";

document.addEventListener("click", (event) => {
  const chip = /** @type {HTMLElement} */ (event.target).closest("[data-word]");
  if (!chip) return;
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById("term-word"));
  if (input) {
    input.value = chip.getAttribute("data-word") || "";
    input.focus();
  }
});

// Remember the counsellor's terms in this tab for the invite panel (static/js/terms-memory.js):
// just before *Start* is sent, and forgotten again when the form comes back instead of a room.

forgetPendingTerms();
document.addEventListener("click", (event) => {
  const button = /** @type {HTMLElement} */ (event.target).closest("#terms-form button[type=submit]");
  if (!button) return;
  const action = button.getAttribute("hx-post") || button.getAttribute("formaction") || "";
  if (!action.endsWith("/start")) {
    forgetPendingTerms();
    return;
  }
  /** @param {string} id */
  const value = (id) => /** @type {HTMLInputElement | null} */ (document.getElementById(id))?.value || "";
  rememberPendingTerms([value("term-name"), value("term-location"), value("term-word")]);
});
document.body.addEventListener("htmx:afterSwap", () => forgetPendingTerms());
