"""PyJobShop on the changeover plants: the yardstick side of issue #15's benchmark.

PyJobShop (https://github.com/PyJobShop/PyJobShop) is used as a library only, through
its ``Model`` API, and only here: paichan never imports it. Each plant of
:mod:`benchmarks.changeover_plants` becomes a PyJobShop model with paichan's semantics
(PROBLEM.md) on the lines' working minutes:

* **machine = line**, one job per order (``weight`` = priority), one task per job with one
  mode per line of the product's routings, its duration the order's own minutes there,
  ``round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour)``;
* **changeovers** are PyJobShop setup times between two tasks on a machine: the minutes
  from the predecessor's family to the successor's (a row for the line overrides the
  all-lines row; same family or no row: 0). PyJobShop puts a setup time in the gap
  between *direct* successors on the machine, which is exactly paichan's "the changeover
  belongs to the order that follows, before its own minutes";
* **the line's initial family**: a dummy task per line with an initial family, duration
  0, no job, fixed at time 0, whose setup times to every task are the changeovers from
  the initial family. A task cannot precede it (its end plus a setup would have to be
  ≤ 0), so it is first in the machine's sequence, and the first real task pays the
  changeover from the initial family. A line without one has no dummy: no changeover;
* **time**: every day works and a line has ``C`` minutes every day, so a line's working
  minutes lie end to end and minute ``m`` is on day ``m // C``. Lines may have different
  ``C``; to give PyJobShop one due date per job, each line's minutes are stretched by
  ``L / C`` (``L`` the lcm of the lines' ``C``) so that day ``d`` is ``[d·L, (d+1)·L)``
  on every line. Durations and setup times on a line are multiplied by its factor.
  With equal ``C`` (two plants) the factor is 1: the plain working-minute axis;
* **due dates**: an order ending on day ``D`` is inspected on ``D+1``, dispatched and
  (no transit) delivered on ``D+2``; it is on time when ``D ≤ due_day − 2``, i.e. when
  its end ≤ ``(due_day − 1)·L``: PyJobShop's due date. Its deadline is the horizon's
  end ``horizon_days·L`` (nothing is produced after the horizon).

PyJobShop minimises weighted tardiness in (stretched) minutes, not paichan's weighted
*days* late; its reported solution is therefore scored in paichan's own terms
(Σ priority × days late from the end minutes it returns), and its lower bound ``B``
becomes ``ceil(B / L)`` weighted days (days late = ceil(tardiness / L) ≥ tardiness / L).
The solution is also converted into a paichan schedule document (FORMATS.md) by
:func:`schedule_document`, which recomputes sequence and changeovers from the start
minutes and refuses a plan that breaks paichan's rules.

    python -m benchmarks.pyjobshop_peer --time-limit 20 --plants all
    python -m benchmarks.pyjobshop_peer --time-limit 20 --plants all --warm --with-paichan --record

``--with-paichan`` solves every plant with paichan's own engine too (``solver.engine.solve``,
the same time limit, workers and seed) and judges every plan, PyJobShop's and paichan's,
with paichan's validator (``solver.validation.validate_schedule``), changeovers included.

Results, plant documents and converted schedules go to ``--out`` (default: a folder in
the system's temporary directory), never into tracked files; ``--record`` rewrites only
the README section.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.changeover_plants import (
    SPECS,
    PlantOrder,
    PlantView,
    Route,
    minutes_of_hours,
    plant_documents,
    read_plant,
    run_minutes,
)
from benchmarks.changeover_plants import list_schedule as plant_list_schedule

README = Path(__file__).with_name("README.md")
HEADING = "## Changeovers: paichan against PyJobShop (`pyjobshop_peer.py`)"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "paichan-changeover-bench"
COLLECTION_DAYS = 7  # PROBLEM.md, "What is best" level 4


# -- the plant on one time axis ------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """Each line's working minutes stretched so that every line's day is ``day_units`` long."""

    day_units: int  # L: the lcm of the lines' minutes per day
    factor: dict[str, int]  # line -> L // C

    @classmethod
    def of(cls, view: PlantView) -> Axis:
        day_units = math.lcm(*view.day_minutes.values())
        return cls(day_units, {line: day_units // c for line, c in view.day_minutes.items()})

    def due(self, order: PlantOrder) -> int:
        """The last end (in units) that still delivers on time: the end of day ``due_day − 2``."""
        return (order.due_day - 1) * self.day_units

    def minute(self, line_id: str, units: int) -> int:
        """A point of the stretched axis as a minute of the line's own axis (exact on multiples)."""
        return units // self.factor[line_id]


