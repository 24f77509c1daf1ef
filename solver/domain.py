"""The planning data: plant, lines, products, routings, materials, orders.

Every object is immutable. A :class:`Dataset` is checked on construction
(:meth:`Dataset.create`); the loaders in :mod:`solver.io` check rows and
columns first and then call the same reference checks, so a problem found in
a file always names the file, the row and the column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PLANNED_STATUSES = frozenset({"confirmed", "in_production"})
ORDER_STATUSES = (
    "received",
    "reviewed",
    "confirmed",
    "in_production",
    "produced",
    "inspected",
    "shipped",
    "delivered",
    "closed",
    "cancelled",
)
ORDER_TYPES = ("regular", "non_regular", "special")
# Changeovers and the daily inspection and dispatch caps are planned (issue #15). The engine reads
# them only through Dataset.planned_changeover and Dataset.inspection_cap / dispatch_cap, which see
# this switch: off, a plant is planned family-blind and uncapped (the benchmarks' comparison).
PLAN_CHANGEOVERS_AND_CAPS = True
COLLECTION_DAYS = 7  # customers must collect within a week of warehousing
DAY_START = dt.time(8, 0)  # a plant day starts at 08:00 unless plant.json says otherwise


@dataclass(frozen=True)
class Source:
    """Where a record came from: a file (or JSON key) and a row as a user counts it."""

    file: str
    row: int | str  # 1-based spreadsheet row, or a JSON index path such as "[3]"


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset, located by file, row and column."""

    file: str
    row: int | str | None
    column: str | None
    message: str
    message_zh: str | None = None  # the same in Chinese, where the page shows it to planners or sales

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        located = {"file": self.file, "row": self.row, "column": self.column, "message": self.message}
        return located | ({"message_zh": self.message_zh} if self.message_zh else {})


