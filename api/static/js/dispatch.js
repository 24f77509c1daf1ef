// The dispatch plan (日发货计划) of the shown plan: its orders grouped by dispatch day, with
// customer, region, product, quantity, transit days and delivery date, filtered by dates
// and region, and printable (the print stylesheet leaves only the plan).

import { api } from "./api.js";
import { t } from "./i18n.js";
import { esc } from "./util.js";

const COLUMNS = [
  ["order_id", "late.order"],
  ["customer_name", "order.customer"],
  ["region", "dispatch.region"],
  ["product_name", "order.product"],
  ["quantity", "order.quantity", true],
  ["transit_days", "dispatch.transit_days", true],
  ["delivery_date", "order.delivery"],
  ["due_date", "order.due"],
  ["line_id", "order.line"],
];

export class DispatchView {
  /** `root` holds the view's elements. */
  constructor(root) {
    this.root = root;
    this.rows = [];
    this.planId = "";
    this.cache = new Map(); // plan id → Promise of its dispatch rows (a finished plan never changes)
    const redraw = () => this.draw();
    for (const id of ["#dispatch-from", "#dispatch-to", "#dispatch-region"]) root.querySelector(id).addEventListener("change", redraw);
    root.querySelector("#dispatch-print").addEventListener("click", () => window.print());
  }

  /** The plan's dispatch rows: GET .../schedule?format=dispatch answers JSON rows to a JSON client. */
  async show(planId) {
    if (!this.cache.has(planId)) {
      const promise = api("GET", `/v1/plans/${encodeURIComponent(planId)}/schedule?format=dispatch`);
      promise.catch(() => this.cache.delete(planId));
      this.cache.set(planId, promise);
    }
    this.rows = await this.cache.get(planId);
    this.planId = planId;
    this.fillRegions();
    this.draw();
  }

  fillRegions() {
    const select = this.root.querySelector("#dispatch-region");
    const chosen = select.value;
    const regions = [...new Set(this.rows.map((r) => r.region))].sort();
    const label = (region) => (region ? region : t("reports.unassigned"));
    select.innerHTML = `<option value="*">${esc(t("dispatch.all_regions"))}</option>` + regions.map((r) => `<option value="${esc(r)}">${esc(label(r))}</option>`).join("");
    select.value = regions.includes(chosen) ? chosen : "*";
  }

  shown() {
    const from = this.root.querySelector("#dispatch-from").value;
    const to = this.root.querySelector("#dispatch-to").value;
    const region = this.root.querySelector("#dispatch-region").value;
    return this.rows.filter(
      (r) => (!from || r.dispatch_date >= from) && (!to || r.dispatch_date <= to) && (region === "*" || r.region === region),
    );
  }

  draw() {
    const rows = this.shown();
    const byDay = new Map();
    for (const row of rows) {
      if (!byDay.has(row.dispatch_date)) byDay.set(row.dispatch_date, []);
      byDay.get(row.dispatch_date).push(row);
    }
    const units = rows.reduce((sum, r) => sum + Number(r.quantity || 0), 0);
    this.root.querySelector("#dispatch-title").textContent = t("dispatch.title", { id: this.planId });
    this.root.querySelector("#dispatch-summary").textContent = rows.length
      ? t("dispatch.summary", { orders: rows.length, units, days: byDay.size })
      : t("dispatch.none");
    const head = `<tr>${COLUMNS.map(([, label, numeric]) => `<th class="${numeric ? "num" : ""}">${esc(t(label))}</th>`).join("")}</tr>`;
    const cell = (row, key) => {
      if (key === "customer_name") return esc(row.customer_name || row.customer_id);
      if (key === "product_name") return esc(row.product_name ? `${row.product_name} (${row.product_id})` : row.product_id);
      if (key === "region") return esc(row.region || t("reports.unassigned"));
      return esc(row[key]);
    };
    const late = (row) => (row.days_late > 0 ? ' class="late-row"' : "");
    this.root.querySelector("#dispatch-days").innerHTML = [...byDay]
      .map(([date, dayRows]) => {
        const dayUnits = dayRows.reduce((sum, r) => sum + Number(r.quantity || 0), 0);
        const body = dayRows
          .map((row) => `<tr${late(row)}>${COLUMNS.map(([key, , numeric]) => `<td class="${numeric ? "num" : ""}">${cell(row, key)}</td>`).join("")}</tr>`)
          .join("");
        return `<div class="dispatch-day" data-date="${esc(date)}"><h3>${esc(t("dispatch.day", { date, orders: dayRows.length, units: dayUnits }))}</h3>
          <table class="grid"><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
      })
      .join("");
  }
}
