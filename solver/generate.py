"""Synthetic make-to-order plants of electrical equipment, for tests, benchmarks and demos.

:func:`generate_dataset` builds a plant that looks like the ones paichan serves:
assembly lines grouped in workshops (高压总装 medium-voltage switchgear, 低压总装
low-voltage switchgear and distribution boxes, 变压器 transformers, 元件装配
breakers and instrument transformers), product families with model series
(KYN28A-12, GGD, SCB13, VS1-12, LZZBJ9-10 ...), routings whose rates differ
per line, bills of materials with staggered purchase arrivals, customers by
region, and orders whose quantities and due dates are sized against the
lines' capacity so that the planned work is about ``load`` times that capacity.

Everything is drawn from one seeded :class:`numpy.random.Generator`: the same
arguments always give the same dataset.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import chinese_calendar
import holidays
import numpy as np

from solver.domain import (
    Arrival,
    BomItem,
    CalendarException,
    Changeover,
    Customer,
    Dataset,
    InventoryFigure,
    Line,
    LineCalendarEntry,
    Material,
    Order,
    Plant,
    Product,
    Routing,
)

logger = logging.getLogger(__name__)

DEFAULT_PLAN_START = dt.date(2026, 11, 30)
STATUTORY_SPRING_FESTIVAL_DAYS = 4  # eve plus the first three days, since 2025
KEY_ACCOUNT_SHARE = 0.12  # share of orders from key accounts (priority 8–10)
_EXTENSION_DAYS = 90  # calendar days past the horizon used to estimate late deliveries
_DAY = dt.timedelta(days=1)


# -- the catalogue -----------------------------------------------------------------


@dataclass(frozen=True)
class _Family:
    """A product family: model series, specifications and typical figures."""

    code: str
    name: str
    series: tuple[str, ...]
    specs: tuple[str, ...]
    rate: tuple[float, float]  # units per hour on an average line
    median_quantity: float
    setup_hours: tuple[float, ...]

    def model_names(self) -> list[str]:
        return [f"{series}{spec} {self.name}" for series in self.series for spec in self.specs]


@dataclass(frozen=True)
class _Workshop:
    """A workshop: its lines' name prefix, its share of the lines, families and materials."""

    name: str
    weight: float
    families: tuple[_Family, ...]
    materials: tuple[tuple[str, str, float], ...]  # (name, unit, typical quantity per product unit)


_HV = _Family(
    "HV", "高压开关柜", ("KYN28A-12", "KYN61-40.5", "XGN2-12"), (" 630A", " 1250A", " 2500A", " 4000A"),
    (0.4, 1.0), 8, (0.5, 1.0, 1.5, 2.0),
)  # fmt: skip
_RMU = _Family(
    "RMU", "环网柜", ("HXGN15-12", "XGN15-12", "SRM16-12"), (" 负荷开关单元", " 断路器单元", " 计量单元", " PT单元"),
    (0.6, 1.5), 10, (0.5, 1.0),
)  # fmt: skip
_LV = _Family(
    "LV", "低压开关柜", ("GGD", "GCS", "MNS"), (" 进线", " 出线", " 电容补偿", " 联络"),
    (0.6, 1.5), 10, (0.25, 0.5, 1.0),
)  # fmt: skip
_DB = _Family(
    "DB", "配电箱", ("XL-21", "PZ30", "JXF", "JP"), (" 动力", " 照明", " 综合", " 计量"),
    (2.0, 6.0), 20, (0.0, 0.25, 0.5),
)  # fmt: skip
_DT = _Family(
    "DT", "干式变压器", ("SCB10", "SCB13", "SCB14"), ("-400kVA", "-630kVA", "-1000kVA", "-1250kVA", "-2000kVA"),
    (0.1, 0.3), 3, (1.0, 1.5, 2.0),
)  # fmt: skip
_OT = _Family(
    "OT", "油浸式变压器", ("S11-M", "S13-M", "S20-M"), ("-200kVA", "-400kVA", "-630kVA", "-800kVA"),
    (0.12, 0.35), 4, (1.0, 1.5, 2.0),
)  # fmt: skip
_VCB = _Family(
    "VCB", "真空断路器", ("VS1-12", "ZN63-12", "ZW32-12"), ("/630-20", "/1250-31.5", "/1600-31.5", "/3150-40"),
    (1.5, 4.0), 30, (0.25, 0.5, 1.0),
)  # fmt: skip
_CT = _Family(
    "CT", "互感器", ("LZZBJ9-10", "JDZ10-10", "LMZJ1-0.5", "JDZX9-10"), (" 75/5", " 200/5", " 400/5", " 10/0.1"),
    (5.0, 15.0), 100, (0.0, 0.25, 0.5),
)  # fmt: skip

_WORKSHOPS = (
    _Workshop(
        "高压总装",
        0.3,
        (_HV, _RMU),
        (
            ("柜体钣金件 KYN28", "套", 1), ("真空断路器手车 VS1-12", "台", 1), ("铜排 TMY-80×8", "kg", 45),
            ("支柱绝缘子 ZJ-10", "只", 6), ("综合保护装置", "台", 1), ("接地开关 JN15-12", "台", 1),
            ("负荷开关 FZN25-12", "台", 1), ("SF6气体", "kg", 3), ("熔断器 XRNT-12", "只", 3),
            ("带电显示器", "只", 1),
        ),
    ),
    _Workshop(
        "低压总装",
        0.25,
        (_LV, _DB),
        (
            ("柜体钣金件 GGD", "套", 1), ("框架断路器", "台", 1), ("塑壳断路器", "只", 8),
            ("铜排 TMY-60×6", "kg", 30), ("电容器 BSMJ", "只", 12), ("交流接触器", "只", 10),
            ("箱体 XL-21", "套", 1), ("二次线缆 BVR-2.5", "m", 60),
        ),
    ),
    _Workshop(
        "变压器",
        0.25,
        (_DT, _OT),
        (
            ("硅钢片 B30P105", "kg", 1500), ("环氧树脂", "kg", 200), ("铜箔", "kg", 300),
            ("温控器 BWDK", "台", 1), ("变压器油 25#", "kg", 400), ("铜导线 ZB-QQ", "kg", 250),
            ("冷却风机 GFD", "台", 3), ("油箱", "套", 1), ("无励磁分接开关", "只", 1),
        ),
    ),
    _Workshop(
        "元件装配",
        0.2,
        (_VCB, _CT),
        (
            ("真空灭弧室", "只", 3), ("弹簧操作机构", "套", 1), ("浇注环氧", "kg", 8), ("铁芯", "只", 1),
            ("漆包线", "kg", 2.5), ("绝缘筒", "只", 3), ("动静触头", "只", 6), ("二次接线端子", "只", 10),
        ),
    ),
)  # fmt: skip

