"""Schedules: from line assignments to the schedule document of FORMATS.md.

The solver and the heuristic both decide only *which line* and *where on the
line's working-minute axis* each order's run starts; every date, allocation,
KPI and objective term is derived here, the same way for both.

A run starts where its changeover begins and lasts ``changeover + option.minutes``
working minutes (PROBLEM.md, "Changeovers"). The changeover depends on the run before
it on the line, so it is not part of the decision: :func:`with_changeovers` derives it
from the runs of a plan, and every helper here that needs a run's end reads it from
``Assignment.changeover`` (0 until filled).
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from solver.changeover import changeover_before, line_changeovers, plans_changeovers
from solver.domain import COLLECTION_DAYS
from solver.instance import Candidate, Instance, Option
from solver.objective import PRIMARY_LEVELS, Objective


@dataclass(frozen=True)
class Assignment:
    """An order's run: its line and the working-minute position where it starts."""

    order_id: str
    line_id: str
    start: int  # where the run's changeover begins (its setup, when it has none)
    # Minutes of changeover in front of the run: derived from the runs before it on the line
    # (:func:`with_changeovers`), not decided, so two assignments differing only here are equal.
    changeover: int = field(default=0, compare=False)


def with_changeovers(instance: Instance, assignments: dict[str, Assignment]) -> dict[str, Assignment]:
    """``assignments`` with each run's changeover: per line, the runs ordered by start follow each other.

    PROBLEM.md: "Follows" is the order of runs on the line by start; the changeover in front of
    each run comes from :func:`solver.changeover.line_changeovers`, the one home of the rule.
    """
    orders = instance.dataset.order_by_id
    by_line: dict[str, list[Assignment]] = {}
    for assignment in assignments.values():
        by_line.setdefault(assignment.line_id, []).append(assignment)
    filled = {}
    for line_id, runs in by_line.items():
        runs.sort(key=lambda a: (a.start, a.order_id))
        changeovers = line_changeovers(instance.dataset, line_id, [orders[a.order_id] for a in runs])
        for run, changeover in zip(runs, changeovers, strict=True):
            filled[run.order_id] = replace(run, changeover=changeover)
    return {order_id: filled[order_id] for order_id in assignments}


def option_for(candidate: Candidate, line_id: str) -> Option:
    return next(o for o in candidate.options if o.line_id == line_id)


def run_length(candidate: Candidate, assignment: Assignment) -> int:
    """Working minutes the run occupies on its line: its changeover, then setup and processing."""
    return assignment.changeover + option_for(candidate, assignment.line_id).minutes


def allocations(instance: Instance, candidate: Candidate, assignment: Assignment) -> list[dict[str, Any]]:
    """Every production day with its minutes (changeover and setup first) and the units finished that day."""
    option = option_for(candidate, assignment.line_id)
    axis = instance.axes[assignment.line_id]
    quantity = candidate.order.quantity
    rows, elapsed, finished = [], 0, 0
    days = axis.minutes_per_day(assignment.start, run_length(candidate, assignment))
    for number, (day, minutes) in enumerate(days):
        elapsed += minutes
        run_done = max(0, elapsed - assignment.changeover - option.setup_minutes)
        done = (
            quantity
            if number == len(days) - 1
            else min(quantity, math.floor(run_done * option.units_per_hour / 60 + 1e-9))
        )
        rows.append(
            {"date": instance.calendar.date_of(day).isoformat(), "minutes": minutes, "quantity": done - finished}
        )
        finished = done
    return rows


def run_days(instance: Instance, candidate: Candidate, assignment: Assignment) -> tuple[int, int]:
    """First and last production day index of an assignment (the first is the day its changeover begins).

    ``assignment.changeover`` must be filled (:func:`with_changeovers`) for a run behind a changeover.
    """
    axis = instance.axes[assignment.line_id]
    return axis.day_of(assignment.start), axis.day_of(assignment.start + run_length(candidate, assignment) - 1)


