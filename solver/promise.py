"""Order review: how early can a new order be delivered, against the current plan?

``earliest_delivery_fixed`` inserts the order into the capacity and material
the plan leaves free, no committed order moving; ``earliest_delivery_resequenced``
lets CP-SAT move committed orders on the affected lines inside a window, none
of them delivering later than now. Both say why not earlier (``binding``) and
run the company's order-review ``checks``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from solver.calendar import PlantCalendar, hours_to_minutes, run_minutes
from solver.domain import WEEKDAYS, Dataset, Order
from solver.instance import build_instance, scaled_up
from solver.lns import Neighbourhood, PlanState
from solver.model import Baseline, NeighbourhoodModel
from solver.rules import add_deliver_by, end_day_expression
from solver.solution import assignments_from_schedule

SPECIAL_ORDER_DEPOSIT = 0.3


@dataclass(frozen=True)
class Prospect:
    """A prospective order: what sales asks about."""

    product_id: str
    quantity: int
    due_date: dt.date
    customer_id: str | None = None
    priority: int = 1
    order_type: str = "regular"
    deposit_ratio: float | None = None
    order_id: str = "PROSPECT"

    def as_order(self) -> Order:
        return Order(
            self.order_id,
            self.product_id,
            self.quantity,
            self.due_date,
            customer_id=self.customer_id,
            priority=self.priority,
            order_type=self.order_type,
            deposit_ratio=self.deposit_ratio,
        )


@dataclass
class Placement:
    line_id: str
    first_day: int
    last_day: int
    minutes_by_day: list[tuple[int, int]]
    delivery_day: int


@dataclass
class LineLedger:
    """What the plan leaves of one line: free minutes per day and which days a run carries on from."""

    capacity: np.ndarray
    used: np.ndarray
    carries_on: np.ndarray  # a committed run continues from this day to the line's next working day

    @property
    def free(self) -> np.ndarray:
        return self.capacity - self.used


@dataclass
class PlanLedger:
    """Free capacity per line and day, and free material per day, left by a schedule."""

    calendar: PlantCalendar
    lines: dict[str, LineLedger]
    material_free: dict[str, np.ndarray]  # scaled; what may still be issued on or before each day
    held: list[dict[str, Any]] = field(default_factory=list)
    material_available: dict[str, np.ndarray] = field(default_factory=dict)  # scaled, cumulative per day
    issued: dict[str, np.ndarray] = field(default_factory=dict)  # scaled, per day

    def copy(self) -> PlanLedger:
        """An independent ledger to book more runs into (the calendar and availability are shared)."""
        lines = {
            line_id: LineLedger(line.capacity, line.used.copy(), line.carries_on.copy())
            for line_id, line in self.lines.items()
        }
        issued = {m: values.copy() for m, values in self.issued.items()}
        return replace(self, lines=lines, material_free=dict(self.material_free), held=[], issued=issued)

    def book(self, dataset: Dataset, run: dict[str, Any], product_id: str, quantity: int) -> None:
        """Take a run (a placement or schedule entry) and its kit of ``quantity`` units from what is free."""
        _book(dataset, self.calendar, self.lines, self.issued, run, product_id, quantity)
        for item in dataset.bom_by_product.get(product_id, ()):
            material = item.material_id
            self.material_free[material] = _suffix_min(
                self.material_available[material] - np.cumsum(self.issued[material])
            )


def plan_ledger(
    dataset: Dataset,
    schedule: dict[str, Any] | None,
    holds: list[dict[str, Any]] | None = None,
    skip: Callable[[str], bool] | None = None,
) -> PlanLedger:
    """The capacity and material a schedule leaves free (an empty plan when ``schedule`` is None).

    ``holds`` are quote holds: ``{"product_id", "quantity", "placement"}``, booked like planned runs;
    the schedule's orders for which ``skip(order_id)`` is true are left out (their room is free).
    """
    instance = build_instance(dataset)
    calendar = instance.calendar
    lines = {
        line_id: LineLedger(
            axis.capacity.copy(), np.zeros(calendar.horizon, np.int64), np.zeros(calendar.horizon, bool)
        )
        for line_id, axis in instance.axes.items()
    }
    issued = {m: np.zeros(calendar.horizon, np.int64) for m in instance.material_available}
    for entry in (schedule or {}).get("orders", []):
        order = dataset.order_by_id.get(entry["order_id"])
        if order is None or (skip is not None and skip(order.order_id)):
            continue
        kitted = 0 if order.status == "in_production" else order.quantity  # a running order has its kit
        _book(dataset, calendar, lines, issued, entry, order.product_id, kitted)
    for hold in holds or []:
        _book(dataset, calendar, lines, issued, hold["placement"], hold["product_id"], hold["quantity"])
    available = instance.material_available
    free = {m: _suffix_min(available[m] - np.cumsum(issued[m])) for m in issued}
    return PlanLedger(calendar, lines, free, material_available=dict(available), issued=issued)


def _book(dataset: Dataset, calendar: PlantCalendar, lines, issued, run: dict, product_id: str, quantity: int) -> None:
    """Take a run's minutes from its line and its kit (``quantity`` units) from the materials."""
    ledger = lines[run["line_id"]]
    days = [calendar.index_of(dt.date.fromisoformat(a["date"])) for a in run["allocations"]]
    for day, allocation in zip(days, run["allocations"], strict=True):
        ledger.used[day] += allocation["minutes"]
    for day in days[:-1]:
        ledger.carries_on[day] = True
    for item in dataset.bom_by_product.get(product_id, ()) if quantity else ():
        issued[item.material_id][days[0]] += scaled_up(item.qty_per_unit * quantity)


