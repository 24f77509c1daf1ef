"""What-ifs and exceptions on a copy of the live data; applied only when the planner says so.

A scenario snapshots the live orders (with the open holds, like every plan), applies its
edits to that copy (:func:`solver.scenario.apply_edits`) and queues a plan for it with the
published plan as its baseline (stability, the frozen window). Nothing live changes until
``apply``: then the edits go into the live data — each recorded in the order's history with
the scenario's name as the reason — and the scenario's plan is published, unless the live
data changed since the scenario was made (409: its plan would not match).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger, pins, planning, rules, store
from api.db import OrderRow, PlanJob, Scenario, by_order_id, master_row, utcnow
from api.promising import Promiser
from api.schemas import utc_text
from solver import io
from solver import scenario as whatif

MASTER_EDITS = ("line_hours", "arrival")


def live_fingerprint(session: Session) -> str:
    """A digest of the live master data and orders: any change to them changes it."""
    document = store.dataset_document(session)
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def create(session: Session, body: dict[str, Any], actor: str) -> Scenario:
    """Edit a copy of the live data, check it like a dataset, and queue its plan; commits."""
    live = planning.snapshot(session)
    edited = whatif.apply_edits(live, body["edits"])
    io.load_json_document(edited, "$")  # every problem the edits cause, located, before anything is stored
    scenario_id = uuid.uuid4().hex[:12]
    kind = body.get("kind", "scenario")
    frozen = body.get("frozen_days")
    if frozen is None and kind == "exception":
        frozen = live["plant"].get("frozen_days", 0)  # an exception keeps the shop's frozen window
    published = store.published_plan_id(session)
    parameters = planning.PlanParameters(
        body["time_limit_s"],
        frozen,
        baseline=published,
        name=body["name"],
        scenario_id=scenario_id,
    )
    job = planning.new_job(session, parameters, actor, document=edited)
    row = Scenario(
        scenario_id=scenario_id,
        name=body["name"],
        kind=kind,
        edits=body["edits"],
        plan_id=job.plan_id,
        base_plan_id=published,
        live_fingerprint=live_fingerprint(session),
        created_by=actor,
    )
    session.add(row)
    session.commit()
    return row


def get(session: Session, scenario_id: str) -> Scenario:
    row = session.get(Scenario, scenario_id)
    if row is None:
        raise store.NotFound(f"scenario {scenario_id} does not exist")
    return row


def listing(session: Session, limit: int = 50) -> list[Scenario]:
    return list(session.scalars(select(Scenario).order_by(Scenario.created_at.desc()).limit(limit)))


def answer(session: Session, row: Scenario) -> dict[str, Any]:
    """The scenario with its plan's status and, once it has a schedule, the comparison."""
    job = session.get(PlanJob, row.plan_id)
    if (
        row.comparison is None
        and job is not None
        and job.schedule is not None
        and job.status in ("succeeded", "cancelled")
    ):
        row.comparison = _compare(session, row, job)
        session.commit()
    return {
        "scenario_id": row.scenario_id,
        "name": row.name,
        "kind": row.kind,
        "status": row.status,
        "edits": row.edits,
        "plan_id": row.plan_id,
        "plan_status": job.status if job else "missing",
        "progress": job.progress if job else {},
        "valid": job.valid if job else None,
        "base_plan_id": row.base_plan_id,
        "created_by": row.created_by,
        "created_at": utc_text(row.created_at),
        "closed_at": utc_text(row.closed_at) if row.closed_at else None,
        "live_changed": row.status == "open" and live_fingerprint(session) != row.live_fingerprint,
        **(row.comparison or {"kpi_deltas": {}, "changes": [], "notify": []}),
    }


def _compare(session: Session, row: Scenario, job: PlanJob) -> dict[str, Any]:
    base = planning.baseline_schedule(session, row.base_plan_id) or {"orders": [], "unscheduled": [], "kpis": {}}
    dataset = io.load_json_document(job.input_snapshot, "$")
    return whatif.compare(dataset, base, job.schedule, row.edits)


def apply(session: Session, promiser: Promiser, row: Scenario, actor: str) -> dict[str, int]:
    """Put the edits into the live data and publish the scenario's plan; commits."""
    if row.status != "open":
        raise store.Conflict(f"scenario {row.scenario_id} is {row.status}", code=f"scenario_{row.status}")
    job = store.get_plan(session, row.plan_id)
    if job.status not in ("succeeded", "cancelled") or not job.valid:
        raise store.Conflict(
            f"scenario {row.scenario_id}'s plan is {job.status}{'' if job.valid else ' and not valid'}: "
            "it can be applied once it has finished with a valid plan",
            code="scenario_not_ready",
        )
    if live_fingerprint(session) != row.live_fingerprint:
        raise store.Conflict(
            f"the live data changed since scenario {row.scenario_id} was made: its plan no longer matches; "
            "make the scenario again",
            code="scenario_stale",
        )
    if row.comparison is None:
        row.comparison = _compare(session, row, job)
    ledger.serialize(session)
    reason = f"scenario {row.name}" if row.kind == "scenario" else f"exception {row.name}"
    _apply_master_edits(session, [e for e in row.edits if e["kind"] in MASTER_EDITS], actor)
    for edit in row.edits:
        if edit["kind"] not in MASTER_EDITS:
            _apply_order_edit(session, edit, reason, actor)
    if row.kind == "exception":
        _record_moves(session, row, reason, actor)
    session.flush()
    row.status, row.closed_at = "applied", utcnow()
    return planning.publish(session, promiser, job, actor, scenario_applied=True)


def _apply_master_edits(session: Session, edits: list[dict[str, Any]], actor: str) -> None:
    if not edits:
        return
    master = master_row(session)
    master.document = whatif.apply_edits(dict(master.document), edits)
    master.version, master.updated_at, master.updated_by = master.version + 1, utcnow(), actor


def _apply_order_edit(session: Session, edit: dict[str, Any], reason: str, actor: str) -> None:
    kind = edit["kind"]
    if kind == "order":
        changes = {k: edit[k] for k in whatif.ORDER_FIELDS if k in edit}
        store.change_order(session, edit["order_id"], changes, reason, actor)
    elif kind == "new_order":
        record = {"status": "confirmed", **edit["order"]}
        if record["status"] == "confirmed":
            rules.check_can_confirm(session, record)
        store.create_order(session, {**record, "reason": reason}, actor)
    elif kind == "cancel_order":
        store.move_order(session, edit["order_id"], "cancelled", None, reason, actor)
        ledger.drop_promise(session, edit["order_id"])
    elif kind == "pin":
        start = dt.date.fromisoformat(edit["start_date"])
        pins.pin_order(session, edit["order_id"], edit["line_id"], start, reason, actor)


def _record_moves(session: Session, row: Scenario, reason: str, actor: str) -> None:
    """An exception's every moved order keeps it in its history: what moved, and by how much."""
    for change in (row.comparison or {}).get("changes", []):
        if by_order_id(session, OrderRow, change["order_id"]) is not None:
            detail = {k: change[k] for k in ("before", "after", "days_later")}
            store.record_event(session, change["order_id"], actor, "exception", detail, reason)


def discard(session: Session, row: Scenario) -> None:
    if row.status != "open":
        raise store.Conflict(f"scenario {row.scenario_id} is {row.status}", code=f"scenario_{row.status}")
    row.status, row.closed_at = "discarded", utcnow()
