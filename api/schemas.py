"""Request and response bodies (pydantic); field names follow FORMATS.md and API.md."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from solver import io
from solver.domain import ORDER_STATUSES, ORDER_TYPES


def utc_text(moment: dt.datetime) -> str:
    """The database keeps UTC without a zone; the API says so: ``2026-11-29T15:27:00+00:00``."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


UtcDateTime = Annotated[dt.datetime, PlainSerializer(utc_text, return_type=str, when_used="json")]

OrderStatus = Literal[ORDER_STATUSES]  # type: ignore[valid-type]  # one list of statuses: the domain's
OrderType = Literal[ORDER_TYPES]  # type: ignore[valid-type]
Department = Literal["technology", "quality", "purchasing", "production"]  # a non-regular order's joint review
Verdict = Literal["approved", "rejected"]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):  # JSON true is no number (pydantic would read it as 1)
        raise ValueError("must be a number, not true or false")
    return value


def _planning_date(value: dt.date) -> dt.date:
    if not io.EARLIEST_DATE <= value <= io.LATEST_DATE:
        raise ValueError(f"{value} is outside the dates paichan plans ({io.EARLIEST_DATE} to {io.LATEST_DATE})")
    return value


def _path_safe_order_id(value: str) -> str:
    problem = io.path_safe_id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _no_control(value: str) -> str:
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):  # what a sheet or a log would garble
        raise ValueError("contains a control character")
    return value


Code = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_control)]
Quantity = Annotated[int, BeforeValidator(_no_bool), Field(gt=0, le=io.MAX_QUANTITY)]
PlanningDate = Annotated[dt.date, AfterValidator(_planning_date)]
OrderId = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_path_safe_order_id)]
FrozenDays = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=2**31 - 1)]
Seed = Annotated[int, BeforeValidator(_no_bool), Field(ge=-(2**31), le=2**31 - 1, description="an int32")]


MAX_INT = 2_147_483_647  # the largest INTEGER PostgreSQL stores: every whole number a request carries stays below


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class RequestBody(BaseModel):
    """A request body: no string in it may hold a NUL character (PostgreSQL refuses them in text)."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("contains a NUL character (\\u0000)")
        return value


class ProblemOut(BaseModel):
    file: str
    row: int | str | None = None
    column: str | None = None
    message: str
    message_zh: str | None = None
    code: str | None = None
    params: dict[str, Any] = {}


class ErrorOut(BaseModel):
    """Every error's body: ``detail``; a 422 lists its ``problems``; a 409 may add a ``code``, the
    blocking ``rule`` with ``detail_zh``, and what would be allowed (e.g. ``allowed`` moves)."""

    model_config = ConfigDict(extra="allow")

    detail: str
    problems: list[ProblemOut] = []
    code: str | None = None
    rule: str | None = None
    detail_zh: str | None = None


def _iso_date_only(value: object) -> object:
    """A query's date must be written ``YYYY-MM-DD``: ``0`` is not 1970-01-01."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


class Health(BaseModel):
    status: str  # ok degraded
    database: str  # ok read-only unreachable
    detail: str | None = None  # why, in one line, when degraded


class DatasetLoaded(BaseModel):
    version: int
    orders: int
    orders_added: int
    orders_changed: int
    orders_removed: int
    warnings: list[str] | None = Field(
        None, description="what the loader guessed (a CSV's encoding or separator); absent when nothing"
    )


class OrderIn(RequestBody):
    """A new order. Sales' orders always start as ``received``."""

    model_config = ConfigDict(extra="forbid")

    order_id: OrderId
    product_id: Code
    quantity: Quantity
    due_date: PlanningDate
    customer_id: Code | None = None
    priority: int = Field(1, ge=1, le=10)
    status: OrderStatus = "received"
    earliest_start: PlanningDate | None = None
    pinned_line: Code | None = None
    order_type: OrderType = "regular"
    deposit_ratio: float | None = Field(None, ge=0, le=1)
    reason: str = ""


