"""Each rule of PROBLEM.md on tiny datasets whose optimum is worked out by hand.

Rules come in pairs: one test where the rule binds and shapes the optimum,
one where it does not. Unless a test says otherwise the dataset is the
convention of ``conftest.py``: plan start Monday 2026-11-30, Mon-Fri, no
statutory holidays, line L1 with 480 min a day, P1 on L1 at one unit a
minute. Calendar of the default plan::

    Mon 11-30  Tue 12-01  Wed 12-02  Thu 12-03  Fri 12-04  (Sat 12-05, Sun 12-06)
    Mon 12-07  Tue 12-08  Wed 12-09  Thu 12-10  Fri 12-11

Production ending on day d is inspected on the next working day and
dispatched on the one after, so a run ending Monday is dispatched Wednesday,
one ending Thursday is dispatched the next Monday.

Every schedule goes through the independent validator (``solve_and_validate``),
and every test checks that the solver proved its plan optimal.
"""

from __future__ import annotations

from solver.domain import Arrival, BomItem, CalendarException, Customer, LineCalendarEntry, Material
from solver.heuristic import by_due_date, list_schedule, moved_orders, primary_objective
from solver.instance import build_instance
from solver.objective import Objective
from tests.conftest import (
    assert_proven_optimal,
    dates_of,
    day,
    objective,
    order,
    planned,
    run_of,
    solve_validated,
    tiny_dataset,
    unscheduled_reasons,
)

# -- capacity: per line and date, the minutes add up to at most the capacity -------------


