"""Orders: list, create, read with history, change (with a reason), move along the lifecycle, pin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from sqlalchemy import select

from api import ledger, pins, rules, store
from api.db import OrderReview, OrderRow, Promise, by_order_id
from api.deps import CallerDep, OrderWriter, Planner, PromiserDep, SessionDep
from api.schemas import (
    ErrorOut,
    IsoDate,
    OrderChange,
    OrderIn,
    OrderOut,
    OrderStatus,
    OrderWithHistory,
    PinIn,
    ReviewIn,
    ReviewOut,
    StatusMove,
    UnpinIn,
)

router = APIRouter(prefix="/orders", tags=["orders"])

ERRORS = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}

# If-Match: the order's ETag (W/"<version>") the change was made from; 409 order_changed when it moved on
IfMatch = Annotated[str | None, Header(description='the ETag read (W/"<version>"): 409 order_changed if it changed')]


@router.get("", response_model=list[OrderOut])
def list_orders(
    session: SessionDep,
    _: CallerDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    customer_id: str | None = None,
    product_id: str | None = None,
    due_from: IsoDate | None = None,
    due_to: IsoDate | None = None,
) -> list[OrderRow]:
    query = select(OrderRow).order_by(OrderRow.due_date, OrderRow.order_id)
    if status_:
        query = query.where(OrderRow.status == status_)
    if customer_id:
        query = query.where(OrderRow.customer_id == customer_id)
    if product_id:
        query = query.where(OrderRow.product_id == product_id)
    if due_from:
        query = query.where(OrderRow.due_date >= due_from)
    if due_to:
        query = query.where(OrderRow.due_date <= due_to)
    return list(session.scalars(query))


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_order(
    order: OrderIn, response: Response, session: SessionDep, caller: OrderWriter, promiser: PromiserDep
) -> OrderRow:
    """Create one order; a sales key always creates it as ``received``; an id that exists is 409 ``order_exists``.

    A confirmed order (a planner's) must pass the review rules and gets room in the ledger.
    """
    record = order.model_dump(mode="json", exclude_none=True)
    if caller.role == "sales":
        record["status"] = "received"
    if record.get("status") == "confirmed":
        rules.check_can_confirm(session, record)
    ledger.serialize(session)
    with store.order_guard(session, record["order_id"], creating=True):
        row = store.create_order(session, record, caller.actor)
        session.flush()
        ledger.promise_order(session, promiser, row, "created")
        session.commit()
    response.headers["ETag"] = store.etag(row)
    return row


@router.get("/{order_id}", response_model=OrderWithHistory, responses=ERRORS)
def get_order(order_id: str, response: Response, session: SessionDep, _: CallerDep) -> OrderWithHistory:
    """The order, its audited history, its joint review and the room the ledger keeps for it.

    ``ETag: W/"<version>"``: send it back as ``If-Match`` on PATCH or a status move.
    """
    row = store.get_order(session, order_id)
    response.headers["ETag"] = store.etag(row)
    history = [event.__dict__ for event in store.history(session, order_id)]
    reviews = [review.__dict__ for review in rules.reviews(session, order_id)]
    promise = by_order_id(session, Promise, order_id)
    return OrderWithHistory.model_validate(
        {
            **row.__dict__,
            "history": history,
            "reviews": reviews,
            "joint_review": rules.joint_review(session, order_id),
            "promise": promise.__dict__ if promise else None,
        }
    )


@router.patch("/{order_id}", response_model=OrderOut, responses=ERRORS)
def change_order(
    order_id: str,
    change: OrderChange,
    response: Response,
    session: SessionDep,
    caller: Planner,
    promiser: PromiserDep,
    if_match: IfMatch = None,
) -> OrderRow:
    """Change quantity, due date, priority...; the reason is recorded in the history.

    A confirmed order whose product or quantity changes gets new room in the ledger.
    With ``If-Match``, a change made from an older version is 409 ``order_changed`` (with
    ``version``, the current one); without it, of changes racing from one version exactly one lands.
    """
    changes = change.model_dump(exclude_unset=True)
    reason = changes.pop("reason")
    ledger.serialize(session)
    with store.order_guard(session, order_id):
        store.check_if_match(store.get_order(session, order_id), if_match)
        row = store.change_order(session, order_id, changes, reason, caller.actor)
        session.flush()
        if {"product_id", "quantity"} & changes.keys() or by_order_id(session, Promise, order_id) is not None:
            ledger.promise_order(session, promiser, row, "changed")
        session.commit()
    response.headers["ETag"] = store.etag(row)
    return row


@router.post("/{order_id}/status", response_model=OrderOut, responses=ERRORS)
def move_order(
    order_id: str,
    move: StatusMove,
    response: Response,
    session: SessionDep,
    caller: Planner,
    promiser: PromiserDep,
    if_match: IfMatch = None,
) -> OrderRow:
    """Move along received → reviewed → confirmed → in_production → ... → closed; cancel before production.

    Confirming checks the review rules (409 naming the rule) and keeps room in the ledger.
    ``date`` is the day it happened (default today, never in the future): the day an order
    was ``shipped`` is its dispatch day in ``GET /v1/reports/dispatch``. ``If-Match`` as for PATCH.
    """
    ledger.serialize(session)  # before the order is read: racing moves each see the one before
    with store.order_guard(session, order_id):
        store.check_if_match(store.get_order(session, order_id), if_match)
        if move.status == "confirmed":
            rules.check_can_confirm(session, store.order_record(store.get_order(session, order_id)))
        row = store.move_order(session, order_id, move.status, move.line_id, move.reason, caller.actor, move.date)
        session.flush()
        if move.status == "confirmed":
            ledger.promise_order(session, promiser, row, "confirmed")
        elif move.status not in ledger.ACTIVE:
            ledger.drop_promise(session, order_id)
        session.commit()
    response.headers["ETag"] = store.etag(row)
    return row


@router.post("/{order_id}/reviews", response_model=ReviewOut, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def record_review(order_id: str, review: ReviewIn, session: SessionDep, caller: OrderWriter) -> OrderReview:
    """Record one department's verdict in a non-regular order's joint review (in its history too)."""
    entry = rules.record_review(session, order_id, review.model_dump(), caller.actor)
    session.commit()
    return entry


@router.post("/{order_id}/pin", response_model=OrderOut, responses=ERRORS)
def pin_order(order_id: str, pin: PinIn, session: SessionDep, caller: Planner, promiser: PromiserDep) -> OrderRow:
    """Place the order by hand: it runs on ``line_id`` and its first production day is ``start_date``.

    Every solve keeps the pin, or leaves the order unscheduled with a reason naming it.
    409 for an order in production or beyond, closed or cancelled; 422 for a line without a
    routing for the product or a day outside the horizon or off the line's calendar.
    """
    ledger.serialize(session)
    with store.order_guard(session, order_id):
        row = pins.pin_order(session, order_id, pin.line_id, pin.start_date, pin.reason, caller.actor)
        session.flush()
        ledger.promise_order(session, promiser, row, "pinned")  # a confirmed order's room moves to its pin
        session.commit()
    return row


@router.delete("/{order_id}/pin", response_model=OrderOut, responses=ERRORS)
def unpin_order(order_id: str, unpin: UnpinIn, session: SessionDep, caller: Planner, promiser: PromiserDep) -> OrderRow:
    """Remove the order's pin: the solver places it again (the published plan's run stands till then)."""
    ledger.serialize(session)
    with store.order_guard(session, order_id):
        row = pins.unpin_order(session, order_id, unpin.reason, caller.actor)
        session.flush()
        ledger.promise_order(session, promiser, row, "unpinned")
        session.commit()
    return row
