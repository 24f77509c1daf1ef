// The planners' names for the codes in a schedule (customers, lines, products, materials).
//
// The schedule document carries codes only; GET /v1/dataset has the names and the plant's
// day_start. Everything here degrades to the code when the dataset is not (yet) known.

import { esc } from "./util.js";

/** Names from a dataset document (or none): {customers, lines, products, materials, dayStart}. */
export function namesFrom(dataset) {
  const table = (rows, key) => new Map((rows || []).filter((row) => row.name).map((row) => [row[key], row.name]));
  return {
    customers: table(dataset?.customers, "customer_id"),
    lines: table(dataset?.lines, "line_id"),
    products: table(dataset?.products, "product_id"),
    materials: table(dataset?.materials, "material_id"),
    dayStart: clockMinutes(dataset?.plant?.day_start ?? "08:00"),
    // orders a planner placed by hand (line and first day): shown as such, kept by every solve
    pins: new Map((dataset?.orders || []).filter((o) => o.pinned_start).map((o) => [o.order_id, o.pinned_start])),
    // product families and each line's family before its first run: the "A→B" of a changeover
    families: new Map((dataset?.products || []).filter((row) => row.family).map((row) => [row.product_id, row.family])),
    initialFamilies: new Map((dataset?.lines || []).filter((row) => row.initial_family).map((row) => [row.line_id, row.initial_family])),
  };
}

export const NO_NAMES = namesFrom(null);

function clockMinutes(text) {
  const [hours, minutes] = String(text).split(":").map(Number);
  return Number.isFinite(hours) ? hours * 60 + (minutes || 0) : 8 * 60;
}

/** The name, else the code: for plain text (labels, search). */
export function nameOf(table, id) {
  return (id && table.get(id)) || id || "—";
}

/** The name with its code in small text, as HTML; the code alone when there is no name. */
export function nameHtml(table, id) {
  const name = id && table.get(id);
  return name ? `${esc(name)} <small class="code">${esc(id)}</small>` : esc(id ?? "—");
}

/** The name followed by its code, for text that has no room for markup (reasons, tooltips' titles). */
export function nameAndCode(table, id) {
  const name = id && table.get(id);
  return name ? `${name}（${id}）` : id;
}

/** An engine reason with its line and material codes replaced by "name（code）", for reasonText. */
export function namedReason(reason, names) {
  const named = { ...reason };
  if (reason.line_id) named.line_id = nameAndCode(names.lines, reason.line_id);
  if (reason.material_id) named.material_id = nameAndCode(names.materials, reason.material_id);
  if (Array.isArray(reason.lines)) named.lines = reason.lines.map((id) => nameAndCode(names.lines, id));
  if (Array.isArray(reason.materials)) named.materials = reason.materials.map((id) => nameAndCode(names.materials, id));
  return named;
}
