"""The dataset turned into numbers the heuristic and the CP-SAT model share.

Each line gets a *working-minute axis*: its working days laid end to end, so
that day ``d`` covers positions ``[axis[d], axis[d] + capacity[d])``. A run
that is one interval on this axis is uninterrupted except by non-working
time, fills every day strictly inside it, and at most one run carries over
each day boundary: the day-bucket rules of PROBLEM.md, for free.

Orders that no plan can place (no routing, a material that never suffices,
more work than the horizon holds) are set aside here with their reason.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from solver.calendar import PlantCalendar, hours_to_minutes, run_minutes
from solver.domain import COLLECTION_DAYS, Dataset, Order, Routing
from solver.objective import Objective

MATERIAL_SCALE = 1000  # material quantities in thousandths, rounded against the plan


@dataclass(frozen=True)
class LineAxis:
    """A line's working-minute axis over the horizon."""

    line_id: str
    capacity: np.ndarray  # minutes per day index, horizon only
    start: np.ndarray  # position of the first minute of each day; length horizon + 1

    @property
    def total(self) -> int:
        return int(self.start[-1])

    def day_of(self, position: int) -> int:
        """Day index holding the working minute at ``position``."""
        return bisect.bisect_right(self.start, position) - 1

    def first_working_day(self, from_day: int) -> int | None:
        """First day on or after ``from_day`` with capacity, or ``None``."""
        days = np.flatnonzero(self.capacity[from_day:] > 0)
        return int(days[0]) + from_day if len(days) else None

    def minutes_per_day(self, start: int, length: int) -> list[tuple[int, int]]:
        """(day index, minutes) of a run of ``length`` minutes starting at ``start``."""
        end = start + length
        first, last = self.day_of(start), self.day_of(end - 1)
        days = []
        for day in range(first, last + 1):
            used = min(end, int(self.start[day + 1])) - max(start, int(self.start[day]))
            if used > 0:
                days.append((day, used))
        return days


@dataclass(frozen=True)
class Option:
    """One line an order may run on."""

    line_id: str
    minutes: int
    setup_minutes: int
    units_per_hour: float
    earliest_position: int
    latest_position: int  # last position at which the run may start
    fixed_start_day: int | None = None  # in-production orders continue on this day; pinned orders start on it


@dataclass(frozen=True)
class Candidate:
    """A planned order that some plan could place."""

    order: Order
    options: tuple[Option, ...]
    earliest_day: int  # release of the order: plan start, earliest_start, material
    due_day: int  # due date as a day index (may be negative or past the horizon)
    transit_days: int
    material_need: dict[str, int]  # scaled units issued on the first production day

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def priority(self) -> int:
        return self.order.priority

    @property
    def start_pinned(self) -> bool:
        """Its run must start on a given day: in production, or placed by the planner (pinned_start)."""
        return any(option.fixed_start_day is not None for option in self.options)


@dataclass
class Instance:
    """Everything the heuristic and the model need, in day indices and minutes."""

    dataset: Dataset
    calendar: PlantCalendar
    axes: dict[str, LineAxis]
    candidates: list[Candidate]
    unplaceable: dict[str, str]  # order_id -> reason
    material_available: dict[str, np.ndarray]  # scaled, cumulative per day index
    warnings: list[str] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        return self.calendar.horizon

    def delivery_day(self, candidate: Candidate, end_day: int) -> int:
        """Delivery day index when production ends on ``end_day`` (-1 if no dispatch day)."""
        dispatch = int(self.calendar.dispatch_by_end_day[end_day])
        return -1 if dispatch < 0 else dispatch + candidate.transit_days

    def delivery_days(self, candidate: Candidate) -> np.ndarray:
        """:meth:`delivery_day` for every end day of the horizon at once."""
        dispatch = self.calendar.dispatch_by_end_day
        return np.where(dispatch < 0, -1, dispatch + candidate.transit_days)

    def days_late(self, candidate: Candidate, end_day: int) -> int:
        return max(0, self.delivery_day(candidate, end_day) - candidate.due_day)

    def holding_days(self, candidate: Candidate, end_day: int) -> int:
        """Days between delivery and due date beyond the collection week."""
        return max(0, candidate.due_day - self.delivery_day(candidate, end_day) - COLLECTION_DAYS)

    def order_objective(self, candidate: Candidate, end_day: int | None, changed: bool = False) -> Objective:
        """One order's part of the objective: its priority when unscheduled (``end_day`` ``None``),
        else its priority times its days late and its holding days; one changed order when
        ``changed`` against a previous plan."""
        if end_day is None:
            return Objective(candidate.priority, 0, int(changed), 0)
        lateness = candidate.priority * self.days_late(candidate, end_day)
        return Objective(0, lateness, int(changed), self.holding_days(candidate, end_day))


