"""What the routes and the nightly command do to the database, one transaction each.

Master data and orders go in and out as the dataset document of FORMATS.md,
so the planning engine sees exactly what the files would give it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.db import MasterData, OrderEvent, OrderRow, PlanJob, Publication, by_order_id, master_row, utcnow
from solver import io
from solver.domain import Dataset, DatasetError, Problem

ORDER_FIELDS = (
    "order_id",
    "product_id",
    "quantity",
    "due_date",
    "customer_id",
    "priority",
    "status",
    "earliest_start",
    "pinned_line",
    "order_type",
    "deposit_ratio",
    "pinned_start",
)

LIFECYCLE = {
    "received": ("reviewed", "cancelled"),
    "reviewed": ("confirmed", "cancelled"),
    "confirmed": ("in_production", "cancelled"),
    "in_production": ("produced",),
    "produced": ("inspected",),
    "inspected": ("shipped",),
    "shipped": ("delivered",),
    "delivered": ("closed",),
    "closed": (),
    "cancelled": (),
}


class NotFound(LookupError):
    """An id that names nothing: HTTP 404."""


class Conflict(ValueError):
    """A request that contradicts the current state: HTTP 409, with what would be allowed."""

    def __init__(self, message: str, **detail: Any):
        super().__init__(message)
        self.detail = {"message": message, **detail}


# -- master data and orders as a dataset ------------------------------------------------


def order_record(row: OrderRow) -> dict[str, Any]:
    """An order as a dataset row (dates as ISO strings, unset fields left out)."""
    record = {}
    for name in ORDER_FIELDS:
        value = getattr(row, name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        if value is not None:
            record[name] = value
    return record


def master_document(session: Session) -> dict[str, Any] | None:
    master = master_row(session)
    return dict(master.document) if master else None


def dataset_document(session: Session) -> dict[str, Any]:
    """Master data plus every order, as one JSON document keyed by file stem."""
    document = master_document(session)
    if document is None:
        raise NotFound("no dataset has been loaded yet (PUT /v1/dataset)")
    rows = session.scalars(select(OrderRow).order_by(OrderRow.order_id)).all()
    document["orders"] = [order_record(row) for row in rows]
    return document


def current_dataset(session: Session) -> Dataset:
    return io.load_json_document(dataset_document(session), "$")


def replace_dataset(session: Session, dataset: Dataset, actor: str, remove_orders: bool = False) -> dict[str, int]:
    """Replace master data and orders; orders keep their history, changes are recorded.

    An upload that would remove orders past ``received`` (reviewed, confirmed, in production...)
    is a :class:`Conflict` (``would_remove_orders``) before anything is written, unless
    ``remove_orders`` says so: an older export must not silently drop what was agreed since.
    """
    document = io.dataset_document(dataset)
    orders = {o["order_id"]: o for o in document.pop("orders")}
    if not remove_orders:
        _refuse_removals(session, set(orders))
    master = master_row(session)
    if master is None:
        session.add(MasterData(document=document, version=1, updated_by=actor))
    else:
        master.document, master.version = document, master.version + 1
        master.updated_at, master.updated_by = utcnow(), actor
    existing = {row.order_id: row for row in session.scalars(select(OrderRow))}
    counts = {"orders_added": 0, "orders_changed": 0, "orders_removed": 0}
    for order_id, record in orders.items():
        row = existing.pop(order_id, None)
        if row is None:
            session.add(_new_row(record))
            _event(session, order_id, actor, "import", {"record": record}, "dataset import")
            counts["orders_added"] += 1
            continue
        changes = _apply(row, record)
        if changes:
            _event(session, order_id, actor, "import", {"changes": changes}, "dataset import")
            counts["orders_changed"] += 1
    for order_id, row in existing.items():
        session.delete(row)
        _event(session, order_id, actor, "removed", {"record": order_record(row)}, "not in the imported dataset")
        counts["orders_removed"] += 1
    return counts


def _refuse_removals(session: Session, kept: set[str]) -> None:
    gone = session.execute(
        select(OrderRow.order_id, OrderRow.status).where(OrderRow.status != "received").order_by(OrderRow.order_id)
    ).all()
    removed = [{"order_id": order_id, "status": status} for order_id, status in gone if order_id not in kept]
    if removed:
        raise Conflict(
            f"the dataset would remove {len(removed)} order(s) past received, e.g. {removed[0]['order_id']} "
            f"({removed[0]['status']}); upload them too, or say so with ?remove_orders=true",
            code="would_remove_orders",
            count=len(removed),
            orders=removed[:200],
        )


def _new_row(record: dict[str, Any]) -> OrderRow:
    row = OrderRow(order_id=record["order_id"])
    _apply(row, record)
    return row


def _typed(name: str, value: Any) -> Any:
    if name in ("due_date", "earliest_start", "pinned_start") and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _apply(row: OrderRow, record: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the row's fields from ``record``; the changes as ``{field: [before, after]}``."""
    defaults = {"priority": 1, "status": "confirmed", "order_type": "regular"}
    changes = {}
    for name in ORDER_FIELDS[1:]:
        new = _typed(name, record.get(name, defaults.get(name)))
        old = getattr(row, name)
        if new != old:
            changes[name] = [_plain(old), _plain(new)]
            setattr(row, name, new)
    if changes:
        row.updated_at = utcnow()
    return changes


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _event(session: Session, order_id: str, actor: str, kind: str, detail: dict, reason: str) -> None:
    session.add(OrderEvent(order_id=order_id, actor=actor, kind=kind, detail=detail, reason=reason))


