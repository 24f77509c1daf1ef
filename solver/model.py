"""The CP-SAT model of PROBLEM.md: variables, constraints, objective; nothing else.

Each order chooses one of its lines; on that line its run is an optional
interval on the line's working-minute axis (see :mod:`solver.instance`), so
runs never overlap and are uninterrupted except by non-working time. Element
constraints tie the interval's first and last minute to calendar days, from
which kitting, release, inspection, dispatch and delivery follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.instance import Candidate, Instance
from solver.objective import Objective
from solver.rules import (
    OrderVars,
    add_delivery_costs,
    add_earliest_start,
    add_end_day,
    add_end_day_holding_side,
    add_in_production,
    add_kitting,
    add_line_choice,
    add_no_overlap,
    add_plan_change,
    add_start_day,
    keep_primary,
    kit_users,
    lateness_weight,
    new_run,
    primary_objective,
    secondary_objective,
    stock_changes,
    unscheduled_priority,
    weighted_days_late,
)
from solver.solution import Assignment


@dataclass(frozen=True)
class Baseline:
    """A previous plan's line and start day per order, and the frozen window."""

    line_and_start: dict[str, tuple[str, int]]
    frozen_until_day: int = -1  # orders starting on or before this day keep line and start

    @classmethod
    def from_schedule(cls, instance: Instance, previous: dict | None, frozen_days: int) -> Baseline:
        if not previous:
            return cls({})
        plan_start = instance.calendar.plan_start
        line_and_start = {}
        for entry in previous.get("orders", []):
            try:
                start = (dt.date.fromisoformat(entry["production_start"]) - plan_start).days
                line_and_start[str(entry["order_id"])] = (str(entry["line_id"]), start)
            except (KeyError, TypeError, ValueError):
                continue  # a malformed row of an old plan only costs its stability term
        return cls(line_and_start, instance.calendar.frozen_window_end(frozen_days))

    def frozen(self, order_id: str) -> tuple[str, int] | None:
        previous = self.line_and_start.get(order_id)
        if previous and 0 <= previous[1] <= self.frozen_until_day:
            return previous
        return None


