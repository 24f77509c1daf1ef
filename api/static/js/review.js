// Order review: ask POST /v1/feasibility for a new order, show both earliest dates, the
// binding reasons and the review rules, and hold the capacity as a quote (POST /v1/quotes).

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
  /** `app` gives {canQuote(), publishedId(), dataset(), message(text), error(error)}. */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.request = null; // the request behind the answer shown, for the quote hold
    this.answer = null;
    this.form = root.querySelector("#review-form");
    this.form.querySelector("#review-joint-field").insertAdjacentHTML("beforeend", verdictSelects());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.check();
    });
    this.form.querySelector("#review-type").addEventListener("change", () => this.toggleDeposit());
    root.querySelector("#review-hold").addEventListener("click", () => this.hold());
    root.querySelector("#quote-table").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this[button.dataset.action](button.dataset.quote);
    });
    this.toggleDeposit();
  }

  toggleDeposit() {
    const type = this.form.querySelector("#review-type").value;
    this.form.querySelector("#review-deposit-field").hidden = type !== "special";
    this.form.querySelector("#review-joint-field").hidden = type !== "non_regular";
  }

  /** Offer the dataset's products and customers as suggestions (any value may still be typed). */
  async fillChoices() {
    // suggestions only: without a dataset the form still works (and the answer says what is wrong)
    const dataset = await this.app.dataset().catch(() => ({}));
    const options = (rows, key) => rows.map((r) => `<option value="${esc(r[key])}">${esc(r.name || "")}</option>`).join("");
    this.root.querySelector("#review-products").innerHTML = options(dataset.products || [], "product_id");
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
    if (!this.app.publishedId()) {
      result.hidden = false;
      result.innerHTML = `<p class="notice">${esc(t("review.no_plan"))}</p>`;
      return;
    }
    const request = this.readForm();
    result.hidden = false;
    result.innerHTML = `<p>${esc(t("loading"))}</p>`;
    result.dataset.state = "loading";
    try {
      this.answer = await api("POST", "/v1/feasibility", { body: request });
      this.request = request;
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
    let html = this.verdictHtml(a);
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
    const holdable = p && this.app.canQuote() && !(a.blocked_by || []).includes("joint_review");
    this.root.querySelector("#review-hold-box").hidden = !holdable;
    this.root.querySelector("#review-hold-note").textContent = p ? t("review.hold_note", { date: a.promised_delivery, line: p.line_id }) : "";
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

  async hold() {
    if (!this.request) return;
    const hours = Number(this.root.querySelector("#review-hold-hours").value || 24);
    try {
      const quote = await api("POST", "/v1/quotes", { body: { ...this.request, hold_hours: hours } });
      const text = t("review.held", { id: quote.quote_id, date: quote.promised_delivery, expires: when(quote.expires_at) });
      const held = this.root.querySelector("#review-held");
      held.textContent = text;
      held.dataset.quote = quote.quote_id;
      this.root.querySelector("#review-hold-box").hidden = true;
      await this.refreshQuotes();
    } catch (error) {
      this.app.error(error);
    }
  }

  async refreshQuotes() {
    const quotes = await api("GET", "/v1/quotes");
    const canQuote = this.app.canQuote();
    const body = quotes
      .map((q) => {
        const actions = canQuote
          ? `<button type="button" class="small primary" data-action="confirm" data-quote="${esc(q.quote_id)}">${esc(t("review.confirm"))}</button>
             <button type="button" class="small" data-action="release" data-quote="${esc(q.quote_id)}">${esc(t("review.release"))}</button>`
          : "";
        return `<tr data-quote="${esc(q.quote_id)}"><td><code>${esc(q.quote_id)}</code></td><td>${esc(q.request.product_id)}</td><td class="num">${esc(q.request.quantity)}</td><td>${esc(q.request.customer_id || "")}</td><td>${esc(q.promised_delivery || "")}</td><td>${esc(when(q.expires_at))}</td><td class="actions">${actions}</td></tr>`;
      })
      .join("");
    this.root.querySelector("#quote-table tbody").innerHTML = body || `<tr><td colspan="7" class="muted">${esc(t("review.no_quotes"))}</td></tr>`;
  }

  async confirm(quoteId) {
    try {
      const confirmed = await api("POST", `/v1/quotes/${encodeURIComponent(quoteId)}/confirm`);
      this.app.message(t("review.confirmed", { id: confirmed.order_id }));
      await this.refreshQuotes();
    } catch (error) {
      this.app.error(error);
    }
  }

  async release(quoteId) {
    try {
      await api("DELETE", `/v1/quotes/${encodeURIComponent(quoteId)}`);
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
