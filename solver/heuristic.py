"""List scheduling: a valid plan in milliseconds.

The best list schedule is the baseline every solve must beat, the hint the
CP-SAT model starts from and the fallback when the solver finds nothing in its
time. The first pass takes orders by due date (in-production and pinned orders
first, then frozen ones, higher priority breaking ties) and each goes into the
earliest idle gap of the line
where it delivers first, no earlier than its release and than the day its
materials are all available. Other passes order by latest start (due date
minus the order's own run) and by apparent tardiness cost (priority per minute,
discounted by slack); the best plan is kept.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable

import numpy as np

from solver.instance import Candidate, Instance, LineAxis, Option, pin_label
from solver.objective import Objective
from solver.solution import Assignment, run_days

log = logging.getLogger(__name__)


class MaterialLedger:
    """Scaled material still free per day: ``available(d) - issued to runs starting on or before d``."""

    def __init__(self, instance: Instance):
        self._free = {m: available.copy() for m, available in instance.material_available.items()}

    def earliest_day(self, need: dict[str, int], from_day: int) -> int | None:
        """First day on or after ``from_day`` from which every material in ``need`` can be issued."""
        day = from_day
        for material_id, quantity in need.items():
            free = self._free[material_id]
            # issuing on day t needs free >= quantity on t and on every later day
            suffix_min = np.minimum.accumulate(free[::-1])[::-1]
            enough = np.flatnonzero(suffix_min[from_day:] >= quantity)
            if len(enough) == 0:
                return None
            day = max(day, from_day + int(enough[0]))
        return day

    def issue(self, need: dict[str, int], day: int) -> None:
        for material_id, quantity in need.items():
            self._free[material_id][day:] -= quantity


class LineTimeline:
    """Runs already placed on one line's working-minute axis, as sorted busy intervals."""

    def __init__(self, axis: LineAxis):
        self.axis = axis
        self._starts: list[int] = []
        self._ends: list[int] = []

    def earliest_gap(self, minutes: int, from_position: int, append_only: bool = False) -> int:
        """First position at or after ``from_position`` where ``minutes`` fit without overlap
        (after the last run when ``append_only``, as classic dispatching does)."""
        if append_only:
            return max([from_position, *self._ends[-1:]])
        start = from_position
        index = max(0, bisect.bisect_right(self._ends, start))
        while index < len(self._starts):
            if start + minutes <= self._starts[index]:
                break
            start = max(start, self._ends[index])
            index += 1
        return start

    def occupy(self, start: int, minutes: int) -> None:
        index = bisect.bisect_left(self._starts, start)
        self._starts.insert(index, start)
        self._ends.insert(index, start + minutes)


def _place_on_line(
    timeline: LineTimeline, option: Option, material_day: int, start_day: int | None, append_only: bool = False
) -> tuple[int, int] | None:
    """Start position and last production day in the line's earliest fitting gap, or ``None``.

    ``start_day`` (an in-production or frozen order's) must be the run's first day.
    """
    axis = timeline.axis
    earliest = max(option.earliest_position, int(axis.start[material_day]))
    if start_day is not None:
        earliest = max(earliest, int(axis.start[start_day]))
    start = timeline.earliest_gap(option.minutes, earliest, append_only)
    if start > option.latest_position:
        return None
    if start_day is not None and axis.day_of(start) != start_day:
        return None
    return start, axis.day_of(start + option.minutes - 1)


def _options(candidate: Candidate, frozen: tuple[str, int] | None) -> tuple[Option, ...]:
    """A frozen order's previous line only, when it is still one of its lines."""
    if frozen is None:
        return candidate.options
    kept = tuple(o for o in candidate.options if o.line_id == frozen[0])
    return kept or candidate.options


def _best_placement(
    instance: Instance,
    candidate: Candidate,
    timelines: dict[str, LineTimeline],
    material_day: int,
    frozen: tuple[str, int] | None,
    append_only: bool = False,
) -> tuple[tuple, Option, int] | None:
    """The placement that delivers first; a frozen order keeps line and day when it still can."""
    best = None
    for option in _options(candidate, frozen):
        start_day = frozen[1] if frozen else option.fixed_start_day
        placed = _place_on_line(timelines[option.line_id], option, material_day, start_day, append_only)
        if placed is None:
            continue
        start, end_day = placed
        key = (instance.delivery_day(candidate, end_day), start + option.minutes, option.line_id)
        if best is None or key < best[0]:
            best = (key, option, start)
    if best is None and frozen is not None:
        return _best_placement(instance, candidate, timelines, material_day, None, append_only)
    return best


SortKey = Callable[[Candidate], tuple]


def by_due_date(candidate: Candidate) -> tuple:
    return (candidate.due_day, -candidate.priority, candidate.order_id)


def by_latest_start(instance: Instance) -> SortKey:
    """Due date less the days the order's own run takes on its fastest line."""

    def key(candidate: Candidate) -> tuple:
        minutes = min(o.minutes for o in candidate.options)
        per_day = max(int(instance.axes[o.line_id].capacity.max()) for o in candidate.options) or 1
        return (candidate.due_day - minutes / per_day, -candidate.priority, candidate.order_id)

    return key


