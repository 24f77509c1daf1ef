// The Gantt chart: one row per line, its runs one after another at hour resolution (vis-timeline).
//
// A line runs one order at a time, so a row never stacks: each run is drawn from its first
// day at day_start + start_minute to its last day at day_start + end_minute (the days between
// are spanned, nights and weekends included: exact enough to read, and runs of one line can
// never overlap). Labels drop the prefix every order id shares ("SO-"), vis keeps the label of
// a bar that began before the window at the window's left edge (align "auto"), and the hover
// card is our own fixed-position box so it can be kept inside the viewport. The selected
// order's inspection and dispatch days are drawn as a thin tail under its row's bars.
// Non-working days of each line are shaded as background items of that line's row.
// A run behind a changeover (changeover_minutes > 0) carries it as a hatched leading segment of
// its own bar: a background layer sized to the changeover's share of the bar (no extra item or
// element, so 2,000 runs cost what they did), named in the hover card ("换型 60 分钟（A→B）").

import { language, t } from "./i18n.js";
import { NO_NAMES, nameHtml, nameOf, namedReason } from "./names.js";
import { addDays, day, esc, iso, reasonText } from "./util.js";

const DAY_MS = 86400000;
const OPENING_DAYS = 14; // two weeks: hour-long runs stay wide enough to read their labels
const NO_FILTER = { line: "", customer: "", lateOnly: false };
const TAIL_IDS = ["tail:link", "tail:inspection", "tail:dispatch"];

export class Gantt {
  /**
   * `onSelect(order)` when a bar is picked; `onPin(orderId, lineId, date)` → Promise of whether a
   * bar dragged to another line or day became a manual pin (given only where the role may plan);
   * `onPickDay(lineId, date)` when a line's row is double-clicked on a day (a line-down edit).
   */
  constructor(container, { onSelect, onPin, onPickDay } = {}) {
    this.container = container;
    this.onSelect = onSelect || (() => {});
    this.onPin = onPin || null;
    this.onPickDay = onPickDay || null;
    this.timeline = null;
    this.schedule = null;
    this.names = NO_NAMES;
    this.tails = true;
    this.byId = new Map();
    this.filter = { ...NO_FILTER };
    this.matches = new Set();
    this.selected = null;
    this.tip = hoverCard();
  }

  /** Draw `schedule` with `names` (see names.js); resolves once vis has put the bars on the page. */
  async show(schedule, names = this.names, keepWindow = false) {
    this.schedule = schedule;
    this.names = names;
    this.byId = new Map(schedule.orders.map((o) => [o.order_id, o]));
    this.changeovers = changeoverFamilies(schedule, names);
    this.prefix = sharedPrefix(schedule.orders.map((o) => o.order_id));
    this.lineIds = lineIdsOf(schedule);
    this.range = horizon(schedule);
    const { first, last } = this.range;
    const options = {
      stack: false, // a line runs one order at a time: one row, runs side by side
      orientation: { axis: "top", item: "top" },
      margin: { item: { horizontal: 0, vertical: 3 }, axis: 2 },
      selectable: true,
      // a planner drags a bar to another line or day to pin it there; nothing else is editable
      editable: this.onPin ? { updateTime: true, updateGroup: true, add: false, remove: false } : false,
      onMove: (item, callback) => this._moved(item, callback),
      snap: (date) => startOfDay(date), // a pin names a day, not a minute
      showCurrentTime: false,
      zoomMin: 2 * 3600 * 1000,
      zoomMax: Math.max(14, (last - first) / DAY_MS + 28) * DAY_MS,
      min: addDays(first, -7),
      max: addDays(last, 14),
      maxHeight: "70vh",
      verticalScroll: true,
      groupOrder: "order",
      align: "auto", // vis shifts a bar's label into view when the bar began before the window
      format: axisFormat(),
      // the label is built as DOM (not an HTML string), only for bars on screen
      template: (item) => (item.type === "background" ? "" : barLabel(item)),
    };
    if (!this.timeline) await this._create(options);
    const drawn = new Promise((resolve) => this.timeline.once("changed", resolve));
    this.timeline.setOptions(options);
    this._setData();
    // open on the next two weeks: what a planner acts on, readable labels, and a fraction of
    // the bars for vis to lay out (the whole horizon is one click away)
    const opening = { start: addDays(first, -1), end: new Date(Math.min(last, addDays(first, OPENING_DAYS))) };
    const shown = keepWindow ? this.timeline.getWindow() : opening;
    this.timeline.setWindow(shown.start, shown.end, { animation: false });
    await drawn;
    this.container.dataset.orders = String(schedule.orders.length);
  }

