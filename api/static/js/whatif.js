// What-if (情景模拟) and exceptions (异常): build edits from forms, run them on a copy of the
// live data (POST /v1/scenarios), watch the scenario's plan, read what changes against the
// published plan (KPI deltas, the orders that move and why, whom sales should call), then
// apply (publishes the scenario's plan) or discard it. Nothing live changes before "apply".

import { ApiError, api } from "./api.js";
import { Names, changesTable, kpiDeltaTable } from "./changes.js";
import { t } from "./i18n.js";
import { actorText } from "./plans.js";
import { esc, stageText, when } from "./util.js";

const POLL_MS = 1000;
const RUNNING = ["queued", "running"];

// Each edit kind's form: [field, input type, {optional}]. Choice types (line, order, ...) list the
// dataset's rows with their names; "arrival" picks one material delivery (material and date).
const FORMS = {
  line_hours: [["line_id", "line"], ["from", "date"], ["to", "date"], ["hours", "number", { value: 0, min: 0, max: 24, step: 0.5 }]],
  arrival: [["arrival", "arrival"], ["new_date", "date", { optional: true }], ["qty", "number", { optional: true, min: 0 }]],
  order: [["order_id", "order"], ["quantity", "number", { optional: true, min: 1 }], ["due_date", "date", { optional: true }], ["priority", "number", { optional: true, min: 1, max: 10 }]],
  new_order: [["new_order_id", "text"], ["product_id", "product"], ["quantity", "number", { min: 1, value: 1 }], ["due_date", "date"], ["customer_id", "customer", { optional: true }], ["priority", "number", { optional: true, min: 1, max: 10 }]],
  cancel_order: [["order_id", "order"]],
  pin: [["order_id", "order"], ["line_id", "line"], ["start_date", "date"]],
};
const NUMBERS = new Set(["hours", "qty", "quantity", "priority"]);

