"""The CP-SAT model of PROBLEM.md: variables, constraints, objective; nothing else.

Each order chooses one of its lines; on that line its run is an optional
interval on the line's working-minute axis (see :mod:`solver.instance`), so
runs never overlap and are uninterrupted except by non-working time. Days
late, holding and the kit's issue day follow from the run's first and last
minute as thresholds on that axis (:mod:`solver.rules`).

One class, :class:`PlanModel`, places a set of orders, each within a window of
days, around runs that stay put and in the material those leave. The exact
model (:class:`ScheduleModel`) is every order over the whole horizon around
nothing; the neighbourhood search's sub-model (:class:`NeighbourhoodModel`) is a
few freed orders around the rest of the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

from solver.instance import Instance
from solver.objective import Objective
from solver.rules import (
    FixedRun,
    LineSequence,
    OrderVars,
    add_changeovers,
    add_days_late,
    add_dispatch_cap,
    add_holding,
    add_inspection_cap,
    add_kitting,
    add_line_choice,
    add_no_overlap,
    add_pins,
    add_plan_change,
    hint_changeovers,
    keep_primary,
    kit_users,
    lateness_weight,
    line_families,
    max_changeover,
    new_run,
    primary_objective,
    run_start_domain,
    secondary_objective,
    sequenced_lines,
    unscheduled_priority,
    weighted_days_late,
)
from solver.solution import Assignment

if TYPE_CHECKING:
    from solver.lns import Neighbourhood, PlanState

Window = tuple[int, int]  # first and last day an order's run may lie on


@dataclass(frozen=True)
class Baseline:
    """A previous plan's line and start day per order, and the frozen window."""

    line_and_start: dict[str, tuple[str, int]]
    frozen_until_day: int = -1  # orders starting on or before this day keep line and start
    pinned: frozenset[str] = frozenset()  # orders the planner pinned: the pin wins over the frozen window

    @classmethod
    def from_schedule(cls, instance: Instance, previous: dict | None, frozen_days: int) -> Baseline:
        if not previous:
            return cls({})
        pinned = frozenset(c.order_id for c in instance.candidates if c.order.has_manual_pin)
        plan_start = instance.calendar.plan_start
        line_and_start = {}
        for entry in previous.get("orders", []):
            try:
                start = (dt.date.fromisoformat(entry["production_start"]) - plan_start).days
                line_and_start[str(entry["order_id"])] = (str(entry["line_id"]), start)
            except (KeyError, TypeError, ValueError):
                continue  # a malformed row of an old plan only costs its stability term
        return cls(line_and_start, instance.calendar.frozen_window_end(frozen_days), pinned)

    def frozen(self, order_id: str) -> tuple[str, int] | None:
        if order_id in self.pinned:  # a pin moved since the previous plan is the planner's newer word
            return None
        previous = self.line_and_start.get(order_id)
        if previous and 0 <= previous[1] <= self.frozen_until_day:
            return previous
        return None


