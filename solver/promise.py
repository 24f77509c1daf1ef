"""Order review: how early can a new order be delivered, against the current plan?

``earliest_delivery_fixed`` inserts the order into the capacity and material
the plan leaves free, no committed order moving; ``earliest_delivery_resequenced``
lets CP-SAT move committed orders on the affected lines inside a window, none
of them delivering later than now. Both say why not earlier (``binding``) and
run the company's order-review ``checks``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from solver.calendar import PlantCalendar, hours_to_minutes, run_minutes
from solver.changeover import changeover_before, family_after, line_has_changeovers
from solver.domain import WEEKDAYS, Dataset, Order
from solver.instance import MATERIAL_SCALE, build_instance, scaled_up
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
    minutes_by_day: list[tuple[int, int]]  # the changeover included, on the first day
    delivery_day: int
    changeover: int = 0  # minutes of changeover in front of the run (from the run before it on the line)


@dataclass(frozen=True)
class LedgerRun:
    """A committed run on a line, for the changeovers around a new one: its days, its order
    (product and status give its family) and the changeover the plan gives it (``None``: as
    the rule gives it from the run before)."""

    first_day: int
    last_day: int
    sequence: float
    order: Order
    changeover: int | None = None

    @property
    def key(self) -> tuple[int, int, float]:
        """Run order on the line: by first day, the run carrying on to the next day last of its day."""
        return (self.first_day, int(self.last_day > self.first_day), self.sequence)


@dataclass
class LineLedger:
    """What the plan leaves of one line: free minutes per day and which days a run carries on from."""

    capacity: np.ndarray
    used: np.ndarray
    carries_on: np.ndarray  # a committed run continues from this day to the line's next working day
    runs: list[LedgerRun] = field(default_factory=list)  # committed runs, for the changeovers

    @property
    def free(self) -> np.ndarray:
        return self.capacity - self.used


@dataclass
class DayCounts:
    """Orders inspected and dispatched per day index in a plan (PROBLEM.md "Inspection and dispatch capacity")."""

    inspections: dict[int, int] = field(default_factory=dict)
    dispatches: dict[int, int] = field(default_factory=dict)

    def copy(self) -> DayCounts:
        return DayCounts(dict(self.inspections), dict(self.dispatches))

    def add(self, calendar: PlantCalendar, last_day: int) -> None:
        inspection, dispatch = calendar.inspection_day(last_day), calendar.dispatch_day(last_day)
        self.inspections[inspection] = self.inspections.get(inspection, 0) + 1
        self.dispatches[dispatch] = self.dispatches.get(dispatch, 0) + 1


@dataclass
class PlanLedger:
    """Free capacity per line and day, and free material per day, left by a schedule."""

    calendar: PlantCalendar
    lines: dict[str, LineLedger]
    material_free: dict[str, np.ndarray]  # scaled; what may still be issued on or before each day
    held: list[dict[str, Any]] = field(default_factory=list)
    material_available: dict[str, np.ndarray] = field(default_factory=dict)  # scaled, cumulative per day
    issued: dict[str, np.ndarray] = field(default_factory=dict)  # scaled, per day
    counts: DayCounts = field(default_factory=DayCounts)  # orders inspected / dispatched per day
    # relaxed copies (to test whether they bind) leave these out
    plan_changeovers: bool = True
    plan_caps: bool = True

    def copy(self) -> PlanLedger:
        """An independent ledger to book more runs into (the calendar and availability are shared)."""
        lines = {
            line_id: LineLedger(line.capacity, line.used.copy(), line.carries_on.copy(), list(line.runs))
            for line_id, line in self.lines.items()
        }
        issued = {m: values.copy() for m, values in self.issued.items()}
        return replace(
            self,
            lines=lines,
            material_free=dict(self.material_free),
            held=[],
            issued=issued,
            counts=self.counts.copy(),
        )

    def book(self, dataset: Dataset, run: dict[str, Any], product_id: str, quantity: int) -> None:
        """Take a run (a placement or schedule entry) and its kit of ``quantity`` units from what is free."""
        _book(dataset, self.calendar, self.lines, self.issued, run, product_id, quantity, self.counts)
        for item in dataset.bom_by_product.get(product_id, ()):
            material = item.material_id
            self.material_free[material] = _suffix_min(
                self.material_available[material] - np.cumsum(self.issued[material])
            )


def has_room_for(ledger: PlanLedger, dataset: Dataset, run: dict[str, Any], product_id: str, quantity: int) -> bool:
    """Whether ``run`` (a placement or schedule entry) still fits in what ``ledger`` leaves free: its
    minutes on each day, no other run carrying on from a day it carries on from, and its kit."""
    line = ledger.lines[run["line_id"]]
    days = [ledger.calendar.index_of(dt.date.fromisoformat(a["date"])) for a in run["allocations"]]
    for day, allocation in zip(days, run["allocations"], strict=True):
        if line.used[day] + allocation["minutes"] > line.capacity[day]:
            return False
    if any(line.carries_on[day] for day in days[:-1]):
        return False
    ends_ok = _ends_ok(dataset, ledger)
    if ends_ok is not None and not ends_ok(days[-1]):
        return False  # its inspection or dispatch day is full
    for item in dataset.bom_by_product.get(product_id, ()) if quantity else ():
        if ledger.material_free[item.material_id][days[0]] < scaled_up(item.qty_per_unit * quantity):
            return False
    return True


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
    counts = DayCounts()
    for entry in (schedule or {}).get("orders", []):
        order = dataset.order_by_id.get(entry["order_id"])
        if order is None or (skip is not None and skip(order.order_id)):
            continue
        kitted = 0 if order.status == "in_production" else order.quantity  # a running order has its kit
        _book(dataset, calendar, lines, issued, entry, order.product_id, kitted, counts, order)
    for hold in holds or []:
        _book(dataset, calendar, lines, issued, hold["placement"], hold["product_id"], hold["quantity"], counts)
    available = instance.material_available
    free = {m: _suffix_min(available[m] - np.cumsum(issued[m])) for m in issued}
    return PlanLedger(calendar, lines, free, material_available=dict(available), issued=issued, counts=counts)


def _book(
    dataset: Dataset,
    calendar: PlantCalendar,
    lines,
    issued,
    run: dict,
    product_id: str,
    quantity: int,
    counts: DayCounts | None = None,
    order: Order | None = None,
) -> None:
    """Take a run's minutes from its line and its kit (``quantity`` units) from the materials;
    note the run (for the changeovers around it) and its inspection and dispatch days."""
    ledger = lines[run["line_id"]]
    days = [calendar.index_of(dt.date.fromisoformat(a["date"])) for a in run["allocations"]]
    for day, allocation in zip(days, run["allocations"], strict=True):
        ledger.used[day] += allocation["minutes"]
    for day in days[:-1]:
        ledger.carries_on[day] = True
    ledger.runs.append(_ledger_run(calendar, run, days, order or _booked_order(calendar, product_id, quantity)))
    if counts is not None:
        counts.add(calendar, days[-1])
    for item in dataset.bom_by_product.get(product_id, ()) if quantity else ():
        issued[item.material_id][days[0]] += scaled_up(item.qty_per_unit * quantity)


def _booked_order(calendar: PlantCalendar, product_id: str, quantity: int) -> Order:
    """A held or promised run as an order: its product gives its family."""
    return Order("HELD", product_id, quantity, calendar.plan_start)


def _ledger_run(calendar: PlantCalendar, run: dict, days: list[int], order: Order) -> LedgerRun:
    sequence, changeover = run.get("sequence"), run.get("changeover_minutes")
    return LedgerRun(
        days[0],
        days[-1],
        sequence if isinstance(sequence, int) else float("inf"),
        order,
        changeover if isinstance(changeover, int) else None,
    )


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


def insert_run(
    ledger: LineLedger,
    minutes: int,
    from_day: int,
    changeover: Callable[[int], int | None] | None = None,
    ends_ok: Callable[[int], bool] | None = None,
) -> tuple[int, int, list[tuple[int, int]]] | None:
    """Earliest-ending uninterrupted run of ``minutes`` starting on or after ``from_day``.

    The run takes the free tail of its first day (no committed run may carry on from
    it), whole free working days in between, and the head of its last day.
    ``changeover(first)`` gives the changeover in front of a run starting on ``first``
    (``None``: it may not start there), taken first; ``ends_ok(last)`` whether it may end on ``last``.
    """
    capacity, free, carries_on = ledger.capacity, ledger.free, ledger.carries_on
    horizon = len(capacity)
    for first in range(from_day, horizon):
        if capacity[first] <= 0 or free[first] <= 0:
            continue
        extra = 0 if changeover is None else changeover(first)
        if extra is None:
            continue
        placed = _run_from(capacity, free, carries_on, first, minutes + extra)
        if placed is not None and (ends_ok is None or ends_ok(placed[1])):
            return placed
    return None


def _run_from(
    capacity: np.ndarray, free: np.ndarray, carries_on: np.ndarray, first: int, minutes: int
) -> tuple[int, int, list[tuple[int, int]]] | None:
    """The run of ``minutes`` starting on ``first`` (a working day with free minutes), or ``None``."""
    if free[first] >= minutes:
        return first, first, [(first, minutes)]
    if carries_on[first]:
        return None  # only a run that ends on its first day can share it with a run carrying on
    placed = _continue_run(capacity, free, first, minutes)
    return (first, placed[-1][0], placed) if placed is not None else None


def _changeover_at(
    dataset: Dataset, line_id: str, line: LineLedger, order: Order
) -> Callable[[int], int | None] | None:
    """The changeover in front of ``order`` started on a given day of the line, after the committed
    runs that start before it (and those of that day that end on it); ``None`` on that day when a
    committed run behind it would get another changeover than the plan gives it (the plan is fixed).
    ``None`` altogether on a line where no changeover takes time."""
    if not line_has_changeovers(dataset, line_id):
        return None
    runs = sorted(line.runs, key=lambda r: r.key)
    keys = [r.key for r in runs]
    families = [dataset.line_by_id[line_id].initial_family]  # the line's family before each run
    recorded = []
    for run in runs:
        given = run.changeover
        recorded.append(given if given is not None else changeover_before(dataset, line_id, families[-1], run.order))
        families.append(family_after(dataset, families[-1], run.order))

    def at(first: int) -> int | None:
        index = bisect.bisect_left(keys, (first, 1, float("-inf")))
        family = family_after(dataset, families[index], order)
        for later in range(index, len(runs)):
            if family == families[later]:
                break  # the line is set up as the plan has it: the rest keeps its changeovers
            if changeover_before(dataset, line_id, family, runs[later].order) != recorded[later]:
                return None
            family = family_after(dataset, family, runs[later].order)
        return changeover_before(dataset, line_id, families[index], order)

    return at


def _family_before(dataset: Dataset, line_id: str, line: LineLedger, first: int) -> str:
    """The line's family in front of a run started on ``first`` (as :func:`_changeover_at` places it)."""
    family = dataset.line_by_id[line_id].initial_family
    for run in sorted(line.runs, key=lambda r: r.key):
        if run.key >= (first, 1, float("-inf")):
            break
        family = family_after(dataset, family, run.order)
    return family


