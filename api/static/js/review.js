// Order review: ask POST /v1/feasibility for a new order, show both earliest dates, the
// binding reasons and the review rules, and hold the capacity as a quote (POST /v1/quotes).
// A key for several plants asks the group (the plain path): every plant that makes the product
// answers, side by side, earliest delivery first, and a hold goes to the plant chosen
// (POST /v1/plants/{plant_id}/quotes); the quote table then lists every plant's holds.

import { api } from "./api.js";
import { has, t } from "./i18n.js";
import { checkText, esc, reasonText, when } from "./util.js";

// The joint review of a non-regular order: these departments each give a verdict.
const DEPARTMENTS = ["technology", "quality", "purchasing", "production"];
const VERDICTS = ["pending", "approved", "rejected"];

function verdictSelects() {
  const options = VERDICTS.map((v) => `<option value="${v}" data-i18n="verdict.${v}"></option>`).join("");
  return DEPARTMENTS.map(
    (d) => `<label><span data-i18n="dept.${d}"></span> <select data-department="${d}">${options}</select></label>`,
  ).join("");
}

export class ReviewView {
  /**
   * `app` gives {canQuote(), publishedId(), dataset(), plants() (GET /v1/plants), plantLabel(plantId),
   * message(text), error(error)}.
   */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.request = null; // the request behind the answer shown, for the quote hold
    this.answer = null;
    this.grouped = false; // the answer is the group's (a key for several plants asked the plain path)
    this.held = false; // the answer shown was held already: no second hold from it
    this.form = root.querySelector("#review-form");
    this.form.querySelector("#review-joint-field").insertAdjacentHTML("beforeend", verdictSelects());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.check();
    });
    this.form.querySelector("#review-type").addEventListener("change", () => this.toggleDeposit());
    root.querySelector("#review-hold").addEventListener("click", () => this.hold());
    root.querySelector("#review-result").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-hold-plant]");
      if (button) this.hold(button.dataset.holdPlant);
    });
    root.querySelector("#quote-table").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this[button.dataset.action](button.dataset.quote, button.dataset.plant || undefined);
    });
    this.toggleDeposit();
  }

  toggleDeposit() {
    const type = this.form.querySelector("#review-type").value;
    this.form.querySelector("#review-deposit-field").hidden = type !== "special";
    this.form.querySelector("#review-joint-field").hidden = type !== "non_regular";
  }

  /** Several plants: the group answers order review, and holds may lie in any of them. */
  manyPlants() {
    return this.app.plants().length > 1;
  }

  /** Another plant was chosen: nothing shown belongs to it. */
  reset() {
    this.answer = this.request = null;
    this.grouped = this.held = false;
    const result = this.root.querySelector("#review-result");
    result.innerHTML = "";
    result.hidden = true;
    delete result.dataset.state;
    this.root.querySelector("#review-hold-box").hidden = true;
    const held = this.root.querySelector("#review-held");
    held.textContent = "";
    delete held.dataset.quote;
    delete held.dataset.plant;
  }

  /** Offer the dataset's products and customers as suggestions (any value may still be typed). */
  async fillChoices() {
    // suggestions only: without a dataset the form still works (and the answer says what is wrong)
    const dataset = await this.app.dataset().catch(() => ({}));
    const options = (rows, key) => rows.map((r) => `<option value="${esc(r[key])}">${esc(r.name || "")}</option>`).join("");
    const products = [...(dataset.products || [])];
    if (this.manyPlants()) {
      // the group answers: the products the other plants make are offered too
      const known = new Set(products.map((p) => p.product_id));
      for (const id of this.app.plants().flatMap((plant) => plant.products || [])) {
        if (!known.has(id)) products.push({ product_id: id });
        known.add(id);
      }
    }
    this.root.querySelector("#review-products").innerHTML = options(products, "product_id");
    this.root.querySelector("#review-customers").innerHTML = options(dataset.customers || [], "customer_id");
  }

  readForm() {
    const value = (id) => this.form.querySelector(id).value.trim();
    const request = {
      product_id: value("#review-product"),
      quantity: Number(value("#review-quantity")),
      due_date: value("#review-due"),
      priority: Number(value("#review-priority") || 1),
      order_type: value("#review-type"),
    };
    if (value("#review-customer")) request.customer_id = value("#review-customer");
    if (request.order_type === "special" && value("#review-deposit") !== "") request.deposit_ratio = Number(value("#review-deposit"));
    if (request.order_type === "non_regular") {
      // the departments' verdicts so far; one left pending is simply not sent
      const verdicts = [...this.form.querySelectorAll("#review-joint-field select[data-department]")]
        .filter((select) => select.value !== "pending")
        .map((select) => [select.dataset.department, select.value]);
      request.joint_review = Object.fromEntries(verdicts);
    }
    return request;
  }

  async check() {
    const result = this.root.querySelector("#review-result");
    const grouped = this.manyPlants();
    const planned = this.app.publishedId() || (grouped && this.app.plants().some((plant) => plant.published_plan_id));
    if (!planned) {
      result.hidden = false;
      result.innerHTML = `<p class="notice">${esc(t("review.no_plan"))}</p>`;
      return;
    }
    const request = this.readForm();
    result.hidden = false;
    result.innerHTML = `<p>${esc(t("loading"))}</p>`;
    result.dataset.state = "loading";
    try {
      // the group: the plain path with no plant (which plant delivers first is what sales asks)
      this.answer = await api("POST", "/v1/feasibility", grouped ? { body: request, plant: null } : { body: request });
      this.request = request;
      this.grouped = grouped;
      this.held = false;
      this.renderAnswer();
    } catch (error) {
      result.innerHTML = "";
      result.dataset.state = "error";
      this.app.error(error);
    }
  }

  renderAnswer() {
    const a = this.answer;
    if (!a) return;
    const result = this.root.querySelector("#review-result");
    const dateRow = (label, value, cls = "") => `<tr><th>${esc(t(label))}</th><td class="${cls}">${esc(value ?? "—")}</td></tr>`;
    const late = (date) => (date && date > a.requested_due_date ? "late-date" : "ok-date");
    const many = this.grouped && (a.plants || []).length > 1;
    let html = "";
    if (many) html += this.plantsHtml(a);
    if (this.grouped && a.plant_id) {
      const note = many ? "plants.detail_of" : "plants.answered_by";
      html += `<p class="plant-note" data-plant="${esc(a.plant_id)}">${esc(t(note, { plant: this.app.plantLabel(a.plant_id) }))}</p>`;
    }
    html += this.verdictHtml(a);
    html += `<table class="facts">`;
    html += dateRow("review.requested", a.requested_due_date);
    html += dateRow("review.promised_delivery", a.promised_delivery, late(a.promised_delivery));
    html += dateRow("review.fixed", a.earliest_delivery_fixed, late(a.earliest_delivery_fixed));
    html += dateRow("review.resequenced", a.earliest_delivery_resequenced, late(a.earliest_delivery_resequenced));
    html += dateRow("review.resequencing", resequencingText(a.resequencing_note));
    html += `</table>`;
    if (a.alternatives) html += alternativesHtml(a, this.request?.quantity ?? "");
    const p = a.placement;
    if (p) {
      html += `<h3>${esc(t("review.placement"))}</h3><table class="facts">`;
      html += dateRow("order.line", p.line_id);
      html += dateRow("order.production", `${p.production_start} – ${p.production_end}`);
      html += dateRow("order.inspection", p.inspection_date);
      html += dateRow("order.dispatch", p.dispatch_date);
      html += dateRow("order.delivery", p.delivery_date);
      html += `</table>`;
    }
    html += `<h3>${esc(t("review.binding"))}</h3><ul class="binding">`;
    html += a.binding.map((reason) => `<li data-kind="${esc(reason.kind)}">${esc(reasonText(reason))}</li>`).join("");
    html += `</ul><h3>${esc(t("review.checks"))}</h3><ul class="checks">`;
    html += a.checks.map(checkHtml).join("");
    html += `</ul><p class="muted">${esc(t("review.answer_ms", { ms: a.answer_ms, plan: a.plan_id }))}</p>`;
    result.innerHTML = html;
    result.dataset.state = "answered";
    // a hold needs a placement to hold, and a role that may write orders; it keeps the run
    // found with the other orders fixed, so it promises that date, not the resequenced one
    // a non-regular order is accepted only after its joint review, as an order: it is never held as a quote
    // side by side, each plant has its own hold button; the box keeps the hours for them all
    const holdable = many ? a.plants.some((plant) => this.holdable(plant)) : this.holdable(a);
    this.root.querySelector("#review-hold-box").hidden = !holdable || this.held;
    this.root.querySelector("#review-hold").hidden = many;
    const note = many ? t("plants.hold_pick") : p ? t("review.hold_note", { date: a.promised_delivery, line: p.line_id }) : "";
    this.root.querySelector("#review-hold-note").textContent = note;
  }

  holdable(answer) {
    return Boolean(answer.placement) && this.app.canQuote() && !(answer.blocked_by || []).includes("joint_review");
  }

  /** The group's answers side by side, earliest delivery first: one card per plant. */
  plantsHtml(a) {
    const due = a.requested_due_date;
    const late = (date) => (date && date > due ? "late-date" : "ok-date");
    const cards = a.plants.map((plant, index) => {
      const overall = plant.feasible ? "review.feasible" : plant.capacity_feasible ? "review.verdict_blocked" : "review.infeasible";
      const row = (label, value) => `<tr><th>${esc(t(label))}</th><td class="${late(value)}">${esc(value ?? "—")}</td></tr>`;
      const reasons = plant.binding.length
        ? plant.binding.map((reason) => `<li data-kind="${esc(reason.kind)}">${esc(reasonText(reason))}</li>`).join("")
        : `<li class="muted">${esc(t("plants.no_reasons"))}</li>`;
      const hold = this.holdable(plant)
        ? `<button type="button" class="small primary" data-hold-plant="${esc(plant.plant_id)}"${this.held ? " disabled" : ""}>${esc(t("plants.hold_here"))}</button>`
        : `<span class="muted">${esc(t("plants.not_holdable"))}</span>`;
      const earliest = index === 0 ? ` <span class="tag earliest">${esc(t("plants.earliest"))}</span>` : "";
      return `<div class="plant-answer${index === 0 ? " earliest" : ""}" data-plant="${esc(plant.plant_id)}" data-earliest="${index === 0}" data-feasible="${plant.feasible}">
        <h4>${esc(this.app.plantLabel(plant.plant_id))}${earliest}</h4>
        <p class="plant-verdict ${plant.feasible ? "feasible" : "infeasible"}">${esc(t(overall))}</p>
        <table class="facts">${row("review.fixed", plant.earliest_delivery_fixed)}${row("review.resequenced", plant.earliest_delivery_resequenced)}${row("review.promised_delivery", plant.promised_delivery)}</table>
        <h5>${esc(t("review.binding"))}</h5><ul class="plant-binding">${reasons}</ul>
        <p class="plant-hold">${hold}</p>
      </div>`;
    });
    return `<h3>${esc(t("plants.compare"))}</h3><div class="plant-answers">${cards.join("")}</div>`;
  }

  /** Capacity and rules side by side: never a green verdict while a rule blocks. */
  verdictHtml(a) {
    const overall = a.feasible ? "review.feasible" : a.capacity_feasible ? "review.verdict_blocked" : "review.infeasible";
    const rules = a.blocked_by.map((r) => (has(`rule.${r}`) ? t(`rule.${r}`) : r)).join(t("list.separator"));
    const capacity = a.capacity_feasible ? "review.capacity_ok" : "review.capacity_no";
    const ruleText = a.blocked_by.length ? t("review.rules_block", { rules }) : t("review.rules_ok");
    return `<p class="verdict ${a.feasible ? "feasible" : "infeasible"}" data-feasible="${a.feasible}">${esc(t(overall))}</p>
      <ul class="verdict-parts">
        <li class="${a.capacity_feasible ? "ok" : "fail"}" data-part="capacity" data-ok="${a.capacity_feasible}">${esc(t(capacity))}</li>
        <li class="${a.blocked_by.length ? "fail" : "ok"}" data-part="rules" data-ok="${!a.blocked_by.length}">${esc(ruleText)}</li>
      </ul>`;
  }

  /** Hold the answer's capacity: at `plantId` (a plant of the group's answer), else where the answer came from. */
  async hold(plantId) {
    if (!this.request) return;
    const hours = Number(this.root.querySelector("#review-hold-hours").value || 24);
    const plant = plantId ?? (this.grouped ? this.answer?.plant_id : undefined); // undefined: the page's plant
    try {
      const quote = await api("POST", "/v1/quotes", { body: { ...this.request, hold_hours: hours }, plant });
      let text = t("review.held", { id: quote.quote_id, date: quote.promised_delivery, expires: when(quote.expires_at) });
      if (plant) text += t("plants.held_at", { plant: this.app.plantLabel(plant) });
      const held = this.root.querySelector("#review-held");
      held.textContent = text;
      held.dataset.quote = quote.quote_id;
      if (plant) held.dataset.plant = plant;
      else delete held.dataset.plant;
      this.held = true;
      this.root.querySelector("#review-hold-box").hidden = true;
      for (const button of this.root.querySelectorAll("#review-result button[data-hold-plant]")) button.disabled = true;
      await this.refreshQuotes();
    } catch (error) {
      this.app.error(error);
    }
  }

  /** The open holds: the page's plant's, or with several plants every plant's, with a plant column. */
  async refreshQuotes() {
    const many = this.manyPlants();
    const perPlant = many
      ? this.app.plants().map((plant) => api("GET", "/v1/quotes", { plant: plant.plant_id }).then((quotes) => quotes.map((q) => ({ ...q, plant: plant.plant_id }))))
      : [api("GET", "/v1/quotes")];
    const quotes = (await Promise.all(perPlant)).flat();
    const canQuote = this.app.canQuote();
    this.root.querySelector("#quote-plant-head").hidden = !many;
    const body = quotes
      .map((q) => {
        const plant = q.plant ? ` data-plant="${esc(q.plant)}"` : "";
        const actions = canQuote
          ? `<button type="button" class="small primary" data-action="confirm" data-quote="${esc(q.quote_id)}"${plant}>${esc(t("review.confirm"))}</button>
             <button type="button" class="small" data-action="release" data-quote="${esc(q.quote_id)}"${plant}>${esc(t("review.release"))}</button>`
          : "";
        const plantCell = many ? `<td class="plant">${esc(this.app.plantLabel(q.plant))}</td>` : "";
        return `<tr data-quote="${esc(q.quote_id)}"${plant}><td><code>${esc(q.quote_id)}</code></td>${plantCell}<td>${esc(q.request.product_id)}</td><td class="num">${esc(q.request.quantity)}</td><td>${esc(q.request.customer_id || "")}</td><td>${esc(q.promised_delivery || "")}</td><td>${esc(when(q.expires_at))}</td><td class="actions">${actions}</td></tr>`;
      })
      .join("");
    this.root.querySelector("#quote-table tbody").innerHTML = body || `<tr><td colspan="${many ? 8 : 7}" class="muted">${esc(t("review.no_quotes"))}</td></tr>`;
  }

  /** `plant`: the quote's plant (the table lists every plant's); undefined: the page's plant. */
  async confirm(quoteId, plant) {
    try {
      const confirmed = await api("POST", `/v1/quotes/${encodeURIComponent(quoteId)}/confirm`, { plant });
      this.app.message(t("review.confirmed", { id: confirmed.order_id }));
      await this.refreshQuotes();
    } catch (error) {
      this.app.error(error);
    }
  }

  async release(quoteId, plant) {
    try {
      await api("DELETE", `/v1/quotes/${encodeURIComponent(quoteId)}`, { plant });
      this.app.message(t("review.released", { id: quoteId }));
      await this.refreshQuotes();
    } catch (error) {
      this.app.error(error);
    }
  }
}