class OrderChange(RequestBody):
    """A change to an order; ``reason`` records the customer's written confirmation."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1)
    product_id: Code | None = None
    quantity: Quantity | None = None
    due_date: PlanningDate | None = None
    customer_id: Code | None = None
    priority: int | None = Field(None, ge=1, le=10)
    earliest_start: PlanningDate | None = None
    order_type: OrderType | None = None
    deposit_ratio: float | None = Field(None, ge=0, le=1)

    @field_validator("product_id", "quantity", "due_date", "priority", "order_type")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # left out means "unchanged"; null would blank a field every order must have
        if value is None:
            raise ValueError("may not be null: leave the field out to keep its value")
        return value


class PinIn(RequestBody):
    """The planner's manual placement: the order runs on ``line_id`` and its first production day is ``start_date``."""

    model_config = ConfigDict(extra="forbid")

    line_id: Code
    start_date: PlanningDate
    reason: str = Field(min_length=1)


class UnpinIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1)


class StatusMove(RequestBody):
    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    line_id: str | None = None
    reason: str = ""
    date: dt.date | None = Field(None, description="the day it happened (default today); not in the future")

    @field_validator("date")
    @classmethod
    def _not_in_the_future(cls, value: dt.date | None) -> dt.date | None:
        # a dispatch recorded ahead of time would count as on time before it happened
        if value is not None and value > dt.date.today():
            raise ValueError(f"{value.isoformat()} is in the future: record a move once it has happened")
        return value