export class WhatIfView {
  /** `app` gives {canPlan(), dataset(), reloadDataset(), message(text), error(error), onApplied(planId)}. */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.names = new Names();
    this.dataset = null;
    this.edits = [];
    this.current = null; // the scenario answer shown
    this.timer = null;
    this.$ = (selector) => root.querySelector(selector);
    this.$("#whatif-kind").addEventListener("change", () => this.renderForm());
    this.$("#whatif-edit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.addEdit();
    });
    this.$("#whatif-edits").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-remove]");
      if (!button) return;
      this.edits.splice(Number(button.dataset.remove), 1);
      this.renderEdits();
    });
    this.$("#whatif-run-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
    this.$("#whatif-result").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this[button.dataset.action]();
    });
    this.$("#whatif-table").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-scenario]");
      if (button) this.show(button.dataset.scenario);
    });
  }

  /** Names and choices from the live data, then the recent scenarios. */
  async refresh() {
    try {
      this.dataset = await this.app.dataset();
      this.names = new Names(this.dataset);
      if (!this.$("#whatif-fields").childElementCount) this.renderForm();
      this.renderEdits();
      await this.refreshList();
    } catch (error) {
      this.app.error(error);
    }
  }

  /** Redraw what is shown in the page's language (no new request). */
  relabel() {
    this.renderForm();
    this.renderEdits();
    if (this.current) this.renderResult(this.current);
    if (this.scenarios) this.renderList(this.scenarios);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.showing = null;
  }

  /** Another plant was chosen: its edits, scenarios and choices are not the last plant's. */
  reset() {
    this.stop();
    this.edits = [];
    this.current = this.scenarios = this.dataset = null;
    this.names = new Names();
    this.$("#whatif-fields").innerHTML = ""; // built again from the new plant's data
    this.$("#whatif-result").hidden = true;
    this.renderEdits();
  }

  // -- building edits ------------------------------------------------------------------

  renderForm() {
    const kind = this.$("#whatif-kind").value;
    this.$("#whatif-fields").innerHTML = FORMS[kind].map(([field, type, options = {}]) => this.fieldHtml(field, type, options)).join("");
    if (kind === "new_order") this.$("#whatif-field-new_order_id").value = `RUSH-${Date.now().toString(36).slice(-5).toUpperCase()}`;
  }

  fieldHtml(field, type, options) {
    const label = t(`whatif.field.${field}`) + (options.optional ? t("whatif.optional") : "");
    const required = options.optional ? "" : "required";
    const id = `whatif-field-${field}`;
    let input;
    if (["line", "order", "product", "customer", "arrival"].includes(type)) {
      const choices = this.choices(type).map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`);
      input = `<select id="${id}" data-field="${field}" ${required}><option value="">${esc(t("whatif.choose"))}</option>${choices.join("")}</select>`;
    } else {
      const attrs = ["min", "max", "step", "value"].filter((a) => a in options).map((a) => `${a}="${esc(options[a])}"`).join(" ");
      const inputType = type === "text" ? "text" : type;
      input = `<input type="${inputType}" id="${id}" data-field="${field}" ${attrs} ${required}>`;
    }
    return `<label><span>${esc(label)}</span>${input}</label>`;
  }

  /** [value, label] pairs for a choice field, codes with their names. */
  choices(type) {
    const data = this.dataset || {};
    const rows = (stem, key, names) => (data[stem] || []).map((row) => [row[key], this.names.label(names, row[key])]);
    if (type === "line") return rows("lines", "line_id", "lines");
    if (type === "product") return rows("products", "product_id", "products");
    if (type === "customer") return rows("customers", "customer_id", "customers");
    if (type === "order") {
      const open = (data.orders || []).filter((o) => !["cancelled", "shipped", "delivered"].includes(o.status));
      return open.map((o) => [o.order_id, `${o.order_id} · ${this.names.label("products", o.product_id)} × ${o.quantity} · ${o.due_date}`]);
    }
    // arrival: one delivery of a material, named by material and date
    return (data.arrivals || []).map((a) => [`${a.material_id}|${a.date}`, `${this.names.label("materials", a.material_id)} · ${a.date} · ${a.qty}`]);
  }

  /** The form's values as an edit in the API's shape; null (with a message) when incomplete. */
  readEdit() {
    const kind = this.$("#whatif-kind").value;
    const values = {};
    for (const input of this.$("#whatif-fields").querySelectorAll("[data-field]")) {
      if (input.value === "") continue;
      values[input.dataset.field] = NUMBERS.has(input.dataset.field) ? Number(input.value) : input.value;
    }
    if (kind === "arrival") {
      if (!("new_date" in values) && !("qty" in values)) return this.refuse("whatif.need_arrival");
      const [material_id, date] = values.arrival.split("|");
      delete values.arrival;
      return { kind, material_id, date, ...values };
    }
    if (kind === "order" && Object.keys(values).length < 2) return this.refuse("whatif.need_change");
    if (kind === "new_order") {
      const { new_order_id, ...order } = values;
      return { kind, order: { order_id: new_order_id, ...order } };
    }
    return { kind, ...values };
  }

  refuse(key) {
    this.app.message(t(key), true);
    return null;
  }

  /** An edit made elsewhere (a bar dragged on the Gantt): added to the list being built. */
  add(edit) {
    this.edits.push(edit);
    this.renderEdits();
  }

  addEdit() {
    const edit = this.readEdit();
    if (!edit) return;
    this.edits.push(edit);
    this.renderEdits();
    if (edit.kind === "new_order") this.renderForm(); // a fresh order id for the next rush order
  }

  renderEdits() {
    const list = this.$("#whatif-edits");
    list.dataset.count = this.edits.length;
    if (!this.edits.length) {
      list.innerHTML = `<li class="muted empty">${esc(t("whatif.no_edits"))}</li>`;
      return;
    }
    list.innerHTML = this.edits
      .map((edit, index) => `<li data-kind="${esc(edit.kind)}">${esc(this.editText(edit))} <button type="button" class="small" data-remove="${index}">${esc(t("whatif.remove"))}</button></li>`)
      .join("");
  }

  /** An edit as a sentence, with names next to the codes. */
  editText(edit) {
    const n = this.names;
    switch (edit.kind) {
      case "line_hours": {
        const values = { line: n.label("lines", edit.line_id), from: edit.from, to: edit.to, hours: edit.hours };
        return t(edit.hours === 0 ? "whatif.edit.line_down" : "whatif.edit.line_hours", values);
      }
      case "arrival": {
        const values = { material: n.label("materials", edit.material_id), date: edit.date, new_date: edit.new_date, qty: edit.qty };
        const which = edit.new_date && edit.qty !== undefined ? "both" : edit.new_date ? "late" : "short";
        return t(`whatif.edit.arrival_${which}`, values);
      }
      case "order": {
        const changes = ["quantity", "due_date", "priority"].filter((k) => k in edit).map((k) => t(`whatif.edit.order.${k}`, { value: edit[k] }));
        return t("whatif.edit.order", { order: edit.order_id, changes: changes.join(t("list.separator")) });
      }
      case "new_order": {
        const o = edit.order || {};
        return t("whatif.edit.new_order", { order: o.order_id, product: n.label("products", o.product_id), quantity: o.quantity, due: o.due_date });
      }
      case "cancel_order":
        return t("whatif.edit.cancel_order", { order: edit.order_id });
      case "pin":
        return t("whatif.edit.pin", { order: edit.order_id, line: n.label("lines", edit.line_id), start: edit.start_date });
      default:
        return JSON.stringify(edit); // a kind this page does not build: show it as it is
    }
  }

  // -- running and watching ------------------------------------------------------------

  async run() {
    if (!this.edits.length) return this.refuse("whatif.need_edit");
    const body = {
      name: this.$("#whatif-name").value.trim(),
      kind: this.$("#whatif-mode").value,
      edits: this.edits,
      time_limit_s: Number(this.$("#whatif-time-limit").value),
    };
    try {
      const accepted = await api("POST", "/v1/scenarios", { body });
      this.app.message(t("whatif.started", { name: body.name }));
      this.edits = [];
      this.renderEdits();
      await this.show(accepted.scenario_id);
    } catch (error) {
      this.app.error(error);
    }
  }

  /** Show a scenario, polling it while its plan is solved; the list follows its status. */
  async show(scenarioId) {
    this.stop();
    this.showing = scenarioId;
    const poll = async () => {
      let answer;
      try {
        answer = await api("GET", `/v1/scenarios/${encodeURIComponent(scenarioId)}`);
      } catch (error) {
        this.app.error(error);
        return;
      }
      if (this.showing !== scenarioId) return; // another scenario was opened meanwhile
      this.current = answer;
      this.renderResult(answer);
      if (RUNNING.includes(answer.plan_status)) {
        this.timer = setTimeout(poll, POLL_MS);
        return;
      }
      this.timer = null;
      await this.refreshList();
    };
    await poll();
  }

  renderResult(answer) {
    const box = this.$("#whatif-result");
    box.hidden = false;
    box.dataset.scenario = answer.scenario_id;
    box.dataset.planStatus = answer.plan_status;
    box.dataset.status = answer.status;
    const parts = [this.headerHtml(answer)];
    if (RUNNING.includes(answer.plan_status)) parts.push(this.progressHtml(answer));
    else {
      parts.push(`<h3>${esc(t("whatif.kpis"))}</h3>`, kpiDeltaTable(answer.kpi_deltas));
      parts.push(changesTable(answer.changes, this.names, (edit) => this.editText(edit)));
      parts.push(this.notifyHtml(answer.notify));
    }
    parts.push(this.actionsHtml(answer));
    box.innerHTML = parts.join("");
  }

  headerHtml(answer) {
    const edits = (answer.edits || []).map((edit, i) => `<li>${esc(i + 1)}. ${esc(this.editText(edit))}</li>`).join("");
    return `<h2>${esc(answer.name)} <span class="tag">${esc(t(`whatif.mode.${answer.kind}`))}</span>
      <span class="status ${esc(answer.status)}">${esc(t(`whatif.status.${answer.status}`))}</span></h2>
      <p class="muted">${esc(t("whatif.plan", { id: answer.plan_id }))} · <span class="status ${esc(answer.plan_status)}">${esc(statusText(answer.plan_status))}</span></p>
      <ul class="edits">${edits}</ul>`;
  }

  progressHtml(answer) {
    const p = answer.progress || {};
    const facts = [t("plans.elapsed", { s: (p.elapsed || 0).toFixed(1) }), t("plans.solutions", { n: p.solutions || 0 })];
    if (p.stage) facts.push(t("plans.stage", { stage: stageText(p.stage) }));
    return `<p class="progress" data-status="${esc(answer.plan_status)}">${esc(t("whatif.progress"))}: ${esc(facts.join(" · "))}</p>`;
  }

  /** Whom sales should call: per customer (name and region), the orders now later or lost. */
  notifyHtml(groups) {
    if (!groups?.length) return `<h3 class="notify-count" data-customers="0">${esc(t("whatif.notify_none"))}</h3>`;
    const items = groups.map((group) => {
      const orders = group.orders.map((o) => {
        const text = o.now ? t("whatif.notify_order", { order: o.order_id, was: o.was, now: o.now }) : t("whatif.notify_lost", { order: o.order_id, was: o.was });
        const shift = o.days_later > 0 ? ` （${t("whatif.days_later", { n: o.days_later })}）` : "";
        return `<li>${esc(text + shift)}</li>`;
      });
      const who = group.name ? `${group.customer_id} ${group.name}` : group.customer_id || "–";
      return `<li data-customer="${esc(group.customer_id)}"><b>${esc(who)}</b> · ${esc(group.region || t("whatif.no_region"))}<ul>${orders.join("")}</ul></li>`;
    });
    return `<h3 class="notify-count" data-customers="${groups.length}">${esc(t("whatif.notify", { n: groups.length }))}</h3><ul class="notify">${items.join("")}</ul>`;
  }

  actionsHtml(answer) {
    if (answer.status !== "open" || !this.app.canPlan()) return "";
    const finished = !RUNNING.includes(answer.plan_status);
    const buttons = [];
    if (answer.live_changed) buttons.push(`<p class="notice stale">${esc(t("whatif.stale"))}</p>`);
    else if (finished && answer.valid) buttons.push(`<button type="button" class="primary" data-action="apply">${esc(t("whatif.apply"))}</button>`);
    else if (finished) buttons.push(`<p class="notice">${esc(t("whatif.not_ready"))}</p>`);
    buttons.push(`<button type="button" class="danger" data-action="discard">${esc(t("whatif.discard"))}</button>`);
    return `<div class="toolbar whatif-actions">${buttons.join(" ")}</div>`;
  }

  // -- apply, discard ------------------------------------------------------------------

  async apply() {
    const answer = this.current;
    try {
      const applied = await api("POST", `/v1/scenarios/${encodeURIComponent(answer.scenario_id)}/apply`);
      this.current = applied;
      this.renderResult(applied);
      this.app.message(t("whatif.applied", { name: applied.name, id: applied.plan_id }));
      this.dataset = await this.app.reloadDataset(); // the edits are live now: choices follow them
      this.names = new Names(this.dataset);
      this.renderForm();
      await this.app.onApplied(applied.plan_id);
      await this.refreshList();
    } catch (error) {
      if (error instanceof ApiError && error.body?.code === "scenario_stale") {
        // the live data moved on: its plan would not match; offer to discard it
        this.current = { ...answer, live_changed: true };
        this.renderResult(this.current);
      }
      this.app.error(error);
    }
  }

  async discard() {
    const answer = this.current;
    try {
      await api("DELETE", `/v1/scenarios/${encodeURIComponent(answer.scenario_id)}`);
      this.app.message(t("whatif.discarded", { name: answer.name }));
      await this.show(answer.scenario_id);
    } catch (error) {
      this.app.error(error);
    }
  }

  // -- recent scenarios ----------------------------------------------------------------

  async refreshList() {
    this.scenarios = await api("GET", "/v1/scenarios?limit=20");
    this.renderList(this.scenarios);
  }

  renderList(scenarios) {
    const table = this.$("#whatif-table tbody");
    if (!scenarios.length) {
      table.innerHTML = `<tr><td colspan="7" class="muted">${esc(t("whatif.none"))}</td></tr>`;
      return;
    }
    table.innerHTML = scenarios
      .map((s) => {
        const calls = (s.notify || []).reduce((sum, group) => sum + group.orders.length, 0);
        return `<tr data-scenario="${esc(s.scenario_id)}" data-status="${esc(s.status)}"><td>${esc(s.name)} <span class="tag">${esc(t(`whatif.mode.${s.kind}`))}</span></td>
          <td>${esc(t(`whatif.status.${s.status}`))}</td><td>${esc(statusText(s.plan_status))}</td>
          <td>${esc(when(s.created_at))}</td><td>${esc(actorText(s.created_by))}</td>
          <td class="num">${esc((s.changes || []).length)} / ${esc(calls)}</td>
          <td><button type="button" class="small" data-scenario="${esc(s.scenario_id)}">${esc(t("whatif.open"))}</button></td></tr>`;
      })
      .join("");
  }
}

function statusText(status) {
  return status === "missing" ? t("whatif.status.missing") : t(`status.${status}`);
}