def build_instance(dataset: Dataset) -> Instance:
    """Prepare ``dataset`` for planning and set aside the orders no plan can place."""
    calendar = PlantCalendar(dataset)
    axes = {line_id: _line_axis(calendar, line_id) for line_id in calendar.line_ids}
    available = _material_availability(dataset, calendar)
    candidates, unplaceable = [], {}
    for order in dataset.planned_orders:
        candidate = _candidate(dataset, calendar, axes, available, order)
        if isinstance(candidate, str):
            unplaceable[order.order_id] = candidate
        else:
            candidates.append(candidate)
    return Instance(dataset, calendar, axes, candidates, unplaceable, available, list(calendar.warnings))


def _line_axis(calendar: PlantCalendar, line_id: str) -> LineAxis:
    capacity = calendar.line_capacity(line_id)[: calendar.horizon].copy()
    start = np.concatenate(([0], np.cumsum(capacity)))
    return LineAxis(line_id, capacity, start)


def _material_availability(dataset: Dataset, calendar: PlantCalendar) -> dict[str, np.ndarray]:
    available = {}
    for material in dataset.materials:
        arrivals = np.zeros(calendar.horizon, dtype=np.int64)
        arrivals[0] = _scaled_down(material.on_hand)
        for arrival in dataset.arrivals:
            if arrival.material_id == material.material_id:
                index = max(0, (arrival.date - calendar.plan_start).days)
                if index < calendar.horizon:
                    arrivals[index] += _scaled_down(arrival.qty)
        available[material.material_id] = np.cumsum(arrivals)
    return available


def _scaled_down(quantity: float) -> int:
    return math.floor(quantity * MATERIAL_SCALE + 1e-6)


def scaled_up(quantity: float) -> int:
    return math.ceil(quantity * MATERIAL_SCALE - 1e-6)


def _candidate(
    dataset: Dataset,
    calendar: PlantCalendar,
    axes: dict[str, LineAxis],
    available: dict[str, np.ndarray],
    order: Order,
) -> Candidate | str:
    """The order's options, or the reason no plan can place it."""
    routings = dataset.routings_by_product.get(order.product_id, ())
    if order.pinned_line:  # in production, or placed by the planner: that line only
        routings = tuple(r for r in routings if r.line_id == order.pinned_line)
        if not routings:
            return f"pinned line {order.pinned_line} has no routing for product {order.product_id}"
    if not routings:
        return f"no routing for product {order.product_id}"
    release = 0
    if order.earliest_start and order.status != "in_production":  # a running order is past its start
        release = max(0, (order.earliest_start - calendar.plan_start).days)
    if release >= calendar.horizon:
        return f"earliest start {order.earliest_start} is after the horizon ends ({dataset.plant.horizon_end})"
    need = _material_need(dataset, order)
    kit_days = {}
    for material_id, quantity in need.items():
        enough = np.flatnonzero(available[material_id] >= quantity)
        if len(enough) == 0:
            total = available[material_id][-1] / MATERIAL_SCALE
            return (
                f"material {material_id}: needs {quantity / MATERIAL_SCALE:g}, "
                f"only {total:g} available by the horizon end ({dataset.plant.horizon_end})"
            )
        kit_days[material_id] = int(enough[0])
    earliest = max([release, *kit_days.values()])
    pin_day = None
    if order.has_manual_pin:
        pin_day = _pin_day(dataset, calendar, axes[order.pinned_line], order, release, kit_days)
        if isinstance(pin_day, str):
            return pin_day
    options, shortfalls = [], []
    for routing in routings:
        option = _option(axes[routing.line_id], routing, order, earliest, pin_day)
        if isinstance(option, str):
            shortfalls.append(option)
        else:
            options.append(option)
    if not options:
        return "; ".join(shortfalls)
    return Candidate(
        order=order,
        options=tuple(options),
        earliest_day=earliest if pin_day is None else pin_day,
        due_day=(order.due_date - calendar.plan_start).days,
        transit_days=dataset.transit_days(order),
        material_need=need,
    )


