"""The schedule document with changeovers and inspection / dispatch caps, and the validator's checks of it.

PROBLEM.md, "Changeovers" and "Inspection and dispatch capacity". The plans here are built by
hand from assignments (:func:`solver.solution.build_schedule`), the way every producer hands
its runs over, and each one goes through the independent validator. Conventions of
tests/conftest.py: the plan starts Monday 2026-11-30, working days 11-30 ... 12-04 and
12-07 ... 12-11, line L1 480 min a day.

The products: A1 of family A and B1 of family B, both one unit a minute on L1 and L2;
B1 has half an hour of setup. Changeovers: A → B 60 min, B → A 30 min, on every line.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from solver import domain, io
from solver.domain import Changeover, Dataset, Line, Order, Plant, Product, Routing
from solver.instance import build_instance
from solver.solution import Assignment, assignments_from_schedule, build_schedule, with_changeovers
from solver.validation import validate_schedule
from tests.conftest import PLAN_START, day, planned, run_of

A_TO_B, B_TO_A = 60, 30


@pytest.fixture
def planned_with_changeovers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch the gate on: the engine plans with changeovers and caps."""
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", True)


def families_dataset(
    orders: list[Order],
    *,
    initial_family: str = "",
    inspection_cap: int | None = None,
    dispatch_cap: int | None = None,
) -> Dataset:
    """Lines L1 and L2 (8 h), products A1 (family A) and B1 (family B, 30 min setup), A → B 60 min, B → A 30 min."""
    return Dataset.create(
        plant=Plant(
            PLAN_START,
            horizon_days=14,
            holiday_country=None,
            inspection_orders_per_day=inspection_cap,
            dispatch_orders_per_day=dispatch_cap,
        ),
        lines=[Line("L1", 8, initial_family=initial_family), Line("L2", 8)],
        products=[Product("A1", family="A"), Product("B1", family="B")],
        routings=[Routing(p, line, 60, 0.5 if p == "B1" else 0) for p in ("A1", "B1") for line in ("L1", "L2")],
        orders=orders,
        changeovers=[Changeover("A", "B", A_TO_B), Changeover("B", "A", B_TO_A)],
    )


def an_order(order_id: str, product_id: str, quantity: int, due: str = "2026-12-31", **fields: Any) -> Order:
    return Order(order_id, product_id, quantity, day(due), **fields)


def schedule_of(dataset: Dataset, runs: list[tuple[str, str, int]]) -> dict[str, Any]:
    """The schedule document of runs ``(order_id, line_id, start position)``."""
    instance = build_instance(dataset)
    assignments = {order_id: Assignment(order_id, line_id, start) for order_id, line_id, start in runs}
    return build_schedule(instance, assignments, {}, status="FEASIBLE")


def rules(dataset: Dataset, schedule: dict[str, Any]) -> set[str]:
    return {violation.rule for violation in validate_schedule(dataset, schedule)}


def a_then_b() -> tuple[Dataset, dict[str, Any]]:
    """A (300 units of A1) at minute 0, then B (300 units of B1) right after it on L1.

    B follows a run of family A: 60 min changeover + 30 min setup + 300 min = 390 min from
    position 300 to 690. Day 1 (11-30): 180 min (60 changeover, 30 setup, 90 units); day 2
    (12-01): 210 min, 210 units. Inspection 12-02, dispatch 12-03.
    """
    dataset = families_dataset([an_order("A", "A1", 300), an_order("B", "B1", 300)])
    return dataset, schedule_of(dataset, [("A", "L1", 0), ("B", "L1", 300)])


# -- the document -------------------------------------------------------------------------


def test_a_run_after_another_family_carries_its_changeover_first(planned_with_changeovers: None) -> None:
    dataset, schedule = a_then_b()
    a, b = planned(schedule, "A"), planned(schedule, "B")
    assert (a["sequence"], a["changeover_minutes"], a["start_minute"], a["end_minute"]) == (1, 0, 0, 300)
    assert (b["sequence"], b["changeover_minutes"], b["start_minute"], b["end_minute"]) == (2, A_TO_B, 300, 210)
    assert run_of(schedule, "B") == [("2026-11-30", 180, 90), ("2026-12-01", 210, 210)]
    # its first production day is the day its changeover begins (materials are issued then)
    assert (b["production_start"], b["production_end"]) == ("2026-11-30", "2026-12-01")
    assert (b["inspection_date"], b["dispatch_date"]) == ("2026-12-02", "2026-12-03")
    assert schedule["kpis"]["changeover_hours_by_line"] == {"L1": 1.0, "L2": 0.0}
    assert validate_schedule(dataset, schedule) == []