_COMMON_MATERIALS = (
    ("包装木箱", "套", 1), ("紧固件", "套", 1), ("铭牌", "只", 1), ("电缆 YJV-3×70", "m", 15), ("喷涂粉末", "kg", 4),
)  # fmt: skip

_REGIONS = (
    ("华东", ("上海", "苏州", "杭州", "南京", "宁波", "合肥", "济南"), (0, 2), 0.35),
    ("华中", ("武汉", "长沙", "郑州", "南昌"), (1, 3), 0.15),
    ("华北", ("北京", "天津", "石家庄", "太原"), (2, 3), 0.15),
    ("华南", ("广州", "深圳", "厦门", "南宁"), (2, 4), 0.13),
    ("西南", ("成都", "重庆", "昆明", "贵阳"), (3, 5), 0.10),
    ("东北", ("沈阳", "长春", "哈尔滨"), (3, 5), 0.06),
    ("西北", ("西安", "兰州", "银川", "乌鲁木齐"), (4, 5), 0.06),
)
_CUSTOMER_KINDS = (
    "供电公司",
    "电力工程有限公司",
    "建设集团有限公司",
    "新能源科技有限公司",
    "数据中心",
    "地铁集团有限公司",
    "化工园区",
    "置业有限公司",
    "水务集团有限公司",
    "钢铁有限公司",
)
_NON_KEY_PRIORITIES = (np.arange(1, 8), np.array([0.4, 0.28, 0.15, 0.07, 0.05, 0.03, 0.02]))
_DEPOSIT_RATIOS = (0.1, 0.2, 0.25, 0.3, 0.3, 0.4, 0.5)
_CN_DIGITS = "一二三四五六七八九"
CHANGEOVER_LEVELS = ("family", "series")  # what a changeover switches between: product families or model series
_CHANGEOVER_STREAM = 15  # the changeovers' own random stream (issue #15): the rest of a dataset stays as it was


# -- intermediate arrays ------------------------------------------------------------


@dataclass(frozen=True)
class _Lines:
    ids: list[str]
    hours: np.ndarray  # hours_per_day
    workshop: np.ndarray  # workshop index per line
    records: list[Line]


@dataclass(frozen=True)
class _Catalogue:
    records: list[Product]
    workshop: np.ndarray  # per product
    family: list[_Family]  # per product
    popularity: np.ndarray  # per product
    routing_product: np.ndarray
    routing_line: np.ndarray
    routing_rate: np.ndarray
    routing_setup: np.ndarray
    route: np.ndarray  # products x lines: routing index or -1


@dataclass(frozen=True)
class _Customers:
    records: list[Customer]
    transit: np.ndarray
    key: np.ndarray  # key accounts (重点客户)
    popularity: np.ndarray


@dataclass
class _OrderDraft:
    product: np.ndarray
    line: np.ndarray  # the nominal line the order is sized on
    quantity: np.ndarray
    customer: np.ndarray
    status: np.ndarray  # object array of status strings


@dataclass(frozen=True)
class _Calendar:
    working: np.ndarray  # plant working days from the plan start, past the horizon
    capacity: np.ndarray  # lines x days, hours (same extended length)
    line_calendar: list[LineCalendarEntry]
    closures: tuple[CalendarException, ...]


# -- public functions -----------------------------------------------------------------


def generate_dataset(
    orders: int,
    lines: int,
    days: int,
    seed: int,
    plan_start: dt.date = DEFAULT_PLAN_START,
    load: float = 0.8,
    *,
    products: int | None = None,
    materials: int | None = None,
    customers: int | None = None,
    changeovers: str | None = None,
    inspection_orders_per_day: int | None = None,
    dispatch_orders_per_day: int | None = None,
) -> Dataset:
    """Generate a synthetic make-to-order plant of electrical equipment.

    Parameters
    ----------
    orders, lines, days
        Number of orders, assembly lines and calendar days of the horizon.
    seed
        Seed of the random generator; the same arguments give the same dataset.
    plan_start
        Day 0 of the plan.
    load
        Planned work over the lines' capacity in the horizon (about; quantities
        are whole units and rates are rounded).
    products, materials, customers
        Counts; by default ``7 * lines`` products (10–500), ``5 * lines``
        materials (10–250; ``0`` for none) and ``1.5 * sqrt(orders)`` customers (8–300).
    changeovers
        ``None`` (the default): no changeover data, products keep their catalogue family
        (高压开关柜, 环网柜 ...). ``"family"``: a changeover matrix between the catalogue
        families of each workshop. ``"series"``: products' families become their model
        series (KYN28A-12, GGD, SCB13 ...), with short changeovers inside a catalogue family
        and long ones across. Either way about a third of the lines get their own minutes
        for a pair or two, and every line an ``initial_family``. Drawn from a random stream
        of their own: the rest of the dataset is the one without changeovers (``load``
        counts no changeover time).
    inspection_orders_per_day, dispatch_orders_per_day
        The plant's daily inspection and dispatch caps; ``None`` (the default): no cap.

    Returns
    -------
    Dataset
        A checked dataset; planned orders are ``confirmed`` or ``in_production``.
    """
    n_products = int(np.clip(7 * lines, 10, 500)) if products is None else products
    n_materials = int(np.clip(5 * lines, 10, 250)) if materials is None else materials
    n_customers = int(np.clip(round(1.5 * math.sqrt(orders)), 8, 300)) if customers is None else customers
    _check_arguments(orders, lines, days, load, n_products, n_materials, n_customers)
    _check_changeover_arguments(changeovers, inspection_orders_per_day, dispatch_orders_per_day)
    rng = np.random.default_rng(seed)
    plant = Plant(
        plan_start=plan_start,
        horizon_days=days,
        workdays=("Mon", "Tue", "Wed", "Thu", "Fri"),
        holiday_country="CN",
        frozen_days=0,
        release_weekdays=("Mon", "Thu"),
        inspection_orders_per_day=inspection_orders_per_day,
        dispatch_orders_per_day=dispatch_orders_per_day,
    )
    plant_lines = _make_lines(rng, lines)
    calendar = _make_calendar(rng, plant_lines, plan_start, days)
    line_capacity = calendar.capacity[:, :days].sum(axis=1)
    catalogue = _make_products(rng, n_products, plant_lines)
    clients = _make_customers(rng, n_customers)
    draft = _draft_orders(rng, orders, catalogue, clients, line_capacity)
    hours = _fit_work(catalogue, draft, line_capacity, plant_lines.workshop, load)
    start_day, delivery_day = _estimate_delivery(rng, draft, hours, calendar, clients.transit, days)
    order_records = _make_orders(rng, draft, start_day, delivery_day, catalogue, clients, plant_lines, calendar, plant)
    stock = _make_materials(rng, n_materials, catalogue, draft, start_day, plan_start, calendar.working[:days])
    line_records, product_records, changeover_rows = plant_lines.records, catalogue.records, []
    if changeovers is not None:
        line_records, product_records, changeover_rows = _make_changeovers(seed, changeovers, catalogue, plant_lines)
    dataset = Dataset.create(
        plant=plant,
        lines=line_records,
        products=product_records,
        routings=_routing_records(catalogue, plant_lines),
        orders=order_records,
        line_calendar=calendar.line_calendar,
        calendar=calendar.closures,
        customers=clients.records,
        inventory=_make_inventory(rng, catalogue, draft, days),
        **stock,
        changeovers=changeover_rows,
    )
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "generated %d orders on %d lines over %d days (seed %d), estimated load %.2f",
            orders, lines, days, seed, estimated_load(dataset),
        )  # fmt: skip
    return dataset