class PlanModel:
    """Orders to place, each within its window of days, around the ``fixed`` runs that stay
    (per line, sorted ``(start, end)``) and in the material ``left`` by them (scaled,
    cumulative per day); ``previous`` holds the previous plan's line and start day of orders
    whose change counts, ``frozen`` those that must keep them.

    With changeovers (only on the lines where some run may pay one), ``fixed_runs`` are the
    runs that stay, as :class:`~solver.rules.FixedRun`, sequenced with the orders placed here;
    with inspection or dispatch caps, ``fixed_end_days`` are the last production days of every
    run that stays (they take their share of each day's cap).

    The engine minimises :meth:`primary_objective`, then :meth:`secondary_objective` with
    levels 1-2 kept (:meth:`keep_primary`, after :meth:`add_holding_costs`).
    """

    def __init__(
        self,
        instance: Instance,
        windows: Mapping[str, Window],
        fixed: Mapping[str, list[tuple[int, int]]],
        left: Mapping[str, np.ndarray],
        previous: Mapping[str, tuple[str, int]],
        frozen: Collection[str] = (),
        fixed_runs: Mapping[str, list[FixedRun]] | None = None,
        fixed_end_days: Collection[int] = (),
    ):
        self.instance = instance
        self.model = cp_model.CpModel()
        self.orders: dict[str, OrderVars] = {}
        self._fixed, self._left, self._previous, self._frozen = fixed, left, previous, frozen
        self._fixed_runs, self._fixed_end_days = fixed_runs or {}, fixed_end_days
        self.sequences: dict[str, LineSequence] = {}
        self.holding_added = False
        candidates = {c.order_id: c for c in instance.candidates}
        self._families = self._sequenced_families(instance, [candidates[o] for o in windows])
        for order_id in sorted(windows):
            self._add_order(candidates[order_id], windows[order_id])
        self._add_constraints()
        self.lateness_weight = lateness_weight(self.orders.values())

    def _sequenced_families(self, instance: Instance, candidates: list) -> dict[str, list[str]]:
        """The families each line where a changeover may arise can be set up for (no line: the
        model is the one without changeovers)."""
        dataset = instance.dataset
        on_line: dict[str, list] = {line_id: [f.order for f in runs] for line_id, runs in self._fixed_runs.items()}
        for candidate in candidates:
            for option in candidate.options:
                on_line.setdefault(option.line_id, []).append(candidate.order)
        lines = sequenced_lines(dataset, on_line)
        return {line_id: line_families(dataset, line_id, on_line[line_id]) for line_id in sorted(lines)}

    def _add_order(self, candidate, window: Window) -> None:
        order_id = candidate.order_id
        order = OrderVars(candidate, self.model.new_bool_var(f"scheduled[{order_id}]"), *window)
        for option in candidate.options:
            domain = run_start_domain(self.instance, option, *window, self._fixed.get(option.line_id, []))
            if domain is None:
                continue
            families = self._families.get(option.line_id)
            if families is None:
                order.options[option.line_id] = new_run(self.model, order_id, option, domain)
                continue
            axis = self.instance.axes[option.line_id]
            longest = max_changeover(self.instance.dataset, option.line_id, families, candidate.order)
            end_limit = min(axis.total, int(axis.start[window[1] + 1]))
            order.options[option.line_id] = new_run(self.model, order_id, option, domain, longest, end_limit)
        self.orders[order_id] = order

    def _add_constraints(self) -> None:
        """Every rule of PROBLEM.md, from :mod:`solver.rules`, over the orders placed here."""
        model, instance, orders = self.model, self.instance, list(self.orders.values())
        for order in orders:
            add_line_choice(model, order)
            add_pins(model, instance, order)
        add_no_overlap(model, orders)
        for line_id in self._families:
            runs = [(o.candidate.order, o.options[line_id]) for o in orders if line_id in o.options]
            fixed = self._fixed_runs.get(line_id, [])
            self.sequences[line_id] = add_changeovers(model, instance, line_id, runs, fixed)
        started: dict = {}
        for material_id, users in sorted(kit_users(orders).items()):
            add_kitting(model, instance, material_id, users, self._left[material_id], started)
        for order in orders:
            add_days_late(model, instance, order)
        if instance.dataset.inspection_cap is not None:
            add_inspection_cap(model, instance, orders, instance.dataset.inspection_cap, self._fixed_end_days)
        if instance.dataset.dispatch_cap is not None:
            add_dispatch_cap(model, instance, orders, instance.dataset.dispatch_cap, self._fixed_end_days)
        for order_id, order in self.orders.items():
            if order_id in self._previous:
                add_plan_change(model, instance, order, self._previous[order_id], frozen=order_id in self._frozen)

    def add_holding_costs(self) -> None:
        """Level 4 (holding) for every order: only the second stage and polishing need it."""
        if not self.holding_added:
            for order in self.orders.values():
                add_holding(self.model, self.instance, order)
            self.holding_added = True

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
        self.add_holding_costs()
        return secondary_objective(self.orders.values())

    def keep_primary(self, at_most: Objective) -> None:
        """Levels 1-2 no worse than ``at_most`` while levels 3-4 are minimised."""
        keep_primary(self.model, self.orders.values(), at_most)

    # -- hints and solutions ------------------------------------------------------

    def add_hint(self, assignments: Mapping[str, Assignment]) -> None:
        """Hint every decision with a plan: lines, starts and every threshold they imply."""
        self.model.clear_hints()
        changeovers: dict[str, int] = {}
        for line_id, sequence in self.sequences.items():
            on_line = {o: a.start for o, a in assignments.items() if a.line_id == line_id and o in self.orders}
            changeovers |= hint_changeovers(self.model, self.instance, sequence, on_line)
        for order_id, order in self.orders.items():
            assignment = assignments.get(order_id)
            self.model.add_hint(order.scheduled, assignment is not None)
            for line_id, run in order.options.items():
                chosen = assignment is not None and assignment.line_id == line_id
                self.model.add_hint(run.present, chosen)
                if not chosen:
                    continue
                self.model.add_hint(run.start, assignment.start)
                last_minute = assignment.start + changeovers.get(order_id, 0) + run.option.minutes - 1
                for first_minute, late in run.late_steps:
                    self.model.add_hint(late, last_minute >= first_minute)
                for day_last_minute, early in run.early_steps:
                    self.model.add_hint(early, last_minute <= day_last_minute)
                late_minutes = {m for m, _ in run.late_steps}
                for first_minute, step in run.cap_steps:
                    if first_minute not in late_minutes:  # a lateness threshold made exact is hinted above
                        self.model.add_hint(step, last_minute >= first_minute)

    def assignments(self, values: cp_model.CpSolver | cp_model.CpSolverSolutionCallback) -> dict[str, Assignment]:
        """The runs of a solution: line and start position of every scheduled order (where its
        changeover begins, when it has one)."""
        chosen = {}
        for order_id, order in self.orders.items():
            for line_id, run in order.options.items():
                if values.boolean_value(run.present):
                    chosen[order_id] = Assignment(order_id, line_id, int(values.value(run.start)))
        return chosen


