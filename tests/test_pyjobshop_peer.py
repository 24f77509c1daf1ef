"""The PyJobShop side of issue #15's changeover benchmark, on hand-worked plants.

The plants, the conversion of a plan into a paichan schedule document and the list
schedule need no PyJobShop; the tests that solve import it with ``pytest.importorskip``
and skip cleanly without it (it is the ``bench`` extra, not the ``test`` one).

The hand-worked plant: one line L1 of 8 h (480 min a day, every day works), families A
and B with a 60-min changeover either way, initial family A. X1 is 300 units of PB
(family B) at 60/h = 300 min, priority 1; X2 is 240 units of PA (family A) = 240 min,
priority 3; both due on day 2 (2026-03-04), so on time only when production ends on
day 0 (inspection day 1, dispatch and delivery day 2).

* X2 then X1: X2 [0, 240) on day 0, on time; X1 changeover [240, 300), production
  [300, 600): day 0 240 min (60 changeover + 180 units), day 1 120 min (120 units),
  delivered day 3, 1 day late × priority 1 = **1**; changeovers 60 min.
* X1 then X2: X1 changeover [0, 60), [60, 360) on time; X2 changeover [360, 420),
  [420, 660) ends day 1: 1 day × priority 3 = 3.

So X2 first is optimal: weighted days late 1. From initial family B instead, X1 first
costs X2 one day (3), X2 first pays B→A and A→B (120 min) and costs X1 one day (1).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from benchmarks.changeover_plants import SPECS, build_document, check_expressible, list_schedule, read_plant
from benchmarks.pyjobshop_peer import Axis, Placement, schedule_document
from solver.io import load_json_document
from solver.validation import validate_schedule


def tiny_document(initial_family: str = "A") -> dict[str, Any]:
    return {
        "plant": {
            "plan_start": "2026-03-02",
            "horizon_days": 5,
            "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "holiday_country": None,
            "release_weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        },
        "lines": [{"line_id": "L1", "hours_per_day": 8, "initial_family": initial_family}],
        "products": [{"product_id": "PA", "family": "A"}, {"product_id": "PB", "family": "B"}],
        "changeovers": [
            {"from_family": "A", "to_family": "B", "minutes": 60},
            {"from_family": "B", "to_family": "A", "minutes": 60},
        ],
        "routings": [
            {"product_id": "PA", "line_id": "L1", "units_per_hour": 60},
            {"product_id": "PB", "line_id": "L1", "units_per_hour": 60},
        ],
        "orders": [
            {"order_id": "X1", "product_id": "PB", "quantity": 300, "due_date": "2026-03-04", "priority": 1},
            {"order_id": "X2", "product_id": "PA", "quantity": 240, "due_date": "2026-03-04", "priority": 3},
        ],
    }


def by_order(schedule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["order_id"]: entry for entry in schedule["orders"]}


# -- the conversion into a paichan schedule document --------------------------------------------


def test_the_hand_worked_plan_converts_to_its_days_minutes_and_lateness() -> None:
    view = read_plant(tiny_document(), "tiny")
    schedule = schedule_document(view, {"X2": Placement("L1", 0), "X1": Placement("L1", 300)})
    x1, x2 = by_order(schedule)["X1"], by_order(schedule)["X2"]
    assert (x2["sequence"], x2["changeover_minutes"], x2["days_late"]) == (1, 0, 0)
    assert x2["allocations"] == [{"date": "2026-03-02", "minutes": 240, "quantity": 240}]
    assert (x2["start_minute"], x2["end_minute"], x2["delivery_date"]) == (0, 240, "2026-03-04")
    assert (x1["sequence"], x1["changeover_minutes"]) == (2, 60)
    assert x1["allocations"] == [
        {"date": "2026-03-02", "minutes": 240, "quantity": 180},  # the changeover first
        {"date": "2026-03-03", "minutes": 120, "quantity": 120},
    ]
    assert (x1["start_minute"], x1["end_minute"]) == (240, 120)
    assert (x1["production_start"], x1["production_end"]) == ("2026-03-02", "2026-03-03")
    assert (x1["inspection_date"], x1["dispatch_date"], x1["delivery_date"]) == (
        "2026-03-04",
        "2026-03-05",
        "2026-03-05",
    )
    assert x1["days_late"] == 1
    assert schedule["objective"] == {
        "unscheduled_priority": 0,
        "weighted_days_late": 1,
        "changed_orders": 0,
        "holding_days": 0,
    }
    loads = {(load["line_id"], load["date"]): load["minutes_used"] for load in schedule["line_loads"]}
    assert loads[("L1", "2026-03-02")] == 480 and loads[("L1", "2026-03-03")] == 120


def test_the_first_run_pays_the_changeover_from_the_initial_family() -> None:
    view = read_plant(tiny_document(initial_family="B"), "tiny")
    schedule = schedule_document(view, {"X2": Placement("L1", 60), "X1": Placement("L1", 360)})
    x1, x2 = by_order(schedule)["X1"], by_order(schedule)["X2"]
    assert (x2["changeover_minutes"], x2["start_minute"], x2["allocations"][0]["minutes"]) == (60, 0, 300)
    assert (x1["changeover_minutes"], x1["days_late"]) == (60, 1)


def test_a_plan_without_room_for_a_changeover_is_refused() -> None:
    view = read_plant(tiny_document(), "tiny")
    with pytest.raises(ValueError, match="changeover of 60 min"):
        schedule_document(view, {"X2": Placement("L1", 0), "X1": Placement("L1", 250)})
    with pytest.raises(ValueError, match="after the horizon"):
        schedule_document(view, {"X2": Placement("L1", 0), "X1": Placement("L1", 2200)})


def test_a_run_over_three_days_fills_the_middle_one_and_lines_share_one_day_length() -> None:
    document = tiny_document()
    document["lines"].append({"line_id": "L2", "hours_per_day": 12, "initial_family": "B"})
    document["routings"].append({"product_id": "PA", "line_id": "L2", "units_per_hour": 60})
    document["orders"][1]["quantity"] = 1200  # 1,200 min
    view = read_plant(document, "two lines")
    axis = Axis.of(view)
    assert (axis.day_units, axis.factor) == (1440, {"L1": 3, "L2": 2})
    assert axis.due(view.orders[0]) == 1440  # ends by the end of day 0 on every line
    schedule = schedule_document(view, {"X2": Placement("L1", 100), "X1": Placement("L1", 1360)})
    assert by_order(schedule)["X2"]["allocations"] == [
        {"date": "2026-03-02", "minutes": 380, "quantity": 380},
        {"date": "2026-03-03", "minutes": 480, "quantity": 480},
        {"date": "2026-03-04", "minutes": 340, "quantity": 340},
    ]
    on_l2 = schedule_document(view, {"X2": Placement("L2", 60), "X1": Placement("L1", 60)})
    assert by_order(on_l2)["X2"]["changeover_minutes"] == 60  # L2 ends the last plan on B
    assert by_order(on_l2)["X2"]["allocations"] == [
        {"date": "2026-03-02", "minutes": 720, "quantity": 660},  # 60 min changeover, then 660 units
        {"date": "2026-03-03", "minutes": 540, "quantity": 540},
    ]


def test_paichan_validator_accepts_a_converted_plan_with_and_without_changeover_costs() -> None:
    """The conversion of a peer's plan is a valid paichan schedule, changeovers included: paichan's
    validator is the judge of both tools' plans in the benchmark."""
    document = build_document(SPECS["CO3"])
    for row in document["changeovers"]:
        row["minutes"] = 0
    view = read_plant(document, "CO3")
    placements = {order_id: Placement(*where) for order_id, where in list_schedule(view).items()}
    schedule = schedule_document(view, placements)
    assert validate_schedule(load_json_document(document), schedule) == []
    with_changeovers = build_document(SPECS["CO3"])
    view = read_plant(with_changeovers, "CO3")
    placements = {order_id: Placement(*where) for order_id, where in list_schedule(view).items()}
    converted = schedule_document(view, placements)
    assert sum(entry["changeover_minutes"] for entry in converted["orders"]) > 0
    assert validate_schedule(load_json_document(with_changeovers), converted) == []


