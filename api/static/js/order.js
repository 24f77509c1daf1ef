// The order view: one order's placement in the shown plan, why it sits there, its history,
// and (for planners) a change with a reason and the status moves its lifecycle allows.
//
// Opened by a click on a Gantt bar or an order link in the late list. The placement comes
// from the schedule document; the history from GET /v1/orders/{id}, fetched on every open
// (others change orders all day).

import { ApiError, api } from "./api.js";
import { clock, runSpan } from "./gantt.js";
import { has, t } from "./i18n.js";
import { NO_NAMES, nameHtml, namedReason } from "./names.js";
import { esc, reasonText, when } from "./util.js";

// The service's lifecycle (api/store.py LIFECYCLE): the buttons offered; the service decides
// (a 409 answers with the moves it allows, which the panel then shows).
const NEXT = {
  received: ["reviewed", "cancelled"],
  reviewed: ["confirmed", "cancelled"],
  confirmed: ["in_production", "cancelled"],
  in_production: ["produced"],
  produced: ["inspected"],
  inspected: ["shipped"],
  shipped: ["delivered"],
  delivered: ["closed"],
};

// Reasons the service itself writes into histories, in English: shown in the page's language.
const SERVICE_REASONS = { "dataset import": "ov.reason.import", "not in the imported dataset": "ov.reason.removed" };
const FIELD_LABELS = {
  quantity: "order.quantity",
  due_date: "order.due",
  priority: "order.priority",
  product_id: "order.product",
  customer_id: "order.customer",
  status: "order.status",
  earliest_start: "ov.field.earliest_start",
  order_type: "ov.field.order_type",
  deposit_ratio: "ov.field.deposit_ratio",
  pinned_line: "ov.field.pinned_line",
};

export class OrderPanel {
  /** `app`: {canPlan(), names(), message(text), error(error)}. */
  constructor(box, app) {
    this.box = box;
    this.app = app;
    this.entry = null; // the order's schedule entry
    this.record = null; // GET /v1/orders/{id}
    this.conflict = null; // the moves a refused move said were allowed
    box.addEventListener("submit", (event) => this._submit(event));
    box.addEventListener("click", (event) => this._click(event));
  }

  /** Show `entry` (a schedule entry, or null to close) and fetch its history. */
  async show(entry) {
    this.entry = entry;
    this.record = null;
    this.conflict = null;
    this.box.hidden = !entry;
    if (!entry) return;
    this.render();
    await this._load(entry.order_id);
  }

  async _load(orderId) {
    try {
      const record = await api("GET", `/v1/orders/${encodeURIComponent(orderId)}`);
      if (this.entry?.order_id !== orderId) return; // another order was opened meanwhile
      this.record = record;
    } catch (error) {
      if (this.entry?.order_id !== orderId) return;
      this.record = { missing: true, status: error.status }; // e.g. an order of a plan no longer in the order book
    }
    this.render();
  }

  render() {
    if (!this.entry) return;
    const o = this.entry;
    const names = this.app.names() || NO_NAMES;
    const status = this.record?.status;
    this.box.dataset.order = o.order_id;
    this.box.dataset.state = this.record ? "loaded" : "loading";
    this.box.innerHTML = `
      <div class="order-head">
        <h3>${esc(t("ov.title", { id: o.order_id }))}</h3>
        ${status ? `<span class="tag status" data-status="${esc(status)}">${esc(statusText(status))}</span>` : ""}
        <span class="spacer"></span>
        <button type="button" data-action="close">${esc(t("ov.close"))}</button>
      </div>
      <div class="order-columns">
        <section><h4>${esc(t("ov.placement"))}</h4>${placement(o, names)}</section>
        <section><h4>${esc(t("order.reasons"))}</h4>${reasons(o, names)}</section>
        <section><h4>${esc(t("ov.history"))}</h4>${this._history()}</section>
      </div>
      ${this.app.canPlan() && this.record && !this.record.missing ? this._forms() : ""}`;
  }

