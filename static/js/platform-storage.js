// LTI Client Side postMessages / OIDC platform storage (Canvas lti_storage_target):
// store state, nonce and this login's binding secret in the platform's storage frame, then
// continue the login. At launch, the secret proves this browser started the login even when
// MicroCred's cookie is blocked. https://www.imsglobal.org/spec/lti-cs-oidc/v0p1
const data = JSON.parse(document.getElementById("platform-storage-data").textContent);
const frame = data.target === "_parent" ? window.parent : (window.parent.frames[data.target] || window.parent);
const items = [
  ["microcred_state_" + data.state.slice(0, 12), data.state],
  ["microcred_nonce_" + data.state.slice(0, 12), data.nonce],
  [data.binding_key, data.binding_secret],
];
let pending = items.length;
const go = () => { window.location.replace(data.auth_url); };
const timer = setTimeout(go, 2000);
window.addEventListener("message", (event) => {
  if (event.origin !== data.origin || !event.data || event.data.subject !== "lti.put_data.response") return;
  pending -= 1;
  if (pending === 0) { clearTimeout(timer); go(); }
});
items.forEach(([key, value], i) => {
  frame.postMessage({ subject: "lti.put_data", message_id: "mc-put-" + i + "-" + Date.now(), key, value }, data.origin);
});
