"""The sales department's reports: dispatch monitoring and the order-process time rules.

Both read history the service already keeps: the ``publications`` table says which
plan was in force on each day, order events say when an order was received,
reviewed, confirmed, shipped; plans' input snapshots say when an order was
released to planning. Each report reads every table it needs once per request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import store
from api.db import OrderEvent, OrderRow, PlanJob, Publication
from solver.calendar import PlantCalendar

UNASSIGNED = ""  # the group of orders whose customer has no region (未分配 / unassigned)
MAX_REPORT_DAYS = 400  # a dispatch report spans at most about a year (and a bit): one request, one answer
STAGES = ("review", "information", "release", "plan")
# the order-process rules: working days allowed for each stage
ALLOWED_WORKING_DAYS = {"review": 1, "information": 2, "release": 1, "plan": 2}
# statuses past each milestone, in lifecycle order (cancelled ends every stage: nothing is owed)
PAST_RECEIVED = frozenset(
    {"reviewed", "confirmed", "in_production", "produced", "inspected", "shipped", "delivered", "closed", "cancelled"}
)
PAST_CONFIRMED = frozenset({"confirmed", "in_production", "produced", "inspected", "shipped", "delivered", "closed"})
IN_PRODUCTION_OR_LATER = frozenset({"in_production", "produced", "inspected", "shipped", "delivered", "closed"})
DISPATCHED = frozenset({"shipped", "delivered", "closed"})


def today() -> dt.date:
    """The plant's today (the server's local date)."""
    return dt.date.today()


# -- what an order event says ----------------------------------------------------------------


def event_day(event: OrderEvent) -> dt.date:
    """The day an event happened: the ``date`` its author gave, else when it was recorded."""
    given = (event.detail or {}).get("date")
    return dt.date.fromisoformat(given) if given else event.at.date()


def status_reached(event: OrderEvent) -> str | None:
    """The status an event put the order in, if it set one (a move, a new order, an import)."""
    detail = event.detail or {}
    if event.kind == "status":
        return detail.get("to")
    if event.kind in ("created", "import", "change"):
        if "record" in detail:
            return detail["record"].get("status", "confirmed")  # a dataset order's default status
        change = (detail.get("changes") or {}).get("status")
        return change[1] if change else None
    return None


def first_day_reaching(events: Iterable[OrderEvent], statuses: frozenset[str]) -> dt.date | None:
    """The first day an order's status became one of ``statuses`` (events in recording order)."""
    for event in events:
        if status_reached(event) in statuses:
            return event_day(event)
    return None


def order_events(session: Session, kinds: Sequence[str]) -> dict[str, list[OrderEvent]]:
    """Every event of ``kinds``, per order, in recording order: one query for the report."""
    query = select(OrderEvent).where(OrderEvent.kind.in_(kinds)).order_by(OrderEvent.id)
    grouped: dict[str, list[OrderEvent]] = defaultdict(list)
    for event in session.scalars(query):
        grouped[event.order_id].append(event)
    return grouped


# -- dispatch monitoring ---------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of one group (or one group's week)."""

    orders_due: int = 0
    dispatched_on_time: int = 0
    dispatched_late: int = 0
    not_dispatched: int = 0
    units_demanded: int = 0
    units_shipped: int = 0

    def add(self, quantity: int, shipped_on: dt.date | None, due_day: dt.date) -> None:
        self.orders_due += 1
        self.units_demanded += quantity
        if shipped_on is None:
            self.not_dispatched += 1
            return
        self.units_shipped += quantity
        if shipped_on <= due_day:
            self.dispatched_on_time += 1
        else:
            self.dispatched_late += 1

    def as_dict(self) -> dict[str, Any]:
        rate = self.dispatched_on_time / self.orders_due if self.orders_due else None
        return dataclasses.asdict(self) | {"on_time_rate": None if rate is None else round(rate, 4)}