def order_entry(instance: Instance, candidate: Candidate, assignment: Assignment) -> dict[str, Any]:
    """The schedule document's entry for one planned order."""
    calendar = instance.calendar
    first, last = run_days(instance, candidate, assignment)
    inspection = calendar.inspection_day(last)
    dispatch = calendar.dispatch_day(last)
    delivery = dispatch + candidate.transit_days
    order = candidate.order
    return {
        "order_id": order.order_id,
        "line_id": assignment.line_id,
        "production_start": calendar.date_of(first).isoformat(),
        "production_end": calendar.date_of(last).isoformat(),
        "inspection_date": calendar.date_of(inspection).isoformat(),
        "dispatch_date": calendar.date_of(dispatch).isoformat(),
        "delivery_date": calendar.date_of(delivery).isoformat(),
        "due_date": order.due_date.isoformat(),
        "days_late": max(0, delivery - candidate.due_day),
        "product_id": order.product_id,
        "customer_id": order.customer_id,
        "quantity": order.quantity,
        "priority": order.priority,
        "status": order.status,
        "sequence": 0,  # the run's place on its line needs the other runs: numbered by number_runs
        **run_minutes_of_day(instance, candidate, assignment),
        "changeover_minutes": assignment.changeover,
        "allocations": allocations(instance, candidate, assignment),
    }


def run_minutes_of_day(instance: Instance, candidate: Candidate, assignment: Assignment) -> dict[str, int]:
    """When the run starts on its first production day and ends on its last one.

    ``start_minute`` and ``end_minute`` count minutes from the moment the line's day
    begins, so the shop floor can turn them into clock times; the working-minute axis
    lays a line's days end to end, so the offset from a day's first position is exactly that.
    """
    axis = instance.axes[assignment.line_id]
    first, last = run_days(instance, candidate, assignment)
    end = assignment.start + run_length(candidate, assignment)
    return {"start_minute": assignment.start - int(axis.start[first]), "end_minute": end - int(axis.start[last])}


def number_runs(entries: list[dict[str, Any]], assignments: dict[str, Assignment]) -> None:
    """Give every entry its ``sequence``: the run's position on its line in this plan, 1 = first.

    Runs never overlap on a line's axis, so ordering by start position is the order the
    line makes them in; within a shared day that is also the order of ``start_minute``.
    """
    by_line: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_line.setdefault(entry["line_id"], []).append(entry)
    for runs in by_line.values():
        runs.sort(key=lambda e: (assignments[e["order_id"]].start, e["order_id"]))
        for number, entry in enumerate(runs, start=1):
            entry["sequence"] = number


def changed_orders(entries: list[dict[str, Any]], unscheduled: dict[str, str], previous: dict | None) -> int:
    """Orders of the previous plan, still planned, now unscheduled or on another line or start day."""
    if not previous:
        return 0
    now = {e["order_id"]: (e["line_id"], e["production_start"]) for e in entries}
    count = 0
    for old in previous.get("orders", []):
        order_id = old.get("order_id")
        if order_id in unscheduled or (
            order_id in now and now[order_id] != (old.get("line_id"), old.get("production_start"))
        ):
            count += 1
    return count


def objective_terms(
    instance: Instance, entries: list[dict[str, Any]], unscheduled: dict[str, str], previous: dict | None
) -> Objective:
    """The four levels of the objective, computed from the schedule's own dates."""
    orders = instance.dataset.order_by_id
    holding = 0
    for entry in entries:
        due = orders[entry["order_id"]].due_date
        delivered = _date(entry["delivery_date"])
        holding += max(0, (due - delivered).days - COLLECTION_DAYS)
    return Objective(
        unscheduled_priority=sum(orders[o].priority for o in unscheduled),
        weighted_days_late=sum(e["priority"] * e["days_late"] for e in entries),
        changed_orders=changed_orders(entries, unscheduled, previous),
        holding_days=holding,
    )


def schedule_objective(
    instance: Instance, assignments: dict[str, Assignment], unscheduled: dict[str, str], previous: dict | None
) -> Objective:
    """The objective the schedule document of ``assignments`` states (:func:`build_schedule`),
    without building the rest of the document."""
    left_out = {**instance.unplaceable, **unscheduled}
    return objective_terms(instance, _entries(instance, assignments), left_out, previous)