  /**
   * An empty chart first: a new vis timeline hides itself, draws, fits its window and shows
   * itself only on a later draw. Done without items that costs next to nothing; the bars then
   * arrive in one ordinary draw.
   */
  _create(options) {
    return new Promise((resolve) => {
      this.timeline = new vis.Timeline(this.container, [], { ...options, onInitialDrawComplete: resolve });
      this.timeline.on("select", ({ items: ids }) => this._selected(ids.find((id) => this.byId.has(id)) ?? null));
      this.timeline.on("itemover", ({ item, event }) => this._hover(item, event));
      this.timeline.on("itemout", () => (this.tip.hidden = true));
      this.timeline.on("doubleClick", ({ group, time, item }) => {
        if (this.onPickDay && group && time && !this.byId.has(item)) this.onPickDay(group, iso(new Date(time)));
      });
      this.container.addEventListener("mousemove", (event) => this.tip.hidden || placeCard(this.tip, event));
      this.container.addEventListener("mouseleave", () => (this.tip.hidden = true));
    });
  }

  /** Groups and items for the current filter, in a DataSet so that a tail or a highlight updates a few items only. */
  _setData() {
    const lineIds = this.filter.line ? this.lineIds.filter((id) => id === this.filter.line) : this.lineIds;
    const items = this.schedule.orders.filter((o) => this._visible(o)).map((o) => this._item(o));
    items.push(...offDays(this.schedule, lineIds, this.range.first, this.range.last));
    this.items = new vis.DataSet(items);
    this.timeline.setGroups(this._groups(lineIds));
    this.timeline.setItems(this.items);
    this._placeTail();
    if (this.selected && this.items.get(this.selected)) this.timeline.setSelection([this.selected]);
  }

  /** The selected order's tail (when shown), replacing the previous one. */
  _placeTail() {
    this.items.remove(TAIL_IDS);
    const chosen = this.byId.get(this.selected);
    if (this.tails && chosen && this._visible(chosen)) this.items.add(this._tail(chosen));
  }

  _groups(lineIds) {
    const utilisation = this.schedule.kpis?.utilisation || {};
    return lineIds.map((id, order) => {
      // as DOM: vis's XSS filter would strip the spans' classes from an HTML string
      const content = document.createElement("span");
      content.className = "line-name";
      content.title = id;
      content.textContent = nameOf(this.names.lines, id);
      const code = document.createElement("small");
      code.className = "code";
      code.textContent = ` ${id}`;
      content.append(code);
      if (utilisation[id] !== undefined) {
        const load = document.createElement("span");
        load.className = "group-load";
        load.textContent = ` · ${Math.round(utilisation[id] * 100)}%`;
        content.append(load);
      }
      return { id, order, content };
    });
  }

  _item(o) {
    const { start, end } = runSpan(o, this.names.dayStart);
    const state = o.status === "in_production" ? "pinned" : o.days_late > 0 ? "late" : "ontime";
    const manual = this.names.pins?.has(o.order_id) ? "manual-pin" : "";
    const share = changeoverShare(o, this.names.dayStart, start, end);
    const classes = ["run", state, manual, o.days_late > 0 ? "is-late" : "", this.matches.has(o.order_id) ? "match" : "", share ? "co" : ""];
    return {
      id: o.order_id,
      group: o.line_id,
      start,
      end,
      // the changeover's share of the bar, for the hatched leading segment (app.css .run.co)
      ...(share ? { style: `--co: ${(share * 100).toFixed(2)}%` } : {}),
      editable: Boolean(this.onPin) && o.status !== "in_production", // a running order stays where it runs
      className: classes.filter(Boolean).join(" "),
      // what the label template needs, as plain strings (vis clones item data on every draw)
      label: this.short(o.order_id),
      customer: o.customer_id ? nameOf(this.names.customers, o.customer_id) : "",
    };
  }

  /** A bar dropped on a line and day: pin the order there, or put the bar back. */
  async _moved(item, callback) {
    const order = this.byId.get(item.id);
    const first = iso(new Date(item.start));
    if (!order || (item.group === order.line_id && first === order.production_start)) return callback(null);
    const pinned = await this.onPin(item.id, item.group, first).catch(() => false);
    callback(pinned ? item : null);
  }

