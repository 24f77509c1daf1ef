"""What-if scenarios and exceptions (异常): edits to a copy of the planning data, and what
the plan made from it changes against the published one.

An edit is what an exception looks like on the shop floor:

* ``{"kind": "line_hours", "line_id", "from", "to", "hours"}`` — a breakdown (0 hours),
  overtime, absent workers (fewer hours) on every day from ``from`` to ``to``;
* ``{"kind": "arrival", "material_id", "date", "new_date" | "qty"}`` — a late or short delivery;
* ``{"kind": "order", "order_id", "quantity"?, "due_date"?, "priority"?}`` — a changed order;
* ``{"kind": "new_order", "order": {...}}`` — a rush order (``confirmed`` unless it says otherwise);
* ``{"kind": "cancel_order", "order_id"}``;
* ``{"kind": "pin", "order_id", "line_id", "start_date"}`` — the planner's manual placement.

:func:`apply_edits` works on the dataset's JSON document and never touches its input;
:func:`compare` reads two schedules and says, per order that changed, what moved and why,
and whom sales should call.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from typing import Any

from solver.domain import Dataset, DatasetError, Problem

EDIT_KINDS = ("line_hours", "arrival", "order", "new_order", "cancel_order", "pin")
ORDER_FIELDS = ("quantity", "due_date", "priority")


# -- applying edits ------------------------------------------------------------------------------


def apply_edits(document: dict[str, Any], edits: list[dict[str, Any]], path: str = "$.edits") -> dict[str, Any]:
    """A copy of ``document`` with ``edits`` applied in order; every bad edit is a located problem."""
    edited = copy.deepcopy(document)
    problems: list[Problem] = []
    for index, edit in enumerate(edits):
        where = f"{path}[{index}]"
        kind = edit.get("kind") if isinstance(edit, dict) else None
        if kind not in EDIT_KINDS:
            problems.append(_problem(where + ".kind", f"unknown edit kind {kind!r}; one of {', '.join(EDIT_KINDS)}"))
            continue
        problems += APPLY[kind](edited, edit, where)
    if problems:
        raise DatasetError(problems)
    return edited


def _problem(column: str, message: str) -> Problem:
    return Problem("body", None, column, message)


def _rows(document: dict[str, Any], stem: str) -> list[dict[str, Any]]:
    return document.setdefault(stem, [])


def _ids(document: dict[str, Any], stem: str, key: str) -> set[str]:
    return {row[key] for row in document.get(stem, [])}


def _date(edit: dict[str, Any], key: str, where: str, problems: list[Problem]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(edit[key]))
    except (KeyError, ValueError):
        problems.append(_problem(f"{where}.{key}", f"{key} must be a date YYYY-MM-DD, got {edit.get(key)!r}"))
        return None


def _known(document: dict, stem: str, key: str, edit: dict, where: str, problems: list[Problem]) -> str | None:
    value = edit.get(key)
    if value not in _ids(document, stem, key):
        problems.append(_problem(f"{where}.{key}", f"unknown {key.removesuffix('_id')} {value!r}"))
        return None
    return value


def _line_hours(document: dict[str, Any], edit: dict[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    line_id = _known(document, "lines", "line_id", edit, where, problems)
    first, last = _date(edit, "from", where, problems), _date(edit, "to", where, problems)
    hours = edit.get("hours")
    if not isinstance(hours, int | float) or not 0 <= hours <= 24:
        problems.append(_problem(f"{where}.hours", f"hours must be a number from 0 to 24, got {hours!r}"))
    if first and last and last < first:
        problems.append(_problem(f"{where}.to", f"to ({last}) is before from ({first})"))
    if problems:
        return problems
    days = {(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}
    rows = [r for r in _rows(document, "line_calendar") if not (r["line_id"] == line_id and r["date"] in days)]
    rows += [{"line_id": line_id, "date": day, "hours": hours} for day in sorted(days)]
    document["line_calendar"] = rows
    return []


def _arrival(document: dict[str, Any], edit: dict[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    material_id = _known(document, "materials", "material_id", edit, where, problems)
    day = _date(edit, "date", where, problems)
    if problems:
        return problems
    matching = [
        r for r in _rows(document, "arrivals") if r["material_id"] == material_id and r["date"] == day.isoformat()
    ]
    if not matching:
        return [_problem(f"{where}.date", f"no arrival of {material_id} on {day}")]
    if "new_date" not in edit and "qty" not in edit:
        return [_problem(where, "an arrival edit needs new_date (late) or qty (short)")]
    new_day = _date(edit, "new_date", where, problems) if "new_date" in edit else day
    qty = edit.get("qty")
    if qty is not None and (not isinstance(qty, int | float) or qty < 0):
        problems.append(_problem(f"{where}.qty", f"qty must be a number ≥ 0, got {qty!r}"))
    if problems:
        return problems
    for row in matching:
        row["date"] = new_day.isoformat()
        if qty is not None:
            row["qty"] = qty
    return []


def _order(document: dict[str, Any], edit: dict[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    order_id = _known(document, "orders", "order_id", edit, where, problems)
    changes = {k: edit[k] for k in ORDER_FIELDS if k in edit}
    if order_id and not changes:
        problems.append(_problem(where, f"an order edit changes one of {', '.join(ORDER_FIELDS)}"))
    if problems:
        return problems
    row = next(r for r in document["orders"] if r["order_id"] == order_id)
    row.update(changes)
    return []


def _new_order(document: dict[str, Any], edit: dict[str, Any], where: str) -> list[Problem]:
    order = edit.get("order")
    if not isinstance(order, dict) or not order.get("order_id"):
        return [_problem(f"{where}.order", "a new order needs at least order_id, product_id, quantity, due_date")]
    if order["order_id"] in _ids(document, "orders", "order_id"):
        return [_problem(f"{where}.order.order_id", f"order {order['order_id']} already exists")]
    _rows(document, "orders").append({"status": "confirmed", **order})
    return []


def _cancel_order(document: dict[str, Any], edit: dict[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    order_id = _known(document, "orders", "order_id", edit, where, problems)
    if problems:
        return problems
    row = next(r for r in document["orders"] if r["order_id"] == order_id)
    row["status"] = "cancelled"
    return []


def _pin(document: dict[str, Any], edit: dict[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    order_id = _known(document, "orders", "order_id", edit, where, problems)
    line_id = _known(document, "lines", "line_id", edit, where, problems)
    start = _date(edit, "start_date", where, problems)
    if problems:
        return problems
    row = next(r for r in document["orders"] if r["order_id"] == order_id)
    row["pinned_line"], row["pinned_start"] = line_id, start.isoformat()
    return []


APPLY = {
    "line_hours": _line_hours,
    "arrival": _arrival,
    "order": _order,
    "new_order": _new_order,
    "cancel_order": _cancel_order,
    "pin": _pin,
}


# -- comparing plans -----------------------------------------------------------------------------


KPI_DELTAS = ("orders_planned", "orders_late", "orders_unscheduled", "on_time_rate", "weighted_days_late", "days_late")


def compare(
    dataset: Dataset, base: dict[str, Any], scenario: dict[str, Any], edits: list[dict[str, Any]]
) -> dict[str, Any]:
    """KPI deltas, the orders that changed (old and new run, days gained or lost, why), and whom to call.

    ``dataset`` is the scenario's (edited) data: its customers and orders explain the changes.
    """
    before = {e["order_id"]: e for e in base.get("orders", [])}
    after = {e["order_id"]: e for e in scenario.get("orders", [])}
    dropped = {u["order_id"]: u.get("reason", "") for u in scenario.get("unscheduled", [])}
    dropped_before = {u["order_id"] for u in base.get("unscheduled", [])}
    changes = []
    for order_id in sorted(before.keys() | after.keys() | dropped.keys() - dropped_before):
        change = _change(dataset, before.get(order_id), after.get(order_id), dropped.get(order_id), edits, order_id)
        if change is not None:
            changes.append(change)
    return {
        "kpi_deltas": _kpi_deltas(base.get("kpis", {}), scenario.get("kpis", {})),
        "changes": changes,
        "notify": notify(dataset, changes),
    }


def _kpi_deltas(base: dict[str, Any], scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deltas = {}
    for name in KPI_DELTAS:
        old, new = base.get(name), scenario.get(name)
        if isinstance(old, int | float) and isinstance(new, int | float):
            deltas[name] = {"before": old, "after": new, "delta": round(new - old, 4)}
    return deltas


def _change(
    dataset: Dataset,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    dropped_reason: str | None,
    edits: list[dict[str, Any]],
    order_id: str,
) -> dict[str, Any] | None:
    if old is None and new is None and dropped_reason is None:
        return None
    if old is not None and new is not None and _run(old) == _run(new):
        return None
    change: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": (new or old or {}).get("customer_id") or _customer_of(dataset, order_id),
        "before": _summary(old),
        "after": _summary(new),
        "days_later": _days_later(old, new),
        "why": _why(dataset, order_id, old, new, dropped_reason, edits),
    }
    return change


def _run(entry: dict[str, Any]) -> tuple:
    return entry["line_id"], entry["production_start"], entry["production_end"], entry["delivery_date"]


def _summary(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    keys = ("line_id", "production_start", "production_end", "delivery_date", "days_late")
    return {k: entry.get(k) for k in keys}


def _days_later(old: dict[str, Any] | None, new: dict[str, Any] | None) -> int | None:
    """Days the delivery moves (positive: later); None when the order enters or leaves the plan."""
    if old is None or new is None:
        return None
    return (dt.date.fromisoformat(new["delivery_date"]) - dt.date.fromisoformat(old["delivery_date"])).days


def _customer_of(dataset: Dataset, order_id: str) -> str | None:
    order = dataset.order_by_id.get(order_id)
    return order.customer_id if order else None


def _why(
    dataset: Dataset,
    order_id: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    dropped_reason: str | None,
    edits: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The edits that touch the order (directly, on its lines in its days, or its materials), then
    what binds its new run (the engine's reasons for a late order), then the reason it was left out."""
    reasons = [
        {"kind": "edit", "index": index, "edit": edit}
        for index, edit in enumerate(edits)
        if _touches(dataset, edit, order_id, old, new)
    ]
    reasons += [{"kind": "binding", "reason": reason} for reason in (new or {}).get("binding", [])]
    if dropped_reason:
        reasons.append({"kind": "unscheduled", "detail": dropped_reason})
    if not reasons:
        reasons.append({"kind": "resequenced", "detail": "moved to make room for the changes elsewhere"})
    return reasons


