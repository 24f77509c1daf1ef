"""The rules of PROBLEM.md as CP-SAT constraints: one function per rule family.

The exact model (:class:`solver.model.ScheduleModel`) and the LNS sub-model
(:class:`solver.lns.SubModel`) build their constraints from these functions,
each taking ``(model, instance, variables...)``. What differs between the two
is what they give them: the exact model every order over the whole horizon
and the stock of ``materials.csv`` and ``arrivals.csv``; the sub-model the
freed orders, runs and days confined to a window, and the stock the fixed
runs leave. Each function's docstring states its rule in the words of
PROBLEM.md, and :mod:`solver.validation` checks the same sentence, so that
``grep`` finds the rule, its constraint and its check in one step.

A day variable is tied to a run on the line's working-minute axis (see
:mod:`solver.instance`) by element constraints, one side at a time: each
model adds the side its objective does not push against, and both sides
where a rule compares the day itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.domain import COLLECTION_DAYS
from solver.instance import Candidate, Instance, LineAxis, Option
from solver.objective import Objective


@dataclass
class RunVars:
    """An order's run on one of its lines: whether it is the line chosen, and where it starts."""

    option: Option
    present: cp_model.IntVar
    start: cp_model.IntVar  # first working minute on the line's axis
    interval: cp_model.IntervalVar

    @property
    def line_id(self) -> str:
        return self.option.line_id

    @property
    def last_minute(self) -> cp_model.LinearExprT:
        return self.start + self.option.minutes - 1


@dataclass
class OrderVars:
    """An order's decisions and the days and costs that follow from them."""

    candidate: Candidate
    scheduled: cp_model.IntVar
    start_day: cp_model.IntVar  # at most the run's first day; exactly it when start_day_exact
    end_day: cp_model.IntVar  # at least the run's last day; exactly it when the holding side is added
    delivery_day: cp_model.IntVar
    days_late: cp_model.IntVar
    holding_days: cp_model.IntVar
    max_days_late: int
    max_holding_days: int
    options: dict[str, RunVars] = field(default_factory=dict)  # by line
    start_day_exact: bool = False
    changed: cp_model.LinearExprT | None = None  # only for orders of a previous plan

    @property
    def order_id(self) -> str:
        return self.candidate.order_id


# -- lines and runs -----------------------------------------------------------------------


def new_run(model: cp_model.CpModel, order_id: str, option: Option, first: int, last: int) -> RunVars:
    """An order runs on one line, without interruption except by non-working time.

    The run is an optional interval on the line's working-minute axis, starting between positions
    ``first`` and ``last``, of the minutes the order needs there:
    On line l the order needs round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour) minutes.
    Being one interval on that axis, it keeps the day-bucket rules by construction:
    Its production days are consecutive working days of that line (days with capacity > 0).
    Every day strictly between its first and its last day is filled entirely by it.
    On any day at most one order carries over from the day before and at most one carries on into the next.
    """
    name = f"{order_id},{option.line_id}"
    present = model.new_bool_var(f"present[{name}]")
    start = model.new_int_var(first, last, f"start[{name}]")
    interval = model.new_optional_fixed_size_interval_var(start, option.minutes, present, f"run[{name}]")
    return RunVars(option, present, start, interval)


def add_line_choice(model: cp_model.CpModel, order: OrderVars) -> None:
    """A product can be made on the lines listed for it in routings.csv; an order runs on one line, or is unscheduled."""
    model.add(sum(run.present for run in order.options.values()) == order.scheduled)


def add_no_overlap(model: cp_model.CpModel, runs_by_line: Mapping[str, list[cp_model.IntervalVar]]) -> None:
    """Per line and date, the minutes of all orders add up to at most the capacity."""
    for intervals in runs_by_line.values():
        model.add_no_overlap(intervals)


# -- the run's days -----------------------------------------------------------------------


def _bound_position_by_day(
    model: cp_model.CpModel,
    day: cp_model.IntVar,
    position: cp_model.LinearExprT,
    minute_of_day: list[int],
    present: cp_model.IntVar,
    from_below: bool,
) -> None:
    """When ``present``: ``position`` at or after ``minute_of_day[day]`` (the day's first working
    minute, ``from_below``) or at or before it (its last). A day off has last < first, so no
    position can fall on it."""
    limit = model.new_int_var(min(minute_of_day), max(minute_of_day), "")
    model.add_element(day, minute_of_day, limit)
    if from_below:
        model.add(position >= limit).only_enforce_if(present)
    else:
        model.add(position <= limit).only_enforce_if(present)


def add_start_day(
    model: cp_model.CpModel, instance: Instance, run: RunVars, start_day: cp_model.IntVar, *, exact: bool
) -> None:
    """An order's materials are issued in full on its first production day.

    ``start_day`` is at most the day of the run's first minute, all kitting needs (an earlier
    issue only asks more of the stock), and exactly that day when ``exact``.
    """
    axis = instance.axes[run.line_id]
    _bound_position_by_day(model, start_day, run.start, first_minutes(axis), run.present, from_below=True)
    if exact:
        _bound_position_by_day(model, start_day, run.start, last_minutes(axis), run.present, from_below=False)


def add_end_day(
    model: cp_model.CpModel, instance: Instance, run: RunVars, end_day: cp_model.IntVar, *, exact: bool
) -> None:
    """Inspection takes place on the first plant working day strictly after the last production day.

    ``end_day`` is at least the day of the run's last minute, all lateness needs (it pushes the
    day down), and exactly that day when ``exact`` (holding pushes it up).
    """
    axis = instance.axes[run.line_id]
    _bound_position_by_day(model, end_day, run.last_minute, last_minutes(axis), run.present, from_below=False)
    if exact:
        add_end_day_holding_side(model, instance, run, end_day)


