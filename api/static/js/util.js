// Small helpers shared by the views: escaping, dates, reasons, sortable tables, CSV.

import { has, t } from "./i18n.js";

/** Text made safe for innerHTML: every value that came from the service goes through here. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Dates in the schedule are calendar days (YYYY-MM-DD) of the plant. They are turned
// into local midnights so that a day is a day on the chart whatever the browser's zone.
export function day(text) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(y, m - 1, d);
}

export function addDays(date, days) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);
}

export function iso(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** ISO 8601 week: [year, week], so weeks run Monday to Sunday like the plant's. */
export function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7)); // the Thursday of its week names the week
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  return [d.getUTCFullYear(), Math.ceil(((d - yearStart) / 86400000 + 1) / 7)];
}

export function when(timestamp) {
  if (!timestamp) return "";
  // the service answers UTC; show it in the browser's zone, to the minute
  const date = new Date(timestamp.endsWith("Z") || /[+-]\d\d:\d\d$/.test(timestamp) ? timestamp : timestamp + "Z");
  return `${iso(date)} ${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

/** One engine reason (`binding` entry) as a sentence in the current language. */
export function reasonText(reason) {
  const kind = reason.kind;
  // order review's binding reasons carry what relaxing them would give (would_deliver)
  if (reason.would_deliver && has(`reason.${kind}_binding`)) return bindingText(reason);
  if (kind === "capacity" && reason.dates) {
    const [from, to] = reason.dates;
    const values = { line_id: reason.line_id, from, to, days: reason.full_days ?? "?", busy: reason.busy_days };
    return t(reason.busy_days !== undefined ? "reason.capacity_busy" : "reason.capacity", values);
  }
  if (kind === "material" && !reason.available_from) return t(reason.short_qty ? "reason.material_never_short" : "reason.material_never", reason);
  if (kind === "changeover" && reason.after_order) return t("reason.changeover_after", reason);
  if (has(`reason.${kind}`)) return t(`reason.${kind}`, reason);
  // a kind this page does not know yet: show what the engine said rather than nothing
  return reason.detail ? `${kind}: ${reason.detail}` : JSON.stringify(reason);
}

/** A binding reason of order review, worded from its fields (never the engine's English). */
function bindingText(reason) {
  if (reason.kind === "capacity") {
    const [from, to] = reason.dates;
    const values = { ...reason, from, to, busy: reason.busy_days, days: reason.full_days };
    // committed work can block an uninterrupted run without filling a day: say so, not "0 full days"
    return t(reason.full_days > 0 ? "reason.capacity_binding" : "reason.capacity_binding_partly", values);
  }
  if (reason.kind === "combined") {
    const parts = [
      ...reason.materials.map((id) => t("reason.part.material", { id })),
      ...reason.lines.map((id) => t("reason.part.line", { id })),
      ...(reason.release_day ? [t("reason.part.release")] : []),
    ];
    return t("reason.combined_binding", { parts: parts.join(t("list.separator")), would_deliver: reason.would_deliver });
  }
  if (reason.kind === "material" && !reason.available_from) return t("reason.material_never_short", reason);
  if (reason.kind === "changeover") {
    // minutes 0: the run itself pays none, but going earlier would change a committed run's changeover
    if (!(reason.minutes > 0)) return t("reason.changeover_binding_behind", reason);
    return t(reason.from_family && reason.to_family ? "reason.changeover_binding" : "reason.changeover_binding_plain", reason);
  }
  return t(`reason.${reason.kind}_binding`, reason);
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** An order-review check (`{rule, ok, blocking, detail, params}`) as a sentence in the current language. */
export function checkText(check) {
  const p = check.params || {};
  const list = (items, prefix) => items.map((item) => t(`${prefix}.${item}`)).join(t("list.separator"));
  switch (check.rule) {
    case "release_day":
      return t("check.release_day", { date: p.date, weekdays: list((p.weekdays || []).filter((d) => WEEKDAYS.includes(d)), "weekday") });
    case "special_order_deposit":
      return t("check.special_order_deposit", { required: pct(p.required), paid: pct(p.paid) });
    case "joint_review":
      if (check.ok) return t("check.joint_review_ok");
      return t("check.joint_review", {
        rejected: p.rejected?.length ? list(p.rejected, "dept") : t("none"),
        pending: p.pending?.length ? list(p.pending, "dept") : t("none"),
      });
    case "demand_control_point":
      return t("check.demand_control_point", p);
    default:
      return check.detail; // a rule this page does not know yet: the engine's sentence rather than nothing
  }
}

export function reasonsText(reasons) {
  return (reasons || []).map(reasonText).join("；");
}

/**
 * Make `table`'s columns sortable by clicking their headers.
 * `columns` are {key, label, numeric, sortValue}; `rows` are objects; `cell(row, column)` gives
 * the cell's HTML; `state` ({key, direction}) is kept by the caller so that a redraw (another
 * language) keeps the order. Returns {rows: () => rows in the shown order} for the CSV export.
 */
export function sortableTable(table, columns, rows, cell, state = { key: null, direction: 1 }) {
  const sorted = () => {
    const column = columns.find((c) => c.key === state.key);
    if (!column) return rows;
    const value = (row) => (column.sortValue ? column.sortValue(row) : row[column.key]);
    const blank = (v) => v === undefined || v === null || v === "";
    return [...rows].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (blank(x) || blank(y)) return blank(x) - blank(y); // blanks last, whichever the direction
      const order = column.numeric ? x - y : String(x).localeCompare(String(y));
      return order * state.direction;
    });
  };
  const draw = () => {
    const head = columns
      .map((c) => {
        const on = c.key === state.key;
        const mark = on ? (state.direction > 0 ? " ▲" : " ▼") : "";
        const aria = on ? (state.direction > 0 ? "ascending" : "descending") : "none";
        return `<th data-key="${esc(c.key)}" aria-sort="${aria}" class="sortable" tabindex="0">${esc(c.label)}${mark}</th>`;
      })
      .join("");
    const body = sorted()
      .map((row) => `<tr>${columns.map((c) => `<td class="${c.numeric ? "num" : c.wrap ? "wrap" : ""}">${cell(row, c)}</td>`).join("")}</tr>`)
      .join("");
    table.innerHTML = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
  };
  const sortBy = (th) => {
    state.direction = th.dataset.key === state.key ? -state.direction : 1;
    state.key = th.dataset.key;
    draw();
    table.querySelector(`th[data-key="${CSS.escape(state.key)}"]`)?.focus();
  };
  table.onclick = (event) => {
    const th = event.target.closest("th[data-key]");
    if (th) sortBy(th);
  };
  table.onkeydown = (event) => {
    const th = event.target.closest("th[data-key]");
    if (th && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      sortBy(th);
    }
  };
  draw();
  return { rows: sorted };
}

/**
 * Rows as CSV text (RFC 4180 quoting), with a BOM so that Excel reads the Chinese right.
 * Text a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
 * gets ' in front, as the service's exports do; numbers stay numbers.
 */
export function toCsv(header, rows) {
  const quote = (value) => {
    const text = typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value ?? "");
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return "\uFEFF" + [header, ...rows].map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
}

/** Hand `text` to the browser as a file download; made on the page, nothing goes to the server. */
export function download(filename, text, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function pct(ratio) {
  return Math.round(ratio * 1000) / 10;
}

/** A solve stage as the engine names it ("unscheduled and lateness") in the current language. */
export function stageText(stage) {
  const key = `stage.${String(stage).replace(/ /g, "_")}`;
  return has(key) ? t(key) : stage;
}

// The engine's plan warnings this page knows, matched on their English text (the schedule
// document carries no code for them); an unknown warning is shown as the engine wrote it.
const WARNINGS = [
  [/^official \S+ holiday data does not cover (.+?): .*\((\d+) exception rows\)$/, (m) => ({ key: "warning.holidays", values: { years: m[1], rows: m[2] } })],
  [/^the frozen window could not be kept/, () => ({ key: "warning.frozen_lost" })],
  [/^the solver found no plan in its time/, () => ({ key: "warning.no_plan" })],
  [/^the earliest-due-date plan could not keep/, () => ({ key: "warning.edd_frozen" })],
];

export function warningText(warning) {
  for (const [pattern, known] of WARNINGS) {
    const match = String(warning).match(pattern);
    if (match) {
      const { key, values = {} } = known(match);
      return t(key, values);
    }
  }
  return warning;
}
