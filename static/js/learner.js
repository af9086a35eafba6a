// Learner pages (/me): skill cards are collapsible (<details>); on a wide screen they start
// open, on a phone closed, so the earned credentials above them are seen first. Without
// this script every card stays closed and opens on demand.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  if (!window.matchMedia("(min-width: 48rem)").matches) return;
  for (const card of document.querySelectorAll("details[data-open-wide]")) card.open = true;
});
