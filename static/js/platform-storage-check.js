// Launch side of OIDC platform storage: read this login's binding secret back from the
// platform's storage frame (lti.get_data) and post the launch again with it.
const data = JSON.parse(document.getElementById("platform-storage-check").textContent);
const frame = data.target === "_parent" ? window.parent : (window.parent.frames[data.target] || window.parent);
const form = document.getElementById("storage-proof-form");
const messageId = "mc-get-" + Date.now();
const fail = () => {
  document.getElementById("storage-check-status").hidden = true;
  document.getElementById("storage-check-failed").hidden = false;
};
const timer = setTimeout(fail, 3000);
window.addEventListener("message", (event) => {
  if (event.origin !== data.origin || !event.data || event.data.subject !== "lti.get_data.response") return;
  if (event.data.message_id !== messageId) return;
  clearTimeout(timer);
  if (!event.data.value) { fail(); return; }
  form.elements.lti_storage_proof.value = event.data.value;
  form.submit();
});
frame.postMessage({ subject: "lti.get_data", message_id: messageId, key: data.key }, data.origin);
