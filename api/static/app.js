// The planner page: sign-in, the role's views, and which plan's schedule they show.
//
// Plain ES modules, no build step: the browser loads js/*.js as they are. Views:
//   #gantt   Gantt per line, search, filters (js/gantt.js); the order view (js/order.js)
//   #load    line load heat strip    (js/load.js)
//   #late    late and unscheduled    (js/late.js)
//   #plans   solve, watch, compare, publish (js/plans.js)
//   #review  order review and quote holds   (js/review.js)
//   #worklist  each line's runs of a day in run order, printable (js/worklist.js)
//   #dispatch  the dispatch plan by day, printable   (js/dispatch.js)
//   #reports   dispatch on-time rate by region and week, overdue order-process stages (js/reports.js)
//   #whatif    what-ifs and exceptions: edits, run, deltas, whom to call, apply (js/whatif.js; planners)
// #gantt, #load, #late and #dispatch show one plan: the published plan's unless another
// finished plan is picked in the "plan" selector.
// A key that may use several plants gets a plant selector in the header: every call of the
// page then goes to /v1/plants/{plant_id}/... (js/api.js), and order review asks the group.

import { ApiError, api, forgetKey, setUnauthorizedHandler, storeKey, storedKey, usePlant } from "./js/api.js";
import { DispatchView } from "./js/dispatch.js";
import { WorkListView } from "./js/worklist.js";
import { Gantt } from "./js/gantt.js";
import { applyStatic, has, language, onLanguageChange, setLanguage, t } from "./js/i18n.js";
import { planKpisHtml } from "./js/kpis.js";
import { LateTable, lateRows } from "./js/late.js";
import { OVERLOAD, renderLoad } from "./js/load.js";
import { NO_NAMES, nameOf, namesFrom } from "./js/names.js";
import { OrderPanel } from "./js/order.js";
import { PlansView } from "./js/plans.js";
import { ReportsView } from "./js/reports.js";
import { ReviewView } from "./js/review.js";
import { addDays, day, esc, iso } from "./js/util.js";
import { WhatIfView } from "./js/whatif.js";

// What each role may do (API.md); the page hides what the signed-in role may not.
const ROLE_MAY = {
  planner: ["view", "review", "quote", "plan"],
  batch: ["view", "review", "quote", "plan"],
  sales: ["view", "review", "quote"],
};
const VIEWS = ["gantt", "load", "late", "plans", "review", "worklist", "dispatch", "reports", "whatif"];
const VIEW_NEEDS = { whatif: "plan" }; // views a role may not open at all: a what-if is planning
const SCHEDULE_VIEWS = ["gantt", "load", "late", "worklist", "dispatch"];

const $ = (selector) => document.querySelector(selector);
const PLANT = "paichan.plant"; // the plant chosen in this tab: sessionStorage, like the key

// Render timings, read by benchmarks/ui_render.py and handy in the console.
const timings = {};
window.paichan = { timings };

const state = {
  caller: null, // {role, name}
  plans: [],
  sourceId: null, // the plan whose schedule the schedule views show
  schedules: new Map(), // plan id → Promise of its schedule (finished plans never change)
  dataset: null, // Promise of GET /v1/dataset, fetched only when a view needs it
  view: "gantt",
  rendered: {}, // view → plan id it last drew
  pendingSelect: null, // an order to select once the Gantt is drawn
  schedule: null, // the schedule last drawn, for redrawing in another language
  selected: null, // the order shown under the Gantt
  names: null, // Promise of the dataset's names (names.js), for the Gantt and the order view
  search: { query: "", hits: [], at: -1 }, // the Gantt search and which hit is shown
  plantList: [], // GET /v1/plants: the plants the key may use, the default one first
  plant: null, // the plant the page works on (null: the default plant, before sign-in)
};

