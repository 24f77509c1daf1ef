"""What-if scenarios and exceptions (异常): a plan on a copy of the live data, applied on request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api import scenarios
from api.deps import CallerDep, Planner, PromiserDep, RunnerDep, SessionDep, SettingsDep, allowed_time_limit
from api.schemas import ErrorOut, FrozenDays, RequestBody

router = APIRouter(prefix="/scenarios", tags=["scenarios"])

ERRORS = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class ScenarioRequest(RequestBody):
    """Edits to a copy of the live data (see solver/scenario.py for their shapes)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["scenario", "exception"] = "scenario"
    edits: list[dict[str, Any]] = Field(min_length=1)
    time_limit_s: float | None = Field(None, gt=0)
    frozen_days: FrozenDays | None = None


class ScenarioAccepted(BaseModel):
    scenario_id: str
    plan_id: str


@router.post("", response_model=ScenarioAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def create_scenario(
    body: ScenarioRequest,
    response: Response,
    http: Request,
    session: SessionDep,
    caller: Planner,
    settings: SettingsDep,
    runner: RunnerDep,
) -> ScenarioAccepted:
    """Apply the edits to a copy of the live data and queue its plan; the live data does not change."""
    time_limit = allowed_time_limit(settings, caller, body.time_limit_s)
    row = scenarios.create(session, {**body.model_dump(), "time_limit_s": time_limit}, caller.actor)
    runner.submit(row.plan_id)
    response.headers["Location"] = f"{http.url.path.rstrip('/')}/{row.scenario_id}"
    return ScenarioAccepted(scenario_id=row.scenario_id, plan_id=row.plan_id)


@router.get("")
def list_scenarios(
    session: SessionDep, _: CallerDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    """Scenarios, newest first, with their status and (once solved) deltas, changes and whom to call."""
    return [scenarios.answer(session, row) for row in scenarios.listing(session, limit)]


@router.get("/{scenario_id}", responses=ERRORS)
def get_scenario(scenario_id: str, session: SessionDep, _: CallerDep) -> dict[str, Any]:
    return scenarios.answer(session, scenarios.get(session, scenario_id))


@router.post("/{scenario_id}/apply", responses=ERRORS)
def apply_scenario(scenario_id: str, session: SessionDep, caller: Planner, promiser: PromiserDep) -> dict[str, Any]:
    """Put the edits into the live data (each in the order's history) and publish the scenario's plan.

    409 when the live data changed since the scenario was made, or its plan is not finished and valid.
    """
    row = scenarios.get(session, scenario_id)
    scenarios.apply(session, promiser, row, caller.actor)
    return scenarios.answer(session, row)


@router.delete("/{scenario_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def discard_scenario(scenario_id: str, session: SessionDep, _: Planner, runner: RunnerDep) -> Response:
    row = scenarios.get(session, scenario_id)
    scenarios.discard(session, row)
    runner.cancel(row.plan_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
