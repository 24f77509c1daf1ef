"""Making a plan, the one way every caller does it: the API's jobs, the nightly
``paichan replan`` and (later) scenarios.

snapshot with holds and ledger → solve → validate → record → (publish and re-place the ledger)

* :func:`new_job` snapshots the live orders, every confirmed order the ledger keeps
  room for among them, and open quote holds as confirmed orders due on their promised
  dates, so no plan can forget a promise;
* :func:`run_job` solves the snapshot against its baseline, validates the schedule
  independently and records both;
* :func:`publish` checks the plan again, makes it the one the shop follows and
  re-places the holds and promises it does not carry. A plan made on data that has
  changed since (:func:`changes_since`) is refused, or checked against the current data
  first when the caller asks to revalidate it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import ledger, store
from api.db import Database, PlanJob, master_row, utcnow
from api.promising import HOLD_PREFIX, Promiser, hold_as_order, open_holds
from solver import engine, io
from solver.domain import PLANNED_STATUSES, Dataset, DatasetError
from solver.validation import Violation, validate_schedule

log = logging.getLogger(__name__)


class Solved(NamedTuple):
    """A job's solve and what the independent validator found in its plan (nothing: valid)."""

    result: engine.SolveResult
    violations: list[Violation]


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
        dataset_version=master_version(session),
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
) -> Solved | None:
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
        owner, attempt = owner or job.owner, job.attempts + 1
        claim = update(PlanJob).where(
            PlanJob.plan_id == plan_id, PlanJob.status == "queued", PlanJob.attempts == job.attempts
        )
        claim = claim.values(status="running", started_at=now, owner=owner, heartbeat_at=now, attempts=attempt)
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
    _record(database, plan_id, owner, attempt, result, violations, stop.is_set())
    return Solved(result, violations)


def _record(
    database: Database,
    plan_id: str,
    owner: str | None,
    attempt: int,
    result: engine.SolveResult,
    violations: list[Violation],
    cancelled: bool,
) -> bool:
    """Write the solve's outcome, only if the job is still this attempt's: a worker taken for lost
    whose job was failed, or queued and claimed again elsewhere, must not overwrite what happened since."""
    with database.sessions() as session:
        progress = session.scalar(select(PlanJob.progress).where(PlanJob.plan_id == plan_id)) or {}
        still_ours = update(PlanJob).where(
            PlanJob.plan_id == plan_id,
            PlanJob.status == "running",
            PlanJob.attempts == attempt,
            PlanJob.owner.is_(None) if owner is None else PlanJob.owner == owner,
        )
        written = session.execute(
            still_ours.values(
                status="cancelled" if cancelled else "succeeded",
                finished_at=utcnow(),
                schedule=result.schedule,
                summary=summary_of(result.schedule),
                valid=not violations,
                error="; ".join(str(v) for v in violations[:20]) or None,
                progress={
                    **progress,
                    "elapsed": result.seconds,
                    "best_objective": {k: result.objective[k] for k in ("unscheduled_priority", "weighted_days_late")},
                    "bound": result.bound,
                },
            ),
            execution_options={"synchronize_session": False},
        ).rowcount
        session.commit()
    if not written:
        log.warning(
            "plan %s: attempt %d's result discarded, the job was taken over or ended meanwhile", plan_id, attempt
        )
    return bool(written)