def test_the_daily_work_list_spends_the_changeover_before_the_setup(planned_with_changeovers: None) -> None:
    """B's 11-30: 60 min changeover, then 30 min setup, then 90 units; its 12-01 has neither."""
    dataset, schedule = a_then_b()
    rows = [
        (r["order_id"], r["date"], r["changeover_minutes"], r["setup_minutes"], r["note"])
        for r in io.daily_plan_rows(schedule, dataset)
    ]
    assert rows == [
        ("A", "2026-11-30", 0, 0, ""),
        ("B", "2026-11-30", A_TO_B, 30, ""),
        ("B", "2026-12-01", 0, 0, ""),
    ]
    # a day that is all changeover finishes no unit and is a setting-up day
    dataset = families_dataset([an_order("A", "A1", 420), an_order("B", "B1", 300)])
    schedule = schedule_of(dataset, [("A", "L1", 0), ("B", "L1", 420)])
    b = [
        (r["changeover_minutes"], r["setup_minutes"], r["note"])
        for r in io.daily_plan_rows(schedule, dataset)
        if r["order_id"] == "B"
    ]
    assert b == [(A_TO_B, 0, io.SETUP_ONLY), (0, 30, "")]


def test_a_changeover_that_fills_the_end_of_a_day_makes_that_day_the_first(planned_with_changeovers: None) -> None:
    """A takes 420 of 11-30's 480 min; B's changeover takes the last 60: B starts 11-30, finishing nothing
    that day, and its 30 min setup and 300 min run fill 12-01 (330 min)."""
    dataset = families_dataset([an_order("A", "A1", 420), an_order("B", "B1", 300)])
    schedule = schedule_of(dataset, [("A", "L1", 0), ("B", "L1", 420)])
    assert run_of(schedule, "B") == [("2026-11-30", 60, 0), ("2026-12-01", 330, 300)]
    assert planned(schedule, "B")["production_start"] == "2026-11-30"
    assert validate_schedule(dataset, schedule) == []
    wrong = copy.deepcopy(schedule)
    planned(wrong, "B")["production_start"] = "2026-12-01"  # as if production began after the changeover
    assert rules(dataset, wrong) == {"production_dates"}


