"""The independent checker: one check per rule of PROBLEM.md.

A schedule document (FORMATS.md, "Schedule document") is checked against a
:class:`~solver.domain.Dataset` without any of the solver's own code: the
working calendar, every date and the objective are recomputed here from the
dataset alone, so a bug in the solver cannot hide behind the same bug in its
checker (only the :class:`~solver.objective.Objective` type, which names the four
levels, and :mod:`solver.changeover`, the one home of the rule of which changeover
stands in front of which run, are shared). Each check's docstring states its rule in the words of
PROBLEM.md, the same sentence as the constraint of :mod:`solver.rules` that
keeps it. A malformed document never raises; what cannot be read is reported
as a ``"format"`` violation and the checks that need it are skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import math
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import chinese_calendar
import holidays

from solver.changeover import family_after, line_changeovers, plans_changeovers
from solver.domain import COLLECTION_DAYS, WEEKDAYS, Dataset, Order, Routing
from solver.objective import Objective

logger = logging.getLogger(__name__)

DATE_FIELDS = (
    "production_start",
    "production_end",
    "inspection_date",
    "dispatch_date",
    "delivery_date",
    "due_date",
)
RUN_ORDER_FIELDS = ("sequence", "start_minute", "end_minute", "changeover_minutes")
SEARCH_DAYS = 400  # bounds every calendar walk: no plant is closed for more than a year
MATERIAL_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken rule, located by rule key and order, explained for a planner."""

    rule: str
    order_id: str | None
    message: str

    def __str__(self) -> str:
        if self.order_id is None:
            return f"[{self.rule}] {self.message}"
        return f"[{self.rule}] order {self.order_id}: {self.message}"


# -- public API -----------------------------------------------------------------------


def validate_schedule(
    dataset: Dataset,
    schedule: dict,
    previous: dict | None = None,
    frozen_days: int | None = None,
) -> list[Violation]:
    """Every violation of PROBLEM.md's rules (empty list = valid).

    Parameters
    ----------
    dataset
        The planning data the schedule was made for.
    schedule
        A schedule document as described in FORMATS.md.
    previous
        The previous plan, when replanning; enables the frozen-window check
        and the ``changed_orders`` objective term.
    frozen_days
        Working days from the plan start that are frozen; ``None`` uses
        ``dataset.plant.frozen_days``.
    """
    try:
        context = _Context.build(dataset, schedule, previous, frozen_days)
    except Exception:  # the checker reports, it never crashes, whatever the document holds
        logger.exception("the schedule document could not be read")
        return [Violation("format", None, "the schedule document could not be read")]
    checks = (
        _check_format,
        _check_plan_start,
        _check_coverage,
        _check_horizon,
        _check_routing,
        _check_pinned_line,
        _check_pinned_start,
        _check_earliest_start,
        _check_minutes,
        _check_quantity,
        _check_production_dates,
        _check_consecutive_days,
        _check_full_days,
        _check_carry_over,
        _check_capacity,
        _check_sequence,
        _check_run_minutes,
        _check_changeover,
        _check_materials,
        _check_inspection_date,
        _check_dispatch_date,
        _check_inspection_cap,
        _check_dispatch_cap,
        _check_delivery_date,
        _check_due_date,
        _check_days_late,
        _check_frozen_window,
        _check_objective,
        _check_line_loads,
    )
    violations = [violation for check in checks for violation in _run(check, context)]
    logger.debug("schedule checked: %d violation(s)", len(violations))
    return violations


def recompute_objective(dataset: Dataset, schedule: dict, previous: dict | None = None) -> dict[str, int]:
    """The objective terms recomputed from the schedule's dates.

    Returns ``{"unscheduled_priority", "weighted_days_late", "changed_orders",
    "holding_days"}``; ``changed_orders`` is 0 without a previous plan.
    """
    return _Context.build(dataset, schedule, previous, None).objective.as_dict()


def _run(check: Callable[[_Context], Iterator[Violation]], context: _Context) -> list[Violation]:
    try:
        return list(check(context))
    except Exception:  # one check failing must not hide the findings of the others
        logger.exception("validation check %s failed", check.__name__)
        return [Violation("checker", None, f"{check.__name__} could not run on this document")]


# -- working calendar -------------------------------------------------------------------


def _minutes(hours: float) -> int:
    """Whole minutes of a number of hours, rounding halves up."""
    return math.floor(hours * 60 + 0.5)


def _minutes_needed(routing: Routing, quantity: int) -> int:
    """Setup plus run minutes of an order of ``quantity`` units on the routing's line."""
    return _minutes(routing.setup_hours) + math.ceil(quantity * 60 / routing.units_per_hour - 1e-9)


@functools.cache
def _chinese_years() -> frozenset[int]:
    return frozenset(day.year for day in chinese_calendar.constants.holidays)


