"""The LNS sub-model: a few freed orders re-placed around the fixed rest of a plan.

Everything the freed orders may do is stated on each line's working-minute axis
with linear rows and Booleans, without element constraints (their expansion was
half of every sub-solve's time):

* a run may only start where it fits in a gap the fixed runs leave on the line,
  so the fixed runs need no intervals of their own;
* lateness, holding and the kit's issue day are step functions of the run's
  first or last minute, written as thresholds on the axis: a Boolean per day on
  which the cost steps, tied to the run's position by one enforced inequality.

Lateness is exact (the objective pushes each threshold Boolean down, the rows
push it up where the run ends past the step); holding is exact the same way in
the other direction; kitting is exact at every day on which the material left
can bind (the last day before it rises, and the last day of the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

from solver.domain import COLLECTION_DAYS
from solver.instance import Candidate, Instance, LineAxis, Option

if TYPE_CHECKING:
    from solver.lns import Neighbourhood, PlanState


@dataclass
class FreedRun:
    """One line a freed order may take: whether it does, and where its run starts."""

    line_id: str
    option: Option
    present: cp_model.IntVar
    start: cp_model.IntVar
    lateness_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (first minute, ends at/after)
    holding_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (last minute, ends at/before)


@dataclass
class FreedOrder:
    candidate: Candidate
    first_day: int
    last_day: int
    scheduled: cp_model.IntVar
    runs: dict[str, FreedRun] = field(default_factory=dict)
    lateness: list[cp_model.LinearExprT] = field(default_factory=list)
    holding: list[cp_model.LinearExprT] = field(default_factory=list)
    changed: cp_model.LinearExprT = 0


def gaps_start_domain(fixed: list[tuple[int, int]], low: int, high: int, minutes: int) -> cp_model.Domain | None:
    """Start positions in ``[low, high]`` at which a run of ``minutes`` fits between the
    ``fixed`` runs (sorted ``(start, end)`` pairs): a line runs one order at a time."""
    intervals, cursor = [], low
    for start, end in fixed:
        if start - minutes >= cursor:
            intervals.append([cursor, min(high, start - minutes)])
        cursor = max(cursor, end)
        if cursor > high:
            break
    if cursor <= high:
        intervals.append([cursor, high])
    intervals = [i for i in intervals if i[0] <= i[1]]
    return cp_model.Domain.from_intervals(intervals) if intervals else None


def non_decreasing(values: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(values)


def add_end_steps(
    model: cp_model.CpModel,
    run: FreedRun,
    axis: LineAxis,
    cost_by_end_day: np.ndarray,
    first_day: int,
    last_day: int,
) -> cp_model.LinearExprT:
    """A cost that grows with the run's last production day (days late), as thresholds:
    ``cost(first_day) * present + sum(step * [run ends on or after day d])``."""
    minutes = run.option.minutes
    cost = non_decreasing(cost_by_end_day[first_day : last_day + 1])
    terms: list[cp_model.LinearExprT] = [int(cost[0]) * run.present] if cost[0] else []
    for offset in np.flatnonzero(np.diff(cost)) + 1:
        day = first_day + int(offset)
        first_minute = int(axis.start[day])
        late = model.new_bool_var("")
        # not late => the run's last minute falls before the day's first
        model.add(run.start <= first_minute - minutes).only_enforce_if([~late, run.present])
        run.lateness_steps.append((first_minute, late))
        terms.append(int(cost[offset] - cost[offset - 1]) * late)
    return sum(terms)


def add_early_steps(
    model: cp_model.CpModel,
    run: FreedRun,
    axis: LineAxis,
    cost_by_end_day: np.ndarray,
    first_day: int,
    last_day: int,
) -> cp_model.LinearExprT:
    """A cost that shrinks as the run's last production day grows (holding), as thresholds:
    ``cost(last_day) * present + sum(step * [run ends on or before day d])``."""
    minutes = run.option.minutes
    cost = non_decreasing(cost_by_end_day[first_day : last_day + 1][::-1])[::-1]
    terms: list[cp_model.LinearExprT] = [int(cost[-1]) * run.present] if cost[-1] else []
    for offset in np.flatnonzero(np.diff(cost)):
        day = first_day + int(offset)
        last_minute = int(axis.start[day + 1]) - 1
        early = model.new_bool_var("")
        # not early => the run's last minute falls after the day's last
        model.add(run.start >= last_minute + 2 - minutes).only_enforce_if([~early, run.present])
        run.holding_steps.append((last_minute, early))
        terms.append(int(cost[offset] - cost[offset + 1]) * early)
    return sum(terms)


def started_by(model: cp_model.CpModel, order: FreedOrder, instance: Instance, day: int) -> cp_model.LinearExprT:
    """1 when the order's run starts on or before ``day`` (its kit is issued by then)."""
    if day < order.first_day:
        return 0
    if day >= order.last_day:
        return order.scheduled
    started = model.new_bool_var("")
    for line_id, run in order.runs.items():
        next_day_first_minute = int(instance.axes[line_id].start[day + 1])
        model.add(run.start >= next_day_first_minute).only_enforce_if([~started, run.present])
    model.add_implication(started, order.scheduled)
    return started


