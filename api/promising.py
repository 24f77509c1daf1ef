"""Answers to order review against the published plan, with the promise ledger booked in.

The ledger is the room the published plan leaves, less what open quote holds and
promises (confirmed orders the plan does not carry yet) keep. Building it costs a
model build, so it is cached per plan and ledger version: every change to holds or
promises bumps the version (:func:`api.ledger.serialize`), and a cached ledger is
also dropped once one of its holds expires. An answer then costs an insertion.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import store
from api.db import LedgerLock, OrderRow, Promise, Publication, QuoteHold, utcnow
from solver import io
from solver.domain import Dataset, DatasetError, Problem
from solver.promise import (
    BUSY,
    NOT_ASKED,
    WITH_HOLDS,
    Answer,
    PlanLedger,
    Prospect,
    ResequencingNote,
    earliest_delivery_fixed,
    earliest_delivery_resequenced,
    plan_ledger,
)

RESEQUENCE_SECONDS = 0.5
BUSY_REQUESTS = 8  # requests in the server beyond which no answer spends CPU on re-sequencing
HOLD_PREFIX = "HOLD-"  # a hold's order id in a plan's snapshot


@dataclass
class PlannedOrders:
    """A published plan's input and schedule, with what it carries per order."""

    plan_id: str
    dataset: Dataset
    schedule: dict[str, Any]
    entries: dict[str, dict[str, Any]]  # order id → schedule entry


@dataclass
class PlanView:
    """The published plan with every reservation booked: what answers and holds place into."""

    plan: PlannedOrders
    ledger: PlanLedger
    holds: list[QuoteHold]
    promises: list[Promise]
    valid_until: dt.datetime  # the first expiry among its holds

    @property
    def plan_id(self) -> str:
        return self.plan.plan_id

    @property
    def dataset(self) -> Dataset:
        return self.plan.dataset


def ledger_version(session: Session) -> int:
    return session.scalars(select(LedgerLock.version)).one()


def ledger_state(session: Session) -> tuple[int, str | None]:
    """The ledger's version and the published plan, in one round trip (every answer asks)."""
    newest = select(Publication.plan_id).order_by(Publication.id.desc()).limit(1).scalar_subquery()
    version, plan_id = session.execute(select(LedgerLock.version, newest)).one()
    return version, plan_id


def open_holds(session: Session) -> list[QuoteHold]:
    now = utcnow()
    query = select(QuoteHold).where(QuoteHold.status == "open", QuoteHold.expires_at > now)
    return list(session.scalars(query.order_by(QuoteHold.created_at, QuoteHold.quote_id)))


def all_promises(session: Session) -> list[Promise]:
    return list(session.scalars(select(Promise).order_by(Promise.created_at, Promise.order_id)))


def hold_booking(hold: QuoteHold) -> dict[str, Any]:
    return {"product_id": hold.request["product_id"], "quantity": hold.request["quantity"]}


def promised_date(hold: QuoteHold) -> str | None:
    """The date a hold promises: the requested one when it was met, else the earliest."""
    return hold.answer.get("promised_delivery") or hold.answer.get("earliest_delivery_fixed")


def hold_as_order(hold: QuoteHold) -> dict[str, Any]:
    """An open hold as a confirmed order of a plan's snapshot, due on its promised date."""
    request = hold.request
    record = {
        "order_id": f"{HOLD_PREFIX}{hold.quote_id}",
        "product_id": request["product_id"],
        "quantity": request["quantity"],
        "due_date": promised_date(hold) or request["due_date"],
        "priority": request.get("priority", 1),
        "status": "confirmed",
    }
    if request.get("customer_id"):
        record["customer_id"] = request["customer_id"]
    return record


def prospect_of_request(request: dict[str, Any]) -> Prospect:
    return Prospect(
        product_id=request["product_id"],
        quantity=request["quantity"],
        due_date=_as_date(request["due_date"]),
        customer_id=request.get("customer_id"),
        priority=request.get("priority", 1),
        order_type=request.get("order_type", "regular"),
        deposit_ratio=request.get("deposit_ratio"),
    )


def prospect_of_order(row: OrderRow) -> Prospect:
    return Prospect(
        product_id=row.product_id,
        quantity=row.quantity,
        due_date=row.due_date,
        customer_id=row.customer_id,
        priority=row.priority,
        order_type=row.order_type,
        deposit_ratio=row.deposit_ratio,
        order_id=row.order_id,
    )


