"""Plan jobs: start a solve (202), watch it, cancel it, read its schedule, publish it."""

from __future__ import annotations

import csv
import datetime as dt
import io as stdio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import load_only

from api import planning, store
from api.db import PlanJob, Publication
from api.deps import CallerDep, Planner, PromiserDep, RunnerDep, SessionDep, SettingsDep, allowed_time_limit
from api.schemas import ErrorOut, IsoDate, PlanAccepted, PlanComparison, PlanOut, PlanRequest, Published
from solver import io
from solver import scenario as whatif

router = APIRouter(prefix="/plans", tags=["plans"])

ERRORS = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}
FINISHED = ("succeeded", "failed", "cancelled")


@router.post("", response_model=PlanAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def start_plan(
    request: PlanRequest,
    response: Response,
    http: Request,
    session: SessionDep,
    caller: Planner,
    settings: SettingsDep,
    runner: RunnerDep,
) -> PlanAccepted:
    """Snapshot the dataset and queue a solve; answers at once."""
    time_limit = allowed_time_limit(settings, caller, request.time_limit_s)
    parameters = planning.PlanParameters(
        time_limit, request.frozen_days, request.seed, request.baseline, name=request.name, note=request.note
    )
    job = planning.new_job(session, parameters, caller.actor)
    runner.submit(job.plan_id)
    response.headers["Location"] = f"{http.url.path.rstrip('/')}/{job.plan_id}"  # the plant's path if asked so
    return PlanAccepted(plan_id=job.plan_id, status=job.status)


@router.get("", response_model=list[PlanOut])
def list_plans(session: SessionDep, _: CallerDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[PlanOut]:
    # without the schedules and snapshots, which are megabytes each on a large plant
    columns = [getattr(PlanJob, name) for name in PlanOut.model_fields if hasattr(PlanJob, name)]
    query = select(PlanJob).options(load_only(*columns, raiseload=True))
    jobs = session.scalars(query.order_by(PlanJob.created_at.desc()).limit(limit))
    published = store.published_plan_id(session)
    return [_plan_out(job, published) for job in jobs]


@router.get("/{plan_id}", response_model=PlanOut, responses=ERRORS)
def get_plan(plan_id: str, session: SessionDep, _: CallerDep) -> PlanOut:
    return _plan_out(store.get_plan(session, plan_id), store.published_plan_id(session))


@router.get("/{plan_id}/schedule", responses={**ERRORS, 200: {"content": {"text/csv": {}, io.XLSX_MEDIA_TYPE: {}}}})
def get_schedule(
    plan_id: str,
    session: SessionDep,
    _: CallerDep,
    format: Literal["json", "csv", "daily", "dispatch", "xlsx"] = "json",
    lang: Annotated[Literal["zh", "en"], Query(description="workbook: language of its sheets")] = "zh",
    from_: Annotated[IsoDate | None, Query(alias="from", description="dispatch plan, daily plan: first day")] = None,
    to: Annotated[IsoDate | None, Query(description="dispatch plan, daily plan: last day")] = None,
    region: Annotated[str | None, Query(description="dispatch plan: one sales region")] = None,
    accept: Annotated[str, Header()] = "",
) -> Response:
    """The schedule document; ``format=csv`` one row per order, ``format=daily`` per line and day
    in run order (CSV, or JSON rows when the request accepts only JSON; ``from``/``to`` days),
    ``format=dispatch`` the dispatch plan (CSV, or JSON rows when the request accepts only JSON),
    ``format=xlsx`` all of them in one workbook (sheets in ``lang``)."""
    job = store.get_plan(session, plan_id)
    if job.schedule is None:
        raise store.Conflict(f"plan {job.plan_id} has no schedule yet (status {job.status})", status=job.status)
    if format == "json":
        return JSONResponse(job.schedule)
    if format == "dispatch":
        rows = _dispatch_rows(job, from_, to, region)
        if "application/json" in accept and "text/csv" not in accept:
            return JSONResponse(rows)
        return Response(_csv(rows, list(io.DISPATCH_COLUMNS)), media_type="text/csv; charset=utf-8")
    dataset = io.load_json_document(job.input_snapshot, "$")  # the names and hours the plan was made with
    if format == "csv":
        rows = io.schedule_order_rows(job.schedule, dataset)
        return Response(_csv(rows, io.order_columns(dataset)), media_type="text/csv; charset=utf-8")
    if format == "xlsx":
        headers = {"Content-Disposition": f'attachment; filename="plan-{job.plan_id}.xlsx"'}
        content = io.schedule_workbook_bytes(job.schedule, dataset, lang)
        return Response(content, media_type=io.XLSX_MEDIA_TYPE, headers=headers)
    rows = _in_days(io.daily_plan_rows(job.schedule, dataset), "date", from_, to)
    if "application/json" in accept and "text/csv" not in accept:  # the page's printable work list
        return JSONResponse(rows)
    return Response(_csv(rows, list(io.DAILY_COLUMNS)), media_type="text/csv; charset=utf-8")


def _in_days(rows: list[dict], column: str, start: dt.date | None, end: dt.date | None) -> list[dict]:
    """The rows whose ``column`` date lies in [start, end] (either end open)."""
    if start and end and start > end:
        raise RequestValidationError(
            [{"loc": ("query", "from"), "msg": f"from {start} is after to {end}", "type": "value_error"}]
        )
    return [
        r for r in rows if (not start or r[column] >= start.isoformat()) and (not end or r[column] <= end.isoformat())
    ]


def _dispatch_rows(job: PlanJob, start: dt.date | None, end: dt.date | None, region: str | None) -> list[dict]:
    """The plan's dispatch plan, with the customers and regions of the data it was made from."""
    rows = io.dispatch_plan_rows(job.schedule or {"orders": []}, io.load_json_document(job.input_snapshot, "$"))
    rows = _in_days(rows, "dispatch_date", start, end)
    if region is not None:
        rows = [r for r in rows if r["region"] == region]
    return rows


@router.get("/{plan_id}/compare/{other_id}", response_model=PlanComparison, responses=ERRORS)
def compare_plans(plan_id: str, other_id: str, session: SessionDep, _: CallerDep) -> PlanComparison:
    """Plan ``other_id`` against plan ``plan_id``: KPI deltas (before: ``plan_id``) and the orders whose
    line, run or delivery differ, explained with the data ``other_id`` was made from."""
    first, second = store.get_plan(session, plan_id), store.get_plan(session, other_id)
    for job in (first, second):
        if job.schedule is None:
            raise store.Conflict(f"plan {job.plan_id} has no schedule yet (status {job.status})", status=job.status)
    dataset = io.load_json_document(second.input_snapshot, "$")
    answer = whatif.compare(dataset, first.schedule, second.schedule, [])
    return PlanComparison(kpi_deltas=answer["kpi_deltas"], changes=answer["changes"])


@router.post("/{plan_id}/cancel", response_model=PlanOut, responses=ERRORS)
def cancel_plan(plan_id: str, session: SessionDep, _: Planner, runner: RunnerDep) -> PlanOut:
    """Stop the solve; the best schedule found so far is kept."""
    job = store.get_plan(session, plan_id)
    if job.status in FINISHED:
        raise store.Conflict(f"plan {job.plan_id} has already finished ({job.status})", status=job.status)
    runner.cancel(job.plan_id)  # in the database, for whichever process runs it, and at once here
    store.request_cancel(session, job.plan_id)  # never started: cancelled now (the runner skips it)
    session.commit()
    session.refresh(job)
    return _plan_out(job, store.published_plan_id(session))


@router.post("/{plan_id}/publish", response_model=Published, responses=ERRORS)
def publish_plan(
    plan_id: str,
    session: SessionDep,
    caller: Planner,
    promiser: PromiserDep,
    revalidate: Annotated[
        bool, Query(description="a plan made on data changed since: check it against the current data first")
    ] = False,
) -> Published:
    """Make a finished plan the one the shop follows, once the independent validator accepts it.

    A plan made on master data or orders that changed since is 409 ``stale_plan`` (what changed),
    unless ``revalidate``: then it is published only if it is valid on the current data."""
    job = store.get_plan(session, plan_id)
    planning.publish(session, promiser, job, caller.actor, revalidate=revalidate)
    newest = session.scalars(select(Publication).order_by(Publication.id.desc()).limit(1)).one()
    return Published(plan_id=job.plan_id, published_at=newest.at)


def _plan_out(job: PlanJob, published_plan_id: str | None) -> PlanOut:
    parameters = job.parameters or {}
    return PlanOut.model_validate(
        {
            **job.__dict__,
            "progress": job.progress or {},
            "published": job.plan_id == published_plan_id,
            # stored with the parameters (a scenario's plan carries the scenario's name there)
            **{
                key: parameters.get(key) or default
                for key, default in (("name", ""), ("note", ""), ("scenario_id", None))
            },
        }
    )


def _csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Rows as CSV; with ``columns`` the header is written even when there is no row."""
    if not rows and not columns:
        return ""
    buffer = stdio.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or list(rows[0]))
    writer.writeheader()
    writer.writerows(io.spreadsheet_safe_rows(rows))  # text that would run as a formula is escaped
    return buffer.getvalue()
