"""Changeover plants that paichan and PyJobShop can both express exactly (issue #15's benchmark).

Each plant is a paichan dataset as one JSON document keyed by file stem (FORMATS.md):
``plant``, ``lines`` (with ``initial_family``), ``products`` (with ``family``),
``changeovers`` (``from_family, to_family, minutes, line_id``; some rows for one line),
``routings`` and ``orders``. They stay inside what a plain sequence-dependent setup
model says without approximation:

* every calendar day is a working day (``workdays`` Mon–Sun, ``holiday_country`` null),
  no ``calendar``/``line_calendar`` exceptions, one constant ``hours_per_day`` per line:
  a line's working minutes lie end to end, ``C`` of them per day;
* no materials, BOM, customers or transit; every order ``confirmed``, with no
  ``earliest_start`` and no pins; ``setup_hours`` 0 or one constant per plant;
* every product has a family, so a changeover depends only on the pair of runs
  (a product without a family "leaves the line's family as it was", which no
  pairwise setup matrix can say).

The documents are deterministic by seed and independent of ``solver/generate.py``.
:func:`read_plant` turns a document into the plain numbers both sides need, and
:func:`check_expressible` says which rule of the common subset a document breaks.

    python -m benchmarks.changeover_plants OUT_DIR     # writes one <plant>.json per plant
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALL_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
FAMILY_NAMES = ("A", "B", "C", "D")
CHANGEOVER_CHOICES = (30, 45, 60, 90, 120, 180)  # minutes of an all-lines row
HOURS_CHOICES = (8.0, 12.0, 16.0, 20.0, 24.0)  # whole-minute days whose lcm stays small (14,400)


@dataclass(frozen=True)
class Spec:
    """How one plant is drawn."""

    name: str
    orders: int
    lines: int
    families: int
    days: int
    seed: int
    due: str  # "tight" | "loose" | "mixed"
    load: float  # the orders' work as a share of the lines' minutes over the horizon
    plan_start: dt.date
    equal_hours: bool = False  # every line the same hours_per_day
    setup_hours: float = 0.0  # one constant for every routing
    line_without_initial_family: bool = False  # the last line ends the previous plan clean


SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("CO1", 20, 2, 2, 10, 101, "tight", 0.70, dt.date(2026, 3, 2), equal_hours=True),
        Spec("CO2", 40, 3, 3, 15, 102, "loose", 0.65, dt.date(2026, 5, 11)),
        Spec("CO3", 60, 4, 3, 20, 103, "tight", 0.72, dt.date(2026, 7, 6), setup_hours=0.5),
        Spec("CO4", 80, 4, 4, 25, 104, "mixed", 0.70, dt.date(2026, 9, 14), line_without_initial_family=True),
        Spec("CO5", 100, 5, 4, 30, 105, "tight", 0.72, dt.date(2026, 11, 2), equal_hours=True),
        Spec("CO6", 120, 6, 4, 40, 106, "loose", 0.68, dt.date(2027, 1, 4)),
    )
}


# -- drawing a plant ----------------------------------------------------------------------


def build_document(spec: Spec) -> dict[str, Any]:
    """The plant of ``spec`` as a paichan JSON dataset document (deterministic by its seed)."""
    rng = random.Random(spec.seed)
    families = list(FAMILY_NAMES[: spec.families])
    line_ids = [f"L{i + 1}" for i in range(spec.lines)]
    if spec.equal_hours:
        hours = dict.fromkeys(line_ids, rng.choice(HOURS_CHOICES))
    else:
        hours = {line_id: rng.choice(HOURS_CHOICES) for line_id in line_ids}
    lines = []
    for index, line_id in enumerate(line_ids):
        row: dict[str, Any] = {"line_id": line_id, "hours_per_day": hours[line_id], "name": f"Line {index + 1}"}
        if not (spec.line_without_initial_family and index == len(line_ids) - 1):
            row["initial_family"] = rng.choice(families)
        lines.append(row)

    products = []
    for family in families:
        for number in range(rng.randint(2, 4)):
            products.append(
                {"product_id": f"P{family}{number + 1}", "name": f"{family}-{number + 1}", "family": family}
            )

    changeovers = _changeover_rows(rng, families, line_ids)
    routings = _routing_rows(rng, products, line_ids, spec.setup_hours)
    orders = _order_rows(rng, spec, products, routings, hours)
    plant = {
        "plan_start": spec.plan_start.isoformat(),
        "horizon_days": spec.days,
        "workdays": list(ALL_WEEKDAYS),
        "holiday_country": None,
        "frozen_days": 0,
        "release_weekdays": list(ALL_WEEKDAYS),
    }
    document = {
        "plant": plant,
        "lines": lines,
        "products": products,
        "changeovers": changeovers,
        "routings": routings,
        "orders": orders,
    }
    # Every plant must have a plan that places every order inside the horizon (PyJobShop's
    # deadline is hard): while the earliest-due-date list schedule runs past it, shrink the orders.
    while not fits(read_plant(document, spec.name)):
        for order in orders:
            order["quantity"] = max(10, round(order["quantity"] * 0.95 / 10) * 10)
    return document


def _changeover_rows(rng: random.Random, families: list[str], line_ids: list[str]) -> list[dict[str, Any]]:
    """An all-lines row for most ordered pairs of different families, and overrides for some lines."""
    rows: list[dict[str, Any]] = []
    for source in families:
        for target in families:
            if source == target:
                continue
            if rng.random() < 0.9:  # a missing pair means no changeover
                rows.append({"from_family": source, "to_family": target, "minutes": rng.choice(CHANGEOVER_CHOICES)})
    for line_id in line_ids:
        if rng.random() < 0.5:
            continue  # this line follows the all-lines rows
        for row in [r for r in rows if "line_id" not in r]:
            if rng.random() < 0.5:
                faster_or_slower = rng.choice((0.5, 1.5, 2.0))
                minutes = max(0, round(row["minutes"] * faster_or_slower))
                rows.append({**row, "minutes": minutes, "line_id": line_id})
    return rows


def _routing_rows(
    rng: random.Random, products: list[dict[str, Any]], line_ids: list[str], setup_hours: float
) -> list[dict[str, Any]]:
    """Every product on one to all lines, at a line-dependent rate; every line makes something."""
    rows = []
    covered: set[str] = set()
    for index, product in enumerate(products):
        count = rng.randint(1, len(line_ids))
        chosen = set(rng.sample(line_ids, count))
        chosen.add(line_ids[index % len(line_ids)])  # spread the products over every line
        covered |= chosen
        base = rng.choice((30, 40, 60, 80, 100, 120))
        for line_id in sorted(chosen):
            rate = base * rng.choice((0.8, 1.0, 1.0, 1.25))
            rows.append(
                {
                    "product_id": product["product_id"],
                    "line_id": line_id,
                    "units_per_hour": rate,
                    "setup_hours": setup_hours,
                }
            )
    assert covered == set(line_ids)
    return rows


def _order_rows(
    rng: random.Random,
    spec: Spec,
    products: list[dict[str, Any]],
    routings: list[dict[str, Any]],
    hours: dict[str, float],
) -> list[dict[str, Any]]:
    """Orders whose work adds up to ``spec.load`` of the lines' minutes, with due dates as the spec asks."""
    capacity = sum(round(h * 60) for h in hours.values()) * spec.days
    mean_minutes = spec.load * capacity / spec.orders
    rates = {}
    for routing in routings:
        rates.setdefault(routing["product_id"], []).append(routing["units_per_hour"])
    orders = []
    for number in range(spec.orders):
        product = rng.choice(products)
        rate = sum(rates[product["product_id"]]) / len(rates[product["product_id"]])
        minutes = mean_minutes * rng.uniform(0.3, 1.7)
        quantity = max(1, round(minutes * rate / 60 / 10) * 10)
        # when the run could be done on time: the work ahead of it, spread over the lines, plus two days
        share = (number + 1) / spec.orders
        horizon_share = spec.load * spec.days * share
        due = spec.due if spec.due != "mixed" else rng.choice(("tight", "loose"))
        if due == "tight":
            due_day = round(horizon_share * rng.uniform(0.55, 1.0)) + 2
        else:
            due_day = round(horizon_share * rng.uniform(1.0, 1.4)) + rng.randint(3, 6)
        due_day = max(1, min(due_day, spec.days + 10))
        orders.append(
            {
                "order_id": f"SO-{number + 1:04d}",
                "product_id": product["product_id"],
                "quantity": quantity,
                "due_date": (spec.plan_start + dt.timedelta(days=due_day)).isoformat(),
                "priority": rng.randint(1, 5),
                "status": "confirmed",
            }
        )
    return orders