def kit_check_days(left: np.ndarray, first: int, last: int) -> list[tuple[int, int]]:
    """``(day, material left)`` for every day on which "issued so far <= available so far"
    can bind for kits issued in ``[first, last]``: left does not rise between two such
    days, and from ``last`` on no more is issued, so the rest of the horizon is one row."""
    rises = np.flatnonzero(np.diff(left) > 0)
    rows = [(int(d), int(left[d])) for d in rises if first <= d < last]
    rows.append((last, int(left[last:].min())))
    return rows


class NeighbourhoodModel:
    """The freed orders of a neighbourhood, each confined to its window of days, in the
    capacity and material the fixed rest of the plan leaves.

    Objective: fewest unscheduled (by priority), then least weighted days late; when
    ``polish``, levels 1-2 kept no worse and fewest changed orders, then least holding.
    """

    def __init__(self, state: PlanState, hood: Neighbourhood, polish: bool = False):
        self.state, self.hood, self.polish = state, hood, polish
        self.instance = state.instance
        self.model = cp_model.CpModel()
        self.orders: dict[str, FreedOrder] = {}
        self._fixed = self._fixed_runs()
        for order_id in sorted(hood.freed):
            self._add_order(order_id)
        self._add_one_run_at_a_time()
        self._add_kitting()
        self._add_objective()

    # -- orders -------------------------------------------------------------------

    def _window(self, order_id: str) -> tuple[int, int]:
        run = self.state.runs.get(order_id)
        first, last = self.hood.first_day, self.hood.last_day
        if run is not None:
            first, last = min(first, run.start_day), max(last, run.end_day)
        return first, last

    def _fixed_runs(self) -> dict[str, list[tuple[int, int]]]:
        """Per line a freed order may take, the ``(start, end)`` of the runs that stay, in order."""
        lines = {o.line_id for order_id in self.hood.freed for o in self.state.candidates[order_id].options}
        fixed: dict[str, list[tuple[int, int]]] = {}
        for line_id in sorted(lines):
            runs = (self.state.runs[o] for _, o in self.state.line_starts[line_id] if o not in self.hood.freed)
            fixed[line_id] = [(r.start, r.end) for r in runs]
        return fixed

    def _add_order(self, order_id: str) -> None:
        candidate = self.state.candidates[order_id]
        first, last = self._window(order_id)
        order = FreedOrder(candidate, first, last, self.model.new_bool_var(f"scheduled[{order_id}]"))
        self.orders[order_id] = order
        for option in candidate.options:
            run = self._add_run(order_id, option, first, last)
            if run is not None:
                order.runs[option.line_id] = run
        self.model.add(sum(r.present for r in order.runs.values()) == order.scheduled)
        self._add_costs(order)

    def _add_run(self, order_id: str, option: Option, first: int, last: int) -> FreedRun | None:
        """The run on one of its lines, if it fits anywhere in the window."""
        axis = self.instance.axes[option.line_id]
        low = max(option.earliest_position, int(axis.start[first]))
        high = min(option.latest_position, int(axis.start[last + 1]) - option.minutes)
        domain = gaps_start_domain(self._fixed[option.line_id], low, high, option.minutes) if low <= high else None
        if domain is None:
            return None
        present = self.model.new_bool_var(f"present[{order_id},{option.line_id}]")
        start = self.model.new_int_var_from_domain(domain, f"start[{order_id},{option.line_id}]")
        return FreedRun(option.line_id, option, present, start)

    def _add_costs(self, order: FreedOrder) -> None:
        instance, candidate = self.instance, order.candidate
        deliveries = instance.delivery_days(candidate)
        late = candidate.priority * np.maximum(0, deliveries - candidate.due_day)
        for run in order.runs.values():
            axis = instance.axes[run.line_id]
            order.lateness.append(add_end_steps(self.model, run, axis, late, order.first_day, order.last_day))
        if not self.polish:
            return
        hold = np.maximum(0, candidate.due_day - deliveries - COLLECTION_DAYS)
        for run in order.runs.values():
            axis = instance.axes[run.line_id]
            order.holding.append(add_early_steps(self.model, run, axis, hold, order.first_day, order.last_day))
        order.changed = self._changed(order)

    def _changed(self, order: FreedOrder) -> cp_model.LinearExprT:
        """1 when the order leaves the previous plan's line or start day."""
        previous = self.state.baseline.line_and_start.get(order.candidate.order_id)
        if previous is None:
            return 0
        run = order.runs.get(previous[0])
        if run is None or not order.first_day <= previous[1] <= order.last_day:
            return 1
        axis = self.instance.axes[previous[0]]
        same = self.model.new_bool_var("")
        self.model.add_implication(same, run.present)
        self.model.add(run.start >= int(axis.start[previous[1]])).only_enforce_if(same)
        self.model.add(run.start < int(axis.start[previous[1] + 1])).only_enforce_if(same)
        return 1 - same

    # -- constraints -----------------------------------------------------------------

    def _add_one_run_at_a_time(self) -> None:
        """A line runs one order at a time (the fixed runs are outside every start domain)."""
        by_line: dict[str, list[cp_model.IntervalVar]] = {}
        for order in self.orders.values():
            for run in order.runs.values():
                interval = self.model.new_optional_fixed_size_interval_var(
                    run.start, run.option.minutes, run.present, ""
                )
                by_line.setdefault(run.line_id, []).append(interval)
        for intervals in by_line.values():
            if len(intervals) > 1:
                self.model.add_no_overlap(intervals)

    def _add_kitting(self) -> None:
        """All materials of an order are issued on its first production day; for every
        material and date, what was issued so far is at most on hand plus arrivals so far."""
        users: dict[str, list[FreedOrder]] = {}
        for order in self.orders.values():
            for material_id in order.candidate.material_need:
                users.setdefault(material_id, []).append(order)
        started: dict[tuple[str, int], cp_model.LinearExprT] = {}
        for material_id, orders in sorted(users.items()):
            left = self.state.material_left(material_id, self.hood.freed)
            first = min(o.first_day for o in orders)
            last = max(o.last_day for o in orders)
            for day, available in kit_check_days(left, first, last):
                issued = []
                for order in orders:
                    key = (order.candidate.order_id, day)
                    if key not in started:
                        started[key] = started_by(self.model, order, self.instance, day)
                    issued.append(order.candidate.material_need[material_id] * started[key])
                self.model.add(sum(issued) <= available)

    def _add_objective(self) -> None:
        orders = self.orders.values()
        unscheduled = sum(o.candidate.priority * (1 - o.scheduled) for o in orders)
        lateness = sum(sum(o.lateness) for o in orders)
        self.lateness_weight = lateness_weight = 1 + sum(o.candidate.priority * self._max_days_late(o) for o in orders)
        primary = lateness_weight * unscheduled + lateness
        if not self.polish:
            self.model.minimize(primary)
            return
        now = [self.state.cost(o) for o in self.hood.freed]
        now_unscheduled, now_lateness = sum(c[0] for c in now), sum(c[1] for c in now)
        self.model.add(primary <= lateness_weight * now_unscheduled + now_lateness)
        self.holding_weight = holding_weight = 1 + sum(self._max_holding(o) for o in orders)
        self.model.minimize(holding_weight * sum(o.changed for o in orders) + sum(sum(o.holding) for o in orders))

    def deliver_by(self, order_id: str, day: int) -> None:
        """The order delivers on or before ``day``: its run ends by the last production day
        from which it still does."""
        order = self.orders[order_id]
        deliveries = self.instance.delivery_days(order.candidate)
        in_time = np.flatnonzero((deliveries >= 0) & (deliveries <= day))
        last_end = int(in_time[-1]) if len(in_time) else -1
        for run in order.runs.values():
            end = int(self.instance.axes[run.line_id].start[last_end + 1])
            self.model.add(run.start <= end - run.option.minutes).only_enforce_if(run.present)

    def end_day(self, order_id: str) -> cp_model.LinearExprT:
        """The order's last production day (when it is scheduled), as an expression to minimise."""
        order = self.orders[order_id]
        days = np.arange(self.instance.horizon, dtype=np.int64)
        return sum(
            add_end_steps(self.model, run, self.instance.axes[run.line_id], days, order.first_day, order.last_day)
            for run in order.runs.values()
        )

    def _max_days_late(self, order: FreedOrder) -> int:
        return max(self.instance.days_late(order.candidate, d) for d in (order.first_day, order.last_day))

    def _max_holding(self, order: FreedOrder) -> int:
        return max(self.instance.holding_days(order.candidate, d) for d in (order.first_day, order.last_day))

    # -- hint and solution ----------------------------------------------------------------

    def hint(self) -> None:
        """The current plan of the freed orders, every decision and its thresholds."""
        for order_id, order in self.orders.items():
            current = self.state.runs.get(order_id)
            self.model.add_hint(order.scheduled, current is not None)
            for line_id, run in order.runs.items():
                chosen = current is not None and current.line_id == line_id
                self.model.add_hint(run.present, chosen)
                if not chosen:
                    continue
                self.model.add_hint(run.start, current.start)
                last_minute = current.end - 1
                for first_minute, late in run.lateness_steps:
                    self.model.add_hint(late, last_minute >= first_minute)
                for day_last_minute, early in run.holding_steps:
                    self.model.add_hint(early, last_minute <= day_last_minute)

    def solution(self, solver: cp_model.CpSolver) -> dict[str, tuple[str, int] | None]:
        placed: dict[str, tuple[str, int] | None] = dict.fromkeys(sorted(self.hood.freed))
        for order_id, order in self.orders.items():
            for line_id, run in order.runs.items():
                if solver.boolean_value(run.present):
                    placed[order_id] = (line_id, int(solver.value(run.start)))
        return placed
