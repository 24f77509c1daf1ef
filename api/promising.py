"""Answers to order review against the published plan, with quote holds booked in.

The published plan's dataset and the free capacity it leaves are cached per
plan and set of open holds, so an answer costs an insertion, not a reload.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import store
from api.db import QuoteHold, utcnow
from solver import io
from solver.domain import Dataset
from solver.promise import (
    BUSY,
    NOT_ASKED,
    WITH_HOLDS,
    PlanLedger,
    Prospect,
    earliest_delivery_fixed,
    earliest_delivery_resequenced,
    plan_ledger,
)

RESEQUENCE_SECONDS = 0.5


class Promiser:
    """Feasibility answers for one service; thread-safe."""

    def __init__(self, cache_size: int = 4):
        self._plans: OrderedDict[str, tuple[Dataset, dict[str, Any]]] = OrderedDict()
        self._ledgers: OrderedDict[tuple, PlanLedger] = OrderedDict()
        self._lock = threading.Lock()
        self._resequencing = threading.Semaphore(1)  # one CP-SAT resequencing at a time
        self._cache_size = cache_size

    def answer(self, session: Session, request: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        plan_id = store.published_plan_id(session)
        if plan_id is None:
            raise store.Conflict("no plan has been published yet: feasibility is answered against the published plan")
        dataset, schedule = self._plan(session, plan_id)
        holds = open_holds(session)
        session.close()  # the answer needs no database: give the connection back before computing
        ledger = self._ledger(plan_id, dataset, schedule, holds)
        prospect = Prospect(
            product_id=request["product_id"],
            quantity=request["quantity"],
            due_date=request["due_date"],
            customer_id=request.get("customer_id"),
            priority=request.get("priority", 1),
            order_type=request.get("order_type", "regular"),
            deposit_ratio=request.get("deposit_ratio"),
        )
        _check_known(dataset, prospect)
        fixed = earliest_delivery_fixed(dataset, ledger, prospect, request.get("joint_review"))
        if request.get("resequence", True) and not holds:
            fixed.record_resequencing(*self._resequence(dataset, schedule, prospect, fixed))
        else:  # capacity and rules settle on the fixed answer (feasible by either policy)
            note = NOT_ASKED if not request.get("resequence", True) else WITH_HOLDS
            fixed.record_resequencing(fixed.earliest_delivery_fixed, note)
        answer = fixed.as_dict()
        answer["plan_id"] = plan_id
        answer["answer_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def _resequence(self, dataset, schedule, prospect, fixed) -> tuple[Any, str]:
        if not self._resequencing.acquire(blocking=False):
            return fixed.earliest_delivery_fixed, BUSY
        try:
            return earliest_delivery_resequenced(dataset, schedule, prospect, fixed, RESEQUENCE_SECONDS)
        finally:
            self._resequencing.release()

    def _plan(self, session: Session, plan_id: str) -> tuple[Dataset, dict[str, Any]]:
        with self._lock:
            if plan_id in self._plans:
                return self._plans[plan_id]
        job = store.get_plan(session, plan_id)
        loaded = io.load_json_document(job.input_snapshot, "$"), job.schedule
        with self._lock:
            self._plans[plan_id] = loaded
            while len(self._plans) > self._cache_size:
                self._plans.popitem(last=False)
        return loaded

    def _ledger(self, plan_id: str, dataset: Dataset, schedule, holds: list[QuoteHold]) -> PlanLedger:
        key = (plan_id, tuple(sorted(h.quote_id for h in holds)))
        with self._lock:
            if key in self._ledgers:
                return self._ledgers[key]
        booked = [hold_booking(h) for h in holds]
        ledger = plan_ledger(dataset, schedule, booked)
        with self._lock:
            self._ledgers[key] = ledger
            while len(self._ledgers) > self._cache_size * 8:
                self._ledgers.popitem(last=False)
        return ledger


def _check_known(dataset: Dataset, prospect: Prospect) -> None:
    from solver.domain import DatasetError, Problem

    problems = []
    if prospect.product_id not in dataset.product_by_id:
        problems.append(Problem("body", None, "$.product_id", f"unknown product {prospect.product_id!r}"))
    if prospect.customer_id and dataset.customers and prospect.customer_id not in dataset.customer_by_id:
        problems.append(Problem("body", None, "$.customer_id", f"unknown customer {prospect.customer_id!r}"))
    if problems:
        raise DatasetError(problems)


def open_holds(session: Session) -> list[QuoteHold]:
    now = utcnow()
    query = select(QuoteHold).where(QuoteHold.status == "open", QuoteHold.expires_at > now)
    return list(session.scalars(query.order_by(QuoteHold.created_at)))


def hold_booking(hold: QuoteHold) -> dict[str, Any]:
    return {
        "product_id": hold.request["product_id"],
        "quantity": hold.request["quantity"],
        "placement": hold.answer["placement"],
    }


def hold_as_order(hold: QuoteHold) -> dict[str, Any]:
    """An open hold as a confirmed order of a plan's snapshot, so the next plan keeps its room."""
    request = hold.request
    record = {
        "order_id": f"HOLD-{hold.quote_id}",
        "product_id": request["product_id"],
        "quantity": request["quantity"],
        "due_date": hold.answer.get("earliest_delivery_fixed") or request["due_date"],
        "priority": request.get("priority", 1),
        "status": "confirmed",
    }
    if request.get("customer_id"):
        record["customer_id"] = request["customer_id"]
    return record