const gantt = new Gantt($("#gantt-chart"), { onSelect: showOrder, onPin: pinByDragging, onPickDay: lineDownFrom });
window.paichan.gantt = gantt; // for the console and benchmarks/ui_render.py
const orderPanel = new OrderPanel($("#gantt-details"), {
  canPlan: () => may("plan"),
  names: () => gantt.names,
  message: (text) => flash(text),
  error: (error) => flashError(error),
});
const late = new LateTable($("#late-table"), $("#late-summary"));
const app = {
  canPlan: () => may("plan"),
  canQuote: () => may("quote"),
  plants: () => state.plantList,
  plantLabel,
  publishedId,
  loadSchedule,
  dataset: loadDataset,
  message: flash,
  error: flashError,
  onPlansChanged: (plans) => {
    state.plans = plans;
    fillSources();
  },
  onView: (planId) => {
    selectSource(planId);
    location.hash = "#gantt";
  },
  onPublished: async (planId) => {
    selectSource(planId);
  },
};
const plans = new PlansView($('section[data-view="plans"]'), app);
const review = new ReviewView($('section[data-view="review"]'), app);
const dispatch = new DispatchView($('section[data-view="dispatch"]'));
const worklist = new WorkListView($('section[data-view="worklist"]'));
const reports = new ReportsView($('section[data-view="reports"]'), app);
const whatif = new WhatIfView($('section[data-view="whatif"]'), {
  ...app,
  reloadDataset: () => {
    state.dataset = null; // an applied scenario changed the live data
    return loadDataset();
  },
  onApplied: async (planId) => {
    await plans.refresh(); // the scenario's plan is the published one now
    selectSource(planId);
  },
});

// -- sign-in -----------------------------------------------------------------------

/**
 * A bar dropped on another line or day: with a reason, the order is pinned there (every later
 * solve keeps it); the bar goes back when the planner gives no reason or the service refuses.
 */
async function pinByDragging(orderId, lineId, date) {
  if (!may("plan")) return false;
  if ($("#gantt-drag").value === "whatif") {
    // a what-if pin: the bar goes back (nothing live changes); the edit waits in the what-if view
    whatif.add({ kind: "pin", order_id: orderId, line_id: lineId, start_date: date });
    flash(t("pin.added_to_whatif", { order: orderId, line: lineId, date }));
    return false;
  }
  const reason = window.prompt(t("pin.reason", { order: orderId, line: lineId, date }), t("pin.default_reason"));
  if (!reason) return false;
  try {
    await api("POST", `/v1/orders/${encodeURIComponent(orderId)}/pin`, { body: { line_id: lineId, start_date: date, reason } });
    flash(t("pin.done", { order: orderId, line: lineId, date }));
    state.dataset = state.names = null; // fetched again: the pin shows as one from then on
    return true;
  } catch (error) {
    flashError(error);
    return false;
  }
}

/** In what-if mode, a double-click on a line's row on a day: that line down from that day, for a few days. */
function lineDownFrom(lineId, date) {
  if (!may("plan") || $("#gantt-drag").value !== "whatif") return;
  const answer = window.prompt(t("pin.line_down_days", { line: lineId, date }), "1");
  const days = Math.round(Number(answer));
  if (!answer || !Number.isFinite(days) || days < 1) return;
  const last = iso(addDays(day(date), days - 1));
  whatif.add({ kind: "line_hours", line_id: lineId, from: date, to: last, hours: 0 });
  flash(t("pin.line_down_added", { line: lineId, from: date, to: last }));
}

function may(what) {
  return Boolean(state.caller && ROLE_MAY[state.caller.role]?.includes(what));
}

async function signIn(key) {
  // GET /v1/whoami answers the key's role without touching any data
  state.caller = await api("GET", "/v1/whoami", { key });
  storeKey(key);
  await loadPlants();
  setPlant(startingPlant());
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#signout").hidden = false;
  applyRole();
  await plans.refresh();
  showView(viewFromHash());
}

function signOut(message = "") {
  forgetKey();
  sessionStorage.removeItem(PLANT);
  Object.assign(state, { plantList: [], plant: null });
  usePlant(null);
  $("#plant-switch").hidden = true;
  plans.stop();
  whatif.stop();
  Object.assign(state, { caller: null, plans: [], sourceId: null, schedules: new Map(), dataset: null, names: null, rendered: {}, schedule: null, selected: null });
  $("#app").hidden = true;
  $("#signout").hidden = true;
  $("#who").hidden = true;
  $("#signin").hidden = false;
  $("#signin-key").value = "";
  const error = $("#signin-error");
  error.textContent = message;
  error.hidden = !message;
  $("#signin-key").focus();
}