def route_on(order: PlantOrder, line_id: str) -> Route:
    return next(r for r in order.routes if r.line_id == line_id)


def own_minutes(order: PlantOrder, line_id: str) -> int:
    route = route_on(order, line_id)
    return run_minutes(order.quantity, route.units_per_hour, route.setup_hours)


# -- the PyJobShop model ---------------------------------------------------------------------------


@dataclass
class Built:
    """A PyJobShop model of a plant and the handles to read its solution back."""

    model: Any  # pyjobshop.Model
    axis: Axis
    order_task: dict[str, int]  # order -> task index
    mode_line: dict[int, str]  # mode index -> line
    dummies: int  # tasks standing for the lines' initial families


def build_model(view: PlantView) -> Built:
    """The plant as a PyJobShop model (see the module's docstring for the translation)."""
    from pyjobshop import Model

    axis = Axis.of(view)
    model = Model()
    machines = {line_id: model.add_machine(name=line_id) for line_id in view.line_ids}
    horizon = view.horizon_days * axis.day_units
    # per line: (task, family) of everything that can run there, the dummy first
    on_line: dict[str, list[tuple[Any, str | None, bool]]] = {line_id: [] for line_id in view.line_ids}
    dummies = 0
    for line_id, family in view.initial_family.items():
        if family is None:
            continue
        dummy = model.add_task(earliest_start=0, latest_start=0, name=f"initial-{line_id}")
        model.add_mode(dummy, machines[line_id], 0)
        on_line[line_id].append((dummy, family, True))
        dummies += 1
    order_task: dict[str, int] = {}
    mode_line: dict[int, str] = {}
    for order in view.orders:
        if not order.routes:
            raise ValueError(f"order {order.order_id} has no routing: both tools would leave it unscheduled")
        job = model.add_job(weight=order.priority, due_date=axis.due(order), deadline=horizon, name=order.order_id)
        task = model.add_task(job, name=order.order_id)
        order_task[order.order_id] = len(model.tasks) - 1
        for route in order.routes:
            model.add_mode(
                task, machines[route.line_id], own_minutes(order, route.line_id) * axis.factor[route.line_id]
            )
            mode_line[len(model.modes) - 1] = route.line_id
            on_line[route.line_id].append((task, order.family, False))
    for line_id, entries in on_line.items():
        factor = axis.factor[line_id]
        for first, first_family, _ in entries:
            for second, second_family, second_dummy in entries:
                if first is second or second_dummy:
                    continue
                minutes = view.changeover(line_id, first_family, second_family)
                if minutes:
                    model.add_setup_time(machines[line_id], first, second, minutes * factor)
    model.set_objective(weight_total_tardiness=1)
    return Built(model, axis, order_task, mode_line, dummies)


@dataclass(frozen=True)
class Placement:
    """Where a run's own minutes (setup and production) begin: a line and a minute of its axis.

    The changeover in front of it is not part of it: :func:`schedule_document` puts it
    right before, as the predecessor on the line decides.
    """

    line_id: str
    start: int


def list_schedule(view: PlantView) -> dict[str, Placement]:
    """The plants' earliest-due-date list schedule (the optional warm start) as placements."""
    return {order_id: Placement(*where) for order_id, where in plant_list_schedule(view).items()}