def _as_date(value: str | dt.date) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class Promiser:
    """Feasibility answers and placements for one service; thread-safe."""

    def __init__(self, cache_size: int = 4, load: Callable[[], int] = lambda: 0):
        self._plans: OrderedDict[str, PlannedOrders] = OrderedDict()
        self._bases: OrderedDict[tuple, PlanLedger] = OrderedDict()
        self._views: OrderedDict[tuple, PlanView] = OrderedDict()
        self._lock = threading.Lock()
        self._resequencing = threading.Semaphore(1)  # one CP-SAT resequencing at a time
        self._load = load  # requests the server is handling: under a burst, re-sequencing yields the CPU
        self._cache_size = cache_size

    # -- answers ------------------------------------------------------------------------

    def answer(self, session: Session, request: dict[str, Any], keep_session: bool = False) -> dict[str, Any]:
        """The feasibility answer for ``request`` against the published plan and the ledger.

        ``keep_session`` keeps the caller's transaction (and the ledger lock it holds) open.
        """
        started = time.perf_counter()
        view = self.view(session)
        if not keep_session:
            session.close()  # the answer needs no database: give the connection back before computing
        prospect = prospect_of_request(request)
        check_known(view.dataset, prospect)
        fixed = earliest_delivery_fixed(view.dataset, view.ledger, prospect, request.get("joint_review"))
        fixed.record_resequencing(*self._resequenced(view, prospect, fixed, request.get("resequence", True)))
        answer = fixed.as_dict()
        answer["plan_id"] = view.plan_id
        answer["answer_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def _resequenced(
        self, view: PlanView, prospect: Prospect, fixed: Answer, asked: bool
    ) -> tuple[dt.date | None, ResequencingNote]:
        """The earliest delivery with committed orders re-sequenced, and what became of the attempt."""
        if not asked:
            return fixed.earliest_delivery_fixed, NOT_ASKED
        if view.holds or view.promises:
            # resequencing moves planned runs; it does not know the runs holds and promises keep
            return fixed.earliest_delivery_fixed, WITH_HOLDS
        if self._load() > BUSY_REQUESTS or not self._resequencing.acquire(blocking=False):
            return fixed.earliest_delivery_fixed, BUSY
        try:
            return earliest_delivery_resequenced(view.dataset, view.plan.schedule, prospect, fixed, RESEQUENCE_SECONDS)
        finally:
            self._resequencing.release()

    # -- the ledger ---------------------------------------------------------------------

    def view(self, session: Session, plan_id: str | None = None) -> PlanView:
        """The published plan (or ``plan_id``'s) with every open hold and promise booked."""
        version, published = ledger_state(
            session
        )  # before the rows: a view built from newer ones is only more cautious
        plan_id = plan_id or published
        if plan_id is None:
            raise store.Conflict(
                "no plan has been published yet: feasibility is answered against the published plan",
                code="no_published_plan",
            )
        key = (plan_id, version)
        with self._lock:
            cached = self._views.get(key)
        if cached is not None and utcnow() < cached.valid_until:
            return cached
        view = self._build_view(session, plan_id)
        with self._lock:
            self._views[key] = view
            while len(self._views) > self._cache_size * 4:
                self._views.popitem(last=False)
        return view

    def _build_view(self, session: Session, plan_id: str) -> PlanView:
        plan = self.plan(session, plan_id)
        holds, promises = open_holds(session), all_promises(session)
        ledger = self.base(plan, frozenset(p.order_id for p in promises)).copy()
        book_reservations(ledger, plan.dataset, holds, promises)
        expiries = [hold.expires_at for hold in holds]
        valid_until = min(expiries, default=dt.datetime.max)
        return PlanView(plan, ledger, holds, promises, valid_until)

    def plan(self, session: Session, plan_id: str) -> PlannedOrders:
        with self._lock:
            if plan_id in self._plans:
                return self._plans[plan_id]
        job = store.get_plan(session, plan_id)
        schedule = job.schedule or {"orders": []}
        planned = PlannedOrders(
            plan_id,
            io.load_json_document(job.input_snapshot, "$"),
            schedule,
            {entry["order_id"]: entry for entry in schedule.get("orders", [])},
        )
        with self._lock:
            self._plans[plan_id] = planned
            while len(self._plans) > self._cache_size:
                self._plans.popitem(last=False)
        return planned

    def base(self, plan: PlannedOrders, superseded: frozenset[str]) -> PlanLedger:
        """The plan's own room, without holds' runs and without the runs of ``superseded`` orders."""
        key = (plan.plan_id, superseded)
        with self._lock:
            if key in self._bases:
                return self._bases[key]
        ledger = plan_ledger(
            plan.dataset,
            plan.schedule,
            skip=lambda order_id: order_id.startswith(HOLD_PREFIX) or order_id in superseded,
        )
        with self._lock:
            self._bases[key] = ledger
            while len(self._bases) > self._cache_size * 2:
                self._bases.popitem(last=False)
        return ledger


def book_reservations(ledger: PlanLedger, dataset: Dataset, holds: list[QuoteHold], promises: list[Promise]) -> None:
    """Take the room of ``holds`` and ``promises`` (those that have any) from ``ledger``."""
    for hold in holds:
        if hold.answer.get("placement"):
            ledger.book(dataset, hold.answer["placement"], **hold_booking(hold))
    for promise in promises:
        if promise.placement is not None:
            ledger.book(dataset, promise.placement, promise.product_id, promise.quantity)


def check_known(dataset: Dataset, prospect: Prospect) -> None:
    problems = []
    if prospect.product_id not in dataset.product_by_id:
        unknown = prospect.product_id
        problems.append(Problem("body", None, "$.product_id", f"unknown product {unknown!r}", f"未知产品“{unknown}”"))
    if prospect.customer_id and dataset.customers and prospect.customer_id not in dataset.customer_by_id:
        unknown = prospect.customer_id
        problems.append(Problem("body", None, "$.customer_id", f"unknown customer {unknown!r}", f"未知客户“{unknown}”"))
    if problems:
        raise DatasetError(problems)