@dataclass
class GroupTally:
    key: str
    name: str
    tally: Tally = field(default_factory=Tally)
    weeks: dict[dt.date, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def add(self, quantity: int, shipped_on: dt.date | None, due_day: dt.date) -> None:
        self.tally.add(quantity, shipped_on, due_day)
        self.weeks[week_start(due_day)].add(quantity, shipped_on, due_day)

    def as_dict(self) -> dict[str, Any]:
        weeks = [{"week_start": start.isoformat(), **self.weeks[start].as_dict()} for start in sorted(self.weeks)]
        return {"key": self.key, "name": self.name, **self.tally.as_dict(), "weeks": weeks}


@dataclass(frozen=True)
class PublishedPlan:
    """What the report needs of a published plan: its orders by dispatch day, and its customers."""

    plan_id: str
    by_dispatch_day: dict[dt.date, list[dict[str, Any]]]
    customers: dict[str, dict[str, Any]]


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def dispatch_report(session: Session, start: dt.date, end: dt.date, group_by: str) -> dict[str, Any]:
    """Orders due to dispatch in [start, end] by the plans in force, and how they were dispatched.

    An order is due on day d when the plan in force as d began (the newest
    publication before d 00:00, else the first one on d) dispatches it on d; it is
    counted once, on its first due day in the period.
    """
    publications = list(session.scalars(select(Publication).order_by(Publication.at, Publication.id)))
    in_force = {day: plan_in_force(publications, day) for day in days_between(start, end)}
    plans = load_published_plans(session, {plan_id for plan_id in in_force.values() if plan_id})
    due = due_orders(in_force, plans)
    shipped = shipped_days(session, set(due))
    groups: dict[str, GroupTally] = {}
    total = GroupTally("*", "*")
    for order_id, (due_day, entry, plan) in due.items():
        key, name = group_of(entry, plan, group_by)
        group = groups.setdefault(key, GroupTally(key, name))
        quantity = int(entry.get("quantity") or 0)
        for tally in (group, total):
            tally.add(quantity, shipped.get(order_id), due_day)
    total_row = total.as_dict()
    del total_row["key"], total_row["name"]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group_by": group_by,
        "groups": [groups[key].as_dict() for key in sorted(groups, key=lambda k: (k == UNASSIGNED, k))],
        "total": total_row,
        "plans": sorted({plan_id for plan_id in in_force.values() if plan_id}),
    }


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def plan_in_force(publications: list[Publication], day: dt.date) -> str | None:
    """The plan in force as ``day`` began: the newest published before it, else the first published on it."""
    midnight = dt.datetime.combine(day, dt.time())
    before = [p for p in publications if p.at < midnight]
    if before:
        return before[-1].plan_id
    same_day = [p for p in publications if p.at.date() == day]
    return same_day[0].plan_id if same_day else None


def load_published_plans(session: Session, plan_ids: set[str]) -> dict[str, PublishedPlan]:
    """Each plan's schedule and its snapshot's customers, read once (not the snapshot's orders)."""
    if not plan_ids:
        return {}
    query = select(PlanJob.plan_id, PlanJob.schedule, PlanJob.input_snapshot["customers"]).where(
        PlanJob.plan_id.in_(plan_ids)
    )
    plans = {}
    for plan_id, schedule, customers in session.execute(query):
        by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
        for entry in (schedule or {}).get("orders", []):
            by_day[dt.date.fromisoformat(entry["dispatch_date"])].append(entry)
        known = {c["customer_id"]: c for c in customers or []}
        plans[plan_id] = PublishedPlan(plan_id, by_day, known)
    return plans


def due_orders(
    in_force: dict[dt.date, str | None], plans: dict[str, PublishedPlan]
) -> dict[str, tuple[dt.date, dict[str, Any], PublishedPlan]]:
    """Each order due in the period: its first due day, its schedule entry and the plan that made it due."""
    due: dict[str, tuple[dt.date, dict[str, Any], PublishedPlan]] = {}
    for day in sorted(in_force):
        plan = plans.get(in_force[day] or "")
        if plan is None:
            continue
        for entry in plan.by_dispatch_day.get(day, []):
            due.setdefault(entry["order_id"], (day, entry, plan))
    return due


def shipped_days(session: Session, order_ids: set[str]) -> dict[str, dt.date]:
    """The day each order was dispatched (first reached ``shipped`` or beyond)."""
    events = order_events(session, ("status", "created", "import", "change"))
    days = {}
    for order_id in order_ids:
        day = first_day_reaching(events.get(order_id, []), DISPATCHED)
        if day is not None:
            days[order_id] = day
    return days


def group_of(entry: dict[str, Any], plan: PublishedPlan, group_by: str) -> tuple[str, str]:
    """The group key and name of a due order, from the customers the plan was made with."""
    customer_id = entry.get("customer_id") or ""
    customer = plan.customers.get(customer_id, {})
    if group_by == "customer":
        return customer_id, customer.get("name") or customer_id
    region = customer.get("region") or UNASSIGNED
    return region, region


