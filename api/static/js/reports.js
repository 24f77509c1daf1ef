// Dispatch monitoring (GET /v1/reports/dispatch): the on-time rate of the daily dispatch plan
// per sales region and ISO week; below it the orders overdue against the order-process time
// rules (GET /v1/reports/order-process).

import { api } from "./api.js";
import { t } from "./i18n.js";
import { addDays, esc, iso, pct, sortableTable } from "./util.js";

const PERIOD_WEEKS = 4; // the default period: this week and the three before

const PROCESS_COLUMNS = [
  { key: "order_id", label: "late.order" },
  { key: "customer_id", label: "order.customer" },
  { key: "stage", label: "reports.stage", value: (r) => t(`reports.stage.${r.stage}`) },
  { key: "since", label: "reports.since" },
  { key: "due_by", label: "reports.due_by" },
  { key: "working_days_overdue", label: "reports.overdue_days", numeric: true },
];

export class ReportsView {
  /** `root` holds the view's elements; `app` gives {error(error)}. */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.dispatch = null;
    this.process = null;
    this.sort = { key: "working_days_overdue", direction: -1 }; // the longest overdue first
    const today = new Date();
    const monday = addDays(today, -((today.getDay() + 6) % 7));
    root.querySelector("#reports-from").value = iso(addDays(monday, -7 * (PERIOD_WEEKS - 1)));
    root.querySelector("#reports-to").value = iso(today);
    root.querySelector("#reports-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh().catch((error) => this.app.error(error));
    });
  }

  async refresh() {
    const from = this.root.querySelector("#reports-from").value;
    const to = this.root.querySelector("#reports-to").value;
    const query = new URLSearchParams({ group_by: "region" });
    if (from) query.set("from", from);
    if (to) query.set("to", to);
    [this.dispatch, this.process] = await Promise.all([
      api("GET", `/v1/reports/dispatch?${query}`),
      api("GET", "/v1/reports/order-process"),
    ]);
    this.render();
  }

  render() {
    if (this.dispatch) this.drawDispatch(this.dispatch);
    if (this.process) this.drawProcess(this.process);
  }

  /** Regions as rows, weeks as columns; each cell the on-time rate with its counts. */
  drawDispatch(report) {
    const weeks = report.total.weeks.map((w) => w.week_start);
    const total = report.total;
    this.root.querySelector("#reports-summary").textContent = total.orders_due
      ? t("reports.summary", { due: total.orders_due, ontime: total.dispatched_on_time, late: total.dispatched_late, open: total.not_dispatched, rate: rate(total) })
      : t("reports.none");
    const head = `<tr><th>${esc(t("dispatch.region"))}</th>${weeks.map((w) => `<th>${esc(t("reports.week", { date: w }))}</th>`).join("")}<th>${esc(t("reports.period"))}</th><th class="num">${esc(t("reports.units"))}</th></tr>`;
    const line = (name, group, cls = "") => {
      const byWeek = new Map(group.weeks.map((w) => [w.week_start, w]));
      const cells = weeks.map((w) => `<td>${tallyCell(byWeek.get(w))}</td>`).join("");
      const units = t("reports.units_value", { shipped: group.units_shipped, demanded: group.units_demanded });
      return `<tr class="${cls}" data-group="${esc(group.key ?? "*")}"><th>${esc(name)}</th>${cells}<td>${tallyCell(group)}</td><td class="num">${esc(units)}</td></tr>`;
    };
    const body = report.groups.map((g) => line(g.key ? g.name : t("reports.unassigned"), g)).join("") + (report.groups.length ? line(t("reports.total"), total, "total") : "");
    this.root.querySelector("#reports-table").innerHTML = `<thead>${head}</thead><tbody>${body}</tbody>`;
  }

  drawProcess(report) {
    const rows = report.overdue;
    this.root.querySelector("#process-summary").textContent = rows.length
      ? t("reports.process_summary", { as_of: report.as_of, ...report.counts })
      : t("reports.process_none", { as_of: report.as_of });
    const columns = PROCESS_COLUMNS.map((c) => ({ ...c, label: t(c.label), sortValue: c.value }));
    const cell = (row, column) => esc(column.value ? column.value(row) : row[column.key]);
    sortableTable(this.root.querySelector("#process-table"), columns, rows, cell, this.sort);
  }
}

function rate(tally) {
  return tally.on_time_rate === null ? "—" : `${pct(tally.on_time_rate)}%`;
}

/** A cell: the rate, big, and on-time / due with late and not yet dispatched below. */
function tallyCell(tally) {
  if (!tally || !tally.orders_due) return '<span class="muted">—</span>';
  const bad = tally.on_time_rate < 0.9 ? " low" : "";
  const counts = t("reports.cell", { ontime: tally.dispatched_on_time, due: tally.orders_due, late: tally.dispatched_late, open: tally.not_dispatched });
  return `<span class="rate${bad}">${esc(rate(tally))}</span><br><span class="muted">${esc(counts)}</span>`;
}