class InfoNote(RequestBody):
    """What information is missing (or what the customer sent)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


class OrderEventOut(BaseModel):
    at: UtcDateTime
    actor: str
    kind: str
    detail: dict[str, Any]
    reason: str


class OrderOut(BaseModel):
    order_id: str
    product_id: str
    quantity: int
    due_date: dt.date
    customer_id: str | None = None
    priority: int
    status: str
    earliest_start: dt.date | None = None
    pinned_line: str | None = None
    order_type: str
    deposit_ratio: float | None = None
    pinned_start: dt.date | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int = Field(description='bumped by every change; the ETag W/"<version>" to send as If-Match')


class OrderWithHistory(OrderOut):
    history: list[OrderEventOut]
    reviews: list[ReviewOut] = []
    joint_review: dict[str, str] = {}
    promise: PromiseOut | None = None


class PlanRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    time_limit_s: float | None = Field(None, gt=0)
    baseline: str | None = Field(None, description='"current" (the published plan), a plan_id, or null')
    frozen_days: FrozenDays | None = None
    seed: Seed = 0
    name: str = Field("", max_length=200, description="the planner's name for the plan")
    note: str = Field("", max_length=2000, description="why the plan was made, for whoever reads the list later")


class PlanAccepted(BaseModel):
    plan_id: str
    status: str


class PlanProgress(BaseModel):
    elapsed: float = 0.0
    solutions: int = 0
    best_objective: dict[str, int] | None = None
    bound: dict[str, int] | None = None
    stage: str | None = None


class PlanOut(BaseModel):
    plan_id: str
    status: str
    created_at: UtcDateTime
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    created_by: str
    parameters: dict[str, Any]
    baseline_plan_id: str | None = None
    progress: PlanProgress
    summary: dict[str, Any] | None = None
    valid: bool | None = None
    error: str | None = None
    published: bool = False
    name: str = Field("", description="the planner's name for it; a scenario's plan: the scenario's name")
    note: str = ""
    scenario_id: str | None = Field(None, description="a what-if's plan: published only by applying the scenario")
    dataset_version: int | None = Field(None, description="the master data version the plan was made on")


class PlanComparison(BaseModel):
    """Plan b against plan a: KPI deltas and the orders whose run moved (as a scenario's comparison)."""

    kpi_deltas: dict[str, dict[str, Any]]
    changes: list[dict[str, Any]]


class Published(BaseModel):
    plan_id: str
    published_at: UtcDateTime


class FeasibilityRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    product_id: Code
    quantity: Quantity
    due_date: PlanningDate
    customer_id: Code | None = None
    priority: int = Field(1, ge=1, le=10)
    order_type: OrderType = "regular"
    deposit_ratio: float | None = Field(None, ge=0, le=1)
    resequence: bool = Field(True, description="also answer with committed orders re-sequenced (up to 0.5 s)")
    order_id: str | None = Field(
        None,
        max_length=100,
        description="an existing order under review: its recorded joint review and deposit are used",
    )
    joint_review: dict[Department, Verdict] | None = Field(
        None, description="a non-regular order's joint review so far: department -> approved / rejected"
    )


class FeasibilityAnswer(BaseModel):
    feasible: bool = Field(description="capacity_feasible and no rule blocks")
    capacity_feasible: bool = Field(description="capacity meets the requested date, fixed or re-sequenced")
    blocked_by: list[str] = Field(description="the blocking rules that fail, in the order of checks")
    requested_due_date: dt.date
    promised_delivery: dt.date | None = Field(None, description="what a quote hold promises")
    earliest_delivery_fixed: dt.date | None = None
    earliest_delivery_resequenced: dt.date | None = None
    placement: dict[str, Any] | None = None
    binding: list[dict[str, Any]]
    alternatives: dict[str, Any] | None = Field(None, description="null when the fixed placement meets the date")
    checks: list[dict[str, Any]]
    resequencing: str
    resequencing_note: dict[str, Any] = Field(description='{"code", "params"} for the page to word')
    plan_id: str
    answer_ms: float


class PlantFeasibility(FeasibilityAnswer):
    plant_id: str = Field(description="the plant that answered; hold at /v1/plants/{plant_id}/quotes")


class GroupFeasibility(PlantFeasibility):
    """One plant's answer; asked without a plant, the earliest plant's, with every plant's in ``plants``."""

    plants: list[PlantFeasibility] | None = Field(
        None,
        description="asked without a plant: every plant that makes the product and has a published plan, "
        "earliest delivery first (the top-level answer is the first's)",
    )


class QuoteRequest(FeasibilityRequest):
    hold_hours: float | None = Field(None, gt=0, le=24 * 30)


class QuoteOut(BaseModel):
    quote_id: str
    status: str
    expires_at: UtcDateTime
    promised_delivery: dt.date | None = None
    at_risk: bool = False
    placement: dict[str, Any] | None = None
    request: dict[str, Any]
    order_id: str | None = None


class QuoteConfirm(RequestBody):
    """Optional: the deposit paid, recorded as the order is confirmed (a special order needs 30 %)."""

    model_config = ConfigDict(extra="forbid")

    deposit_ratio: float | None = Field(None, ge=0, le=1)


class QuoteConfirmed(BaseModel):
    order_id: str
    promised_delivery: dt.date | None = None


Department = Literal["technology", "quality", "purchasing", "production"]


class ReviewIn(RequestBody):
    """One department's verdict in the joint review of a non-regular order."""

    model_config = ConfigDict(extra="forbid")

    department: Department
    reviewer: str = Field(min_length=1, max_length=200)
    verdict: Literal["approved", "rejected"]
    note: str = ""


class ReviewOut(BaseModel):
    department: str
    reviewer: str
    verdict: str
    note: str
    at: UtcDateTime
    recorded_by: str


class PromiseOut(BaseModel):
    """Room the ledger keeps for a confirmed order the published plan does not carry yet."""

    placement: dict[str, Any] | None = None
    promised_delivery: dt.date
    plan_id: str | None = None
    source: str
    at_risk: bool


class DispatchTally(BaseModel):
    orders_due: int
    dispatched_on_time: int
    dispatched_late: int
    not_dispatched: int
    on_time_rate: float | None = Field(description="on time / due; null when none was due")
    units_demanded: int
    units_shipped: int


class DispatchWeek(DispatchTally):
    week_start: dt.date = Field(description="the Monday of the ISO week")


class DispatchGroup(DispatchTally):
    key: str = Field(description='the region or customer id; "" for orders whose customer has no region')
    name: str
    weeks: list[DispatchWeek]


class DispatchTotal(DispatchTally):
    weeks: list[DispatchWeek]


class DispatchReport(BaseModel):
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    group_by: Literal["region", "customer"]
    groups: list[DispatchGroup]
    total: DispatchTotal
    plans: list[str] = Field(description="the published plans in force on some day of the period")


class OverdueStage(BaseModel):
    order_id: str
    customer_id: str | None = None
    stage: Literal["review", "information", "release", "plan"]
    since: dt.date
    due_by: dt.date
    working_days_overdue: int
    met_on: dt.date | None = Field(None, description="when the stage was done late (include_met=true only)")


class OrderProcessReport(BaseModel):
    as_of: dt.date
    overdue: list[OverdueStage]
    counts: dict[str, int]
    warnings: list[str]
