"""The changeover in front of each run (PROBLEM.md "Changeovers"), worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from solver import domain
from solver.changeover import line_changeovers
from solver.domain import Changeover, Dataset, Line, Order, Plant, Product, Routing


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", True)


def plant_with_families(initial: str = "") -> Dataset:
    products = [Product("A1", family="A"), Product("A2", family="A"), Product("B1", family="B"), Product("X")]
    return Dataset.create(
        plant=Plant(dt.date(2026, 11, 30), horizon_days=14, holiday_country=None),
        lines=[Line("L1", 8, initial_family=initial), Line("L2", 8)],
        products=products,
        routings=[Routing(p.product_id, line, 60) for p in products for line in ("L1", "L2")],
        orders=[],
        changeovers=[Changeover("A", "B", 90, None), Changeover("B", "A", 60, None), Changeover("A", "B", 30, "L2")],
    )


def order(order_id: str, product_id: str, status: str = "confirmed") -> Order:
    return Order(order_id, product_id, 10, dt.date(2026, 12, 10), status=status)


def test_a_change_of_family_costs_the_pair_and_the_line_row_overrides(planned: None) -> None:
    dataset = plant_with_families()
    runs = [order("1", "A1"), order("2", "A2"), order("3", "B1"), order("4", "A1")]
    assert line_changeovers(dataset, "L1", runs) == [0, 0, 90, 60]  # no initial family: the first pays none
    assert line_changeovers(dataset, "L2", runs) == [0, 0, 30, 60]  # L2's own row for A→B


def test_the_initial_family_a_family_less_product_and_an_order_in_production(planned: None) -> None:
    dataset = plant_with_families(initial="B")
    assert line_changeovers(dataset, "L1", [order("1", "A1")]) == [60]  # follows the line's initial family
    # X has no family: no changeover, and the line stays set up for A
    assert line_changeovers(dataset, "L1", [order("1", "A1"), order("2", "X"), order("3", "B1")]) == [60, 0, 90]
    # in production: no changeover in front of it, and it sets the line's family
    assert line_changeovers(dataset, "L1", [order("1", "A1", "in_production"), order("2", "B1")]) == [0, 90]


def test_nothing_is_planned_with_changeovers_when_the_gate_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", False)
    dataset = plant_with_families(initial="B")
    assert line_changeovers(dataset, "L1", [order("1", "A1"), order("2", "B1")]) == [0, 0]
    assert dataset.changeover_minutes("L1", "A", "B") == 90  # read and checked all the same