function applyRole() {
  const { role, name } = state.caller;
  const who = $("#who");
  who.hidden = false;
  who.textContent = t("role.signed_in", { name, role: t(`role.${role}`) });
  who.dataset.role = role;
  for (const el of document.querySelectorAll("[data-needs]")) el.classList.toggle("denied", !may(el.dataset.needs));
  $("#may-list").innerHTML = (ROLE_MAY[role] || []).map((what) => `<li data-may="${what}">${esc(t(`may.${what}`))}</li>`).join("");
}

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("#signin-key").value.trim();
  const error = $("#signin-error");
  error.hidden = true;
  try {
    await signIn(key);
  } catch (failure) {
    error.textContent = failure.status === 401 ? t("signin.rejected") : t("signin.failed", { detail: failure.message });
    error.hidden = false;
  }
});
$("#signout").addEventListener("click", () => signOut());
setUnauthorizedHandler(() => signOut(t("signin.rejected")));

// -- which plant -------------------------------------------------------------------------

/** GET /v1/plants: the plants the key may use (the list known so far if the service cannot say now). */
async function loadPlants() {
  try {
    state.plantList = await api("GET", "/v1/plants");
  } catch (error) {
    if (error.status === 401) throw error; // the key itself is refused: sign-in says so
    // otherwise keep what was known: the page still works on the plain paths or the chosen plant
  }
  fillPlants();
  return state.plantList;
}

/** The tab's plant after a reload, else the default plant, else the key's first: plain paths answer 403 to a key not for the default plant. */
function startingPlant() {
  const ids = state.plantList.map((p) => p.plant_id);
  const stored = sessionStorage.getItem(PLANT);
  if (stored && ids.includes(stored)) return stored;
  const fallback = state.plantList.find((p) => p.default)?.plant_id ?? ids[0];
  return fallback ?? state.caller?.plants?.[0] ?? null;
}

function setPlant(plantId) {
  state.plant = plantId;
  const isDefault = state.plantList.find((p) => p.plant_id === plantId)?.default ?? plantId === "default";
  usePlant(plantId && !isDefault ? plantId : null); // the default plant keeps the plain paths
  fillPlants();
}

function plantLabel(plantId) {
  const plant = state.plantList.find((p) => p.plant_id === plantId);
  if (!plant) return plantId ?? "";
  const name = plant.name && plant.name !== plant.plant_id ? `${plant.name} · ${plant.plant_id}` : plant.plant_id;
  return plant.default ? name + t("plants.default_mark") : name;
}

/** The header's plant selector: only for a key that may use more than one plant. */
function fillPlants() {
  const select = $("#plant");
  select.innerHTML = state.plantList
    .map((p) => `<option value="${esc(p.plant_id)}"${p.default ? " data-default" : ""}>${esc(plantLabel(p.plant_id))}</option>`)
    .join("");
  if (state.plant) select.value = state.plant;
  $("#plant-switch").hidden = !(state.caller && state.plantList.length > 1);
}

/** Another plant: everything the page holds of the last one goes, and the shown view loads again. */
async function switchPlant(plantId) {
  sessionStorage.setItem(PLANT, plantId);
  setPlant(plantId);
  plans.stop();
  whatif.stop();
  whatif.reset();
  review.reset();
  dispatch.cache.clear();
  worklist.cache.clear();
  Object.assign(state, { plans: [], sourceId: null, schedules: new Map(), dataset: null, names: null, rendered: {}, schedule: null, selected: null, pendingSelect: null });
  for (const id of ["#gantt-details", "#plan-compare", "#plan-progress"]) $(id).hidden = true;
  plans.comparing = plans.pairShown = null;
  document.body.dataset.ganttReady = "";
  try {
    await plans.refresh();
  } catch (error) {
    flashError(error);
  }
  showView(state.view);
}

$("#plant").addEventListener("change", (event) => switchPlant(event.target.value));

// -- which schedule ---------------------------------------------------------------------

function publishedId() {
  return state.plans.find((plan) => plan.published)?.plan_id ?? null;
}

function loadSchedule(planId) {
  const plan = state.plans.find((p) => p.plan_id === planId);
  const finished = plan && !["queued", "running"].includes(plan.status);
  if (finished && state.schedules.has(planId)) return state.schedules.get(planId);
  const started = performance.now();
  const promise = api("GET", `/v1/plans/${encodeURIComponent(planId)}/schedule`).then((schedule) => {
    timings.scheduleFetchMs = performance.now() - started;
    return schedule;
  });
  if (finished) state.schedules.set(planId, promise);
  promise.catch(() => state.schedules.delete(planId));
  return promise;
}

