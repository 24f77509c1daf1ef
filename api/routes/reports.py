"""Reports for sales: dispatch monitoring per region, orders overdue against the order-process rules.

Also where sales records missing information (``info-request`` / ``info-received``),
the events the order-process report's ``information`` stage reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from api import reports
from api.deps import CallerDep, OrderWriter, SessionDep
from api.schemas import DispatchReport, ErrorOut, InfoNote, IsoDate, OrderEventOut, OrderProcessReport

router = APIRouter(prefix="/reports", tags=["reports"])
orders_router = APIRouter(prefix="/orders", tags=["orders"])

ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
DEFAULT_PERIOD_DAYS = 28  # four weeks up to today when no period is given


def bad_query(name: str, message: str) -> RequestValidationError:
    """A 422 naming the query parameter, shaped like every other bad request."""
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


@router.get("/dispatch", response_model=DispatchReport, response_model_by_alias=True, responses=ERRORS)
def dispatch_report(
    session: SessionDep,
    _: CallerDep,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="first dispatch day (default: 4 weeks ago)")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="last dispatch day (default: today)")] = None,
    group_by: Literal["region", "customer"] = "region",
) -> DispatchReport:
    """Per sales region (or customer): orders due to dispatch by the published plans, and the on-time rate."""
    end = to or reports.today()
    start = from_ or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise bad_query("from", f"from {start} is after to {end}")
    if (end - start).days >= reports.MAX_REPORT_DAYS:
        raise bad_query("to", f"the period spans more than {reports.MAX_REPORT_DAYS} days")
    return DispatchReport.model_validate(reports.dispatch_report(session, start, end, group_by))


@router.get("/order-process", response_model=OrderProcessReport, responses=ERRORS)
def order_process_report(
    session: SessionDep,
    _: CallerDep,
    as_of: Annotated[IsoDate | None, Query(description="the day to judge on (default: today)")] = None,
    include_met: Annotated[bool, Query(description="also list stages that were done, but late")] = False,
) -> OrderProcessReport:
    """Orders overdue against the order-process time rules, counted in plant working days."""
    day = as_of or reports.today()
    return OrderProcessReport.model_validate(reports.order_process_report(session, day, include_met))


@orders_router.post(
    "/{order_id}/info-request", response_model=OrderEventOut, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def request_information(order_id: str, body: InfoNote, session: SessionDep, caller: OrderWriter) -> OrderEventOut:
    """Sales found information missing and asked the customer (to be received within 2 working days)."""
    return _record(session, order_id, "info_requested", body.note, caller.actor)


@orders_router.post(
    "/{order_id}/info-received", response_model=OrderEventOut, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def receive_information(order_id: str, body: InfoNote, session: SessionDep, caller: OrderWriter) -> OrderEventOut:
    """The customer sent the missing information."""
    return _record(session, order_id, "info_received", body.note, caller.actor)


def _record(session: Session, order_id: str, kind: str, note: str, actor: str) -> OrderEventOut:
    event = reports.record_information(session, order_id, kind, note, actor)
    session.commit()
    return OrderEventOut.model_validate(event, from_attributes=True)