def _ends_ok(dataset: Dataset, ledger: PlanLedger) -> Callable[[int], bool] | None:
    """Whether a run may end on a day: its inspection and dispatch days have room under the caps
    given the plan's orders and the holds (``None`` when nothing is capped)."""
    inspection_cap, dispatch_cap = dataset.inspection_cap, dataset.dispatch_cap
    if not ledger.plan_caps or (inspection_cap is None and dispatch_cap is None):
        return None
    calendar, counts = ledger.calendar, ledger.counts

    def ok(last: int) -> bool:
        inspection, dispatch = calendar.inspection_day(last), calendar.dispatch_day(last)
        if inspection_cap is not None and inspection >= 0 and counts.inspections.get(inspection, 0) >= inspection_cap:
            return False
        return dispatch_cap is None or dispatch < 0 or counts.dispatches.get(dispatch, 0) < dispatch_cap

    return ok


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


@dataclass(frozen=True)
class ResequencingNote:
    """What became of the re-sequencing: a ``code`` and its ``params`` for the page to word, and the English text."""

    code: str  # resequenced | not_asked | busy | no_better | not_placeable | with_holds
    params: dict[str, Any]
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params}


NOT_ASKED = ResequencingNote("not_asked", {}, "not asked")
WITH_HOLDS = ResequencingNote("with_holds", {}, "not with open holds or promises")
BUSY = ResequencingNote("busy", {}, "skipped: another resequencing is running; the fixed answer stands")