/** The names of customers, lines, products and materials; codes only if the dataset cannot be read. */
function loadNames() {
  state.names ??= loadDataset().then(namesFrom, () => NO_NAMES);
  return state.names;
}

function loadDataset() {
  state.dataset ??= api("GET", "/v1/dataset").catch((error) => {
    state.dataset = null;
    throw error;
  });
  return state.dataset;
}

/** The plan selector: the published plan first, then every other plan with a schedule. */
function fillSources() {
  const select = $("#source");
  const published = publishedId();
  const choices = state.plans.filter((p) => p.summary && p.status !== "failed");
  choices.sort((a, b) => (b.published ? 1 : 0) - (a.published ? 1 : 0));
  select.innerHTML = choices
    .map((p) => {
      const label = p.published ? t("source.published", { id: p.plan_id }) : t("source.plan", { id: p.plan_id, status: t(`status.${p.status}`) });
      return `<option value="${esc(p.plan_id)}">${esc(label)}</option>`;
    })
    .join("");
  if (!state.sourceId || !choices.some((p) => p.plan_id === state.sourceId)) state.sourceId = published;
  if (state.sourceId) select.value = state.sourceId;
}

function selectSource(planId) {
  state.sourceId = planId;
  fillSources();
  state.rendered = {};
  if (SCHEDULE_VIEWS.includes(state.view)) renderView(state.view);
}

$("#source").addEventListener("change", (event) => selectSource(event.target.value));

// -- views --------------------------------------------------------------------------------

function viewFromHash() {
  const name = location.hash.replace("#", "");
  return VIEWS.includes(name) && (!VIEW_NEEDS[name] || may(VIEW_NEEDS[name])) ? name : "gantt";
}

function showView(name) {
  state.view = name;
  const scheduleView = SCHEDULE_VIEWS.includes(name);
  // a plant with no plan to show: not the last plant's chart under the notice
  const stale = scheduleView && !state.sourceId && state.plantList.length > 1;
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.dataset.view !== name || stale;
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.view === name);
  $("#source-bar").hidden = !scheduleView;
  $("#source-none").hidden = !(scheduleView && !state.sourceId);
  renderView(name);
}

window.addEventListener("hashchange", () => {
  if (state.caller) showView(viewFromHash());
});

async function renderView(name) {
  try {
    if (name === "plans") {
      plans.render(); // at once from what is known, then with plans others started meanwhile
      await plans.refresh();
      return;
    }
    if (name === "review") {
      $("#review-result").hidden = !review.answer;
      if (state.plantList.length > 1) await loadPlants(); // which plants have a plan now, and make what
      await Promise.all([review.fillChoices(), review.refreshQuotes()]);
      return;
    }
    if (name === "reports") {
      await reports.refresh(); // every visit: shipments are recorded all day long
      return;
    }
    if (name === "whatif") {
      await whatif.refresh();
      return;
    }
    const planId = state.sourceId;
    if (!planId) return;
    if (state.rendered[name] === planId) return;
    if (name === "dispatch") {
      await dispatch.show(planId); // its own rows: the schedule document has no customer names or regions
      if (state.sourceId === planId) state.rendered.dispatch = planId;
      return;
    }
    if (name === "worklist") {
      await worklist.show(planId); // its own rows: clock times, setup and names per line and day
      if (state.sourceId === planId) state.rendered.worklist = planId;
      return;
    }
    $("#source-summary").textContent = t("source.loading");
    const names = name === "gantt" ? loadNames() : null; // fetched beside the schedule, not after it
    const schedule = await loadSchedule(planId);
    if (state.sourceId !== planId || state.view !== name) return; // the user moved on meanwhile
    state.schedule = schedule;
    summarise(schedule);
    if (name === "gantt") await drawGantt(schedule, planId, await names);
    if (name === "load") drawLoad(schedule);
    if (name === "late") await drawLate(schedule, planId);
    state.rendered[name] = planId;
  } catch (error) {
    flashError(error);
  }
}