class ScheduleModel:
    """CP-SAT model of the whole plan, its constraints from :mod:`solver.rules`; the engine
    minimises :meth:`primary_objective`, then :meth:`secondary_objective` with levels 1-2 kept.

    Parameters
    ----------
    instance
        The prepared data.
    baseline
        Previous plan for stability and the frozen window.
    """

    def __init__(self, instance: Instance, baseline: Baseline | None = None, enforce_frozen: bool = True):
        self._instance = instance
        self._baseline = baseline or Baseline({})
        self.enforces_frozen = enforce_frozen
        self.model = cp_model.CpModel()
        self.orders: dict[str, OrderVars] = {}
        self._add_variables()
        self._add_constraints()
        self.lateness_weight = lateness_weight(self.orders.values())

    # -- variables --------------------------------------------------------------

    def _add_variables(self) -> None:
        for candidate in self._instance.candidates:
            order = self._order_vars(candidate)
            for option in candidate.options:
                run = new_run(self.model, order.order_id, option, option.earliest_position, option.latest_position)
                order.options[option.line_id] = run
            self.orders[order.order_id] = order

    def _order_vars(self, candidate: Candidate) -> OrderVars:
        """The order's days and costs over the whole horizon."""
        instance, model, oid = self._instance, self.model, candidate.order_id
        first_end = min(instance.axes[o.line_id].day_of(o.earliest_position + o.minutes - 1) for o in candidate.options)
        last_start = max(instance.axes[o.line_id].day_of(o.latest_position) for o in candidate.options)
        end_days = [d for d in range(first_end, instance.horizon) if instance.delivery_day(candidate, d) >= 0]
        deliveries = [instance.delivery_day(candidate, d) for d in end_days] or [0]
        max_late = max(0, max(deliveries) - candidate.due_day)
        max_holding = max(0, candidate.due_day - min(deliveries))  # loose: the collection week is not taken off
        return OrderVars(
            candidate=candidate,
            scheduled=model.new_bool_var(f"scheduled[{oid}]"),
            start_day=model.new_int_var(candidate.earliest_day, last_start, f"start_day[{oid}]"),
            end_day=model.new_int_var_from_domain(cp_model.Domain.from_values(end_days), f"end_day[{oid}]"),
            delivery_day=model.new_int_var(min(deliveries), max(deliveries), f"delivery_day[{oid}]"),
            days_late=model.new_int_var(0, max_late, f"days_late[{oid}]"),
            holding_days=model.new_int_var(0, max_holding, f"holding[{oid}]"),
            max_days_late=max_late,
            max_holding_days=max_holding,
            # plan stability compares the start day with the previous plan's: tie it from both sides
            start_day_exact=oid in self._baseline.line_and_start,
        )

    # -- constraints -----------------------------------------------------------

    def _add_constraints(self) -> None:
        """Every rule of PROBLEM.md, from :mod:`solver.rules`, over every order and the whole horizon."""
        model, instance, orders = self.model, self._instance, list(self.orders.values())
        for order in orders:
            add_line_choice(model, order)
        add_no_overlap(model, _runs_by_line(orders))
        for order in orders:
            self._add_run_days(order)
        for order in orders:
            add_earliest_start(model, order)
        for order in orders:
            add_in_production(model, order)
        for material_id, users in kit_users(orders).items():
            add_kitting(model, stock_changes(instance.material_available[material_id]), users)
        for order in orders:
            add_delivery_costs(model, instance, order)
        self._add_stability()

    def _add_run_days(self, order: OrderVars) -> None:
        # the start day only feeds kitting (where an earlier day is stricter, so a lower
        # bound is exact enough) unless plan stability compares it with a previous plan;
        # the end day gets the side holding needs with that objective, in the second stage
        for run in order.options.values():
            if order.start_day_exact or order.candidate.material_need:
                add_start_day(self.model, self._instance, run, order.start_day, exact=order.start_day_exact)
            add_end_day(self.model, self._instance, run, order.end_day, exact=False)

    def add_exact_end_day_constraints(self) -> None:
        """An order's last production day is exactly the day its run's last minute falls on."""
        for order in self.orders.values():
            for run in order.options.values():
                add_end_day_holding_side(self.model, self._instance, run, order.end_day)

    def _add_stability(self) -> None:
        days = (0, self._instance.horizon - 1)
        for order_id, order in self.orders.items():
            previous = self._baseline.line_and_start.get(order_id)
            if previous is not None:
                frozen = self.enforces_frozen and self._baseline.frozen(order_id) is not None
                add_plan_change(self.model, self._instance, order, previous, days, frozen=frozen)

    # -- objective --------------------------------------------------------------

    def unscheduled_priority(self) -> cp_model.LinearExprT:
        return unscheduled_priority(self.orders.values())

    def weighted_days_late(self) -> cp_model.LinearExprT:
        return weighted_days_late(self.orders.values())

    def primary_objective(self) -> cp_model.LinearExprT:
        """Levels 1 and 2: unscheduled priority, then weighted days late."""
        return primary_objective(self.orders.values())

    def secondary_objective(self) -> cp_model.LinearExprT:
        """Levels 3 and 4: changed orders, then holding days beyond the collection week."""
        return secondary_objective(self.orders.values())

    def keep_primary(self, at_most: Objective) -> None:
        """Levels 1-2 no worse than ``at_most`` (the first stage's plan) in the second stage."""
        keep_primary(self.model, self.orders.values(), at_most)

    # -- hints and solutions ------------------------------------------------------

    def add_hint(self, assignments: dict[str, Assignment]) -> None:
        """Hint every decision with a constructive plan."""
        self.model.clear_hints()
        for order_id, order in self.orders.items():
            assignment = assignments.get(order_id)
            self.model.add_hint(order.scheduled, assignment is not None)
            for line_id, run in order.options.items():
                chosen = assignment is not None and assignment.line_id == line_id
                self.model.add_hint(run.present, chosen)
                self.model.add_hint(run.start, assignment.start if chosen else run.option.earliest_position)
            if assignment is not None:
                self._hint_days(order, assignment)

    def _hint_days(self, order: OrderVars, assignment: Assignment) -> None:
        axis = self._instance.axes[assignment.line_id]
        minutes = order.options[assignment.line_id].option.minutes
        first, last = axis.day_of(assignment.start), axis.day_of(assignment.start + minutes - 1)
        delivery = self._instance.delivery_day(order.candidate, last)
        self.model.add_hint(order.start_day, first)
        self.model.add_hint(order.end_day, last)
        self.model.add_hint(order.delivery_day, delivery)
        self.model.add_hint(order.days_late, self._instance.days_late(order.candidate, last))
        self.model.add_hint(order.holding_days, self._instance.holding_days(order.candidate, last))

    def assignments(self, values: cp_model.CpSolver | cp_model.CpSolverSolutionCallback) -> dict[str, Assignment]:
        """The runs of a solution: line and start position of every scheduled order."""
        chosen = {}
        for order_id, order in self.orders.items():
            for line_id, run in order.options.items():
                if values.boolean_value(run.present):
                    chosen[order_id] = Assignment(order_id, line_id, int(values.value(run.start)))
        return chosen


def _runs_by_line(orders: list[OrderVars]) -> dict[str, list[cp_model.IntervalVar]]:
    by_line: dict[str, list[cp_model.IntervalVar]] = {}
    for order in orders:
        for line_id, run in order.options.items():
            by_line.setdefault(line_id, []).append(run.interval)
    return by_line