def add_end_day_holding_side(
    model: cp_model.CpModel, instance: Instance, run: RunVars, end_day: cp_model.IntVar
) -> None:
    """The side of :func:`add_end_day` that holding needs: ``end_day`` at most the day of the
    run's last minute."""
    axis = instance.axes[run.line_id]
    _bound_position_by_day(model, end_day, run.last_minute, first_minutes(axis), run.present, from_below=True)


def first_minutes(axis: LineAxis) -> list[int]:
    """The first position of each day of the horizon on the line's axis."""
    return [int(v) for v in axis.start[:-1]]


def last_minutes(axis: LineAxis) -> list[int]:
    """The last position of each day (one before its first on a day off)."""
    return [int(v) for v in axis.start[1:] - 1]


def add_earliest_start(model: cp_model.CpModel, order: OrderVars) -> None:
    """No order starts before its earliest_start (when given) nor before the plan start."""
    model.add(order.start_day >= order.candidate.earliest_day)


def add_in_production(model: cp_model.CpModel, order: OrderVars) -> None:
    """In_production orders keep the line given in pinned_line and start on that line's first working day on or after the plan start."""
    for run in order.options.values():
        if run.option.fixed_start_day is not None:
            model.add(order.start_day == run.option.fixed_start_day).only_enforce_if(run.present)


# -- materials ------------------------------------------------------------------------------


def kit_users(orders: Iterable[OrderVars]) -> dict[str, list[tuple[OrderVars, int]]]:
    """The orders that draw on each material, with the scaled quantity of their kit."""
    users: dict[str, list[tuple[OrderVars, int]]] = {}
    for order in orders:
        for material_id, quantity in order.candidate.material_need.items():
            users.setdefault(material_id, []).append((order, quantity))
    return users


def stock_changes(level: np.ndarray) -> list[tuple[int, int]]:
    """(day, change) of a stock level given per day: the stock on day 0, then each day it changes."""
    changes = np.diff(level, prepend=0)
    return [(int(day), int(changes[day])) for day in np.flatnonzero(changes)]


def add_kitting(model: cp_model.CpModel, stock: list[tuple[int, int]], users: list[tuple[OrderVars, int]]) -> None:
    """For every material and every date d, the materials issued to orders starting on or before d add up to at most what is available up to d.

    ``stock`` is the material's available level as :func:`stock_changes` gives it, ``users`` the
    orders whose kit takes it (in_production orders already have their materials and take none).
    """
    times: list[cp_model.LinearExprT] = [day for day, _ in stock]
    changes = [change for _, change in stock]
    actives: list[cp_model.LiteralT] = [True] * len(stock)
    for order, quantity in users:
        times.append(order.start_day)
        changes.append(-quantity)
        actives.append(order.scheduled)
    ceiling = sum(change for change in changes if change > 0)
    model.add_reservoir_constraint_with_active(times, changes, actives, 0, max(ceiling, 0))


# -- after production: delivery, lateness, holding -------------------------------------------


def add_delivery_costs(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """Delivery is dispatch plus the customer's transit_days calendar days.

    Dispatch takes place on the first plant working day strictly after inspection (the delivery
    table by end day, :meth:`~solver.instance.Instance.delivery_days`, holds both time rules).
    Days late is max(0, delivery - due_date) in calendar days.
    Holding: days between delivery and due date beyond the 7 days within which customers must collect.
    """
    candidate = order.candidate
    deliveries = np.maximum(0, instance.delivery_days(candidate)).tolist()  # by end day
    model.add_element(order.end_day, deliveries, order.delivery_day)
    model.add(order.days_late >= order.delivery_day - candidate.due_day).only_enforce_if(order.scheduled)
    model.add(order.holding_days >= candidate.due_day - order.delivery_day - COLLECTION_DAYS).only_enforce_if(
        order.scheduled
    )


# -- plan stability ----------------------------------------------------------------------------


def add_plan_change(
    model: cp_model.CpModel,
    instance: Instance,
    order: OrderVars,
    previous: tuple[str, int],
    days: tuple[int, int],
    *,
    frozen: bool,
) -> None:
    """Orders whose line or start day changes against the previous plan are counted (plan stability).

    Orders starting inside the frozen window (frozen_days working days from the plan start) keep their line and start exactly.
    The model enforces it when ``frozen``. ``previous`` is the previous plan's line and start day; ``days``
    the first and last day the model may start the order on. Sets ``order.changed``.
    """
    line_id, start_day = previous
    run = order.options.get(line_id)
    if run is None or not days[0] <= start_day <= days[1]:
        order.changed = 1  # the previous run cannot be kept here
        return
    unchanged = model.new_bool_var(f"unchanged[{order.order_id}]")
    model.add_implication(unchanged, run.present)
    if order.start_day_exact:
        model.add(order.start_day == start_day).only_enforce_if(unchanged)
    else:  # the start day is only bounded for kitting: keep the run's first minute in that day
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
    return sum(o.candidate.priority * o.days_late for o in orders)


def changed_orders(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 3: orders whose line or start day changes against the previous plan are counted (plan stability)."""
    return sum(o.changed for o in orders if o.changed is not None)


def holding_days(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 4, holding: days between delivery and due date beyond the 7 days within which customers must collect."""
    return sum(o.holding_days for o in orders)


def lateness_weight(orders: Iterable[OrderVars]) -> int:
    """One priority point unscheduled outweighs any possible lateness."""
    return 1 + sum(o.candidate.priority * o.max_days_late for o in orders)


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