class ScheduleModel(PlanModel):
    """The exact model: every order over the whole horizon, the stock of materials.csv and
    arrivals.csv; the previous plan's orders count when they change, and those of the frozen
    window keep line and start day when ``enforce_frozen``."""

    def __init__(self, instance: Instance, baseline: Baseline | None = None, enforce_frozen: bool = True):
        baseline = baseline or Baseline({})
        self.enforces_frozen = enforce_frozen
        everywhere = (0, instance.horizon - 1)
        frozen = {o for o in baseline.line_and_start if baseline.frozen(o)} if enforce_frozen else set()
        super().__init__(
            instance,
            windows={c.order_id: everywhere for c in instance.candidates},
            fixed={},
            left=instance.material_available,
            previous=baseline.line_and_start,
            frozen=frozen,
        )

    def may_hold(self) -> bool:
        """Whether some order could be planned early enough to be held (level 4 matters)."""
        return any(self.instance.holding_days(o.candidate, 0) > 0 for o in self.orders.values())


class NeighbourhoodModel(PlanModel):
    """The freed orders of a neighbourhood, each confined to its window of days, in the
    capacity and material the fixed rest of the plan leaves.

    Objective: fewest unscheduled (by priority), then least weighted days late; when
    ``polish``, levels 1-2 kept no worse and fewest changed orders, then least holding.
    """

    def __init__(self, state: PlanState, hood: Neighbourhood, polish: bool = False, frozen: Collection[str] = ()):
        self.state, self.hood, self.polish = state, hood, polish
        windows = {o: self._window(state, hood, o) for o in hood.freed}
        lines = {o.line_id for order_id in hood.freed for o in state.candidates[order_id].options}
        materials = {m for order_id in hood.freed for m in state.candidates[order_id].material_need}
        super().__init__(
            state.instance,
            windows=windows,
            fixed={line_id: state.fixed_runs(line_id, hood.freed) for line_id in sorted(lines)},
            left={m: state.material_left(m, hood.freed) for m in sorted(materials)},
            previous={o: p for o in hood.freed if (p := state.baseline.line_and_start.get(o)) is not None},
            frozen=frozen,
            fixed_runs={
                line_id: state.fixed_sequence(line_id, hood.freed) for line_id in sorted(lines & state.sequenced)
            },
            fixed_end_days=state.fixed_end_days(hood.freed) if state.caps else (),
        )
        self._add_objective()

    @staticmethod
    def _window(state: PlanState, hood: Neighbourhood, order_id: str) -> Window:
        run = state.runs.get(order_id)
        first, last = hood.first_day, hood.last_day
        if run is not None:
            first, last = min(first, run.start_day), max(last, run.end_day)
        # an order may make room as late as it stays on time: chains of small moves need it
        last = max(last, min(state.instance.horizon - 1, state.on_time_end_day(state.candidates[order_id])))
        return first, last

    def _add_objective(self) -> None:
        if not self.polish:
            self.model.minimize(self.primary_objective())
            return
        self.keep_primary(Objective.total(self.state.cost(o) for o in self.hood.freed))
        self.model.minimize(self.secondary_objective())

    def hint(self) -> None:
        """The current plan of the freed orders."""
        self.add_hint(self.state.assignments_of(self.hood.freed))

    def solution(self, solver: cp_model.CpSolver) -> dict[str, tuple[str, int] | None]:
        placed: dict[str, tuple[str, int] | None] = dict.fromkeys(sorted(self.hood.freed))
        for order_id, assignment in self.assignments(solver).items():
            placed[order_id] = (assignment.line_id, assignment.start)
        return placed
