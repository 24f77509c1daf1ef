"""The rules of PROBLEM.md as CP-SAT constraints: one function per rule family.

The exact model and the LNS sub-model (both :class:`solver.model.PlanModel`)
build their constraints from these functions, each taking ``(model, instance,
variables...)``. What differs between the two is what they give them: the
exact model every order over the whole horizon, no fixed runs and the stock of
``materials.csv`` and ``arrivals.csv``; the sub-model the freed orders, each
confined to a window of days, the runs of the rest of the plan and the stock
those leave. Each function's docstring states its rule in the words of
PROBLEM.md, and :mod:`solver.validation` checks the same sentence, so that
``grep`` finds the rule, its constraint and its check in one step.

Everything is stated on each line's working-minute axis (see
:mod:`solver.instance`) with linear rows and Booleans, without element
constraints (their expansion took half of every sub-solve's time):

* a run may only start where it fits: after its release, inside the horizon
  (or its window) and in a gap the fixed runs leave on the line;
* days late, holding and the kit's issue day are step functions of the run's
  first or last minute, written as thresholds on the axis: a Boolean for each
  day on which the function steps, tied to the run's position by one enforced
  inequality. The objective pushes each Boolean the cheap way and the rows
  force it where the run really ends, so the costs are exact.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.domain import COLLECTION_DAYS
from solver.instance import Candidate, Instance, Option
from solver.objective import Objective


@dataclass
class RunVars:
    """An order's run on one of its lines: whether it is the line chosen, and where it starts."""

    option: Option
    present: cp_model.IntVar
    start: cp_model.IntVar  # first working minute on the line's axis
    interval: cp_model.IntervalVar
    late_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (day's first minute, ends at/after)
    early_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (day's last minute, ends at/before)

    @property
    def line_id(self) -> str:
        return self.option.line_id


@dataclass
class OrderVars:
    """An order's decisions, the days it may run on and the costs that follow."""

    candidate: Candidate
    scheduled: cp_model.IntVar
    first_day: int  # the window of days its run must lie in
    last_day: int
    options: dict[str, RunVars] = field(default_factory=dict)  # by line
    weighted_days_late: cp_model.LinearExprT = 0
    holding_days: cp_model.LinearExprT = 0
    changed: cp_model.LinearExprT | None = None  # only for orders of a previous plan
    max_weighted_days_late: int = 0
    max_holding_days: int = 0

    @property
    def order_id(self) -> str:
        return self.candidate.order_id


# -- lines and runs -----------------------------------------------------------------------


def run_start_domain(
    instance: Instance, option: Option, first_day: int, last_day: int, fixed: list[tuple[int, int]]
) -> cp_model.Domain | None:
    """No order starts before its earliest_start (when given) nor before the plan start.
    In_production orders keep the line given in pinned_line and start on that line's first working day on or after the plan start.
    Per line and date, the minutes of all orders add up to at most the capacity.

    The positions on the line's axis where the run may start: from its release
    (``option.earliest_position``; for an in-production or pinned order the first minute of its
    fixed day, and no later than that day's last minute: :func:`add_pins`) to the latest start
    that still ends inside the horizon, within ``[first_day, last_day]``, and where it fits between
    the ``fixed`` runs (sorted ``(start, end)`` pairs) that stay on the line. ``None``: nowhere.
    """
    axis = instance.axes[option.line_id]
    low = max(option.earliest_position, int(axis.start[first_day]))
    high = min(option.latest_position, int(axis.start[last_day + 1]) - option.minutes)
    intervals, cursor = [], low
    for start, end in fixed:
        if cursor > high:
            break
        if start - option.minutes >= cursor:
            intervals.append([cursor, min(high, start - option.minutes)])
        cursor = max(cursor, end)
    if cursor <= high:
        intervals.append([cursor, high])
    return cp_model.Domain.from_intervals(intervals) if intervals else None


def new_run(model: cp_model.CpModel, order_id: str, option: Option, domain: cp_model.Domain) -> RunVars:
    """An order runs on one line, without interruption except by non-working time.

    The run is an optional interval on the line's working-minute axis, starting at a position of
    ``domain`` (:func:`run_start_domain`), of the minutes the order needs there:
    On line l the order needs round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour) minutes.
    Being one interval on that axis, it keeps the day-bucket rules by construction:
    Its production days are consecutive working days of that line (days with capacity > 0).
    Every day strictly between its first and its last day is filled entirely by it.
    On any day at most one order carries over from the day before and at most one carries on into the next.
    """
    name = f"{order_id},{option.line_id}"
    present = model.new_bool_var(f"present[{name}]")
    start = model.new_int_var_from_domain(domain, f"start[{name}]")
    interval = model.new_optional_fixed_size_interval_var(start, option.minutes, present, f"run[{name}]")
    return RunVars(option, present, start, interval)


def add_line_choice(model: cp_model.CpModel, order: OrderVars) -> None:
    """A product can be made on the lines listed for it in routings.csv; an order runs on one line, or is unscheduled."""
    model.add(sum(run.present for run in order.options.values()) == order.scheduled)


def add_no_overlap(model: cp_model.CpModel, orders: Iterable[OrderVars]) -> None:
    """Per line and date, the minutes of all orders add up to at most the capacity.

    The runs placed here never overlap on a line's axis; runs that stay put are outside every
    start domain already (:func:`run_start_domain`).
    """
    by_line: dict[str, list[cp_model.IntervalVar]] = {}
    for order in orders:
        for line_id, run in order.options.items():
            by_line.setdefault(line_id, []).append(run.interval)
    for intervals in by_line.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)


def add_pins(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """A confirmed order with pinned_line and pinned_start runs on that line and its first production day is pinned_start.
    In_production orders keep the line given in pinned_line and start on that line's first working day on or after the plan start.

    Both are one rule family: a start day the run must keep (``Option.fixed_start_day``, set for
    those orders only, on their pinned line only: :func:`solver.instance.build_instance` offers no
    other line). The start domain (:func:`run_start_domain`) already lies inside that day; the rows
    here state it again on the variables, so a window or a domain built some other way can never
    move a pinned run. A pin the plan cannot keep leaves the order unscheduled (level 1), never
    the plan infeasible.
    """
    for run in order.options.values():
        day = run.option.fixed_start_day
        if day is None:
            continue
        axis = instance.axes[run.line_id]
        model.add(run.start >= int(axis.start[day])).only_enforce_if(run.present)
        model.add(run.start < int(axis.start[day + 1])).only_enforce_if(run.present)


# -- after production: delivery, lateness, holding -------------------------------------------


def add_days_late(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """Inspection takes place on the first plant working day strictly after the last production day.
    Dispatch takes place on the first plant working day strictly after inspection.
    Delivery is dispatch plus the customer's transit_days calendar days.
    Days late is max(0, delivery - due_date) in calendar days.

    Sets ``order.weighted_days_late`` to priority × days late of the run's last production day
    (the delivery table by end day, :meth:`~solver.instance.Instance.delivery_days`, holds the time
    rules): it only grows with that day, so it is the cost of the window's first day plus one
    threshold per day on which it grows.
    """
    candidate = order.candidate
    late = candidate.priority * np.maximum(0, instance.delivery_days(candidate) - candidate.due_day)
    window = np.maximum.accumulate(late[order.first_day : order.last_day + 1])
    order.max_weighted_days_late = int(window[-1])
    order.weighted_days_late = sum(
        _cost_by_end_day(model, instance, order, run, window, growing=True) for run in order.options.values()
    )


def add_holding(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """Holding: days between delivery and due date beyond the 7 days within which customers must collect.

    Sets ``order.holding_days``: it only shrinks as the last production day moves later, so it is
    the cost of the window's last day plus one threshold per day on which it shrinks.
    """
    candidate = order.candidate
    hold = np.maximum(0, candidate.due_day - instance.delivery_days(candidate) - COLLECTION_DAYS)
    window = np.maximum.accumulate(hold[order.first_day : order.last_day + 1][::-1])[::-1]
    order.max_holding_days = int(window[0])
    order.holding_days = sum(
        _cost_by_end_day(model, instance, order, run, window, growing=False) for run in order.options.values()
    )


def end_day_expression(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> cp_model.LinearExprT:
    """The last production day of the order's run (0 when unscheduled), to minimise."""
    days = np.arange(order.first_day, order.last_day + 1)
    return sum(_cost_by_end_day(model, instance, order, run, days, growing=True) for run in order.options.values())


def _cost_by_end_day(
    model: cp_model.CpModel, instance: Instance, order: OrderVars, run: RunVars, cost: np.ndarray, *, growing: bool
) -> cp_model.LinearExprT:
    """``cost[d - first_day]`` for the day ``d`` of the run's last minute, when the run is chosen;
    ``cost`` is non-decreasing (``growing``) or non-increasing over the window."""
    axis, minutes = instance.axes[run.line_id], run.option.minutes
    base = int(cost[0] if growing else cost[-1])
    terms: list[cp_model.LinearExprT] = [base * run.present] if base else []
    for offset in np.flatnonzero(np.diff(cost)):
        day = order.first_day + int(offset) + (1 if growing else 0)
        step = model.new_bool_var("")
        if growing:  # not step => the run's last minute falls before the day's first
            first_minute = int(axis.start[day])
            model.add(run.start <= first_minute - minutes).only_enforce_if([~step, run.present])
            run.late_steps.append((first_minute, step))
        else:  # not step => the run's last minute falls after the day's last
            last_minute = int(axis.start[day + 1]) - 1
            model.add(run.start >= last_minute + 2 - minutes).only_enforce_if([~step, run.present])
            run.early_steps.append((last_minute, step))
        terms.append(abs(int(cost[offset + 1] - cost[offset])) * step)
    return sum(terms)


def add_deliver_by(instance: Instance, model: cp_model.CpModel, order: OrderVars, day: int) -> None:
    """The order delivers on or before ``day``: its run ends by the last production day from
    which it still does (order review: a committed order delivers no later than promised)."""
    deliveries = instance.delivery_days(order.candidate)
    in_time = np.flatnonzero((deliveries >= 0) & (deliveries <= day))
    last_end = int(in_time[-1]) if len(in_time) else -1
    for run in order.options.values():
        end = int(instance.axes[run.line_id].start[last_end + 1])
        model.add(run.start <= end - run.option.minutes).only_enforce_if(run.present)


# -- materials ------------------------------------------------------------------------------


def kit_users(orders: Iterable[OrderVars]) -> dict[str, list[OrderVars]]:
    """The orders whose kit takes each material (in_production orders already have theirs)."""
    users: dict[str, list[OrderVars]] = {}
    for order in orders:
        for material_id in order.candidate.material_need:
            users.setdefault(material_id, []).append(order)
    return users


def add_kitting(
    model: cp_model.CpModel,
    instance: Instance,
    material_id: str,
    users: list[OrderVars],
    left: np.ndarray,
    started: dict[tuple[str, int], cp_model.LinearExprT],
) -> None:
    """For every material and every date d, the materials issued to orders starting on or before d add up to at most what is available up to d.

    ``left`` is what is available up to each day, less what the runs that stay put took; the
    rows are kept on the days they can bind: the day before ``left`` rises, and from the users'
    last day on (no more is issued then) one row against the least left. ``started`` caches the
    "starts on or before day d" Booleans an order shares among its materials.
    """
    first = min(o.first_day for o in users)
    last = max(o.last_day for o in users)
    rises = np.flatnonzero(np.diff(left) > 0)
    rows = [(int(d), int(left[d])) for d in rises if first <= d < last]
    rows.append((last, int(left[last:].min())))
    for day, available in rows:
        issued = []
        for order in users:
            key = (order.order_id, day)
            if key not in started:
                started[key] = _started_by(model, instance, order, day)
            issued.append(order.candidate.material_need[material_id] * started[key])
        model.add(sum(issued) <= available)


def _started_by(model: cp_model.CpModel, instance: Instance, order: OrderVars, day: int) -> cp_model.LinearExprT:
    """1 when the order's run starts on or before ``day`` (its kit is issued by then)."""
    if day < order.first_day:
        return 0
    if day >= order.last_day:
        return order.scheduled
    started = model.new_bool_var("")
    for line_id, run in order.options.items():
        next_day_first_minute = int(instance.axes[line_id].start[day + 1])
        model.add(run.start >= next_day_first_minute).only_enforce_if([~started, run.present])
    model.add_implication(started, order.scheduled)
    return started


# -- plan stability ----------------------------------------------------------------------------


def add_plan_change(
    model: cp_model.CpModel, instance: Instance, order: OrderVars, previous: tuple[str, int], *, frozen: bool
) -> None:
    """Orders whose line or start day changes against the previous plan are counted (plan stability).

    Orders starting inside the frozen window (frozen_days working days from the plan start) keep their line and start exactly.
    The model enforces it when ``frozen``. ``previous`` is the previous plan's line and start day.
    Sets ``order.changed``.
    """
    line_id, start_day = previous
    run = order.options.get(line_id)
    if run is None or not order.first_day <= start_day <= order.last_day:
        order.changed = 1  # the previous run cannot be kept here
        return
    unchanged = model.new_bool_var(f"unchanged[{order.order_id}]")
    model.add_implication(unchanged, run.present)
    axis = instance.axes[line_id]
    model.add(run.start >= int(axis.start[start_day])).only_enforce_if(unchanged)
    model.add(run.start < int(axis.start[start_day + 1])).only_enforce_if(unchanged)
    if frozen:
        model.add(unchanged == 1)
    order.changed = 1 - unchanged


# -- the objective --------------------------------------------------------------------------------


def unscheduled_priority(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 1: Σ priority over unscheduled orders."""
    return sum(o.candidate.priority * (1 - o.scheduled) for o in orders)


def weighted_days_late(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 2: Σ priority × days_late."""
    return sum(o.weighted_days_late for o in orders)


def changed_orders(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 3: orders whose line or start day changes against the previous plan are counted (plan stability)."""
    return sum(o.changed for o in orders if o.changed is not None)


def holding_days(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 4, holding: days between delivery and due date beyond the 7 days within which customers must collect."""
    return sum(o.holding_days for o in orders)


def lateness_weight(orders: Iterable[OrderVars]) -> int:
    """One priority point unscheduled outweighs any possible lateness."""
    return 1 + sum(o.max_weighted_days_late for o in orders)


def primary_objective(orders: Collection[OrderVars]) -> cp_model.LinearExprT:
    """Levels 1 and 2 as one expression: unscheduled priority, then weighted days late."""
    return lateness_weight(orders) * unscheduled_priority(orders) + weighted_days_late(orders)


def secondary_objective(orders: Collection[OrderVars]) -> cp_model.LinearExprT:
    """Levels 3 and 4 as one expression: changed orders, then holding days."""
    holding_weight = 1 + sum(o.max_holding_days for o in orders)
    return holding_weight * changed_orders(orders) + holding_days(orders)


def keep_primary(model: cp_model.CpModel, orders: Collection[OrderVars], at_most: Objective) -> None:
    """Levels 1-2 no worse than ``at_most`` while levels 3-4 are minimised."""
    model.add(primary_objective(orders) <= at_most.primary_value(lateness_weight(orders)))
