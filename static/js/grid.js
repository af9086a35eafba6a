// Course pages (/course): small enhancements only; every page works without them.
// - Focus the status message, error summary or import report after a POST.
// - Date fields default to the user's local today (the server only knows UTC).
// - "Select every learner" / "Clear the selection" buttons and a live count for bulk marking.
// - "Mark every skill demonstrated" / "Clear every choice" on the several-skills form.
// - An evidence file over the limit is refused before it is uploaded; an evidence link
//   typed without a scheme gets https:// (the server does the same).
// - The assessment grid: one Tab stop for its cells and arrow-key movement between them
//   (Home/End along a row, Ctrl+Home/End to the first/last cell); back from a save, the
//   changed cell has the focus.
"use strict";

function localToday() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function setUpDates() {
  const today = localToday();
  for (const input of document.querySelectorAll("input[data-local-today]")) {
    const serverToday = input.max;
    if (today > serverToday) input.max = today;
    if (input.value === serverToday && !input.hasAttribute("aria-invalid")) input.value = today;
  }
}

function setUpSelection() {
  const boxes = () => document.querySelectorAll('input[type="checkbox"][name="learner"]');
  const counters = document.querySelectorAll(".selection-count");
  const update = () => {
    const n = [...boxes()].filter((b) => b.checked).length;
    for (const c of counters) c.textContent = n ? `${n} selected` : "";
  };
  for (const [selector, checked] of [["[data-select-all]", true], ["[data-select-none]", false]]) {
    for (const button of document.querySelectorAll(selector)) {
      button.hidden = false;
      button.addEventListener("click", () => {
        for (const box of boxes()) box.checked = checked;
        update();
      });
    }
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches('input[name="learner"]')) update();
  });
  update();
}

function setUpGrid(table) {
  const rows = [...table.tBodies[0].rows];
  // The progress link and the skill cells: one Tab stop for the whole table.
  const buttonsOf = (row) => [...row.querySelectorAll("td.progress > a, td > button")];
  const cellAt = (r, c) => {
    const row = rows[r];
    return row ? buttonsOf(row)[c] || null : null;
  };
  let current = null;
  const makeCurrent = (button) => {
    if (current && current !== button) current.tabIndex = -1;
    button.tabIndex = 0;
    current = button;
  };
  for (const button of table.querySelectorAll("td.progress > a, td button")) button.tabIndex = -1;
  const first = cellAt(0, 0);
  if (first) makeCurrent(first);
  const isCell = (el) => el.matches && el.matches("td.progress > a, td > button");
  table.addEventListener("focusin", (event) => {
    if (isCell(event.target)) makeCurrent(event.target);
  });
  table.addEventListener("keydown", (event) => {
    const button = event.target;
    if (!isCell(button)) return;
    const tr = button.parentElement.parentElement;
    const r = rows.indexOf(tr);
    const c = buttonsOf(tr).indexOf(button);
    const last = buttonsOf(tr).length - 1;
    let target = null;
    switch (event.key) {
      case "ArrowRight": target = cellAt(r, c + 1); break;
      case "ArrowLeft": target = cellAt(r, c - 1); break;
      case "ArrowDown": target = cellAt(r + 1, c); break;
      case "ArrowUp": target = cellAt(r - 1, c); break;
      case "Home": target = event.ctrlKey ? cellAt(0, 0) : cellAt(r, 0); break;
      case "End": target = event.ctrlKey ? cellAt(rows.length - 1, last) : cellAt(r, last); break;
      default: return;
    }
    event.preventDefault();
    if (target) {
      makeCurrent(target);
      target.focus();
    }
  });
}

function setUpSetAll() {
  for (const button of document.querySelectorAll("[data-set-all]")) {
    const form = button.form;
    const value = button.dataset.setAll;
    button.hidden = false;
    button.addEventListener("click", () => {
      for (const radio of form.querySelectorAll('.several-skills input[type="radio"]')) {
        radio.checked = value !== "" && radio.value === value;
      }
    });
  }
}

function setUpFileLimits() {
  for (const input of document.querySelectorAll("input[type=file][data-max-bytes]")) {
    const max = Number(input.dataset.maxBytes);
    const message = input.parentElement.querySelector("[data-size-error]");
    const described = input.getAttribute("aria-describedby") || "";
    const tooLarge = () => [...input.files].some((file) => file.size > max);
    const check = () => {
      const bad = tooLarge();
      if (message) message.hidden = !bad;
      if (bad) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", `${described} ${message ? message.id : ""}`.trim());
      } else {
        input.removeAttribute("aria-invalid");
        if (described) input.setAttribute("aria-describedby", described);
      }
      return bad;
    };
    input.addEventListener("change", check);
    input.form.addEventListener("submit", (event) => {
      if (check()) {
        event.preventDefault();
        input.focus();
      }
    });
  }
}

const BARE_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}(?::[0-9]{1,5})?$/;

function completeUrl(value) {
  const url = value.trim();
  if (!url || url.includes("://")) return url;
  const host = url.split(/[/?#]/, 1)[0];
  return BARE_HOST.test(host) ? `https://${url}` : url;
}

function setUpUrlCompletion() {
  for (const input of document.querySelectorAll("input[data-complete-url]")) {
    input.addEventListener("change", () => { input.value = completeUrl(input.value); });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSetAll();
  setUpFileLimits();
  setUpUrlCompletion();
  setUpDates();
  setUpSelection();
  for (const table of document.querySelectorAll("table[data-grid]")) setUpGrid(table);
  // Back on the grid after a save: the changed cell (described by the status message)
  // wins over the message itself.
  const target = document.querySelector("table [data-focus-on-load]") ||
    document.querySelector("[data-focus-on-load]");
  if (target) {
    target.focus();
    if (target.scrollIntoView) target.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
});