def _suffix_min(values: np.ndarray) -> np.ndarray:
    """Material that can be issued on a day without starving a later one."""
    return np.minimum.accumulate(values[::-1])[::-1]


def release_day(dataset: Dataset, calendar: PlantCalendar) -> int:
    """First release weekday on or after the plan start; a non-working day pushes it to the next working day."""
    release = {WEEKDAYS.index(d) for d in dataset.plant.release_weekdays} or set(range(7))
    for day in range(calendar.length):
        if calendar.date_of(day).weekday() in release:
            while day < calendar.length - 1 and not calendar.plant_working[day]:
                day += 1
            return day
    return 0


def insert_run(ledger: LineLedger, minutes: int, from_day: int) -> tuple[int, int, list[tuple[int, int]]] | None:
    """Earliest-ending uninterrupted run of ``minutes`` starting on or after ``from_day``.

    The run takes the free tail of its first day (no committed run may carry on from
    it), whole free working days in between, and the head of its last day.
    """
    capacity, free, carries_on = ledger.capacity, ledger.free, ledger.carries_on
    horizon = len(capacity)
    for first in range(from_day, horizon):
        if capacity[first] <= 0 or free[first] <= 0:
            continue
        if free[first] >= minutes:
            return first, first, [(first, minutes)]
        if carries_on[first]:
            continue  # only a run that ends on its first day can share it with a run carrying on
        placed = _continue_run(capacity, free, first, minutes)
        if placed is not None:
            return first, placed[-1][0], placed
    return None


def _continue_run(capacity: np.ndarray, free: np.ndarray, first: int, minutes: int) -> list[tuple[int, int]] | None:
    days = [(first, int(free[first]))]
    left = minutes - int(free[first])
    for day in range(first + 1, len(capacity)):
        if capacity[day] <= 0:
            continue  # non-working time does not interrupt a run
        if left <= free[day] and (left < capacity[day] or free[day] == capacity[day]):
            days.append((day, left))
            return days
        if free[day] < capacity[day]:
            return None  # a committed run sits on a day the new run would have to fill
        days.append((day, int(capacity[day])))
        left -= int(capacity[day])
    return None


