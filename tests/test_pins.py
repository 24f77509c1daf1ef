"""Manual pins: a confirmed order with pinned_line and pinned_start runs on that line and its
first production day is pinned_start, in every solve; a pin no plan can keep leaves that order
unscheduled with a reason naming the pin, and the rest of the plan is made as usual.

The tiny datasets follow :mod:`tests.conftest`: plan start Mon 2026-11-30, Mon-Fri, one line L1
of 480 minutes, P1 at one unit a minute. Working days 11-30 ... 12-04 (days 0-4), 12-07 ... 12-11.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json

import pytest

from solver import io
from solver.domain import Arrival, BomItem, DatasetError, Material
from solver.engine import SolveParams, solve
from solver.generate import generate_dataset
from solver.heuristic import by_due_date, list_schedule
from solver.holding import shift_later
from solver.instance import build_instance
from solver.lns import PlanState
from solver.model import Baseline
from solver.promise import earliest_delivery_resequenced
from solver.solution import build_schedule
from solver.validation import validate_schedule
from tests.conftest import (
    day,
    objective,
    order,
    planned,
    run_of,
    solve_validated,
    tiny_dataset,
    unscheduled_reasons,
)
from tests.test_promise import ask, hand_plan, prospect


def pinned(order_id: str, quantity: int, due: str, line: str, start: str, **fields) -> object:
    """A confirmed order the planner placed by hand on ``line`` from ``start``."""
    return order(order_id, quantity, due, pinned_line=line, pinned_start=day(start), **fields)


def violation_rules(dataset, schedule, **kwargs) -> set[str]:
    return {v.rule for v in validate_schedule(dataset, schedule, **kwargs)}


# -- the rule binds: the pin is kept even when it costs ---------------------------------------


# X (480 units: all of a day, due Wed 12-02, priority 3) and Y (480, due Fri 12-11).
# Unpinned, X runs Mon 11-30 (inspection Tue, dispatch and delivery Wed 12-02: on time) and
# Y after it: nothing late. Y pinned to Mon 11-30 takes that day, so X runs Tue 12-01,
# inspection Wed, dispatch and delivery Thu 12-03: one day late, 3 weighted.
# Y ends Mon, delivers Wed 12-02: 9 days early, 2 beyond the collection week held.
def test_pin_is_kept_although_it_makes_another_order_late():
    dataset = tiny_dataset(
        [order("X", 480, "2026-12-02", priority=3), pinned("Y", 480, "2026-12-11", "L1", "2026-11-30")]
    )
    schedule = solve_validated(dataset).schedule
    assert schedule["status"] == "OPTIMAL"
    assert schedule["objective"] == objective(late=3, holding=2)
    assert run_of(schedule, "Y") == [("2026-11-30", 480, 480)]
    assert run_of(schedule, "X") == [("2026-12-01", 480, 480)]


def test_without_the_pin_nothing_is_late():
    dataset = tiny_dataset([order("X", 480, "2026-12-02", priority=3), order("Y", 480, "2026-12-11")])
    assert solve_validated(dataset).schedule["objective"]["weighted_days_late"] == 0


# X (720 units, due Thu 12-03) runs Mon 11-30 and the first 240 minutes of Tue; Y (480,
# pinned to Tue 12-01) starts within that day after X ends and runs on into Wed. X ends Tue,
# is dispatched and delivered Thu 12-03: on time. Y first production day is Tue as pinned.
def test_pinned_run_starts_within_its_day_after_a_run_that_ends_there():
    dataset = tiny_dataset([order("X", 720, "2026-12-03"), pinned("Y", 480, "2026-12-11", "L1", "2026-12-01")])
    schedule = solve_validated(dataset).schedule
    assert schedule["objective"]["weighted_days_late"] == 0
    assert run_of(schedule, "X") == [("2026-11-30", 480, 480), ("2026-12-01", 240, 240)]
    assert run_of(schedule, "Y") == [("2026-12-01", 240, 240), ("2026-12-02", 240, 240)]


# L2 is free and as fast as L1, but X is pinned to L2 (line only): it runs there,
# and on its first day, while Y takes L1.
def test_pinned_line_without_start_fixes_the_line_only():
    routings = [("P1", "L1", 60.0), ("P1", "L2", 60.0)]
    orders = [order("X", 480, "2026-12-11", pinned_line="L2"), order("Y", 480, "2026-12-02")]
    schedule = solve_validated(tiny_dataset(orders, lines={"L1": 8, "L2": 8}, routings=routings)).schedule
    assert planned(schedule, "X")["line_id"] == "L2"
    assert planned(schedule, "Y")["production_start"] == "2026-11-30"


# -- pins no plan can keep: that order is unscheduled with the reason, the rest plans --------

KIT = {
    "materials": [Material("M1", 0)],
    "arrivals": [Arrival("M1", day("2026-12-03"), 100)],
    "bom": [BomItem("P1", "M1", 1)],
}


@pytest.mark.parametrize(
    ("pin", "tables", "reason"),
    [
        (dict(line="L2", start="2026-12-01"), {}, "pinned line L2 has no routing for product P1"),
        (dict(line="L1", start="2026-12-05"), {}, "starting 2026-12-05: not a working day of line L1"),
        (dict(line="L1", start="2026-11-27"), {}, "starting 2026-11-27: before the plan start 2026-11-30"),
        (dict(line="L1", start="2026-12-20"), {}, "starting 2026-12-20: after the horizon ends (2026-12-13)"),
        (dict(line="L1", start="2026-12-01", earliest_start="2026-12-02"), {}, "before its earliest start 2026-12-02"),
        (dict(line="L1", start="2026-12-01"), KIT, "before its kit can be issued (M1 suffices from 2026-12-03)"),
        (dict(line="L1", start="2026-12-11", quantity=600), {}, "needs 600 minutes, only 480 working minutes"),
    ],
)
def test_a_pin_that_cannot_be_honoured_leaves_that_order_unscheduled(pin, tables, reason):
    extra = {"earliest_start": pin["earliest_start"]} if "earliest_start" in pin else {}
    bad = pinned("BAD", pin.get("quantity", 100), "2026-12-11", pin["line"], pin["start"], **extra)
    orders = [bad, order("X", 480, "2026-12-04", product_id="P2")]  # X (P2) takes no kit
    routings = [("P1", "L1", 60.0), ("P2", "L1", 60.0)]
    dataset = tiny_dataset(orders, lines={"L1": 8, "L2": 8}, routings=routings, **tables)
    schedule = solve_validated(dataset).schedule
    reasons = unscheduled_reasons(schedule)
    assert list(reasons) == ["BAD"]
    assert reason in reasons["BAD"]
    assert "pinned" in reasons["BAD"]
    assert planned(schedule, "X")["production_start"] == "2026-11-30"


# A (priority 2) and B (priority 1) are both pinned to a whole Tue 12-01 of L1: only one fits.
# The plan leaves out B (1 point rather than 2), with a reason naming its pin; C still plans.
def test_two_pins_that_cannot_both_fit_leave_the_cheaper_one_out():
    orders = [
        pinned("A", 480, "2026-12-11", "L1", "2026-12-01", priority=2),
        pinned("B", 480, "2026-12-11", "L1", "2026-12-01"),
        order("C", 480, "2026-12-11"),
    ]
    schedule = solve_validated(tiny_dataset(orders)).schedule
    assert schedule["objective"]["unscheduled_priority"] == 1
    assert planned(schedule, "A")["production_start"] == "2026-12-01"  # anywhere within the day
    reason = unscheduled_reasons(schedule)["B"]
    assert reason.startswith("pinned to line L1 starting 2026-12-01: no room")
    planned(schedule, "C")


# Material: 100 of M1 on hand, nothing arrives. A and B (100 each) are pinned to different
# days; only one kit can be issued. B (priority 1) is left out, its reason names the material.
def test_pin_left_out_for_material_names_the_material():
    orders = [
        pinned("A", 100, "2026-12-11", "L1", "2026-12-01", priority=2),
        pinned("B", 100, "2026-12-11", "L1", "2026-12-02"),
    ]
    dataset = tiny_dataset(orders, materials=[Material("M1", 100)], bom=[BomItem("P1", "M1", 1)])
    schedule = solve_validated(dataset).schedule
    assert unscheduled_reasons(schedule)["B"].startswith("pinned to line L1 starting 2026-12-02: material taken")


def test_list_schedule_keeps_pins():
    orders = [order("X", 480, "2026-12-02", priority=3), pinned("Y", 480, "2026-12-11", "L1", "2026-12-01")]
    instance = build_instance(tiny_dataset(orders))
    assignments, left_out = list_schedule(instance, {}, by_due_date)
    assert left_out == {}
    assert instance.axes["L1"].day_of(assignments["Y"].start) == 1


# -- every solve keeps it ------------------------------------------------------------------


# Y (240 units, pinned to Mon 11-30, due Fri 12-18) delivers Wed 12-02 when it runs Mon:
# it would hold less moved later, but it may only move within its pinned day; the
# holding pass may start it at the day's last minute (first production day still Mon).
@pytest.mark.parametrize("locked", [set(), {"Y"}])
def test_holding_pass_keeps_the_pinned_day(locked):
    dataset = tiny_dataset(
        [pinned("Y", 240, "2026-12-18", "L1", "2026-11-30"), order("X", 240, "2026-12-18")], horizon_days=21
    )
    instance = build_instance(dataset)
    assignments, _ = list_schedule(instance, {}, by_due_date)
    state = PlanState(instance, Baseline({}), assignments)
    shift_later(state, locked=locked)
    assert state.runs["Y"].start_day == 0
    schedule = build_schedule(instance, state.assignments(), {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []


@pytest.fixture(scope="module")
def plant_with_pins():
    """The LNS test plant with five orders pinned two working days after where a first plan put them."""
    plant = generate_dataset(120, 4, 60, 5, load=0.9)
    first = solve(plant, SolveParams(time_limit=2, method="lns", seed=1, lns_rounds=3, workers=1)).schedule
    entries = sorted(first["orders"], key=lambda e: e["order_id"])[::20][:5]
    pins = {}
    for entry in entries:
        start = day(entry["production_start"])
        later = (start + dt.timedelta(days=k) for k in range(2, 8))
        pins[entry["order_id"]] = (entry["line_id"], next(d for d in later if d.weekday() < 5))
    orders = [
        dataclasses.replace(o, pinned_line=pins[o.order_id][0], pinned_start=pins[o.order_id][1])
        if o.order_id in pins
        else o
        for o in plant.orders
    ]
    return plant.replace(orders=orders), pins


def test_lns_keeps_every_pin(plant_with_pins):
    dataset, pins = plant_with_pins
    result = solve(dataset, SolveParams(time_limit=4, method="lns", seed=2, lns_rounds=30, workers=1))
    assert validate_schedule(dataset, result.schedule) == []
    reasons = unscheduled_reasons(result.schedule)
    kept = 0
    for order_id, (line_id, start) in pins.items():
        if order_id in reasons:
            assert "pinned to line" in reasons[order_id]
            continue
        entry = planned(result.schedule, order_id)
        assert (entry["line_id"], entry["production_start"]) == (line_id, start.isoformat())
        kept += 1
    assert kept >= 3


# The previous plan ran Y (due Wed 12-02) Mon 11-30 and X (due Fri 12-04) Tue 12-01; Mon is
# the frozen window (1 working day). Y now pinned to Tue 12-01: the pin is the planner's newer
# word and wins over the frozen window; X takes Mon. Y delivers Thu 12-03, one day late.
def test_pin_wins_over_the_frozen_window():
    previous = solve_validated(tiny_dataset([order("Y", 480, "2026-12-02"), order("X", 480, "2026-12-04")])).schedule
    assert planned(previous, "Y")["production_start"] == "2026-11-30"
    dataset = tiny_dataset([pinned("Y", 480, "2026-12-02", "L1", "2026-12-01"), order("X", 480, "2026-12-04")])
    schedule = solve_validated(dataset, previous, frozen_days=1).schedule
    assert planned(schedule, "Y")["production_start"] == "2026-12-01"
    assert planned(schedule, "X")["production_start"] == "2026-11-30"
    assert schedule["objective"]["weighted_days_late"] == 1


# -- the validator catches a moved pin ---------------------------------------------------------


def test_validator_flags_a_pinned_order_moved_off_its_day_or_line():
    dataset = tiny_dataset(
        [order("X", 480, "2026-12-02", priority=3), pinned("Y", 480, "2026-12-11", "L1", "2026-11-30")]
    )
    schedule = solve_validated(dataset).schedule
    assert "pinned_start" not in violation_rules(dataset, schedule)

    swapped = copy.deepcopy(schedule)  # X and Y trade days: a valid plan but for the pin
    x, y = planned(swapped, "X"), planned(swapped, "Y")
    for field in ("production_start", "production_end", "inspection_date", "dispatch_date", "delivery_date"):
        x[field], y[field] = y[field], x[field]
    x["allocations"][0]["date"], y["allocations"][0]["date"] = y["allocations"][0]["date"], x["allocations"][0]["date"]
    assert "pinned_start" in violation_rules(dataset, swapped)

    moved_line = copy.deepcopy(schedule)
    planned(moved_line, "Y")["line_id"] = "L2"
    assert "pinned_start" in violation_rules(dataset, moved_line)


# -- files ---------------------------------------------------------------------------------------


def test_pinned_start_round_trips_through_json_and_csv(tmp_path):
    dataset = tiny_dataset([pinned("Y", 480, "2026-12-11", "L1", "2026-12-01"), order("X", 10, "2026-12-11")])
    document = io.dataset_document(dataset)
    assert document["orders"][0]["pinned_start"] == "2026-12-01"
    assert "pinned_start" not in document["orders"][1]
    assert io.load_json_document(json.loads(json.dumps(document))).orders == dataset.orders
    io.write_csv_folder(dataset, tmp_path / "plant")
    assert io.load_dataset(tmp_path / "plant").orders == dataset.orders


def test_pinned_start_without_pinned_line_is_an_error_naming_file_row_and_column(tmp_path):
    dataset = tiny_dataset([order("X", 10, "2026-12-11")])
    document = io.dataset_document(dataset)
    document["orders"][0]["pinned_start"] = "2026-12-01"
    with pytest.raises(DatasetError) as caught:
        io.load_json_document(document)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("$.orders", "[0]", "pinned_line")
    assert "pinned_start" in problem.message


# Order review's resequencing (tests/test_promise.py's first resequencing case): A (480 units)
# on Tue 12-01, a prospect of 960 minutes. Unpinned, A moves to Monday and the prospect is
# dispatched Fri 12-04; pinned to Tue 12-01, A stays and the answer is the fixed Mon 12-07.
def test_resequencing_for_order_review_keeps_pinned_orders():
    data = tiny_dataset([pinned("A", 480, "2026-12-11", "L1", "2026-12-01")])
    plan = hand_plan(data, {"A": ("L1", [("2026-12-01", 480, 480)])})
    assert validate_schedule(data, plan) == []
    asked = prospect(960, "2026-12-11")
    fixed = ask(data, plan, asked)
    assert fixed.earliest_delivery_fixed == day("2026-12-07")
    resequenced, note = earliest_delivery_resequenced(data, plan, asked, fixed, time_limit=2.0)
    assert resequenced == day("2026-12-07"), note
