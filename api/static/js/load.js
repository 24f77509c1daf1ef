// Line load: a heat strip of minutes used against minutes available, per line and day
// (or per line and ISO week), so that overloaded stretches stand out at a glance.
//
// A plain CSS grid of cells is enough here (20 lines × 90 days is 1,800 cells) and,
// unlike a canvas, gives each cell a native tooltip and keeps the numbers selectable.

import { t } from "./i18n.js";
import { addDays, day, esc, iso, isoWeek, pct } from "./util.js";

export const OVERLOAD = 0.95; // a week at or above this share of its minutes is framed as overloaded

/**
 * Colour for a used/available ratio: one hue from pale (idle) to dark (full). Red is kept
 * for the overloaded weeks' frames, so that they stand out even on a plant that runs full.
 */
function heat(ratio) {
  const r = Math.max(0, Math.min(1, ratio));
  return `hsl(215, 70%, ${(96 - 58 * r).toFixed(0)}%)`;
}

export function renderLoad(container, schedule, mode) {
  const loads = new Map();
  const lines = new Set();
  for (const row of schedule.line_loads) {
    loads.set(`${row.line_id}|${row.date}`, row);
    lines.add(row.line_id);
  }
  const lineIds = [...lines].sort();
  const dates = schedule.line_loads.map((row) => row.date).sort();
  if (!dates.length) {
    container.innerHTML = "";
    return;
  }
  const days = [];
  for (let d = day(schedule.plan_start < dates[0] ? schedule.plan_start : dates[0]); iso(d) <= dates.at(-1); d = addDays(d, 1)) days.push(iso(d));

  // columns: days, or ISO weeks summing their days
  const columns = mode === "weekly" ? weekColumns(days) : days.map((d) => ({ key: d, label: d.slice(5), days: [d], week: isoWeek(day(d)) }));
  const weekTotals = new Map(); // plant-wide load per week, to flag overloaded weeks
  for (const d of days) {
    const key = isoWeek(day(d)).join("-");
    const total = weekTotals.get(key) || { used: 0, available: 0 };
    for (const line of lineIds) {
      const row = loads.get(`${line}|${d}`);
      if (row) {
        total.used += row.minutes_used;
        total.available += row.minutes_available;
      }
    }
    weekTotals.set(key, total);
  }

  const cellsFor = (line, column) => {
    let used = 0;
    let available = 0;
    for (const d of column.days) {
      const row = loads.get(`${line}|${d}`);
      if (row) {
        used += row.minutes_used;
        available += row.minutes_available;
      }
    }
    return { used, available };
  };
  const lineWeek = new Map(); // per line and week, for the overloaded frame in the daily view
  for (const line of lineIds) {
    for (const column of weekColumns(days)) lineWeek.set(`${line}|${column.key}`, cellsFor(line, column));
  }
  const firstOfWeek = new Map();
  const lastOfWeek = new Map();
  for (const column of weekColumns(days)) {
    firstOfWeek.set(column.key, column.days[0]);
    lastOfWeek.set(column.key, column.days.at(-1));
  }
  const overloaded = ({ used, available }) => available > 0 && used / available >= OVERLOAD;

  let html = `<div class="heat ${mode}" style="grid-template-columns: 6em repeat(${columns.length}, minmax(${mode === "weekly" ? "4em" : "1.6em"}, 1fr))">`;
  // header: week labels (daily view) or week numbers, with the plant's load of the week
  html += `<div class="heat-corner"></div>`;
  for (const column of columns) {
    const weekKey = column.week.join("-");
    const total = weekTotals.get(weekKey);
    const startsWeek = mode === "weekly" || day(column.key).getDay() === 1 || column.key === days[0];
    const title = `${t("load.week", { week: column.week[1] })} · ${t("load.plant")} ${total.available ? pct(total.used / total.available) : 0}%`;
    html += `<div class="heat-head${startsWeek ? " week-start" : ""}${overloaded(total) ? " overloaded" : ""}" title="${esc(title)}">${esc(column.label)}</div>`;
  }
  for (const line of lineIds) {
    html += `<div class="heat-line">${esc(line)}</div>`;
    for (const column of columns) {
      const { used, available } = cellsFor(line, column);
      const weekKey = mode === "weekly" ? column.key : column.week.join("-");
      const hot = overloaded(lineWeek.get(`${line}|${weekKey}`) || { used: 0, available: 0 });
      const startsWeek = mode === "weekly" || day(column.key).getDay() === 1;
      const where = column.label;
      let cls = "heat-cell";
      let style = "";
      let title;
      if (available <= 0) {
        cls += " off";
        title = t("load.cell_off", { line, date: where });
      } else {
        style = `background-color:${heat(used / available)}`;
        title = t("load.cell", { line, date: where, used, available, pct: pct(used / available) });
      }
      if (hot) {
        // frame the line's whole week: top and bottom on every cell, sides on its first and last day
        cls += " overloaded";
        if (mode === "weekly" || column.days[0] === firstOfWeek.get(weekKey)) cls += " ov-first";
        if (mode === "weekly" || column.days[0] === lastOfWeek.get(weekKey)) cls += " ov-last";
      }
      if (startsWeek) cls += " week-start";
      if (available > 0 && used / available > 0.6) cls += " dark";
      const text = mode === "weekly" && available > 0 ? `${Math.round((100 * used) / available)}%` : "";
      html += `<div class="${cls}" style="${style}" title="${esc(title)}" data-line="${esc(line)}" data-date="${esc(column.days[0])}">${text}</div>`;
    }
  }
  html += "</div>";
  container.innerHTML = html;
}

function weekColumns(days) {
  const columns = [];
  for (const d of days) {
    const week = isoWeek(day(d));
    const key = week.join("-");
    if (columns.at(-1)?.key !== key) columns.push({ key, label: `W${week[1]}`, days: [], week });
    columns.at(-1).days.push(d);
  }
  for (const column of columns) column.label = `W${column.week[1]} ${column.days[0].slice(5)}`;
  return columns;
}