def plant_documents(names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The documents of the named plants (all when ``None``), by name."""
    chosen = list(SPECS) if names is None else names
    return {name: build_document(SPECS[name]) for name in chosen}


# -- reading a plant: the numbers both models use ---------------------------------------------


def minutes_of_hours(hours: float) -> int:
    """Whole minutes of a number of hours, halves up (PROBLEM.md: ``round(hours * 60)``)."""
    return math.floor(hours * 60 + 0.5)


def run_minutes(quantity: int, units_per_hour: float, setup_hours: float) -> int:
    """An order's own minutes on a line: ``round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour)``."""
    return minutes_of_hours(setup_hours) + math.ceil(quantity * 60 / units_per_hour - 1e-9)


@dataclass(frozen=True)
class Route:
    line_id: str
    units_per_hour: float
    setup_hours: float


@dataclass(frozen=True)
class PlantOrder:
    order_id: str
    product_id: str
    family: str | None
    quantity: int
    due_date: dt.date
    due_day: int  # days from the plan start
    priority: int
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class PlantView:
    """A changeover plant as numbers: minutes per day per line, families, changeovers, orders."""

    name: str
    plan_start: dt.date
    horizon_days: int
    day_minutes: dict[str, int]  # line -> working minutes per day (every day)
    initial_family: dict[str, str | None]
    all_lines_changeovers: dict[tuple[str, str], int]
    line_changeovers: dict[tuple[str, str, str], int]  # (line, from, to)
    orders: tuple[PlantOrder, ...]

    @property
    def line_ids(self) -> list[str]:
        return list(self.day_minutes)

    @property
    def families(self) -> list[str]:
        names = {o.family for o in self.orders if o.family} | {f for f in self.initial_family.values() if f}
        return sorted(names)

    def changeover(self, line_id: str, before: str | None, after: str | None) -> int:
        """Minutes a run of family ``after`` needs on ``line_id`` after one of family ``before``.

        A row for the line overrides the all-lines row; same family, no family or no row: 0.
        """
        if before is None or after is None or before == after:
            return 0
        specific = self.line_changeovers.get((line_id, before, after))
        if specific is not None:
            return specific
        return self.all_lines_changeovers.get((before, after), 0)

    def date_of(self, day: int) -> dt.date:
        return self.plan_start + dt.timedelta(days=day)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_plant(document: dict[str, Any], name: str = "") -> PlantView:
    """The numbers of a changeover plant document (see :func:`check_expressible` for what it must keep to)."""
    problems = check_expressible(document)
    if problems:
        raise ValueError(f"plant {name or '?'} is outside what both tools express: " + "; ".join(problems))
    plant = document["plant"]
    families = {p["product_id"]: (None if _blank(p.get("family")) else str(p["family"])) for p in document["products"]}
    routes: dict[str, list[Route]] = {}
    for row in document["routings"]:
        setup = 0.0 if _blank(row.get("setup_hours")) else float(row["setup_hours"])
        routes.setdefault(row["product_id"], []).append(Route(row["line_id"], float(row["units_per_hour"]), setup))
    start = dt.date.fromisoformat(plant["plan_start"])
    orders = []
    for row in document["orders"]:
        due = dt.date.fromisoformat(row["due_date"])
        orders.append(
            PlantOrder(
                order_id=row["order_id"],
                product_id=row["product_id"],
                family=families[row["product_id"]],
                quantity=int(row["quantity"]),
                due_date=due,
                due_day=(due - start).days,
                priority=1 if _blank(row.get("priority")) else int(row["priority"]),
                routes=tuple(routes.get(row["product_id"], ())),
            )
        )
    all_lines: dict[tuple[str, str], int] = {}
    per_line: dict[tuple[str, str, str], int] = {}
    for row in document.get("changeovers") or ():
        key = (str(row["from_family"]), str(row["to_family"]))
        if _blank(row.get("line_id")):
            all_lines[key] = int(row["minutes"])
        else:
            per_line[(str(row["line_id"]), *key)] = int(row["minutes"])
    return PlantView(
        name=name,
        plan_start=start,
        horizon_days=int(plant.get("horizon_days") or 90),
        day_minutes={row["line_id"]: minutes_of_hours(float(row["hours_per_day"])) for row in document["lines"]},
        initial_family={
            row["line_id"]: None if _blank(row.get("initial_family")) else str(row["initial_family"])
            for row in document["lines"]
        },
        all_lines_changeovers=all_lines,
        line_changeovers=per_line,
        orders=tuple(orders),
    )


def list_schedule(view: PlantView) -> dict[str, tuple[str, int]]:
    """A plain earliest-due-date list schedule: order id -> (line, minute its own minutes begin).

    Orders by due day (higher priority first on a tie) are appended, each to the line of
    its routings where it ends first, after that line's last run and the changeover to it.
    It may run past the horizon.
    """
    free = dict.fromkeys(view.line_ids, 0)
    family = dict(view.initial_family)
    placed = {}
    for order in sorted(view.orders, key=lambda o: (o.due_day, -o.priority, o.order_id)):

        def end_on(route: Route, order: PlantOrder = order) -> tuple[int, str]:
            changeover = view.changeover(route.line_id, family[route.line_id], order.family)
            return free[route.line_id] + changeover + run_minutes(
                order.quantity, route.units_per_hour, route.setup_hours
            ), route.line_id

        end, line_id = min(end_on(route) for route in order.routes)
        route = next(r for r in order.routes if r.line_id == line_id)
        start = end - run_minutes(order.quantity, route.units_per_hour, route.setup_hours)
        placed[order.order_id] = (line_id, start)
        free[line_id] = end
        family[line_id] = order.family if order.family is not None else family[line_id]
    return placed


def fits(view: PlantView) -> bool:
    """Whether :func:`list_schedule` ends every run inside the horizon."""
    ends: dict[str, int] = {}
    by_id = {order.order_id: order for order in view.orders}
    for order_id, (line_id, start) in list_schedule(view).items():
        route = next(r for r in by_id[order_id].routes if r.line_id == line_id)
        ends[line_id] = max(
            ends.get(line_id, 0), start + run_minutes(by_id[order_id].quantity, route.units_per_hour, route.setup_hours)
        )
    return all(end <= view.horizon_days * view.day_minutes[line_id] for line_id, end in ends.items())


def check_expressible(document: dict[str, Any]) -> list[str]:
    """What in ``document`` a plain sequence-dependent setup model cannot say exactly (empty: nothing)."""
    problems = []
    plant = document.get("plant") or {}
    if sorted(plant.get("workdays") or [], key=ALL_WEEKDAYS.index) != ALL_WEEKDAYS:
        problems.append("workdays must be Mon–Sun")
    if plant.get("holiday_country") is not None:
        problems.append("holiday_country must be null")
    for stem in ("calendar", "line_calendar", "bom", "materials", "arrivals"):
        if document.get(stem):
            problems.append(f"{stem} must be empty")
    if any(float(c.get("transit_days") or 0) != 0 for c in document.get("customers") or ()):
        problems.append("customers must have no transit")
    for order in document.get("orders") or ():
        if (order.get("status") or "confirmed") != "confirmed":
            problems.append(f"order {order.get('order_id')} is not confirmed")
        for key in ("earliest_start", "pinned_line", "pinned_start"):
            if not _blank(order.get(key)):
                problems.append(f"order {order.get('order_id')} has {key}")
    for line in document.get("lines") or ():
        if minutes_of_hours(float(line["hours_per_day"])) <= 0:
            problems.append(f"line {line['line_id']} has no hours")
    for product in document.get("products") or ():
        if _blank(product.get("family")):
            problems.append(f"product {product.get('product_id')} has no family")
    return problems


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m benchmarks.changeover_plants OUT_DIR")
    folder = Path(args[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in plant_documents().items():
        (folder / f"{name}.json").write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
        print(folder / f"{name}.json")


if __name__ == "__main__":
    main()