def warm_start(built: Built, view: PlantView, placements: dict[str, Placement]) -> Any:
    """``placements`` as a PyJobShop ``Solution`` to hand to ``Model.solve(initial_solution=...)``."""
    from pyjobshop import Solution
    from pyjobshop.Solution import ScheduledTask

    data = built.model.data()
    tasks: list[Any] = [None] * data.num_tasks
    for index, task in enumerate(data.tasks):
        if task.job is None:  # a line's initial family: the dummy at 0
            mode = data.task2modes(index)[0]
            tasks[index] = ScheduledTask(mode, list(data.modes[mode].resources), 0, 0)
    line_resource = {resource.name: index for index, resource in enumerate(data.resources)}
    for order_id, index in built.order_task.items():
        placement = placements[order_id]
        mode = next(m for m in data.task2modes(index) if built.mode_line[m] == placement.line_id)
        factor = built.axis.factor[placement.line_id]
        start = placement.start * factor
        tasks[index] = ScheduledTask(mode, [line_resource[placement.line_id]], start, start + data.modes[mode].duration)
    return Solution(data, tasks)


@dataclass
class PeerRun:
    plant: str
    orders: int
    lines: int
    families: int
    days: int
    status: str  # PyJobShop's: OPTIMAL (for its minute tardiness), FEASIBLE, INFEASIBLE, TIME_LIMIT, ...
    weighted_days_late: int | None  # paichan's terms, recomputed from the returned end minutes
    bound_days: int | None  # ceil(PyJobShop's lower bound / L)
    changeover_minutes: int | None
    unscheduled_priority: int | None
    pyjobshop_objective: float | None  # its weighted tardiness in stretched minutes
    day_units: int
    solver_seconds: float
    wall_seconds: float  # model building, solving and reading back
    time_limit: float
    workers: int
    seed: int
    warm: bool = False
    list_days_late: int | None = None  # the earliest-due-date list schedule's weighted days late
    violations: list[str] | None = None  # paichan's validator on the converted plan (None: not checked)
    schedule: dict[str, Any] | None = dataclasses.field(default=None, repr=False)


def solve_plant(view: PlantView, time_limit: float, workers: int = 2, seed: int = 0, warm: bool = False) -> PeerRun:
    """Build, solve with OR-Tools CP-SAT through PyJobShop, and score the plan in paichan's terms.

    ``warm``: hand PyJobShop :func:`list_schedule` as its initial solution (a hint to CP-SAT).
    """
    began = time.perf_counter()
    built = build_model(view)
    initial = warm_start(built, view, list_schedule(view)) if warm else None
    result = built.model.solve(
        solver="ortools",
        time_limit=time_limit,
        display=False,
        num_workers=workers,
        initial_solution=initial,
        random_seed=seed,
    )
    status = str(getattr(result.status, "value", result.status))
    placements = placements_of(built, result)
    run = PeerRun(
        plant=view.name,
        orders=len(view.orders),
        lines=len(view.line_ids),
        families=len(view.families),
        days=view.horizon_days,
        status=status,
        weighted_days_late=None,
        bound_days=None,
        changeover_minutes=None,
        unscheduled_priority=None,
        pyjobshop_objective=None,
        day_units=built.axis.day_units,
        solver_seconds=float(result.runtime),
        wall_seconds=0.0,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        warm=warm,
        list_days_late=schedule_document(view, list_schedule(view))["objective"]["weighted_days_late"],
    )
    if placements:
        bound = math.ceil(result.lower_bound / built.axis.day_units - 1e-9) if result.lower_bound > 0 else 0
        schedule = schedule_document(
            view, placements, status=status, solve_seconds=float(result.runtime), bound_days=bound
        )
        run.schedule = schedule
        run.weighted_days_late = schedule["objective"]["weighted_days_late"]
        run.unscheduled_priority = schedule["objective"]["unscheduled_priority"]
        run.changeover_minutes = sum(entry["changeover_minutes"] for entry in schedule["orders"])
        run.bound_days = bound
        run.pyjobshop_objective = float(result.objective)
    run.wall_seconds = time.perf_counter() - began
    return run


