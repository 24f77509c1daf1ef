"""The promise ledger: room kept for open quote holds and for confirmed orders that the
published plan does not carry, so that no two answers hand out the same minutes or material.

Every change to it starts with :func:`serialize`, an ``UPDATE`` of the one lock row: on
PostgreSQL a row lock, on SQLite the database's write lock, taken before anything is
read. Holds, confirms, new and changed orders and publications are therefore placed one
after the other, each seeing the room the previous ones took, on one server or many.

Placements are made against the published plan's own input (its master data); a
promise lives until a published plan carries its order as it is now. When a plan is
published, holds and promises it does not carry are placed again around it, in the order
they were made; one that no longer meets its date is marked ``at_risk``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import store
from api.db import LedgerLock, OrderRow, PlanJob, Promise, QuoteHold, by_order_id, utcnow
from api.promising import (
    HOLD_PREFIX,
    PlannedOrders,
    PlanView,
    Promiser,
    all_promises,
    book_reservations,
    hold_booking,
    open_holds,
    promised_date,
    prospect_of_order,
)
from solver.domain import Order
from solver.promise import PlanLedger, Prospect, earliest_placement, has_room_for
from solver.validation import Violation, recompute_objective, validate_schedule

log = logging.getLogger(__name__)

ACTIVE = ("confirmed", "in_production")  # orders that hold room until a published plan carries them
PLACEMENT_FIELDS = (
    "line_id",
    "production_start",
    "production_end",
    "inspection_date",
    "dispatch_date",
    "delivery_date",
    "allocations",
)


def serialize(session: Session) -> None:
    """Take the ledger lock for the rest of the transaction (and bump its version)."""
    session.execute(update(LedgerLock).values(version=LedgerLock.version + 1))


# -- one order's promise -------------------------------------------------------------------------


def needs_promise(row: OrderRow, plan: PlannedOrders) -> bool:
    """An active order the plan does not carry as it is now (new, left out, or changed since)."""
    if row.status not in ACTIVE:
        return False
    planned = plan.dataset.order_by_id.get(row.order_id)
    if row.order_id not in plan.entries or planned is None:
        return True
    if row.pinned_start is not None and not _at_pin(plan.entries[row.order_id], row):
        return True  # pinned since the plan: its room is where the pin puts it, not where the plan had it
    return (planned.product_id, planned.quantity) != (row.product_id, row.quantity)


def _at_pin(entry: dict[str, Any], row: OrderRow) -> bool:
    return entry["line_id"] == row.pinned_line and entry["production_start"] == row.pinned_start.isoformat()


def promise_order(session: Session, promiser: Promiser, row: OrderRow, source: str) -> Promise | None:
    """Keep room for ``row`` if the published plan does not carry it; call after :func:`serialize`."""
    existing = by_order_id(session, Promise, row.order_id)
    try:
        view = promiser.view(session)
    except store.Conflict:  # nothing published: the first plan will carry it
        return None
    if not needs_promise(row, view.plan) and (existing is None or _planned_run_free(promiser, view, row)):
        if existing is not None:
            session.delete(existing)
        return None
    ledger = view.ledger
    if existing is not None or row.order_id in view.plan.entries:
        ledger = _ledger_without(promiser, view, row.order_id)
    placement = place(view.plan, ledger, prospect_of_order(row), row)
    promise = existing or Promise(order_id=row.order_id, created_at=utcnow())
    _fill(promise, row.product_id, row.quantity, placement, row.due_date, view.plan_id, source)
    session.add(promise)
    return promise


def keep_hold_room(session: Session, hold: QuoteHold, order_id: str) -> Promise:
    """A confirmed hold's room becomes its order's promise: the same run, for the agreed date."""
    request = hold.request
    promise = Promise(order_id=order_id, created_at=hold.created_at)
    promised = dt.date.fromisoformat(promised_date(hold))
    placement = hold.answer.get("placement")
    plan_id = hold.answer.get("plan_id")
    _fill(promise, request["product_id"], request["quantity"], placement, promised, plan_id, f"quote:{hold.quote_id}")
    session.add(promise)
    return promise


def drop_promise(session: Session, order_id: str) -> None:
    promise = by_order_id(session, Promise, order_id)
    if promise is not None:
        session.delete(promise)


def _planned_run_free(promiser: Promiser, view: PlanView, row: OrderRow) -> bool:
    """Whether the plan's run of ``row`` is still free for it: while the order had a promise,
    its planned room was free for other holds and promises to take."""
    entry = view.plan.entries[row.order_id]
    kitted = 0 if row.status == "in_production" else row.quantity  # a running order has its kit
    return has_room_for(_ledger_without(promiser, view, row.order_id), view.plan.dataset, entry, row.product_id, kitted)


def _ledger_without(promiser: Promiser, view: PlanView, order_id: str) -> PlanLedger:
    """The view's ledger as if ``order_id`` had no room yet (its planned run and promise freed)."""
    plan = view.plan
    superseded = frozenset({*(p.order_id for p in view.promises), order_id})
    others = [p for p in view.promises if p.order_id != order_id]
    return _booked(promiser, plan, superseded, view.holds, others)