function summarise(schedule) {
  const late = schedule.orders.filter((o) => o.days_late > 0).length;
  const lines = new Set(schedule.line_loads.map((row) => row.line_id)).size;
  const text = t("gantt.summary", { orders: schedule.orders.length, late, unscheduled: schedule.unscheduled.length, lines });
  $("#gantt-summary").textContent = text;
  $("#source-summary").textContent = text;
  // changeover hours per line, busiest inspection / dispatch day against the cap: lines by name once known
  const drawKpis = (names) => {
    const html = planKpisHtml(schedule.kpis, names);
    $("#plan-kpis").innerHTML = html;
    $("#plan-kpis").hidden = !html;
  };
  drawKpis(NO_NAMES);
  if (schedule.kpis?.changeover_hours_by_line) loadNames().then((names) => state.schedule === schedule && drawKpis(names));
}

async function drawGantt(schedule, planId, names) {
  const started = performance.now();
  document.body.dataset.ganttReady = "";
  fillFilters(schedule, names);
  state.search = { query: "", hits: [], at: -1 }; // hits of another plan's schedule
  await gantt.show(schedule, names);
  timings.ganttDrawMs = performance.now() - started;
  timings.ganttReadyMs = performance.now(); // since navigation start
  document.body.dataset.ganttReady = planId;
  if (state.pendingSelect) {
    gantt.select(state.pendingSelect);
    state.pendingSelect = null;
  }
}

function drawLoad(schedule) {
  const mode = document.querySelector('input[name="load-mode"]:checked').value;
  $("#load-hint").textContent = t("load.hint", { limit: Math.round(OVERLOAD * 100) });
  renderLoad($("#load-strip"), schedule, mode);
}

async function drawLate(schedule, planId) {
  let known = new Map();
  if (schedule.unscheduled.length) {
    // unscheduled entries carry only id and reason: customer, product... come from the dataset
    const dataset = await loadDataset().catch(() => ({ orders: [] }));
    known = new Map(dataset.orders.map((o) => [o.order_id, o]));
  }
  late.show(lateRows(schedule, known), planId);
}

function showOrder(order) {
  state.selected = order;
  orderPanel.show(order);
}

// -- Gantt search and filters ----------------------------------------------------------------

/** The line and customer filters: the shown plan's lines and customers, by name. */
function fillFilters(schedule, names) {
  const option = (value, text) => `<option value="${esc(value)}">${esc(text)}</option>`;
  const fill = (select, ids, table) => {
    const kept = select.value;
    const sorted = [...ids].filter(Boolean).sort((a, b) => nameOf(table, a).localeCompare(nameOf(table, b), "zh-CN"));
    select.innerHTML = option("", t("gx.all")) + sorted.map((id) => option(id, `${nameOf(table, id)}${table.has(id) ? ` · ${id}` : ""}`)).join("");
    select.value = sorted.includes(kept) ? kept : "";
  };
  fill($("#gantt-line"), new Set(schedule.orders.map((o) => o.line_id)), names.lines);
  fill($("#gantt-customer"), new Set(schedule.orders.map((o) => o.customer_id)), names.customers);
}

function applyFilters() {
  gantt.setFilter({ line: $("#gantt-line").value, customer: $("#gantt-customer").value, lateOnly: $("#gantt-late").checked });
}

/** Enter in the search box: the first hit, then the next one on every further Enter. */
function search() {
  const query = $("#gantt-search").value.trim();
  const found = state.search;
  if (query !== found.query) Object.assign(found, { query, hits: gantt.find(query).map((o) => o.order_id), at: -1 });
  gantt.highlight(found.hits);
  const count = $("#gantt-search-count");
  if (!found.hits.length) {
    count.textContent = query ? t("gx.no_hits") : "";
    return;
  }
  found.at = (found.at + 1) % found.hits.length;
  count.textContent = t("gx.hit", { at: found.at + 1, of: found.hits.length });
  gantt.select(found.hits[found.at]);
}