@dataclass
class Answer:
    """A feasibility answer: what capacity allows, what the order-review rules allow, and the two together.

    ``capacity_feasible``: the requested date is met by either policy (fixed or re-sequenced);
    ``blocked_by``: the blocking rules that fail; ``feasible``: both say yes.
    """

    feasible: bool
    requested_due_date: dt.date
    earliest_delivery_fixed: dt.date | None
    placement: dict[str, Any] | None
    binding: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    earliest_delivery_resequenced: dt.date | None = None
    resequencing: str = "not tried"
    answer_ms: float = 0.0
    capacity_feasible: bool = False
    alternatives: dict[str, Any] | None = None
    resequencing_note: dict[str, Any] = field(default_factory=lambda: NOT_ASKED.as_dict())

    @property
    def blocked_by(self) -> list[str]:
        return [check["rule"] for check in self.checks if check["blocking"]]

    @property
    def promised_delivery(self) -> dt.date | None:
        """What a quote hold promises: the requested date when the fixed run meets it, else the fixed date."""
        fixed = self.earliest_delivery_fixed
        return self.requested_due_date if fixed is not None and fixed <= self.requested_due_date else fixed

    def settle(self) -> None:
        """Capacity by either policy, then the rules: a blocking rule makes any date infeasible."""
        dates = [d for d in (self.earliest_delivery_fixed, self.earliest_delivery_resequenced) if d]
        self.capacity_feasible = bool(dates) and min(dates) <= self.requested_due_date
        self.feasible = self.capacity_feasible and not self.blocked_by

    def record_resequencing(self, delivery: dt.date | None, note: ResequencingNote) -> None:
        self.earliest_delivery_resequenced = delivery
        self.resequencing, self.resequencing_note = note.text, note.as_dict()
        self.settle()

    def as_dict(self) -> dict[str, Any]:
        def iso(value: dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "feasible": self.feasible,
            "capacity_feasible": self.capacity_feasible,
            "blocked_by": self.blocked_by,
            "requested_due_date": iso(self.requested_due_date),
            "promised_delivery": iso(self.promised_delivery),
            "earliest_delivery_fixed": iso(self.earliest_delivery_fixed),
            "earliest_delivery_resequenced": iso(self.earliest_delivery_resequenced),
            "placement": self.placement,
            "binding": self.binding,
            "alternatives": self.alternatives,
            "checks": self.checks,
            "resequencing": self.resequencing,
            "resequencing_note": self.resequencing_note,
            "answer_ms": round(self.answer_ms, 2),
        }


