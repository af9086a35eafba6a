// Catalog administration: small enhancements only; every page works without them.
// - Move focus to an error summary, a conflict message or a one-time token after a POST,
//   so screen-reader and keyboard users land on what needs their attention.
// - "Copy token" buttons (shown only when the clipboard API is available).
// - The credential form's skill picker: Enter in its search box searches (elsewhere in the
//   form, Enter saves).
document.addEventListener("DOMContentLoaded", () => {
  const target = document.querySelector("[data-focus-on-load]");
  if (target) {
    target.focus();
  }
  for (const box of document.querySelectorAll("[data-picker-search]")) {
    const button = box.form && box.form.querySelector("[data-picker-search-button]");
    if (!button) continue;
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        button.click();
      }
    });
  }
  for (const button of document.querySelectorAll("[data-copy-target]")) {
    const field = document.getElementById(button.dataset.copyTarget);
    const status = button.parentElement.querySelector(".copy-status");
    if (!field || !navigator.clipboard) {
      continue;
    }
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        if (status) status.textContent = "Copied to the clipboard.";
      } catch (err) {
        field.select();
        if (status) status.textContent = "Could not copy: the token is selected, copy it with your keyboard.";
      }
    });
  }
});
