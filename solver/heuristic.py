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
import dataclasses
import logging
import math
from collections.abc import Callable

import numpy as np

from solver.changeover import (
    changeover_before,
    family_after,
    line_changeovers,
    line_has_changeovers,
    plans_changeovers,
)
from solver.domain import Dataset, Order
from solver.instance import Candidate, Instance, LineAxis, Option, pin_label
from solver.objective import Objective
from solver.solution import Assignment, option_for

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
    """Runs already placed on one line's working-minute axis, as sorted busy intervals.

    Each run's interval starts with its changeover (PROBLEM.md "Changeovers"), which depends
    on the run before it: the timeline keeps the line's family after every run, so a run is
    put into an idle gap only where the runs behind it keep the changeovers they have.
    """

    def __init__(self, axis: LineAxis, dataset: Dataset | None = None):
        self.axis = axis
        self.dataset = dataset
        self.initial_family = dataset.line_by_id[axis.line_id].initial_family if dataset else ""
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._orders: list[Order] = []
        self._changeovers: list[int] = []
        self._families: list[str] = []  # the line's family after each run

    def _family_before(self, index: int) -> str:
        return self._families[index - 1] if index else self.initial_family

    def changeover(self, order: Order | None, index: int) -> int:
        """Changeover in front of ``order`` put in before the run at ``index`` (0 without data)."""
        if order is None or self.dataset is None:
            return 0
        return changeover_before(self.dataset, self.axis.line_id, self._family_before(index), order)

    def _keeps_the_rest(self, order: Order | None, index: int) -> bool:
        """Whether ``order`` put in before the run at ``index`` leaves every later run's changeover as it is."""
        if order is None or self.dataset is None or index == len(self._starts):
            return True
        family = family_after(self.dataset, self._family_before(index), order)
        for later in range(index, len(self._starts)):
            if family == self._family_before(later):
                return True  # the line is set up as before: the rest runs as before
            if (
                changeover_before(self.dataset, self.axis.line_id, family, self._orders[later])
                != self._changeovers[later]
            ):
                return False
            family = family_after(self.dataset, family, self._orders[later])
        return True

    def earliest_gap(
        self, minutes: int, from_position: int, append_only: bool = False, order: Order | None = None
    ) -> tuple[int, int]:
        """First position at or after ``from_position`` where the changeover of ``order`` and
        ``minutes`` fit without overlap, and that changeover (after the last run when
        ``append_only``, as classic dispatching does)."""
        if append_only:
            count = len(self._starts)
            return max([from_position, *self._ends[-1:]]), self.changeover(order, count)
        start = from_position
        index = max(0, bisect.bisect_right(self._ends, start))
        while index < len(self._starts):
            if start + self.changeover(order, index) + minutes <= self._starts[index] and self._keeps_the_rest(
                order, index
            ):
                break
            start = max(start, self._ends[index])
            index += 1
        return start, self.changeover(order, index)

    def occupy(self, start: int, minutes: int, order: Order | None = None, changeover: int = 0) -> None:
        """Take ``changeover + minutes`` from ``start`` (the changeover first) for ``order``."""
        index = bisect.bisect_left(self._starts, start)
        self._starts.insert(index, start)
        self._ends.insert(index, start + changeover + minutes)
        if order is not None and self.dataset is not None:
            self._orders.insert(index, order)
            self._changeovers.insert(index, changeover)
            self._families.insert(index, family_after(self.dataset, self._family_before(index), order))


class CapLedger:
    """Orders inspected and dispatched per day so far, against the plant's caps (PROBLEM.md
    "Inspection and dispatch capacity"): inspection on the first working day after production,
    dispatch on the first after inspection, so a cap limits the runs ending before each day."""

    def __init__(self, instance: Instance, uncapped: bool = False):
        dataset, calendar = instance.dataset, instance.calendar
        self.inspection_cap, self.dispatch_cap = (
            (None, None) if uncapped else (dataset.inspection_cap, dataset.dispatch_cap)
        )
        self._inspection_of = [calendar.inspection_day(d) for d in range(instance.horizon)]
        self._dispatch_of = [calendar.dispatch_day(d) for d in range(instance.horizon)]
        self._inspections: dict[int, int] = {}
        self._dispatches: dict[int, int] = {}

    @property
    def capped(self) -> bool:
        return self.inspection_cap is not None or self.dispatch_cap is not None

    def has_room(self, end_day: int) -> bool:
        """Whether one more order may end production on ``end_day``."""
        return _below(self._inspections, self._inspection_of[end_day], self.inspection_cap) and _below(
            self._dispatches, self._dispatch_of[end_day], self.dispatch_cap
        )

    def book(self, end_day: int) -> None:
        inspection, dispatch = self._inspection_of[end_day], self._dispatch_of[end_day]
        self._inspections[inspection] = self._inspections.get(inspection, 0) + 1
        self._dispatches[dispatch] = self._dispatches.get(dispatch, 0) + 1