def earliest_delivery_fixed(
    dataset: Dataset, ledger: PlanLedger, prospect: Prospect, joint_review: dict[str, str] | None = None
) -> Answer:
    """Insert the order into what the plan leaves free, on the line that delivers first.

    The answer carries the reasons that bind (:func:`why_not_earlier`), the alternatives
    when the requested date is missed (:func:`alternatives`) and the review rules.
    """
    started = time.perf_counter()
    calendar = ledger.calendar
    release = release_day(dataset, calendar)
    best = _earliest_run(dataset, ledger, prospect, release)
    answer = Answer(
        feasible=False,
        requested_due_date=prospect.due_date,
        earliest_delivery_fixed=None,
        placement=None,
        binding=[],
        checks=review_checks(dataset, prospect, calendar, release, joint_review),
    )
    if best is not None:
        answer.earliest_delivery_fixed = calendar.date_of(best.delivery_day)
        answer.placement = placement_document(dataset, calendar, prospect, best)
    answer.binding = why_not_earlier(dataset, ledger, prospect, best, release)
    answer.alternatives = alternatives(dataset, ledger, prospect, best, release)
    # until a re-sequencing is recorded, the fixed answer is the answer by either policy
    answer.earliest_delivery_resequenced = answer.earliest_delivery_fixed
    answer.settle()
    answer.answer_ms = (time.perf_counter() - started) * 1000
    return answer


def earliest_placement(
    dataset: Dataset,
    ledger: PlanLedger,
    prospect: Prospect,
    not_before: dt.date | None = None,
    lines: Collection[str] | None = None,
) -> dict[str, Any] | None:
    """Just the run an answer would propose — no reasons, no alternatives — for room kept in bulk.

    ``not_before`` (an earliest start or a pin's day) and ``lines`` (a pin's line) narrow it.
    """
    calendar = ledger.calendar
    from_day = release_day(dataset, calendar)
    if not_before is not None:
        from_day = max(from_day, min(calendar.horizon - 1, (not_before - calendar.plan_start).days))
    best = _earliest_run(dataset, ledger, prospect, from_day, lines)
    return placement_document(dataset, calendar, prospect, best) if best is not None else None


def _kit(dataset: Dataset, product_id: str, quantity: int) -> dict[str, int]:
    """Scaled material per material of the bill for ``quantity`` units."""
    return {
        item.material_id: scaled_up(item.qty_per_unit * quantity) for item in dataset.bom_by_product.get(product_id, ())
    }


def _earliest_run(
    dataset: Dataset,
    ledger: PlanLedger,
    prospect: Prospect,
    from_day: int,
    lines: Collection[str] | None = None,
) -> Placement | None:
    """The run that delivers first (then ends first), on ``lines`` or any line of the product."""
    calendar = ledger.calendar
    material_day = _material_day(ledger, _kit(dataset, prospect.product_id, prospect.quantity), from_day)
    if material_day is None:
        return None
    best: Placement | None = None
    order = prospect.as_order()
    transit = dataset.transit_days(order)
    ends_ok = _ends_ok(dataset, ledger)
    for routing in dataset.routings_by_product.get(prospect.product_id, ()):
        if lines is not None and routing.line_id not in lines:
            continue
        minutes = hours_to_minutes(routing.setup_hours) + run_minutes(prospect.quantity, routing.units_per_hour)
        line = ledger.lines[routing.line_id]
        changeover = _changeover_at(dataset, routing.line_id, line, order) if ledger.plan_changeovers else None
        run = insert_run(line, minutes, material_day, changeover, ends_ok)
        if run is None:
            continue
        first, last, by_day = run
        dispatch = calendar.dispatch_day(last)
        if dispatch < 0:
            continue
        paid = (changeover(first) or 0) if changeover is not None else 0
        placement = Placement(routing.line_id, first, last, by_day, dispatch + transit, paid)
        if best is None or (placement.delivery_day, placement.last_day) < (best.delivery_day, best.last_day):
            best = placement
    return best


def _material_day(ledger: PlanLedger, need: dict[str, int], from_day: int) -> int | None:
    """First day on or after ``from_day`` when every material of the kit is free (``None``: never)."""
    day = from_day
    for material_id, quantity in need.items():
        ready = _enough_from(ledger.material_free[material_id], quantity, from_day)
        if ready is None:
            return None
        day = max(day, ready)
    return day


def _enough_from(free: np.ndarray, quantity: int, from_day: int) -> int | None:
    enough = np.flatnonzero(free[from_day:] >= quantity)
    return from_day + int(enough[0]) if len(enough) else None


# -- relaxed ledgers: the plan without one constraint, to test whether it binds -----------------

UNLIMITED = np.iinfo(np.int64).max // 4


def _without_material_limits(ledger: PlanLedger, material_ids: Collection[str]) -> PlanLedger:
    free = dict(ledger.material_free)
    for material_id in material_ids:
        free[material_id] = np.full_like(free[material_id], UNLIMITED)
    return replace(ledger, material_free=free)


