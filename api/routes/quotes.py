"""Quote holds: keep the capacity and material of a feasibility answer for a while."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from api import ledger, rules, store
from api.db import QuoteHold, utcnow
from api.deps import CallerDep, OrderWriter, PromiserDep, SessionDep, SettingsDep
from api.promising import open_holds, promised_date
from api.schemas import ErrorOut, QuoteConfirm, QuoteConfirmed, QuoteOut, QuoteRequest

router = APIRouter(prefix="/quotes", tags=["quotes"])

ERRORS = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.post("", response_model=QuoteOut, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def hold_quote(
    body: QuoteRequest, session: SessionDep, caller: OrderWriter, settings: SettingsDep, promiser: PromiserDep
) -> QuoteOut:
    """Answer the feasibility request and hold its placement until it expires (default 24 h).

    The hold promises the requested date when the placement meets it, else the earliest one.
    """
    asked = body.model_dump(mode="json", exclude={"hold_hours"})
    rules.check_can_hold(asked)
    ledger.serialize(session)  # placed after every earlier hold and promise, and before any later one
    answer = promiser.answer(
        session, {**body.model_dump(exclude={"hold_hours"}), "resequence": False}, keep_session=True
    )
    if answer["placement"] is None:
        raise store.Conflict(
            "nothing to hold: the order cannot be placed in the published plan", code="no_room", answer=answer
        )
    hours = body.hold_hours or settings.quote_hold_hours
    hold = QuoteHold(
        quote_id=uuid.uuid4().hex[:12],
        request=asked,
        answer=answer,
        expires_at=utcnow() + dt.timedelta(hours=hours),
        created_by=caller.actor,
    )
    session.add(hold)
    session.commit()
    return _out(hold)


@router.get("", response_model=list[QuoteOut])
def list_quotes(session: SessionDep, _: CallerDep) -> list[QuoteOut]:
    """Open holds (not expired, confirmed or released)."""
    return [_out(hold) for hold in open_holds(session)]


@router.post("/{quote_id}/confirm", response_model=QuoteConfirmed, status_code=201, responses=ERRORS)
def confirm_quote(
    quote_id: str, session: SessionDep, caller: OrderWriter, body: QuoteConfirm | None = None
) -> QuoteConfirmed:
    """Turn the hold into a confirmed order due on the agreed date; its room moves to the ledger.

    A special order needs its 30 % deposit recorded (here, or in the hold's request) first.
    """
    ledger.serialize(session)
    hold = _open_hold(session, quote_id)
    asked = dict(hold.request)
    if body is not None and body.deposit_ratio is not None:
        asked["deposit_ratio"] = body.deposit_ratio
    record = {
        "order_id": f"Q-{hold.quote_id}",
        "product_id": asked["product_id"],
        "quantity": asked["quantity"],
        "due_date": promised_date(hold),
        "priority": asked.get("priority", 1),
        "status": "confirmed",
        "order_type": asked.get("order_type", "regular"),
    }
    record |= {k: asked[k] for k in ("customer_id", "deposit_ratio") if asked.get(k) is not None}
    rules.check_can_confirm(session, record)
    with store.order_guard(session, record["order_id"], creating=True):  # a racing confirm: 409, not 500
        store.create_order(session, {**record, "reason": f"quote {hold.quote_id} confirmed"}, caller.actor)
        ledger.keep_hold_room(session, hold, record["order_id"])
        hold.status, hold.order_id = "confirmed", record["order_id"]
        session.commit()
    return QuoteConfirmed(order_id=record["order_id"], promised_delivery=record["due_date"])


@router.delete("/{quote_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def release_quote(quote_id: str, session: SessionDep, _: OrderWriter) -> Response:
    ledger.serialize(session)
    hold = _open_hold(session, quote_id)
    hold.status = "released"
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _open_hold(session, quote_id: str) -> QuoteHold:
    hold = session.scalars(select(QuoteHold).where(QuoteHold.quote_id == quote_id)).first()
    if hold is None:
        raise store.NotFound(f"quote {quote_id} does not exist")
    if hold.status != "open":
        raise store.Conflict(f"quote {quote_id} is {hold.status}", code=f"quote_{hold.status}")
    if hold.expires_at <= utcnow():
        raise store.Conflict(f"quote {quote_id} expired at {hold.expires_at.isoformat()}", code="quote_expired")
    return hold


def _out(hold: QuoteHold) -> QuoteOut:
    return QuoteOut(
        quote_id=hold.quote_id,
        status=hold.status,
        expires_at=hold.expires_at,
        promised_delivery=promised_date(hold),
        at_risk=bool(hold.answer.get("at_risk")),
        placement=hold.answer.get("placement"),
        request=hold.request,
        order_id=hold.order_id,
    )