# A (480 units, priority 2) and B (480 units, priority 1) are both due Wed 12-02,
# so both would have to end Monday; 480 + 480 > 480 min. A takes Monday (0-480),
# dispatched Wed 12-02: on time. B can end Tuesday at best: it fills Tue 12-01,
# inspection Wed, dispatch Thu 12-03, 1 day late x priority 1. Letting A slip
# instead would cost 2. Optimum: weighted days late 1.
def test_capacity_binds_second_order_waits_a_day(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-02", priority=2), order("B", 480, "2026-12-02")])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-11-30", 480, 480)]
    assert run_of(schedule, "B") == [("2026-12-01", 480, 480)]
    assert dates_of(schedule, "A") == ("2026-11-30", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-02")
    assert dates_of(schedule, "B") == ("2026-12-01", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-03")
    assert planned(schedule, "B")["days_late"] == 1
    assert schedule["objective"] == objective(late=1)
    # why B is late: L1 was full on Monday (A's day), the day it could have started
    assert planned(schedule, "B")["binding"] == [
        {"kind": "days_late", "days": 1},
        {"kind": "capacity", "line_id": "L1", "dates": ["2026-11-30", "2026-11-30"], "full_days": 1},
    ]
    assert "binding" not in planned(schedule, "A")


# A and B (240 units each, due Wed 12-02) fit together on Monday: 240 + 240 = 480 min.
# Both dispatched Wed 12-02, on time. Optimum: 0.
def test_capacity_not_binding_orders_share_a_day(solve_and_validate):
    data = tiny_dataset([order("A", 240, "2026-12-02", priority=2), order("B", 240, "2026-12-02")])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-11-30", 240, 240)]
    assert run_of(schedule, "B") == [("2026-11-30", 240, 240)]
    assert {"line_id": "L1", "date": "2026-11-30", "minutes_used": 480, "minutes_available": 480} in schedule[
        "line_loads"
    ]
    assert schedule["objective"] == objective()


# -- a run continues over non-working time ---------------------------------------------

# Plan start Fri 12-04. A: 930 units of P1 with 0.5 h setup = 30 + 930 = 960 min,
# due Tue 12-08. Fri gives 480 min (30 setup + 450 units), the weekend is not
# worked, Mon 12-07 the remaining 480 min (480 units). Inspection Tue 12-08,
# dispatch Wed 12-09: 1 day late. Ending Monday needs a start at minute 0 on
# Friday, so the run is unique.
WEEKEND_RUN = {"plan_start": "2026-12-04", "routings": [("P1", "L1", 60.0, 0.5)]}


def test_run_continues_over_the_weekend(solve_and_validate):
    data = tiny_dataset([order("A", 930, "2026-12-08")], **WEEKEND_RUN)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-12-04", 480, 450), ("2026-12-07", 480, 480)]
    assert dates_of(schedule, "A") == ("2026-12-04", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-09")
    assert schedule["objective"] == objective(late=1)


# The same order with an 8 h Saturday shift on L1 (line_calendar): Fri 480 + Sat 480
# min, ending Sat 12-05. Saturday stays a plant non-working day, so inspection is
# Mon 12-07 and dispatch Tue 12-08: on time.
def test_weekend_shift_lets_the_run_go_on_saturday(solve_and_validate):
    saturday_shift = [LineCalendarEntry("L1", day("2026-12-05"), 8.0)]
    data = tiny_dataset([order("A", 930, "2026-12-08")], line_calendar=saturday_shift, **WEEKEND_RUN)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-12-04", 480, 450), ("2026-12-05", 480, 480)]
    assert dates_of(schedule, "A") == ("2026-12-04", "2026-12-05", "2026-12-07", "2026-12-08", "2026-12-08")
    assert schedule["objective"] == objective()


# -- line choice by rate ---------------------------------------------------------------

# P1 on L1 at 120 units/h, on L2 at 60 units/h; both lines 8 h. A: 960 units due
# Wed 12-02, so it must end Monday to be on time. L1: 480 min, Monday only:
# dispatch Wed, on time. L2: 960 min, Mon+Tue: dispatch Thu, 1 day late.
TWO_LINES = {"lines": {"L1": 8.0, "L2": 8.0}, "routings": [("P1", "L1", 120.0), ("P1", "L2", 60.0)]}


def test_faster_line_is_chosen(solve_and_validate):
    data = tiny_dataset([order("A", 960, "2026-12-02")], **TWO_LINES)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert planned(schedule, "A")["line_id"] == "L1"
    assert run_of(schedule, "A") == [("2026-11-30", 480, 960)]
    assert schedule["objective"] == objective()


# L1 is down for maintenance Mon 11-30 and Tue 12-01 (line_calendar hours 0). On L1
# A runs Wed 12-02 and is dispatched Fri 12-04: 2 days late. On L2 it runs Mon+Tue
# (480 + 480 min) and is dispatched Thu 12-03: 1 day late. Optimum: L2, 1.
def test_slower_line_is_chosen_when_the_fast_one_is_under_maintenance(solve_and_validate):
    maintenance = [LineCalendarEntry("L1", day("2026-11-30"), 0.0), LineCalendarEntry("L1", day("2026-12-01"), 0.0)]
    data = tiny_dataset([order("A", 960, "2026-12-02")], line_calendar=maintenance, **TWO_LINES)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert planned(schedule, "A")["line_id"] == "L2"
    assert run_of(schedule, "A") == [("2026-11-30", 480, 480), ("2026-12-01", 480, 480)]
    assert dates_of(schedule, "A")[3] == "2026-12-03"
    assert schedule["objective"] == objective(late=1)


# -- materials: issued in full on the first production day ------------------------------

# P1 needs 1 unit of M1 per unit. A: 100 units (100 min) due Wed 12-02.
KITTING = {"bom": [BomItem("P1", "M1", 1.0)], "arrivals": [Arrival("M1", day("2026-12-02"), 40.0)]}


# M1: 60 on hand, 40 more arrive Wed 12-02. The whole kit of 100 is there only
# from Wednesday (no partial start): A runs Wed 12-02, inspection Thu, dispatch
# Fri 12-04: 2 days late.
def test_material_arrival_delays_the_start(solve_and_validate):
    data = tiny_dataset([order("A", 100, "2026-12-02")], materials=[Material("M1", 60.0)], **KITTING)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-12-02", 100, 100)]
    assert dates_of(schedule, "A")[3] == "2026-12-04"
    assert schedule["objective"] == objective(late=2)


# M1: 100 on hand, enough for A at once: A runs Monday, dispatched Wed 12-02, on time.
def test_material_on_hand_lets_the_order_start_at_once(solve_and_validate):
    data = tiny_dataset([order("A", 100, "2026-12-02")], materials=[Material("M1", 100.0)], **KITTING)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-11-30", 100, 100)]
    assert schedule["objective"] == objective()


# M1: 100 on hand, shared by A (100 units, due Wed 12-02, priority 3) and B (40
# units, due Wed 12-02); 40 more arrive Wed 12-02. Only one of them can be kitted
# on Monday. A first (Mon): B's 40 come on Wednesday, B runs Wed, dispatched Fri,
# 2 days late x 1. B first: A waits for Wednesday too, 2 x 3 = 6. Optimum: 2.
def test_material_shared_by_two_orders_goes_to_the_higher_priority(solve_and_validate):
    orders = [order("A", 100, "2026-12-02", priority=3), order("B", 40, "2026-12-02")]
    data = tiny_dataset(orders, materials=[Material("M1", 100.0)], **KITTING)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert planned(schedule, "A")["production_start"] == "2026-11-30"
    assert planned(schedule, "B")["production_start"] == "2026-12-02"
    assert schedule["objective"] == objective(late=2)


# Regression: an order left out because the planned kits used up a material was
# reported as short of line capacity. M1: 100 on hand, no arrival; A (100 units,
# priority 3) and B (40 units) both need it: A is planned, B is left out for M1.
def test_order_left_out_for_material_says_which_material(solve_and_validate):
    orders = [order("A", 100, "2026-12-02", priority=3), order("B", 40, "2026-12-02")]
    data = tiny_dataset(orders, materials=[Material("M1", 100.0)], bom=[BomItem("P1", "M1", 1.0)])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    reason = unscheduled_reasons(schedule)["B"]
    assert "M1 (needs 40, 0 left)" in reason
    assert "room" not in reason
    assert schedule["objective"] == objective(unscheduled=1)


# -- inspection and dispatch: the next plant working days --------------------------------


# CN calendar, plan start Mon 2026-09-28. A: 1440 units = three full days Mon-Wed,
# ending Wed 09-30. National Day: 10-01 .. 10-07 are days off, so inspection is
# Thu 10-08 and dispatch Fri 10-09. Due Fri 10-02: 7 days late. (Any later end
# only moves dispatch later, so the run is unique.)
def test_inspection_and_dispatch_wait_out_the_national_day_holiday(solve_and_validate):
    data = tiny_dataset([order("A", 1440, "2026-10-02")], plan_start="2026-09-28", holiday_country="CN")
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert schedule["warnings"] == []
    assert dates_of(schedule, "A") == ("2026-09-28", "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-09")
    assert schedule["objective"] == objective(late=7)


# The same order without statutory holidays: ending Wed 09-30, inspection Thu 10-01,
# dispatch Fri 10-02: on time.
def test_inspection_and_dispatch_on_the_next_days_without_holidays(solve_and_validate):
    data = tiny_dataset([order("A", 1440, "2026-10-02")], plan_start="2026-09-28", holiday_country=None)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-09-28", "2026-09-30", "2026-10-01", "2026-10-02", "2026-10-02")
    assert schedule["objective"] == objective()


# CN calendar, plan start Mon 2026-09-21. A: 1920 units = Mon 09-21 .. Thu 09-24.
# Fri 09-25 is the Mid-Autumn Festival and then comes the weekend: inspection
# Mon 09-28, dispatch Tue 09-29, due Tue 09-29: on time (and only this run is).
def test_inspection_crosses_mid_autumn_festival_and_weekend(solve_and_validate):
    data = tiny_dataset([order("A", 1920, "2026-09-29")], plan_start="2026-09-21", holiday_country="CN")
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-09-21", "2026-09-24", "2026-09-28", "2026-09-29", "2026-09-29")
    assert schedule["objective"] == objective()


# CN calendar, plan start Thu 2026-10-08. A: 480 units on Thu 10-08, inspection
# Fri 10-09, dispatch Sat 10-10, an officially adjusted working day (调休). Due
# Sat 10-10: on time. Ending Friday instead would dispatch Mon 10-12.
def test_dispatch_on_an_adjusted_working_saturday(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-10-10")], plan_start="2026-10-08", holiday_country="CN")
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-10-08", "2026-10-08", "2026-10-09", "2026-10-10", "2026-10-10")
    assert schedule["objective"] == objective()


# As the National Day test, but calendar.csv makes Thu 10-01 a plant working day
# (it overrides the statutory holiday): inspection Thu 10-01, dispatch the next
# working day, Thu 10-08. Due Fri 10-02: 6 days late. (Ending on 10-01 instead
# would dispatch on 10-09.)
def test_plant_calendar_exception_overrides_the_holiday(solve_and_validate):
    extra_day = [CalendarException(day("2026-10-01"), working=True)]
    data = tiny_dataset(
        [order("A", 1440, "2026-10-02")], plan_start="2026-09-28", holiday_country="CN", calendar=extra_day
    )
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-09-28", "2026-09-30", "2026-10-01", "2026-10-08", "2026-10-08")
    assert schedule["objective"] == objective(late=6)


# Default plant. A: 1920 units = Mon 11-30 .. Thu 12-03, inspection Fri 12-04,
# dispatch over the weekend on Mon 12-07 = due date: on time.
def test_dispatch_crosses_a_weekend(solve_and_validate):
    data = tiny_dataset([order("A", 1920, "2026-12-07")])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-11-30", "2026-12-03", "2026-12-04", "2026-12-07", "2026-12-07")
    assert schedule["objective"] == objective()


# -- transit days ----------------------------------------------------------------------


# A: 480 units on Monday, dispatched Wed 12-02, due Fri 12-04. Customer C1 is 3
# calendar days away: delivered Sat 12-05, 1 day late.
def test_transit_days_make_the_order_late(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-04", customer_id="C1")], customers=[Customer("C1", transit_days=3)])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-11-30", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-05")
    assert planned(schedule, "A")["days_late"] == 1
    assert schedule["objective"] == objective(late=1)


# Customer C1 is 2 calendar days away: delivered Fri 12-04 = due date, on time.
def test_transit_days_within_the_due_date(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-04", customer_id="C1")], customers=[Customer("C1", transit_days=2)])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A") == ("2026-11-30", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-04")
    assert schedule["objective"] == objective()


# -- earliest start ----------------------------------------------------------------------


# A: 480 units due Wed 12-02, earliest start Wed 12-02: runs Wednesday, inspection
# Thu, dispatch Fri 12-04: 2 days late.
def test_earliest_start_delays_the_order(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-02", earliest_start="2026-12-02")])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-12-02", 480, 480)]
    assert schedule["objective"] == objective(late=2)


# Earliest start Fri 11-20, before the plan start: it does not bind, A runs on the
# plan start Mon 11-30 and is dispatched Wed 12-02, on time.
def test_earliest_start_before_the_plan_start_does_not_bind(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-02", earliest_start="2026-11-20")])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-11-30", 480, 480)]
    assert schedule["objective"] == objective()


# -- in-production orders: pinned line, first working day ---------------------------------

# P1 runs on L1 at 120/h and on L2 at 60/h; P2 only on L2 at 60/h.
# X: 240 units of P1, due Wed 12-02 (240 min on L2, 120 min on L1).
# Y: 480 units of P2 (480 min on L2), due Wed 12-02, priority 5.
PIN_LINES = {
    "lines": {"L1": 8.0, "L2": 8.0},
    "routings": [("P1", "L1", 120.0), ("P1", "L2", 60.0), ("P2", "L2", 60.0)],
}


# X is in production, pinned to the slower L2: it continues there on Monday (day 0)
# although Y is more urgent and L1 would be faster. Y then cannot end Monday
# (240 + 480 > 480 min): it ends Tue 12-01, dispatched Thu 12-03, 1 day late x 5.
def test_in_production_order_keeps_its_pinned_line_and_day_zero(solve_and_validate):
    orders = [
        order("X", 240, "2026-12-02", status="in_production", pinned_line="L2"),
        order("Y", 480, "2026-12-02", product_id="P2", priority=5),
    ]
    schedule = solve_and_validate(tiny_dataset(orders, **PIN_LINES))
    assert_proven_optimal(schedule)
    assert planned(schedule, "X")["line_id"] == "L2"
    assert run_of(schedule, "X") == [("2026-11-30", 240, 240)]
    assert planned(schedule, "Y")["production_end"] == "2026-12-01"
    assert planned(schedule, "Y")["days_late"] == 1
    assert schedule["objective"] == objective(late=5)


# Regression (found by the property test): an in-production order that also
# carries an earliest_start (Wed 12-02) continues its run anyway on its pinned
# line's first working day, Mon 11-30 — it is already running; the model was
# infeasible and the plan fell back to the heuristic without a bound.
def test_in_production_order_ignores_its_earliest_start(solve_and_validate):
    orders = [order("X", 240, "2026-12-04", status="in_production", pinned_line="L2", earliest_start="2026-12-02")]
    schedule = solve_and_validate(tiny_dataset(orders, **PIN_LINES))
    assert_proven_optimal(schedule)
    assert run_of(schedule, "X") == [("2026-11-30", 240, 240)]
    assert schedule["objective"] == objective()


# X only confirmed (no pin): Y takes L2 on Monday, X goes to L1 on Monday (120
# min); both dispatched Wed 12-02, on time.
def test_confirmed_order_is_not_pinned(solve_and_validate):
    orders = [order("X", 240, "2026-12-02"), order("Y", 480, "2026-12-02", product_id="P2", priority=5)]
    schedule = solve_and_validate(tiny_dataset(orders, **PIN_LINES))
    assert_proven_optimal(schedule)
    assert run_of(schedule, "Y") == [("2026-11-30", 480, 480)]
    assert planned(schedule, "X")["line_id"] == "L1"
    assert run_of(schedule, "X") == [("2026-11-30", 120, 240)]
    assert schedule["objective"] == objective()


# The pinned line L2 is under maintenance on Monday: X continues on L2's first
# working day, Tue 12-01, dispatched Thu 12-03 (1 day late) although L1 is free
# on Monday.
def test_in_production_order_waits_for_its_pinned_line(solve_and_validate):
    orders = [order("X", 240, "2026-12-02", status="in_production", pinned_line="L2")]
    down = [LineCalendarEntry("L2", day("2026-11-30"), 0.0)]
    schedule = solve_and_validate(tiny_dataset(orders, line_calendar=down, **PIN_LINES))
    assert_proven_optimal(schedule)
    assert planned(schedule, "X")["line_id"] == "L2"
    assert run_of(schedule, "X") == [("2026-12-01", 240, 240)]
    assert schedule["objective"] == objective(late=1)


# An in-production order already has its materials: with M1 neither on hand nor
# arriving, X (in production) still runs Monday, while the confirmed Y, which
# needs M1 too, is unscheduled for the material.
def test_in_production_order_uses_no_material(solve_and_validate):
    orders = [
        order("X", 240, "2026-12-02", status="in_production", pinned_line="L1"),
        order("Y", 100, "2026-12-04"),
    ]
    data = tiny_dataset(orders, bom=[BomItem("P1", "M1", 1.0)], materials=[Material("M1", 0.0)])
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "X") == [("2026-11-30", 240, 240)]
    assert "M1" in unscheduled_reasons(schedule)["Y"]
    assert schedule["objective"] == objective(unscheduled=1)


# -- priorities: weighted days late, not due-date order -----------------------------------

# A: 480 units due Wed 12-02. B: 960 units due Thu 12-03.
# EDD runs A Mon (on time) then B Tue-Wed, dispatched Fri 12-04: B 1 day late.
# Running B first (Mon-Tue, dispatched Thu 12-03, on time) makes A run Wed,
# dispatched Fri 12-04: A 2 days late. Any interleaving is no better.


# B has priority 5: EDD costs 1 x 5 = 5, B first costs 2 x 1 = 2. The optimum is
# not EDD order: B Mon-Tue, A Wed, objective 2 against EDD's 5.
def test_priority_puts_a_later_due_order_first():
    data = tiny_dataset([order("A", 480, "2026-12-02"), order("B", 960, "2026-12-03", priority=5)])
    result = solve_validated(data)
    schedule = result.schedule
    assert_proven_optimal(schedule)
    assert run_of(schedule, "B") == [("2026-11-30", 480, 480), ("2026-12-01", 480, 480)]
    assert run_of(schedule, "A") == [("2026-12-02", 480, 480)]
    assert schedule["objective"] == objective(late=2)
    instance = build_instance(data)
    edd_plan = list_schedule(instance, {}, by_due_date)
    assert primary_objective(instance, edd_plan[0]) == Objective(0, 5)
    assert result.baseline_objective["weighted_days_late"] <= 5


# Equal priorities: EDD costs 1, B first costs 2. EDD is optimal: A Mon, B Tue-Wed.
def test_equal_priorities_keep_due_date_order():
    data = tiny_dataset([order("A", 480, "2026-12-02"), order("B", 960, "2026-12-03")])
    result = solve_validated(data)
    schedule = result.schedule
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-11-30", 480, 480)]
    assert run_of(schedule, "B") == [("2026-12-01", 480, 480), ("2026-12-02", 480, 480)]
    assert schedule["objective"] == objective(late=1)
    assert result.baseline_objective == schedule["objective"]


# -- unscheduled orders: reported with their reason, the rest still planned ---------------


# OK: 480 units due Wed 12-02, placeable on Monday, on time.
# NOROUTE (priority 2): product P9 has no routing.
# NOMAT (P2, priority 3): needs 100 of M1, 50 on hand and nothing arriving.
# TOOBIG (priority 4): 8000 min, but the 14-day horizon holds 10 x 480 = 4800 min.
# Optimum: OK on Monday, unscheduled priority 2 + 3 + 4 = 9, nothing late.
def test_unplaceable_orders_are_reported_while_the_others_are_planned(solve_and_validate):
    orders = [
        order("OK", 480, "2026-12-02"),
        order("NOROUTE", 10, "2026-12-04", product_id="P9", priority=2),
        order("NOMAT", 100, "2026-12-04", product_id="P2", priority=3),
        order("TOOBIG", 8000, "2026-12-11", priority=4),
    ]
    data = tiny_dataset(
        orders,
        routings=[("P1", "L1", 60.0), ("P2", "L1", 60.0)],
        bom=[BomItem("P2", "M1", 1.0)],
        materials=[Material("M1", 50.0)],
    )
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "OK") == [("2026-11-30", 480, 480)]
    reasons = unscheduled_reasons(schedule)
    assert set(reasons) == {"NOROUTE", "NOMAT", "TOOBIG"}
    assert "no routing" in reasons["NOROUTE"] and "P9" in reasons["NOROUTE"]
    assert "M1" in reasons["NOMAT"]
    assert "8000" in reasons["TOOBIG"]
    assert schedule["objective"] == objective(unscheduled=9)


# The same NOMAT order when 50 more of M1 arrive Mon 12-07, inside the horizon: it
# is planned on 12-07 (100 min), inspected Tue 12-08, dispatched Wed 12-09; due Fri
# 12-04, 5 days late x priority 3 = 15.
def test_material_arriving_inside_the_horizon_gets_the_order_planned(solve_and_validate):
    data = tiny_dataset(
        [order("NOMAT", 100, "2026-12-04", product_id="P2", priority=3)],
        routings=[("P2", "L1", 60.0)],
        bom=[BomItem("P2", "M1", 1.0)],
        materials=[Material("M1", 50.0)],
        arrivals=[Arrival("M1", day("2026-12-07"), 50.0)],
    )
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "NOMAT") == [("2026-12-07", 100, 100)]
    assert schedule["unscheduled"] == []
    assert schedule["objective"] == objective(late=15)


# Horizon of 7 days: Mon-Fri, 2400 min. A (1500 min, priority 1) and B (1500 min,
# priority 3) each fit, not both. The one left out is A (1 < 3). B due Mon 12-07
# must end Thursday (dispatch Mon): it starts Monday at minute 0..420, ends Thu
# 12-03 on time. Optimum: unscheduled priority 1, nothing late.
def test_lower_priority_order_is_left_out_when_both_cannot_fit(solve_and_validate):
    data = tiny_dataset([order("A", 1500, "2026-12-07"), order("B", 1500, "2026-12-07", priority=3)], horizon_days=7)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert set(unscheduled_reasons(schedule)) == {"A"}
    assert unscheduled_reasons(schedule)["A"].strip()
    assert dates_of(schedule, "B")[:2] == ("2026-11-30", "2026-12-03")
    assert schedule["objective"] == objective(unscheduled=1)


# -- holding: days between delivery and due date beyond the 7-day collection week ---------


# Horizon of 5 days (Mon-Fri). A: 480 units due Thu 12-31. The latest it can end is
# Fri 12-04: inspection Mon 12-07, dispatch Tue 12-08, 23 days early = 16 holding
# days. EDD runs it Monday: dispatched Wed 12-02, 29 days early = 22 holding days.
# The optimum ends as late as it can, on Friday, holding 16. (Holding depends on
# the last production day only: a run from late Thursday into Friday is as good
# as one on Friday alone.)
def test_holding_beyond_the_collection_week_picks_the_latest_start():
    data = tiny_dataset([order("A", 480, "2026-12-31")], horizon_days=5)
    result = solve_validated(data)
    schedule = result.schedule
    assert_proven_optimal(schedule)
    assert planned(schedule, "A")["production_start"] in ("2026-12-03", "2026-12-04")
    assert dates_of(schedule, "A")[1:] == ("2026-12-04", "2026-12-07", "2026-12-08", "2026-12-08")
    assert schedule["objective"] == objective(holding=16)
    assert result.baseline_objective == objective(holding=22)


# Horizon of 1 day: A runs Monday, dispatched Wed 12-02; due Wed 12-09, exactly 7
# days later: within the collection week, no holding.
def test_holding_within_the_collection_week_costs_nothing(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-09")], horizon_days=1)
    schedule = solve_and_validate(data)
    assert_proven_optimal(schedule)
    assert dates_of(schedule, "A")[3] == "2026-12-02"
    assert schedule["objective"] == objective()


# -- replanning: frozen window and plan stability ------------------------------------------


# Last week's plan: L1 (P1 at 120/h) was to be down Mon 11-30 and Tue 12-01, so A
# (960 units, due Wed 12-02) went to the slower L2 (60/h) Mon-Tue, 1 day late (see
# test_slower_line_is_chosen_when_the_fast_one_is_under_maintenance). The
# maintenance is cancelled; now L1 could make A on Monday alone, on time.
def _previous_plan_on_the_slow_line():
    maintenance = [LineCalendarEntry("L1", day("2026-11-30"), 0.0), LineCalendarEntry("L1", day("2026-12-01"), 0.0)]
    before = tiny_dataset([order("A", 960, "2026-12-02")], line_calendar=maintenance, **TWO_LINES)
    previous = solve_validated(before).schedule
    assert (planned(previous, "A")["line_id"], planned(previous, "A")["production_start"]) == ("L2", "2026-11-30")
    return previous


# Frozen window of 2 working days (Mon, Tue): A started Monday in the previous plan,
# so it keeps L2 and Monday although moving would make it on time: 1 day late,
# no changed order.
def test_frozen_window_keeps_line_and_start(solve_and_validate):
    previous = _previous_plan_on_the_slow_line()
    data = tiny_dataset([order("A", 960, "2026-12-02")], frozen_days=2, **TWO_LINES)
    schedule = solve_and_validate(data, previous)
    assert_proven_optimal(schedule)
    assert planned(schedule, "A")["line_id"] == "L2"
    assert run_of(schedule, "A") == [("2026-11-30", 480, 480), ("2026-12-01", 480, 480)]
    assert schedule["objective"] == objective(late=1)


# No frozen window: lateness outranks stability, A moves to L1 on Monday, on
# time, one changed order.
def test_without_frozen_window_the_order_moves_to_the_faster_line(solve_and_validate):
    previous = _previous_plan_on_the_slow_line()
    data = tiny_dataset([order("A", 960, "2026-12-02")], **TWO_LINES)
    schedule = solve_and_validate(data, previous, frozen_days=0)
    assert_proven_optimal(schedule)
    assert planned(schedule, "A")["line_id"] == "L1"
    assert run_of(schedule, "A") == [("2026-11-30", 480, 960)]
    assert schedule["objective"] == objective(changed=1)


# The previous plan ran A Monday and B Tuesday on L1.
PREVIOUS_A_THEN_B = {
    "plan_start": "2026-11-30",
    "orders": [
        {"order_id": "A", "line_id": "L1", "production_start": "2026-11-30"},
        {"order_id": "B", "line_id": "L1", "production_start": "2026-12-01"},
    ],
}


# A (480 units, due Fri 12-04) and B (480 units, due Thu 12-03). The previous plan
# is still on time: A Mon (dispatched Wed 12-02), B Tue (dispatched Thu 12-03).
# EDD would run B first (B Mon, A Tue, also on time) and change both orders.
# Lateness being equal, the previous plan is kept: no changed order.
def test_stable_plan_is_kept_when_lateness_is_equal():
    data = tiny_dataset([order("A", 480, "2026-12-04"), order("B", 480, "2026-12-03")])
    result = solve_validated(data, PREVIOUS_A_THEN_B)
    schedule = result.schedule
    assert_proven_optimal(schedule)
    assert run_of(schedule, "A") == [("2026-11-30", 480, 480)]
    assert run_of(schedule, "B") == [("2026-12-01", 480, 480)]
    assert schedule["objective"] == objective()
    instance = build_instance(data)
    edd_plan, _ = list_schedule(instance, {}, by_due_date)
    assert moved_orders(instance, edd_plan, {"A": ("L1", 0), "B": ("L1", 1)}) == 2
    assert result.baseline_objective == objective()  # the stable list schedule keeps the plan


# Both orders are pulled in: A now due Thu 12-03, B due Wed 12-02. B must run Monday
# (dispatch Wed), A then Tuesday (dispatch Thu 12-03 = its due date). Keeping the
# previous plan would make B 1 day late; lateness outranks stability: both orders
# change, changed = 2.
def test_plan_changes_when_keeping_it_would_make_an_order_late(solve_and_validate):
    data = tiny_dataset([order("A", 480, "2026-12-03"), order("B", 480, "2026-12-02")])
    schedule = solve_and_validate(data, PREVIOUS_A_THEN_B)
    assert_proven_optimal(schedule)
    assert run_of(schedule, "B") == [("2026-11-30", 480, 480)]
    assert run_of(schedule, "A") == [("2026-12-01", 480, 480)]
    assert schedule["objective"] == objective(changed=2)