  /** The selected order after its run: inspection day and dispatch day, thin, under the row's bars. */
  _tail(o) {
    const { end } = runSpan(o, this.names.dayStart);
    const tail = (kind, date) => ({
      id: `tail:${kind}`,
      group: o.line_id,
      start: day(date),
      end: addDays(day(date), 1),
      className: `tail ${kind}`,
      selectable: false,
    });
    const parts = [];
    if (o.inspection_date) parts.push(tail("inspection", o.inspection_date));
    if (o.dispatch_date) parts.push(tail("dispatch", o.dispatch_date));
    if (parts.length) parts.unshift({ ...tail("link", iso(end)), start: end, end: parts.at(-1).end, className: "tail link" });
    return parts;
  }

  /** The order id without the prefix all ids share: "SO-2611-0004" → "2611-0004". */
  short(orderId) {
    return orderId.startsWith(this.prefix) ? orderId.slice(this.prefix.length) : orderId;
  }

  _selected(orderId) {
    const changed = orderId !== this.selected;
    this.selected = orderId;
    if (changed && this.items) this._placeTail();
    this.onSelect(orderId ? this.byId.get(orderId) : null);
  }

  _hover(itemId, event) {
    const order = this.byId.get(itemId);
    if (!order) return;
    this.tip.innerHTML = tooltip(order, this.names, this.changeovers?.get(itemId));
    this.tip.hidden = false;
    placeCard(this.tip, event);
  }

  _redrawKeepingWindow() {
    if (!this.timeline || !this.schedule) return;
    const shown = this.timeline.getWindow();
    this._setData();
    this.timeline.setWindow(shown.start, shown.end, { animation: false });
  }

  setTails(on) {
    this.tails = on;
    if (this.items) this._placeTail();
  }

  /** Show only the runs of one line, one customer, late ones ({line, customer, lateOnly}). */
  setFilter(filter) {
    this.filter = { ...NO_FILTER, ...filter };
    this.tip.hidden = true;
    this._redrawKeepingWindow();
  }

  /** Orders whose id, customer (code or name) or product (code or name) contain `query`, earliest first. */
  find(query) {
    const needle = query.trim().toLowerCase();
    if (!needle || !this.schedule) return [];
    const { customers, products } = this.names;
    const fields = (o) => [o.order_id, o.customer_id, customers.get(o.customer_id), o.product_id, products.get(o.product_id)];
    const hits = this.schedule.orders.filter((o) => fields(o).some((field) => field && field.toLowerCase().includes(needle)));
    return hits.sort((a, b) => runSpan(a, 0).start - runSpan(b, 0).start);
  }

  /** Mark `orderIds` as search hits (outlined): only the bars whose mark changes are updated. */
  highlight(orderIds) {
    const next = new Set(orderIds);
    const changed = [...next, ...this.matches].filter((id) => next.has(id) !== this.matches.has(id));
    this.matches = next;
    if (!this.items) return;
    const updates = changed.filter((id) => this.items.get(id)).map((id) => ({ id, className: this._item(this.byId.get(id)).className }));
    this.items.update(updates);
  }

  fit() {
    this.timeline?.setWindow(this.range.first, this.range.last, { animation: false });
  }

  zoom(factor) {
    if (!this.timeline) return;
    if (factor < 1) this.timeline.zoomIn(1 - factor, { animation: false });
    else this.timeline.zoomOut(factor - 1, { animation: false });
  }

  /** Show `days` calendar days from the current window's start (or from `from`). */
  span(days, from = null) {
    if (!this.timeline) return;
    const start = from || this.timeline.getWindow().start;
    this.timeline.setWindow(start, addDays(start, days), { animation: false });
  }

  /** Select an order, bring its bar into view (row scrolled to, zoom kept) and tell the page. */
  select(orderId) {
    if (!this.timeline || !this.byId.has(orderId)) return;
    const order = this.byId.get(orderId);
    if (!this._visible(order)) this.setFilter(NO_FILTER); // a hit hidden by a filter: show everything
    this.selected = orderId;
    this._placeTail();
    this.timeline.setSelection([orderId]);
    this.timeline.focus(orderId, { zoom: false, animation: false });
    this.onSelect(order);
  }

  _visible(o) {
    const { line, customer, lateOnly } = this.filter;
    return (!line || o.line_id === line) && (!customer || o.customer_id === customer) && (!lateOnly || o.days_late > 0);
  }

  relabel() {
    // the axis and the hover card are in the current language: rebuild them
    if (!this.timeline || !this.schedule) return;
    return this.show(this.schedule, this.names, true);
  }
}

/** Every line with a load row or a run, in code order. */
function lineIdsOf(schedule) {
  const lineIds = new Set(schedule.line_loads.map((row) => row.line_id));
  for (const o of schedule.orders) lineIds.add(o.line_id);
  return [...lineIds].sort();
}

