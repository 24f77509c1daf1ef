"""Property: for any valid dataset, the plan paichan returns passes the validator
and is no worse than earliest-due-date list scheduling.

About half the plants have product families with a changeover matrix (rows for every line
and rows of one line, lines' initial families, products without a family) and some cap the
orders inspected or dispatched a day (PROBLEM.md, "Changeovers", "Inspection and dispatch
capacity"): the engine plans them and the validator checks them.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from solver.domain import (
    Arrival,
    BomItem,
    CalendarException,
    Changeover,
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
FAMILIES = ["高压开关柜", "环网柜", "配电箱"]
CHANGEOVER_MINUTES = [90, 15, 240, 600, 0]  # 600: longer than any line's day; a row of 0: none
ROW = st.sampled_from([True, True, True, False])  # whether a pair has a row for every line
CAPS = [None, None, 1, 2, 3]  # orders inspected / dispatched a working day; None: no cap


@st.composite
def changeover_data(
    draw: st.DrawFn, lines: list[Line], product_ids: list[str]
) -> tuple[list[Line], list[Product], list[Changeover]]:
    """Families for the products (some none), a changeover matrix and the lines' initial families.

    One more product, never ordered, stands for what the lines made before the plan: its
    family can be a line's initial family that no order has.
    """
    assigned = draw(st.permutations([*FAMILIES, ""]))  # products mostly of different families, one maybe none
    products = [Product(p, family=assigned[k % len(assigned)]) for k, p in enumerate(product_ids)]
    products.append(Product("P-old", family=draw(st.sampled_from(FAMILIES))))
    families = sorted({p.family for p in products if p.family})
    pairs = [(a, b) for a in families for b in families if a != b]
    changeovers = [Changeover(a, b, draw(st.sampled_from(CHANGEOVER_MINUTES))) for a, b in pairs if draw(ROW)]
    for line in lines:  # a line's own row overrides the row for every line
        for a, b in draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True)) if pairs else []:
            changeovers.append(Changeover(a, b, draw(st.sampled_from(CHANGEOVER_MINUTES)), line.line_id))
    initial = [
        Line(line.line_id, line.hours_per_day, initial_family=draw(st.sampled_from([*families, ""]))) for line in lines
    ]
    return initial, products, changeovers


@st.composite
def datasets(draw: st.DrawFn, families: bool | None = None, caps: bool = True) -> Dataset:
    """A small valid plant; with product families and changeovers when ``families`` (None: drawn),
    and inspection / dispatch caps drawn when ``caps``."""
    plan_start = draw(st.sampled_from(PLAN_STARTS))
    horizon = draw(st.integers(10, 30))
    day = st.integers(0, horizon - 1).map(lambda d: plan_start + dt.timedelta(days=d))
    line_ids = [f"L{i}" for i in range(draw(st.integers(1, 3)))]
    lines = [Line(line_id, draw(st.sampled_from([4, 7.5, 8, 16]))) for line_id in line_ids]
    product_ids = [f"P{i}" for i in range(draw(st.integers(2 if families else 1, 3)))]
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
    products, changeovers = [Product(p) for p in product_ids], []
    if draw(st.booleans()) if families is None else families:
        lines, products, changeovers = draw(changeover_data(lines, product_ids))
    plant = Plant(
        plan_start,
        horizon_days=horizon,
        inspection_orders_per_day=draw(st.sampled_from(CAPS)) if caps else None,
        dispatch_orders_per_day=draw(st.sampled_from(CAPS)) if caps else None,
    )
    return Dataset.create(
        plant=plant,
        lines=lines,
        products=products,
        changeovers=changeovers,
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


def check_plan(dataset: Dataset) -> None:
    """The engine's plan of ``dataset`` validates, beats EDD and respects its bound."""
    result = solve(dataset, SolveParams(time_limit=3, workers=2, seed=0))
    violations = validate_schedule(dataset, result.schedule)
    assert violations == [], [str(v) for v in violations]
    assert rank(result.objective) <= rank(result.baseline_objective)
    assert result.bound["unscheduled_priority"] <= result.objective["unscheduled_priority"]
    assert result.bound["weighted_days_late"] <= result.objective["weighted_days_late"] or (
        result.bound["unscheduled_priority"] < result.objective["unscheduled_priority"]
    )
    runs = result.schedule["orders"]
    if any(run["changeover_minutes"] > 0 for run in runs):
        event("a changeover in the plan")
    reasons = {reason["kind"] for run in runs for reason in run.get("binding", [])}
    if reasons & {"inspection_cap", "dispatch_cap"}:
        event("a late order on a full inspection or dispatch day")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_every_plan_of_a_valid_dataset_validates_and_beats_edd(dataset):
    check_plan(dataset)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(families=True))
def test_every_plan_with_changeovers_validates_and_beats_edd(dataset):
    """Always families and a changeover matrix (the general test draws them for about half its plants)."""
    check_plan(dataset)