# -- the order-process time rules ---------------------------------------------------------------


class WorkingDays:
    """Working-day arithmetic on the plant calendar over any span of dates."""

    def __init__(self, calendar: PlantCalendar):
        self.calendar = calendar
        # working days up to and including each day index: counts between two days in O(1)
        self.cumulative = np.cumsum(calendar.plant_working)

    def _index(self, day: dt.date) -> int:
        index = self.calendar.index_of(day)
        if index is None:
            raise ValueError(f"{day} is outside the report's calendar")
        return index

    def add(self, day: dt.date, working_days: int) -> dt.date:
        """The ``working_days``-th plant working day after ``day``."""
        index = self._index(day)
        for _ in range(working_days):
            index = int(self.calendar.next_working_day[index])
            if index < 0:
                raise ValueError(f"no working day within the report's calendar after {day}")
        return self.calendar.date_of(index)

    def between(self, after: dt.date, until: dt.date) -> int:
        """Working days in (after, until]."""
        return int(self.cumulative[self._index(until)] - self.cumulative[self._index(after)])


def working_days_for(session: Session, first: dt.date, last: dt.date) -> tuple[WorkingDays, list[str]]:
    """The plant calendar of the current master data over [first, last] (and the tail after it)."""
    dataset = store.check_with_orders(session, [])  # master data only: the orders are not needed
    plant = dataclasses.replace(dataset.plant, plan_start=first, horizon_days=(last - first).days + 1)
    calendar = PlantCalendar(dataclasses.replace(dataset, plant=plant))
    return WorkingDays(calendar), calendar.warnings


@dataclass(frozen=True)
class StageCheck:
    """One rule applied to one order: started on ``since``, done on ``met_on`` (None: not yet)."""

    order_id: str
    customer_id: str | None
    stage: str
    since: dt.date
    met_on: dt.date | None


def order_process_report(session: Session, as_of: dt.date, include_met: bool = False) -> dict[str, Any]:
    """Orders overdue against the order-process time rules on ``as_of`` (and, if asked, those met late)."""
    checks = stage_checks(session, as_of)
    first = min([c.since for c in checks], default=as_of)
    calendar, warnings = working_days_for(session, min(first, as_of) - dt.timedelta(days=1), as_of)
    rows = [row for check in checks if (row := judged(check, calendar, as_of, include_met))]
    rows.sort(key=lambda r: (STAGES.index(r["stage"]), -r["working_days_overdue"], r["order_id"]))
    counts = {stage: sum(1 for r in rows if r["stage"] == stage and r["met_on"] is None) for stage in STAGES}
    return {"as_of": as_of.isoformat(), "overdue": rows, "counts": counts, "warnings": warnings}


def judged(check: StageCheck, calendar: WorkingDays, as_of: dt.date, include_met: bool) -> dict[str, Any] | None:
    """The report's row for a check: overdue now, or met late when ``include_met``; else None."""
    due_by = calendar.add(check.since, ALLOWED_WORKING_DAYS[check.stage])
    if check.met_on is None:
        overdue = calendar.between(due_by, as_of) if as_of > due_by else 0
    elif include_met and check.met_on > due_by:
        overdue = calendar.between(due_by, check.met_on)
    else:
        return None
    if overdue <= 0:
        return None
    return {
        "order_id": check.order_id,
        "customer_id": check.customer_id,
        "stage": check.stage,
        "since": check.since.isoformat(),
        "due_by": due_by.isoformat(),
        "working_days_overdue": overdue,
        "met_on": check.met_on.isoformat() if check.met_on else None,
    }


def stage_checks(session: Session, as_of: dt.date) -> list[StageCheck]:
    """Every stage every current order has entered by ``as_of``, with when it was done."""
    orders = list(session.scalars(select(OrderRow)))
    events = order_events(session, ("created", "import", "change", "status", "info_requested", "info_received"))
    checks: list[StageCheck] = []
    confirmed: dict[str, dt.date] = {}
    for order in orders:
        history = [e for e in events.get(order.order_id, []) if event_day(e) <= as_of]
        checks += review_and_information(order, history, as_of)
        confirmed_on = first_day_reaching(history, PAST_CONFIRMED)
        if confirmed_on is not None:
            confirmed[order.order_id] = confirmed_on
    if confirmed:
        checks += release_and_plan(session, orders, events, confirmed, as_of)
    return checks


