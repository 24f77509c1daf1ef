"""Less finished-goods holding without touching levels 1-3 of the objective.

Holding (level 4) is the days between delivery and due date beyond the week
customers have to collect; it only shrinks as an order's last production day
moves later, until the order would deliver late. Moving a run later never
breaks a rule it kept: its kit is issued later (kitting only limits what is
issued by each date), its earliest start stays behind it, and the line's
working-minute axis has room up to the next run. So, line by line from the
last run to the first, each on-time run moves as late as it can while it stays
on time, before the next run and inside the horizon: for the line's sequence
this is the least holding (every run at its latest on-time position leaves
the most room to the runs before it).

Runs that must stay are left where they are: in-production and frozen orders,
late orders (they hold nothing), and, when replanning, orders still on the
previous plan's line and start day (moving them would count as a change,
level 3, which ranks before holding).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from solver.lns import PlanState

log = logging.getLogger(__name__)


def shift_later(state: PlanState, locked: set[str]) -> int:
    """Move every movable on-time run as late as it may go; returns the holding days removed."""
    removed = 0
    for line_id, starts in state.line_starts.items():
        axis = state.instance.axes[line_id]
        limit = axis.total  # the next run's start on the line, once placed
        for _, order_id in list(reversed(starts)):
            target = _latest_start(state, order_id, limit, locked)
            run = state.runs[order_id]
            if target is not None and target > run.start:
                before = state.cost(order_id)[3]
                undo = state.move({order_id: (line_id, target)})
                if state.caps and not state.fits({order_id}):  # a later end may crowd an inspection or dispatch day
                    state.move(undo)
                removed += before - state.cost(order_id)[3]
            limit = state.runs[order_id].start
    log.info("holding: %d days removed by moving on-time runs later", removed)
    return removed


def _latest_start(state: PlanState, order_id: str, limit: int, locked: set[str]) -> int | None:
    """The latest start of the order's run that keeps it on time, before ``limit`` and on
    its line's allowed positions; ``None`` when the run must stay."""
    run = state.runs[order_id]
    candidate = state.candidates[order_id]
    if order_id in locked or state.cost(order_id)[1] > 0:
        return None
    if state.baseline.line_and_start.get(order_id) == (run.line_id, run.start_day):
        return None
    on_time = state.on_time_end_day(candidate)
    if on_time < run.end_day:
        return None
    axis = state.instance.axes[run.line_id]
    option = state.option(order_id, run.line_id)
    end = min(limit, int(axis.start[on_time + 1]))
    # the run keeps its place in the line's sequence, so its changeover (run.end - run.start - minutes) too
    return min(end - (run.end - run.start), option.latest_position)