  _history() {
    const record = this.record;
    if (!record) return `<p class="muted">${esc(t("ov.loading"))}</p>`;
    if (record.missing) return `<p class="muted">${esc(t("ov.no_record", { status: record.status }))}</p>`;
    const events = [...record.history].reverse(); // newest first: what changed last is what is asked about
    const items = events.map((event) => `<li data-kind="${esc(event.kind)}"><span class="muted">${esc(when(event.at))} · ${esc(actorText(event.actor))}</span><br>${eventText(event)}${event.reason ? `<br><span class="reason">${esc(t("ov.because", { reason: serviceReason(event.reason) }))}</span>` : ""}</li>`);
    let html = `<ul class="history">${items.join("") || `<li class="muted">${esc(t("ov.no_history"))}</li>`}</ul>`;
    if (record.reviews?.length) {
      const reviews = record.reviews.map((r) => `<li>${esc(label("dept", r.department))}：${esc(label("verdict", r.verdict))} · ${esc(r.reviewer)}${r.note ? ` · ${esc(r.note)}` : ""}</li>`);
      html += `<h4>${esc(t("ov.reviews"))}</h4><ul class="reviews">${reviews.join("")}</ul>`;
    }
    if (record.promise) {
      const p = record.promise;
      html += `<h4>${esc(t("ov.promise"))}</h4><p class="promise">${esc(t("ov.promise_text", { date: p.promised_delivery }))}${p.at_risk ? ` <span class="tag late">${esc(t("ov.at_risk"))}</span>` : ""}</p>`;
    }
    return html;
  }

  /** The planner's forms: change quantity, due date, priority (reason required); move the status. */
  _forms() {
    const r = this.record;
    const moves = this.conflict ?? NEXT[r.status] ?? [];
    const buttons = moves.map((to) => `<button type="button" data-action="move" data-status="${esc(to)}">${esc(t("ov.move_to", { status: statusText(to) }))}</button>`);
    const refused = this.conflict ? `<p class="error" data-part="refused">${esc(t("ov.move_refused", { moves: moves.map(statusText).join(t("list.separator")) || t("none") }))}</p>` : "";
    return `
      <form class="order-edit fields" data-part="edit">
        <h4>${esc(t("ov.edit"))}</h4>
        <label><span>${esc(t("order.quantity"))}</span><input type="number" name="quantity" min="1" step="1" value="${esc(r.quantity)}" required></label>
        <label><span>${esc(t("order.due"))}</span><input type="date" name="due_date" value="${esc(r.due_date)}" required></label>
        <label><span>${esc(t("order.priority"))}</span><input type="number" name="priority" min="1" max="10" step="1" value="${esc(r.priority)}" required></label>
        <label class="wide"><span>${esc(t("ov.reason"))}</span><input name="reason" required placeholder="${esc(t("ov.reason_hint"))}"></label>
        <button type="submit" class="primary">${esc(t("ov.save"))}</button>
      </form>
      <div class="order-moves fields" data-part="moves">
        <h4>${esc(t("ov.moves"))}</h4>
        <label class="wide"><span>${esc(t("ov.move_reason"))}</span><input name="move-reason"></label>
        ${buttons.join("") || `<span class="muted">${esc(t("ov.no_moves"))}</span>`}
        ${refused}
      </div>${this._pinPart()}`;
  }

  /** A manual pin (dragged on the Gantt, or through the API) can be taken off here. */
  _pinPart() {
    const r = this.record;
    if (!r.pinned_start) return "";
    return `
      <div class="order-pin fields" data-part="pin">
        <h4>${esc(t("ov.pinned", { line: r.pinned_line, date: r.pinned_start }))}</h4>
        <button type="button" data-action="unpin">${esc(t("ov.unpin"))}</button>
      </div>`;
  }

  async _unpin() {
    const orderId = this.entry.order_id;
    const reason = this.box.querySelector("input[name=move-reason]")?.value.trim() || t("ov.unpin_reason");
    try {
      await api("DELETE", `/v1/orders/${encodeURIComponent(orderId)}/pin`, { body: { reason } });
      this.app.message(t("ov.unpinned", { id: orderId }));
      await this._load(orderId);
    } catch (error) {
      this.app.error(error);
    }
  }