def place(plan: PlannedOrders, ledger: PlanLedger, prospect: Prospect, row: OrderRow | None = None) -> dict | None:
    """The earliest run for ``prospect`` in what ``ledger`` leaves free, or None (unknown product, no room).

    For an order (``row``), its earliest start and its manual pin narrow where the room is kept.
    """
    if prospect.product_id not in plan.dataset.product_by_id:
        return None
    not_before, lines = None, None
    if row is not None:
        not_before = row.earliest_start
        if row.pinned_line and row.pinned_start:
            not_before, lines = row.pinned_start, [row.pinned_line]
    return earliest_placement(plan.dataset, ledger, prospect, not_before, lines)


def _fill(
    promise: Promise,
    product_id: str,
    quantity: int,
    placement: dict[str, Any] | None,
    promised: dt.date,
    plan_id: str,
    source: str,
) -> None:
    promise.product_id, promise.quantity, promise.placement = product_id, quantity, placement
    promise.promised_delivery, promise.plan_id, promise.source = promised, plan_id, source
    promise.at_risk = _at_risk(placement, promised)
    promise.updated_at = utcnow()


def _at_risk(placement: dict[str, Any] | None, promised: dt.date) -> bool:
    return placement is None or dt.date.fromisoformat(placement["delivery_date"]) > promised


# -- many at once: after an import, and when a plan is published ----------------------------------


def sync_promises(session: Session, promiser: Promiser, source: str = "import") -> dict[str, int]:
    """Promise every active order the published plan does not carry, and drop stale promises."""
    try:
        view = promiser.view(session)
    except store.Conflict:
        return {"promised": 0, "dropped": 0}
    rows = {row.order_id: row for row in session.scalars(select(OrderRow).where(OrderRow.status.in_(ACTIVE)))}
    dropped = 0
    for promise in view.promises:
        row = rows.get(promise.order_id)
        back_in_plan = row is not None and not needs_promise(row, view.plan) and _planned_run_free(promiser, view, row)
        if row is None or back_in_plan or (row.product_id, row.quantity) != (promise.product_id, promise.quantity):
            session.delete(promise)
            dropped += 1
    session.flush()
    kept = {p.order_id for p in all_promises(session)}
    missing = [r for r in rows.values() if r.order_id not in kept and needs_promise(r, view.plan)]
    missing.sort(key=lambda r: (r.due_date, r.order_id))
    superseded = frozenset(kept | {r.order_id for r in missing})
    ledger = _booked(promiser, view.plan, superseded, open_holds(session), all_promises(session))
    for row in missing:
        placement = place(view.plan, ledger, prospect_of_order(row), row)
        if placement is not None:
            ledger.book(view.plan.dataset, placement, row.product_id, row.quantity)
        promise = Promise(order_id=row.order_id, created_at=utcnow())
        _fill(promise, row.product_id, row.quantity, placement, row.due_date, view.plan_id, source)
        session.add(promise)
    return {"promised": len(missing), "dropped": dropped}


