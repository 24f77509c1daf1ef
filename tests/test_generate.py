"""The synthetic plant generator and the bundled sample dataset it wrote."""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from solver.domain import Dataset
from solver.generate import announced_closures, estimated_load, generate_dataset
from solver.io import load_dataset

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


def _make_sample_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample", REPO / "data" / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate_dataset(300, 8, 60, seed=11)


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(SAMPLE)


def _material_demand(dataset: Dataset) -> Counter[str]:
    """What the confirmed orders need of each material (in-production orders have theirs)."""
    demand: Counter[str] = Counter()
    for order in dataset.orders:
        if order.status == "confirmed":
            for item in dataset.bom_by_product.get(order.product_id, ()):
                demand[item.material_id] += item.qty_per_unit * order.quantity
    return demand


def _best_case_delivery(dataset: Dataset, order_id: str) -> dt.date:
    """A lower bound on delivery: start at the plan start on the fastest line, inspect and dispatch next day each."""
    order = dataset.order_by_id[order_id]
    days = min(
        math.ceil((r.setup_hours + order.quantity / r.units_per_hour) / dataset.line_by_id[r.line_id].hours_per_day)
        for r in dataset.routings_by_product[order.product_id]
    )
    return dataset.plant.plan_start + dt.timedelta(days=days - 1 + 2 + dataset.transit_days(order))


# -- the generator -----------------------------------------------------------------------


def test_same_seed_gives_equal_datasets(small: Dataset) -> None:
    assert generate_dataset(300, 8, 60, seed=11) == small


def test_different_seed_gives_a_different_dataset(small: Dataset) -> None:
    other = generate_dataset(300, 8, 60, seed=12)
    assert other != small
    assert other.orders != small.orders


def test_sizes_and_plant(small: Dataset) -> None:
    assert len(small.orders) == 300
    assert len(small.lines) == 8
    assert len(small.materials) == 40  # 5 per line
    assert small.plant.horizon_days == 60
    assert small.plant.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert small.plant.holiday_country == "CN"
    assert small.plant.frozen_days == 0
    assert small.plant.release_weekdays == ("Mon", "Thu")


def test_explicit_product_and_material_counts() -> None:
    dataset = generate_dataset(50, 3, 30, seed=1, products=12, materials=10, customers=5)
    assert (len(dataset.products), len(dataset.materials), len(dataset.customers)) == (12, 10, 5)
    assert not generate_dataset(50, 3, 30, seed=1, materials=0).materials


def test_every_order_has_a_routing_of_one_to_three_lines(small: Dataset) -> None:
    for order in small.orders:
        assert 1 <= len(small.routings_by_product[order.product_id]) <= 3
    assert all(0 <= r.setup_hours <= 2 for r in small.routings)


def test_in_production_orders_are_pinned_to_one_of_their_routing_lines(small: Dataset) -> None:
    running = [o for o in small.orders if o.status == "in_production"]
    assert running
    assert len({o.pinned_line for o in running}) == len(running)  # at most one per line
    for order in running:
        assert order.pinned_line in {r.line_id for r in small.routings_by_product[order.product_id]}
    assert all(o.pinned_line is None for o in small.orders if o.status != "in_production")


def test_lines_run_one_or_two_shifts(small: Dataset) -> None:
    hours = Counter(line.hours_per_day for line in small.lines)
    assert set(hours) <= {8, 10, 16}
    assert hours[8] >= len(small.lines) // 2
    assert hours[16] >= 1


def test_priorities_are_skewed_to_low(small: Dataset) -> None:
    priorities = Counter(o.priority for o in small.orders)
    assert sum(priorities[p] for p in (1, 2, 3)) > 0.6 * len(small.orders)
    assert sum(priorities[p] for p in (8, 9, 10)) > 0


@pytest.mark.parametrize("load", [0.5, 0.8])
def test_planned_work_is_about_the_requested_load(load: float) -> None:
    assert estimated_load(generate_dataset(400, 8, 90, seed=3, load=load)) == pytest.approx(load, abs=0.08)