@functools.cache
def _statutory_days(country: str | None, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """Official days off and officially adjusted working days of a country in a year."""
    if not country:
        return frozenset(), frozenset()
    if country.upper() == "CN":
        if year not in _chinese_years():
            logger.warning("no official CN holiday data for %d: weekdays and calendar.csv only", year)
            return frozenset(), frozenset()
        official = chinese_calendar.constants
        days_off = frozenset(day for day in official.holidays if day.year == year)
        adjusted = frozenset(day for day in official.workdays if day.year == year)
        return days_off, adjusted
    try:
        return frozenset(holidays.country_holidays(country, years=year)), frozenset()
    except NotImplementedError:
        logger.warning("no holiday data for country %r: weekdays and calendar.csv only", country)
        return frozenset(), frozenset()


def _days_from(start: dt.date, step: int, count: int = SEARCH_DAYS) -> Iterator[dt.date]:
    for offset in range(count):
        yield start + dt.timedelta(days=step * offset)


class _WorkingCalendar:
    """Plant working days and line capacities, recomputed from the dataset alone."""

    def __init__(self, dataset: Dataset) -> None:
        plant = dataset.plant
        self._workdays = frozenset(WEEKDAYS.index(day) for day in plant.workdays)
        self._country = plant.holiday_country
        self._exceptions = {exception.date: exception.working for exception in dataset.calendar}
        self._line_hours = {(entry.line_id, entry.date): entry.hours for entry in dataset.line_calendar}
        self._hours_per_day = {line.line_id: line.hours_per_day for line in dataset.lines}

    def is_plant_working(self, day: dt.date) -> bool:
        """Workdays minus statutory holidays plus adjusted working days; calendar.csv overrides."""
        if day in self._exceptions:
            return self._exceptions[day]
        days_off, adjusted = _statutory_days(self._country, day.year)
        if day in adjusted:
            return True
        return day.weekday() in self._workdays and day not in days_off

    def capacity(self, line_id: str, day: dt.date) -> int:
        """Minutes of the line on the date: line_calendar.csv, else hours_per_day on plant working days."""
        hours = self._line_hours.get((line_id, day))
        if hours is None:
            hours = self._hours_per_day.get(line_id, 0.0) if self.is_plant_working(day) else 0.0
        return _minutes(hours)

    def next_plant_working_day(self, day: dt.date) -> dt.date | None:
        """The first plant working day strictly after ``day``."""
        return next((d for d in _days_from(day + dt.timedelta(days=1), 1) if self.is_plant_working(d)), None)

    def plant_working_days(self, start: dt.date, count: int) -> list[dt.date]:
        """The first ``count`` plant working days on or after ``start``."""
        found: list[dt.date] = []
        for day in _days_from(start, 1, count * 7 + SEARCH_DAYS):
            if len(found) >= count:
                break
            if self.is_plant_working(day):
                found.append(day)
        return found

    def line_working_day(self, line_id: str, day: dt.date, step: int) -> dt.date | None:
        """The line's first working day from ``day`` on (inclusive), walking by ``step`` days."""
        return next((d for d in _days_from(day, step) if self.capacity(line_id, d) > 0), None)


# -- the document, parsed as far as it goes ----------------------------------------------


@dataclass(frozen=True)
class _Allocation:
    date: dt.date
    minutes: int
    quantity: int


@dataclass(frozen=True)
class _Entry:
    """One element of the document's "orders" list; unreadable fields are ``None``."""

    order_id: str
    order: Order | None
    line_id: str | None
    dates: dict[str, dt.date | None]
    days_late: int | None
    allocations: tuple[_Allocation, ...] | None
    sequence: int | None = None  # absent in documents older than run order
    start_minute: int | None = None
    end_minute: int | None = None
    changeover_minutes: int | None = None  # absent in documents older than changeovers

    @property
    def is_planned(self) -> bool:
        return self.order is not None and self.order.is_planned

    @property
    def start(self) -> dt.date | None:
        """The first production day: the first allocation, else the stated production_start."""
        return self.allocations[0].date if self.allocations else self.dates.get("production_start")

    @property
    def end(self) -> dt.date | None:
        """The last production day: the last allocation, else the stated production_end."""
        return self.allocations[-1].date if self.allocations else self.dates.get("production_end")

    @property
    def where(self) -> str:
        return f"on line {self.line_id}" if self.line_id else "on an unknown line"


@dataclass(frozen=True)
class _Load:
    line_id: str
    date: dt.date
    minutes_used: int
    minutes_available: int


@dataclass(frozen=True)
class _PreviousEntry:
    line_id: str | None
    start: dt.date | None


@dataclass
class _Document:
    plan_start: dt.date | None = None
    entries: tuple[_Entry, ...] = ()
    unscheduled: tuple[tuple[str, Any], ...] = ()  # (order_id, reason as written)
    objective: dict | None = None
    line_loads: tuple[_Load, ...] = ()
    problems: tuple[Violation, ...] = ()


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _format(order_id: str | None, message: str) -> Violation:
    return Violation("format", order_id, message)


def _parse_document(dataset: Dataset, schedule: object) -> _Document:
    if not isinstance(schedule, dict):
        return _Document(problems=(_format(None, "the schedule is not a JSON object"),))
    problems: list[Violation] = []
    plan_start = _as_date(schedule.get("plan_start"))
    if plan_start is None:
        problems.append(
            _format(None, f"plan_start is missing or not a YYYY-MM-DD date: {schedule.get('plan_start')!r}")
        )
    entries = tuple(
        entry
        for index, raw in enumerate(_list(schedule, "orders", problems, required=True))
        if (entry := _parse_entry(dataset, raw, index, problems)) is not None
    )
    unscheduled = tuple(
        item
        for index, raw in enumerate(_list(schedule, "unscheduled", problems, required=True))
        if (item := _parse_unscheduled(dataset, raw, index, problems)) is not None
    )
    loads = tuple(
        load
        for index, raw in enumerate(_list(schedule, "line_loads", problems, required=False))
        if (load := _parse_load(dataset, raw, index, problems)) is not None
    )
    objective = schedule.get("objective")
    if objective is not None and not isinstance(objective, dict):
        problems.append(_format(None, f"objective is not an object: {objective!r}"))
        objective = None
    return _Document(plan_start, entries, unscheduled, objective, loads, tuple(problems))


def _list(schedule: dict, key: str, problems: list[Violation], required: bool) -> list:
    value = schedule.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        problems.append(_format(None, f'"{key}" is missing or not a list'))
        return []
    return value


def _parse_entry(dataset: Dataset, raw: object, index: int, problems: list[Violation]) -> _Entry | None:
    where = f"orders[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("order_id"), str) or not raw["order_id"]:
        problems.append(_format(None, f"{where} is not an object with an order_id"))
        return None
    order_id = raw["order_id"]
    order = dataset.order_by_id.get(order_id)
    if order is None:
        problems.append(_format(order_id, f"{where}: unknown order {order_id!r}"))
    line_id = raw.get("line_id")
    if not isinstance(line_id, str) or line_id not in dataset.line_by_id:
        problems.append(_format(order_id, f"{where}: unknown line {line_id!r}"))
        line_id = None
    dates = {name: _as_date(raw.get(name)) for name in DATE_FIELDS}
    for name, value in dates.items():
        if value is None:
            problems.append(
                _format(order_id, f"{where}: {name} is missing or not a YYYY-MM-DD date: {raw.get(name)!r}")
            )
    days_late = _as_int(raw.get("days_late"))
    if days_late is None:
        problems.append(_format(order_id, f"{where}: days_late is missing or not a whole number"))
    allocations = _parse_allocations(raw.get("allocations"), order_id, where, problems)
    run_order = {name: _optional_int(raw, name, order_id, where, problems) for name in RUN_ORDER_FIELDS}
    return _Entry(order_id, order, line_id, dates, days_late, allocations, **run_order)


def _optional_int(raw: dict, name: str, order_id: str, where: str, problems: list[Violation]) -> int | None:
    """A whole number the document may leave out (older documents do); present, it must be one."""
    if raw.get(name) is None:
        return None
    value = _as_int(raw[name])
    if value is None:
        problems.append(_format(order_id, f"{where}: {name} is not a whole number: {raw[name]!r}"))
    return value


def _parse_allocations(
    raw: object, order_id: str, where: str, problems: list[Violation]
) -> tuple[_Allocation, ...] | None:
    if not isinstance(raw, list):
        problems.append(_format(order_id, f"{where}: allocations is missing or not a list"))
        return None
    allocations = []
    for index, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        date, minutes, quantity = (
            _as_date(item.get("date")),
            _as_int(item.get("minutes")),
            _as_int(item.get("quantity")),
        )
        if date is None or minutes is None or quantity is None:
            problems.append(
                _format(order_id, f"{where}.allocations[{index}] needs a date, whole minutes and a whole quantity")
            )
            return None
        allocations.append(_Allocation(date, minutes, quantity))
    return tuple(allocations)


def _parse_unscheduled(dataset: Dataset, raw: object, index: int, problems: list[Violation]) -> tuple[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("order_id"), str) or not raw["order_id"]:
        problems.append(_format(None, f"unscheduled[{index}] is not an object with an order_id"))
        return None
    if raw["order_id"] not in dataset.order_by_id:
        problems.append(_format(raw["order_id"], f"unscheduled[{index}]: unknown order {raw['order_id']!r}"))
    return raw["order_id"], raw.get("reason")


def _parse_load(dataset: Dataset, raw: object, index: int, problems: list[Violation]) -> _Load | None:
    raw = raw if isinstance(raw, dict) else {}
    line_id, date = raw.get("line_id"), _as_date(raw.get("date"))
    used, available = _as_int(raw.get("minutes_used")), _as_int(raw.get("minutes_available"))
    if line_id not in dataset.line_by_id or date is None or used is None or available is None:
        problems.append(
            _format(
                None, f"line_loads[{index}] needs a known line_id, a date, whole minutes_used and minutes_available"
            )
        )
        return None
    return _Load(line_id, date, used, available)


def _parse_previous(previous: object) -> dict[str, _PreviousEntry] | None:
    """The previous plan's line and start per order; unreadable parts are skipped with a warning."""
    if previous is None:
        return None
    raw_orders = previous.get("orders") if isinstance(previous, dict) else None
    if not isinstance(raw_orders, list):
        logger.warning("the previous plan has no orders list; it is treated as empty")
        return {}
    parsed: dict[str, _PreviousEntry] = {}
    for raw in raw_orders:
        if isinstance(raw, dict) and isinstance(raw.get("order_id"), str):
            line_id = raw.get("line_id") if isinstance(raw.get("line_id"), str) else None
            parsed.setdefault(raw["order_id"], _PreviousEntry(line_id, _as_date(raw.get("production_start"))))
        else:
            logger.warning("skipping an unreadable order of the previous plan: %r", raw)
    return parsed


# -- what the checks share ---------------------------------------------------------------


@dataclass(frozen=True)
class _AfterProduction:
    """The dates the time rules give an order that ends production on a date."""

    inspection: dt.date
    dispatch: dt.date
    delivery: dt.date
    days_late: int


@dataclass(frozen=True)
class _LineRun:
    """A run on its line: the run before it, the family the line is set up for, the changeover due."""

    entry: _Entry
    before: _Entry | None
    family: str  # the line's family when the run begins ("" none)
    changeover: int


def _start_key(entry: _Entry) -> tuple:
    """Where a run starts on its line: its first production day, then its start minute."""
    start_minute = entry.start_minute if entry.start_minute is not None else 0
    return (entry.start or dt.date.min, start_minute, len(entry.allocations or ()) > 1, entry.order_id)


@dataclass
class _Context:
    dataset: Dataset
    calendar: _WorkingCalendar
    document: _Document
    previous: dict[str, _PreviousEntry] | None
    frozen_days: int

    @classmethod
    def build(cls, dataset: Dataset, schedule: object, previous: object, frozen_days: int | None) -> _Context:
        days = dataset.plant.frozen_days if frozen_days is None else frozen_days
        document = _parse_document(dataset, schedule)
        return cls(dataset, _WorkingCalendar(dataset), document, _parse_previous(previous), days)

    @cached_property
    def planned_entries(self) -> tuple[_Entry, ...]:
        """Entries of confirmed and in-production orders of the dataset."""
        return tuple(entry for entry in self.document.entries if entry.is_planned)

    @cached_property
    def scheduled(self) -> dict[str, _Entry]:
        """The first entry of each planned order."""
        scheduled: dict[str, _Entry] = {}
        for entry in self.planned_entries:
            scheduled.setdefault(entry.order_id, entry)
        return scheduled

    @cached_property
    def runs(self) -> tuple[_Entry, ...]:
        """Planned entries with a known line and readable allocations."""
        return tuple(e for e in self.planned_entries if e.line_id is not None and e.allocations is not None)

    @cached_property
    def line_entries(self) -> tuple[_Entry, ...]:
        """Every entry (planned or not) that puts minutes on a known line."""
        return tuple(e for e in self.document.entries if e.line_id is not None and e.allocations)

    @cached_property
    def minutes_used(self) -> dict[tuple[str, dt.date], dict[str, int]]:
        """Minutes per order on each line and date."""
        used: dict[tuple[str, dt.date], dict[str, int]] = {}
        for entry in self.line_entries:
            for allocation in entry.allocations or ():
                by_order = used.setdefault((entry.line_id or "", allocation.date), {})
                by_order[entry.order_id] = by_order.get(entry.order_id, 0) + allocation.minutes
        return used

    @cached_property
    def line_runs(self) -> dict[str, list[_LineRun]]:
        """Runs of known orders on each line by start, each with the changeover the rule puts in front of it.

        "Follows" is the order of runs on the line by start: by first production day, then
        by start minute (a run carrying on into the next day starts last on its first day).
        """
        by_line: dict[str, list[_Entry]] = {}
        for entry in self.line_entries:
            if entry.order is not None:
                by_line.setdefault(entry.line_id or "", []).append(entry)
        line_runs = {}
        for line_id, entries in sorted(by_line.items()):
            entries.sort(key=_start_key)
            orders = [entry.order for entry in entries if entry.order is not None]
            changeovers = line_changeovers(self.dataset, line_id, orders)
            family, runs = self.dataset.line_by_id[line_id].initial_family, []
            for position, (entry, changeover) in enumerate(zip(entries, changeovers, strict=True)):
                before = entries[position - 1] if position else None
                runs.append(_LineRun(entry, before, family, changeover))
                family = family_after(self.dataset, family, orders[position])
            line_runs[line_id] = runs
        return line_runs

    @cached_property
    def changeover(self) -> dict[str, int]:
        """The changeover in front of each order's run (0 for an order not on a known line)."""
        return {run.entry.order_id: run.changeover for runs in self.line_runs.values() for run in runs}

    def routing(self, entry: _Entry) -> Routing | None:
        if entry.order is None or entry.line_id is None:
            return None
        routings = self.dataset.routings_by_product.get(entry.order.product_id, ())
        return next((r for r in routings if r.line_id == entry.line_id), None)

    def after_production(self, entry: _Entry) -> _AfterProduction | None:
        """Inspection, dispatch, delivery and days late recomputed from the last production day."""
        if entry.order is None or entry.end is None:
            return None
        inspection = self.calendar.next_plant_working_day(entry.end)
        dispatch = self.calendar.next_plant_working_day(inspection) if inspection else None
        if inspection is None or dispatch is None:
            return None
        delivery = dispatch + dt.timedelta(days=self.dataset.transit_days(entry.order))
        return _AfterProduction(inspection, dispatch, delivery, max(0, (delivery - entry.order.due_date).days))

    @cached_property
    def objective(self) -> Objective:
        """The four objective terms recomputed from the schedule's dates.

        Level 1: Σ priority over unscheduled orders. Level 2: Σ priority × days_late.
        Level 3: see :attr:`changed_orders`.
        Level 4, holding: days between delivery and due date beyond the 7 days within which customers must collect.

        A planned order missing from "orders" counts as unscheduled whether or not
        "unscheduled" lists it (the coverage check reports the omission).
        """
        unscheduled = [o for o in self.dataset.planned_orders if o.order_id not in self.scheduled]
        weighted_days_late = holding_days = 0
        for entry in self.scheduled.values():
            dates = self.after_production(entry)
            if dates is None or entry.order is None:
                continue
            weighted_days_late += entry.order.priority * dates.days_late
            holding_days += max(0, (entry.order.due_date - dates.delivery).days - COLLECTION_DAYS)
        unscheduled_priority = sum(order.priority for order in unscheduled)
        return Objective(unscheduled_priority, weighted_days_late, self.changed_orders, holding_days)

    @cached_property
    def changed_orders(self) -> int:
        """Orders whose line or start day changes against the previous plan are counted (plan stability):
        orders of the previous plan, still planned, now unscheduled or on another line or start."""
        changed = 0
        for order_id, before in (self.previous or {}).items():
            order = self.dataset.order_by_id.get(order_id)
            if order is None or not order.is_planned:
                continue
            now = self.scheduled.get(order_id)
            if now is None or (now.line_id, now.start) != (before.line_id, before.start):
                changed += 1
        return changed


def _day(day: dt.date) -> str:
    return f"{day.isoformat()} ({WEEKDAYS[day.weekday()]})"


# -- the checks, in the order of PROBLEM.md ----------------------------------------------


def _check_format(context: _Context) -> Iterator[Violation]:
    """A schedule is a document shaped as FORMATS.md's "Schedule document" describes."""
    yield from context.document.problems


def _check_plan_start(context: _Context) -> Iterator[Violation]:
    """The plan start is day 0 of the plan."""
    stated, plan_start = context.document.plan_start, context.dataset.plant.plan_start
    if stated is not None and stated != plan_start:
        yield Violation(
            "plan_start", None, f"the schedule starts on {stated} but the plant's plan_start is {plan_start}"
        )


def _check_coverage(context: _Context) -> Iterator[Violation]:
    """Confirmed and in_production orders are planned, or reported unscheduled with their reason; no other order."""
    orders = context.dataset.order_by_id
    appearances: dict[str, int] = {}
    for order_id in [e.order_id for e in context.document.entries] + [i for i, _ in context.document.unscheduled]:
        appearances[order_id] = appearances.get(order_id, 0) + 1
    for order in context.dataset.planned_orders:
        count = appearances.get(order.order_id, 0)
        if count != 1:
            where = "neither scheduled nor unscheduled" if count == 0 else f"listed {count} times"
            yield Violation("coverage", order.order_id, f"{order.status} order is {where}; it must appear exactly once")
    for order_id in appearances:
        order = orders.get(order_id)
        if order is not None and not order.is_planned:
            yield Violation("coverage", order_id, f"status {order.status} uses no capacity and must not appear")
    for order_id, reason in context.document.unscheduled:
        if not isinstance(reason, str) or not reason.strip():
            yield Violation("coverage", order_id, "unscheduled without a reason")


def _check_horizon(context: _Context) -> Iterator[Violation]:
    """Nothing is produced before the plan start or after the horizon."""
    plant = context.dataset.plant
    for entry in context.line_entries:
        for allocation in entry.allocations or ():
            if not plant.plan_start <= allocation.date <= plant.horizon_end:
                yield Violation(
                    "horizon",
                    entry.order_id,
                    f"produces {entry.where} on {_day(allocation.date)}, outside the horizon "
                    f"{plant.plan_start} to {plant.horizon_end}",
                )


def _check_routing(context: _Context) -> Iterator[Violation]:
    """A product can be made on the lines listed for it in routings.csv."""
    for entry in context.planned_entries:
        if entry.order is not None and entry.line_id is not None and context.routing(entry) is None:
            yield Violation(
                "routing", entry.order_id, f"product {entry.order.product_id} has no routing on line {entry.line_id}"
            )


def _check_pinned_line(context: _Context) -> Iterator[Violation]:
    """In_production orders keep the line given in pinned_line and start on that line's first working day on or after the plan start."""
    plant = context.dataset.plant
    for entry in context.planned_entries:
        order = entry.order
        if order is None or order.status != "in_production" or order.pinned_line is None:
            continue
        if entry.line_id != order.pinned_line:
            yield Violation("pinned_line", entry.order_id, f"is {entry.where} but pinned to line {order.pinned_line}")
            continue
        first_day = context.calendar.line_working_day(order.pinned_line, plant.plan_start, 1)
        if entry.start is not None and entry.start != first_day:
            expected = _day(first_day) if first_day else "none found"
            yield Violation(
                "pinned_line",
                entry.order_id,
                f"in production: must continue on line {order.pinned_line}'s first working day on or after "
                f"{plant.plan_start}, {expected}, but starts on {_day(entry.start)}",
            )


def _manual_pin(order: Order) -> tuple[str, dt.date] | None:
    """The line and first production day a planner pinned a confirmed order to, if any."""
    if order.status == "confirmed" and order.pinned_line and order.pinned_start is not None:
        return order.pinned_line, order.pinned_start
    return None


def _check_pinned_start(context: _Context) -> Iterator[Violation]:
    """A confirmed order with pinned_line and pinned_start runs on that line and its first production day is pinned_start.
    A confirmed order with pinned_line and no pinned_start runs on that line.
    """
    for entry in context.planned_entries:
        order = entry.order
        if order is None or order.status != "confirmed" or not order.pinned_line:
            continue
        if entry.line_id != order.pinned_line:
            yield Violation("pinned_start", entry.order_id, f"is {entry.where} but pinned to line {order.pinned_line}")
            continue
        pin = _manual_pin(order)
        if pin is not None and entry.start is not None and entry.start != pin[1]:
            yield Violation(
                "pinned_start",
                entry.order_id,
                f"pinned to start on line {pin[0]} on {_day(pin[1])}, but starts on {_day(entry.start)}",
            )


def _check_earliest_start(context: _Context) -> Iterator[Violation]:
    """No order starts before its earliest_start (when given) nor before the plan start.

    An in-production order is already running: it continues on the plan start whatever
    its earliest_start said (its start day is checked by the pinned-line rule).
    """
    plan_start = context.dataset.plant.plan_start
    for entry in context.planned_entries:
        if entry.order is None or entry.start is None:
            continue
        if entry.order.status == "in_production":
            continue
        earliest = max(plan_start, entry.order.earliest_start or plan_start)
        if entry.start < earliest:
            yield Violation(
                "earliest_start",
                entry.order_id,
                f"starts {entry.where} on {_day(entry.start)}, before its earliest start {_day(earliest)}",
            )


def _check_minutes(context: _Context) -> Iterator[Violation]:
    """On line l an order needs changeover + round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour) minutes."""
    for entry in context.runs:
        for allocation in entry.allocations or ():
            if allocation.minutes <= 0:
                yield Violation(
                    "minutes", entry.order_id, f"{allocation.minutes} min on {_day(allocation.date)}; must be > 0"
                )
        routing = context.routing(entry)
        if routing is None or entry.order is None:
            continue
        changeover = context.changeover.get(entry.order_id, 0)
        needed = changeover + _minutes_needed(routing, entry.order.quantity)
        total = sum(a.minutes for a in entry.allocations or ())
        if total != needed:
            with_changeover = f" ({changeover} min changeover first)" if changeover else ""
            yield Violation(
                "minutes",
                entry.order_id,
                f"{entry.order.quantity} units {entry.where} need {needed} min{with_changeover}, "
                f"the allocations add up to {total} min",
            )


def _check_quantity(context: _Context) -> Iterator[Violation]:
    """The units finished each production day add up to the order's quantity."""
    for entry in context.runs:
        if entry.order is None:
            continue
        for allocation in entry.allocations or ():
            if allocation.quantity < 0:
                yield Violation("quantity", entry.order_id, f"negative quantity on {_day(allocation.date)}")
        total = sum(a.quantity for a in entry.allocations or ())
        if total != entry.order.quantity:
            yield Violation(
                "quantity",
                entry.order_id,
                f"allocations finish {total} units but the order is for {entry.order.quantity}",
            )


def _check_production_dates(context: _Context) -> Iterator[Violation]:
    """production_start and production_end are the order's first and last production days."""
    for entry in context.runs:
        if not entry.allocations:
            continue
        for name, actual in (("production_start", entry.start), ("production_end", entry.end)):
            stated = entry.dates.get(name)
            if stated is not None and actual is not None and stated != actual:
                yield Violation(
                    "production_dates",
                    entry.order_id,
                    f"{name} is {_day(stated)} but the allocations give {_day(actual)}",
                )


def _check_consecutive_days(context: _Context) -> Iterator[Violation]:
    """Its production days are consecutive working days of that line (days with capacity > 0)."""
    for entry in context.runs:
        line_id = entry.line_id or ""
        days = [a.date for a in entry.allocations or ()]
        for day in days:
            if context.calendar.capacity(line_id, day) <= 0:
                yield Violation("consecutive_days", entry.order_id, f"line {line_id} does not work on {_day(day)}")
        for before, after in itertools.pairwise(days):
            if after <= before:
                yield Violation(
                    "consecutive_days", entry.order_id, f"allocation dates not increasing: {before} then {after}"
                )
                continue
            skipped = context.calendar.line_working_day(line_id, before + dt.timedelta(days=1), 1)
            if skipped is not None and skipped < after:
                yield Violation(
                    "consecutive_days",
                    entry.order_id,
                    f"run on line {line_id} is interrupted: working day {_day(skipped)} skipped "
                    f"between {before} and {after}",
                )


def _check_full_days(context: _Context) -> Iterator[Violation]:
    """Every day strictly between its first and its last day is filled entirely by it."""
    for entry in context.runs:
        line_id = entry.line_id or ""
        for allocation in (entry.allocations or ())[1:-1]:
            capacity = context.calendar.capacity(line_id, allocation.date)
            if allocation.minutes != capacity:
                yield Violation(
                    "full_days",
                    entry.order_id,
                    f"uses {allocation.minutes} of {capacity} min on line {line_id} on {_day(allocation.date)}, "
                    "a day inside its run that it must fill",
                )


def _check_carry_over(context: _Context) -> Iterator[Violation]:
    """On any day at most one order carries over from the day before and at most one carries on into the next.

    The third clause (an order that does both fills the day) is :func:`_check_full_days`.
    """
    carried_in: dict[tuple[str, dt.date], list[str]] = {}
    carried_on: dict[tuple[str, dt.date], list[str]] = {}
    for entry in context.line_entries:
        line_id, days = entry.line_id or "", {a.date for a in entry.allocations or ()}
        for day in sorted(days):
            before = context.calendar.line_working_day(line_id, day - dt.timedelta(days=1), -1)
            after = context.calendar.line_working_day(line_id, day + dt.timedelta(days=1), 1)
            if before in days:
                carried_in.setdefault((line_id, day), []).append(entry.order_id)
            if after in days:
                carried_on.setdefault((line_id, day), []).append(entry.order_id)
    for what, runs in (("carry over from the day before", carried_in), ("carry on into the next day", carried_on)):
        for (line_id, day), order_ids in sorted(runs.items()):
            if len(order_ids) > 1:
                yield Violation(
                    "carry_over", None, f"line {line_id} on {_day(day)}: orders {', '.join(order_ids)} all {what}"
                )


def _check_capacity(context: _Context) -> Iterator[Violation]:
    """Per line and date, the minutes of all orders add up to at most the capacity."""
    for (line_id, day), by_order in sorted(context.minutes_used.items()):
        capacity, used = context.calendar.capacity(line_id, day), sum(by_order.values())
        if used > capacity:
            parts = " + ".join(f"{order_id} {minutes}" for order_id, minutes in by_order.items())
            order_id = next(iter(by_order)) if len(by_order) == 1 else None
            yield Violation(
                "capacity",
                order_id,
                f"line {line_id} on {_day(day)}: {parts} = {used} min exceeds the capacity of {capacity} min",
            )


def _check_sequence(context: _Context) -> Iterator[Violation]:
    """`sequence` is the run's position on its line in this plan (1 = first; runs on a line in sequence order never go back in time).

    Checked among the runs that carry a sequence (older documents carry none, and an order
    review's placement added to a plan has none of its own): on each line numbered 1..n
    without gaps, each run ending on or before the day the next one starts, and on a shared
    day no later than the minute the next one starts.
    """
    by_line: dict[str, list[_Entry]] = {}
    for entry in context.line_entries:
        if entry.sequence is not None:
            by_line.setdefault(entry.line_id or "", []).append(entry)
    for line_id, runs in sorted(by_line.items()):
        numbers = sorted(run.sequence or 0 for run in runs)
        if numbers != list(range(1, len(runs) + 1)):
            yield Violation("sequence", None, f"line {line_id}: sequences {numbers} are not 1..{len(runs)}")
        ordered = sorted(runs, key=lambda run: run.sequence or 0)
        for before, after in itertools.pairwise(ordered):
            if _goes_back(before, after):
                yield Violation(
                    "sequence",
                    after.order_id,
                    f"sequence {after.sequence} on line {line_id} starts {_day(after.start)} minute "
                    f"{after.start_minute}, before {before.order_id} (sequence {before.sequence}) ends "
                    f"{_day(before.end)} minute {before.end_minute}",
                )


def _goes_back(before: _Entry, after: _Entry) -> bool:
    """Whether ``after`` starts before ``before`` ends (by days, then by minutes on a shared day)."""
    if before.end is None or after.start is None or before.end != after.start:
        return before.end is not None and after.start is not None and after.start < before.end
    if before.end_minute is None or after.start_minute is None:
        return False  # the run-minutes check reports the missing times
    return after.start_minute < before.end_minute


def _check_run_minutes(context: _Context) -> Iterator[Violation]:
    """start_minute and end_minute are when the run starts on its first production day and ends on its last one.

    A run that carries on into the next day fills its first day to the end, so it starts at
    the day's minutes less its own; one that carries over from the day before starts its last
    day at minute 0, so it ends at its minutes there; a one-day run lasts its minutes within the day.
    """
    for entry in context.line_entries:
        if entry.sequence is None or not entry.allocations:
            continue
        problem = _run_minutes_problem(context, entry)
        if problem:
            yield Violation("run_minutes", entry.order_id, problem)


def _run_minutes_problem(context: _Context, entry: _Entry) -> str | None:
    """What is wrong with an entry's start_minute/end_minute, or ``None``."""
    allocations = entry.allocations or ()
    start, end = entry.start_minute, entry.end_minute
    if start is None or end is None:
        return "carries a sequence but no start_minute and end_minute"
    capacity = context.calendar.capacity(entry.line_id or "", allocations[0].date)
    if len(allocations) > 1:
        expected = (capacity - allocations[0].minutes, allocations[-1].minutes)
        if (start, end) != expected:
            return (
                f"start_minute/end_minute are {start}/{end} but a run {entry.where} of {allocations[0].minutes} min "
                f"on {_day(allocations[0].date)} (of {capacity}) and {allocations[-1].minutes} min on "
                f"{_day(allocations[-1].date)} gives {expected[0]}/{expected[1]}"
            )
    elif end - start != allocations[0].minutes or start < 0 or end > capacity:
        return (
            f"start_minute/end_minute {start}/{end} are not {allocations[0].minutes} min within the "
            f"{capacity} min of line {entry.line_id} on {_day(allocations[0].date)}"
        )
    return None


def _check_changeover(context: _Context) -> Iterator[Violation]:
    """When an order follows, on the same line, an order of another family, the line spends the changeover minutes of that pair before the order's own setup.

    ``changeover_minutes`` states that changeover (0 without one) and ``sequence`` the run's
    place; both are required when the plan carries changeovers. The changeover's minutes
    come first in the allocations (:func:`_check_minutes` counts them), so the run's first
    production day, when its materials are issued, is the day its changeover begins.
    """
    required = plans_changeovers(context.dataset)
    for line_id, runs in context.line_runs.items():
        for run in runs:
            entry = run.entry
            if required and entry.sequence is None:
                yield Violation("changeover", entry.order_id, f"{entry.where}: states no sequence; changeovers need it")
            stated = entry.changeover_minutes
            if stated == run.changeover or (stated is None and not required):
                continue
            yield Violation(
                "changeover",
                entry.order_id,
                f"changeover_minutes is {'missing' if stated is None else stated} but {_follows(context, run)} "
                f"on line {line_id} from {_day(entry.start) if entry.start else 'an unknown day'}: "
                f"the changeover in front of it is {run.changeover} min",
            )


def _follows(context: _Context, run: _LineRun) -> str:
    """What the run follows on its line, in the rule's words."""
    order = run.entry.order
    family = context.dataset.family_of(order.product_id) if order else ""
    if order is not None and order.status == "in_production":
        return "it is in production (its line is already set up)"
    after = f"it follows {run.before.order_id}" if run.before else "it is the line's first run"
    if not run.family:
        return f"{after}, with the line set up for no family"
    return f"{after}, with the line set up for family {run.family}, and is of family {family or '(none)'}"


def _check_materials(context: _Context) -> Iterator[Violation]:
    """For every material and every date d, the materials issued to orders starting on or before d add up to at most what is available up to d.

    An order's materials are issued in full on its first production day; in_production orders already have
    their materials.
    """
    plant, dataset = context.dataset.plant, context.dataset
    issues: dict[str, list[tuple[dt.date, str, float]]] = {}
    for entry in context.scheduled.values():
        order = entry.order
        if order is None or order.status != "confirmed" or entry.start is None:
            continue  # in_production orders already have their materials
        issue_day = max(entry.start, plant.plan_start)
        for item in dataset.bom_by_product.get(order.product_id, ()):
            issues.setdefault(item.material_id, []).append(
                (issue_day, order.order_id, order.quantity * item.qty_per_unit)
            )
    for material_id, material_issues in sorted(issues.items()):
        yield from _material_shortages(context, material_id, sorted(material_issues))


def _material_shortages(
    context: _Context, material_id: str, issues: list[tuple[dt.date, str, float]]
) -> Iterator[Violation]:
    material = context.dataset.material_by_id.get(material_id)
    on_hand = material.on_hand if material else 0.0
    arrivals = [a for a in context.dataset.arrivals if a.material_id == material_id]
    for day in sorted({d for d, _, _ in issues if d <= context.dataset.plant.horizon_end}):
        issued = sum(qty for d, _, qty in issues if d <= day)
        available = on_hand + sum(a.qty for a in arrivals if a.date <= day)
        if issued > available + MATERIAL_TOLERANCE * max(1.0, available):
            starting = [order_id for d, order_id, _ in issues if d == day]
            yield Violation(
                "material",
                starting[0],
                f"material {material_id}: orders starting on or before {_day(day)} need {issued:g} "
                f"but only {available:g} is available by then (on hand {on_hand:g} plus arrivals); "
                f"starting that day: {', '.join(starting)}",
            )


def _time_rule_dates(context: _Context) -> Iterator[tuple[_Entry, _AfterProduction]]:
    """Each scheduled order with the dates the time rules give it."""
    for entry in context.planned_entries:
        expected = context.after_production(entry)
        if expected is not None:
            yield entry, expected


def _check_inspection_date(context: _Context) -> Iterator[Violation]:
    """Inspection takes place on the first plant working day strictly after the last production day."""
    for entry in context.planned_entries:
        if entry.end is not None and entry.order is not None and context.after_production(entry) is None:
            yield Violation(
                "inspection_date", entry.order_id, f"no plant working days within {SEARCH_DAYS} days after {entry.end}"
            )
    for entry, expected in _time_rule_dates(context):
        stated = entry.dates.get("inspection_date")
        if stated is not None and stated != expected.inspection:
            yield Violation(
                "inspection_date",
                entry.order_id,
                f"inspection_date is {_day(stated)} but the first plant working day after the last production day "
                f"{entry.end} is {_day(expected.inspection)}",
            )


def _check_dispatch_date(context: _Context) -> Iterator[Violation]:
    """Dispatch takes place on the first plant working day strictly after inspection."""
    for entry, expected in _time_rule_dates(context):
        stated = entry.dates.get("dispatch_date")
        if stated is not None and stated != expected.dispatch:
            yield Violation(
                "dispatch_date",
                entry.order_id,
                f"dispatch_date is {_day(stated)} but the first plant working day after inspection on "
                f"{expected.inspection} is {_day(expected.dispatch)}",
            )


def _check_inspection_cap(context: _Context) -> Iterator[Violation]:
    """On every date, the orders whose inspection falls on it are at most the cap (inspection_orders_per_day)."""
    yield from _over_cap(
        context,
        "inspection_cap",
        context.dataset.inspection_cap,
        lambda dates: dates.inspection,
        "inspected on {day}; the quality department inspects at most {cap} orders per working day",
    )


def _check_dispatch_cap(context: _Context) -> Iterator[Violation]:
    """On every date, the orders whose dispatch falls on it are at most the cap (dispatch_orders_per_day)."""
    yield from _over_cap(
        context,
        "dispatch_cap",
        context.dataset.dispatch_cap,
        lambda dates: dates.dispatch,
        "dispatched on {day}; logistics dispatches at most {cap} orders per working day",
    )


def _over_cap(
    context: _Context,
    rule: str,
    cap: int | None,
    date_of: Callable[[_AfterProduction], dt.date],
    what: str,
) -> Iterator[Violation]:
    """Dates on which more than ``cap`` orders are inspected (or dispatched), by the time rules' dates."""
    if cap is None:
        return
    by_date: dict[dt.date, list[str]] = {}
    for entry, expected in _time_rule_dates(context):
        by_date.setdefault(date_of(expected), []).append(entry.order_id)
    for date, order_ids in sorted(by_date.items()):
        if len(order_ids) > cap:
            yield Violation(rule, None, f"orders {', '.join(order_ids)} are " + what.format(day=_day(date), cap=cap))


def _check_delivery_date(context: _Context) -> Iterator[Violation]:
    """Delivery is dispatch plus the customer's transit_days calendar days."""
    for entry, expected in _time_rule_dates(context):
        stated = entry.dates.get("delivery_date")
        if stated is not None and stated != expected.delivery:
            transit = (expected.delivery - expected.dispatch).days
            yield Violation(
                "delivery_date",
                entry.order_id,
                f"delivery_date is {stated} but dispatch on {expected.dispatch} plus {transit} transit day(s) "
                f"is {expected.delivery}",
            )


def _check_due_date(context: _Context) -> Iterator[Violation]:
    """The schedule states each order's due_date as orders.csv gives it."""
    for entry in context.planned_entries:
        stated = entry.dates.get("due_date")
        if entry.order is not None and stated is not None and stated != entry.order.due_date:
            yield Violation(
                "due_date", entry.order_id, f"due_date is {stated} but the order is due {entry.order.due_date}"
            )


def _check_days_late(context: _Context) -> Iterator[Violation]:
    """Days late is max(0, delivery - due_date) in calendar days."""
    for entry, expected in _time_rule_dates(context):
        if entry.days_late is not None and entry.days_late != expected.days_late:
            yield Violation(
                "days_late",
                entry.order_id,
                f"days_late is {entry.days_late} but delivery on {expected.delivery} gives {expected.days_late}",
            )


def _check_frozen_window(context: _Context) -> Iterator[Violation]:
    """Orders starting inside the frozen window (frozen_days working days from the plan start) keep their line and start exactly.

    A manual pin (pinned_start) is the planner's newer word: it wins over the frozen window.
    """
    if context.previous is None or context.frozen_days <= 0:
        return
    window = set(context.calendar.plant_working_days(context.dataset.plant.plan_start, context.frozen_days))
    for order_id, before in context.previous.items():
        order = context.dataset.order_by_id.get(order_id)
        if order is None or not order.is_planned or before.start not in window or _manual_pin(order):
            continue
        now = context.scheduled.get(order_id)
        if now is None:
            yield Violation(
                "frozen",
                order_id,
                f"was to start on line {before.line_id} on {before.start} (frozen) but is unscheduled",
            )
        elif (now.line_id, now.start) != (before.line_id, before.start):
            yield Violation(
                "frozen",
                order_id,
                f"was to start on line {before.line_id} on {before.start} inside the frozen window of "
                f"{context.frozen_days} working days, but now starts {now.where} on {now.start}",
            )


def _check_objective(context: _Context) -> Iterator[Violation]:
    """The schedule reports its objective value, recomputed here from its dates."""
    stated = context.document.objective
    if stated is None:
        yield Violation("objective", None, "the schedule reports no objective")
        return
    for key, expected in context.objective.as_dict().items():
        if key not in stated:
            yield Violation("objective", None, f"objective {key} is missing; the schedule's dates give {expected}")
        elif _as_int(stated[key]) != expected:
            yield Violation(
                "objective", None, f"objective {key} is {stated[key]!r} but the schedule's dates give {expected}"
            )


def _check_line_loads(context: _Context) -> Iterator[Violation]:
    """Each line load states the minutes the allocations use and the line's capacity that day."""
    for load in context.document.line_loads:
        used = sum(context.minutes_used.get((load.line_id, load.date), {}).values())
        capacity = context.calendar.capacity(load.line_id, load.date)
        if (load.minutes_used, load.minutes_available) != (used, capacity):
            yield Violation(
                "line_loads",
                None,
                f"line {load.line_id} on {_day(load.date)}: load states {load.minutes_used}/{load.minutes_available} "
                f"min but the allocations use {used} of {capacity} min",
            )
