"""Tests of the independent schedule checker, on tiny hand-made datasets.

The main dataset starts on Monday 2026-09-28, just before China's 2026
National Day holiday: 10-01 (Thu) to 10-07 (Wed) are days off and Saturday
10-10 is an adjusted working day (调休). Plant working days are therefore
09-28, 09-29, 09-30, 10-08, 10-09, 10-10, 10-12, ...

Hand-derived valid schedule (8 h = 480 min a day on both lines; L2 is down
for maintenance on 09-29):

* A (P2, 420 units at 30/h = 840 min) on L1: 09-28 480, 09-29 360. Inspection
  09-30, dispatch 10-08 (over the holiday), +2 transit days = 10-10, due
  10-09: 1 day late, priority 3 -> weighted 3.
* B (P1, 750 units at 60/h + 30 min setup = 780 min) on L1: 09-29 120,
  09-30 480 (a full middle day), 10-08 180 (the holiday is not a line
  working day). Inspection 10-09, dispatch Saturday 10-10 (adjusted working
  day), no transit: delivered 10-10, due 10-20: 10 days early, 3 beyond the
  7-day collection period -> holding 3.
* C (in production, pinned to L2, 300 min) on L2 09-28; delivered 09-30, due
  10-05: on time, no holding beyond 7 days.
* D (earliest start 09-30, 180 min) on L2 09-30; delivered 10-11, due 10-12.
* E (priority 2) unscheduled -> unscheduled_priority 2. F is only received.

Material M2 (0.5 per unit of P2, 255 on hand) is exactly enough for A (210)
and D (45); C is in production and uses none. M1 (100 on hand + 700 on 09-29)
covers B's 750 from 09-29.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from typing import Any

import pytest

from solver.domain import (
    Arrival,
    BomItem,
    CalendarException,
    Customer,
    Dataset,
    Line,
    LineCalendarEntry,
    Material,
    Order,
    Plant,
    Product,
    Routing,
)
from solver.validation import Violation, recompute_objective, validate_schedule

logger = logging.getLogger(__name__)

Allocation = tuple[str, int, int]


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _entry(
    order_id: str,
    line_id: str,
    allocations: list[Allocation],
    after: tuple[str, str, str],
    due: str,
    days_late: int = 0,
) -> dict[str, Any]:
    """An order of a schedule document; ``after`` is (inspection, dispatch, delivery)."""
    inspection, dispatch, delivery = after
    return {
        "order_id": order_id,
        "line_id": line_id,
        "production_start": allocations[0][0],
        "production_end": allocations[-1][0],
        "inspection_date": inspection,
        "dispatch_date": dispatch,
        "delivery_date": delivery,
        "due_date": due,
        "days_late": days_late,
        "allocations": [{"date": d, "minutes": m, "quantity": q} for d, m, q in allocations],
    }


def _rules(violations: list[Violation]) -> set[str]:
    for violation in violations:
        logger.info("%s", violation)
    return {v.rule for v in violations}


def _order_entry(schedule: dict[str, Any], order_id: str) -> dict[str, Any]:
    return next(e for e in schedule["orders"] if e["order_id"] == order_id)


# -- the National Day dataset ---------------------------------------------------------


@pytest.fixture
def dataset() -> Dataset:
    return Dataset.create(
        plant=Plant(plan_start=_date("2026-09-28"), horizon_days=30, holiday_country="CN"),
        lines=[Line("L1", 8.0), Line("L2", 8.0)],
        line_calendar=[LineCalendarEntry("L2", _date("2026-09-29"), 0.0)],
        products=[Product("P1"), Product("P2")],
        routings=[Routing("P1", "L1", 60.0, 0.5), Routing("P2", "L1", 30.0), Routing("P2", "L2", 30.0)],
        bom=[BomItem("P1", "M1", 1.0), BomItem("P2", "M2", 0.5)],
        materials=[Material("M1", 100.0), Material("M2", 255.0)],
        arrivals=[Arrival("M1", _date("2026-09-29"), 700.0)],
        customers=[Customer("C1", transit_days=2), Customer("C2")],
        orders=[
            Order("A", "P2", 420, _date("2026-10-09"), customer_id="C1", priority=3),
            Order("B", "P1", 750, _date("2026-10-20"), customer_id="C2"),
            Order("C", "P2", 150, _date("2026-10-05"), status="in_production", pinned_line="L2"),
            Order("D", "P2", 90, _date("2026-10-12"), customer_id="C1", earliest_start=_date("2026-09-30")),
            Order("E", "P1", 100, _date("2026-10-30"), customer_id="C2", priority=2),
            Order("F", "P2", 50, _date("2026-10-30"), status="received"),
        ],
    )


@pytest.fixture
def schedule() -> dict[str, Any]:
    return {
        "plan_start": "2026-09-28",
        "status": "FEASIBLE",
        "objective": {"unscheduled_priority": 2, "weighted_days_late": 3, "changed_orders": 0, "holding_days": 3},
        "orders": [
            _entry(
                "A",
                "L1",
                [("2026-09-28", 480, 240), ("2026-09-29", 360, 180)],
                ("2026-09-30", "2026-10-08", "2026-10-10"),
                "2026-10-09",
                days_late=1,
            ),
            _entry(
                "B",
                "L1",
                [("2026-09-29", 120, 90), ("2026-09-30", 480, 480), ("2026-10-08", 180, 180)],
                ("2026-10-09", "2026-10-10", "2026-10-10"),
                "2026-10-20",
            ),
            _entry("C", "L2", [("2026-09-28", 300, 150)], ("2026-09-29", "2026-09-30", "2026-09-30"), "2026-10-05"),
            _entry("D", "L2", [("2026-09-30", 180, 90)], ("2026-10-08", "2026-10-09", "2026-10-11"), "2026-10-12"),
        ],
        "unscheduled": [{"order_id": "E", "reason": "material M1 short"}],
        "line_loads": [
            {"line_id": "L1", "date": "2026-09-29", "minutes_used": 480, "minutes_available": 480},
            {"line_id": "L2", "date": "2026-09-29", "minutes_used": 0, "minutes_available": 0},
        ],
    }


def test_valid_schedule_has_no_violations(dataset: Dataset, schedule: dict[str, Any]) -> None:
    assert validate_schedule(dataset, schedule) == []


def test_objective_is_recomputed_from_the_dates(dataset: Dataset, schedule: dict[str, Any]) -> None:
    # See the module docstring: E unscheduled (2), A 1 day late x 3, B 3 holding days.
    expected = {"unscheduled_priority": 2, "weighted_days_late": 3, "changed_orders": 0, "holding_days": 3}
    assert recompute_objective(dataset, schedule) == expected


def test_violation_reads_as_a_sentence() -> None:
    assert str(Violation("capacity", "A", "too much")) == "[capacity] order A: too much"
    assert str(Violation("objective", None, "off")) == "[objective] off"


# -- time and lines ----------------------------------------------------------------------


def test_plan_start_of_another_plan(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["plan_start"] = "2026-09-21"
    assert _rules(validate_schedule(dataset, schedule)) == {"plan_start"}


def test_production_after_the_horizon(dataset: Dataset, schedule: dict[str, Any]) -> None:
    short = dataset.replace(plant=Plant(plan_start=_date("2026-09-28"), horizon_days=10))  # ends 10-07
    assert _rules(validate_schedule(short, schedule)) == {"horizon"}


def test_line_without_routing(dataset: Dataset, schedule: dict[str, Any]) -> None:
    no_l2 = dataset.replace(routings=[r for r in dataset.routings if r.line_id != "L2"])
    violations = validate_schedule(no_l2, schedule)
    assert _rules(violations) == {"routing"}
    assert {v.order_id for v in violations} == {"C", "D"}


def test_in_production_order_off_its_pinned_line(dataset: Dataset, schedule: dict[str, Any]) -> None:
    pinned_l1 = dataset.replace(
        orders=[Order("C", "P2", 150, _date("2026-10-05"), status="in_production", pinned_line="L1")]
        + [o for o in dataset.orders if o.order_id != "C"]
    )
    assert _rules(validate_schedule(pinned_l1, schedule)) == {"pinned_line"}


def test_in_production_order_not_continued_on_the_first_working_day(dataset: Dataset, schedule: dict[str, Any]) -> None:
    # C moved to 09-30 next to D (300 + 180 <= 480); delivered 10-09, 4 days late.
    schedule["orders"][2] = _entry(
        "C", "L2", [("2026-09-30", 300, 150)], ("2026-10-08", "2026-10-09", "2026-10-09"), "2026-10-05", 4
    )
    schedule["objective"]["weighted_days_late"] = 3 + 4
    violations = validate_schedule(dataset, schedule)
    assert _rules(violations) == {"pinned_line"}
    assert "2026-09-28" in violations[0].message


def test_start_before_earliest_start(dataset: Dataset, schedule: dict[str, Any]) -> None:
    later = dataset.replace(
        orders=[o for o in dataset.orders if o.order_id != "D"]
        + [Order("D", "P2", 90, _date("2026-10-12"), customer_id="C1", earliest_start=_date("2026-10-08"))]
    )
    violations = validate_schedule(later, schedule)
    assert _rules(violations) == {"earliest_start"}
    assert violations[0].order_id == "D"


# -- runs and capacity ---------------------------------------------------------------------


def test_minutes_must_add_up_to_what_the_order_needs(dataset: Dataset, schedule: dict[str, Any]) -> None:
    _order_entry(schedule, "A")["allocations"][1]["minutes"] = 350  # 830 instead of 840
    schedule["line_loads"][0]["minutes_used"] = 470
    assert _rules(validate_schedule(dataset, schedule)) == {"minutes"}


def test_quantities_must_add_up_to_the_order(dataset: Dataset, schedule: dict[str, Any]) -> None:
    _order_entry(schedule, "A")["allocations"][1]["quantity"] = 170
    assert _rules(validate_schedule(dataset, schedule)) == {"quantity"}


def test_production_end_must_be_the_last_allocation(dataset: Dataset, schedule: dict[str, Any]) -> None:
    _order_entry(schedule, "A")["production_end"] = "2026-09-30"
    assert _rules(validate_schedule(dataset, schedule)) == {"production_dates"}


def test_capacity_exceeded(dataset: Dataset, schedule: dict[str, Any]) -> None:
    # B takes 240 min on 09-29 where A already has 360 (600 > 480); B's total stays 780.
    _order_entry(schedule, "B")["allocations"] = [
        {"date": "2026-09-29", "minutes": 240, "quantity": 210},
        {"date": "2026-09-30", "minutes": 480, "quantity": 480},
        {"date": "2026-10-08", "minutes": 60, "quantity": 60},
    ]
    violations = validate_schedule(dataset, schedule)
    assert _rules(violations) == {"capacity", "line_loads"}
    capacity = next(v for v in violations if v.rule == "capacity")
    assert "L1" in capacity.message and "600" in capacity.message and "480" in capacity.message


def test_skipped_working_day(dataset: Dataset, schedule: dict[str, Any]) -> None:
    b = _order_entry(schedule, "B")
    b["allocations"][2]["date"] = "2026-10-09"  # 10-08 is a working day of L1
    violations = validate_schedule(dataset, schedule)
    assert "consecutive_days" in _rules(violations)
    assert any("2026-10-08" in v.message for v in violations if v.rule == "consecutive_days")


def test_run_may_span_a_maintenance_day(dataset: Dataset, schedule: dict[str, Any]) -> None:
    # L2 has no capacity on 09-29, so 09-28 and 09-30 are consecutive working days of L2.
    schedule["orders"][2] = _entry(
        "C",
        "L2",
        [("2026-09-28", 200, 100), ("2026-09-30", 100, 50)],
        ("2026-10-08", "2026-10-09", "2026-10-09"),
        "2026-10-05",
        days_late=4,
    )
    schedule["objective"]["weighted_days_late"] = 3 + 4
    assert validate_schedule(dataset, schedule) == []


def test_production_on_a_day_the_line_is_down(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["orders"][2] = _entry(
        "C",
        "L2",
        [("2026-09-28", 200, 100), ("2026-09-29", 100, 50)],
        ("2026-09-30", "2026-10-08", "2026-10-08"),
        "2026-10-05",
        days_late=3,
    )
    schedule["objective"]["weighted_days_late"] = 3 + 3
    schedule["line_loads"][1]["minutes_used"] = 100
    assert _rules(validate_schedule(dataset, schedule)) == {"consecutive_days", "capacity"}


def test_middle_day_not_full(dataset: Dataset, schedule: dict[str, Any]) -> None:
    _order_entry(schedule, "B")["allocations"][1:] = [
        {"date": "2026-09-30", "minutes": 400, "quantity": 400},
        {"date": "2026-10-08", "minutes": 260, "quantity": 260},
    ]
    violations = validate_schedule(dataset, schedule)
    assert _rules(violations) == {"full_days"}
    assert "2026-09-30" in violations[0].message


# -- materials ---------------------------------------------------------------------------


def test_material_short_before_its_arrival(dataset: Dataset, schedule: dict[str, Any]) -> None:
    late_arrival = dataset.replace(arrivals=[Arrival("M1", _date("2026-09-30"), 700.0)])
    violations = validate_schedule(late_arrival, schedule)
    assert _rules(violations) == {"material"}
    assert violations[0].order_id == "B" and "M1" in violations[0].message


def test_in_production_orders_use_no_stock(dataset: Dataset, schedule: dict[str, Any]) -> None:
    # Were C confirmed, it would draw 75 of M2 on 09-28 next to A's 210: 285 > 255.
    confirmed = dataset.replace(
        orders=[o for o in dataset.orders if o.order_id != "C"]
        + [Order("C", "P2", 150, _date("2026-10-05"), pinned_line="L2")]
    )
    assert _rules(validate_schedule(confirmed, schedule)) == {"material"}


# -- time rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "stated", "why"),
    [
        ("A", "2026-10-01", "National Day holiday 10-01..10-07 is no working day"),
        ("B", "2026-10-12", "Saturday 10-10 is an adjusted working day"),
    ],
)
def test_wrong_dispatch_date_around_national_day(
    dataset: Dataset, schedule: dict[str, Any], order_id: str, stated: str, why: str
) -> None:
    _order_entry(schedule, order_id)["dispatch_date"] = stated
    violations = validate_schedule(dataset, schedule)
    assert _rules(violations) == {"dispatch_date"}, why
    assert violations[0].order_id == order_id


def test_delivery_must_add_transit_days(dataset: Dataset, schedule: dict[str, Any]) -> None:
    _order_entry(schedule, "A")["delivery_date"] = "2026-10-08"  # dispatch day, C1's 2 days forgotten
    violations = validate_schedule(dataset, schedule)
    assert _rules(violations) == {"delivery_date"}
    assert "2 transit" in violations[0].message


def test_transit_days_come_from_the_customer(dataset: Dataset, schedule: dict[str, Any]) -> None:
    slower = dataset.replace(customers=[Customer("C1", transit_days=3), Customer("C2")])
    violations = validate_schedule(slower, schedule)
    assert {(v.rule, v.order_id) for v in violations if v.rule == "delivery_date"} == {
        ("delivery_date", "A"),
        ("delivery_date", "D"),
    }


def test_due_date_and_days_late_must_match(dataset: Dataset, schedule: dict[str, Any]) -> None:
    a = _order_entry(schedule, "A")
    a["due_date"], a["days_late"] = "2026-10-10", 0
    assert _rules(validate_schedule(dataset, schedule)) == {"due_date", "days_late"}


def test_calendar_csv_overrides_the_official_calendar(dataset: Dataset, schedule: dict[str, Any]) -> None:
    # Closing the adjusted Saturday moves B's dispatch; opening a holiday Saturday breaks B's run.
    closed = dataset.replace(calendar=[CalendarException(_date("2026-10-10"), False)])
    assert "dispatch_date" in _rules(validate_schedule(closed, schedule))
    opened = dataset.replace(calendar=[CalendarException(_date("2026-10-03"), True)])
    assert "consecutive_days" in _rules(validate_schedule(opened, schedule))


# -- coverage ----------------------------------------------------------------------------


def test_missing_order(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["orders"] = [e for e in schedule["orders"] if e["order_id"] != "D"]
    violations = validate_schedule(dataset, schedule)
    assert ("coverage", "D") in {(v.rule, v.order_id) for v in violations}


def test_order_listed_twice(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["unscheduled"].append({"order_id": "D", "reason": "also here"})
    assert "coverage" in _rules(validate_schedule(dataset, schedule))


def test_order_of_another_status_must_not_appear(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["unscheduled"].append({"order_id": "F", "reason": "not released"})
    violations = validate_schedule(dataset, schedule)
    assert [(v.rule, v.order_id) for v in violations] == [("coverage", "F")]


def test_unscheduled_needs_a_reason(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["unscheduled"][0]["reason"] = " "
    assert _rules(validate_schedule(dataset, schedule)) == {"coverage"}


def test_unknown_order_is_a_format_error(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["unscheduled"].append({"order_id": "ZZ", "reason": "?"})
    assert _rules(validate_schedule(dataset, schedule)) == {"format"}


# -- objective, replanning, loads -------------------------------------------------------------


def test_objective_mismatch(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["objective"]["weighted_days_late"] = 0
    violations = validate_schedule(dataset, schedule)
    assert _rules(violations) == {"objective"}
    assert "weighted_days_late" in violations[0].message


def test_missing_objective_key(dataset: Dataset, schedule: dict[str, Any]) -> None:
    del schedule["objective"]["holding_days"]
    assert _rules(validate_schedule(dataset, schedule)) == {"objective"}


def test_replanning_without_change_is_valid(dataset: Dataset, schedule: dict[str, Any]) -> None:
    assert validate_schedule(dataset, schedule, previous=copy.deepcopy(schedule), frozen_days=4) == []


def test_frozen_window_change(dataset: Dataset, schedule: dict[str, Any]) -> None:
    previous = copy.deepcopy(schedule)
    _order_entry(previous, "A")["line_id"] = "L2"  # A started 09-28 in the previous plan
    assert recompute_objective(dataset, schedule, previous)["changed_orders"] == 1
    frozen = validate_schedule(dataset, schedule, previous=previous, frozen_days=2)
    assert ("frozen", "A") in {(v.rule, v.order_id) for v in frozen}
    not_frozen = validate_schedule(dataset, schedule, previous=previous, frozen_days=0)
    assert _rules(not_frozen) == {"objective"}  # changed_orders is 1, the document says 0


@pytest.mark.parametrize(("frozen_days", "is_frozen"), [(3, False), (4, True)])
def test_frozen_window_counts_plant_working_days(
    dataset: Dataset, schedule: dict[str, Any], frozen_days: int, is_frozen: bool
) -> None:
    # Working days 09-28, 09-29, 09-30, then 10-08 after the holiday: only 4 days reach D's old start.
    previous = copy.deepcopy(schedule)
    _order_entry(previous, "D")["production_start"] = "2026-10-08"
    violations = validate_schedule(dataset, schedule, previous=previous, frozen_days=frozen_days)
    assert ("frozen" in _rules(violations)) is is_frozen


def test_frozen_days_default_to_the_plant(dataset: Dataset, schedule: dict[str, Any]) -> None:
    previous = copy.deepcopy(schedule)
    _order_entry(previous, "A")["production_start"] = "2026-09-29"
    frozen_plant = dataset.replace(plant=Plant(plan_start=_date("2026-09-28"), horizon_days=30, frozen_days=2))
    assert "frozen" in _rules(validate_schedule(frozen_plant, schedule, previous=previous))


def test_line_loads_must_match(dataset: Dataset, schedule: dict[str, Any]) -> None:
    schedule["line_loads"][1]["minutes_available"] = 480  # L2 is down on 09-29
    assert _rules(validate_schedule(dataset, schedule)) == {"line_loads"}


# -- malformed documents -------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {},
        None,
        [],
        {"orders": "none", "unscheduled": 3, "objective": []},
        {"plan_start": "2026-09-28", "orders": [None, {"order_id": 7}], "unscheduled": [{}]},
        {
            "plan_start": "28/09/2026",
            "orders": [{"order_id": "A", "line_id": "L9", "production_start": "2026-13-01", "allocations": [{}]}],
            "unscheduled": [],
            "objective": {"weighted_days_late": "many"},
            "line_loads": [{"line_id": "L1"}, "x"],
        },
        {
            "plan_start": "2026-09-28",
            "orders": [{"order_id": "B", "line_id": "L1", "allocations": []}],
            "unscheduled": [],
            "objective": {},
        },
    ],
)
def test_malformed_document_is_reported_not_raised(dataset: Dataset, document: Any) -> None:
    violations = validate_schedule(dataset, document)
    assert "format" in _rules(violations)
    assert "checker" not in _rules(violations)


def test_malformed_previous_plan_does_not_raise(dataset: Dataset, schedule: dict[str, Any]) -> None:
    previous = {"orders": [None, {"order_id": "A", "production_start": 5}, {"order_id": "ZZ"}]}
    violations = validate_schedule(dataset, schedule, previous=previous, frozen_days=2)
    assert _rules(violations) == {"objective"}  # A now counts as changed


# -- a year chinese_calendar does not cover ------------------------------------------------------


@pytest.fixture
def year_end() -> Dataset:
    """Plan from Monday 2026-12-28 into 2027, which chinese_calendar does not cover."""
    return Dataset.create(
        plant=Plant(plan_start=_date("2026-12-28"), horizon_days=21, holiday_country="CN"),
        lines=[Line("L", 8.0)],
        products=[Product("P")],
        routings=[Routing("P", "L", 60.0)],
        orders=[Order("X", "P", 480, _date("2027-01-10")), Order("Y", "P", 480, _date("2027-01-10"))],
    )


def _year_end_schedule() -> dict[str, Any]:
    # X ends Thu 12-31; 2027-01-01 has no official data, so it is an ordinary Friday: inspection.
    # Y ends Fri 01-08: inspection Mon 01-11, dispatch Tue 01-12, 2 days late.
    return {
        "plan_start": "2026-12-28",
        "objective": {"unscheduled_priority": 0, "weighted_days_late": 2, "changed_orders": 0, "holding_days": 0},
        "orders": [
            _entry("X", "L", [("2026-12-31", 480, 480)], ("2027-01-01", "2027-01-04", "2027-01-04"), "2027-01-10"),
            _entry("Y", "L", [("2027-01-08", 480, 480)], ("2027-01-11", "2027-01-12", "2027-01-12"), "2027-01-10", 2),
        ],
        "unscheduled": [],
    }


def test_uncovered_year_uses_weekdays_only(year_end: Dataset) -> None:
    assert validate_schedule(year_end, _year_end_schedule()) == []


def test_wrong_inspection_date_over_a_weekend(year_end: Dataset) -> None:
    schedule = _year_end_schedule()
    _order_entry(schedule, "Y")["inspection_date"] = "2027-01-09"  # a Saturday
    violations = validate_schedule(year_end, schedule)
    assert _rules(violations) == {"inspection_date"}
    assert "2027-01-11" in violations[0].message


def test_two_orders_carry_over(year_end: Dataset) -> None:
    # X and Y both run 12-28 to 12-29 at 240 min a day: capacity holds, but both carry over.
    # Both: inspection 12-30, dispatch 12-31, due 01-10 -> 10 days early, 3 holding days each.
    both_days = [("2026-12-28", 240, 240), ("2026-12-29", 240, 240)]
    after = ("2026-12-30", "2026-12-31", "2026-12-31")
    schedule = {
        "plan_start": "2026-12-28",
        "objective": {"unscheduled_priority": 0, "weighted_days_late": 0, "changed_orders": 0, "holding_days": 6},
        "orders": [_entry("X", "L", both_days, after, "2027-01-10"), _entry("Y", "L", both_days, after, "2027-01-10")],
        "unscheduled": [],
    }
    violations = validate_schedule(year_end, schedule)
    assert _rules(violations) == {"carry_over"}
    assert {v.message.split(":")[0] for v in violations} == {
        "line L on 2026-12-28 (Mon)",
        "line L on 2026-12-29 (Tue)",
    }


# -- other holiday sources ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "after", "holding_days"),
    [
        ("DE", ("2026-12-28", "2026-12-29", "2026-12-29"), 10),  # 12-25 and 12-26 are German holidays
        (None, ("2026-12-25", "2026-12-28", "2026-12-28"), 11),  # no holidays at all
    ],
)
def test_other_holiday_countries(country: str | None, after: tuple[str, str, str], holding_days: int) -> None:
    dataset = Dataset.create(
        plant=Plant(plan_start=_date("2026-12-21"), horizon_days=14, holiday_country=country),
        lines=[Line("L", 8.0)],
        products=[Product("P")],
        routings=[Routing("P", "L", 60.0)],
        orders=[Order("X", "P", 480, _date("2027-01-15"))],
    )
    schedule = {
        "plan_start": "2026-12-21",
        "objective": {
            "unscheduled_priority": 0,
            "weighted_days_late": 0,
            "changed_orders": 0,
            "holding_days": holding_days,
        },
        "orders": [_entry("X", "L", [("2026-12-24", 480, 480)], after, "2027-01-15")],
        "unscheduled": [],
    }
    assert validate_schedule(dataset, schedule) == []