def _with_empty_lines(ledger: PlanLedger, line_ids: Collection[str]) -> PlanLedger:
    lines = dict(ledger.lines)
    for line_id in line_ids:
        capacity = lines[line_id].capacity
        lines[line_id] = LineLedger(capacity, np.zeros_like(lines[line_id].used), np.zeros(len(capacity), bool))
    return replace(ledger, lines=lines)


def _earlier(relaxed: Placement | None, run: Placement) -> bool:
    return relaxed is not None and relaxed.delivery_day < run.delivery_day


def why_not_earlier(
    dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement | None, release: int
) -> list[dict[str, Any]]:
    """The reasons that bind: each one, relaxed alone, lets the order deliver strictly earlier.

    A reason that does not bind (a material that is there in time, a line whose committed
    work the order never waits for) is not reported: a salesperson would chase it for nothing.
    When no single constraint binds but several together do, one ``combined`` reason names them.
    """
    if run is None:
        return _why_no_placement(dataset, ledger, prospect, release)
    reasons = [
        *_release_reasons(dataset, ledger, prospect, run, release),
        *_material_reasons(dataset, ledger, prospect, run, release),
        *_capacity_reasons(dataset, ledger, prospect, run, release),
        *_changeover_reasons(dataset, ledger, prospect, run, release),
        *_cap_reasons(dataset, ledger, prospect, run, release),
    ]
    return reasons or _combined_reasons(dataset, ledger, prospect, run, release)


def _why_no_placement(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, release: int) -> list[dict]:
    """No run fits: the materials never free by the horizon end, else the lines' capacity."""
    reasons: list[dict[str, Any]] = []
    for material_id, quantity in _kit(dataset, prospect.product_id, prospect.quantity).items():
        free = ledger.material_free[material_id]
        if _enough_from(free, quantity, release) is None:
            short = quantity - int(free[-1]) if len(free) else quantity
            reasons.append(
                {"kind": "material", "material_id": material_id, "available_from": None, "short_qty": _units(short)}
            )
    return reasons or [{"kind": "horizon", "detail": "no line has room for the order before the horizon ends"}]


def _units(scaled: int) -> float:
    return round(scaled / MATERIAL_SCALE, 3)


def _release_reasons(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement, release: int) -> list:
    """The release day binds when the run starts on it and, released at the plan start, would deliver earlier."""
    if run.first_day != release or release == 0:
        return []
    relaxed = _earliest_run(dataset, ledger, prospect, 0)
    if not _earlier(relaxed, run):
        return []
    calendar = ledger.calendar
    return [
        {
            "kind": "release_day",
            "date": calendar.date_of(release).isoformat(),
            "would_start": calendar.date_of(relaxed.first_day).isoformat(),
            "would_deliver": calendar.date_of(relaxed.delivery_day).isoformat(),
        }
    ]


def _material_reasons(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement, release: int) -> list:
    """A material binds when, without its limit, the run would start earlier and deliver earlier."""
    calendar = ledger.calendar
    reasons = []
    for material_id, quantity in _kit(dataset, prospect.product_id, prospect.quantity).items():
        free = ledger.material_free[material_id]
        if free[release] >= quantity:
            continue  # enough on the release day already: it cannot hold the run back
        relaxed = _earliest_run(dataset, _without_material_limits(ledger, [material_id]), prospect, release)
        if not _earlier(relaxed, run):
            continue
        ready = _enough_from(free, quantity, release)
        reasons.append(
            {
                "kind": "material",
                "material_id": material_id,
                "available_from": calendar.date_of(ready).isoformat() if ready is not None else None,
                "would_start": calendar.date_of(relaxed.first_day).isoformat(),
                "would_deliver": calendar.date_of(relaxed.delivery_day).isoformat(),
                "short_qty": _units(quantity - int(free[relaxed.first_day])),
            }
        )
    return reasons


def _capacity_reasons(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement, release: int) -> list:
    """A line binds when, emptied of committed work, it would deliver earlier than the chosen run.

    Both runs start from the same day (the release day and the kit as they are), so the
    difference is the line's committed work alone. Another line than the chosen one thus
    appears only when, empty, it would have beaten the chosen placement.
    """
    calendar = ledger.calendar
    start = _material_day(ledger, _kit(dataset, prospect.product_id, prospect.quantity), release)
    reasons = []
    for routing in dataset.routings_by_product[prospect.product_id]:
        line_id = routing.line_id
        empty = _earliest_run(dataset, _with_empty_lines(ledger, [line_id]), prospect, release, [line_id])
        if start is None or empty is None or not _earlier(empty, run):
            continue
        own = run if line_id == run.line_id else _earliest_run(dataset, ledger, prospect, release, [line_id])
        line = ledger.lines[line_id]
        stop = own.first_day if own else len(line.capacity) - 1
        busy = _busy_days(line, start, max(stop, empty.last_day)) or _busy_days(line, start, len(line.capacity) - 1)
        reasons.append(
            {
                "kind": "capacity",
                "line_id": line_id,
                "dates": [calendar.date_of(busy[0]).isoformat(), calendar.date_of(busy[-1]).isoformat()],
                "busy_days": len(busy),
                "full_days": sum(1 for d in busy if line.free[d] <= 0),
                "would_deliver": calendar.date_of(empty.delivery_day).isoformat(),
            }
        )
    return reasons