def test_without_the_gate_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same runs, the gate off: B needs 330 min from position 300 (180 on 11-30, 150 on 12-01)."""
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", False)
    dataset, schedule = a_then_b()
    assert planned(schedule, "B")["changeover_minutes"] == 0
    assert run_of(schedule, "B") == [("2026-11-30", 180, 150), ("2026-12-01", 150, 150)]
    assert "changeover_hours_by_line" not in schedule["kpis"]
    assert "inspections_per_day" not in schedule["kpis"]
    assert validate_schedule(dataset, schedule) == []


def test_the_same_family_after_it_needs_no_changeover(planned_with_changeovers: None) -> None:
    dataset = families_dataset([an_order("A", "A1", 300), an_order("A2", "A1", 100)])
    schedule = schedule_of(dataset, [("A", "L1", 0), ("A2", "L1", 300)])
    assert planned(schedule, "A2")["changeover_minutes"] == 0
    assert run_of(schedule, "A2") == [("2026-11-30", 100, 100)]
    assert validate_schedule(dataset, schedule) == []


def test_the_first_run_follows_the_lines_initial_family(planned_with_changeovers: None) -> None:
    """L1 ends the previous plan on family A: B, its first run, pays A → B (60 + 30 + 300 = 390 min)."""
    dataset = families_dataset([an_order("B", "B1", 300)], initial_family="A")
    schedule = schedule_of(dataset, [("B", "L1", 0)])
    assert planned(schedule, "B")["changeover_minutes"] == A_TO_B
    assert run_of(schedule, "B") == [("2026-11-30", 390, 300)]
    assert validate_schedule(dataset, schedule) == []


def test_an_order_in_production_pays_none_and_sets_the_lines_family(planned_with_changeovers: None) -> None:
    """L1 was on family A, but P (family B) is in production: no changeover in front of it; A after it pays B → A."""
    dataset = families_dataset(
        [an_order("P", "B1", 100, status="in_production", pinned_line="L1"), an_order("A", "A1", 100)],
        initial_family="A",
    )
    schedule = schedule_of(dataset, [("P", "L1", 0), ("A", "L1", 130)])  # P: 30 setup + 100
    assert planned(schedule, "P")["changeover_minutes"] == 0
    assert planned(schedule, "A")["changeover_minutes"] == B_TO_A
    assert run_of(schedule, "A") == [("2026-11-30", 130, 100)]
    assert validate_schedule(dataset, schedule) == []


def test_runs_are_read_back_with_their_changeovers(planned_with_changeovers: None) -> None:
    """A previous plan's runs come back at the positions where their changeovers begin."""
    dataset = families_dataset([an_order("A", "A1", 100), an_order("B", "B1", 100), an_order("C", "A1", 600)])
    instance = build_instance(dataset)
    runs = {"A": Assignment("A", "L1", 0), "B": Assignment("B", "L1", 100), "C": Assignment("C", "L1", 290)}
    schedule = build_schedule(instance, runs, {}, status="FEASIBLE")
    back = assignments_from_schedule(instance, schedule["orders"])
    assert back == runs
    assert {o: a.changeover for o, a in back.items()} == {"A": 0, "B": A_TO_B, "C": B_TO_A}
    assert {o: a.changeover for o, a in with_changeovers(instance, runs).items()} == {"A": 0, "B": 60, "C": 30}


# -- why late, and the caps in the KPIs ------------------------------------------------------


def test_a_late_order_names_the_changeover_in_front_of_it(planned_with_changeovers: None) -> None:
    """B, due 12-02, is delivered 12-03 behind its 60 min changeover after A.

    A ends 11-30 and B 12-01: one order inspected a day, under the cap of 2, so no full day.
    """
    dataset = families_dataset(
        [an_order("A", "A1", 300), an_order("B", "B1", 300, due="2026-12-02")], inspection_cap=2, dispatch_cap=3
    )
    schedule = schedule_of(dataset, [("A", "L1", 0), ("B", "L1", 300)])
    binding = planned(schedule, "B")["binding"]
    assert {"kind": "changeover", "line_id": "L1", "minutes": A_TO_B, "after_order": "A"} in binding
    assert not any(reason["kind"] in ("inspection_cap", "dispatch_cap") for reason in binding)
    assert schedule["kpis"]["inspections_per_day"] == {"cap": 2, "busiest_date": "2026-12-01", "busiest_orders": 1}
    assert validate_schedule(dataset, schedule) == []


def test_a_late_order_on_a_full_inspection_and_dispatch_day_says_so(planned_with_changeovers: None) -> None:
    """A on L1 and B on L2 both end 11-30: inspected 12-01 (cap 2: full), dispatched 12-02 (cap 2: full)."""
    dataset = families_dataset(
        [an_order("A", "A1", 100, due="2026-12-01"), an_order("B", "B1", 100)], inspection_cap=2, dispatch_cap=2
    )
    schedule = schedule_of(dataset, [("A", "L1", 0), ("B", "L2", 0)])
    binding = planned(schedule, "A")["binding"]
    assert {"kind": "inspection_cap", "date": "2026-12-01", "cap": 2} in binding
    assert {"kind": "dispatch_cap", "date": "2026-12-02", "cap": 2} in binding
    assert not any(reason["kind"] == "changeover" for reason in binding)
    assert schedule["kpis"]["dispatches_per_day"] == {"cap": 2, "busiest_date": "2026-12-02", "busiest_orders": 2}
    assert validate_schedule(dataset, schedule) == []


# -- the validator: one test per check, each against the right document -------------------------


