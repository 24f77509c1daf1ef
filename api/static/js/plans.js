// Plans: start a solve (with a name and a note), watch its best objective fall (polling
// GET /v1/plans/{id}), cancel it, compare it with the published plan (KPI deltas and the
// orders that moved) or any two plans with each other (GET /v1/plans/{a}/compare/{b}), publish it.

import { ApiError, api } from "./api.js";
import { has, t } from "./i18n.js";
import { Names, changesTable, kpiDeltaTable } from "./changes.js";
import { esc, stageText, warningText, when } from "./util.js";

const POLL_MS = 1000; // the service writes progress about once a second
const RUNNING = ["queued", "running"];
const KPIS = [
  // key, higher is better?
  ["orders_planned", true],
  ["orders_late", false],
  ["orders_unscheduled", false],
  ["on_time_rate", true],
  ["weighted_days_late", false],
  ["days_late", false],
  ["holding_days", false],
];
// KPIs of plans with changeovers or inspection / dispatch caps (issue #15), from their nested
// form: shown only when one of the two plans has them; smaller is better
const CHANGEOVER_KPIS = {
  changeover_hours_total: (kpis) => {
    const hours = kpis?.changeover_hours_by_line;
    return hours ? Math.round(Object.values(hours).reduce((sum, h) => sum + h, 0) * 100) / 100 : undefined;
  },
  inspections_busiest: (kpis) => kpis?.inspections_per_day?.busiest_orders,
  dispatches_busiest: (kpis) => kpis?.dispatches_per_day?.busiest_orders,
};
const MOVED_SHOWN = 300;