def _below(counts: dict[int, int], day: int, cap: int | None) -> bool:
    """Whether ``day`` takes one more order under ``cap`` (a day past the horizon, -1, is not counted)."""
    return cap is None or day < 0 or counts.get(day, 0) < cap


def _place_on_line(
    timeline: LineTimeline,
    option: Option,
    material_day: int,
    start_day: int | None,
    append_only: bool = False,
    order: Order | None = None,
    caps: CapLedger | None = None,
) -> tuple[int, int, int] | None:
    """Start position, last production day and changeover in the line's earliest fitting gap, or ``None``.

    ``start_day`` (an in-production or frozen order's) must be the run's first day. A run
    whose inspection or dispatch day is full moves later, until its end falls on a day with room.
    """
    axis = timeline.axis
    earliest = max(option.earliest_position, int(axis.start[material_day]))
    if start_day is not None:
        earliest = max(earliest, int(axis.start[start_day]))
    while True:
        start, changeover = timeline.earliest_gap(option.minutes, earliest, append_only, order)
        if start > option.latest_position:
            return None
        if start_day is not None and axis.day_of(start) != start_day:
            return None
        length = changeover + option.minutes
        if start + length > axis.total:
            return None  # the changeover takes the line past the horizon
        end_day = axis.day_of(start + length - 1)
        if caps is None or not caps.capped or caps.has_room(end_day):
            return start, end_day, changeover
        # the run must end on a later day: its last minute at the next day's first at the earliest
        earliest = max(start + 1, int(axis.start[end_day + 1]) - length + 1)


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
    caps: CapLedger | None = None,
) -> tuple[tuple, Option, int, int, int] | None:
    """The placement that delivers first; a frozen order keeps line and day when it still can.

    Key, option, start, changeover and last production day of the run.
    """
    best = None
    for option in _options(candidate, frozen):
        start_day = frozen[1] if frozen else option.fixed_start_day
        placed = _place_on_line(
            timelines[option.line_id], option, material_day, start_day, append_only, candidate.order, caps
        )
        if placed is None:
            continue
        start, end_day, changeover = placed
        key = (instance.delivery_day(candidate, end_day), start + changeover + option.minutes, option.line_id)
        if best is None or key < best[0]:
            best = (key, option, start, changeover, end_day)
    if best is None and frozen is not None:
        return _best_placement(instance, candidate, timelines, material_day, None, append_only, caps)
    return best


SortKey = Callable[[Candidate], tuple]


def by_due_date(candidate: Candidate) -> tuple:
    return (candidate.due_day, -candidate.priority, candidate.order_id)


def by_family_within_due_windows(instance: Instance, window_days: int) -> SortKey:
    """Due date in windows of ``window_days``, one family after the other inside each window:
    fewer changeovers where a line's changeovers eat the room a due-date order needs."""
    family_of = instance.dataset.family_of

    def key(candidate: Candidate) -> tuple:
        window = candidate.due_day // window_days
        return (
            window,
            family_of(candidate.order.product_id),
            candidate.due_day,
            -candidate.priority,
            candidate.order_id,
        )

    return key


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
    instance: Instance,
    frozen: dict[str, tuple[str, int]],
    sort_key: SortKey,
    append_only: bool = False,
    family_blind: bool = False,
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """Place orders one by one in ``sort_key`` order (in-production, then frozen ones first).

    ``append_only`` places each order after the last run of a line instead of in the
    earliest gap: classic earliest-due-date dispatching, kept as the benchmarks' yardstick.
    ``family_blind`` ignores changeovers and caps: a sequence to be timed again with them
    (:func:`family_blind_retimed`), never a plan by itself.
    """

    def key(candidate: Candidate) -> tuple:
        pinned = frozen.get(candidate.order_id)
        # runs bound to a day (in production, pinned by the planner) go first: nothing else may take their day
        group = 0 if candidate.start_pinned else 1 if pinned else 2
        return (group, pinned[1] if pinned else 0, *sort_key(candidate))

    timelines = {line_id: _timeline(instance, axis, family_blind) for line_id, axis in instance.axes.items()}
    ledger = MaterialLedger(instance)
    caps = CapLedger(instance, uncapped=family_blind)
    assignments: dict[str, Assignment] = {}
    left_out: dict[str, str] = {}
    for candidate in sorted(instance.candidates, key=key):
        material_day = ledger.earliest_day(candidate.material_need, candidate.earliest_day)
        if material_day is None:
            left_out[candidate.order_id] = "materials are taken by orders planned earlier"
            continue
        best = _best_placement(
            instance, candidate, timelines, material_day, frozen.get(candidate.order_id), append_only, caps
        )
        if best is None:
            left_out[candidate.order_id] = _no_room(candidate)
            continue
        _, option, start, changeover, end_day = best
        assignments[candidate.order_id] = Assignment(candidate.order_id, option.line_id, start)
        timelines[option.line_id].occupy(start, option.minutes, candidate.order, changeover)
        caps.book(end_day)
        ledger.issue(candidate.material_need, instance.axes[option.line_id].day_of(start))
    return assignments, left_out


