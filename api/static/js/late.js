// Late and unscheduled orders, with the engine's reasons: a sortable table and a CSV export
// made in the browser from exactly the rows shown, in the order shown.

import { t } from "./i18n.js";
import { download, esc, reasonsText, sortableTable, toCsv } from "./util.js";

/** Rows of the table: late orders from `orders`, unscheduled ones from `unscheduled`. */
export function lateRows(schedule, ordersById = new Map()) {
  const rows = [];
  for (const o of schedule.orders) {
    if (!(o.days_late > 0)) continue;
    rows.push({
      kind: "late",
      order_id: o.order_id,
      customer_id: o.customer_id ?? "",
      product_id: o.product_id ?? "",
      quantity: o.quantity ?? "",
      priority: o.priority ?? "",
      line_id: o.line_id,
      due_date: o.due_date,
      delivery_date: o.delivery_date,
      days_late: o.days_late,
      reasons: reasonsText(o.binding),
      binding: o.binding || [],
    });
  }
  for (const u of schedule.unscheduled) {
    // the schedule names only the order and the reason; the rest comes from the dataset when known
    const known = ordersById.get(u.order_id) || {};
    rows.push({
      kind: "unscheduled",
      order_id: u.order_id,
      customer_id: known.customer_id ?? "",
      product_id: known.product_id ?? "",
      quantity: known.quantity ?? "",
      priority: known.priority ?? "",
      line_id: "",
      due_date: known.due_date ?? "",
      delivery_date: "",
      days_late: "",
      reasons: u.reason,
      binding: [],
    });
  }
  return rows;
}

const COLUMNS = [
  { key: "kind", label: "late.kind", value: (r) => t(`late.kind.${r.kind}`) },
  { key: "order_id", label: "late.order" },
  { key: "customer_id", label: "order.customer" },
  { key: "product_id", label: "order.product" },
  { key: "quantity", label: "order.quantity", numeric: true },
  { key: "priority", label: "order.priority", numeric: true },
  { key: "line_id", label: "order.line" },
  { key: "due_date", label: "order.due" },
  { key: "delivery_date", label: "order.delivery" },
  { key: "days_late", label: "order.days_late", numeric: true },
  { key: "reasons", label: "order.reasons", wrap: true },
];

export class LateTable {
  constructor(table, summary) {
    this.table = table;
    this.summary = summary;
    this.view = null;
    this.planId = "";
    this.sort = { key: "days_late", direction: -1 }; // the worst first
  }

  show(rows, planId) {
    this.planId = planId;
    const late = rows.filter((r) => r.kind === "late").length;
    this.summary.textContent = rows.length ? t("late.count", { late, unscheduled: rows.length - late }) : t("late.none");
    const columns = COLUMNS.map((c) => ({ ...c, label: t(c.label), sortValue: c.value }));
    const cell = (row, column) => {
      const value = column.value ? column.value(row) : row[column.key];
      if (column.key === "order_id") return `<a href="#gantt" data-order="${esc(value)}">${esc(value)}</a>`;
      if (column.key === "kind") return `<span class="tag ${esc(row.kind)}">${esc(value)}</span>`;
      return esc(value);
    };
    this.view = sortableTable(this.table, columns, rows, cell, this.sort);
  }

  exportCsv() {
    if (!this.view) return;
    const header = COLUMNS.map((c) => t(c.label));
    // the machine-readable reasons go along, so a spreadsheet can filter on kind
    header.push("binding");
    const rows = this.view.rows().map((r) => [...COLUMNS.map((c) => (c.value ? c.value(r) : r[c.key])), JSON.stringify(r.binding)]);
    download(`late-orders-${this.planId}.csv`, toCsv(header, rows));
  }
}