def by_apparent_tardiness_cost(instance: Instance, look_ahead: float) -> SortKey:
    """Apparent tardiness cost at the plan start: priority per minute, discounted by slack.

    The static form of the ATC rule for weighted tardiness: orders whose slack
    (due day less their own run) is small against ``look_ahead`` average runs go
    first, heavier and shorter ones before lighter and longer ones.
    """
    runs = {c.order_id: min(o.minutes for o in c.options) for c in instance.candidates}
    per_day = {
        c.order_id: max(int(instance.axes[o.line_id].capacity.max()) for o in c.options) or 1
        for c in instance.candidates
    }
    average_days = sum(runs[o] / per_day[o] for o in runs) / max(1, len(runs))

    def key(candidate: Candidate) -> tuple:
        minutes, days = runs[candidate.order_id], runs[candidate.order_id] / per_day[candidate.order_id]
        slack = max(0.0, candidate.due_day - days)
        urgency = candidate.priority / minutes * math.exp(-slack / (look_ahead * average_days))
        return (-urgency, candidate.order_id)

    return key


def list_schedule(
    instance: Instance, frozen: dict[str, tuple[str, int]], sort_key: SortKey, append_only: bool = False
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """Place orders one by one in ``sort_key`` order (in-production, then frozen ones first).

    ``append_only`` places each order after the last run of a line instead of in the
    earliest gap: classic earliest-due-date dispatching, kept as the benchmarks' yardstick.
    """

    def key(candidate: Candidate) -> tuple:
        pinned = frozen.get(candidate.order_id)
        # runs bound to a day (in production, pinned by the planner) go first: nothing else may take their day
        group = 0 if candidate.start_pinned else 1 if pinned else 2
        return (group, pinned[1] if pinned else 0, *sort_key(candidate))

    timelines = {line_id: LineTimeline(axis) for line_id, axis in instance.axes.items()}
    ledger = MaterialLedger(instance)
    assignments: dict[str, Assignment] = {}
    left_out: dict[str, str] = {}
    for candidate in sorted(instance.candidates, key=key):
        material_day = ledger.earliest_day(candidate.material_need, candidate.earliest_day)
        if material_day is None:
            left_out[candidate.order_id] = "materials are taken by orders planned earlier"
            continue
        best = _best_placement(
            instance, candidate, timelines, material_day, frozen.get(candidate.order_id), append_only
        )
        if best is None:
            left_out[candidate.order_id] = _no_room(candidate)
            continue
        _, option, start = best
        assignments[candidate.order_id] = Assignment(candidate.order_id, option.line_id, start)
        timelines[option.line_id].occupy(start, option.minutes)
        ledger.issue(candidate.material_need, instance.axes[option.line_id].day_of(start))
    return assignments, left_out


def _no_room(candidate: Candidate) -> str:
    """Why the list schedule found no gap for the order."""
    if candidate.order.has_manual_pin:
        return f"{pin_label(candidate.order)}: the line has no room left on that day for its run"
    lines = ", ".join(o.line_id for o in candidate.options)
    return f"no room left on line(s) {lines} before the horizon end"


def primary_objective(instance: Instance, assignments: dict[str, Assignment]) -> Objective:
    """Levels 1-2 of a plan of the placeable orders: the priority of those it leaves out,
    then weighted days late (levels 3-4 left at 0)."""
    parts = []
    for candidate in instance.candidates:
        assignment = assignments.get(candidate.order_id)
        end_day = None if assignment is None else run_days(instance, candidate, assignment)[1]
        parts.append(instance.order_objective(candidate, end_day))
    return Objective.total(parts).primary


def moved_orders(instance: Instance, assignments: dict[str, Assignment], keep: dict[str, tuple[str, int]]) -> int:
    """Orders of ``keep`` that are not on their kept line and start day."""
    moved = 0
    for order_id, (line_id, day) in keep.items():
        placed = assignments.get(order_id)
        if placed is None or placed.line_id != line_id or instance.axes[line_id].day_of(placed.start) != day:
            moved += 1
    return moved


def best_list_schedule(
    instance: Instance,
    frozen: dict[str, tuple[str, int]] | None = None,
    previous: dict[str, tuple[str, int]] | None = None,
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """Assignments and left-out orders (with reasons) of the best of the list schedules.

    Four passes (by due date, by latest start, by apparent tardiness cost with two
    look-aheads) compete on levels 1-2 of the objective. ``frozen`` maps orders of the
    frozen window to the line and start day they keep (when they still can: otherwise
    they are planned like any other order). ``previous`` (a previous plan's lines and
    start days) adds a fifth plan that keeps every order where it was when it still
    fits: the stable replan, which wins ties on lateness by moving fewer orders.
    """
    frozen, previous = frozen or {}, previous or {}
    keys = (
        by_due_date,
        by_latest_start(instance),
        by_apparent_tardiness_cost(instance, 2.0),
        by_apparent_tardiness_cost(instance, 4.0),
    )
    plans = [list_schedule(instance, frozen, key) for key in keys]
    if previous:
        plans.append(stable_schedule(instance, frozen, previous))
    # levels 1-3, plan changes counted as the orders moved off ``previous``; holding is not compared
    best = min(
        plans,
        key=lambda plan: primary_objective(instance, plan[0])._replace(
            changed_orders=moved_orders(instance, plan[0], previous)
        ),
    )
    log.debug("list scheduling placed %d orders, left out %d", len(best[0]), len(best[1]))
    return best


def stable_schedule(
    instance: Instance, frozen: dict[str, tuple[str, int]], previous: dict[str, tuple[str, int]]
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """Every order of the previous plan kept on its line and start day where it still fits, then the rest."""
    candidates = {c.order_id for c in instance.candidates}
    keep = {o: where for o, where in previous.items() if o in candidates}
    return list_schedule(instance, {**keep, **frozen}, by_due_date)