def _booked(
    promiser: Promiser, plan: PlannedOrders, superseded: frozenset[str], holds: list[QuoteHold], promises: list[Promise]
) -> PlanLedger:
    ledger = promiser.base(plan, superseded).copy()
    book_reservations(ledger, plan.dataset, holds, promises)
    return ledger


@dataclass
class _Pending:
    """A hold or promise the new plan does not carry: to be placed again around it."""

    hold: QuoteHold | None
    promise: Promise | None


def reconcile(session: Session, promiser: Promiser, job: PlanJob) -> dict[str, int]:
    """After ``job`` is published: its carried orders give up their promises, the rest is placed anew.

    Call after :func:`serialize`, in the transaction that publishes.
    """
    plan = promiser.plan(session, job.plan_id)
    rows = {row.order_id: row for row in session.scalars(select(OrderRow).where(OrderRow.status.in_(ACTIVE)))}
    counts = {"carried": 0, "kept": 0, "replaced": 0, "at_risk": 0}
    pending: list[_Pending] = []
    for promise in all_promises(session):
        row = rows.get(promise.order_id)
        if row is None or not needs_promise(row, plan):
            session.delete(promise)
            counts["carried"] += 1
        elif not _take_planned_run(promise, plan):
            pending.append(_Pending(None, promise))
    holds = open_holds(session)
    for hold in holds:
        entry = plan.entries.get(f"{HOLD_PREFIX}{hold.quote_id}")
        if entry is not None:
            _set_hold_placement(hold, _placement_of(entry), plan.plan_id)
        else:
            pending.append(_Pending(hold, None))
    session.flush()
    _place_again(session, promiser, plan, holds, pending, counts)
    counts["kept"] = len(all_promises(session))
    return counts


def _take_planned_run(promise: Promise, plan: PlannedOrders) -> bool:
    """A promise from a hold that the plan carried as the hold's order keeps that run."""
    if not promise.source.startswith("quote:"):
        return False
    entry = plan.entries.get(f"{HOLD_PREFIX}{promise.source.removeprefix('quote:')}")
    if entry is None:
        return False
    _fill(
        promise,
        promise.product_id,
        promise.quantity,
        _placement_of(entry),
        promise.promised_delivery,
        plan.plan_id,
        promise.source,
    )
    return True


def _place_again(
    session: Session,
    promiser: Promiser,
    plan: PlannedOrders,
    holds: list[QuoteHold],
    pending: list[_Pending],
    counts: dict[str, int],
) -> None:
    waiting = {id(p.hold) for p in pending if p.hold} | {id(p.promise) for p in pending if p.promise}
    promises = all_promises(session)
    superseded = frozenset(p.order_id for p in promises)
    settled_holds = [h for h in holds if id(h) not in waiting]
    settled = [p for p in promises if id(p) not in waiting]
    ledger = _booked(promiser, plan, superseded, settled_holds, settled)
    pending.sort(key=lambda p: (p.hold or p.promise).created_at)  # type: ignore[union-attr]
    for item in pending:
        if item.hold is not None:
            booking, promised = hold_booking(item.hold), dt.date.fromisoformat(promised_date(item.hold))
            prospect = Prospect(booking["product_id"], booking["quantity"], promised)
        else:
            promise, promised = item.promise, item.promise.promised_delivery
            prospect = Prospect(promise.product_id, promise.quantity, promised)
        order = by_order_id(session, OrderRow, item.promise.order_id) if item.promise is not None else None
        placement = place(plan, ledger, prospect, order)
        if placement is not None:
            ledger.book(plan.dataset, placement, prospect.product_id, prospect.quantity)
        if item.hold is not None:
            _set_hold_placement(item.hold, placement, plan.plan_id)
        else:
            _fill(promise, promise.product_id, promise.quantity, placement, promised, plan.plan_id, promise.source)
        counts["replaced"] += 1
        counts["at_risk"] += _at_risk(placement, prospect.due_date)


