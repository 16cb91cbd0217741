// @ts-check
// Every page's language picker: switch at once when another language is chosen (the form's
// button does the same without JavaScript). The page reloads in that language; on the call page
// the reload rejoins the session in the same tab.

const languageSelect = document.getElementById("lang-select");
if (languageSelect) {
  languageSelect.addEventListener("change", () => {
    /** @type {HTMLFormElement} */ (languageSelect.closest("form")).submit();
  });
}
