"""Making a plan, the one way every caller does it: the API's jobs, the nightly
``paichan replan`` and (later) scenarios.

snapshot with holds and ledger → solve → validate → record → (publish and re-place the ledger)

* :func:`new_job` snapshots the live orders, every confirmed order the ledger keeps
  room for among them, and open quote holds as confirmed orders due on their promised
  dates, so no plan can forget a promise;
* :func:`run_job` solves the snapshot against its baseline, validates the schedule
  independently and records both;
* :func:`publish` checks the plan again, makes it the one the shop follows and
  re-places the holds and promises it does not carry.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from api import ledger, store
from api.db import Database, PlanJob, utcnow
from api.promising import Promiser, hold_as_order, open_holds
from solver import engine, io
from solver.validation import validate_schedule

log = logging.getLogger(__name__)


@dataclass
class PlanParameters:
    time_limit_s: float
    frozen_days: int | None = None
    seed: int = 0
    baseline: str | None = None  # "current", a plan id, or None
    name: str = ""
    note: str = ""
    scenario_id: str | None = None  # a what-if's plan: published only by applying the scenario


def snapshot(session: Session) -> dict[str, Any]:
    """The live dataset with open holds as confirmed orders: what a plan is made of."""
    document = store.dataset_document(session)
    document["orders"] += [hold_as_order(hold) for hold in open_holds(session)]  # held room stays held
    return document


def new_job(
    session: Session,
    parameters: PlanParameters,
    actor: str,
    status: str = "queued",
    document: dict[str, Any] | None = None,
) -> PlanJob:
    """A plan job with its snapshot (``document``, a scenario's edited copy, else the live one) and
    baseline, committed; nothing is solved yet."""
    baseline = store.get_plan(session, parameters.baseline).plan_id if parameters.baseline is not None else None
    job = PlanJob(
        plan_id=uuid.uuid4().hex[:12],
        status=status,
        created_by=actor,
        parameters={
            "time_limit_s": parameters.time_limit_s,
            "frozen_days": parameters.frozen_days,
            "seed": parameters.seed,
            **{k: v for k in ("name", "note", "scenario_id") if (v := getattr(parameters, k))},
        },
        baseline_plan_id=baseline,
        input_snapshot=document if document is not None else snapshot(session),
        progress={},
    )
    session.add(job)
    session.commit()
    return job


Progress = Callable[[engine.Progress], None]


def run_job(
    database: Database,
    plan_id: str,
    solver_workers: int,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    owner: str | None = None,
) -> engine.SolveResult | None:
    """Solve a queued job's snapshot, validate and record the schedule; None if it was not queued
    (or another process claimed it first). ``owner`` names the process that runs it."""
    stop = stop or threading.Event()
    with database.sessions() as session:
        job = session.get(PlanJob, plan_id)
        if job is None or job.status != "queued":
            return None
        snapshot_document, parameters = job.input_snapshot, dict(job.parameters)
        baseline = baseline_schedule(session, job.baseline_plan_id)
        if stop.is_set() or job.cancel_requested:
            job.status, job.finished_at = "cancelled", utcnow()
            session.commit()
            return None
        # the claim: one process only turns a queued job into a running one
        now = utcnow()
        claim = update(PlanJob).where(PlanJob.plan_id == plan_id, PlanJob.status == "queued")
        claim = claim.values(status="running", started_at=now, owner=owner or job.owner, heartbeat_at=now)
        claimed = session.execute(claim, execution_options={"synchronize_session": False}).rowcount == 1
        session.commit()
        if not claimed:
            return None
    dataset = io.load_json_document(snapshot_document, "$")
    params = engine.SolveParams(
        time_limit=parameters["time_limit_s"],
        workers=solver_workers,
        seed=parameters.get("seed", 0),
        frozen_days=parameters.get("frozen_days"),
    )
    result = engine.solve(dataset, params, previous=baseline, progress=progress, stop=stop)
    violations = validate_schedule(dataset, result.schedule, previous=baseline, frozen_days=params.frozen_days)
    with database.sessions() as session:
        job = session.get(PlanJob, plan_id)
        job.status = "cancelled" if stop.is_set() else "succeeded"
        job.finished_at, job.schedule = utcnow(), result.schedule
        job.summary, job.valid = summary_of(result.schedule), not violations
        job.error = "; ".join(str(v) for v in violations[:20]) or None
        job.progress = {
            **(job.progress or {}),
            "elapsed": result.seconds,
            "best_objective": {k: result.objective[k] for k in ("unscheduled_priority", "weighted_days_late")},
            "bound": result.bound,
        }
        session.commit()
    return result


def publish(
    session: Session, promiser: Promiser, job: PlanJob, actor: str, scenario_applied: bool = False
) -> dict[str, int]:
    """Make a finished, valid plan the one the shop follows; holds and promises are re-placed around it.

    Raises :class:`store.Conflict` for an unfinished or invalid plan, and for a scenario's plan
    unless the scenario is being applied (its edits are not in the live data otherwise); commits.
    """
    scenario_id = job.parameters.get("scenario_id")
    if scenario_id and not scenario_applied:
        raise store.Conflict(
            f"plan {job.plan_id} is scenario {scenario_id}'s what-if: apply the scenario to publish it "
            f"(POST /v1/scenarios/{scenario_id}/apply)",
            code="scenario_plan",
        )
    if job.status not in ("succeeded", "cancelled") or job.schedule is None:
        raise store.Conflict(
            f"plan {job.plan_id} is {job.status}: only a finished plan can be published", code="plan_not_finished"
        )
    violations = validate_schedule(
        io.load_json_document(job.input_snapshot, "$"),
        job.schedule,
        previous=baseline_schedule(session, job.baseline_plan_id),
        frozen_days=job.parameters.get("frozen_days"),
    )
    if violations:
        raise store.Conflict(
            f"plan {job.plan_id} breaks {len(violations)} rule(s)",
            code="plan_invalid",
            violations=[str(v) for v in violations[:50]],
        )
    ledger.serialize(session)
    store.publish(session, job, actor)
    counts = ledger.reconcile(session, promiser, job)
    session.commit()
    log.info("plan %s published by %s; ledger: %s", job.plan_id, actor, counts)
    return counts


def summary_of(schedule: dict[str, Any]) -> dict[str, Any]:
    """The KPIs and objective planners compare plans by."""
    return {
        "status": schedule["status"],
        "objective": schedule["objective"],
        "bound": schedule["bound"],
        "kpis": schedule["kpis"],
        "warnings": schedule["warnings"],
    }


def baseline_schedule(session: Session, plan_id: str | None) -> dict[str, Any] | None:
    if plan_id is None:
        return None
    job = session.get(PlanJob, plan_id)
    return job.schedule if job is not None else None