$("#gantt-search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
for (const id of ["#gantt-line", "#gantt-customer", "#gantt-late"]) $(id).addEventListener("change", applyFilters);

// Gantt toolbar: zoom presets and buttons (wheel zoom and drag pan come with vis)
$("#gantt-fit").addEventListener("click", () => gantt.fit());
$("#gantt-week").addEventListener("click", () => gantt.span(7));
$("#gantt-month").addEventListener("click", () => gantt.span(31));
$("#gantt-zoom-in").addEventListener("click", () => gantt.zoom(0.5));
$("#gantt-zoom-out").addEventListener("click", () => gantt.zoom(2));
$("#gantt-tails").addEventListener("change", (event) => gantt.setTails(event.target.checked));

for (const radio of document.querySelectorAll('input[name="load-mode"]')) {
  radio.addEventListener("change", () => {
    state.rendered.load = null;
    renderView("load");
  });
}

// a line-day of the heat strip opens that week of the Gantt
$("#load-strip").addEventListener("click", (event) => {
  const cell = event.target.closest(".heat-cell");
  if (!cell) return;
  location.hash = "#gantt";
  const from = day(cell.dataset.date);
  setTimeout(() => gantt.span(7, addDays(from, -((from.getDay() + 6) % 7))), 0);
});

// an order id in the late table opens it in the Gantt
$("#late-table").addEventListener("click", (event) => {
  const link = event.target.closest("a[data-order]");
  if (!link) return;
  event.preventDefault();
  state.pendingSelect = link.dataset.order;
  if (state.rendered.gantt === state.sourceId) {
    gantt.select(state.pendingSelect);
    state.pendingSelect = null;
  }
  location.hash = "#gantt";
});
$("#late-export").addEventListener("click", () => late.exportCsv());

// -- messages ----------------------------------------------------------------------------

let flashTimer = null;

function flash(text, isError = false, extra = []) {
  const box = $("#flash");
  box.className = isError ? "error" : "success";
  box.innerHTML = esc(text) + (extra.length ? `<ul>${extra.map((line) => `<li>${esc(line)}</li>`).join("")}</ul>` : "");
  box.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => (box.hidden = true), isError ? 15000 : 6000);
}

function flashError(error, extra = []) {
  if (error instanceof ApiError && error.status === 0) flash(t("error.network", { detail: error.detail }), true);
  else if (error instanceof ApiError && error.body?.problems?.length) {
    // a 422 lists its problems: where (column or JSON path) and what, not just how many
    const where = (p) => (p.column || p.file) + (p.row !== null && p.row !== undefined ? ` [${p.row}]` : "");
    const problems = error.body.problems.map((p) => `${where(p)}: ${problemText(p)}`);
    flash(t("error.problems", { n: problems.length, status: error.status }), true, [...problems, ...extra]);
  } else if (error instanceof ApiError) flash(t("error.generic", { status: error.status, detail: errorText(error) }), true, extra);
  else {
    flash(String(error), true);
    console.warn(error); // a bug of the page: keep the stack for whoever opens the console
  }
}

/** The service's refusal in the page's language: its Chinese wording, or its code's, else its own. */
function errorText(error) {
  const body = error.body || {};
  if (language() === "zh" && body.detail_zh) return body.detail_zh;
  if (body.code && has(`error.code.${body.code}`)) return t(`error.code.${body.code}`, body);
  if (language() === "zh" && error.status >= 400) return t("error.untranslated", { status: error.status });
  return error.detail;
}

function problemText(problem) {
  if (language() === "zh" && problem.message_zh) return problem.message_zh;
  if (problem.code && has(`problem.${problem.code}`)) return t(`problem.${problem.code}`, problem.params || {});
  if (language() === "zh") return t("problem.other");
  return problem.message;
}

// -- language -----------------------------------------------------------------------------

$("#lang").value = language();
$("#lang").addEventListener("change", (event) => setLanguage(event.target.value));
onLanguageChange(() => {
  if (!state.caller) return;
  applyRole();
  fillPlants();
  fillSources();
  plans.render();
  review.renderAnswer();
  whatif.relabel();
  if (state.schedule) summarise(state.schedule);
  if (state.selected) orderPanel.render();
  if (state.schedule && state.names) state.names.then((names) => fillFilters(state.schedule, names));
  if (plans.comparing && !$("#plan-compare").hidden) plans.compare(plans.comparing);
  if (plans.pairShown && !$("#plan-compare").hidden) plans.comparePair(...plans.pairShown);
  state.rendered.load = null;
  state.rendered.late = null;
  state.rendered.dispatch = null;
  state.rendered.worklist = null;
  if (state.view === "gantt") gantt.relabel();
  if (state.view !== "gantt") state.rendered.gantt = null;
  showView(state.view);
});

// -- start ----------------------------------------------------------------------------------

applyStatic(document);
const key = storedKey();
if (key) {
  signIn(key).catch((error) => signOut(error.status === 401 ? t("signin.rejected") : t("signin.failed", { detail: error.message })));
} else {
  signOut();
}