def record_event(session: Session, order_id: str, actor: str, kind: str, detail: dict, reason: str) -> None:
    """An entry in the order's audited history."""
    _event(session, order_id, actor, kind, detail, reason)


def check_with_orders(session: Session, records: list[dict[str, Any]]) -> Dataset:
    """The current master data with ``records`` as its orders, checked like a file."""
    document = master_document(session)
    if document is None:
        raise NotFound("no dataset has been loaded yet (PUT /v1/dataset)")
    document["orders"] = records
    return io.load_json_document(document, "$")


# -- orders ---------------------------------------------------------------------------------


def get_order(session: Session, order_id: str) -> OrderRow:
    row = by_order_id(session, OrderRow, order_id)
    if row is None:
        raise NotFound(f"order {order_id} does not exist")
    return row


def history(session: Session, order_id: str) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)))


def create_order(session: Session, record: dict[str, Any], actor: str) -> OrderRow:
    if by_order_id(session, OrderRow, record["order_id"]) is not None:
        raise Conflict(f"order {record['order_id']} already exists", code="order_exists")
    others = [order_record(r) for r in session.scalars(select(OrderRow))]
    _checked(session, [*others, record], len(others))
    _check_pin(session, record)
    row = _new_row(record)
    session.add(row)
    _event(session, row.order_id, actor, "created", {"record": record}, record.get("reason", ""))
    return row


def _checked(session: Session, records: list[dict[str, Any]], index: int) -> None:
    """Check the orders against master data; problems of the order at ``index`` only."""
    try:
        check_with_orders(session, records)
    except DatasetError as error:
        own = [p for p in error.problems if p.row in (f"[{index}]", None)]
        if own:
            raise DatasetError([_body_problem(p) for p in own]) from None


def _body_problem(problem: Problem) -> Problem:
    """A dataset problem of the request's own order, located like any bad field of the body."""
    return Problem("body", None, f"$.{problem.column}" if problem.column else "$", problem.message)


def _has_routing(session: Session, product_id: str | None, line_id: str | None) -> bool:
    routings = (master_document(session) or {}).get("routings", [])
    return any(r["product_id"] == product_id and r["line_id"] == line_id for r in routings)