def publish(
    session: Session,
    promiser: Promiser,
    job: PlanJob,
    actor: str,
    scenario_applied: bool = False,
    revalidate: bool = False,
) -> dict[str, int]:
    """Make a finished, valid plan the one the shop follows; holds and promises are re-placed around it.

    Raises :class:`store.Conflict` for an unfinished or invalid plan, and for a scenario's plan
    unless the scenario is being applied (its edits are not in the live data otherwise); commits.
    A plan made on data that changed since is refused (``stale_plan``), unless ``revalidate``:
    then it is checked against the current data instead and published only if it passes. An
    applied scenario's plan is current by construction: its edits are what changed the data.
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
    ledger.serialize(session)  # no order or master data changes between this check and the publication
    changes = None if scenario_applied else changes_since(session, job)
    if changes is not None and not revalidate:
        raise store.Conflict(
            f"plan {job.plan_id} was made on older data: {changes.describe()}; make a new plan, or publish "
            f"with ?revalidate=true to check this one against the current data first",
            code="stale_plan",
            **changes.as_detail(),
        )
    violations = validate_schedule(
        _current_dataset(session, job) if changes is not None else io.load_json_document(job.input_snapshot, "$"),
        job.schedule,
        previous=baseline_schedule(session, job.baseline_plan_id),
        frozen_days=job.parameters.get("frozen_days"),
    )
    if violations:
        against = " on the current data" if changes is not None else ""
        raise store.Conflict(
            f"plan {job.plan_id} breaks {len(violations)} rule(s){against}",
            code="plan_invalid",
            violations=[str(v) for v in violations[:50]],
            revalidated=changes is not None,
        )
    store.publish(session, job, actor)
    counts = ledger.reconcile(session, promiser, job)
    session.commit()
    log.info("plan %s published by %s; ledger: %s", job.plan_id, actor, counts)
    return counts


def master_version(session: Session) -> int | None:
    """The live master data's version (bumped by every upload and applied master edit)."""
    master = master_row(session)
    return master.version if master is not None else None


@dataclass
class DataChanges:
    """What changed in the live data since a plan was made: its master data, its planned orders."""

    plan_version: int | None
    current_version: int | None
    master_changed: bool
    orders: list[tuple[str, str]] = field(default_factory=list)  # (order_id, added | removed | changed)

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for _, k in self.orders if k == kind) for kind in ("added", "removed", "changed")}

    def describe(self) -> str:
        parts = []
        if self.master_changed:
            parts.append(f"master data replaced since (version {self.plan_version}, now {self.current_version})")
        if self.orders:
            counts = ", ".join(f"{n} {kind}" for kind, n in self.counts().items() if n)
            parts.append(f"{len(self.orders)} order(s) changed since ({counts})")
        return "; ".join(parts)

    def as_detail(self) -> dict[str, Any]:
        return {
            "master_changed": self.master_changed,
            "dataset_version": self.plan_version,
            "current_version": self.current_version,
            "orders_changed": self.counts(),
            "orders": [{"order_id": order_id, "change": kind} for order_id, kind in self.orders[:100]],
        }


def changes_since(session: Session, job: PlanJob) -> DataChanges | None:
    """The changes to the live data since ``job`` was made that bear on its plan; None if there are none.

    Master data counts when its version moved and its content differs (an identical upload is
    no change); an order counts when it is planned (confirmed or in production) in the plan's
    snapshot or now, and was added, removed or changed since. Open holds do not count: publishing
    places them again around the plan.
    """
    snapshot_document = job.input_snapshot
    current = master_version(session)
    master_changed = False
    if job.dataset_version is None or job.dataset_version != current:
        master = store.master_document(session) or {}
        master_changed = {k: v for k, v in snapshot_document.items() if k != "orders"} != master
    then = {o["order_id"]: o for o in snapshot_document.get("orders", []) if not o["order_id"].startswith(HOLD_PREFIX)}
    now = {row["order_id"]: row for row in store.dataset_document(session)["orders"]}
    orders = []
    for order_id in sorted(then.keys() | now.keys()):
        before, after = then.get(order_id), now.get(order_id)
        if before == after or not any(r and r.get("status") in PLANNED_STATUSES for r in (before, after)):
            continue
        orders.append((order_id, "added" if before is None else "removed" if after is None else "changed"))
    if not master_changed and not orders:
        return None
    return DataChanges(job.dataset_version, current, master_changed, orders)


def _current_dataset(session: Session, job: PlanJob) -> Dataset:
    """The live data with the holds the plan carries: what a stale plan is checked against."""
    document = store.dataset_document(session)
    document["orders"] += [o for o in job.input_snapshot.get("orders", []) if o["order_id"].startswith(HOLD_PREFIX)]
    try:
        return io.load_json_document(document, "$")
    except DatasetError as error:  # a hold of the plan whose product is gone, say: the plan cannot stand
        raise store.Conflict(
            f"plan {job.plan_id} cannot be checked against the current data",
            code="plan_invalid",
            violations=[str(p) for p in error.problems[:50]],
            revalidated=True,
        ) from None


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