/** The calendar days the chart covers: the plan's start to the last load row or dispatch day. */
function horizon(schedule) {
  let lastDate = schedule.plan_start;
  for (const row of schedule.line_loads) if (row.date > lastDate) lastDate = row.date;
  for (const o of schedule.orders) if (o.dispatch_date > lastDate) lastDate = o.dispatch_date;
  return { first: day(schedule.plan_start), last: addDays(day(lastDate), 1) };
}

/** `minutes` after midnight of the ISO `date`, local time. */
function at(date, minutes) {
  const midnight = day(date);
  return new Date(midnight.getFullYear(), midnight.getMonth(), midnight.getDate(), 0, minutes);
}

/** When a run starts and ends on the chart: its first day at dayStart + start_minute, its last at dayStart + end_minute. */
export function runSpan(o, dayStart) {
  if (Number.isInteger(o.start_minute) && Number.isInteger(o.end_minute)) {
    return { start: at(o.production_start, dayStart + o.start_minute), end: at(o.production_end, dayStart + o.end_minute) };
  }
  // a schedule document from before run times: whole days
  return { start: day(o.production_start), end: addDays(day(o.production_end), 1) };
}

/**
 * The changeover's share of the run's bar (0 when it has none): the changeover is spent first,
 * from start_minute of the first day on, across the run's allocation days as the minutes fall.
 */
export function changeoverShare(o, dayStart, start, end) {
  if (!(o.changeover_minutes > 0) || !Number.isInteger(o.start_minute) || !(end > start)) return 0;
  let left = o.changeover_minutes;
  for (const [number, allocation] of (o.allocations || []).entries()) {
    const from = dayStart + (number === 0 ? o.start_minute : 0);
    if (left <= allocation.minutes) return Math.min(1, Math.max(0, (at(allocation.date, from + left) - start) / (end - start)));
    left -= allocation.minutes;
  }
  return 1;
}

/**
 * For each run behind a changeover, the families it changes between ({from, to}, "" when the
 * data does not say): per line in run order, the line's family is its initial family, then the
 * family of each run that has one (a product without a family leaves it as it was).
 */
export function changeoverFamilies(schedule, names = NO_NAMES) {
  const families = names.families || new Map();
  const byLine = new Map();
  for (const o of schedule.orders) {
    if (!byLine.has(o.line_id)) byLine.set(o.line_id, []);
    byLine.get(o.line_id).push(o);
  }
  const result = new Map();
  for (const [lineId, runs] of byLine) {
    if (!runs.some((o) => o.changeover_minutes > 0)) continue;
    const place = (o) => (Number.isInteger(o.sequence) && o.sequence > 0 ? o.sequence : runSpan(o, 0).start.getTime());
    runs.sort((a, b) => place(a) - place(b));
    let family = names.initialFamilies?.get(lineId) || "";
    for (const o of runs) {
      const own = families.get(o.product_id) || "";
      if (o.changeover_minutes > 0) result.set(o.order_id, { minutes: o.changeover_minutes, from: family, to: own });
      if (own) family = own;
    }
  }
  return result;
}

/** "换型 60 分钟（A→B）": a changeover in words, the families when known. */
export function changeoverText(minutes, families = {}) {
  const { from, to } = families;
  return from && to ? t("co.segment", { minutes, from, to }) : t("co.segment_plain", { minutes });
}

