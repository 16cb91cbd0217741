// Home page: pick a suggested word, change language without a extra click.

document.addEventListener("click", (event) => {
  const chip = /** @type {HTMLElement} */ (event.target).closest("[data-word]");
  if (!chip) return;
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById("term-word"));
  if (input) {
    input.value = chip.getAttribute("data-word") || "";
    input.focus();
  }
});

const languageSelect = document.getElementById("lang-select");
if (languageSelect) {
  languageSelect.addEventListener("change", () => {
    /** @type {HTMLFormElement} */ (languageSelect.closest("form")).submit();
  });
}