def _material_need(dataset: Dataset, order: Order) -> dict[str, int]:
    """Scaled units of each material the order's kit takes (in_production orders already have theirs)."""
    need: dict[str, int] = {}
    if order.status != "in_production":
        for item in dataset.bom_by_product.get(order.product_id, ()):
            need[item.material_id] = need.get(item.material_id, 0) + scaled_up(item.qty_per_unit * order.quantity)
    return need


def pin_label(order: Order) -> str:
    """How reasons name a manual pin: "pinned to line L2 starting 2026-12-07"."""
    return f"pinned to line {order.pinned_line} starting {order.pinned_start}"


def _pin_day(
    dataset: Dataset,
    calendar: PlantCalendar,
    axis: LineAxis,
    order: Order,
    release: int,
    kit_days: dict[str, int],
) -> int | str:
    """The day index of the order's pinned_start, or why no plan can honour the pin.

    What is decided here needs only the order and the data: the calendar, its release and
    the stock a kit could ever take. What depends on the other orders (the day taken by
    another pin, material they use) is left to the model, which then leaves this order out.
    """
    assert order.pinned_start is not None
    pin = pin_label(order)
    day = (order.pinned_start - calendar.plan_start).days
    if day < 0:
        return f"{pin}: before the plan start {calendar.plan_start}"
    if day >= calendar.horizon:
        return f"{pin}: after the horizon ends ({dataset.plant.horizon_end})"
    if axis.capacity[day] <= 0:
        return f"{pin}: not a working day of line {axis.line_id}"
    if day < release:
        return f"{pin}: before its earliest start {order.earliest_start}"
    for material_id, kit_day in sorted(kit_days.items()):
        if day < kit_day:
            return f"{pin}: before its kit can be issued ({material_id} suffices from {calendar.date_of(kit_day)})"
    return day


def _option(axis: LineAxis, routing: Routing, order: Order, earliest: int, pin_day: int | None) -> Option | str:
    """The order's run on the routing's line: the positions it may start at, or why it cannot run there.

    In-production orders continue on the line's first working day and manually pinned orders
    start on their pinned day: anywhere within that day, after runs that end there.
    """
    setup = hours_to_minutes(routing.setup_hours)
    minutes = setup + run_minutes(order.quantity, routing.units_per_hour)
    fixed_day = pin_day
    if order.status == "in_production":
        fixed_day = axis.first_working_day(0)
        if fixed_day is None:
            return f"pinned line {axis.line_id} has no working day in the horizon"
    if fixed_day is not None:
        earliest_position = int(axis.start[fixed_day])
        latest_position = min(int(axis.start[fixed_day + 1]) - 1, axis.total - minutes)
    else:
        earliest_position = int(axis.start[earliest])
        latest_position = axis.total - minutes
    if latest_position < earliest_position:
        room = axis.total - earliest_position
        if pin_day is not None:
            since = f"its pinned start {order.pinned_start}"
        else:
            since = "the plan start" if earliest == 0 else f"its earliest start (day {earliest} of the plan)"
        return (
            f"line {axis.line_id}: needs {minutes} minutes, only {room} working minutes from {since} to the horizon end"
        )
    return Option(
        line_id=routing.line_id,
        minutes=minutes,
        setup_minutes=setup,
        units_per_hour=routing.units_per_hour,
        earliest_position=earliest_position,
        latest_position=latest_position,
        fixed_start_day=fixed_day,
    )
