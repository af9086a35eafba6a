// "Copy link" buttons of the learner's credentials: shown only when script runs (without
// it the link is still there to select and copy). The result is announced in a status region.
function copyLink(button) {
  const input = document.getElementById(button.dataset.copyTarget);
  const status = document.getElementById(button.dataset.copyStatus);
  if (!input) return;
  const done = (ok) => {
    if (status) status.textContent = ok ? "Link copied." : "Select the link and copy it.";
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(() => done(true), () => done(false));
  } else {
    input.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }
}

document.querySelectorAll("button[data-copy-target]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => copyLink(button));
});
