"""Earliest-due-date list scheduling: a valid plan in milliseconds.

It is the baseline every solve must beat, the hint the CP-SAT model starts
from and the fallback when the solver finds nothing in its time. Orders are
taken by due date (in-production orders first, higher priority breaking
ties) and each is appended to the line where it delivers first, no earlier
than its release and than the day its materials are all available.
"""

from __future__ import annotations

import logging

import numpy as np

from solver.instance import Candidate, Instance, Option
from solver.solution import Assignment

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


def edd_order(candidates: list[Candidate], frozen: dict[str, tuple[str, int]]) -> list[Candidate]:
    """In-production orders first, then frozen ones by start day, then by due date and priority."""

    def key(candidate: Candidate) -> tuple:
        pinned = frozen.get(candidate.order_id)
        group = 0 if candidate.order.status == "in_production" else 1 if pinned else 2
        return (group, pinned[1] if pinned else 0, candidate.due_day, -candidate.priority, candidate.order_id)

    return sorted(candidates, key=key)


def _place_on_line(
    instance: Instance, option: Option, frontier: int, material_day: int, start_day: int | None
) -> tuple[int, int] | None:
    """Start position and last production day when appended to a line, or ``None``.

    ``start_day`` (an in-production or frozen order's) must be the run's first day.
    """
    axis = instance.axes[option.line_id]
    start = max(frontier, option.earliest_position, int(axis.start[material_day]))
    if start_day is not None:
        start = max(start, int(axis.start[start_day]))
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
    frontier: dict[str, int],
    material_day: int,
    frozen: tuple[str, int] | None,
) -> tuple[tuple, Option, int] | None:
    """The placement that delivers first; a frozen order keeps line and day when it still can."""
    best = None
    for option in _options(candidate, frozen):
        start_day = frozen[1] if frozen else option.fixed_start_day
        placed = _place_on_line(instance, option, frontier[option.line_id], material_day, start_day)
        if placed is None:
            continue
        start, end_day = placed
        key = (instance.delivery_day(candidate, end_day), start + option.minutes, option.line_id)
        if best is None or key < best[0]:
            best = (key, option, start)
    if best is None and frozen is not None:
        return _best_placement(instance, candidate, frontier, material_day, None)
    return best


def earliest_due_date_schedule(
    instance: Instance, frozen: dict[str, tuple[str, int]] | None = None
) -> tuple[dict[str, Assignment], dict[str, str]]:
    """Assignments and left-out orders (with reasons) of EDD list scheduling.

    ``frozen`` maps orders of the frozen window to the line and start day they keep
    (when they still can: otherwise they are planned like any other order).
    """
    frozen = frozen or {}
    frontier = dict.fromkeys(instance.axes, 0)
    ledger = MaterialLedger(instance)
    assignments: dict[str, Assignment] = {}
    left_out: dict[str, str] = {}
    for candidate in edd_order(instance.candidates, frozen):
        material_day = ledger.earliest_day(candidate.material_need, candidate.earliest_day)
        if material_day is None:
            left_out[candidate.order_id] = "materials are taken by orders planned earlier"
            continue
        best = _best_placement(instance, candidate, frontier, material_day, frozen.get(candidate.order_id))
        if best is None:
            lines = ", ".join(o.line_id for o in candidate.options)
            left_out[candidate.order_id] = f"no room left on line(s) {lines} before the horizon end"
            continue
        _, option, start = best
        assignments[candidate.order_id] = Assignment(candidate.order_id, option.line_id, start)
        frontier[option.line_id] = start + option.minutes
        ledger.issue(candidate.material_need, instance.axes[option.line_id].day_of(start))
    log.debug("EDD placed %d orders, left out %d", len(assignments), len(left_out))
    return assignments, left_out
