"""Shared test helpers: tiny datasets in a few lines, and solves that always go through the validator.

The tiny datasets follow one convention unless a test says otherwise, so that
a test's comment can work out its optimum by hand:

* the plan starts on Monday 2026-11-30 (:data:`PLAN_START`) and runs 14
  calendar days, Mon-Fri, without statutory holidays (``holiday_country``
  ``None``): working days 11-30 ... 12-04, 12-07 ... 12-11;
* one line ``L1`` of 8 h a day, 480 minutes;
* product ``P1`` on ``L1`` at 60 units/h (one unit a minute), no setup.

Every plan a test gets back from :func:`solve_validated` (or the
``solve_and_validate`` fixture) has passed :func:`solver.validation.validate_schedule`
without a single violation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from solver.domain import Dataset, Line, Order, Plant, Product, Routing
from solver.engine import SolveParams, SolveResult, solve
from solver.validation import validate_schedule

PLAN_START = dt.date(2026, 11, 30)  # a Monday
TEST_TIME_LIMIT = 5.0  # seconds; the tiny datasets prove optimality in a fraction of it
BOUNDED_TERMS = ("unscheduled_priority", "weighted_days_late")  # the levels the solver reports a bound for

RoutingRow = tuple[str, str, float] | tuple[str, str, float, float]


def day(text: str) -> dt.date:
    """A date from ``YYYY-MM-DD``."""
    return dt.date.fromisoformat(text)


def _as_date(value: str | dt.date | None) -> dt.date | None:
    return day(value) if isinstance(value, str) else value


def order(order_id: str, quantity: int, due: str | dt.date, product_id: str = "P1", **fields: Any) -> Order:
    """An order; ``due`` and ``earliest_start`` may be given as ``YYYY-MM-DD`` text."""
    if "earliest_start" in fields:
        fields["earliest_start"] = _as_date(fields["earliest_start"])
    return Order(order_id, product_id, quantity, _as_date(due), **fields)  # type: ignore[arg-type]


def tiny_dataset(
    orders: Iterable[Order],
    *,
    lines: dict[str, float] | None = None,
    routings: Iterable[RoutingRow] | None = None,
    plan_start: str | dt.date = PLAN_START,
    horizon_days: int = 14,
    holiday_country: str | None = None,
    workdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri"),
    frozen_days: int = 0,
    **tables: Any,
) -> Dataset:
    """A checked dataset from a few orders, lines ``{line_id: hours_per_day}`` and routings.

    Parameters
    ----------
    orders
        The orders, e.g. from :func:`order`.
    lines
        Hours per day by line; default ``{"L1": 8}``.
    routings
        ``(product_id, line_id, units_per_hour[, setup_hours])`` rows; default
        ``P1`` on ``L1`` at 60 units/h.
    plan_start, horizon_days, holiday_country, workdays, frozen_days
        The plant; default Monday 2026-11-30, 14 days, no holidays, Mon-Fri.
    tables
        Any other table of :class:`~solver.domain.Dataset` (``line_calendar``,
        ``bom``, ``materials``, ``arrivals``, ``customers``, ...) as domain objects.
        Products are those named by the routings, the orders and the bill of materials.
    """
    orders = list(orders)
    routing_rows = [Routing(*row) for row in (routings if routings is not None else [("P1", "L1", 60.0)])]
    product_ids = [r.product_id for r in routing_rows] + [o.product_id for o in orders]
    product_ids += [item.product_id for item in tables.get("bom", ())]
    plant = Plant(
        plan_start=_as_date(plan_start),  # type: ignore[arg-type]
        horizon_days=horizon_days,
        workdays=workdays,
        holiday_country=holiday_country,
        frozen_days=frozen_days,
    )
    return Dataset.create(
        plant=plant,
        lines=[Line(line_id, hours) for line_id, hours in (lines or {"L1": 8.0}).items()],
        products=[Product(product_id) for product_id in dict.fromkeys(product_ids)],
        routings=routing_rows,
        orders=orders,
        **tables,
    )


def solve_validated(
    dataset: Dataset,
    previous: dict[str, Any] | None = None,
    *,
    time_limit: float = TEST_TIME_LIMIT,
    workers: int = 2,
    seed: int = 0,
    frozen_days: int | None = None,
) -> SolveResult:
    """Solve ``dataset`` and fail the test unless the plan passes the independent validator."""
    params = SolveParams(time_limit=time_limit, workers=workers, seed=seed, frozen_days=frozen_days)
    result = solve(dataset, params, previous=previous)
    violations = validate_schedule(dataset, result.schedule, previous=previous, frozen_days=frozen_days)
    assert not violations, "the solver's plan breaks the rules:\n" + "\n".join(str(v) for v in violations)
    return result


@pytest.fixture
def solve_and_validate() -> Callable[..., dict[str, Any]]:
    """``solve_and_validate(dataset, previous=None, **params)``: the validated schedule document."""

    def run(dataset: Dataset, previous: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        return solve_validated(dataset, previous, **params).schedule

    return run


# -- reading a schedule -----------------------------------------------------------------


def planned(schedule: dict[str, Any], order_id: str) -> dict[str, Any]:
    """The schedule's entry for a planned order (fails the test when it is unscheduled)."""
    entries = [e for e in schedule["orders"] if e["order_id"] == order_id]
    assert len(entries) == 1, f"order {order_id} is not planned; unscheduled: {schedule['unscheduled']}"
    return entries[0]


def run_of(schedule: dict[str, Any], order_id: str) -> list[tuple[str, int, int]]:
    """An order's allocations as ``(date, minutes, quantity)`` rows."""
    return [(a["date"], a["minutes"], a["quantity"]) for a in planned(schedule, order_id)["allocations"]]


def dates_of(schedule: dict[str, Any], order_id: str) -> tuple[str, str, str, str, str]:
    """An order's ``(production_start, production_end, inspection, dispatch, delivery)`` dates."""
    entry = planned(schedule, order_id)
    return (
        entry["production_start"],
        entry["production_end"],
        entry["inspection_date"],
        entry["dispatch_date"],
        entry["delivery_date"],
    )


def unscheduled_reasons(schedule: dict[str, Any]) -> dict[str, str]:
    """Reason by order id of every unscheduled order."""
    return {item["order_id"]: item["reason"] for item in schedule["unscheduled"]}


def objective(unscheduled: int = 0, late: int = 0, changed: int = 0, holding: int = 0) -> dict[str, int]:
    """The four-level objective of PROBLEM.md, by its short names."""
    return {
        "unscheduled_priority": unscheduled,
        "weighted_days_late": late,
        "changed_orders": changed,
        "holding_days": holding,
    }


def assert_proven_optimal(schedule: dict[str, Any]) -> None:
    """Status OPTIMAL and a reported bound equal to the objective on every bounded level."""
    assert schedule["status"] == "OPTIMAL", schedule["warnings"]
    assert schedule["bound"] == {term: schedule["objective"][term] for term in BOUNDED_TERMS}