# -- the plants ------------------------------------------------------------------------------------


def test_the_plants_are_deterministic_varied_and_inside_the_common_subset() -> None:
    assert len(SPECS) >= 5
    for name, spec in SPECS.items():
        document = build_document(spec)
        assert document == build_document(spec)
        assert check_expressible(document) == []
        view = read_plant(document, name)
        assert 2 <= len(view.families) <= 4
        assert all(order.routes for order in view.orders)
        assert any("line_id" in row for row in document["changeovers"]), name
        assert load_json_document(document).orders  # the current loader reads the rest
    sizes = [(spec.orders, spec.lines, spec.days) for spec in SPECS.values()]
    assert min(sizes)[0] <= 20 and max(sizes)[0] >= 120
    assert {spec.due for spec in SPECS.values()} >= {"tight", "loose"}


def test_what_a_setup_matrix_cannot_say_is_named() -> None:
    document = copy.deepcopy(tiny_document())
    document["plant"]["workdays"] = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    document["products"][0]["family"] = ""
    document["orders"][0]["earliest_start"] = "2026-03-03"
    problems = check_expressible(document)
    assert any("workdays" in p for p in problems)
    assert any("PA has no family" in p for p in problems)
    assert any("X1 has earliest_start" in p for p in problems)
    with pytest.raises(ValueError, match="outside what both tools express"):
        read_plant(document)