export class PlansView {
  /**
   * `root` holds the view's elements; `app` gives {canPlan(), loadSchedule(planId),
   * publishedId(), onPlansChanged(plans), onView(planId), message(text, isError)}.
   */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.plans = [];
    this.watching = null; // plan id whose progress is shown
    this.samples = new Map(); // plan id → [{elapsed, value, bound}] seen while polling
    this.timer = null;
    this.lastWatched = null;
    this.comparing = null;
    root.querySelector("#plan-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    root.querySelector("#plan-table").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this[button.dataset.action](button.dataset.plan);
    });
    root.querySelector("#plan-pair").addEventListener("submit", (event) => {
      event.preventDefault();
      this.comparePair(root.querySelector("#plan-pair-a").value, root.querySelector("#plan-pair-b").value);
    });
    const cancel = root.querySelector("#plan-progress-cancel");
    cancel.addEventListener("click", () => this.cancel(cancel.dataset.plan));
  }

  async refresh() {
    this.plans = await api("GET", "/v1/plans");
    this.app.onPlansChanged(this.plans);
    this.render();
    return this.plans;
  }

  render() {
    const canPlan = this.app.canPlan();
    const published = this.app.publishedId();
    const baseline = this.root.querySelector("#plan-baseline");
    baseline.querySelector('option[value="current"]').disabled = !published;
    if (!published && baseline.value === "current") baseline.value = "";
    const rows = this.plans.map((plan) => {
      const objective = plan.progress?.best_objective;
      const objectiveText = objective ? `${objective.unscheduled_priority ?? "–"} / ${objective.weighted_days_late ?? "–"}` : "";
      const finished = !RUNNING.includes(plan.status);
      const hasSchedule = Boolean(plan.summary);
      const buttons = [];
      const button = (action, label, cls = "") => `<button type="button" class="small ${cls}" data-action="${action}" data-plan="${esc(plan.plan_id)}">${esc(t(label))}</button>`;
      if (hasSchedule) buttons.push(button("view", "plans.view"));
      buttons.push(button("watch", "plans.watch"));
      if (hasSchedule && published && !plan.published) buttons.push(button("compare", "plans.compare"));
      if (canPlan && !finished) buttons.push(button("cancel", "plans.cancel", "danger"));
      if (canPlan && finished && hasSchedule && plan.valid && !plan.published && plan.status !== "failed" && !plan.scenario_id) {
        buttons.push(button("publish", "plans.publish", "primary"));
      }
      const badges = [
        plan.published ? `<span class="tag published">${esc(t("plans.published"))}</span>` : "",
        plan.valid === false ? `<span class="tag invalid" title="${esc(plan.error || "")}">${esc(t("plans.invalid"))}</span>` : "",
      ].join(" ");
      return `<tr data-plan="${esc(plan.plan_id)}" data-status="${esc(plan.status)}">
        <td><code>${esc(plan.plan_id)}</code> ${badges}${describe(plan)}</td>
        <td><span class="status ${esc(plan.status)}">${esc(t(`status.${plan.status}`))}</span></td>
        <td>${esc(when(plan.created_at))}</td>
        <td>${esc(actorText(plan.created_by))}</td>
        <td class="num">${esc(plan.parameters?.time_limit_s ?? "")}</td>
        <td class="num">${esc(objectiveText)}</td>
        <td class="actions">${buttons.join(" ")}</td></tr>`;
    });
    this.root.querySelector("#plan-table tbody").innerHTML = rows.join("");
    this.fillPair();
    if (this.watching) this.renderProgress(this.plans.find((p) => p.plan_id === this.watching));
  }

  async start() {
    const form = this.root.querySelector("#plan-form");
    const body = { time_limit_s: Number(form.querySelector("#plan-time-limit").value) };
    const baseline = form.querySelector("#plan-baseline").value;
    if (baseline) body.baseline = baseline;
    const frozen = form.querySelector("#plan-frozen").value;
    if (frozen !== "") body.frozen_days = Number(frozen);
    for (const field of ["name", "note"]) {
      const value = form.querySelector(`#plan-${field}`).value.trim();
      if (value) body[field] = value;
    }
    try {
      const accepted = await api("POST", "/v1/plans", { body });
      this.app.message(t("plans.started", { id: accepted.plan_id }));
      await this.refresh();
      this.watch(accepted.plan_id);
    } catch (error) {
      this.app.error(error);
    }
  }

  view(planId) {
    this.app.onView(planId);
  }

  /** Follow a plan's progress until it finishes; then compare it with the published plan. */
  watch(planId) {
    this.watching = planId;
    if (!this.samples.has(planId)) this.samples.set(planId, []);
    this.root.querySelector("#plan-progress").hidden = false;
    clearTimeout(this.timer);
    const poll = async () => {
      if (this.watching !== planId) return;
      let plan;
      try {
        plan = await api("GET", `/v1/plans/${encodeURIComponent(planId)}`);
      } catch (error) {
        this.app.error(error);
        return;
      }
      if (this.watching !== planId) return;
      this.record(plan);
      this.renderProgress(plan);
      if (RUNNING.includes(plan.status)) {
        this.timer = setTimeout(poll, POLL_MS);
        return;
      }
      // finished: the list shows its new status and buttons, and the comparison follows
      await this.refresh();
      if (plan.summary && this.app.publishedId() && !plan.published) this.compare(planId);
    };
    poll();
  }

  stop() {
    this.watching = null;
    clearTimeout(this.timer);
  }

  record(plan) {
    const progress = plan.progress || {};
    const best = progress.best_objective;
    if (!best) return;
    const samples = this.samples.get(plan.plan_id);
    const sample = { elapsed: progress.elapsed || 0, value: best.weighted_days_late, unscheduled: best.unscheduled_priority, bound: progress.bound?.weighted_days_late };
    const last = samples.at(-1);
    if (!last || last.elapsed !== sample.elapsed || last.value !== sample.value) samples.push(sample);
  }

  renderProgress(plan) {
    if (!plan) return;
    const progress = plan.progress || {};
    const best = progress.best_objective;
    const parts = [
      `<span class="status ${esc(plan.status)}">${esc(t(`status.${plan.status}`))}</span>`,
      esc(t("plans.elapsed", { s: (progress.elapsed || 0).toFixed(1) })),
      esc(t("plans.solutions", { n: progress.solutions || 0 })),
    ];
    if (progress.stage) parts.push(esc(t("plans.stage", { stage: stageText(progress.stage) })));
    // the objective is lexicographic: unscheduled priority first, then weighted days late
    const levels = (objective) => Object.entries(objective).map(([key, value]) => `${t(`kpi.${key}`)} ${value}`).join(", ");
    if (best) parts.push(`${esc(t("plans.best"))}: ${esc(levels(best))}`);
    if (progress.bound) parts.push(`${esc(t("plans.bound"))}: ${esc(levels(progress.bound))}`);
    this.root.querySelector("#plan-progress-title").textContent = t("plans.progress", { id: plan.plan_id });
    const facts = this.root.querySelector("#plan-progress-facts");
    facts.innerHTML = parts.join(" · ");
    facts.dataset.status = plan.status;
    const cancel = this.root.querySelector("#plan-progress-cancel");
    cancel.hidden = !(this.app.canPlan() && RUNNING.includes(plan.status));
    cancel.dataset.plan = plan.plan_id;
    drawChart(this.root.querySelector("#plan-chart"), this.samples.get(plan.plan_id) || []);
  }

  async cancel(planId) {
    try {
      await api("POST", `/v1/plans/${encodeURIComponent(planId)}/cancel`);
      this.app.message(t("plans.cancelled", { id: planId }));
      await this.refresh();
      if (this.watching !== planId) this.watch(planId);
    } catch (error) {
      this.app.error(error);
    }
  }

  async publish(planId) {
    try {
      await api("POST", `/v1/plans/${encodeURIComponent(planId)}/publish`);
      await this.refresh();
      this.app.message(t("plans.published_ok", { id: planId }));
      this.root.querySelector("#plan-compare").hidden = true;
      await this.app.onPublished(planId);
    } catch (error) {
      // a refused publish lists the rules the plan breaks
      const violations = error instanceof ApiError && error.body?.violations;
      this.app.error(error, violations || []);
    }
  }

  /** KPI deltas against the published plan and the orders whose line or start changed. */
  async compare(planId) {
    const box = this.root.querySelector("#plan-compare");
    box.hidden = false;
    const publishedId = this.app.publishedId();
    this.comparing = planId;
    this.pairShown = null;
    if (!publishedId) {
      box.innerHTML = `<p>${esc(t("plans.compare_nopub"))}</p>`;
      return;
    }
    if (publishedId === planId) {
      box.innerHTML = `<p>${esc(t("plans.compare_same"))}</p>`;
      return;
    }
    box.innerHTML = `<p>${esc(t("loading"))}</p>`;
    try {
      const [mine, theirs] = await Promise.all([this.app.loadSchedule(planId), this.app.loadSchedule(publishedId)]);
      if (this.comparing !== planId) return;
      box.innerHTML = compareHtml(planId, publishedId, mine, theirs);
      box.dataset.plan = planId;
    } catch (error) {
      this.app.error(error);
    }
  }

  /** The two "compare any two" pickers: every plan with a schedule, newest first, choices kept. */
  fillPair() {
    const finished = this.plans.filter((p) => p.summary && p.status !== "failed");
    const label = (p) => [p.plan_id, p.name, p.published ? t("plans.published") : ""].filter(Boolean).join(" · ");
    const options = finished.map((p) => `<option value="${esc(p.plan_id)}">${esc(label(p))}</option>`).join("");
    ["a", "b"].forEach((side, index) => {
      const select = this.root.querySelector(`#plan-pair-${side}`);
      const kept = select.value;
      select.innerHTML = options;
      if (finished.some((p) => p.plan_id === kept)) select.value = kept;
      else if (finished[1 - index]) select.value = finished[1 - index].plan_id; // a: the older, b: the newer
    });
  }

  /** Plan b against plan a, as the service compares them: KPIs side by side and the orders that differ. */
  async comparePair(a, b) {
    const box = this.root.querySelector("#plan-compare");
    box.hidden = false;
    this.comparing = null;
    this.pairShown = [a, b]; // redrawn in another language
    if (!a || !b || a === b) {
      box.innerHTML = `<p>${esc(t("plans.pair_same"))}</p>`;
      return;
    }
    box.innerHTML = `<p>${esc(t("loading"))}</p>`;
    try {
      const [answer, dataset] = await Promise.all([
        api("GET", `/v1/plans/${encodeURIComponent(a)}/compare/${encodeURIComponent(b)}`),
        this.app.dataset().catch(() => ({})), // names only: codes alone still read
      ]);
      const names = new Names(dataset);
      box.innerHTML = `<h3>${esc(t("plans.pair_title", { a, b }))}</h3>${kpiDeltaTable(answer.kpi_deltas, a, b)}${changesTable(answer.changes, names, (edit) => JSON.stringify(edit))}`;
      box.dataset.pair = `${a}|${b}`;
    } catch (error) {
      this.app.error(error);
    }
  }
}

