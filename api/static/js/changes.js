// A comparison of two plans as the service words it (solver/scenario.py's compare): KPI deltas
// and the orders whose run changed. Shared by the what-if view and the plans view's
// "compare any two", so both read the same way.

import { t } from "./i18n.js";
import { esc, reasonText } from "./util.js";

// KPIs where a larger number is better; every other KPI is better smaller
const HIGHER_IS_BETTER = new Set(["orders_planned", "on_time_rate"]);
const CHANGES_SHOWN = 300;

/** Names next to codes: a lookup built once from GET /v1/dataset. */
export class Names {
  constructor(dataset = {}) {
    const index = (rows, key) => new Map((rows || []).map((row) => [row[key], row]));
    this.customers = index(dataset.customers, "customer_id");
    this.lines = index(dataset.lines, "line_id");
    this.products = index(dataset.products, "product_id");
    this.materials = index(dataset.materials, "material_id");
    this.orders = index(dataset.orders, "order_id");
  }

  /** "L01 高压总装一线": the code, then its name when the dataset has one. */
  label(kind, id) {
    const name = this[kind]?.get(id)?.name;
    return name ? `${id} ${name}` : String(id ?? "");
  }

  customerOf(orderId) {
    return this.orders.get(orderId)?.customer_id ?? null;
  }
}

function kpiNumber(key, value) {
  if (typeof value !== "number") return "–";
  return key === "on_time_rate" ? `${(value * 100).toFixed(1)}%` : String(Math.round(value * 100) / 100);
}

function deltaText(key, delta) {
  if (key === "on_time_rate") return `${delta >= 0 ? "+" : ""}${(delta * 100).toFixed(1)} pt`;
  return `${delta > 0 ? "+" : ""}${Math.round(delta * 100) / 100}`;
}

/** The KPI deltas ({kpi: {before, after, delta}}) as a before / after / change table. */
export function kpiDeltaTable(deltas, beforeLabel = t("whatif.before"), afterLabel = t("whatif.after")) {
  const rows = Object.entries(deltas || {}).map(([key, { before, after, delta }]) => {
    const verdict = delta === 0 ? "same" : delta > 0 === HIGHER_IS_BETTER.has(key) ? "better" : "worse";
    return `<tr data-kpi="${esc(key)}"><td>${esc(t(`kpi.${key}`))}</td><td class="num">${esc(kpiNumber(key, before))}</td>
      <td class="num">${esc(kpiNumber(key, after))}</td>
      <td class="num delta ${verdict}" title="${esc(t(`whatif.${verdict}`))}">${esc(deltaText(key, delta))} <span class="muted">${esc(t(`whatif.${verdict}`))}</span></td></tr>`;
  });
  const head = [t("whatif.kpi"), beforeLabel, afterLabel, t("whatif.change")].map((h) => `<th>${esc(h)}</th>`).join("");
  return `<table class="kpis"><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** How the delivery moved: later, earlier, the same day, into or out of the plan. */
export function shiftText(change) {
  if (!change.before) return t("whatif.entered");
  if (!change.after) return t("whatif.left");
  const days = change.days_later;
  if (days > 0) return t("whatif.days_later", { n: days });
  if (days < 0) return t("whatif.days_earlier", { n: -days });
  return t("whatif.days_same");
}

/** One `why` item of a change in words; `editText(edit)` words a scenario's edit. */
export function whyText(item, editText) {
  if (item.kind === "edit") return t("whatif.why.edit", { n: item.index + 1, text: editText(item.edit) });
  if (item.kind === "unscheduled") return t("whatif.why.unscheduled");
  if (item.kind === "resequenced") return t("whatif.why.resequenced");
  if (item.kind === "binding") return reasonText(item.reason); // what holds the new run back
  return reasonText(item);
}

const arrow = (was, now) => (was === now ? esc(was || "–") : `${esc(was || "–")} → <b>${esc(now || "–")}</b>`);

/** The changed orders: old and new line and delivery, the shift, the customer and why. */
export function changesTable(changes, names, editText) {
  if (!changes?.length) return `<p class="changes-count" data-changes="0">${esc(t("whatif.changes_none"))}</p>`;
  const head = ["whatif.order", "whatif.customer", "whatif.line", "whatif.delivery", "whatif.shift", "whatif.why"].map((k) => `<th>${esc(t(k))}</th>`).join("");
  const rows = changes.slice(0, CHANGES_SHOWN).map((change) => {
    const was = change.before || {};
    const now = change.after || {};
    const why = (change.why || []).map((item) => `<li>${esc(whyText(item, editText))}</li>`).join("");
    const cls = change.days_later > 0 || (change.before && !change.after) ? "worse" : change.days_later < 0 ? "better" : "";
    return `<tr data-order="${esc(change.order_id)}"><td><code>${esc(change.order_id)}</code></td>
      <td>${esc(names.label("customers", change.customer_id))}</td>
      <td>${arrow(names.label("lines", was.line_id), names.label("lines", now.line_id))}</td><td>${arrow(was.delivery_date, now.delivery_date)}</td>
      <td class="delta ${cls}">${esc(shiftText(change))}</td><td class="wrap"><ul class="why">${why}</ul></td></tr>`;
  });
  let html = `<p class="changes-count" data-changes="${changes.length}">${esc(t("whatif.changes", { n: changes.length }))}</p>`;
  html += `<div class="scroll"><table class="grid changes"><thead><tr>${head}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
  if (changes.length > CHANGES_SHOWN) html += `<p>${esc(t("whatif.more", { n: changes.length - CHANGES_SHOWN }))}</p>`;
  return html;
}
