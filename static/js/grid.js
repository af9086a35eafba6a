// Course pages (/course): small enhancements only; every page works without them.
// - Focus the status message, error summary or import report after a POST.
// - Date fields default to the user's local today (the server only knows UTC).
// - "Select every learner" / "Clear the selection" buttons and a live count for bulk marking.
// - The assessment grid: one Tab stop for its cells and arrow-key movement between them
//   (Home/End along a row, Ctrl+Home/End to the first/last cell).
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
  const cellAt = (r, c) => {
    const row = rows[r];
    return row ? row.cells[c + 1]?.querySelector("button") : null;
  };
  let current = null;
  const makeCurrent = (button) => {
    if (current && current !== button) current.tabIndex = -1;
    button.tabIndex = 0;
    current = button;
  };
  for (const button of table.querySelectorAll("td button")) button.tabIndex = -1;
  const first = cellAt(0, 0);
  if (first) makeCurrent(first);
  table.addEventListener("focusin", (event) => {
    if (event.target.matches("td button")) makeCurrent(event.target);
  });
  table.addEventListener("keydown", (event) => {
    const button = event.target;
    if (!button.matches("td button")) return;
    const td = button.parentElement;
    const r = rows.indexOf(td.parentElement);
    const c = td.cellIndex - 1;
    const last = td.parentElement.cells.length - 2;
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

document.addEventListener("DOMContentLoaded", () => {
  const target = document.querySelector("[data-focus-on-load]");
  if (target) target.focus();
  setUpDates();
  setUpSelection();
  for (const table of document.querySelectorAll("table[data-grid]")) setUpGrid(table);
});