@dataclass
class Answer:
    feasible: bool
    requested_due_date: dt.date
    earliest_delivery_fixed: dt.date | None
    placement: dict[str, Any] | None
    binding: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    earliest_delivery_resequenced: dt.date | None = None
    resequencing: str = "not tried"
    answer_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        def iso(value: dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "feasible": self.feasible,
            "requested_due_date": iso(self.requested_due_date),
            "earliest_delivery_fixed": iso(self.earliest_delivery_fixed),
            "earliest_delivery_resequenced": iso(self.earliest_delivery_resequenced),
            "placement": self.placement,
            "binding": self.binding,
            "checks": self.checks,
            "resequencing": self.resequencing,
            "answer_ms": round(self.answer_ms, 2),
        }


def earliest_delivery_fixed(dataset: Dataset, ledger: PlanLedger, prospect: Prospect) -> Answer:
    """Insert the order into what the plan leaves free, on the line that delivers first."""
    started = time.perf_counter()
    calendar = ledger.calendar
    release = release_day(dataset, calendar)
    need = {
        item.material_id: scaled_up(item.qty_per_unit * prospect.quantity)
        for item in dataset.bom_by_product.get(prospect.product_id, ())
    }
    material_day, material_binding = _material_day(ledger, need, release, calendar)
    best: Placement | None = None
    transit = dataset.transit_days(prospect.as_order())
    for routing in dataset.routings_by_product.get(prospect.product_id, ()):
        minutes = hours_to_minutes(routing.setup_hours) + run_minutes(prospect.quantity, routing.units_per_hour)
        if material_day is None:
            break
        run = insert_run(ledger.lines[routing.line_id], minutes, material_day)
        if run is None:
            continue
        first, last, by_day = run
        dispatch = calendar.dispatch_day(last)
        if dispatch < 0:
            continue
        placement = Placement(routing.line_id, first, last, by_day, dispatch + transit)
        if best is None or (placement.delivery_day, placement.last_day) < (best.delivery_day, best.last_day):
            best = placement
    checks = review_checks(dataset, prospect, calendar, release)
    answer = Answer(
        feasible=False,
        requested_due_date=prospect.due_date,
        earliest_delivery_fixed=None,
        placement=None,
        binding=[],
        checks=checks,
    )
    if best is not None:
        delivery = calendar.date_of(best.delivery_day)
        answer.earliest_delivery_fixed = delivery
        answer.feasible = delivery <= prospect.due_date
        answer.placement = placement_document(dataset, calendar, prospect, best)
        answer.binding = why_not_earlier(dataset, ledger, prospect, best, release, material_binding)
    else:
        answer.binding = [{"kind": "horizon", "detail": "no line has room for the order before the horizon ends"}]
        answer.binding += material_binding
    answer.answer_ms = (time.perf_counter() - started) * 1000
    return answer


def _material_day(
    ledger: PlanLedger, need: dict[str, int], from_day: int, calendar: PlantCalendar
) -> tuple[int | None, list[dict[str, Any]]]:
    """First day on or after ``from_day`` when every material of the kit is free, and what bound it."""
    day, binding = from_day, []
    for material_id, quantity in need.items():
        enough = np.flatnonzero(ledger.material_free[material_id][from_day:] >= quantity)
        if len(enough) == 0:
            binding.append({"kind": "material", "material_id": material_id, "available_from": None})
            return None, binding
        ready = from_day + int(enough[0])
        if ready > from_day:
            binding.append(
                {"kind": "material", "material_id": material_id, "available_from": calendar.date_of(ready).isoformat()}
            )
        day = max(day, ready)
    return day, binding


def placement_document(dataset: Dataset, calendar: PlantCalendar, prospect: Prospect, run: Placement) -> dict:
    """The proposed run in the schedule's terms: line, days, allocations (minutes and units)."""
    routing = next(r for r in dataset.routings_by_product[prospect.product_id] if r.line_id == run.line_id)
    setup = hours_to_minutes(routing.setup_hours)
    allocations, elapsed, finished = [], 0, 0
    for number, (day, minutes) in enumerate(run.minutes_by_day):
        elapsed += minutes
        done = prospect.quantity
        if number < len(run.minutes_by_day) - 1:
            done = min(prospect.quantity, int(max(0, elapsed - setup) * routing.units_per_hour / 60 + 1e-9))
        allocations.append({"date": calendar.date_of(day).isoformat(), "minutes": minutes, "quantity": done - finished})
        finished = done
    inspection = calendar.inspection_day(run.last_day)
    return {
        "line_id": run.line_id,
        "production_start": calendar.date_of(run.first_day).isoformat(),
        "production_end": calendar.date_of(run.last_day).isoformat(),
        "inspection_date": calendar.date_of(inspection).isoformat(),
        "dispatch_date": calendar.date_of(calendar.dispatch_day(run.last_day)).isoformat(),
        "delivery_date": calendar.date_of(run.delivery_day).isoformat(),
        "allocations": allocations,
    }