def _changeover_reasons(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement, release: int) -> list:
    """A changeover binds when, without changeovers, the run would deliver earlier: the one it pays
    after a run of another family, or the one of a committed run it may not go in front of."""
    if not ledger.plan_changeovers or not any(line_has_changeovers(dataset, line_id) for line_id in ledger.lines):
        return []
    relaxed = _earliest_run(dataset, replace(ledger, plan_changeovers=False), prospect, release)
    if not _earlier(relaxed, run):
        return []
    would_deliver = ledger.calendar.date_of(relaxed.delivery_day).isoformat()
    if run.changeover == 0:
        detail = "an earlier run would change the changeover of a committed run behind it"
        return [
            {
                "kind": "changeover",
                "line_id": relaxed.line_id,
                "minutes": 0,
                "detail": detail,
                "would_deliver": would_deliver,
            }
        ]
    return [
        {
            "kind": "changeover",
            "line_id": run.line_id,
            "from_family": _family_before(dataset, run.line_id, ledger.lines[run.line_id], run.first_day),
            "to_family": dataset.family_of(prospect.product_id),
            "minutes": run.changeover,
            "would_deliver": would_deliver,
            "detail": f"{run.changeover} minutes of changeover on line {run.line_id} in front of the run",
        }
    ]


def _cap_reasons(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement, release: int) -> list:
    """An inspection or dispatch day binds when, without the caps, the run would end earlier and
    deliver earlier: that day has as many orders as the cap allows."""
    if _ends_ok(dataset, ledger) is None:
        return []
    relaxed = _earliest_run(dataset, replace(ledger, plan_caps=False), prospect, release)
    if not _earlier(relaxed, run):
        return []
    calendar, counts = ledger.calendar, ledger.counts
    would_deliver = calendar.date_of(relaxed.delivery_day).isoformat()
    reasons = []
    for kind, day, booked, cap in (
        ("inspection_capacity", calendar.inspection_day(relaxed.last_day), counts.inspections, dataset.inspection_cap),
        ("dispatch_capacity", calendar.dispatch_day(relaxed.last_day), counts.dispatches, dataset.dispatch_cap),
    ):
        if cap is not None and day >= 0 and booked.get(day, 0) >= cap:
            date = calendar.date_of(day).isoformat()
            detail = f"{date} already has {booked.get(day, 0)} of at most {cap} orders"
            reasons.append(
                {
                    "kind": kind,
                    "date": date,
                    "orders": booked.get(day, 0),
                    "cap": cap,
                    "would_deliver": would_deliver,
                    "detail": detail,
                }
            )
    return reasons


def _busy_days(line: LineLedger, first: int, last: int) -> list[int]:
    """Working days of the line in ``first..last`` that carry committed work."""
    last = min(last, len(line.capacity) - 1)
    return [d for d in range(first, last + 1) if line.capacity[d] > 0 and line.used[d] > 0]


def _combined_reasons(dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement, release: int) -> list:
    """No single constraint binds: name the ones that, relaxed together, let the order deliver earlier.

    E.g. a material that arrives on the day a full line frees up: either alone changes nothing.
    The parts are those in the way of the run with everything relaxed; checked by relaxing
    exactly them, else every constraint that holds anything back is named. When even relaxing
    everything does not help, the run is on the earliest working days (``calendar``).
    """
    need = _kit(dataset, prospect.product_id, prospect.quantity)
    line_ids = [r.line_id for r in dataset.routings_by_product[prospect.product_id]]
    everything = _relaxed_run(dataset, ledger, prospect, list(need), line_ids, 0)
    if not _earlier(everything, run):
        return [{"kind": "calendar", "detail": "the earliest working days after release"}]
    start = everything.first_day
    parts = (
        [m for m, quantity in need.items() if ledger.material_free[m][start] < quantity],
        [line_id for line_id in line_ids if _busy_days(ledger.lines[line_id], start, run.last_day)],
        start < release,
    )
    relaxed = _relaxed_run(dataset, ledger, prospect, parts[0], parts[1], 0 if parts[2] else release)
    if not _earlier(relaxed, run):  # the parts in the way were not all: name all that hold anything back
        parts = (
            [m for m, quantity in need.items() if ledger.material_free[m][0] < quantity],
            [line_id for line_id in line_ids if _busy_days(ledger.lines[line_id], 0, ledger.calendar.length)],
            release > 0,
        )
        relaxed = everything
    materials, lines, release_relaxed = parts
    would_deliver = ledger.calendar.date_of(relaxed.delivery_day).isoformat()
    reason = {"materials": materials, "lines": lines, "release_day": release_relaxed, "would_deliver": would_deliver}
    return [{"kind": "combined", **reason}]