  async _submit(event) {
    const form = event.target.closest("form.order-edit");
    if (!form) return;
    event.preventDefault();
    const data = new FormData(form);
    const wanted = { quantity: Number(data.get("quantity")), due_date: data.get("due_date"), priority: Number(data.get("priority")) };
    // only what changed: the history then records exactly the planner's change
    const changes = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => value !== this.record[key]));
    if (!Object.keys(changes).length) {
      this.app.message(t("ov.nothing_changed"));
      return;
    }
    const orderId = this.entry.order_id;
    try {
      // made from the version shown: a colleague's change meanwhile is a 409 order_changed, not overwritten
      const ifMatch = this.record.version === undefined ? undefined : `W/"${this.record.version}"`;
      await api("PATCH", `/v1/orders/${encodeURIComponent(orderId)}`, { body: { ...changes, reason: data.get("reason").trim() }, ifMatch });
      this.app.message(t("ov.saved", { id: orderId }));
      await this._load(orderId);
    } catch (error) {
      this.app.error(error);
    }
  }

  async _click(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "close") {
      this.box.hidden = true;
      this.entry = null;
      return;
    }
    if (button.dataset.action === "move") await this._move(button.dataset.status);
    if (button.dataset.action === "unpin") await this._unpin();
  }

  async _move(status) {
    const orderId = this.entry.order_id;
    const reason = this.box.querySelector("input[name=move-reason]")?.value.trim() ?? "";
    // production runs on the line the shown plan put it on
    const body = { status, reason, ...(status === "in_production" ? { line_id: this.entry.line_id } : {}) };
    try {
      await api("POST", `/v1/orders/${encodeURIComponent(orderId)}/status`, { body });
      this.conflict = null;
      this.app.message(t("ov.moved", { id: orderId, status: statusText(status) }));
      await this._load(orderId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && Array.isArray(error.body?.allowed)) {
        this.conflict = error.body.allowed;
        this.render();
      }
      this.app.error(error);
    }
  }
}

function statusText(status) {
  return has(`ov.status.${status}`) ? t(`ov.status.${status}`) : status;
}

function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
}

/** "planner:key1" (the service's role:name) as the role in the page's language and the key's name. */
function actorText(actor) {
  const [role, name] = String(actor).split(":");
  return name !== undefined && has(`role.${role}`) ? t("role.signed_in", { role: t(`role.${role}`), name }) : actor;
}

function serviceReason(reason) {
  return SERVICE_REASONS[reason] ? t(SERVICE_REASONS[reason]) : reason;
}

/** Where and when the plan runs the order: line, sequence, times, the days after, lateness. */
function placement(o, names) {
  const { start, end } = runSpan(o, names.dayStart);
  const row = (key, html) => `<tr><th>${esc(t(key))}</th><td>${html}</td></tr>`;
  const late = o.days_late > 0 ? `<span class="late-text">${esc(t("reason.days_late", { days: o.days_late }))}</span>` : esc(t("ov.on_time"));
  return `<table class="facts" data-part="placement">
    ${row("order.customer", nameHtml(names.customers, o.customer_id))}
    ${row("order.product", nameHtml(names.products, o.product_id))}
    ${row("order.quantity", esc(o.quantity))}
    ${row("order.line", nameHtml(names.lines, o.line_id))}
    ${row("ov.sequence", esc(o.sequence ?? "—"))}
    ${row("order.production", esc(`${o.production_start} ${clock(start)} – ${o.production_end} ${clock(end)}`))}
    ${row("order.inspection", esc(o.inspection_date))}
    ${row("order.dispatch", esc(o.dispatch_date))}
    ${row("order.delivery", esc(o.delivery_date))}
    ${row("order.due", esc(o.due_date))}
    ${row("order.days_late", late)}
  </table>`;
}

function reasons(o, names) {
  if (!o.binding?.length) return `<p class="muted">${esc(t(o.days_late > 0 ? "ov.no_reasons" : "ov.no_reasons_on_time"))}</p>`;
  return `<ul class="reasons">${o.binding.map((reason) => `<li data-kind="${esc(reason.kind)}">${esc(reasonText(namedReason(reason, names)))}</li>`).join("")}</ul>`;
}

/** One history entry in words. */
function eventText(event) {
  const d = event.detail || {};
  if (event.kind === "status") return esc(t("ov.event.status", { from: statusText(d.from), to: statusText(d.to) }));
  if (event.kind === "review") return esc(t("ov.event.review", { department: label("dept", d.department), verdict: label("verdict", d.verdict) }));
  if ((event.kind === "change" || event.kind === "import") && d.changes) {
    const parts = Object.entries(d.changes).map(([field, [before, after]]) => `${FIELD_LABELS[field] ? t(FIELD_LABELS[field]) : field} ${before ?? "—"} → ${after ?? "—"}`);
    return esc(t(`ov.event.${event.kind}_changes`, { changes: parts.join(t("list.separator")) }));
  }
  if (event.kind === "pin") return esc(t("ov.event.pin", { line: d.line_id, date: d.start_date }));
  if (event.kind === "exception") return esc(t("ov.event.exception", { days: d.days_later ?? "?" }));
  return esc(has(`ov.event.${event.kind}`) ? t(`ov.event.${event.kind}`) : event.kind);
}