def _entries(instance: Instance, assignments: dict[str, Assignment]) -> list[dict[str, Any]]:
    """The document's order entries, by line and run order, each run behind its changeover."""
    by_id = {c.order_id: c for c in instance.candidates}
    entries = [order_entry(instance, by_id[a.order_id], a) for a in with_changeovers(instance, assignments).values()]
    number_runs(entries, assignments)
    entries.sort(key=lambda e: (e["line_id"], e["sequence"]))
    return entries


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def line_loads(instance: Instance, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Minutes used against minutes available per line and working date of the horizon."""
    used: dict[tuple[str, str], int] = {}
    for entry in entries:
        for allocation in entry["allocations"]:
            key = (entry["line_id"], allocation["date"])
            used[key] = used.get(key, 0) + allocation["minutes"]
    rows = []
    for line_id, axis in instance.axes.items():
        for day in range(instance.horizon):
            date = instance.calendar.date_of(day).isoformat()
            available = int(axis.capacity[day])
            if available or (line_id, date) in used:
                rows.append(
                    {
                        "line_id": line_id,
                        "date": date,
                        "minutes_used": used.get((line_id, date), 0),
                        "minutes_available": available,
                    }
                )
    return rows


def explain_late_orders(instance: Instance, entries: list[dict[str, Any]], loads: list[dict[str, Any]]) -> None:
    """Give every late order its ``binding`` reasons: why it could not run earlier.

    The days its lines were full between the day it could first start and the day it
    did, the material that arrived only later, its earliest start, the changeover in
    front of its run, and a full inspection or dispatch day. ``entries`` come by line
    and run order.
    """
    full: dict[str, list[str]] = {}
    for row in loads:
        if row["minutes_available"] > 0 and row["minutes_used"] >= row["minutes_available"]:
            full.setdefault(row["line_id"], []).append(row["date"])
    by_id = {c.order_id: c for c in instance.candidates}
    run_before = _run_before(entries)
    per_day = {name: _orders_per_day(entries, name) for name in ("inspection_date", "dispatch_date")}
    for entry in entries:
        if entry["days_late"] <= 0:
            continue
        candidate = by_id[entry["order_id"]]
        earliest = instance.calendar.date_of(candidate.earliest_day).isoformat()
        reasons: list[dict[str, Any]] = [{"kind": "days_late", "days": entry["days_late"]}]
        alone = min(instance.days_late(candidate, _end_day_alone(instance, candidate, o)) for o in candidate.options)
        if alone > 0:  # due before the order could be made and delivered on an empty plant
            reasons.append({"kind": "lead_time", "days": alone})
        reasons += _material_reasons(instance, candidate)
        if candidate.order.earliest_start and candidate.order.earliest_start > instance.calendar.plan_start:
            reasons.append({"kind": "earliest_start", "date": candidate.order.earliest_start.isoformat()})
        for option in candidate.options:
            days = [d for d in full.get(option.line_id, []) if earliest <= d < entry["production_start"]]
            if days:
                reasons.append(
                    {
                        "kind": "capacity",
                        "line_id": option.line_id,
                        "dates": [days[0], days[-1]],
                        "full_days": len(days),
                    }
                )
        if entry["changeover_minutes"] > 0:
            reasons.append(
                {
                    "kind": "changeover",
                    "line_id": entry["line_id"],
                    "minutes": entry["changeover_minutes"],
                    "after_order": run_before.get(entry["order_id"]),
                }
            )
        reasons += _full_day_reasons(instance, per_day, entry)
        entry["binding"] = reasons


def _end_day_alone(instance: Instance, candidate: Candidate, option: Option) -> int:
    """The last production day of the order's run on ``option``'s line if the plant were empty.

    An empty line is still set up for its initial family, so the run pays that changeover
    (cut at the horizon's end, which the run without it fits in).
    """
    dataset, axis = instance.dataset, instance.axes[option.line_id]
    family = dataset.line_by_id[option.line_id].initial_family
    length = changeover_before(dataset, option.line_id, family, candidate.order) + option.minutes
    return axis.day_of(min(option.earliest_position + length, axis.total) - 1)


def _run_before(entries: list[dict[str, Any]]) -> dict[str, str]:
    """The order of the run just before each run on its line (``entries`` by line and run order)."""
    before = {}
    for previous, entry in itertools.pairwise(entries):
        if previous["line_id"] == entry["line_id"]:
            before[entry["order_id"]] = previous["order_id"]
    return before


def _orders_per_day(entries: list[dict[str, Any]], date_field: str) -> collections.Counter[str]:
    """How many orders have each date as their ``date_field`` (``inspection_date``, ``dispatch_date``)."""
    return collections.Counter(entry[date_field] for entry in entries)


def _full_day_reasons(
    instance: Instance, per_day: dict[str, collections.Counter[str]], entry: dict[str, Any]
) -> list[dict[str, Any]]:
    """The order's inspection or dispatch day when that day is at the plant's cap."""
    reasons = []
    for kind, date_field, cap in (
        ("inspection_cap", "inspection_date", instance.dataset.inspection_cap),
        ("dispatch_cap", "dispatch_date", instance.dataset.dispatch_cap),
    ):
        date = entry[date_field]
        if cap is not None and per_day[date_field][date] >= cap:
            reasons.append({"kind": kind, "date": date, "cap": cap})
    return reasons


def _material_reasons(instance: Instance, candidate: Candidate) -> list[dict[str, Any]]:
    """Materials the order's whole kit could not be issued from before they arrived."""
    reasons = []
    for material_id, quantity in sorted(candidate.material_need.items()):
        enough = np.flatnonzero(instance.material_available[material_id] >= quantity)
        if len(enough) and enough[0] > 0:
            available_from = instance.calendar.date_of(int(enough[0])).isoformat()
            reasons.append({"kind": "material", "material_id": material_id, "available_from": available_from})
    return reasons


def kpis(instance: Instance, entries: list[dict[str, Any]], unscheduled: dict[str, str]) -> dict[str, Any]:
    """Planner KPIs: orders planned / late / unscheduled, on-time rate, lateness, holding, utilisation.

    When the plan carries changeovers, the hours each line spends on them; when the plant caps
    inspection or dispatch, the busiest day against the cap.
    """
    late = [e for e in entries if e["days_late"] > 0]
    utilisation = {}
    for line_id, axis in instance.axes.items():
        used = sum(a["minutes"] for e in entries if e["line_id"] == line_id for a in e["allocations"])
        utilisation[line_id] = round(used / axis.total, 4) if axis.total else 0.0
    planned = len(entries)
    orders = instance.dataset.order_by_id
    result = {
        "orders_planned": planned,
        "orders_late": len(late),
        "orders_unscheduled": len(unscheduled),
        "on_time_rate": round((planned - len(late)) / planned, 4) if planned else 1.0,
        "weighted_days_late": sum(e["priority"] * e["days_late"] for e in entries),
        "days_late": sum(e["days_late"] for e in entries),
        "holding_days": sum(
            max(0, (orders[e["order_id"]].due_date - _date(e["delivery_date"])).days - COLLECTION_DAYS) for e in entries
        ),
        "utilisation": utilisation,
    }
    if plans_changeovers(instance.dataset):
        result["changeover_hours_by_line"] = {
            line_id: round(sum(e["changeover_minutes"] for e in entries if e["line_id"] == line_id) / 60, 2)
            for line_id in instance.axes
        }
    for name, date_field, cap in (
        ("inspections_per_day", "inspection_date", instance.dataset.inspection_cap),
        ("dispatches_per_day", "dispatch_date", instance.dataset.dispatch_cap),
    ):
        if cap is not None:
            result[name] = _busiest_day(_orders_per_day(entries, date_field), cap)
    return result


def _busiest_day(per_day: collections.Counter[str], cap: int) -> dict[str, Any]:
    """The cap, and the (earliest) day with the most orders and how many."""
    busiest = min(per_day.items(), key=lambda item: (-item[1], item[0]), default=(None, 0))
    return {"cap": cap, "busiest_date": busiest[0], "busiest_orders": busiest[1]}


def build_schedule(
    instance: Instance,
    assignments: dict[str, Assignment],
    unscheduled: dict[str, str],
    *,
    status: str,
    bound: Objective | None = None,
    solve_seconds: float = 0.0,
    previous: dict | None = None,
    warnings: list[str] | None = None,
    timings: dict[str, float] | None = None,
    solver_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The schedule document of FORMATS.md for ``assignments``.

    ``bound`` is the solver's lower bound (levels 1-2 go in the document); ``timings``
    (seconds per step) and ``solver_info`` (stages, time limit, workers, seed) come last.
    """
    entries = _entries(instance, assignments)
    left_out = {**instance.unplaceable, **unscheduled}
    loads = line_loads(instance, entries)
    explain_late_orders(instance, entries, loads)
    document = {
        "plan_start": instance.calendar.plan_start.isoformat(),
        "status": status,
        "objective": objective_terms(instance, entries, left_out, previous).as_dict(),
        "bound": bound.as_dict(PRIMARY_LEVELS) if bound is not None else {},
        "solve_seconds": round(solve_seconds, 3),
        "warnings": list(warnings if warnings is not None else instance.warnings),
        "orders": entries,
        "unscheduled": [{"order_id": k, "reason": v} for k, v in sorted(left_out.items())],
        "line_loads": loads,
        "kpis": kpis(instance, entries, left_out),
    }
    if timings is not None:
        document["timings"] = timings
    if solver_info:
        document["solver"] = solver_info
    return document


def assignments_from_schedule(instance: Instance, entries: list[dict[str, Any]]) -> dict[str, Assignment]:
    """Runs back on the working-minute axes from schedule entries (the inverse of :func:`allocations`).

    A run that carries on past its first day takes the tail of that day. Runs of a single
    day follow the run that carries over into it in run order (``sequence``, else order id)
    and keep their stated ``start_minute`` when the day's runs fit that way; otherwise (older
    documents, order review's placements without times) they are packed one after the other,
    each taking its stated ``changeover_minutes`` in front of its own minutes. Entries whose
    order or line the instance does not know are skipped. The runs come back with the
    changeovers their order on the line gives them now (:func:`with_changeovers`).
    """
    candidates = {c.order_id: c for c in instance.candidates}
    carried_over: dict[tuple[str, int], int] = {}  # minutes the run arriving from the day before takes
    carried_on: dict[tuple[str, int], int] = {}  # minutes the run leaving for the next day takes
    singles: dict[tuple[str, int], list[tuple[float, str, int | None]]] = {}
    stated_changeover: dict[str, int] = {}
    assignments = {}
    for entry in entries:
        order_id, line_id = entry.get("order_id"), entry.get("line_id")
        axis = instance.axes.get(line_id)
        if order_id not in candidates or axis is None or not entry.get("allocations"):
            continue
        days = [instance.calendar.index_of(dt.date.fromisoformat(a["date"])) for a in entry["allocations"]]
        if len(days) == 1:
            changeover = entry.get("changeover_minutes")
            stated_changeover[order_id] = changeover if isinstance(changeover, int) else 0
            stated = entry.get("start_minute")
            sequence = entry.get("sequence")
            singles.setdefault((line_id, days[0]), []).append(
                (
                    sequence if isinstance(sequence, int) else math.inf,
                    order_id,
                    stated if isinstance(stated, int) else None,
                )
            )
            continue
        first_minutes = entry["allocations"][0]["minutes"]
        assignments[order_id] = Assignment(order_id, line_id, int(axis.start[days[0] + 1]) - first_minutes)
        carried_over[(line_id, days[-1])] = entry["allocations"][-1]["minutes"]
        carried_on[(line_id, days[0])] = first_minutes
    for (line_id, day), runs in sorted(singles.items()):
        axis = instance.axes[line_id]
        free_from = int(axis.start[day]) + carried_over.get((line_id, day), 0)
        free_until = int(axis.start[day + 1]) - carried_on.get((line_id, day), 0)
        lengths = {o: stated_changeover[o] + option_for(candidates[o], line_id).minutes for _, o, _ in runs}
        ordered = sorted(runs)
        starts = _single_day_starts(ordered, lengths, int(axis.start[day]), free_from)
        if starts[-1] + lengths[ordered[-1][1]] > free_until:  # the stated minutes do not fit: pack
            starts = _single_day_starts([(0, o, None) for _, o, _ in ordered], lengths, 0, free_from)
        for (_, order_id, _), start in zip(ordered, starts, strict=True):
            assignments[order_id] = Assignment(order_id, line_id, start)
    return with_changeovers(instance, assignments)


def _single_day_starts(
    runs: list[tuple[float, str, int | None]], lengths: dict[str, int], day_start: int, free_from: int
) -> list[int]:
    """Start positions of a day's single-day runs in the given order: each at its stated minute
    of the day (``day_start`` is the day's first position) or right after the previous one."""
    starts, head = [], free_from
    for _, order_id, stated in runs:
        start = head if stated is None else max(head, day_start + stated)
        starts.append(start)
        head = start + lengths[order_id]
    return starts