/** The plan's name, note, scenario and warnings under its id (what the planner wrote, what the engine warned). */
function describe(plan) {
  const parts = [];
  if (plan.scenario_id) {
    parts.push(`<span class="tag scenario" title="${esc(t("plans.scenario_hint"))}">${esc(t("plans.scenario_tag", { name: plan.name }))}</span>`);
    parts.push(`<div class="muted">${esc(t("plans.scenario_hint"))}</div>`);
  } else if (plan.name) parts.push(`<div class="plan-name"><b>${esc(plan.name)}</b></div>`);
  if (plan.note) parts.push(`<div class="plan-note muted">${esc(plan.note)}</div>`);
  const warnings = plan.summary?.warnings || [];
  if (warnings.length) {
    const items = warnings.map((w) => `<li>${esc(warningText(w))}</li>`).join("");
    parts.push(`<div class="plan-warnings"><span class="muted">${esc(t("plans.warnings"))}:</span><ul>${items}</ul></div>`);
  }
  return parts.join("");
}

function compareHtml(planId, publishedId, mine, theirs) {
  const number = (value, key) => (value === undefined || value === null ? "–" : key === "on_time_rate" ? `${(value * 100).toFixed(1)}%` : String(value));
  let html = `<h3>${esc(t("plans.compare_title", { id: planId, published: publishedId }))}</h3>`;
  html += `<table class="kpis"><thead><tr><th>${esc(t("plans.kpi"))}</th><th>${esc(t("plans.published"))}</th><th>${esc(t("plans.this"))}</th><th>${esc(t("plans.delta"))}</th></tr></thead><tbody>`;
  const extra = Object.keys(CHANGEOVER_KPIS).filter((key) => [theirs, mine].some((plan) => CHANGEOVER_KPIS[key](plan.kpis) !== undefined));
  const rows = [...KPIS, ...extra.map((key) => [key, false]), ["changed_orders", false]];
  const valueOf = (plan, key) => (key === "changed_orders" ? plan.objective?.changed_orders : key in CHANGEOVER_KPIS ? CHANGEOVER_KPIS[key](plan.kpis) : plan.kpis?.[key]);
  for (const [key, higherBetter] of rows) {
    const before = valueOf(theirs, key);
    const after = valueOf(mine, key);
    let delta = "";
    let cls = "";
    if (typeof before === "number" && typeof after === "number") {
      const d = after - before;
      delta = key === "on_time_rate" ? `${d >= 0 ? "+" : ""}${(d * 100).toFixed(1)} pt` : `${d > 0 ? "+" : ""}${Math.round(d * 100) / 100}`;
      cls = d === 0 ? "same" : d > 0 === higherBetter ? "better" : "worse";
    }
    html += `<tr data-kpi="${esc(key)}"><td>${esc(t(`kpi.${key}`))}</td><td class="num">${esc(number(before, key))}</td><td class="num">${esc(number(after, key))}</td><td class="num delta ${cls}">${esc(delta)}</td></tr>`;
  }
  html += "</tbody></table>";

  const before = new Map(theirs.orders.map((o) => [o.order_id, o]));
  const after = new Map(mine.orders.map((o) => [o.order_id, o]));
  const moved = [];
  for (const [id, o] of after) {
    const old = before.get(id);
    if (old && (old.line_id !== o.line_id || old.production_start !== o.production_start)) moved.push([old, o]);
  }
  moved.sort((a, b) => a[1].order_id.localeCompare(b[1].order_id));
  const added = [...after.keys()].filter((id) => !before.has(id));
  const dropped = [...before.keys()].filter((id) => !after.has(id));
  html += `<p class="moved-count" data-moved="${moved.length}">${esc(moved.length ? t("plans.moved", { n: moved.length }) : t("plans.moved_none"))}</p>`;
  if (added.length) html += `<p>${esc(t("plans.added", { list: added.join(", ") }))}</p>`;
  if (dropped.length) html += `<p>${esc(t("plans.dropped", { list: dropped.join(", ") }))}</p>`;
  if (moved.length) {
    const arrow = (a, b) => (a === b ? esc(a) : `${esc(a)} → <b>${esc(b)}</b>`);
    html += `<table class="moved"><thead><tr><th>${esc(t("late.order"))}</th><th>${esc(t("order.line"))}</th><th>${esc(t("order.production"))}</th><th>${esc(t("order.delivery"))}</th><th>${esc(t("order.days_late"))}</th></tr></thead><tbody>`;
    for (const [old, now] of moved.slice(0, MOVED_SHOWN)) {
      html += `<tr><td>${esc(now.order_id)}</td><td>${arrow(old.line_id, now.line_id)}</td><td>${arrow(old.production_start, now.production_start)}</td><td>${arrow(old.delivery_date, now.delivery_date)}</td><td class="num">${arrow(old.days_late, now.days_late)}</td></tr>`;
    }
    html += "</tbody></table>";
    if (moved.length > MOVED_SHOWN) html += `<p>${esc(t("plans.more", { n: moved.length - MOVED_SHOWN }))}</p>`;
  }
  return html;
}