def _touches(
    dataset: Dataset, edit: dict[str, Any], order_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> bool:
    kind = edit["kind"]
    if kind in ("order", "cancel_order", "pin"):
        return edit.get("order_id") == order_id
    if kind == "new_order":
        return edit["order"].get("order_id") == order_id
    if kind == "line_hours":
        return old is not None and old["line_id"] == edit["line_id"] and _overlaps(old, edit["from"], edit["to"])
    order = dataset.order_by_id.get(order_id)
    materials = {item.material_id for item in dataset.bom_by_product.get(order.product_id, ())} if order else set()
    return edit["material_id"] in materials


def _overlaps(entry: dict[str, Any], first: str, last: str) -> bool:
    return entry["production_start"] <= str(last) and str(first) <= entry["production_end"]


def notify(dataset: Dataset, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The orders that now deliver later than the published plan promised (or not at all),
    grouped by customer, with the customer's name and region: whom sales should call."""
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        later = change["days_later"]
        lost = change["before"] is not None and change["after"] is None
        if (later is not None and later > 0) or lost:
            groups[change["customer_id"]].append(
                {
                    "order_id": change["order_id"],
                    "was": change["before"]["delivery_date"],
                    "now": change["after"]["delivery_date"] if change["after"] else None,
                    "days_later": later,
                }
            )
    calls = []
    for customer_id, orders in sorted(groups.items(), key=lambda item: item[0] or ""):
        customer = dataset.customer_by_id.get(customer_id) if customer_id else None
        calls.append(
            {
                "customer_id": customer_id,
                "name": customer.name if customer else "",
                "region": customer.region if customer else "",
                "orders": orders,
            }
        )
    return calls