def review_and_information(order: OrderRow, history: list[OrderEvent], as_of: dt.date) -> list[StageCheck]:
    """Review within 1 working day of receipt; missing information within 2 working days of asking."""
    received = history[0].at.date() if history and history[0].kind in ("created", "import") else None
    received = received or order.created_at.date()
    checks = []
    if received <= as_of:
        reviewed = first_day_reaching(history, PAST_RECEIVED)
        checks.append(StageCheck(order.order_id, order.customer_id, "review", received, reviewed))
    asked: dt.date | None = None
    for event in history:
        if event.kind == "info_requested" and asked is None:
            asked = event_day(event)
        elif event.kind == "info_received" and asked is not None:
            checks.append(StageCheck(order.order_id, order.customer_id, "information", asked, event_day(event)))
            asked = None
    if asked is not None:
        checks.append(StageCheck(order.order_id, order.customer_id, "information", asked, None))
    return checks


def release_and_plan(
    session: Session,
    orders: list[OrderRow],
    events: dict[str, list[OrderEvent]],
    confirmed: dict[str, dt.date],
    as_of: dt.date,
) -> list[StageCheck]:
    """Released to planning within 1 working day of confirmation; in a published plan within 2."""
    earliest = dt.datetime.combine(min(confirmed.values()), dt.time())
    released = first_plan_days(session, earliest, as_of)
    planned = first_published_days(session, earliest, as_of)
    checks = []
    for order in orders:
        since = confirmed.get(order.order_id)
        if since is None or order.status == "cancelled":
            continue
        history = [e for e in events.get(order.order_id, []) if event_day(e) <= as_of]
        producing = first_day_reaching(history, IN_PRODUCTION_OR_LATER)  # on the shop floor: released and planned
        for stage, found in (("release", released), ("plan", planned)):
            seen = first_on_or_after(found.get(order.order_id, []), since)
            days = [d for d in (seen, producing) if d is not None]
            checks.append(StageCheck(order.order_id, order.customer_id, stage, since, min(days, default=None)))
    return checks


def first_on_or_after(days: list[dt.date], since: dt.date) -> dt.date | None:
    """The first of ``days`` (ascending) on or after ``since``."""
    return next((d for d in days if d >= since), None)


def first_plan_days(session: Session, earliest: dt.datetime, as_of: dt.date) -> dict[str, list[dt.date]]:
    """For each order, the days a plan was started with it in its input snapshot (the release)."""
    query = (
        select(PlanJob.created_at, PlanJob.input_snapshot["orders"])
        .where(PlanJob.created_at >= earliest, PlanJob.created_at < _day_after(as_of))
        .order_by(PlanJob.created_at)
    )
    seen: dict[str, list[dt.date]] = {}
    for created_at, snapshot_orders in session.execute(query):
        for record in snapshot_orders or []:
            seen.setdefault(record["order_id"], []).append(created_at.date())
    return seen


def first_published_days(session: Session, earliest: dt.datetime, as_of: dt.date) -> dict[str, list[dt.date]]:
    """For each order, the days a plan scheduling it was published (each plan's schedule read once)."""
    publications = session.execute(
        select(Publication.plan_id, Publication.at)
        .where(Publication.at >= earliest, Publication.at < _day_after(as_of))
        .order_by(Publication.at)
    ).all()
    plan_ids = {plan_id for plan_id, _ in publications}
    scheduled: dict[str, set[str]] = {}
    if plan_ids:
        query = select(PlanJob.plan_id, PlanJob.schedule).where(PlanJob.plan_id.in_(plan_ids))
        for plan_id, schedule in session.execute(query):
            scheduled[plan_id] = {e["order_id"] for e in (schedule or {}).get("orders", [])}
    seen: dict[str, list[dt.date]] = {}
    for plan_id, at in publications:
        for order_id in scheduled.get(plan_id, ()):
            seen.setdefault(order_id, []).append(at.date())
    return seen


def _day_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


# -- missing information ------------------------------------------------------------------------


def record_information(session: Session, order_id: str, kind: str, note: str, actor: str) -> OrderEvent:
    """Record that sales asked the customer for missing information, or received it."""
    store.get_order(session, order_id)  # 404 for an unknown order
    event = OrderEvent(order_id=order_id, actor=actor, kind=kind, detail={"note": note}, reason=note)
    session.add(event)
    return event