def _relaxed_run(
    dataset: Dataset, ledger: PlanLedger, prospect: Prospect, materials: list[str], lines: list[str], from_day: int
) -> Placement | None:
    relaxed = _with_empty_lines(_without_material_limits(ledger, materials), lines)
    return _earliest_run(dataset, relaxed, prospect, from_day)


# -- alternatives when the requested date is missed ------------------------------------------------


def alternatives(
    dataset: Dataset, ledger: PlanLedger, prospect: Prospect, run: Placement | None, release: int
) -> dict[str, Any] | None:
    """What can be offered instead of the requested date (``None`` when the fixed run meets it).

    ``full_quantity``: the earliest date for all of it; ``by_due_date``: the largest quantity
    delivered by the requested date; ``split``: that part now and the rest inserted after it.
    """
    calendar = ledger.calendar
    if run is not None and calendar.date_of(run.delivery_day) <= prospect.due_date:
        return None
    full = {"delivery_date": calendar.date_of(run.delivery_day).isoformat() if run else None}
    quantity, part = _largest_by_due_date(dataset, ledger, prospect, release)
    if part is None:
        return {"full_quantity": full, "by_due_date": None, "split": None}
    by_due = {"quantity": quantity, "delivery_date": calendar.date_of(part.delivery_day).isoformat()}
    rest_prospect = replace(prospect, quantity=prospect.quantity - quantity)
    booked = _booked(dataset, ledger, prospect.product_id, quantity, part)
    rest = _earliest_run(dataset, booked, rest_prospect, release)
    split = None
    if rest is not None:
        split = {
            "first": by_due,
            "rest": {
                "quantity": rest_prospect.quantity,
                "delivery_date": calendar.date_of(rest.delivery_day).isoformat(),
            },
        }
    return {"full_quantity": full, "by_due_date": by_due, "split": split}


def _largest_by_due_date(
    dataset: Dataset, ledger: PlanLedger, prospect: Prospect, release: int
) -> tuple[int, Placement | None]:
    """Bisection on the quantity: a smaller run needs less time and kit, so it never delivers later."""
    calendar = ledger.calendar

    def on_time(quantity: int) -> Placement | None:
        run = _earliest_run(dataset, ledger, replace(prospect, quantity=quantity), release)
        return run if run is not None and calendar.date_of(run.delivery_day) <= prospect.due_date else None

    low, low_run, high = 0, None, prospect.quantity  # low is on time (0 trivially), high is not
    while high - low > 1:
        middle = (low + high) // 2
        run = on_time(middle)
        if run is not None:
            low, low_run = middle, run
        else:
            high = middle
    return low, low_run


def _booked(dataset: Dataset, ledger: PlanLedger, product_id: str, quantity: int, run: Placement) -> PlanLedger:
    """A copy of the ledger with ``run`` (its minutes and its kit) booked; the ledger itself is shared and cached."""
    line = ledger.lines[run.line_id]
    used, carries_on = line.used.copy(), line.carries_on.copy()
    for day, minutes in run.minutes_by_day:
        used[day] += minutes
    for day, _ in run.minutes_by_day[:-1]:
        carries_on[day] = True
    free = dict(ledger.material_free)
    for material_id, need in _kit(dataset, product_id, quantity).items():
        # issuing on the first day lowers what is free from then on, and what an earlier day may
        # take without starving it (the free amounts are suffix minima)
        left = free[material_id].copy()
        left[run.first_day :] -= need
        left[: run.first_day] = np.minimum(left[: run.first_day], left[run.first_day])
        free[material_id] = left
    runs = [
        *line.runs,
        LedgerRun(
            run.first_day,
            run.last_day,
            float("inf"),
            _booked_order(ledger.calendar, product_id, quantity),
            run.changeover,
        ),
    ]
    counts = ledger.counts.copy()
    counts.add(ledger.calendar, run.last_day)
    booked_line = LineLedger(line.capacity, used, carries_on, runs)
    return replace(ledger, lines={**ledger.lines, run.line_id: booked_line}, material_free=free, counts=counts)


def placement_document(dataset: Dataset, calendar: PlantCalendar, prospect: Prospect, run: Placement) -> dict:
    """The proposed run in the schedule's terms: line, days, allocations (minutes and units)."""
    routing = next(r for r in dataset.routings_by_product[prospect.product_id] if r.line_id == run.line_id)
    setup = hours_to_minutes(routing.setup_hours)
    allocations, elapsed, finished = [], 0, 0
    for number, (day, minutes) in enumerate(run.minutes_by_day):
        elapsed += minutes
        done = prospect.quantity
        if number < len(run.minutes_by_day) - 1:  # the changeover, then the setup, make nothing
            made = max(0, elapsed - run.changeover - setup)
            done = min(prospect.quantity, int(made * routing.units_per_hour / 60 + 1e-9))
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
        # the plan's changeover for the run: a hold booked from this placement keeps it
        **({"changeover_minutes": run.changeover} if run.changeover else {}),
    }


DEPARTMENTS = ("technology", "quality", "purchasing", "production")