function resequencingText(note) {
  if (!note || !has(`reseq.${note.code}`)) return note?.code ?? "";
  const params = note.params || {};
  const proof = t(params.optimal ? "reseq.optimal" : "reseq.best_found");
  return t(`reseq.${note.code}`, { ...params, lines: (params.lines || []).join(t("list.separator")), proof, days: params.days_earlier });
}

function checkHtml(check) {
  const rule = has(`rule.${check.rule}`) ? t(`rule.${check.rule}`) : check.rule;
  const state = check.ok ? "✓ " + t("check.ok") : "✗ " + t("check.fail");
  const weight = check.ok ? "" : ` <span class="tag ${check.blocking ? "blocking" : "advisory"}">${esc(t(check.blocking ? "review.blocking" : "review.advisory"))}</span>`;
  return `<li class="${check.ok ? "ok" : "fail"}" data-rule="${esc(check.rule)}" data-blocking="${check.blocking}"><b>${esc(state)}</b>${weight} ${esc(rule)}：${esc(checkText(check))}</li>`;
}

/** The offers when the requested date is missed: all of it later, part of it on time, or both. */
function alternativesHtml(a, quantity) {
  const alt = a.alternatives;
  const due = a.requested_due_date;
  const items = [];
  const full = alt.full_quantity?.delivery_date;
  items.push(["full", full ? t("review.alt.full", { quantity, date: full }) : t("review.alt.full_none", { quantity })]);
  const part = alt.by_due_date;
  items.push(["by_due_date", part ? t("review.alt.by_due", { due, quantity: part.quantity, date: part.delivery_date }) : t("review.alt.by_due_none", { due })]);
  if (alt.split) {
    const { first, rest } = alt.split;
    items.push(["split", t("review.alt.split", { first: first.quantity, first_date: first.delivery_date, rest: rest.quantity, rest_date: rest.delivery_date })]);
  }
  return `<h3>${esc(t("review.alternatives"))}</h3><ul class="alternatives">${items.map(([kind, text]) => `<li data-alt="${kind}">${esc(text)}</li>`).join("")}</ul>`;
}
