// The Gantt chart: one row per line, one bar per order's run (vis-timeline).
//
// Each bar starts on the order's first production day. Its solid part covers the
// production days; with "show inspection/dispatch days" on it runs on to the
// dispatch day, with the inspection and dispatch days marked in it, so an order is
// always exactly one bar (one item for vis to stack, one thing for the eye to follow).
// Non-working days of each line (minutes_available 0, or a day the schedule has no
// load row for) are shaded as background items of that line's row.

import { language, t } from "./i18n.js";
import { addDays, day, esc, iso, reasonsText } from "./util.js";

const DAY_MS = 86400000;
const OPENING_DAYS = 35;

export class Gantt {
  constructor(container, { onSelect } = {}) {
    this.container = container;
    this.onSelect = onSelect || (() => {});
    this.timeline = null;
    this.schedule = null;
    this.tails = true;
    this.byId = new Map();
  }

  /** Draw `schedule`; resolves once vis has put the bars on the page. */
  async show(schedule, keepWindow = false) {
    this.schedule = schedule;
    this.byId = new Map(schedule.orders.map((o) => [o.order_id, o]));
    const { groups, items, first, last } = this._data(schedule);
    this.window = { first, last };
    const options = {
      stack: true,
      orientation: { axis: "top", item: "top" },
      margin: { item: { horizontal: 0, vertical: 2 }, axis: 2 },
      selectable: true,
      editable: false,
      showCurrentTime: false,
      zoomMin: 2 * DAY_MS,
      zoomMax: Math.max(14, (last - first) / DAY_MS + 28) * DAY_MS,
      min: addDays(first, -7),
      max: addDays(last, 14),
      maxHeight: "70vh",
      verticalScroll: true,
      groupOrder: "order",
      tooltip: { followMouse: true, overflowMethod: "flip", delay: 150 },
      align: "left", // the bar's inside is laid out against the whole item, never shifted into view
      format: axisFormat(),
      // the bar's inside is built as DOM (not an HTML string) so that vis's XSS filter
      // leaves its positioned segments alone; built lazily, only for bars on screen
      template: (item) => (item.type === "background" ? "" : this._bar(item)),
    };
    if (!this.timeline) await this._create(options);
    // vis draws on the next animation frame; "changed" fires once the DOM is updated
    const drawn = new Promise((resolve) => this.timeline.once("changed", resolve));
    this.timeline.setOptions(options);
    this.timeline.setGroups(groups);
    this.timeline.setItems(items);
    // open on the next five weeks: what a planner acts on, readable bar labels, and a fraction
    // of the bars for vis to lay out (the whole horizon is one click away)
    const opening = { start: addDays(first, -1), end: new Date(Math.min(last, addDays(first, OPENING_DAYS))) };
    const shown = keepWindow ? this.timeline.getWindow() : opening;
    this.timeline.setWindow(shown.start, shown.end, { animation: false });
    await drawn;
    this.container.dataset.orders = String(schedule.orders.length);
  }

  /**
   * An empty chart first: a new vis timeline hides itself, draws, fits its window and shows
   * itself only on a later draw (after a 200 ms range debounce when given a window). Done
   * without items that costs next to nothing; the bars then arrive in one ordinary draw.
   */
  _create(options) {
    return new Promise((resolve) => {
      this.timeline = new vis.Timeline(this.container, [], { ...options, onInitialDrawComplete: resolve });
      this.timeline.on("select", ({ items: ids }) => this.onSelect(ids.length ? this.byId.get(ids[0]) : null));
    });
  }