def announced_closures(first: dt.date, last: dt.date) -> tuple[CalendarException, ...]:
    """The plant's announced closures for years the official CN schedule does not cover yet.

    For every calendar year from ``first`` to ``last`` missing from
    ``chinese_calendar``, New Year's Day and a Spring Festival break of 7–9
    days (the ``holidays`` package's CN dates, extended the way the official
    schedule usually does) are closed, and up to two weekend days are
    announced as working days (调休) to make up for the extra weekdays off.

    Parameters
    ----------
    first, last
        The first and last dates whose years are considered.

    Returns
    -------
    tuple of CalendarException
        Rows for ``calendar.csv``, sorted by date.
    """
    covered = _covered_years()
    rows: dict[dt.date, bool] = {}
    for year in range(first.year, last.year + 1):
        if year in covered:
            continue
        official = sorted(holidays.country_holidays("CN", years=[year]).items())
        rows.update({day: False for day, name in official if name.startswith("New Year's Day")})
        spring = [day for day, name in official if "Chinese New Year" in name]
        if spring:
            rows.update(_spring_festival_break(spring))
    return tuple(CalendarException(day, working) for day, working in sorted(rows.items()))


def estimated_load(dataset: Dataset) -> float:
    """Planned work over line capacity in the horizon, a rough figure.

    Each planned order counts its mean hours over its routing lines; capacity
    uses Mon–Fri with the official CN schedule where ``chinese_calendar`` covers
    the year, then ``calendar.csv`` and ``line_calendar.csv``.

    Parameters
    ----------
    dataset
        Any dataset.

    Returns
    -------
    float
        Work hours divided by capacity hours (0 when there is no capacity).
    """
    plant = dataset.plant
    working = _plant_working_days(plant.plan_start, plant.horizon_days, dataset.calendar)
    overrides = {(e.line_id, e.date): e.hours for e in dataset.line_calendar}
    capacity = 0.0
    for line in dataset.lines:
        for offset in range(plant.horizon_days):
            day = plant.plan_start + offset * _DAY
            capacity += overrides.get((line.line_id, day), line.hours_per_day if working[offset] else 0.0)
    work = 0.0
    for order in dataset.planned_orders:
        routings = dataset.routings_by_product.get(order.product_id, ())
        hours = [r.setup_hours + math.ceil(order.quantity * 60 / r.units_per_hour) / 60 for r in routings]
        work += float(np.mean(hours)) if hours else 0.0
    return work / capacity if capacity else 0.0


# -- arguments and calendar ----------------------------------------------------------


def _check_arguments(orders: int, lines: int, days: int, load: float, *counts: int) -> None:
    if orders < 1 or lines < 1 or days < 7:
        raise ValueError("need at least 1 order, 1 line and 7 days")
    if not 0 < load <= 2:
        raise ValueError(f"load must be in (0, 2], got {load}")
    n_products, n_materials, n_customers = counts
    workshops = min(len(_WORKSHOPS), lines)
    if n_products < workshops:
        raise ValueError(f"need at least {workshops} products for {lines} lines")
    if n_materials and n_materials < workshops:
        raise ValueError(f"need 0 or at least {workshops} materials for {lines} lines")
    if n_customers < 1:
        raise ValueError("need at least 1 customer")


def _check_changeover_arguments(level: str | None, *caps: int | None) -> None:
    if level is not None and level not in CHANGEOVER_LEVELS:
        raise ValueError(f"changeovers must be one of {', '.join(CHANGEOVER_LEVELS)} or None, got {level!r}")
    for cap in caps:
        if cap is not None and cap < 1:
            raise ValueError(f"an inspection or dispatch cap must be at least 1 order a day, got {cap}")


def _covered_years() -> frozenset[int]:
    return frozenset(day.year for day in chinese_calendar.constants.holidays)


def _spring_festival_break(official: Sequence[dt.date]) -> dict[dt.date, bool]:
    """Close the Spring Festival week and announce make-up working weekend days."""
    start = official[0]
    end = max(official[-1], start + 6 * _DAY)
    # Bridge the remaining weekdays up to the weekend, as the official schedule does.
    while (end - start).days < 8 and (end + _DAY).weekday() < 5:
        end += _DAY
    rows = {start + k * _DAY: False for k in range((end - start).days + 1)}
    weekdays_off = sum(day.weekday() < 5 for day in rows)
    sunday_before = start - 2 * _DAY - ((start - 2 * _DAY).weekday() + 1) % 7 * _DAY
    saturday_after = end + 2 * _DAY + (5 - (end + 2 * _DAY).weekday()) % 7 * _DAY
    make_up = max(0, min(2, weekdays_off - STATUTORY_SPRING_FESTIVAL_DAYS))
    rows.update({day: True for day in (sunday_before, saturday_after)[:make_up]})
    return rows


