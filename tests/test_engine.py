"""The engine's contract beyond single rules: fallback, progress, stop, bounds."""

from __future__ import annotations

import threading

import pytest

from solver.engine import SolveParams, solve
from solver.generate import generate_dataset
from solver.objective import Objective
from solver.validation import validate_schedule


@pytest.fixture(scope="module")
def plant_200():
    return generate_dataset(200, 6, 90, 14, load=0.85)


def rank(objective: dict[str, int]) -> Objective:
    return Objective.from_dict(objective).primary


def test_no_time_for_the_solver_still_returns_a_valid_plan(plant_200):
    result = solve(plant_200, SolveParams(time_limit=0.2, workers=1))
    assert validate_schedule(plant_200, result.schedule) == []
    assert result.status == "FEASIBLE"
    assert any("earliest-due-date plan is returned" in w for w in result.schedule["warnings"])
    assert rank(result.objective) == rank(result.baseline_objective)
    assert set(result.bound) == {"unscheduled_priority", "weighted_days_late"}
    assert result.bound["unscheduled_priority"] <= result.objective["unscheduled_priority"]


def test_progress_is_streamed_and_the_plan_is_never_worse_than_edd():
    dataset = generate_dataset(40, 2, 60, 21)
    seen = []
    result = solve(dataset, SolveParams(time_limit=5, workers=2, seed=3), progress=seen.append)
    assert validate_schedule(dataset, result.schedule) == []
    assert seen and seen[0].solutions >= 1 and seen[0].objective is not None
    assert rank(result.objective) <= rank(result.baseline_objective)
    assert result.bound["weighted_days_late"] <= result.objective["weighted_days_late"]
    assert result.schedule["solver"] == {
        "stages": result.schedule["solver"]["stages"],
        "time_limit": 5,
        "workers": 2,
        "seed": 3,
    }


def test_a_stop_request_keeps_the_best_plan_so_far(plant_200):
    stop = threading.Event()
    stop.set()  # stop at the first solution found
    result = solve(plant_200, SolveParams(time_limit=20, workers=2), stop=stop)
    assert validate_schedule(plant_200, result.schedule) == []
    assert result.seconds < 15
    assert rank(result.objective) <= rank(result.baseline_objective)


def test_kpis_agree_with_the_orders(plant_200):
    result = solve(plant_200, SolveParams(time_limit=0.2, workers=1))
    schedule = result.schedule
    kpis = schedule["kpis"]
    late = [o for o in schedule["orders"] if o["days_late"] > 0]
    assert kpis["orders_planned"] == len(schedule["orders"])
    assert kpis["orders_late"] == len(late)
    assert kpis["orders_unscheduled"] == len(schedule["unscheduled"])
    assert kpis["weighted_days_late"] == schedule["objective"]["weighted_days_late"]
    assert kpis["on_time_rate"] == round(1 - len(late) / len(schedule["orders"]), 4)
    for line_id, share in kpis["utilisation"].items():
        used = sum(r["minutes_used"] for r in schedule["line_loads"] if r["line_id"] == line_id)
        available = sum(r["minutes_available"] for r in schedule["line_loads"] if r["line_id"] == line_id)
        assert share == round(used / available, 4)
