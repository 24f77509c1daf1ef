"""The CP-SAT model of PROBLEM.md: variables, constraints, objective; nothing else.

Each order chooses one of its lines; on that line its run is an optional
interval on the line's working-minute axis (see :mod:`solver.instance`), so
runs never overlap and are uninterrupted except by non-working time. Element
constraints tie the interval's first and last minute to calendar days, from
which kitting, release, inspection, dispatch and delivery follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.instance import Candidate, Instance, Option
from solver.solution import Assignment


@dataclass
class OptionVars:
    option: Option
    present: cp_model.IntVar
    start: cp_model.IntVar
    interval: cp_model.IntervalVar


@dataclass
class OrderVars:
    candidate: Candidate
    scheduled: cp_model.IntVar
    start_day: cp_model.IntVar
    end_day: cp_model.IntVar
    delivery_day: cp_model.IntVar
    days_late: cp_model.IntVar
    holding_days: cp_model.IntVar
    max_days_late: int
    max_holding_days: int
    options: dict[str, OptionVars] = field(default_factory=dict)
    changed: cp_model.IntVar | None = None


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


def bound_position_by_day(
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


class ScheduleModel:
    """CP-SAT model of the plan; ``stage`` 1 ranks plans by unscheduled then lateness.

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
        self.lateness_weight = self._unscheduled_weight()

    # -- variables --------------------------------------------------------------

    def _add_variables(self) -> None:
        horizon = self._instance.horizon
        for candidate in self._instance.candidates:
            oid = candidate.order_id
            first_end = min(
                self._instance.axes[o.line_id].day_of(o.earliest_position + o.minutes - 1) for o in candidate.options
            )
            last_start = max(self._instance.axes[o.line_id].day_of(o.latest_position) for o in candidate.options)
            end_days = [d for d in range(first_end, horizon) if self._instance.delivery_day(candidate, d) >= 0]
            deliveries = [self._instance.delivery_day(candidate, d) for d in end_days] or [0]
            model = self.model
            max_late = max(0, max(deliveries) - candidate.due_day)
            max_holding = max(0, candidate.due_day - min(deliveries))
            order_vars = OrderVars(
                candidate=candidate,
                scheduled=model.new_bool_var(f"scheduled[{oid}]"),
                start_day=model.new_int_var(candidate.earliest_day, last_start, f"start_day[{oid}]"),
                end_day=model.new_int_var_from_domain(cp_model.Domain.from_values(end_days), f"end_day[{oid}]"),
                delivery_day=model.new_int_var(min(deliveries), max(deliveries), f"delivery_day[{oid}]"),
                days_late=model.new_int_var(0, max_late, f"days_late[{oid}]"),
                holding_days=model.new_int_var(0, max_holding, f"holding[{oid}]"),
                max_days_late=max_late,
                max_holding_days=max_holding,
            )
            for option in candidate.options:
                order_vars.options[option.line_id] = self._option_vars(oid, option)
            self.orders[oid] = order_vars

    def _option_vars(self, order_id: str, option: Option) -> OptionVars:
        name = f"{order_id},{option.line_id}"
        present = self.model.new_bool_var(f"present[{name}]")
        start = self.model.new_int_var(option.earliest_position, option.latest_position, f"start[{name}]")
        interval = self.model.new_optional_fixed_size_interval_var(start, option.minutes, present, f"run[{name}]")
        return OptionVars(option, present, start, interval)

    # -- constraints -----------------------------------------------------------

    def _add_constraints(self) -> None:
        self._add_line_choice_constraints()
        self._add_no_overlap_constraints()
        self._add_run_day_constraints()
        self._add_earliest_start_constraints()
        self._add_in_production_constraints()
        self._add_material_constraints()
        self._add_time_rule_constraints()
        self._add_stability_constraints()

    def _add_line_choice_constraints(self) -> None:
        """An order runs on one line among its routings, or is unscheduled."""
        for order in self.orders.values():
            self.model.add(sum(v.present for v in order.options.values()) == order.scheduled)

    def _add_no_overlap_constraints(self) -> None:
        """Per line and date, the minutes of all orders add up to at most the capacity."""
        by_line: dict[str, list[cp_model.IntervalVar]] = {}
        for order in self.orders.values():
            for line_id, option_vars in order.options.items():
                by_line.setdefault(line_id, []).append(option_vars.interval)
        for intervals in by_line.values():
            self.model.add_no_overlap(intervals)

    def _add_run_day_constraints(self) -> None:
        """An order's production days are the working days its uninterrupted run covers."""
        for order_id, order in self.orders.items():
            # the start day only feeds kitting (where an earlier day is stricter, so a lower
            # bound is exact enough) unless plan stability compares it with a previous plan
            exact_start = order_id in self._baseline.line_and_start
            needs_start = exact_start or bool(order.candidate.material_need)
            for line_id, option_vars in order.options.items():
                axis = self._instance.axes[line_id]
                first_minute = [int(v) for v in axis.start[:-1]]
                last_minute = [int(v) for v in axis.start[1:] - 1]
                present = option_vars.present
                if needs_start:
                    bound_position_by_day(
                        self.model, order.start_day, option_vars.start, first_minute, present, from_below=True
                    )
                if exact_start:
                    bound_position_by_day(
                        self.model, order.start_day, option_vars.start, last_minute, present, from_below=False
                    )
                # end_day >= the run's true last day: exact for lateness, which pushes it down;
                # holding pushes it up, so the other side is added with that objective
                run_end = option_vars.start + option_vars.option.minutes - 1
                bound_position_by_day(self.model, order.end_day, run_end, last_minute, present, from_below=False)

    def add_exact_end_day_constraints(self) -> None:
        """An order's last production day is exactly the day its run's last minute falls on."""
        for order in self.orders.values():
            for line_id, option_vars in order.options.items():
                first_minute = [int(v) for v in self._instance.axes[line_id].start[:-1]]
                run_end = option_vars.start + option_vars.option.minutes - 1
                bound_position_by_day(
                    self.model, order.end_day, run_end, first_minute, option_vars.present, from_below=True
                )

    def _add_earliest_start_constraints(self) -> None:
        """No order starts before its earliest_start (when given) nor before the plan start."""
        for order in self.orders.values():
            self.model.add(order.start_day >= order.candidate.earliest_day)

    def _add_in_production_constraints(self) -> None:
        """In-production orders keep pinned_line and start on its first working day on or after the plan start."""
        for order in self.orders.values():
            for option_vars in order.options.values():
                fixed_day = option_vars.option.fixed_start_day
                if fixed_day is not None:
                    self.model.add(order.start_day == fixed_day).only_enforce_if(option_vars.present)

    def _add_material_constraints(self) -> None:
        """Materials issued to orders starting on or before d add up to at most what is available up to d."""
        consumers: dict[str, list[tuple[OrderVars, int]]] = {}
        for order in self.orders.values():
            for material_id, quantity in order.candidate.material_need.items():
                consumers.setdefault(material_id, []).append((order, quantity))
        for material_id, users in consumers.items():
            available = self._instance.material_available[material_id]
            arrival_days = [0, *[d for d in range(1, len(available)) if available[d] > available[d - 1]]]
            times = [*arrival_days, *[order.start_day for order, _ in users]]
            changes = [int(available[0])]
            changes += [int(available[d] - available[d - 1]) for d in arrival_days[1:]]
            changes += [-quantity for _, quantity in users]
            actives = [True] * len(arrival_days) + [order.scheduled for order, _ in users]
            self.model.add_reservoir_constraint_with_active(times, changes, actives, 0, int(available[-1]))

    def _add_time_rule_constraints(self) -> None:
        """Inspection the working day after production, dispatch the working day after; delivery adds transit."""
        for order in self.orders.values():
            candidate = order.candidate
            table = np.maximum(0, self._instance.delivery_days(candidate)).tolist()
            self.model.add_element(order.end_day, table, order.delivery_day)
            self.model.add(order.days_late >= order.delivery_day - candidate.due_day).only_enforce_if(order.scheduled)
            self.model.add(order.holding_days >= candidate.due_day - order.delivery_day - 7).only_enforce_if(
                order.scheduled
            )

    def _add_stability_constraints(self) -> None:
        """Orders starting inside the frozen window keep their line and start; other moves are counted."""
        for order_id, order in self.orders.items():
            previous = self._baseline.line_and_start.get(order_id)
            if previous is None:
                continue
            line_id, start_day = previous
            same = self.model.new_bool_var(f"unchanged[{order_id}]")
            order.changed = same.Not()
            option_vars = order.options.get(line_id)
            if option_vars is None or not 0 <= start_day < self._instance.horizon:
                self.model.add(same == 0)
                continue
            self.model.add_implication(same, option_vars.present)
            self.model.add(order.start_day == start_day).only_enforce_if(same)
            if self.enforces_frozen and self._baseline.frozen(order_id):
                self.model.add(same == 1)

    # -- objective --------------------------------------------------------------

    def unscheduled_priority(self) -> cp_model.LinearExpr:
        return sum(o.candidate.priority * (1 - o.scheduled) for o in self.orders.values())

    def weighted_days_late(self) -> cp_model.LinearExpr:
        return sum(o.candidate.priority * o.days_late for o in self.orders.values())

    def changed_orders(self) -> cp_model.LinearExpr:
        return sum(o.changed for o in self.orders.values() if o.changed is not None)

    def holding_days(self) -> cp_model.LinearExpr:
        return sum(o.holding_days for o in self.orders.values())

    def _unscheduled_weight(self) -> int:
        """One priority point unscheduled outweighs any possible lateness."""
        return 1 + sum(o.candidate.priority * o.max_days_late for o in self.orders.values())

    def primary_objective(self) -> cp_model.LinearExpr:
        """Levels 1 and 2: unscheduled priority, then weighted days late."""
        return self.lateness_weight * self.unscheduled_priority() + self.weighted_days_late()

    def secondary_objective(self) -> cp_model.LinearExpr:
        """Levels 3 and 4: changed orders, then holding days beyond the collection week."""
        holding_weight = 1 + sum(o.max_holding_days for o in self.orders.values())
        return holding_weight * self.changed_orders() + self.holding_days()

    # -- hints and solutions ------------------------------------------------------

    def add_hint(self, assignments: dict[str, Assignment]) -> None:
        """Hint every decision with a constructive plan."""
        self.model.clear_hints()
        for order_id, order in self.orders.items():
            assignment = assignments.get(order_id)
            self.model.add_hint(order.scheduled, assignment is not None)
            for line_id, option_vars in order.options.items():
                chosen = assignment is not None and assignment.line_id == line_id
                self.model.add_hint(option_vars.present, chosen)
                self.model.add_hint(
                    option_vars.start, assignment.start if chosen else option_vars.option.earliest_position
                )
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
        self.model.add_hint(order.days_late, max(0, delivery - order.candidate.due_day))
        self.model.add_hint(order.holding_days, max(0, order.candidate.due_day - delivery - 7))

    def assignments(self, values: cp_model.CpSolver | cp_model.CpSolverSolutionCallback) -> dict[str, Assignment]:
        """The runs of a solution: line and start position of every scheduled order."""
        chosen = {}
        for order_id, order in self.orders.items():
            for line_id, option_vars in order.options.items():
                if values.boolean_value(option_vars.present):
                    chosen[order_id] = Assignment(order_id, line_id, int(values.value(option_vars.start)))
        return chosen
