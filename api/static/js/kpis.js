// The shown plan's KPIs beyond the summary line (issue #15): the hours each line spends on
// changeovers (when the data has product families and changeovers) and the busiest inspection
// and dispatch day against the plant's daily cap (when the plant sets one). Both come from the
// schedule document's kpis (solver/solution.py kpis); a plan without them shows nothing here.

import { t } from "./i18n.js";
import { NO_NAMES, nameOf } from "./names.js";
import { esc } from "./util.js";

const BUSIEST = ["inspections_per_day", "dispatches_per_day"];

/** The KPI strip's HTML for `kpis` ("" when the plan has none of these KPIs). */
export function planKpisHtml(kpis, names = NO_NAMES) {
  const parts = [];
  const hours = kpis?.changeover_hours_by_line;
  if (hours && Object.keys(hours).length) {
    const lines = Object.keys(hours).sort();
    const total = Math.round(lines.reduce((sum, id) => sum + hours[id], 0) * 100) / 100;
    const each = lines
      .map((id) => `<span data-line="${esc(id)}">${esc(t("kpi.changeover_line", { line: nameOf(names.lines, id), hours: hours[id] }))}</span>`)
      .join(esc(t("list.separator")));
    parts.push(
      `<span class="kpi" data-kpi="changeover_hours_by_line"><b>${esc(t("kpi.changeover_hours"))}</b>${each}（${esc(t("kpi.changeover_total", { hours: total }))}）</span>`,
    );
  }
  for (const key of BUSIEST) {
    const busiest = kpis?.[key];
    if (!busiest || busiest.cap === undefined || busiest.cap === null) continue;
    const text = busiest.busiest_date
      ? t("kpi.busiest", { date: busiest.busiest_date, orders: busiest.busiest_orders, cap: busiest.cap })
      : t("kpi.busiest_none", { cap: busiest.cap });
    const full = busiest.busiest_date && busiest.busiest_orders >= busiest.cap ? " full" : "";
    parts.push(`<span class="kpi${full}" data-kpi="${key}"><b>${esc(t(`kpi.${key}`))}</b>${esc(text)}</span>`);
  }
  return parts.length ? `<b>${esc(t("kpi.title"))}</b>：${parts.join("")}` : "";
}