def placements_of(built: Built, result: Any) -> dict[str, Placement]:
    """The orders' lines and start minutes in PyJobShop's best solution (empty without one)."""
    tasks = result.best.tasks
    if not tasks:
        return {}
    placements = {}
    for order_id, index in built.order_task.items():
        task = tasks[index]
        if not task.present:
            continue
        line_id = built.mode_line[task.mode]
        placements[order_id] = Placement(line_id, built.axis.minute(line_id, task.start))
    return placements


# -- paichan's side ----------------------------------------------------------------------------


@dataclass
class PaichanRun:
    """paichan's engine on a plant, its plan judged by paichan's validator."""

    plant: str
    status: str
    weighted_days_late: int
    unscheduled_priority: int
    changeover_minutes: int
    bound_days: int  # paichan's lower bound on weighted days late
    list_days_late: int  # its first plan: the best of its list schedules (changeover-aware)
    violations: list[str]
    solve_seconds: float
    wall_seconds: float  # loading, solving, validating
    time_limit: float
    workers: int
    seed: int
    stages: dict[str, str] = dataclasses.field(default_factory=dict)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    schedule: dict[str, Any] | None = dataclasses.field(default=None, repr=False)


def solve_with_paichan(
    document: dict[str, Any], name: str, time_limit: float, workers: int = 2, seed: int = 0
) -> PaichanRun:
    """Plan the plant ``document`` with paichan's engine at ``time_limit`` seconds and validate the plan."""
    from solver.engine import SolveParams, solve
    from solver.io import load_json_document
    from solver.validation import validate_schedule

    began = time.perf_counter()
    dataset = load_json_document(document)
    result = solve(dataset, SolveParams(time_limit=time_limit, workers=workers, seed=seed))
    schedule = result.schedule
    violations = [str(v) for v in validate_schedule(dataset, schedule)]
    return PaichanRun(
        plant=name,
        status=result.status,
        weighted_days_late=result.objective["weighted_days_late"],
        unscheduled_priority=result.objective["unscheduled_priority"],
        changeover_minutes=sum(entry["changeover_minutes"] for entry in schedule["orders"]),
        bound_days=result.bound.get("weighted_days_late", 0),
        list_days_late=result.baseline_objective["weighted_days_late"],
        violations=violations,
        solve_seconds=result.seconds,
        wall_seconds=time.perf_counter() - began,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        stages=dict(schedule.get("solver", {}).get("stages", {})),
        timings=dict(result.timings),
        schedule=schedule,
    )


def validate_peer_plan(document: dict[str, Any], run: PeerRun) -> None:
    """Judge PyJobShop's converted plan with paichan's validator (``run.violations``; no plan: left None)."""
    from solver.io import load_json_document
    from solver.validation import validate_schedule

    if run.schedule is not None:
        run.violations = [str(v) for v in validate_schedule(load_json_document(document), run.schedule)]


# -- a plan as a paichan schedule document -------------------------------------------------------