/** The clock time of a moment as HH:MM. */
export function clock(date) {
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

/** The longest prefix all ids share, cut back to a separator so that no label starts mid-number. */
export function sharedPrefix(ids) {
  if (ids.length < 2) return "";
  let low = ids[0];
  let high = ids[0];
  for (const id of ids) {
    if (id < low) low = id;
    if (id > high) high = id;
  }
  // the sorted first and last ids share exactly what every id shares
  let length = 0;
  while (length < low.length && low[length] === high[length]) length += 1;
  const shared = low.slice(0, length);
  const cut = Math.max(...["-", "_", "/", ".", " "].map((separator) => shared.lastIndexOf(separator)));
  return shared.slice(0, cut + 1);
}

function barLabel(item) {
  const label = document.createElement("span");
  label.className = "label";
  label.textContent = item.label;
  if (item.customer) {
    const customer = document.createElement("span");
    customer.className = "who";
    customer.textContent = ` ${item.customer}`;
    label.append(customer);
  }
  return label;
}

/** Background items for each line's non-working days, consecutive days merged. */
function offDays(schedule, lineIds, first, last) {
  const available = new Map();
  for (const row of schedule.line_loads) available.set(`${row.line_id}|${row.date}`, row.minutes_available);
  const items = [];
  for (const line of lineIds) {
    let runStart = null;
    for (let d = first; d < last; d = addDays(d, 1)) {
      const off = !(available.get(`${line}|${iso(d)}`) > 0);
      if (off && runStart === null) runStart = d;
      if (!off && runStart !== null) {
        items.push({ id: `off:${line}:${iso(runStart)}`, group: line, start: runStart, end: d, type: "background", className: "off" });
        runStart = null;
      }
    }
    if (runStart !== null) {
      items.push({ id: `off:${line}:${iso(runStart)}`, group: line, start: runStart, end: last, type: "background", className: "off" });
    }
  }
  return items;
}

/** The hover card: one element on <body>, fixed, so no panel's overflow can cut it off. */
function hoverCard() {
  const card = document.createElement("div");
  card.className = "gantt-tip";
  card.hidden = true;
  card.setAttribute("role", "tooltip");
  document.body.append(card);
  return card;
}

/** Put the card beside the pointer, flipped to the other side where the viewport ends. */
function placeCard(card, event) {
  const gap = 14;
  const { width, height } = card.getBoundingClientRect();
  let x = event.clientX + gap;
  let y = event.clientY + gap;
  if (x + width > window.innerWidth - 4) x = event.clientX - gap - width;
  if (y + height > window.innerHeight - 4) y = event.clientY - gap - height;
  card.style.left = `${Math.max(4, x)}px`;
  card.style.top = `${Math.max(4, y)}px`;
}

/** The hover text: names with codes, quantity, run times, due date, days late, and why when late. */
export function tooltip(o, names = NO_NAMES, changeover = null) {
  const row = (key, html) => `<tr><th>${esc(t(key))}</th><td>${html}</td></tr>`;
  const { start, end } = runSpan(o, names.dayStart);
  let html = `<b>${esc(o.order_id)}</b>`;
  if (o.changeover_minutes > 0) html += `<div class="co-tip">${esc(changeoverText(o.changeover_minutes, changeover || {}))}</div>`;
  html += "<table>";
  html += row("order.customer", nameHtml(names.customers, o.customer_id));
  html += row("order.product", nameHtml(names.products, o.product_id));
  html += row("order.quantity", esc(o.quantity ?? "—"));
  html += row("order.line", nameHtml(names.lines, o.line_id));
  html += row("order.production", esc(`${o.production_start} ${clock(start)} – ${o.production_end} ${clock(end)}`));
  html += row("order.inspection", esc(o.inspection_date));
  html += row("order.dispatch", esc(o.dispatch_date));
  html += row("order.delivery", esc(o.delivery_date));
  html += row("order.due", esc(o.due_date));
  html += row("order.days_late", esc(o.days_late));
  if (o.status === "in_production") html += row("order.status", esc(t("gantt.legend.pinned")));
  if (o.binding?.length) html += row("order.reasons", esc(o.binding.map((r) => reasonText(namedReason(r, names))).join("；")));
  return `${html}</table>`;
}

/** Axis labels in the page's language (vis's own come from moment, which has no Chinese here). */
function axisFormat() {
  const zh = language() === "zh";
  const weekday = new Intl.DateTimeFormat(zh ? "zh-CN" : "en-GB", { weekday: "short" });
  const month = new Intl.DateTimeFormat(zh ? "zh-CN" : "en-GB", { month: "short" });
  const monthYear = new Intl.DateTimeFormat(zh ? "zh-CN" : "en-GB", { month: "long", year: "numeric" });
  const asDate = (value) => new Date(value.valueOf());
  return {
    minorLabels(value, scale) {
      const date = asDate(value);
      if (scale === "weekday") return zh ? `${weekday.format(date)} ${date.getDate()}日` : `${weekday.format(date)} ${date.getDate()}`;
      if (scale === "day") return zh ? `${date.getDate()}日` : String(date.getDate());
      if (scale === "month") return month.format(date);
      if (scale === "year") return String(date.getFullYear());
      return clock(date);
    },
    majorLabels(value, scale) {
      const date = asDate(value);
      if (scale === "month" || scale === "year") return String(date.getFullYear());
      if (scale === "weekday" || scale === "day") return monthYear.format(date);
      const label = zh ? `${monthYear.format(date)}${date.getDate()}日 ${weekday.format(date)}` : `${weekday.format(date)} ${iso(date)}`;
      return label;
    },
  };
}

function startOfDay(date) {
  const moment = new Date(date);
  moment.setHours(0, 0, 0, 0);
  return moment;
}
