"""Manual pins: the planner places an order on a line from a given first production day.

A pin sets the order's ``pinned_line`` and ``pinned_start``; every solve then keeps it
(PROBLEM.md's pinned-start rule, :func:`solver.rules.add_pins`), or leaves that order
unscheduled with a reason naming the pin when the plan cannot. What can be refused at once
is refused here: an order past the point where a plan may place it (409), a line that cannot
make the product or a day outside the horizon or off the line's calendar (422, located in the
request body like any bad field).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from api import store
from api.db import OrderRow, utcnow
from solver.calendar import PlantCalendar
from solver.domain import DatasetError, Problem

PINNABLE = ("received", "reviewed", "confirmed")  # a pin takes effect once the order is confirmed


def pin_order(session: Session, order_id: str, line_id: str, start_date: dt.date, reason: str, actor: str) -> OrderRow:
    """Pin the order to ``line_id`` from ``start_date``; recorded in its history (kind ``pin``)."""
    row = _pinnable(session, order_id)
    _check_placement(session, row, line_id, start_date)
    before = _pin_of(row)
    row.pinned_line, row.pinned_start, row.updated_at = line_id, start_date, utcnow()
    detail = {"line_id": line_id, "start_date": start_date.isoformat(), "before": before}
    store.record_event(session, order_id, actor, "pin", detail, reason)
    return row


def unpin_order(session: Session, order_id: str, reason: str, actor: str) -> OrderRow:
    """Remove the order's pin (line and start); recorded in its history (kind ``unpin``)."""
    row = _pinnable(session, order_id)
    if row.pinned_start is None:
        raise store.Conflict(f"order {order_id} is not pinned")
    before = _pin_of(row)
    row.pinned_line, row.pinned_start, row.updated_at = None, None, utcnow()
    store.record_event(session, order_id, actor, "unpin", {"before": before}, reason)
    return row


def _pinnable(session: Session, order_id: str) -> OrderRow:
    row = store.get_order(session, order_id)
    if row.status not in PINNABLE:
        # in production it already runs on its line; after that, or cancelled, nothing is planned
        raise store.Conflict(f"order {order_id} is {row.status}: only orders not yet in production can be pinned")
    return row


def _pin_of(row: OrderRow) -> dict[str, str | None]:
    start = row.pinned_start.isoformat() if row.pinned_start else None
    return {"line_id": row.pinned_line, "start_date": start}


def _check_placement(session: Session, row: OrderRow, line_id: str, start_date: dt.date) -> None:
    """A line that can make the product, on a working day of that line inside the horizon."""
    dataset = store.current_dataset(session)
    if not any(r.line_id == line_id for r in dataset.routings_by_product.get(row.product_id, ())):
        _refuse("$.line_id", f"line {line_id} has no routing for product {row.product_id}")
    plant = dataset.plant
    if not plant.plan_start <= start_date <= plant.horizon_end:
        _refuse("$.start_date", f"{start_date} is outside the horizon {plant.plan_start} to {plant.horizon_end}")
    calendar = PlantCalendar(dataset)
    if calendar.line_capacity(line_id)[(start_date - plant.plan_start).days] <= 0:
        _refuse("$.start_date", f"{start_date} is not a working day of line {line_id}")


def _refuse(path: str, message: str) -> None:
    raise DatasetError([Problem("body", None, path, message)])
