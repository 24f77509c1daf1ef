"""Request and response bodies (pydantic); field names follow FORMATS.md and API.md."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from solver.domain import ORDER_STATUSES, ORDER_TYPES

OrderStatus = Literal[ORDER_STATUSES]  # type: ignore[valid-type]  # one list of statuses: the domain's
OrderType = Literal[ORDER_TYPES]  # type: ignore[valid-type]
Department = Literal["technology", "quality", "purchasing", "production"]  # a non-regular order's joint review
Verdict = Literal["approved", "rejected"]


class ProblemOut(BaseModel):
    file: str
    row: int | str | None = None
    column: str | None = None
    message: str


class ErrorOut(BaseModel):
    detail: str
    problems: list[ProblemOut] = []


class Health(BaseModel):
    status: str
    database: str


class DatasetLoaded(BaseModel):
    version: int
    orders: int
    orders_added: int
    orders_changed: int
    orders_removed: int


class OrderIn(BaseModel):
    """A new order. Sales' orders always start as ``received``."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=100)
    product_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0)
    due_date: dt.date
    customer_id: str | None = None
    priority: int = Field(1, ge=1, le=10)
    status: OrderStatus = "received"
    earliest_start: dt.date | None = None
    pinned_line: str | None = None
    order_type: OrderType = "regular"
    deposit_ratio: float | None = Field(None, ge=0, le=1)
    reason: str = ""


class OrderChange(BaseModel):
    """A change to an order; ``reason`` records the customer's written confirmation."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1)
    product_id: str | None = None
    quantity: int | None = Field(None, gt=0)
    due_date: dt.date | None = None
    customer_id: str | None = None
    priority: int | None = Field(None, ge=1, le=10)
    earliest_start: dt.date | None = None
    order_type: OrderType | None = None
    deposit_ratio: float | None = Field(None, ge=0, le=1)


class StatusMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    line_id: str | None = None
    reason: str = ""


class OrderEventOut(BaseModel):
    at: dt.datetime
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
    created_at: dt.datetime
    updated_at: dt.datetime


class OrderWithHistory(OrderOut):
    history: list[OrderEventOut]


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_limit_s: float | None = Field(None, gt=0)
    baseline: str | None = Field(None, description='"current" (the published plan), a plan_id, or null')
    frozen_days: int | None = Field(None, ge=0)
    seed: int = 0


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
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    created_by: str
    parameters: dict[str, Any]
    baseline_plan_id: str | None = None
    progress: PlanProgress
    summary: dict[str, Any] | None = None
    valid: bool | None = None
    error: str | None = None
    published: bool = False


class Published(BaseModel):
    plan_id: str
    published_at: dt.datetime


class FeasibilityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0)
    due_date: dt.date
    customer_id: str | None = None
    priority: int = Field(1, ge=1, le=10)
    order_type: OrderType = "regular"
    deposit_ratio: float | None = Field(None, ge=0, le=1)
    resequence: bool = Field(True, description="also answer with committed orders re-sequenced (up to 0.5 s)")
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


class QuoteRequest(FeasibilityRequest):
    hold_hours: float | None = Field(None, gt=0, le=24 * 30)


class QuoteOut(BaseModel):
    quote_id: str
    status: str
    expires_at: dt.datetime
    promised_delivery: dt.date | None = None
    placement: dict[str, Any] | None = None
    request: dict[str, Any]
    order_id: str | None = None


class QuoteConfirmed(BaseModel):
    order_id: str