def _check_pin(session: Session, record: dict[str, Any]) -> None:
    """An in-production order runs on a line that can make its product."""
    if record.get("status") != "in_production":
        return
    if not _has_routing(session, record.get("product_id"), record.get("pinned_line")):
        message = f"line {record.get('pinned_line')} has no routing for product {record.get('product_id')}"
        raise DatasetError([Problem("body", None, "$.pinned_line", message)])


def etag(row: OrderRow) -> str:
    """The order's ``ETag``: its version, weak (GET and PATCH answer different bodies of one state)."""
    return f'W/"{row.version}"'


def check_if_match(row: OrderRow, if_match: str | None) -> None:
    """Refuse a change made from an older version than the order's (``If-Match``): 409 ``order_changed``.

    ``If-Match`` lists entity tags, ``W/"3"`` or ``"3"`` (a bare ``3`` is taken too), or ``*``.
    """
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or str(row.version) in {tag.removeprefix("W/").strip('"') for tag in tags}:
        return
    raise _changed(row.order_id, row.version, f" (If-Match: {if_match})")


def _changed(order_id: str, version: int | None, asked: str = "") -> Conflict:
    message = f"order {order_id} was changed by someone else{asked}: it is at version {version}; reload and retry"
    return Conflict(message, code="order_changed", order_id=order_id, version=version)


@contextmanager
def order_guard(session: Session, order_id: str, creating: bool = False) -> Iterator[None]:
    """Turn a lost race on the order into a 409 and roll back.

    A change made from a version another request has since replaced (``UPDATE ... WHERE
    version = <read>`` matched no row) is ``order_changed`` with the current version; when
    ``creating``, an insert of an id another request has just inserted is ``order_exists``.
    """
    try:
        yield
    except StaleDataError:
        session.rollback()
        version = session.scalar(select(OrderRow.version).where(OrderRow.order_id == order_id))
        raise _changed(order_id, version) from None
    except IntegrityError:
        if not creating:
            raise  # the app's handler answers 409 for any other clash
        session.rollback()
        if session.scalar(select(OrderRow.version).where(OrderRow.order_id == order_id)) is None:
            raise
        raise Conflict(f"order {order_id} already exists", code="order_exists") from None


def change_order(session: Session, order_id: str, changes: dict[str, Any], reason: str, actor: str) -> OrderRow:
    row = get_order(session, order_id)
    if row.status in ("closed", "cancelled"):
        raise Conflict(f"order {order_id} is {row.status}: it can no longer change")
    record = {**order_record(row), **{k: _plain(v) for k, v in changes.items()}}
    records = [order_record(r) for r in session.scalars(select(OrderRow)) if r.order_id != order_id]
    _checked(session, [*records, record], len(records))
    _check_pin(session, record)
    applied = _apply(row, record)
    if applied:
        _event(session, order_id, actor, "change", {"changes": applied}, reason)
    return row


def move_order(
    session: Session,
    order_id: str,
    status: str,
    line_id: str | None,
    reason: str,
    actor: str,
    date: dt.date | None = None,
) -> OrderRow:
    """Move an order along its lifecycle on ``date`` (today by default); an illegal move is a :class:`Conflict`."""
    row = get_order(session, order_id)
    allowed = LIFECYCLE[row.status]
    if status not in allowed:
        raise Conflict(f"order {order_id} cannot move from {row.status} to {status}", allowed=list(allowed))
    if status == "in_production":
        if not line_id:
            raise Conflict("moving to in_production needs the line (line_id)", allowed=list(allowed))
        if not _has_routing(session, row.product_id, line_id):
            raise Conflict(f"line {line_id} has no routing for product {row.product_id}", allowed=list(allowed))
        row.pinned_line = line_id
    before = row.status
    row.status, row.updated_at = status, utcnow()
    # the day it happened, which the dispatch report reads: it may be recorded a day or two later
    happened = (date or dt.date.today()).isoformat()
    detail = {"from": before, "to": status, "line_id": line_id, "date": happened}
    _event(session, order_id, actor, "status", detail, reason)
    return row


# -- plans ------------------------------------------------------------------------------------


