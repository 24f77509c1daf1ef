// The daily work list (每日作业) of the shown plan: per line, one day's runs in run order with
// their clock times, product, units finished and setup — the sheet a line leader prints. A plan
// with changeovers gets a column before the run: "换型 60 分钟 → 开工" on the day it is spent.
// Rows come from GET .../schedule?format=daily (JSON rows to a JSON client).

import { api } from "./api.js";
import { t } from "./i18n.js";
import { esc } from "./util.js";

const NOTES = { setup: "worklist.note.setup", "no unit finished": "worklist.note.no_unit" };

export class WorkListView {
  /** `root` holds the view's elements. */
  constructor(root) {
    this.root = root;
    this.rows = [];
    this.planId = "";
    this.cache = new Map(); // plan id → Promise of its daily rows (a finished plan never changes)
    for (const id of ["#worklist-date", "#worklist-line"]) root.querySelector(id).addEventListener("change", () => this.draw());
    root.querySelector("#worklist-print").addEventListener("click", () => window.print());
  }

  async show(planId) {
    if (!this.cache.has(planId)) {
      const promise = api("GET", `/v1/plans/${encodeURIComponent(planId)}/schedule?format=daily`);
      promise.catch(() => this.cache.delete(planId));
      this.cache.set(planId, promise);
    }
    this.rows = await this.cache.get(planId);
    this.planId = planId;
    this.fillChoices();
    this.draw();
  }

  /** The plan's days and lines; the first day is shown until another is picked. */
  fillChoices() {
    const days = [...new Set(this.rows.map((r) => r.date))].sort();
    const date = this.root.querySelector("#worklist-date");
    if (!days.includes(date.value)) date.value = days[0] || "";
    date.min = days[0] || "";
    date.max = days[days.length - 1] || "";
    const select = this.root.querySelector("#worklist-line");
    const chosen = select.value;
    const lines = new Map(this.rows.map((r) => [r.line_id, r.line_name]));
    const options = [...lines].sort().map(([id, name]) => `<option value="${esc(id)}">${esc(name ? `${name} (${id})` : id)}</option>`);
    select.innerHTML = `<option value="*">${esc(t("worklist.all_lines"))}</option>` + options.join("");
    select.value = lines.has(chosen) ? chosen : "*";
  }

  draw() {
    const date = this.root.querySelector("#worklist-date").value;
    const line = this.root.querySelector("#worklist-line").value;
    const rows = this.rows.filter((r) => r.date === date && (line === "*" || r.line_id === line));
    const byLine = new Map();
    for (const row of rows) {
      if (!byLine.has(row.line_id)) byLine.set(row.line_id, []);
      byLine.get(row.line_id).push(row); // already in run order
    }
    this.root.querySelector("#worklist-title").textContent = t("worklist.title", { date, id: this.planId });
    this.root.querySelector("#worklist-summary").textContent = rows.length
      ? t("worklist.summary", { lines: byLine.size, runs: rows.length })
      : t("worklist.none");
    this.root.querySelector("#worklist-lines").innerHTML = [...byLine].map(([id, runs]) => this.lineTable(id, runs)).join("");
  }

  lineTable(lineId, runs) {
    const name = runs[0].line_name ? `${runs[0].line_name} (${lineId})` : lineId;
    // the changeover column only for a plan that has changeovers (rows of older plans lack the field)
    const changeovers = this.rows.some((r) => r.changeover_minutes > 0);
    const keys = ["worklist.sequence", "worklist.time", ...(changeovers ? ["worklist.changeover"] : []), "late.order", "order.product"];
    const head = [...keys, "worklist.quantity", "worklist.setup", "worklist.note"]
      .map((key) => `<th>${esc(t(key))}</th>`)
      .join("");
    const body = runs
      .map((r) => {
        const product = r.product_name ? `${r.product_name} (${r.product_id})` : r.product_id;
        const note = NOTES[r.note] ? t(NOTES[r.note]) : r.note || "";
        const changeover = r.changeover_minutes > 0 ? t("worklist.changeover_then_start", { minutes: r.changeover_minutes }) : "";
        const changeoverCell = changeovers ? `<td class="changeover" data-minutes="${esc(r.changeover_minutes ?? "")}">${esc(changeover)}</td>` : "";
        return `<tr data-order="${esc(r.order_id)}"><td class="num">${esc(r.sequence)}</td><td>${esc(r.start)}–${esc(r.end)}</td>${changeoverCell}
          <td>${esc(r.order_id)}</td><td>${esc(product)}</td><td class="num">${esc(r.quantity)}</td>
          <td class="num">${esc(r.setup_minutes)}</td><td>${esc(note)}</td></tr>`;
      })
      .join("");
    return `<div class="worklist-line" data-line="${esc(lineId)}"><h3>${esc(name)}</h3>
      <table class="grid"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
  }
}
