// LTI Client Side postMessages / OIDC platform storage (Canvas lti_storage_target):
// store state and nonce in the platform's storage frame, then continue the login.
// https://www.imsglobal.org/spec/lti-cs-oidc/v0p1
const data = JSON.parse(document.getElementById("platform-storage-data").textContent);
const frame = data.target === "_parent" ? window.parent : (window.parent.frames[data.target] || window.parent);
let pending = 2;
const go = () => { window.location.replace(data.auth_url); };
const timer = setTimeout(go, 2000);
window.addEventListener("message", (event) => {
  if (event.origin !== data.origin || !event.data || event.data.subject !== "lti.put_data.response") return;
  pending -= 1;
  if (pending === 0) { clearTimeout(timer); go(); }
});
for (const [key, value] of [["state", data.state], ["nonce", data.nonce]]) {
  frame.postMessage({ subject: "lti.put_data", message_id: key + "-" + Date.now(),
                      key: "microcred_" + key + "_" + data.state.slice(0, 12), value }, data.origin);
}