def test_materials_suffice_and_arrive_in_the_first_two_thirds(small: Dataset) -> None:
    supply = Counter({m.material_id: m.on_hand for m in small.materials})
    for arrival in small.arrivals:
        supply[arrival.material_id] += arrival.qty
    for material_id, needed in _material_demand(small).items():
        assert supply[material_id] >= needed
    last = small.plant.plan_start + dt.timedelta(days=2 * small.plant.horizon_days // 3)
    assert small.arrivals
    assert all(small.plant.plan_start < a.date <= last for a in small.arrivals)


def test_line_calendar_has_maintenance_and_overtime(small: Dataset) -> None:
    hours = Counter(entry.hours for entry in small.line_calendar)
    assert hours[0] >= 2
    assert hours[10] >= 1


def test_closures_for_2027_which_chinese_calendar_does_not_cover() -> None:
    rows = {row.date: row.working for row in announced_closures(dt.date(2026, 11, 30), dt.date(2027, 3, 31))}
    spring_festival = [dt.date(2027, 2, 5) + dt.timedelta(days=k) for k in range(8)]
    assert rows[dt.date(2027, 1, 1)] is False
    assert all(rows[day] is False for day in spring_festival)
    assert all(day.year == 2027 for day in rows)  # 2026 is in chinese_calendar
    assert [day for day, working in rows.items() if working] == [dt.date(2027, 1, 31), dt.date(2027, 2, 20)]


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="load"):
        generate_dataset(10, 2, 30, seed=1, load=0)
    with pytest.raises(ValueError, match="products"):
        generate_dataset(10, 6, 30, seed=1, products=2)


def test_large_plant_generates() -> None:
    dataset = generate_dataset(10_000, 50, 120, seed=1)
    assert len(dataset.orders) == 10_000
    assert len(dataset.lines) == 50
    assert len({o.pinned_line for o in dataset.orders if o.status == "in_production"}) <= 50


# -- the bundled sample ----------------------------------------------------------------------


def test_sample_loads_with_the_stated_counts(sample: Dataset) -> None:
    assert len(sample.orders) == 150
    assert len(sample.lines) == 6
    assert len(sample.products) == 40
    assert len(sample.materials) == 30
    statuses = Counter(o.status for o in sample.orders)
    assert statuses["in_production"] >= 2
    assert statuses["confirmed"] >= 130
    assert {"received", "reviewed", "shipped"} <= set(statuses)


def test_sample_has_arrivals_maintenance_and_the_2027_closures(sample: Dataset) -> None:
    assert len({a.date for a in sample.arrivals}) >= 10  # staggered
    assert any(entry.hours == 0 for entry in sample.line_calendar)
    closed = {row.date for row in sample.calendar if not row.working}
    assert dt.date(2027, 1, 1) in closed
    assert {dt.date(2027, 2, 5) + dt.timedelta(days=k) for k in range(8)} <= closed


def test_sample_has_materials_that_hold_back_early_starts(sample: Dataset) -> None:
    on_hand = {m.material_id: m.on_hand for m in sample.materials}
    short = {
        item.material_id
        for order in sample.orders
        if order.status == "confirmed"
        for item in sample.bom_by_product[order.product_id]
        if item.qty_per_unit * order.quantity > on_hand[item.material_id]
    }
    assert short  # some order must wait for an arrival
    assert short <= {a.material_id for a in sample.arrivals}


def test_sample_has_late_risk_orders(sample: Dataset) -> None:
    at_risk = [
        o.order_id
        for o in sample.planned_orders
        if o.due_date <= _best_case_delivery(sample, o.order_id) + dt.timedelta(days=2)
    ]
    assert len(at_risk) >= 3


def test_sample_is_what_make_sample_writes(sample: Dataset) -> None:
    assert sample == _make_sample_module().sample_dataset()