def _check(rule: str, ok: bool, blocks: bool, detail: str, **params: Any) -> dict[str, Any]:
    """One review rule's state. ``blocking`` is true when the rule fails and its failure stops the order."""
    return {"rule": rule, "ok": ok, "blocking": blocks and not ok, "detail": detail, "params": params}


def review_checks(
    dataset: Dataset,
    prospect: Prospect,
    calendar: PlantCalendar,
    release: int,
    joint_review: dict[str, str] | None = None,
) -> list[dict]:
    """The company's order-review rules: release day, special-order deposit, joint review, demand control.

    A special order takes effect only after a 30 % deposit, a non-regular one only after
    technology, quality, purchasing and production all approve it (ORDER_RULES.md): both
    block. The release day and the demand control point inform, they do not block.
    ``joint_review`` maps a department to its verdict, ``approved`` or ``rejected``.
    """
    released = calendar.date_of(release).isoformat()
    checks = [
        _check(
            "release_day",
            True,
            False,
            f"released to the shop on {released} (release days: {', '.join(dataset.plant.release_weekdays)})",
            date=released,
            weekdays=list(dataset.plant.release_weekdays),
        )
    ]
    if prospect.order_type == "special":
        checks.append(_deposit_check(prospect.deposit_ratio or 0.0))
    if prospect.order_type == "non_regular":
        checks.append(_joint_review_check(joint_review or {}))
    checks += _demand_control(dataset, prospect)
    return checks


def _deposit_check(paid: float) -> dict[str, Any]:
    return _check(
        "special_order_deposit",
        paid >= SPECIAL_ORDER_DEPOSIT,
        True,
        f"special order: takes effect with a {SPECIAL_ORDER_DEPOSIT:.0%} deposit; paid {paid:.0%}",
        required=SPECIAL_ORDER_DEPOSIT,
        paid=paid,
    )


def _joint_review_check(joint_review: dict[str, str]) -> dict[str, Any]:
    verdicts = {department: joint_review.get(department, "pending") for department in DEPARTMENTS}
    rejected = [d for d, verdict in verdicts.items() if verdict == "rejected"]
    pending = [d for d, verdict in verdicts.items() if verdict not in ("approved", "rejected")]
    ok = not rejected and not pending
    state = (
        "all approved" if ok else f"rejected by {', '.join(rejected) or 'none'}, pending {', '.join(pending) or 'none'}"
    )
    return _check(
        "joint_review",
        ok,
        True,
        f"non-regular order: technology, quality, purchasing and production review it together; {state}",
        verdicts=verdicts,
        rejected=rejected,
        pending=pending,
    )


def _demand_control(dataset: Dataset, prospect: Prospect) -> list[dict]:
    """The region's demand for the model in the due week stays below stock ceiling - in transit + week's sales."""
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
    in_transit, forecast = figures.in_transit or 0, figures.forecast_week or 0
    limit = figures.stock_ceiling - in_transit + forecast
    return [
        _check(
            "demand_control_point",
            demand <= limit,
            False,
            f"week of {week_start}: demand {demand} against stock ceiling {figures.stock_ceiling:g} "
            f"- in transit {in_transit:g} + expected week's sales {forecast:g} = {limit:g}",
            week_start=week_start.isoformat(),
            demand=demand,
            stock_ceiling=figures.stock_ceiling,
            in_transit=in_transit,
            forecast_week=forecast,
            limit=limit,
        )
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
) -> tuple[dt.date | None, ResequencingNote]:
    """Earliest delivery when committed orders on the prospect's lines may move (none later).

    CP-SAT re-places the prospect and up to ``neighbours`` committed runs of its lines
    between its release day and the fixed answer's last day, starting from the fixed
    answer; ``time_limit`` seconds, then the fixed answer stands.
    """
    if fixed.placement is None:
        return None, ResequencingNote("not_placeable", {}, "no fixed placement to start from")
    started = time.monotonic()
    extended = dataset.replace(orders=(*dataset.orders, replace(prospect.as_order(), status="confirmed")))
    instance = build_instance(extended)
    if prospect.order_id not in {c.order_id for c in instance.candidates}:
        return fixed.earliest_delivery_fixed, ResequencingNote("not_placeable", {}, "the order cannot be placed")
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
        and not state.candidates[o].start_pinned  # running and pinned orders stay
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
        text = "no better sequence found in time: the fixed answer stands"
        return fixed.earliest_delivery_fixed, ResequencingNote("no_better", {}, text)
    state.move(sub.solution(solver))  # the plan state times each run with the changeover in front of it
    last = state.runs[prospect.order_id].end_day
    delivery = instance.calendar.date_of(instance.delivery_day(state.candidates[prospect.order_id], last))
    proof = "optimal" if status == cp_model.OPTIMAL else "best found in time"
    best = min(delivery, fixed.earliest_delivery_fixed)
    params = {
        "orders": len(committed),
        "lines": lines,
        "optimal": status == cp_model.OPTIMAL,
        "days_earlier": (fixed.earliest_delivery_fixed - best).days,
    }
    return best, ResequencingNote(
        "resequenced", params, f"{len(committed)} committed orders on {', '.join(lines)} re-sequenced ({proof})"
    )