/** Best weighted days late over elapsed seconds, as a step line; the bound dashed. */
function drawChart(canvas, samples) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 180;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const style = getComputedStyle(canvas);
  g.font = `12px ${style.fontFamily}`;
  g.fillStyle = "#666";
  if (!samples.length) {
    g.fillText(t("plans.no_samples"), 12, height / 2);
    return;
  }
  const pad = { left: 52, right: 12, top: 12, bottom: 24 };
  const maxT = Math.max(1, ...samples.map((s) => s.elapsed));
  const values = samples.flatMap((s) => [s.value, s.bound].filter((v) => typeof v === "number"));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const x = (s) => pad.left + ((width - pad.left - pad.right) * s) / maxT;
  const y = (v) => pad.top + (height - pad.top - pad.bottom) * (1 - (v - lo) / span);
  // axes with the extremes labelled: enough to read "how far it fell, how fast"
  g.strokeStyle = "#bbb";
  g.beginPath();
  g.moveTo(pad.left, pad.top);
  g.lineTo(pad.left, height - pad.bottom);
  g.lineTo(width - pad.right, height - pad.bottom);
  g.stroke();
  g.fillText(String(hi), 4, pad.top + 8);
  g.fillText(String(lo), 4, height - pad.bottom);
  g.fillText("0 s", pad.left, height - 6);
  g.fillText(`${maxT.toFixed(1)} s`, width - pad.right - 40, height - 6);
  const line = (key, color, dash) => {
    const points = samples.filter((s) => typeof s[key] === "number");
    if (!points.length) return;
    g.strokeStyle = color;
    g.setLineDash(dash);
    g.lineWidth = 2;
    g.beginPath();
    points.forEach((s, i) => {
      if (i === 0) g.moveTo(x(s.elapsed), y(s[key]));
      else {
        g.lineTo(x(s.elapsed), y(points[i - 1][key])); // a step: the best holds until improved
        g.lineTo(x(s.elapsed), y(s[key]));
      }
    });
    g.lineTo(x(maxT), y(points.at(-1)[key]));
    g.stroke();
    g.setLineDash([]);
  };
  line("bound", "#999", [4, 4]);
  line("value", "#1f6feb", []);
}

/** "planner:key1" as the page's language says it: the role's name, then the key's. */
export function actorText(actor) {
  const [role, ...name] = String(actor || "").split(":");
  if (!name.length || !has(`role.${role}`)) return actor || "";
  return t("role.signed_in", { role: t(`role.${role}`), name: name.join(":") });
}