class DatasetError(ValueError):
    """A dataset that cannot be planned; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _no_source() -> Source | None:
    return None


@dataclass(frozen=True)
class Plant:
    plan_start: dt.date
    horizon_days: int = 90
    workdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    holiday_country: str | None = "CN"
    frozen_days: int = 0
    release_weekdays: tuple[str, ...] = ("Mon", "Thu")
    day_start: dt.time = DAY_START  # when the lines' working day begins: the shop floor's clock times
    inspection_orders_per_day: int | None = None  # orders quality inspects a working day; None: no cap
    dispatch_orders_per_day: int | None = None  # orders logistics dispatches a working day; None: no cap

    @property
    def horizon_end(self) -> dt.date:
        """The last calendar day of the horizon."""
        return self.plan_start + dt.timedelta(days=self.horizon_days - 1)


@dataclass(frozen=True)
class Line:
    line_id: str
    hours_per_day: float
    name: str = ""
    initial_family: str = ""  # the family of the run the line ends the previous plan with ("" unknown)
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LineCalendarEntry:
    line_id: str
    date: dt.date
    hours: float
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CalendarException:
    date: dt.date
    working: bool
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str = ""
    family: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Changeover:
    """Minutes a line spends switching from one product family to another (``line_id`` None: every line)."""

    from_family: str
    to_family: str
    minutes: int
    line_id: str | None = None
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Routing:
    product_id: str
    line_id: str
    units_per_hour: float
    setup_hours: float = 0.0
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class BomItem:
    product_id: str
    material_id: str
    qty_per_unit: float
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Material:
    material_id: str
    on_hand: float
    name: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Arrival:
    material_id: str
    date: dt.date
    qty: float
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str = ""
    region: str = ""
    transit_days: int = 0
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Order:
    order_id: str
    product_id: str
    quantity: int
    due_date: dt.date
    customer_id: str | None = None
    priority: int = 1
    status: str = "confirmed"
    earliest_start: dt.date | None = None
    pinned_line: str | None = None
    order_type: str = "regular"
    deposit_ratio: float | None = None
    pinned_start: dt.date | None = None  # the planner's manual placement: first production day on pinned_line
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def is_planned(self) -> bool:
        """Confirmed and in-production orders are planned; others use no capacity."""
        return self.status in PLANNED_STATUSES

    @property
    def has_manual_pin(self) -> bool:
        """A confirmed order the planner placed by hand: pinned_line and pinned_start both given."""
        return self.status == "confirmed" and self.pinned_line is not None and self.pinned_start is not None


@dataclass(frozen=True)
class InventoryFigure:
    product_id: str
    stock_ceiling: float | None = None
    in_transit: float | None = None
    forecast_week: float | None = None
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Dataset:
    """A plant's planning data. Build it with :meth:`create` to have it checked."""

    plant: Plant
    lines: tuple[Line, ...]
    products: tuple[Product, ...]
    routings: tuple[Routing, ...]
    orders: tuple[Order, ...]
    line_calendar: tuple[LineCalendarEntry, ...] = ()
    calendar: tuple[CalendarException, ...] = ()
    bom: tuple[BomItem, ...] = ()
    materials: tuple[Material, ...] = ()
    arrivals: tuple[Arrival, ...] = ()
    customers: tuple[Customer, ...] = ()
    inventory: tuple[InventoryFigure, ...] = ()
    changeovers: tuple[Changeover, ...] = ()
    # what the loader guessed (a file's encoding or separator): for the planner to read, not data
    load_warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def create(cls, **tables: object) -> Dataset:
        """Build a dataset and raise :class:`DatasetError` listing every problem."""
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in tables.items()}
        dataset = cls(**converted)  # type: ignore[arg-type]
        problems = dataset.problems()
        if problems:
            raise DatasetError(problems)
        return dataset

    def replace(self, **changes: object) -> Dataset:
        """A checked copy with some tables replaced."""
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        current.update(changes)
        return Dataset.create(**current)

    # -- look-ups -------------------------------------------------------------

    @cached_property
    def line_by_id(self) -> dict[str, Line]:
        return {line.line_id: line for line in self.lines}

    @cached_property
    def product_by_id(self) -> dict[str, Product]:
        return {p.product_id: p for p in self.products}

    @cached_property
    def material_by_id(self) -> dict[str, Material]:
        return {m.material_id: m for m in self.materials}

    @cached_property
    def customer_by_id(self) -> dict[str, Customer]:
        return {c.customer_id: c for c in self.customers}

    @cached_property
    def order_by_id(self) -> dict[str, Order]:
        return {o.order_id: o for o in self.orders}

    @cached_property
    def routings_by_product(self) -> dict[str, tuple[Routing, ...]]:
        grouped: dict[str, list[Routing]] = {}
        for routing in self.routings:
            grouped.setdefault(routing.product_id, []).append(routing)
        return {k: tuple(v) for k, v in grouped.items()}

    @cached_property
    def bom_by_product(self) -> dict[str, tuple[BomItem, ...]]:
        grouped: dict[str, list[BomItem]] = {}
        for item in self.bom:
            grouped.setdefault(item.product_id, []).append(item)
        return {k: tuple(v) for k, v in grouped.items()}

    @property
    def planned_orders(self) -> tuple[Order, ...]:
        return tuple(o for o in self.orders if o.is_planned)

    def transit_days(self, order: Order) -> int:
        customer = self.customer_by_id.get(order.customer_id or "")
        return customer.transit_days if customer else 0

    @cached_property
    def product_families(self) -> frozenset[str]:
        """The product families the products give (blank ones are no family)."""
        return frozenset(p.family for p in self.products if p.family)

    def family_of(self, product_id: str) -> str:
        """The product's family; "" for a product without one (or an unknown product)."""
        product = self.product_by_id.get(product_id)
        return product.family if product else ""

    @cached_property
    def _changeover_table(self) -> dict[tuple[str | None, str, str], int]:
        """Minutes by (line_id or None for every line, from family, to family)."""
        return {(c.line_id or None, c.from_family, c.to_family): c.minutes for c in self.changeovers}

    def changeover_minutes(self, line_id: str, from_family: str, to_family: str) -> int:
        """Minutes line ``line_id`` spends switching from ``from_family`` to ``to_family``.

        The line's own row overrides the row for every line. Same family, a blank family
        on either side (a product without a family), or no row for the pair: 0.
        """
        if not from_family or not to_family or from_family == to_family:
            return 0
        table = self._changeover_table
        minutes = table.get((line_id, from_family, to_family))
        if minutes is None:
            minutes = table.get((None, from_family, to_family))
        return minutes or 0

    def planned_changeover(self, line_id: str, from_family: str, to_family: str) -> int:
        """The changeover the engine plans with (0 while :data:`PLAN_CHANGEOVERS_AND_CAPS` is off)."""
        return self.changeover_minutes(line_id, from_family, to_family) if PLAN_CHANGEOVERS_AND_CAPS else 0

    @property
    def inspection_cap(self) -> int | None:
        """Orders inspected per working day at most, as planned (None: no cap)."""
        return self.plant.inspection_orders_per_day if PLAN_CHANGEOVERS_AND_CAPS else None

    @property
    def dispatch_cap(self) -> int | None:
        """Orders dispatched per working day at most, as planned (None: no cap)."""
        return self.plant.dispatch_orders_per_day if PLAN_CHANGEOVERS_AND_CAPS else None

    # -- checks ---------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every duplicate id and dangling reference, located by file, row and column."""
        problems: list[Problem] = []
        problems += _duplicates(self.lines, "line_id", "lines.csv")
        problems += _duplicates(self.products, "product_id", "products.csv")
        problems += _duplicates(self.materials, "material_id", "materials.csv")
        problems += _duplicates(self.customers, "customer_id", "customers.csv")
        problems += _duplicates(self.orders, "order_id", "orders.csv")
        problems += _duplicate_pairs(self.routings, ("product_id", "line_id"), "routings.csv")
        problems += _duplicate_pairs(self.bom, ("product_id", "material_id"), "bom.csv")
        problems += _duplicate_pairs(self.line_calendar, ("line_id", "date"), "line_calendar.csv")
        problems += _duplicate_pairs(self.calendar, ("date",), "calendar.csv")
        lines, products = set(self.line_by_id), set(self.product_by_id)
        materials, customers = set(self.material_by_id), set(self.customer_by_id)
        problems += _dangling(self.routings, "product_id", products, "routings.csv", "product")
        problems += _dangling(self.routings, "line_id", lines, "routings.csv", "line")
        problems += _dangling(self.line_calendar, "line_id", lines, "line_calendar.csv", "line")
        problems += _dangling(self.bom, "product_id", products, "bom.csv", "product")
        problems += _dangling(self.bom, "material_id", materials, "bom.csv", "material")
        problems += _dangling(self.arrivals, "material_id", materials, "arrivals.csv", "material")
        problems += _dangling(self.orders, "product_id", products, "orders.csv", "product")
        problems += _dangling(self.orders, "pinned_line", lines, "orders.csv", "line")
        problems += _dangling(self.inventory, "product_id", products, "inventory.csv", "product")
        if customers:
            problems += _dangling(self.orders, "customer_id", customers, "orders.csv", "customer")
        problems += _missing_pinned_lines(self.orders)
        problems += _duplicate_changeovers(self.changeovers)
        problems += _dangling(self.changeovers, "line_id", lines, "changeovers.csv", "line")
        problems += _unknown_families(
            self.changeovers, ("from_family", "to_family"), self.product_families, "changeovers.csv"
        )
        problems += _unknown_families(self.lines, ("initial_family",), self.product_families, "lines.csv")
        problems += _bad_changeover_minutes(self.changeovers)
        problems += _bad_plant_caps(self.plant)
        return problems