def _timeline(instance: Instance, axis: LineAxis, family_blind: bool = False) -> LineTimeline:
    """An empty timeline of the line; the families are followed only where a changeover takes time."""
    dataset = instance.dataset
    followed = not family_blind and line_has_changeovers(dataset, axis.line_id)
    return LineTimeline(axis, dataset if followed else None)


def family_blind_retimed(
    instance: Instance, frozen: dict[str, tuple[str, int]]
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """The due-date plan made as if changeovers took no time, then timed with them: each order keeps
    its line and its place in the line's sequence and pays the changeover from the run before it.

    Where changeovers crowd a line, packing every order by due date into the earliest gap can leave
    orders out that this plan still fits (it keeps the blind plan's room between the runs)."""
    blind, _ = list_schedule(instance, frozen, by_due_date, family_blind=True)
    on_blind_line = [
        dataclasses.replace(c, options=(option_for(c, blind[c.order_id].line_id),))
        for c in instance.candidates
        if c.order_id in blind
    ]
    restricted = dataclasses.replace(instance, candidates=on_blind_line)

    def in_blind_order(candidate: Candidate) -> tuple:
        run = blind[candidate.order_id]
        return (instance.axes[run.line_id].day_of(run.start), run.start, candidate.order_id)

    assignments, left_out = list_schedule(restricted, frozen, in_blind_order, append_only=True)
    for candidate in instance.candidates:
        if candidate.order_id not in blind:
            left_out[candidate.order_id] = _no_room(candidate)
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
    end_days = last_production_days(instance, assignments)
    parts = [instance.order_objective(c, end_days.get(c.order_id)) for c in instance.candidates]
    return Objective.total(parts).primary


def last_production_days(instance: Instance, assignments: dict[str, Assignment]) -> dict[str, int]:
    """Each run's last production day, the changeover in front of it (from the run before it on
    its line) included."""
    candidates = {c.order_id: c for c in instance.candidates}
    by_line: dict[str, list[Assignment]] = {}
    for assignment in assignments.values():
        by_line.setdefault(assignment.line_id, []).append(assignment)
    end_days = {}
    for line_id, runs in by_line.items():
        runs.sort(key=lambda a: a.start)
        orders = [candidates[a.order_id].order for a in runs]
        for assignment, changeover in zip(runs, line_changeovers(instance.dataset, line_id, orders), strict=True):
            minutes = next(o.minutes for o in candidates[assignment.order_id].options if o.line_id == line_id)
            end_days[assignment.order_id] = instance.axes[line_id].day_of(assignment.start + changeover + minutes - 1)
    return end_days


def moved_orders(instance: Instance, assignments: dict[str, Assignment], keep: dict[str, tuple[str, int]]) -> int:
    """Orders of ``keep`` that are not on their kept line and start day."""
    moved = 0
    for order_id, (line_id, day) in keep.items():
        placed = assignments.get(order_id)
        if placed is None or placed.line_id != line_id or instance.axes[line_id].day_of(placed.start) != day:
            moved += 1
    return moved


FAMILY_WINDOWS_DAYS = (7, 21)  # the family-batched passes: a week, three weeks


def best_list_schedule(
    instance: Instance,
    frozen: dict[str, tuple[str, int]] | None = None,
    previous: dict[str, tuple[str, int]] | None = None,
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """Assignments and left-out orders (with reasons) of the best of the list schedules.

    Four passes (by due date, by latest start, by apparent tardiness cost with two
    look-aheads) compete on levels 1-2 of the objective; with changeovers, two more take
    the families one after the other within due-date windows. ``frozen`` maps orders of the
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
    if plans_changeovers(instance.dataset):
        keys += tuple(by_family_within_due_windows(instance, days) for days in FAMILY_WINDOWS_DAYS)
    plans = [list_schedule(instance, frozen, key) for key in keys]
    if plans_changeovers(instance.dataset) or instance.dataset.inspection_cap or instance.dataset.dispatch_cap:
        plans.append(family_blind_retimed(instance, frozen))
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
