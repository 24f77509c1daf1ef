"""Property: for any valid dataset, the plan paichan returns passes the validator
and is no worse than earliest-due-date list scheduling."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from solver.engine import SolveParams, solve
from solver.objective import Objective
from solver.validation import validate_schedule

PLAN_STARTS = [dt.date(2026, 9, 21), dt.date(2026, 12, 14), dt.date(2026, 4, 27)]


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    plan_start = draw(st.sampled_from(PLAN_STARTS))
    horizon = draw(st.integers(10, 30))
    day = st.integers(0, horizon - 1).map(lambda d: plan_start + dt.timedelta(days=d))
    line_ids = [f"L{i}" for i in range(draw(st.integers(1, 3)))]
    lines = [Line(line_id, draw(st.sampled_from([4, 7.5, 8, 16]))) for line_id in line_ids]
    product_ids = [f"P{i}" for i in range(draw(st.integers(1, 3)))]
    routings = []
    for product_id in product_ids:
        for line_id in draw(st.lists(st.sampled_from(line_ids), min_size=1, max_size=len(line_ids), unique=True)):
            rate = draw(st.sampled_from([0.5, 2, 3.5, 10, 30]))
            routings.append(Routing(product_id, line_id, rate, draw(st.sampled_from([0, 0.25, 1, 3]))))
    materials = [Material("M0", draw(st.sampled_from([0, 5, 50]))), Material("M1", 20.5)]
    bom = [BomItem(p, "M0", draw(st.sampled_from([0.5, 1, 2]))) for p in product_ids[:2]]
    arrivals = [Arrival("M0", draw(day), draw(st.sampled_from([10, 40, 100]))) for _ in range(draw(st.integers(0, 2)))]
    customers = [Customer("C0"), Customer("C1", transit_days=draw(st.integers(0, 4)))]
    orders = []
    in_production_lines: set[str] = set()
    for index in range(draw(st.integers(1, 7))):
        product_id = draw(st.sampled_from(product_ids))
        status = draw(st.sampled_from(["confirmed"] * 6 + ["in_production", "shipped"]))
        pinned = None
        if status == "in_production":
            lines_of_product = [r.line_id for r in routings if r.product_id == product_id]
            pinned = draw(st.sampled_from(lines_of_product))
            in_production_lines.add(pinned)
        earliest = draw(st.none() | day)
        orders.append(
            Order(
                f"O{index}",
                product_id,
                draw(st.integers(1, 60)),
                plan_start + dt.timedelta(days=draw(st.integers(-3, horizon + 10))),
                customer_id=draw(st.sampled_from(["C0", "C1"])),
                priority=draw(st.integers(1, 10)),
                status=status,
                earliest_start=earliest,
                pinned_line=pinned,
            )
        )
    maintenance = [LineCalendarEntry(draw(st.sampled_from(line_ids)), draw(day), draw(st.sampled_from([0, 10])))]
    closures = [CalendarException(draw(day), draw(st.booleans()))]
    return Dataset.create(
        plant=Plant(plan_start, horizon_days=horizon),
        lines=lines,
        products=[Product(p) for p in product_ids],
        routings=routings,
        orders=orders,
        materials=materials,
        bom=bom,
        arrivals=arrivals,
        customers=customers,
        line_calendar=list({(m.line_id, m.date): m for m in maintenance}.values()),
        calendar=list({c.date: c for c in closures}.values()),
    )


def rank(objective: dict[str, int]) -> Objective:
    return Objective.from_dict(objective).primary


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_every_plan_of_a_valid_dataset_validates_and_beats_edd(dataset):
    result = solve(dataset, SolveParams(time_limit=3, workers=2, seed=0))
    violations = validate_schedule(dataset, result.schedule)
    assert violations == [], [str(v) for v in violations]
    assert rank(result.objective) <= rank(result.baseline_objective)
    assert result.bound["unscheduled_priority"] <= result.objective["unscheduled_priority"]
    assert result.bound["weighted_days_late"] <= result.objective["weighted_days_late"] or (
        result.bound["unscheduled_priority"] < result.objective["unscheduled_priority"]
    )