def _duplicate_changeovers(changeovers: tuple[Changeover, ...]) -> list[Problem]:
    """One row per (from_family, to_family, line_id); a blank line_id is a key of its own (every line)."""
    seen: dict[tuple, Changeover] = {}
    problems = []
    for row in changeovers:
        if not row.from_family or not row.to_family:
            continue  # a missing family is reported where the row is parsed
        key = (row.from_family, row.to_family, row.line_id or None)
        if key in seen:
            first = seen[key].source
            also = f" (first at row {first.row})" if first else ""
            line = f"line {row.line_id}" if row.line_id else "every line"
            message = f"duplicate changeover {row.from_family} -> {row.to_family} for {line}{also}"
            problems.append(_problem(row, "changeovers.csv", "line_id", message))
        else:
            seen[key] = row
    return problems


def _unknown_families(records: tuple, keys: tuple[str, ...], known: frozenset[str], file: str) -> list[Problem]:
    """A family no product has: a typo that would silently drop changeovers."""
    problems = []
    for record in records:
        for key in keys:
            value = getattr(record, key)
            if value and value not in known:
                message = f"unknown family {value!r}: no product in products.csv has it"
                problems.append(_problem(record, file, key, message))
    return problems


def _bad_changeover_minutes(changeovers: tuple[Changeover, ...]) -> list[Problem]:
    """Changeover minutes are whole numbers >= 0; a row from a family to itself is never spent."""
    problems = []
    for row in changeovers:
        minutes = row.minutes
        if minutes is None:
            continue  # reported where the row is parsed
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            message = f"changeover minutes must be a whole number >= 0, got {minutes!r}"
            problems.append(_problem(row, "changeovers.csv", "minutes", message))
        elif row.from_family and row.from_family == row.to_family and minutes > 0:
            message = (
                f"a changeover from family {row.from_family!r} to itself is never spent (same family: "
                "no changeover): give 0 minutes or remove the row"
            )
            problems.append(_problem(row, "changeovers.csv", "minutes", message))
    return problems