  _data(schedule) {
    const lineIds = new Set(schedule.line_loads.map((row) => row.line_id));
    for (const o of schedule.orders) lineIds.add(o.line_id);
    const utilisation = schedule.kpis?.utilisation || {};
    const groups = [...lineIds].sort().map((id, order) => {
      // as DOM, like the bars: vis's XSS filter would strip the span's class from an HTML string
      const content = document.createElement("span");
      content.textContent = id;
      if (utilisation[id] !== undefined) {
        const load = document.createElement("span");
        load.className = "group-load";
        load.textContent = ` · ${Math.round(utilisation[id] * 100)}%`;
        content.append(load);
      }
      return { id, order, content };
    });
    const dates = schedule.line_loads.map((row) => row.date).sort();
    const runEnds = schedule.orders.map((o) => (this.tails ? o.dispatch_date : o.production_end)).sort();
    const first = day(schedule.plan_start);
    const lastDate = [dates.at(-1), runEnds.at(-1)].filter(Boolean).sort().at(-1) || schedule.plan_start;
    const last = addDays(day(lastDate), 1);
    const items = schedule.orders.map((o) => this._item(o));
    items.push(...offDays(schedule, [...lineIds], first, last));
    return { groups, items, first, last };
  }

  _item(o) {
    const start = day(o.production_start);
    const end = addDays(day(this.tails ? o.dispatch_date : o.production_end), 1);
    const state = o.status === "in_production" ? "pinned" : o.days_late > 0 ? "late" : "ontime";
    return {
      id: o.order_id,
      group: o.line_id,
      start,
      end,
      className: `run ${state}${o.days_late > 0 ? " is-late" : ""}`,
      title: tooltip(o),
      // what the bar template needs, as plain numbers (vis clones item data on every draw)
      productionEnd: addDays(day(o.production_end), 1).getTime(),
      inspection: o.inspection_date ? day(o.inspection_date).getTime() : null,
      dispatch: o.dispatch_date ? day(o.dispatch_date).getTime() : null,
    };
  }

  _bar(item) {
    const start = item.start.valueOf();
    const span = item.end.valueOf() - start;
    const at = (ms) => `${(100 * (ms - start)) / span}%`;
    const part = (cls, from, to) => {
      const el = document.createElement("span");
      el.className = cls;
      el.style.left = at(from);
      el.style.width = `${(100 * (to - from)) / span}%`;
      return el;
    };
    const bar = document.createElement("span");
    bar.className = "bar";
    const production = part("seg production", start, item.productionEnd);
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = item.id;
    production.append(label);
    bar.append(production);
    if (this.tails) {
      if (item.inspection !== null) bar.append(part("seg inspection", item.inspection, item.inspection + DAY_MS));
      if (item.dispatch !== null) bar.append(part("seg dispatch", item.dispatch, item.dispatch + DAY_MS));
    }
    return bar;
  }

  setTails(on) {
    this.tails = on;
    if (this.schedule) return this.show(this.schedule, true);
  }

  fit() {
    this.timeline?.setWindow(this.window.first, this.window.last, { animation: false });
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

  select(orderId) {
    if (!this.timeline || !this.byId.has(orderId)) return;
    this.timeline.setSelection([orderId], { focus: true, animation: false });
    this.onSelect(this.byId.get(orderId));
  }

  relabel() {
    // titles and the axis are in the current language: rebuild them
    if (!this.timeline || !this.schedule) return;
    return this.show(this.schedule, true);
  }
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

/** The hover text: customer, product, quantity, due date, days late, and why when late. */
export function tooltip(o) {
  const row = (key, value) => `${esc(t(key))}: ${esc(value)}<br>`;
  let html = `<b>${esc(o.order_id)}</b><br>`;
  html += row("order.customer", o.customer_id ?? "—");
  html += row("order.product", o.product_id ?? "—");
  html += row("order.quantity", o.quantity ?? "—");
  html += row("order.due", o.due_date);
  html += row("order.days_late", o.days_late);
  html += row("order.line", o.line_id);
  html += row("order.production", `${o.production_start} – ${o.production_end}`);
  html += row("order.inspection", o.inspection_date);
  html += row("order.dispatch", o.dispatch_date);
  html += row("order.delivery", o.delivery_date);
  if (o.status === "in_production") html += row("order.status", t("gantt.legend.pinned"));
  if (o.binding?.length) html += row("order.reasons", reasonsText(o.binding));
  return html;
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
      return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
    },
    majorLabels(value, scale) {
      const date = asDate(value);
      if (scale === "month" || scale === "year") return String(date.getFullYear());
      if (scale === "weekday" || scale === "day") return monthYear.format(date);
      return iso(date);
    },
  };
}