def _plant_working_days(start: dt.date, count: int, calendar: Iterable[CalendarException]) -> np.ndarray:
    """Plant working days from ``start``: CN official schedule or Mon–Fri, then the plant's exceptions."""
    covered = _covered_years()
    overrides = {row.date: row.working for row in calendar}
    working = np.zeros(count, dtype=bool)
    for offset in range(count):
        day = start + offset * _DAY
        if day in overrides:
            working[offset] = overrides[day]
        elif day.year in covered:
            working[offset] = chinese_calendar.is_workday(day)
        else:
            working[offset] = day.weekday() < 5
    return working


def _cn_number(number: int) -> str:
    """Chinese numerals 1–99 as used in line names (一, 十二, 二十三)."""
    if not 1 <= number <= 99:
        return str(number)
    tens, ones = divmod(number, 10)
    text = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens - 1] + "十")
    return text + (_CN_DIGITS[ones - 1] if ones else "")


def _apportion(total: int, weights: Sequence[float]) -> np.ndarray:
    """Split ``total`` into len(weights) whole parts of at least 1, by largest remainder."""
    weights_arr = np.asarray(weights, dtype=float)
    parts = np.ones(len(weights_arr), dtype=int)
    share = (total - parts.sum()) * weights_arr / weights_arr.sum()
    parts += np.floor(share).astype(int)
    remainder = total - parts.sum()
    parts[np.argsort(-(share - np.floor(share)), kind="stable")[:remainder]] += 1
    return parts


def _make_lines(rng: np.random.Generator, count: int) -> _Lines:
    """Lines in workshops: mostly one 8-hour shift, about a quarter on two shifts, one 10-hour line."""
    workshops = _WORKSHOPS[: min(len(_WORKSHOPS), count)]
    sizes = _apportion(count, [w.weight for w in workshops])
    workshop = np.repeat(np.arange(len(workshops)), sizes)
    hours = np.full(count, 8.0)
    two_shift = rng.choice(count, size=max(int(count >= 2), round(0.25 * count)), replace=False)
    hours[two_shift] = 16.0
    if count >= 4:
        hours[rng.choice(np.flatnonzero(hours == 8.0))] = 10.0
    ids = [f"L{k + 1:02d}" for k in range(count)]
    names = []
    for k in range(count):
        number = int(np.sum(workshop[: k + 1] == workshop[k]))
        names.append(f"{workshops[workshop[k]].name}{_cn_number(number)}线")
    records = [Line(i, _whole(h), n) for i, h, n in zip(ids, hours, names, strict=True)]
    return _Lines(ids, hours, workshop, records)


def _make_calendar(rng: np.random.Generator, lines: _Lines, plan_start: dt.date, days: int) -> _Calendar:
    """Plant closures, maintenance and overtime rows, and the line capacity they give."""
    length = days + _EXTENSION_DAYS
    closures = announced_closures(plan_start, plan_start + (days + 30) * _DAY)
    working = _plant_working_days(plan_start, length, closures)
    capacity = lines.hours[:, None] * working[None, :]
    overrides = _maintenance_and_overtime(rng, lines.hours, working[:days])
    entries = []
    for (line, offset), hours in sorted(overrides.items()):
        capacity[line, offset] = hours
        entries.append(LineCalendarEntry(lines.ids[line], plan_start + offset * _DAY, hours))
    return _Calendar(working, capacity, entries, closures)


def _maintenance_and_overtime(
    rng: np.random.Generator, hours: np.ndarray, working: np.ndarray
) -> dict[tuple[int, int], float]:
    """Maintenance stops (0 hours, 1–2 working days) and a couple of 10-hour overtime days."""
    days = len(working)
    candidates = np.flatnonzero(working)
    inner = candidates[(candidates >= 2) & (candidates < days - 2)]
    candidates = inner if len(inner) >= 2 else candidates
    overrides: dict[tuple[int, int], float] = {}
    if len(candidates) == 0:
        return overrides
    for _ in range(max(2, round(0.5 * len(hours)))):
        line, first = int(rng.integers(len(hours))), int(rng.integers(len(candidates)))
        for position in range(first, min(first + int(rng.integers(1, 3)), len(candidates))):
            overrides[(line, int(candidates[position]))] = 0
    single_shift = np.flatnonzero(hours == 8.0)
    for _ in range(max(2, round(0.1 * len(hours))) if len(single_shift) else 0):
        key = (int(rng.choice(single_shift)), int(rng.choice(candidates)))
        overrides.setdefault(key, 10)
    return overrides


# -- products, customers ----------------------------------------------------------------


def _make_products(rng: np.random.Generator, count: int, lines: _Lines) -> _Catalogue:
    """Products per workshop (in proportion to its lines), each routed on 1–3 of its lines."""
    n_workshops = int(lines.workshop.max()) + 1
    per_workshop = _apportion(count, np.bincount(lines.workshop, minlength=n_workshops))
    efficiency = rng.uniform(0.8, 1.25, size=len(lines.ids))
    records, workshop_of, family_of, routings = [], [], [], []
    used: dict[str, int] = {}
    for w, n in enumerate(per_workshop):
        workshop_lines = np.flatnonzero(lines.workshop == w)
        families = _WORKSHOPS[w].families
        for k in range(n):
            family = families[k % len(families)]
            serial = used.get(family.code, 0)
            used[family.code] = serial + 1
            models = family.model_names()
            name = models[serial % len(models)] + (f" 改型{serial // len(models)}" if serial >= len(models) else "")
            product = len(records)
            records.append(Product(f"{family.code}-{serial + 1:03d}", name, family.name))
            workshop_of.append(w)
            family_of.append(family)
            base_rate = math.exp(rng.uniform(*np.log(family.rate)))
            others = workshop_lines[workshop_lines != workshop_lines[k % len(workshop_lines)]]
            extra = rng.choice(others, size=int(rng.integers(0, min(3, len(workshop_lines)))), replace=False)
            for line in [workshop_lines[k % len(workshop_lines)], *sorted(extra)]:
                rate = base_rate * efficiency[line] * rng.uniform(0.85, 1.15)
                routings.append((product, int(line), rate, float(rng.choice(family.setup_hours))))
    table = np.array(routings, dtype=float)
    route = np.full((len(records), len(lines.ids)), -1, dtype=int)
    route[table[:, 0].astype(int), table[:, 1].astype(int)] = np.arange(len(table))
    return _Catalogue(
        records=records,
        workshop=np.array(workshop_of),
        family=family_of,
        popularity=rng.lognormal(0.0, 0.8, size=len(records)),
        routing_product=table[:, 0].astype(int),
        routing_line=table[:, 1].astype(int),
        routing_rate=table[:, 2],
        routing_setup=table[:, 3],
        route=route,
    )