# -- solving with PyJobShop ------------------------------------------------------------------------


@pytest.mark.parametrize(("initial_family", "changeover_minutes"), [("A", 60), ("B", 120)])
def test_pyjobshop_finds_the_hand_worked_optimum(initial_family: str, changeover_minutes: int) -> None:
    pytest.importorskip("pyjobshop")
    from benchmarks.pyjobshop_peer import solve_plant

    view = read_plant(tiny_document(initial_family), "tiny")
    run = solve_plant(view, time_limit=10, workers=1)
    assert run.status == "Optimal"
    assert (run.weighted_days_late, run.changeover_minutes, run.unscheduled_priority) == (1, changeover_minutes, 0)
    assert run.schedule is not None
    assert [by_order(run.schedule)[o]["sequence"] for o in ("X2", "X1")] == [1, 2]
    assert run.bound_days == 1  # PyJobShop's minute bound, in weighted days


def test_pyjobshop_warm_started_from_the_list_schedule_plans_a_small_plant() -> None:
    pytest.importorskip("pyjobshop")
    from benchmarks.pyjobshop_peer import solve_plant

    view = read_plant(build_document(SPECS["CO1"]), "CO1")
    run = solve_plant(view, time_limit=5, workers=1, warm=True)
    assert run.schedule is not None and run.unscheduled_priority == 0
    assert run.weighted_days_late is not None and run.bound_days is not None
    assert run.bound_days <= run.weighted_days_late


# -- paichan's side and the family-blind yardstick -----------------------------------------------


def test_paichan_side_finds_the_hand_worked_optimum_and_its_plan_is_valid() -> None:
    from benchmarks.pyjobshop_peer import paichan_wins, solve_with_paichan

    mine = solve_with_paichan(tiny_document(), "tiny", time_limit=5, workers=1)
    assert (mine.weighted_days_late, mine.unscheduled_priority, mine.changeover_minutes) == (1, 0, 60)
    assert mine.violations == []
    assert mine.schedule is not None and [by_order(mine.schedule)[o]["sequence"] for o in ("X2", "X1")] == [1, 2]
    assert paichan_wins([], mine) == "yes (no PyJobShop plan)"


def test_a_family_blind_plan_re_timed_keeps_its_sequence_and_pays_its_changeovers() -> None:
    """From initial family B, the blind EDD plan runs X2 (A, priority 3) first, then X1 (B): re-timed, X2 pays
    B→A and X1 A→B, 120 min in all; X2 ends on day 0 (300 min), X1 on day 1: weighted days late 1."""
    from benchmarks.changeovers import changeovers_planned, judged, retime_with_changeovers, timed_plan
    from solver import domain
    from solver.heuristic import by_due_date, list_schedule
    from solver.instance import build_instance

    dataset = load_json_document(tiny_document(initial_family="B"))
    with changeovers_planned(False):
        assert domain.PLAN_CHANGEOVERS_AND_CAPS is False
        blind, _ = list_schedule(build_instance(dataset), {}, by_due_date)
    assert domain.PLAN_CHANGEOVERS_AND_CAPS is True
    assert (blind["X2"].start, blind["X1"].start) == (0, 240)  # as if changeovers took no time
    with changeovers_planned(True):
        assignments, left_out = retime_with_changeovers(dataset, blind)
    assert left_out == {}
    schedule = timed_plan(dataset, assignments, left_out)
    x1, x2 = by_order(schedule)["X1"], by_order(schedule)["X2"]
    assert (x2["sequence"], x2["changeover_minutes"], x1["sequence"], x1["changeover_minutes"]) == (1, 60, 2, 60)
    plan = judged("blind", dataset, schedule, 0.0)
    assert (plan.changeover_minutes, plan.changeovers, plan.weighted_days_late, plan.violations) == (120, 2, 1, [])