def _bad_plant_caps(plant: Plant) -> list[Problem]:
    """Inspection and dispatch caps are whole numbers >= 1, or None for no cap."""
    problems = []
    for key in ("inspection_orders_per_day", "dispatch_orders_per_day"):
        cap = getattr(plant, key)
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            problems.append(Problem("plant.json", None, key, f"must be a whole number >= 1 or null, got {cap!r}"))
    return problems


def _missing_pinned_lines(orders: tuple[Order, ...]) -> list[Problem]:
    """In-production orders continue on their pinned_line; a pinned_start needs the line it is on."""
    problems = []
    for order in orders:
        if order.pinned_line:
            continue
        if order.status == "in_production":
            message = f"order {order.order_id} is in_production but has no pinned_line"
        elif order.pinned_start is not None:
            message = f"order {order.order_id} has a pinned_start ({order.pinned_start}) but no pinned_line"
        else:
            continue
        problems.append(_problem(order, "orders.csv", "pinned_line", message))
    return problems


def _problem(record: object, default_file: str, column: str | None, message: str) -> Problem:
    source = getattr(record, "source", None)
    if source is None:
        return Problem(default_file, None, column, message)
    return Problem(source.file, source.row, column, message)


def _duplicates(records: tuple, key: str, file: str) -> list[Problem]:
    return _duplicate_pairs(records, (key,), file)


def _duplicate_pairs(records: tuple, keys: tuple[str, ...], file: str) -> list[Problem]:
    seen: dict[tuple, object] = {}
    problems = []
    for record in records:
        value = tuple(getattr(record, k) for k in keys)
        if None in value or "" in value:
            continue  # a missing key is reported where the row is parsed
        if value in seen:
            first = getattr(seen[value], "source", None)
            also = f" (first at row {first.row})" if first else ""
            shown = ", ".join(str(v) for v in value)
            problems.append(_problem(record, file, keys[-1], f"duplicate {'/'.join(keys)} {shown}{also}"))
        else:
            seen[value] = record
    return problems


def _dangling(records: tuple, key: str, known: set[str], file: str, what: str) -> list[Problem]:
    problems = []
    for record in records:
        value = getattr(record, key)
        if value is not None and value != "" and value not in known:
            problems.append(_problem(record, file, key, f"unknown {what} {value!r}"))
    return problems
