"""Changeovers on a line: the one place that says which changeover stands in front of each run.

PROBLEM.md, "Changeovers": when an order follows, on the same line, an order of another
family, the line spends the changeover minutes of that pair before the order's own setup;
the changeover belongs to the order that follows. The first run on a line follows the line's
``initial_family``; an ``in_production`` order has no changeover in front of it and sets the
line's family; a product without a family causes none and leaves the line's family as it was.

Every part of the engine (the solution builder, the validator, the list schedules, the
sequence search, the models, order promising) asks this module, never the table itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from solver import domain
from solver.domain import Dataset, Order


def plans_changeovers(dataset: Dataset) -> bool:
    """Whether plans of ``dataset`` carry changeovers: it has changeovers.csv rows and the engine plans them."""
    return bool(dataset.changeovers) and domain.PLAN_CHANGEOVERS_AND_CAPS


def family_after(dataset: Dataset, family: str, order: Order) -> str:
    """The line's family once ``order`` has run on it (unchanged by a product without a family)."""
    return dataset.family_of(order.product_id) or family


def changeover_before(dataset: Dataset, line_id: str, family: str, order: Order) -> int:
    """Minutes of changeover in front of ``order`` on ``line_id`` when the line is set up for ``family``."""
    if order.status == "in_production":
        return 0  # its line is already set up: it continues the run begun before the plan
    return dataset.planned_changeover(line_id, family, dataset.family_of(order.product_id))


def line_changeovers(dataset: Dataset, line_id: str, runs: Iterable[Order]) -> list[int]:
    """The changeover in front of each run of ``runs``, given in the order the line makes them."""
    family = dataset.line_by_id[line_id].initial_family
    minutes = []
    for order in runs:
        minutes.append(changeover_before(dataset, line_id, family, order))
        family = family_after(dataset, family, order)
    return minutes


def line_has_changeovers(dataset: Dataset, line_id: str) -> bool:
    """Whether any planned changeover on ``line_id`` takes time (never while the engine does not plan them):
    lines without one are timed as before, the families left aside."""
    return any(dataset.planned_changeover(line_id, c.from_family, c.to_family) > 0 for c in dataset.changeovers)