def _make_changeovers(
    seed: int, level: str, catalogue: _Catalogue, lines: _Lines
) -> tuple[list[Line], list[Product], list[Changeover]]:
    """Lines with an initial family, products with their family at ``level``, and the changeover rows.

    Every ordered pair of distinct families of a workshop has a row for every line: 20–90
    minutes between series of one catalogue family, 60–240 across families. About a third
    of the lines (those running two families or more) have their own minutes for one or
    two pairs: half (quick-change tooling) or one and a half times (an older line) those.
    """
    rng = np.random.default_rng([seed, _CHANGEOVER_STREAM])
    products = catalogue.records
    if level == "series":
        products = [
            dataclasses.replace(product, family=_series(product, family))
            for product, family in zip(catalogue.records, catalogue.family, strict=True)
        ]
    kind = {p.family: (int(w), f.code) for p, f, w in zip(products, catalogue.family, catalogue.workshop, strict=True)}
    minutes: dict[tuple[str, str], int] = {}
    for a, (workshop_a, code_a) in kind.items():
        for b, (workshop_b, code_b) in kind.items():
            if a != b and workshop_a == workshop_b:
                low, high = (20, 90) if code_a == code_b else (60, 240)
                minutes[(a, b)] = 5 * int(rng.integers(low // 5, high // 5 + 1))
    rows = [Changeover(a, b, m) for (a, b), m in minutes.items()]
    line_families = [
        list(dict.fromkeys(products[p].family for p in np.flatnonzero(catalogue.route[:, k] >= 0)))
        for k in range(len(lines.ids))
    ]
    records = [
        dataclasses.replace(line, initial_family=str(rng.choice(families)) if families else "")
        for line, families in zip(lines.records, line_families, strict=True)
    ]
    mixed = [k for k, families in enumerate(line_families) if len(families) >= 2]
    chosen = rng.choice(mixed, size=min(len(mixed), max(1, round(len(lines.ids) / 3))), replace=False) if mixed else []
    for k in sorted(int(c) for c in chosen):
        pairs = [(a, b) for a in line_families[k] for b in line_families[k] if a != b]
        for pick in sorted(rng.choice(len(pairs), size=min(len(pairs), int(rng.integers(1, 3))), replace=False)):
            pair = pairs[int(pick)]
            factor = float(rng.choice([0.5, 1.5]))
            rows.append(Changeover(*pair, max(5, 5 * round(minutes[pair] * factor / 5)), lines.ids[k]))
    return records, products, rows


def _series(product: Product, family: _Family) -> str:
    """The model series a catalogue product belongs to (its id's serial picks its model name)."""
    serial = int(product.product_id.rsplit("-", 1)[1]) - 1
    return family.series[serial % len(family.model_names()) // len(family.specs)]


def _make_customers(rng: np.random.Generator, count: int) -> _Customers:
    """Customers by region with transit days; about one in ten is a key account."""
    region_of = rng.choice(len(_REGIONS), size=count, p=[r[3] for r in _REGIONS])
    records, transit, seen = [], [], set()
    for k, r in enumerate(region_of):
        region, cities, (low, high), _ = _REGIONS[r]
        name = _customer_name(rng, cities, seen)
        seen.add(name)
        transit.append(int(rng.integers(low, high + 1)))
        records.append(Customer(f"C{k + 1:03d}", name, region, transit[-1]))
    popularity = rng.lognormal(0.0, 1.0, size=count)
    key = rng.random(count) < 0.1
    if not key.any():
        key[int(np.argmax(popularity))] = True
    if (~key).any():  # key accounts place about one order in eight
        popularity[key] *= KEY_ACCOUNT_SHARE / (1 - KEY_ACCOUNT_SHARE) * popularity[~key].sum() / popularity[key].sum()
    return _Customers(records, np.array(transit), key, popularity)


def _customer_name(rng: np.random.Generator, cities: Sequence[str], seen: set[str]) -> str:
    """A new city + kind name; after a few clashes a branch number (分公司) makes it unique."""
    for _ in range(10):
        name = str(rng.choice(cities)) + str(rng.choice(_CUSTOMER_KINDS))
        if name not in seen:
            return name
    branch = 2
    while f"{name}{_cn_number(branch)}分公司" in seen:
        branch += 1
    return f"{name}{_cn_number(branch)}分公司"


# -- orders --------------------------------------------------------------------------------


def _draft_orders(
    rng: np.random.Generator, count: int, catalogue: _Catalogue, clients: _Customers, line_hours: np.ndarray
) -> _OrderDraft:
    """Nominal line (in proportion to capacity), product, quantity, customer and status per order."""
    routed = (catalogue.route >= 0).any(axis=0) & (line_hours > 0)
    weights = np.where(routed, line_hours, 0.0)
    line = rng.choice(len(weights), size=count, p=weights / weights.sum())
    product = np.empty(count, dtype=int)
    for l_index in np.flatnonzero(routed):
        members = np.flatnonzero(line == l_index)
        candidates = np.flatnonzero(catalogue.route[:, l_index] >= 0)
        popularity = catalogue.popularity[candidates]
        product[members] = rng.choice(candidates, size=len(members), p=popularity / popularity.sum())
    median = np.array([catalogue.family[p].median_quantity for p in product])
    quantity = np.clip(np.rint(rng.lognormal(np.log(median), 0.5)), 1, 4 * median).astype(int)
    customer = rng.choice(len(clients.records), size=count, p=clients.popularity / clients.popularity.sum())
    status = np.full(count, "confirmed", dtype=object)
    in_production = _pick_in_production(rng, line, max(1, round(0.02 * count)) if count >= 10 else 0)
    status[in_production] = "in_production"
    quantity[in_production] = np.maximum(1, np.rint(quantity[in_production] * rng.uniform(0.3, 0.7)))
    others = rng.permutation(np.setdiff1d(np.arange(count), in_production))
    n_received, n_reviewed, n_shipped = (round(share * count) for share in (0.015, 0.015, 0.01))
    status[others[:n_received]] = "received"
    status[others[n_received : n_received + n_reviewed]] = "reviewed"
    status[others[n_received + n_reviewed : n_received + n_reviewed + n_shipped]] = "shipped"
    return _OrderDraft(product, line, quantity, customer, status)


def _pick_in_production(rng: np.random.Generator, line: np.ndarray, wanted: int) -> np.ndarray:
    """At most one order per line, on distinct lines, that is already running."""
    lines_with_orders = np.unique(line)
    chosen_lines = rng.choice(lines_with_orders, size=min(wanted, len(lines_with_orders)), replace=False)
    return np.array([rng.choice(np.flatnonzero(line == chosen)) for chosen in np.sort(chosen_lines)], dtype=int)


def _fit_work(
    catalogue: _Catalogue, draft: _OrderDraft, line_hours: np.ndarray, line_workshop: np.ndarray, load: float
) -> np.ndarray:
    """Scale each workshop's rates (in place) so that its planned work is ``load`` times its lines' capacity.

    An order's work is its mean over its routing lines, so a line keeps its own
    speed relative to the others of its workshop; quantities are then scaled
    per nominal line. Returns the hours of every order on its nominal line
    (setup included).
    """
    planned = np.isin(draft.status, ("confirmed", "in_production"))
    rate = np.full(catalogue.route.shape, np.nan)
    rate[catalogue.routing_product, catalogue.routing_line] = catalogue.routing_rate
    setup = np.full(catalogue.route.shape, np.nan)
    setup[catalogue.routing_product, catalogue.routing_line] = catalogue.routing_setup
    run = draft.quantity * np.nanmean(1.0 / rate[draft.product], axis=1)
    order_setup = np.nanmean(setup[draft.product], axis=1)
    workshop = catalogue.workshop[draft.product][planned]
    n_workshops = len(np.unique(line_workshop))
    run_per_workshop = np.bincount(workshop, weights=run[planned], minlength=n_workshops)
    setup_per_workshop = np.bincount(workshop, weights=order_setup[planned], minlength=n_workshops)
    target = load * np.bincount(line_workshop, weights=line_hours, minlength=n_workshops)
    factor = np.ones(n_workshops)
    busy = run_per_workshop > 0
    factor[busy] = run_per_workshop[busy] / np.maximum(target[busy] - setup_per_workshop[busy], 0.25 * target[busy])
    rates = catalogue.routing_rate * factor[catalogue.workshop[catalogue.routing_product]]
    catalogue.routing_rate[:] = [max(0.01, float(f"{value:.3g}")) for value in rates]
    _fit_quantities(catalogue, draft, planned, load * line_hours)
    routing = catalogue.route[draft.product, draft.line]
    minutes = np.ceil(draft.quantity * 60 / catalogue.routing_rate[routing])
    return catalogue.routing_setup[routing] + minutes / 60


def _fit_quantities(catalogue: _Catalogue, draft: _OrderDraft, planned: np.ndarray, target: np.ndarray) -> None:
    """Scale quantities (in place) per nominal line so that each line could run its orders at the target load."""
    routing = catalogue.route[draft.product, draft.line]
    run = draft.quantity / catalogue.routing_rate[routing]
    setup = catalogue.routing_setup[routing]
    run_per_line = np.bincount(draft.line[planned], weights=run[planned], minlength=len(target))
    setup_per_line = np.bincount(draft.line[planned], weights=setup[planned], minlength=len(target))
    factor = np.ones(len(target))
    busy = run_per_line > 0
    factor[busy] = np.maximum(target[busy] - setup_per_line[busy], 0.25 * target[busy]) / run_per_line[busy]
    scaled = np.rint(draft.quantity * np.clip(factor, 1 / 3, 3)[draft.line])
    draft.quantity[:] = np.maximum(1, scaled).astype(int)


def _make_orders(
    rng: np.random.Generator,
    draft: _OrderDraft,
    start_day: np.ndarray,
    delivery_day: np.ndarray,
    catalogue: _Catalogue,
    clients: _Customers,
    lines: _Lines,
    calendar: _Calendar,
    plant: Plant,
) -> list[Order]:
    """Order records with due dates, priorities, types and release dates."""
    count = len(draft.product)
    due_day = _due_days(rng, draft, start_day, delivery_day, clients.transit, plant.horizon_days)
    earliest = _earliest_start_days(rng, draft, start_day, calendar.working)
    key = clients.key[draft.customer]
    priority = rng.choice(_NON_KEY_PRIORITIES[0], size=count, p=_NON_KEY_PRIORITIES[1])
    priority[key] = rng.integers(8, 11, size=int(key.sum()))
    order_type = rng.choice(np.array(["regular", "non_regular", "special"]), size=count, p=[0.85, 0.1, 0.05])
    deposit = rng.choice(_DEPOSIT_RATIOS, size=count)
    width = max(4, len(str(count)))
    prefix = f"SO-{plant.plan_start:%y%m}-"
    records = []
    for k in range(count):
        status = str(draft.status[k])
        records.append(
            Order(
                order_id=f"{prefix}{k + 1:0{width}d}",
                product_id=catalogue.records[draft.product[k]].product_id,
                quantity=int(draft.quantity[k]),
                due_date=plant.plan_start + int(due_day[k]) * _DAY,
                customer_id=clients.records[draft.customer[k]].customer_id,
                priority=int(priority[k]),
                status=status,
                earliest_start=plant.plan_start + int(earliest[k]) * _DAY if earliest[k] > 0 else None,
                pinned_line=lines.ids[draft.line[k]] if status == "in_production" else None,
                order_type=str(order_type[k]),
                deposit_ratio=float(deposit[k]) if order_type[k] == "special" else None,
            )
        )
    return records


def _estimate_delivery(
    rng: np.random.Generator,
    draft: _OrderDraft,
    hours: np.ndarray,
    calendar: _Calendar,
    transit: np.ndarray,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Start and delivery day of each planned order when its line runs them in a random sequence.

    In-production orders come first; a line with spare capacity has its sequence
    stretched so that its last order finishes at the horizon end.
    """
    count = len(hours)
    start_day = np.zeros(count, dtype=int)
    end_day = np.zeros(count, dtype=int)
    planned = np.flatnonzero(np.isin(draft.status, ("confirmed", "in_production")))
    sort_key = rng.random(len(planned))
    sort_key[draft.status[planned] == "in_production"] = -1.0
    sequence = planned[np.lexsort((sort_key, draft.line[planned]))]
    line, duration = draft.line[sequence], hours[sequence]
    finished = np.cumsum(duration)
    first_of_line = np.r_[True, line[1:] != line[:-1]]
    finished -= np.maximum.accumulate(np.where(first_of_line, finished - duration, 0.0))
    for l_index in np.unique(line):
        members = line == l_index
        line_capacity = calendar.capacity[l_index, :days].sum()
        stretch = max(1.0, line_capacity / finished[members][-1])
        cumulative = np.cumsum(calendar.capacity[l_index])
        last = len(cumulative) - 1
        ends = np.searchsorted(cumulative, finished[members] * stretch - 1e-9, side="left")
        starts = np.searchsorted(cumulative, (finished[members] - duration[members]) * stretch, side="right")
        end_day[sequence[members]] = np.minimum(ends, last)
        start_day[sequence[members]] = np.minimum(starts, last)
    working_days = np.flatnonzero(calendar.working)
    inspection = _next_working(end_day, working_days)
    delivery = _next_working(inspection, working_days) + transit[draft.customer]
    return start_day, delivery


def _next_working(day: np.ndarray, working_days: np.ndarray) -> np.ndarray:
    """The first working day strictly after each day (a day later past the known calendar)."""
    position = np.searchsorted(working_days, day, side="right")
    inside = position < len(working_days)
    return np.where(inside, working_days[np.minimum(position, len(working_days) - 1)], day + 1)


def _due_days(
    rng: np.random.Generator,
    draft: _OrderDraft,
    start_day: np.ndarray,
    delivery_day: np.ndarray,
    transit: np.ndarray,
    days: int,
) -> np.ndarray:
    """Due dates as day offsets: estimated delivery plus slack; some tight, a few rush orders."""
    count = len(start_day)
    kind = rng.random(count)
    slack = np.where(kind < 0.18, rng.integers(-6, 1, size=count), rng.integers(1, 22, size=count))
    due = delivery_day + slack
    rush = kind < 0.03  # due before any run of the order could be delivered: late-risk by construction
    due[rush] = transit[draft.customer[rush]] + rng.integers(1, 4, size=int(rush.sum()))
    in_production = draft.status == "in_production"
    due[in_production] = delivery_day[in_production] + rng.integers(-2, 8, size=int(in_production.sum()))
    waiting = np.isin(draft.status, ("received", "reviewed"))
    due[waiting] = rng.integers(days // 3, days + 31, size=int(waiting.sum()))
    shipped = draft.status == "shipped"
    due[shipped] = rng.integers(-15, 4, size=int(shipped.sum()))
    due[~shipped] = np.clip(due[~shipped], 1, days + 45)
    return due


def _earliest_start_days(
    rng: np.random.Generator, draft: _OrderDraft, start_day: np.ndarray, working: np.ndarray
) -> np.ndarray:
    """Some confirmed orders cannot start before a working day before their estimated start (0: none)."""
    count = len(start_day)
    chosen = (draft.status == "confirmed") & (start_day >= 5) & (rng.random(count) < 0.12)
    earliest = np.zeros(count, dtype=int)
    wanted = rng.integers(1, np.maximum(start_day, 1) + 1)
    working_days = np.flatnonzero(working)
    snapped = working_days[np.minimum(np.searchsorted(working_days, wanted), len(working_days) - 1)]
    earliest[chosen] = np.minimum(snapped, start_day)[chosen]
    return earliest


# -- routings, materials, inventory -------------------------------------------------------


def _routing_records(catalogue: _Catalogue, lines: _Lines) -> list[Routing]:
    return [
        Routing(catalogue.records[p].product_id, lines.ids[line], float(rate), float(setup))
        for p, line, rate, setup in zip(
            catalogue.routing_product,
            catalogue.routing_line,
            catalogue.routing_rate,
            catalogue.routing_setup,
            strict=True,
        )
    ]


def _make_materials(
    rng: np.random.Generator,
    count: int,
    catalogue: _Catalogue,
    draft: _OrderDraft,
    start_day: np.ndarray,
    plan_start: dt.date,
    working: np.ndarray,
) -> dict[str, list]:
    """Materials, BOM items and arrivals: every confirmed order can be kitted by the last arrival."""
    if count == 0:
        return {"materials": [], "bom": [], "arrivals": []}
    kinds, pools, common = _material_catalogue(count, catalogue)
    bom = _make_bom(rng, catalogue, pools, common, kinds)
    days = len(working)
    confirmed = np.flatnonzero(draft.status == "confirmed")
    # Units of each product started per day in the estimated sequence.
    started = np.zeros((len(catalogue.records), days))
    np.add.at(
        started, (draft.product[confirmed], np.minimum(start_day[confirmed], days - 1)), draft.quantity[confirmed]
    )
    bom_product, bom_material, bom_qty = (np.array(column) for column in zip(*bom, strict=True))
    demand = np.zeros((count, days))
    np.add.at(demand, bom_material, bom_qty[:, None] * started[bom_product])
    width = max(3, len(str(count)))
    ids = [f"M{k + 1:0{width}d}" for k in range(count)]
    on_hand, arrivals = _supply(rng, demand, working)
    return {
        "materials": [Material(ids[m], int(on_hand[m]), kinds[m][0]) for m in range(count)],
        "bom": [BomItem(catalogue.records[p].product_id, ids[m], q) for p, m, q in bom],
        "arrivals": [Arrival(ids[m], plan_start + int(day) * _DAY, int(qty)) for m, day, qty in arrivals],
    }


def _material_catalogue(
    count: int, catalogue: _Catalogue
) -> tuple[list[tuple[str, str, float]], list[list[int]], list[int]]:
    """Materials (name, unit, typical quantity), split into a pool per workshop plus common materials."""
    n_workshops = int(catalogue.workshop.max()) + 1
    n_common = max(0, min(max(1, round(0.15 * count)), count - n_workshops))
    sizes = _apportion(count - n_common, np.bincount(catalogue.workshop, minlength=n_workshops))
    kinds: list[tuple[str, str, float]] = []
    pools: list[list[int]] = []
    for w, size in enumerate(sizes):
        pools.append(list(range(len(kinds), len(kinds) + size)))
        kinds += _material_variants(_WORKSHOPS[w].materials, size)
    common = list(range(len(kinds), len(kinds) + n_common))
    kinds += _material_variants(_COMMON_MATERIALS, n_common)
    return kinds, pools, common


def _material_variants(kinds: Sequence[tuple[str, str, float]], size: int) -> list[tuple[str, str, float]]:
    """``size`` materials from the catalogue, with B型, C型 ... variants once it is used up."""
    variants = []
    for k in range(size):
        name, unit, typical = kinds[k % len(kinds)]
        variant = k // len(kinds)
        variants.append((name if variant == 0 else f"{name} {chr(ord('A') + variant % 26)}型", unit, typical))
    return variants


def _make_bom(
    rng: np.random.Generator,
    catalogue: _Catalogue,
    pools: list[list[int]],
    common: list[int],
    kinds: list[tuple[str, str, float]],
) -> list[tuple[int, int, float]]:
    """1–3 BOM items per product from its workshop's pool and the common materials."""
    items: dict[int, list[int]] = {p: [] for p in range(len(catalogue.records))}
    serial = np.zeros(len(pools), dtype=int)
    for p in range(len(catalogue.records)):
        w = int(catalogue.workshop[p])
        first = pools[w][serial[w] % len(pools[w])]  # round robin, so that every material is used
        serial[w] += 1
        choices = [m for m in pools[w] + common if m != first]
        extra = rng.choice(choices, size=min(int(rng.integers(0, 3)), len(choices)), replace=False)
        items[p] = [first, *(int(m) for m in extra)]
    used = {m for ms in items.values() for m in ms}
    for m in [m for m in range(len(kinds)) if m not in used]:
        owners = [
            p
            for p in range(len(catalogue.records))
            if len(items[p]) < 3 and (m in common or m in pools[catalogue.workshop[p]])
        ]
        if owners:
            items[min(owners, key=lambda p: len(items[p]))].append(m)
    return [(p, m, _qty_per_unit(rng, *kinds[m][1:])) for p in items for m in items[p]]


def _qty_per_unit(rng: np.random.Generator, unit: str, typical: float) -> float:
    """Whole pieces for 台/套/只 (assemblies exactly as typical), decimals for kg and m."""
    if unit in ("台", "套"):
        return float(typical)
    if unit == "只":
        return float(max(1, round(typical * rng.uniform(0.5, 1.5))))
    return round(typical * float(rng.uniform(0.6, 1.4)), 1)


def _supply(
    rng: np.random.Generator, demand: np.ndarray, working: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """On-hand stock and staggered arrivals over the first two thirds of the horizon.

    Purchasing follows the estimated need: stock on hand and each arrival cover
    the demand until the next arrival plus a margin of 5–15 days. About a
    third of the materials are tight: the stock on hand covers only part of
    the need before the first arrival, so they bind early starts. Total supply
    exceeds the demand of the confirmed orders by 5–20 %.

    Parameters
    ----------
    demand
        Materials x days: quantity needed by orders starting that day.
    working
        Plant working days of the horizon; arrivals fall on them.
    """
    count, days = demand.shape
    cumulative = np.cumsum(demand, axis=1)
    window = np.flatnonzero(working[: max(2, 2 * days // 3)])
    window = window[window >= 1] if (window >= 1).any() else window
    on_hand = np.zeros(count)
    arrivals: list[tuple[int, int, int]] = []
    for m in range(count):
        total = cumulative[m, -1]
        if total == 0 or len(window) == 0:
            on_hand[m] = rng.integers(10, 200) + np.ceil(total)
            continue
        tight = rng.random() < 0.35
        arrival_days = np.sort(rng.choice(window, size=min(int(rng.integers(1, 5)), len(window)), replace=False))
        margin = int(rng.integers(5, 16))
        first_need = cumulative[m, min(arrival_days[0] + (0 if tight else margin), days - 1)]
        on_hand[m] = np.floor(first_need * rng.uniform(0.2, 0.6)) if tight else np.ceil(first_need * 1.1)
        supply = np.ceil(total * rng.uniform(1.05, 1.2))
        supplied = on_hand[m]
        for j, day in enumerate(arrival_days):
            if j + 1 < len(arrival_days):
                goal = min(supply, np.ceil(cumulative[m, min(arrival_days[j + 1] + margin, days - 1)] * 1.05))
            else:
                goal = supply
            if goal > supplied:
                arrivals.append((m, int(day), int(goal - supplied)))
                supplied = goal
    return on_hand, arrivals


def _make_inventory(rng: np.random.Generator, catalogue: _Catalogue, draft: _OrderDraft, days: int) -> list:
    """Finished-goods figures (stock ceiling, in transit, week forecast) for about a quarter of the products."""
    weekly = np.bincount(draft.product, weights=draft.quantity, minlength=len(catalogue.records)) * 7 / days
    chosen = np.flatnonzero((rng.random(len(weekly)) < 0.25) & (weekly > 0))
    ceiling = np.ceil(weekly * rng.uniform(1.5, 3.0, size=len(weekly)))
    in_transit = np.floor(weekly * rng.uniform(0.0, 0.8, size=len(weekly)))
    forecast = np.ceil(weekly * rng.uniform(0.8, 1.3, size=len(weekly)))
    return [
        InventoryFigure(catalogue.records[p].product_id, int(ceiling[p]), int(in_transit[p]), int(forecast[p]))
        for p in chosen
    ]


def _whole(value: float) -> float:
    """Whole hours as int so that CSV cells read ``8``, not ``8.0``."""
    return int(value) if float(value).is_integer() else float(value)