def schedule_document(
    view: PlantView,
    placements: dict[str, Placement],
    *,
    status: str = "FEASIBLE",
    solve_seconds: float = 0.0,
    bound_days: int | None = None,
) -> dict[str, Any]:
    """A paichan schedule document (FORMATS.md) for runs whose own minutes begin at ``placements``.

    Per line the runs are taken in start order; each gets the changeover from the family
    before it (the line's initial family for the first) right before its own minutes, so a
    run occupies ``[start − changeover, start + own minutes)`` of the line's working
    minutes, minute ``m`` on day ``m // C``. Raises ``ValueError`` when runs overlap with
    their changeovers or leave the horizon: such a plan breaks paichan's rules.
    """
    by_id = {order.order_id: order for order in view.orders}
    entries = []
    used: dict[tuple[str, int], int] = {}
    for line_id in view.line_ids:
        capacity = view.day_minutes[line_id]
        runs = sorted((p.start, order_id) for order_id, p in placements.items() if p.line_id == line_id)
        family, free = view.initial_family[line_id], 0
        for sequence, (start, order_id) in enumerate(runs, start=1):
            order = by_id[order_id]
            changeover = view.changeover(line_id, family, order.family)
            begin, end = start - changeover, start + own_minutes(order, line_id)
            if begin < free:
                raise ValueError(
                    f"{order_id} on {line_id} starts its changeover of {changeover} min at minute {begin}, "
                    f"before the line is free at minute {free}"
                )
            if end > view.horizon_days * capacity:
                raise ValueError(f"{order_id} on {line_id} ends at minute {end}, after the horizon")
            route = route_on(order, line_id)
            allocations = _allocations(view, order, route, capacity, begin, end, changeover)
            for allocation, day in zip(allocations, range(begin // capacity, (end - 1) // capacity + 1), strict=True):
                used[(line_id, day)] = used.get((line_id, day), 0) + allocation["minutes"]
            entries.append(_entry(view, order, line_id, capacity, begin, end, sequence, changeover, allocations))
            free = end
            family = order.family if order.family is not None else family
    unscheduled = [order for order in view.orders if order.order_id not in placements]
    objective = {
        "unscheduled_priority": sum(order.priority for order in unscheduled),
        "weighted_days_late": sum(by_id[e["order_id"]].priority * e["days_late"] for e in entries),
        "changed_orders": 0,
        "holding_days": sum(
            max(0, (by_id[e["order_id"]].due_date - dt.date.fromisoformat(e["delivery_date"])).days - COLLECTION_DAYS)
            for e in entries
        ),
    }
    document: dict[str, Any] = {
        "plan_start": view.plan_start.isoformat(),
        "status": status,
        "objective": objective,
        "solve_seconds": round(solve_seconds, 3),
        "warnings": [],
        "orders": entries,
        "unscheduled": [
            {"order_id": order.order_id, "reason": "no solution from PyJobShop in the time limit"}
            for order in unscheduled
        ],
        "line_loads": [
            {
                "line_id": line_id,
                "date": view.date_of(day).isoformat(),
                "minutes_used": used.get((line_id, day), 0),
                "minutes_available": view.day_minutes[line_id],
            }
            for line_id in view.line_ids
            for day in range(view.horizon_days)
        ],
    }
    if bound_days is not None:
        document["bound"] = {"weighted_days_late": bound_days}
    return document


def _allocations(
    view: PlantView, order: PlantOrder, route: Route, capacity: int, begin: int, end: int, changeover: int
) -> list[dict[str, Any]]:
    """Every production day with its minutes (changeover and setup first) and the units finished that day."""
    before_production = changeover + minutes_of_hours(route.setup_hours)
    rows, elapsed, finished = [], 0, 0
    first, last = begin // capacity, (end - 1) // capacity
    for day in range(first, last + 1):
        minutes = min(end, (day + 1) * capacity) - max(begin, day * capacity)
        elapsed += minutes
        producing = max(0, elapsed - before_production)
        done = (
            order.quantity
            if day == last
            else min(order.quantity, math.floor(producing * route.units_per_hour / 60 + 1e-9))
        )
        rows.append({"date": view.date_of(day).isoformat(), "minutes": minutes, "quantity": done - finished})
        finished = done
    return rows


def _entry(
    view: PlantView,
    order: PlantOrder,
    line_id: str,
    capacity: int,
    begin: int,
    end: int,
    sequence: int,
    changeover: int,
    allocations: list[dict[str, Any]],
) -> dict[str, Any]:
    first, last = begin // capacity, (end - 1) // capacity
    inspection, dispatch = last + 1, last + 2  # every day is a plant working day
    delivery = dispatch  # no transit
    return {
        "order_id": order.order_id,
        "line_id": line_id,
        "production_start": view.date_of(first).isoformat(),
        "production_end": view.date_of(last).isoformat(),
        "inspection_date": view.date_of(inspection).isoformat(),
        "dispatch_date": view.date_of(dispatch).isoformat(),
        "delivery_date": view.date_of(delivery).isoformat(),
        "due_date": order.due_date.isoformat(),
        "days_late": max(0, delivery - order.due_day),
        "product_id": order.product_id,
        "quantity": order.quantity,
        "priority": order.priority,
        "status": "confirmed",
        "sequence": sequence,
        "changeover_minutes": changeover,
        "start_minute": begin - first * capacity,
        "end_minute": end - last * capacity,
        "allocations": allocations,
    }


# -- the command -----------------------------------------------------------------------------------


def format_table(runs: list[PeerRun]) -> str:
    header = (
        "| plant | orders | lines | families | days | start | PyJobShop weighted days late | bound | EDD "
        "| changeover h | status | wall s |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|\n"
    )
    rows = []
    for run in runs:
        late = "—" if run.weighted_days_late is None else str(run.weighted_days_late)
        bound = "—" if run.bound_days is None else str(run.bound_days)
        hours = "—" if run.changeover_minutes is None else f"{run.changeover_minutes / 60:.1f}"
        rows.append(
            f"| {run.plant} | {run.orders} | {run.lines} | {run.families} | {run.days} "
            f"| {'EDD hint' if run.warm else 'cold'} | {late} | {bound} | {run.list_days_late} "
            f"| {hours} | {run.status} | {run.wall_seconds:.1f} |"
        )
    return header + "\n".join(rows) + "\n"


def _late(unscheduled: int | None, late: int | None) -> str:
    """Weighted days late, with the unscheduled priority when an order is left out; ``—``: no plan."""
    if late is None:
        return "—"
    return f"{late}" + (f" (+{unscheduled} unsch.)" if unscheduled else "")


def _valid(violations: list[str] | None) -> str:
    if violations is None:
        return "—"
    return "yes" if not violations else f"NO ({len(violations)})"


def paichan_wins(peer_runs: list[PeerRun], ours: PaichanRun) -> str:
    """Whether paichan's plan is no worse than PyJobShop's best (levels 1-2, lexicographic)."""
    planned = [
        (r.unscheduled_priority or 0, r.weighted_days_late) for r in peer_runs if r.weighted_days_late is not None
    ]
    if not planned:
        return "yes (no PyJobShop plan)"
    best = min(planned)
    mine = (ours.unscheduled_priority, ours.weighted_days_late)
    return "yes" if mine <= best else f"**no** ({mine[1]} > {best[1]})"


def format_side_by_side(peer_runs: list[PeerRun], ours: dict[str, PaichanRun]) -> str:
    """One row per plant: PyJobShop's plans (cold, EDD hint) and paichan's, in paichan's terms."""
    header = (
        "| plant | orders×lines×families×days | PyJobShop cold | PyJobShop EDD hint | **paichan** | paichan ≤ PyJobShop "
        "| bound PyJobShop / paichan | paichan first plan | changeover h PyJobShop best / paichan "
        "| valid PyJobShop cold / hint / paichan | wall s PyJobShop cold / hint / paichan |\n"
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|\n"
    )
    rows = []
    for name, mine in ours.items():
        theirs = [r for r in peer_runs if r.plant == name]
        cold = next((r for r in theirs if not r.warm), None)
        hint = next((r for r in theirs if r.warm), None)
        planned = [r for r in theirs if r.weighted_days_late is not None]
        best = min(planned, key=lambda r: (r.unscheduled_priority or 0, r.weighted_days_late), default=None)
        first = theirs[0]
        bounds = [r.bound_days for r in theirs if r.bound_days is not None]
        hours = "—" if best is None or best.changeover_minutes is None else f"{best.changeover_minutes / 60:.1f}"

        def cell(run: PeerRun | None, attribute: str) -> str:
            if run is None:
                return "n/a"
            if attribute == "late":
                return _late(run.unscheduled_priority, run.weighted_days_late)
            if attribute == "valid":
                return _valid(run.violations)
            return f"{run.wall_seconds:.1f}"

        rows.append(
            f"| {name} | {first.orders}×{first.lines}×{first.families}×{first.days} "
            f"| {cell(cold, 'late')} | {cell(hint, 'late')} "
            f"| **{_late(mine.unscheduled_priority, mine.weighted_days_late)}** | {paichan_wins(theirs, mine)} "
            f"| {max(bounds) if bounds else '—'} / {mine.bound_days} | {mine.list_days_late} "
            f"| {hours} / {mine.changeover_minutes / 60:.1f} "
            f"| {cell(cold, 'valid')} / {cell(hint, 'valid')} / {_valid(mine.violations)} "
            f"| {cell(cold, 'wall')} / {cell(hint, 'wall')} / {mine.wall_seconds:.1f} |"
        )
    return header + "\n".join(rows) + "\n"


def paichan_stages_table(ours: dict[str, PaichanRun]) -> str:
    """Where paichan's time went on each plant: its stages and their seconds."""
    header = "| plant | status | stages | seconds per step |\n|---|---|---|---|\n"
    rows = []
    for name, run in ours.items():
        stages = "; ".join(f"{k}: {v}" for k, v in run.stages.items())
        steps = ", ".join(
            f"{k} {v:g}" for k, v in run.timings.items() if k not in ("first_plan", "bound", "total") and v >= 0.05
        )
        rows.append(f"| {name} | {run.status} | {stages} | {steps} |")
    return header + "\n".join(rows) + "\n"


def readme_section(
    runs: list[PeerRun],
    time_limit: float,
    workers: int,
    seed: int,
    warm: bool,
    ours: dict[str, PaichanRun] | None = None,
    load: str = "",
) -> str:
    import subprocess
    from importlib.metadata import version

    import ortools

    command = f"python -m benchmarks.pyjobshop_peer --time-limit {time_limit:g} --plants all --workers {workers}"
    command += f" --seed {seed}" + (" --warm" if warm else "") + (" --with-paichan" if ours else "") + " --record"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=README.parent, capture_output=True, text=True, check=False
    ).stdout.strip()
    side = ""
    if ours:
        wins = sum(paichan_wins([r for r in runs if r.plant == n], o).startswith("yes") for n, o in ours.items())
        peer_planned = sum(any(r.weighted_days_late is not None for r in runs if r.plant == n) for n in ours)
        side = f"""
paichan against PyJobShop, both plans judged by paichan's validator (changeovers planned,
`solver.domain.PLAN_CHANGEOVERS_AND_CAPS` on), engine `{commit}`{load}:

{format_side_by_side(runs, ours)}
**paichan ≤ PyJobShop on {wins} of {len(ours)} plants** ({peer_planned} of which PyJobShop planned at all in
{time_limit:g} s). *paichan first plan*: the best of its list schedules (changeover-aware), where its search starts;
*bound*: PyJobShop's minute bound in weighted days, and paichan's bound from its relaxations (they ignore changeovers,
so they stay valid, weak only where changeovers decide); *valid*: `solver.validation.validate_schedule` on each plan, `—` when there is no
plan. Where paichan's {time_limit:g} s went (`schedule["solver"]["stages"]`, `schedule["timings"]`):

{paichan_stages_table(ours)}"""
    return f"""{HEADING}

Issue #15 asks for paichan's weighted days late ≤ PyJobShop's on at least five changeover plants both can
express, at equal time. `{command}` (PyJobShop {version("pyjobshop")}, `solver="ortools"`, OR-Tools
{ortools.__version__}, {workers} CP-SAT workers for both tools, seed {seed}, {time_limit:g} s per solve for both,
Python {platform.python_version()}; install with `pip install -e .[bench]`). paichan's side is
`solver.engine.solve(dataset, SolveParams(time_limit={time_limit:g}, workers={workers}, seed={seed}))` on the same
plant document. The plants come from `benchmarks/changeover_plants.py`, deterministic by seed: every
day a working day, one `hours_per_day` per line, no calendars, materials or transit, every order confirmed,
2–4 families with all-lines and line-specific changeover rows, an `initial_family` per line (CO4: one line
without), CO3 with a 30-min setup on every routing. Each plant is shrunk until its earliest-due-date list
schedule fits the horizon, so every order can be planned.

The translation (`benchmarks/pyjobshop_peer.py`'s docstring): one machine per line, one job per order weighted by
priority, one mode per routing, PyJobShop setup times between tasks for the changeovers, a zero-length dummy task
fixed at time 0 per line carrying the changeover from its `initial_family`, each line's minutes stretched to one
day length (the lcm of the lines' minutes per day) so a job has one due date, the end of day due − 2, and one
deadline, the horizon's end. PyJobShop minimises weighted tardiness in minutes; its returned plan is scored
in paichan's terms (Σ priority × days late from its end minutes; delivery = last production day + 2). `bound` is
its lower bound in weighted days (⌈bound / day length⌉), a bound on paichan's optimum too; `status` is PyJobShop's
and about its minute objective. `start`: `cold` is PyJobShop as it comes; `EDD hint` hands it the list schedule
as `initial_solution` (PyJobShop 0.0.9 hints every earlier task on a machine as a predecessor arc, not only the
direct one, so CP-SAT has to repair the hint). `EDD` is that list schedule's own weighted days late. `—`: no plan
in the time limit. Every PyJobShop plan is converted into a paichan schedule document (sequence, changeover
minutes, day allocations, dates) and checked by paichan's validator; the documents, the plants and
`results.json` are written to `--out` (default `$TMPDIR/paichan-changeover-bench`).
{side}
PyJobShop's runs in detail:

{format_table(runs)}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per plant (CP-SAT)")
    parser.add_argument("--plants", nargs="+", default=["all"], help=f"plant names ({', '.join(SPECS)}) or all")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (match paichan's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--warm", action="store_true", help="also solve with the earliest-due-date list schedule as a warm start"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results, plants and schedules (untracked)")
    parser.add_argument(
        "--with-paichan", action="store_true", help="also plan every plant with paichan's engine (same time, workers)"
    )
    parser.add_argument("--record", action="store_true", help=f"write the table into {README.name}")
    args = parser.parse_args(argv)
    names = list(SPECS) if args.plants == ["all"] else args.plants
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        parser.error(f"unknown plants {unknown}; known: {', '.join(SPECS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    ours: dict[str, PaichanRun] = {}
    load_before = os.getloadavg()
    for name, document in plant_documents(names).items():
        view = read_plant(document, name)
        (args.out / f"{name}.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
        for warm in (False, True) if args.warm else (False,):
            run = solve_plant(view, args.time_limit, args.workers, args.seed, warm=warm)
            runs.append(run)
            suffix = ".warm" if warm else ""
            if run.schedule is not None:
                path = args.out / f"{name}.pyjobshop{suffix}.schedule.json"
                path.write_text(json.dumps(run.schedule, indent=1), "utf-8")
            if args.with_paichan:
                validate_peer_plan(document, run)
            print(
                f"{name}{suffix}: {run.status}, weighted days late {run.weighted_days_late}, {run.wall_seconds:.1f} s"
                + ("" if run.violations is None else f", valid {not run.violations}"),
                flush=True,
            )
        if args.with_paichan:
            mine = solve_with_paichan(document, name, args.time_limit, args.workers, args.seed)
            ours[name] = mine
            path = args.out / f"{name}.paichan.schedule.json"
            path.write_text(json.dumps(mine.schedule, indent=1), "utf-8")
            print(
                f"{name} paichan: {mine.status}, weighted days late {mine.weighted_days_late}, "
                f"unscheduled {mine.unscheduled_priority}, valid {not mine.violations}, {mine.wall_seconds:.1f} s",
                flush=True,
            )
    load_after = os.getloadavg()
    load = f"; load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores)"
    results = [{k: v for k, v in dataclasses.asdict(run).items() if k != "schedule"} for run in runs]
    results += [
        {"tool": "paichan", **{k: v for k, v in dataclasses.asdict(run).items() if k != "schedule"}}
        for run in ours.values()
    ]
    (args.out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print()
    print(format_table(runs))
    if ours:
        print(format_side_by_side(runs, ours))
        print(paichan_stages_table(ours))
    print(f"results, plant documents and schedules in {args.out}")
    if args.record:
        from benchmarks.peer import replace_section

        text = README.read_text(encoding="utf-8")
        section = readme_section(runs, args.time_limit, args.workers, args.seed, args.warm, ours, load)
        README.write_text(replace_section(text, HEADING, section), encoding="utf-8")
        print(f"recorded in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