def get_plan(session: Session, plan_id: str) -> PlanJob:
    if plan_id == "current":
        plan_id = published_plan_id(session) or ""
        if not plan_id:
            raise NotFound("no plan has been published yet")
    job = session.get(PlanJob, plan_id)
    if job is None:
        raise NotFound(f"plan {plan_id} does not exist")
    return job


def published_plan_id(session: Session) -> str | None:
    newest = session.scalars(select(Publication).order_by(Publication.id.desc()).limit(1)).first()
    return newest.plan_id if newest else None


def publish(session: Session, job: PlanJob, actor: str) -> None:
    session.add(Publication(plan_id=job.plan_id, by=actor))


def reset_unfinished_jobs(session: Session, owner: str, is_gone: Callable[[PlanJob], bool]) -> list[str]:
    """Jobs whose owner ``is_gone``: running ones end failed (interrupted), queued ones become
    ``owner``'s and are returned, oldest first, to requeue; other processes' live jobs are left alone.

    Each change is conditional on the heartbeat read, so a job whose owner beats meanwhile, or
    that another process took over first, is not touched.
    """
    unfinished = select(PlanJob).where(PlanJob.status.in_(("running", "queued")), PlanJob.owner.is_distinct_from(owner))
    taken = []
    for job in session.scalars(unfinished.order_by(PlanJob.created_at)).all():
        if not is_gone(job):
            continue
        unchanged = update(PlanJob).where(
            PlanJob.plan_id == job.plan_id,
            PlanJob.status == job.status,
            PlanJob.owner.is_(None) if job.owner is None else PlanJob.owner == job.owner,
            PlanJob.heartbeat_at.is_(None) if job.heartbeat_at is None else PlanJob.heartbeat_at == job.heartbeat_at,
        )
        if job.status == "running":
            session.execute(unchanged.values(status="failed", error="interrupted", finished_at=utcnow()))
        elif session.execute(unchanged.values(owner=owner, heartbeat_at=utcnow())).rowcount == 1:
            taken.append(job.plan_id)
    return taken


def retry_or_fail_lost_job(session: Session, job: PlanJob, max_attempts: int, queued_owner: str) -> bool:
    """A running job whose worker is gone: queued again for another try (True), or failed with the
    reason once it has been tried ``max_attempts`` times. Conditional on the owner and heartbeat
    read, so a job whose worker beats meanwhile, or that another process handled first, is left alone."""
    unchanged = update(PlanJob).where(
        PlanJob.plan_id == job.plan_id,
        PlanJob.status == "running",
        PlanJob.owner.is_(None) if job.owner is None else PlanJob.owner == job.owner,
        PlanJob.heartbeat_at.is_(None) if job.heartbeat_at is None else PlanJob.heartbeat_at == job.heartbeat_at,
    )
    if job.attempts >= max_attempts:
        reason = f"interrupted: its worker was lost during attempt {job.attempts} of {max_attempts}"
        session.execute(unchanged.values(status="failed", error=reason, finished_at=utcnow()))
        return False
    again = unchanged.values(status="queued", owner=queued_owner, heartbeat_at=None, started_at=None)
    return session.execute(again).rowcount == 1


def lost_running_jobs(session: Session, is_gone: Callable[[PlanJob], bool]) -> list[PlanJob]:
    """Running jobs whose owner ``is_gone``, oldest first."""
    running = select(PlanJob).where(PlanJob.status == "running").order_by(PlanJob.created_at)
    return [job for job in session.scalars(running).all() if is_gone(job)]


def request_cancel(session: Session, plan_id: str) -> bool:
    """Ask a job to stop, whichever process runs it; a queued job is cancelled at once (True)."""
    session.execute(update(PlanJob).where(PlanJob.plan_id == plan_id).values(cancel_requested=True))
    queued = update(PlanJob).where(PlanJob.plan_id == plan_id, PlanJob.status == "queued")
    return session.execute(queued.values(status="cancelled", finished_at=utcnow())).rowcount == 1