def _set_hold_placement(hold: QuoteHold, placement: dict[str, Any] | None, plan_id: str) -> None:
    promised = dt.date.fromisoformat(promised_date(hold))
    at_risk = _at_risk(placement, promised)
    # a new dict: SQLAlchemy notices a JSON column change only on assignment
    hold.answer = {**hold.answer, "placement": placement, "plan_id": plan_id, "at_risk": at_risk}
    if placement is None:  # still open, so sales sees it and calls the customer
        log.warning("quote %s lost its room when a new plan was published", hold.quote_id)


def _placement_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {name: entry[name] for name in PLACEMENT_FIELDS if name in entry}


# -- the check: the published plan and every reservation together are a valid schedule --------------


def reservations_check(session: Session, promiser: Promiser) -> list[Violation]:
    """Validate the published plan with every hold and promise added as a planned run.

    Each reservation becomes an order due on its own delivery date, so the validator
    checks capacity, carry-over, materials and the calendar of all of them together.
    """
    plan = promiser.plan(session, store.published_plan_id(session) or "current")
    holds, promises = open_holds(session), all_promises(session)
    superseded = {p.order_id for p in promises}
    kept = _renumbered([e for e in plan.schedule["orders"] if _kept(e["order_id"], superseded)])
    runs = [(f"R-HOLD-{h.quote_id}", h.request, h.answer.get("placement")) for h in holds]
    runs += [(f"R-{p.order_id}", _promised_order(session, p), p.placement) for p in promises]
    runs = [run for run in runs if run[2]]
    orders = [o for o in plan.dataset.orders if _kept(o.order_id, superseded)]
    orders += [
        Order(
            run_id,
            asked["product_id"],
            asked["quantity"],
            dt.date.fromisoformat(run["delivery_date"]),
            customer_id=asked.get("customer_id"),  # the transit days to it
        )
        for run_id, asked, run in runs
    ]
    entries = kept + [_entry(run_id, run) for run_id, _, run in runs]
    unscheduled = [u for u in plan.schedule.get("unscheduled", []) if _kept(u["order_id"], superseded)]
    document = {"plan_start": plan.schedule["plan_start"], "orders": entries, "unscheduled": unscheduled}
    dataset = plan.dataset.replace(orders=tuple(orders))
    document["objective"] = recompute_objective(dataset, document)  # what it is, so only the runs are judged
    return validate_schedule(dataset, document)


def _renumbered(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The kept runs numbered 1..n again on each line, in their run order: the superseded
    ones leave gaps the validator would take for a broken sequence."""
    numbered, count = [], {}
    for entry in sorted(entries, key=lambda e: (e["line_id"], e.get("sequence") or 0)):
        if entry.get("sequence") is not None:  # plans older than run order carry none
            count[entry["line_id"]] = count.get(entry["line_id"], 0) + 1
            entry = entry | {"sequence": count[entry["line_id"]]}
        numbered.append(entry)
    return numbered


def _promised_order(session: Session, promise: Promise) -> dict[str, Any]:
    row = by_order_id(session, OrderRow, promise.order_id)
    customer = row.customer_id if row is not None else None
    return {"product_id": promise.product_id, "quantity": promise.quantity, "customer_id": customer}


def _kept(order_id: str, superseded: set[str]) -> bool:
    return not order_id.startswith(HOLD_PREFIX) and order_id not in superseded


def _entry(run_id: str, run: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": run_id, **run, "due_date": run["delivery_date"], "days_late": 0}
