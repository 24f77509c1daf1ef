"""Holding (level 4): on-time runs moved later, levels 1-3 untouched, every plan valid."""

from __future__ import annotations

from solver.heuristic import by_due_date, list_schedule
from solver.holding import shift_later
from solver.instance import build_instance
from solver.lns import PlanState
from solver.model import Baseline
from solver.solution import build_schedule
from solver.validation import validate_schedule
from tests.conftest import order, tiny_dataset


def _state(dataset, baseline=None):
    instance = build_instance(dataset)
    assignments, _ = list_schedule(instance, {}, by_due_date)
    return PlanState(instance, baseline or Baseline({}), assignments)


def _valid(dataset, state) -> bool:
    schedule = build_schedule(state.instance, state.assignments(), {}, status="FEASIBLE")
    return validate_schedule(dataset, schedule) == []


# Three weeks, one line of 480 minutes. X (480 units, a whole day) and Y (240) are both due
# Fri 12-18; the list schedule runs X on Mon 11-30 and Y on Tue 12-01. Delivering on time
# means dispatch by 12-18, inspection by 12-17, a last production day by Wed 12-16.
# X ending 11-30 delivers 12-02 (16 days early: 9 held), Y ending 12-01 delivers 12-03 (8).
# Moved later, Y takes the second half of 12-16 and X the half-days before it (12-15 to
# 12-16): both deliver 12-18, nothing held.
def test_on_time_runs_move_as_late_as_they_stay_on_time():
    dataset = tiny_dataset([order("X", 480, "2026-12-18"), order("Y", 240, "2026-12-18")], horizon_days=21)
    state = _state(dataset)
    assert state.total() == (0, 0, 0, 17)
    assert shift_later(state, locked=set()) == 17
    assert state.total() == (0, 0, 0, 0)
    assert (state.runs["Y"].start_day, state.runs["Y"].end_day) == (16, 16)
    assert (state.runs["X"].start_day, state.runs["X"].end_day) == (15, 16)
    assert _valid(dataset, state)


# The same plant; X is locked (in production or frozen) and Y is still where the previous
# plan had it: moving Y would be a change (level 3, before holding), so nothing moves.
def test_locked_runs_and_runs_kept_from_the_previous_plan_stay():
    dataset = tiny_dataset([order("X", 480, "2026-12-18"), order("Y", 240, "2026-12-18")], horizon_days=21)
    state = _state(dataset, Baseline({"Y": ("L1", 1)}))
    assert shift_later(state, locked={"X"}) == 0
    assert (state.runs["X"].start_day, state.runs["Y"].start_day) == (0, 1)


# A late order holds nothing and stays; the on-time one behind it still moves up to the
# horizon's end (its on-time day is past the horizon).
def test_late_runs_stay_and_the_horizon_caps_the_move():
    orders = [order("LATE", 480, "2026-11-30", priority=2), order("EARLY", 240, "2026-12-31")]
    dataset = tiny_dataset(orders, horizon_days=14)
    state = _state(dataset)
    late_before = state.runs["LATE"]
    shift_later(state, locked=set())
    assert state.runs["LATE"] == late_before
    assert state.runs["EARLY"].end_day == 11  # Fri 12-11, the horizon's last working day
    assert state.total()[1] == state.cost("LATE")[1] > 0
    assert _valid(dataset, state)