def test_a_run_missing_its_changeover_is_rejected(planned_with_changeovers: None) -> None:
    """B's allocations without its 60 changeover minutes: the run is 60 min short."""
    dataset, schedule = a_then_b()
    wrong = copy.deepcopy(schedule)
    b = planned(wrong, "B")
    b["allocations"][0]["minutes"] -= A_TO_B
    b["start_minute"] += A_TO_B
    violations = validate_schedule(dataset, wrong)
    assert {v.rule for v in violations} == {"minutes", "line_loads"}
    minutes = next(v for v in violations if v.rule == "minutes")
    assert minutes.order_id == "B" and "need 390 min (60 min changeover first)" in minutes.message


def test_a_wrong_changeover_minutes_is_rejected(planned_with_changeovers: None) -> None:
    dataset, schedule = a_then_b()
    wrong = copy.deepcopy(schedule)
    planned(wrong, "B")["changeover_minutes"] = 0
    violations = validate_schedule(dataset, wrong)
    assert [(v.rule, v.order_id) for v in violations] == [("changeover", "B")]
    assert "it follows A, with the line set up for family A, and is of family B" in violations[0].message
    assert "on line L1 from 2026-11-30 (Mon): the changeover in front of it is 60 min" in violations[0].message


def test_a_missing_changeover_minutes_is_rejected_when_changeovers_are_planned(
    planned_with_changeovers: None,
) -> None:
    dataset, schedule = a_then_b()
    wrong = copy.deepcopy(schedule)
    del planned(wrong, "A")["changeover_minutes"]
    assert [(v.rule, v.order_id) for v in validate_schedule(dataset, wrong)] == [("changeover", "A")]


def test_a_wrong_sequence_is_rejected(planned_with_changeovers: None) -> None:
    dataset, schedule = a_then_b()
    wrong = copy.deepcopy(schedule)
    planned(wrong, "A")["sequence"], planned(wrong, "B")["sequence"] = 2, 1
    violations = validate_schedule(dataset, wrong)
    assert [(v.rule, v.order_id) for v in violations] == [("sequence", "A")]


def test_over_the_inspection_cap_is_rejected(planned_with_changeovers: None) -> None:
    """A on L1 and B on L2 both end 11-30, both inspected 12-01: two orders, the cap is 1."""
    dataset = families_dataset([an_order("A", "A1", 100), an_order("B", "B1", 100)], inspection_cap=1)
    schedule = schedule_of(dataset, [("A", "L1", 0), ("B", "L2", 0)])
    violations = validate_schedule(dataset, schedule)
    assert [v.rule for v in violations] == ["inspection_cap"]
    assert violations[0].message == (
        "orders A, B are inspected on 2026-12-01 (Tue); the quality department inspects at most 1 orders per working day"
    )
    assert validate_schedule(families_dataset(list(dataset.orders), inspection_cap=2), schedule) == []


def test_over_the_dispatch_cap_is_rejected(planned_with_changeovers: None) -> None:
    """Both dispatched 12-02: two orders, the cap is 1."""
    dataset = families_dataset([an_order("A", "A1", 100), an_order("B", "B1", 100)], dispatch_cap=1)
    schedule = schedule_of(dataset, [("A", "L1", 0), ("B", "L2", 0)])
    violations = validate_schedule(dataset, schedule)
    assert [v.rule for v in violations] == ["dispatch_cap"]
    assert "orders A, B are dispatched on 2026-12-02 (Wed)" in violations[0].message
    assert validate_schedule(families_dataset(list(dataset.orders), dispatch_cap=2), schedule) == []


def test_a_plan_made_without_changeovers_is_rejected_once_they_are_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate-off document of A then B, checked with the gate on: B lacks its changeover."""
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", False)
    dataset, schedule = a_then_b()
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", True)
    assert rules(dataset, schedule) == {"minutes", "changeover"}


def test_the_new_reasons_are_worded_for_the_planner() -> None:
    dataset = families_dataset([])
    changeover = {"kind": "changeover", "line_id": "L1", "minutes": 60, "after_order": "A"}
    assert io.reason_text(changeover, dataset, "en") == "a 60 min changeover on line L1 before its run"
    assert io.reason_text(changeover, dataset, "zh") == "产线 L1 开工前换型 60 分钟"
    full = {"kind": "dispatch_cap", "date": "2026-12-02", "cap": 2}
    assert io.reason_text(full, dataset, "en") == "dispatch day 2026-12-02 full (2 order(s) a day)"