def why_not_earlier(
    dataset: Dataset,
    ledger: PlanLedger,
    prospect: Prospect,
    run: Placement,
    release: int,
    material_binding: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The reasons the run starts where it does: release day, materials, full line capacity."""
    calendar = ledger.calendar
    reasons: list[dict[str, Any]] = []
    if run.first_day == release and release > 0:
        reasons.append({"kind": "release_day", "date": calendar.date_of(release).isoformat()})
    reasons += material_binding
    start = max([release, *[_day_of(calendar, b["available_from"]) for b in material_binding if b["available_from"]]])
    for routing in dataset.routings_by_product[prospect.product_id]:
        line = ledger.lines[routing.line_id]
        stop = run.first_day
        if routing.line_id != run.line_id:  # how far this line's own earliest run had to wait
            minutes = hours_to_minutes(routing.setup_hours) + run_minutes(prospect.quantity, routing.units_per_hour)
            own = insert_run(line, minutes, start)
            stop = own[0] if own else len(line.capacity)
        # the days it waited out, and its own first day when committed work there pushed it to the tail
        last = min(stop, len(line.capacity) - 1)
        busy = [d for d in range(start, last + 1) if line.capacity[d] > 0 and line.used[d] > 0]
        if busy:
            full = sum(1 for d in busy if line.free[d] <= 0)
            dates = [calendar.date_of(busy[0]).isoformat(), calendar.date_of(busy[-1]).isoformat()]
            reasons.append(
                {
                    "kind": "capacity",
                    "line_id": routing.line_id,
                    "dates": dates,
                    "busy_days": len(busy),
                    "full_days": full,
                }
            )
    if not reasons:
        reasons.append({"kind": "calendar", "detail": "the earliest working days after release"})
    return reasons


def _day_of(calendar: PlantCalendar, text: str) -> int:
    return calendar.index_of(dt.date.fromisoformat(text)) or 0


def review_checks(dataset: Dataset, prospect: Prospect, calendar: PlantCalendar, release: int) -> list[dict]:
    """The company's order-review rules: release day, special-order deposit, demand control, technical review."""
    checks = [
        {
            "rule": "release_day",
            "ok": True,
            "detail": f"released to the shop on {calendar.date_of(release).isoformat()} "
            f"(release days: {', '.join(dataset.plant.release_weekdays)})",
        }
    ]
    if prospect.order_type == "special":
        deposit = prospect.deposit_ratio or 0.0
        checks.append(
            {
                "rule": "special_order_deposit",
                "ok": deposit >= SPECIAL_ORDER_DEPOSIT,
                "detail": f"special order: takes effect with a {SPECIAL_ORDER_DEPOSIT:.0%} deposit; paid {deposit:.0%}",
            }
        )
    if prospect.order_type == "non_regular":
        checks.append(
            {
                "rule": "technical_review",
                "ok": False,
                "detail": "non-regular order: technology, quality, purchasing and production review it before acceptance",
            }
        )
    checks += _demand_control(dataset, prospect)
    return checks


def _demand_control(dataset: Dataset, prospect: Prospect) -> list[dict]:
    figures = next((f for f in dataset.inventory if f.product_id == prospect.product_id), None)
    if figures is None or figures.stock_ceiling is None:
        return []
    week_start = prospect.due_date - dt.timedelta(days=prospect.due_date.weekday())
    week = [
        o.quantity
        for o in dataset.orders
        if o.product_id == prospect.product_id
        and o.status not in ("cancelled", "closed")
        and week_start <= o.due_date < week_start + dt.timedelta(days=7)
    ]
    demand = sum(week) + prospect.quantity
    limit = figures.stock_ceiling - (figures.in_transit or 0) + (figures.forecast_week or 0)
    return [
        {
            "rule": "demand_control_point",
            "ok": demand <= limit,
            "detail": f"week of {week_start}: demand {demand} against stock ceiling {figures.stock_ceiling:g} "
            f"- in transit {figures.in_transit or 0:g} + expected week's sales {figures.forecast_week or 0:g} = {limit:g}",
        }
    ]


class _PromiseModel(NeighbourhoodModel):
    """The prospect and the committed runs around it: the prospect's end as early as possible,
    every committed order kept in the plan and delivering no later than it does now."""

    def __init__(self, state: PlanState, hood: Neighbourhood, prospect_id: str):
        self.prospect_id = prospect_id
        super().__init__(state, hood)

    def _add_objective(self) -> None:
        for order_id, order in self.orders.items():
            self.model.add(order.scheduled == 1)
            if order_id != self.prospect_id:
                run = self.state.runs[order_id]
                add_deliver_by(
                    self.instance, self.model, order, self.instance.delivery_day(order.candidate, run.end_day)
                )
        self.model.minimize(end_day_expression(self.model, self.instance, self.orders[self.prospect_id]))


def earliest_delivery_resequenced(
    dataset: Dataset,
    schedule: dict[str, Any],
    prospect: Prospect,
    fixed: Answer,
    time_limit: float = 0.5,
    neighbours: int = 40,
) -> tuple[dt.date | None, str]:
    """Earliest delivery when committed orders on the prospect's lines may move (none later).

    CP-SAT re-places the prospect and up to ``neighbours`` committed runs of its lines
    between its release day and the fixed answer's last day, starting from the fixed
    answer; ``time_limit`` seconds, then the fixed answer stands.
    """
    if fixed.placement is None:
        return None, "no fixed placement to start from"
    started = time.monotonic()
    extended = dataset.replace(orders=(*dataset.orders, replace(prospect.as_order(), status="confirmed")))
    instance = build_instance(extended)
    if prospect.order_id not in {c.order_id for c in instance.candidates}:
        return fixed.earliest_delivery_fixed, "the order cannot be placed"
    entries = [*schedule.get("orders", []), {"order_id": prospect.order_id, **fixed.placement}]
    state = PlanState(instance, Baseline({}), assignments_from_schedule(instance, entries))
    run = state.runs[prospect.order_id]
    first = release_day(extended, instance.calendar)
    lines = [o.line_id for o in state.candidates[prospect.order_id].options]
    nearby = [
        o
        for line in lines
        for o in state.runs_between(
            line, int(instance.axes[line].start[first]), int(instance.axes[line].start[run.end_day + 1]) - 1
        )
    ]
    frozen_until = instance.calendar.frozen_window_end(dataset.plant.frozen_days)
    committed = [
        o
        for o in dict.fromkeys(nearby)
        if o != prospect.order_id
        and state.candidates[o].order.status != "in_production"  # running orders stay
        and state.runs[o].start_day > frozen_until  # so do orders of the frozen window
    ][:neighbours]
    hood = Neighbourhood("promise", {prospect.order_id, *committed}, first, run.end_day)
    sub = _PromiseModel(state, hood, prospect.order_id)
    sub.hint()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit - (time.monotonic() - started))
    solver.parameters.num_workers = 1
    status = solver.solve(sub.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return fixed.earliest_delivery_fixed, "no better sequence found in time: the fixed answer stands"
    placed = sub.solution(solver)[prospect.order_id]
    axis = instance.axes[placed[0]]
    last = axis.day_of(placed[1] + state.option(prospect.order_id, placed[0]).minutes - 1)
    delivery = instance.calendar.date_of(instance.delivery_day(state.candidates[prospect.order_id], last))
    proof = "optimal" if status == cp_model.OPTIMAL else "best found in time"
    best = min(delivery, fixed.earliest_delivery_fixed)
    return best, f"{len(committed)} committed orders on {', '.join(lines)} re-sequenced ({proof})"
