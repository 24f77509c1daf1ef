"""A lower bound on total weighted days late, from a time-indexed relaxation on day buckets.

The CP-SAT model's own bound on weighted days late rarely gets past the
trivial one (each order alone on an empty plant): it ignores that orders
compete for the same line-days and the same material arrivals. This module
bounds the lateness of every plan that schedules all of
``instance.candidates`` by a preemptive, splittable LP on day buckets whose
capacity and material rows make that competition count.

The relaxation
--------------
For each order ``o``, each of its options (line ``l``) and each day ``d`` of
the line with capacity inside ``[day_of(earliest_position),
day_of(latest_position + minutes - 1)]``, a variable ``x[o,l,d] >= 0`` is the
share of the order's work done on line ``l`` on day ``d``; ``X[o](t)`` is the
order's share done on days ``<= t`` (all lines)::

    minimise    sum  priority[o] * late[o](d'[o,l,d]) * x[o,l,d]
    subject to  sum_{l,d} x[o,l,d] = 1                            for each order
                sum_o minutes[o,l] * x[o,l,d] <= capacity[l][d]   for each line and day
                sum_o need[o,k] * X[o](t) <= available[k](t)      for each material and day

with ``d'[o,l,d] = max(d, first_end[o,l])``, ``first_end[o,l] =
day_of(earliest_position + minutes - 1)``, ``late[o](e)`` the least days late of
the order over the end days ``e' >= e`` that have a dispatch day (a suffix
minimum of ``instance.days_late``: non-decreasing by construction, and equal
to ``days_late`` wherever that is non-decreasing, which the time rules
guarantee), ``need[o,k]`` the order's bill of materials (``quantity *
qty_per_unit``, none for in-production orders) and ``available[k](t)`` on hand
plus arrivals up to ``t``, with the checker's tolerance. A material row only
matters on the day before an arrival and on the last day, so only those are
kept, chained by running totals.

Why it is a valid bound
-----------------------
Take any plan that schedules every candidate: order ``o`` runs on line ``l``,
starts on day ``s`` and ends on day ``e``; let ``x[o,l,d]`` be the share of its
minutes on day ``d``.

* The shares are non-negative, sum to 1 and lie on days with capacity between
  ``s`` and ``e``, inside the window above (the run starts at or after
  ``earliest_position`` and at or before ``latest_position``); the line-day
  capacities hold.
* Materials: ``X[o](t) = 0`` for ``t < s`` and ``<= 1`` after, so
  ``X[o](t) <= [s <= t]``, and ``sum_o need[o,k] * [s_o <= t] <= available[k](t)``
  is the kitting rule. So ``x`` is feasible.
* Cost: every day ``d`` carrying work has ``d <= e``, and ``e >= first_end[o,l]``
  because the run cannot end before ``earliest_position + minutes - 1``; so
  ``e >= d'[o,l,d]`` and ``days_late(e) >= late[o](d')``. Averaging with the
  shares (they sum to 1), ``days_late(e) >= sum_d x[o,l,d] * late[o](d')``.

So the plan's weighted days late is at least the LP objective at ``x``, hence
at least the LP optimum. The rules left out (one run at a time, whole runs,
the frozen window) only enlarge the LP's feasible set.

The number reported never trusts the LP solver's arithmetic. For any
multipliers ``lambda >= 0`` on the capacity rows and ``mu >= 0`` on the material
rows, every feasible ``x`` has ``objective(x) >= objective(x) + lambda * (load -
capacity) + mu * (issued - available)``, and the right side, minimised order by
order, is ``sum_o min_{l,d} reduced_cost[o,l,d] - lambda * capacity - mu *
available``. The bound is this value, recomputed here from the solver's duals
(GLOP's are optimal, so the value is the LP optimum; PDLP's are approximate,
and whatever they are the value stays valid), less a small tolerance and
rounded up. With ``lambda = mu = 0`` it is the trivial bound; the bound reported
is never below it.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from solver.domain import Arrival
from solver.instance import Instance
from solver.validation import MATERIAL_TOLERANCE

log = logging.getLogger(__name__)

GLOP_MAX_VARIABLES = 300_000  # exact simplex up to here (about 5 s at 250k), first-order PDLP beyond
MAX_VARIABLES = 2_000_000  # beyond this the LP is not built: trivial bound
MIN_SOLVE_SECONDS = 0.2  # no LP solve is started with less time than this
EVALUATION_RESERVE = 0.2  # seconds kept for checking the duals
TOLERANCE = 1e-6  # relative slack taken off the LP value before rounding up
_NO_DISPATCH = np.iinfo(np.int64).max // 4  # "late" of an end day without a dispatch day


@dataclass(frozen=True)
class LowerBound:
    """A lower bound on ``sum(priority * days_late)`` over every plan that schedules all candidates."""

    weighted_days_late: int
    method: str  # "lp-time-indexed (GLOP)", "lp-time-indexed (PDLP)" or "trivial"
    seconds: float


@dataclass(frozen=True)
class _Relaxation:
    """The time-indexed LP as flat arrays: one entry per variable ``x[o,l,d]``, per row, per term."""

    order: np.ndarray  # order row of each variable, ascending
    line_day: np.ndarray  # capacity row (line * horizon + day) of each variable
    minutes: np.ndarray  # the order's minutes on the variable's line
    cost: np.ndarray  # priority * late(d')
    capacity: np.ndarray  # minutes per capacity row
    orders: int  # order rows (orders without a variable have none)
    term_variable: np.ndarray  # material terms: variable,
    term_row: np.ndarray  # material row (material, last day of an arrival period),
    term_need: np.ndarray  # and need, scaled by the material's largest need
    material_limit: np.ndarray  # scaled availability per material row; inf where it cannot bind
    material_first_row: np.ndarray  # first row of each material; rows of a material are consecutive

    @property
    def variables(self) -> int:
        return len(self.order)


def lateness_lower_bound(instance: Instance, time_limit: float = 10.0) -> LowerBound:
    """A lower bound on total weighted days late of every plan that schedules all candidates.

    Parameters
    ----------
    instance
        The prepared dataset; its ``candidates`` are the orders every plan must place.
    time_limit
        Seconds for building and solving the LP; past it, or beyond
        :data:`MAX_VARIABLES` variables, the trivial bound is returned.

    Returns
    -------
    LowerBound
        The bound (never below the trivial one), how it was obtained and the seconds spent.
    """
    started = time.monotonic()
    late = _late_by_end_day(instance)
    trivial = _trivial_bound(instance, late)
    relaxation = _time_indexed_relaxation(instance, late)
    built = time.monotonic() - started
    if relaxation is None:
        return LowerBound(trivial, "trivial", round(built, 3))
    log.info(
        "lateness bound: %d variables, %d orders, %d line-days, %d material rows, built in %.2f s",
        relaxation.variables,
        relaxation.orders,
        len(np.unique(relaxation.line_day)),
        len(relaxation.material_limit),
        built,
    )
    if time_limit - built < MIN_SOLVE_SECONDS + EVALUATION_RESERVE:
        log.info("lateness bound: no time left for the LP, trivial bound %d", trivial)
        return LowerBound(trivial, "trivial", round(built, 3))
    model, rows = _lp_model(relaxation)
    log.info("lateness bound: LP model built in %.2f s", time.monotonic() - started - built)
    value, solver_name = -math.inf, ""
    for solver_name in _solvers(relaxation.variables):
        seconds = started + time_limit - time.monotonic() - EVALUATION_RESERVE
        if seconds < MIN_SOLVE_SECONDS:
            break
        multipliers = _lp_multipliers(relaxation, model, rows, solver_name, seconds)
        if multipliers is not None:
            value = _lagrangian_value(relaxation, *multipliers)
            break
    bound = _rounded_up(value) if math.isfinite(value) else 0
    seconds = round(time.monotonic() - started, 3)
    if bound < trivial:
        log.info("lateness bound: no LP bound above the trivial %d in %.2f s", trivial, seconds)
        return LowerBound(trivial, "trivial", seconds)
    log.info("lateness bound: LP %.3f -> %d (trivial %d) by %s in %.2f s", value, bound, trivial, solver_name, seconds)
    return LowerBound(bound, f"lp-time-indexed ({solver_name.upper()})", seconds)


def _solvers(variables: int) -> tuple[str, ...]:
    """GLOP first while it is quick (exact duals), PDLP (anytime duals) for what is left or too big."""
    return ("glop", "pdlp") if variables <= GLOP_MAX_VARIABLES else ("pdlp",)


# -- the relaxation -----------------------------------------------------------------


def _late_by_end_day(instance: Instance) -> np.ndarray:
    """``late[o, e]``: least days late of order ``o`` over end days ``>= e`` that have a dispatch day."""
    horizon = instance.horizon
    dispatch = np.asarray(instance.calendar.dispatch_by_end_day[:horizon], dtype=np.int64)
    transit = np.array([c.transit_days for c in instance.candidates], dtype=np.int64)
    due = np.array([c.due_day for c in instance.candidates], dtype=np.int64)
    late = np.maximum(0, dispatch[None, :] + (transit - due)[:, None])
    late[:, dispatch < 0] = _NO_DISPATCH  # no plan ends there
    return np.minimum.accumulate(late[:, ::-1], axis=1)[:, ::-1]


def _trivial_bound(instance: Instance, late: np.ndarray) -> int:
    """Each order alone on an empty plant: ``priority * late`` at its earliest possible end day."""
    total = 0
    for index, candidate in enumerate(instance.candidates):
        earliest_end = min(
            instance.axes[o.line_id].day_of(o.earliest_position + o.minutes - 1) for o in candidate.options
        )
        if late[index, earliest_end] < _NO_DISPATCH:
            total += candidate.priority * int(late[index, earliest_end])
    return total


def _time_indexed_relaxation(instance: Instance, late: np.ndarray) -> _Relaxation | None:
    """The LP's variables, costs and rows, built with NumPy (one Python step per order option)."""
    horizon = instance.horizon
    line_row = {line_id: row for row, line_id in enumerate(instance.axes)}
    capacity = np.zeros((len(line_row), horizon), dtype=np.int64)
    for line_id, axis in instance.axes.items():
        capacity[line_row[line_id]] = axis.capacity[:horizon]
    option_order, option_line, first_day, last_day, first_end, option_minutes = [], [], [], [], [], []
    for index, candidate in enumerate(instance.candidates):
        for option in candidate.options:
            axis = instance.axes[option.line_id]
            option_order.append(index)
            option_line.append(line_row[option.line_id])
            first_day.append(axis.day_of(option.earliest_position))
            last_day.append(axis.day_of(option.latest_position + option.minutes - 1))
            first_end.append(axis.day_of(option.earliest_position + option.minutes - 1))
            option_minutes.append(option.minutes)
    lengths = np.array(last_day, dtype=np.int64) - np.array(first_day, dtype=np.int64) + 1
    total = int(lengths.sum())
    if total > MAX_VARIABLES:
        log.warning("lateness bound: %d candidate variables exceed the cap of %d; trivial bound", total, MAX_VARIABLES)
        return None
    # one entry per (option, day of its window): repeat the option, count days from the window start
    option_of = np.repeat(np.arange(len(lengths)), lengths)
    days = (
        np.array(first_day, dtype=np.int64)[option_of]
        + np.arange(total)
        - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    lines = np.array(option_line, dtype=np.int64)[option_of]
    orders = np.array(option_order, dtype=np.int64)[option_of]
    late_at_end = late[orders, np.maximum(days, np.array(first_end, dtype=np.int64)[option_of])]
    keep = (capacity[lines, days] > 0) & (late_at_end < _NO_DISPATCH)
    orders, lines, days, late_at_end = orders[keep], lines[keep], days[keep], late_at_end[keep]
    if len(orders) == 0:
        return None
    priority = np.array([c.priority for c in instance.candidates], dtype=np.int64)
    present, order_rows = np.unique(orders, return_inverse=True)  # options were listed order by order
    materials = _material_rows(instance, orders, days)
    return _Relaxation(
        order=order_rows,
        line_day=lines * horizon + days,
        minutes=np.array(option_minutes, dtype=np.int64)[option_of][keep],
        cost=(priority[orders] * late_at_end).astype(np.float64),
        capacity=capacity.ravel(),
        orders=len(present),
        **materials,
    )


def _material_rows(instance: Instance, orders: np.ndarray, days: np.ndarray) -> dict[str, np.ndarray]:
    """Kitting rows ``sum_o need[o,k] * X[o](t) <= available[k](t)`` on the last day of each arrival period.

    Needs and availability are those of the checker (``quantity * qty_per_unit``
    against on hand plus arrivals, with its tolerance), not the model's rounded
    thousandths, so that no plan the rules allow is cut off.
    """
    dataset = instance.dataset
    need: dict[str, dict[int, float]] = {}
    for index, candidate in enumerate(instance.candidates):
        if candidate.order.status == "in_production":
            continue  # it already has its materials
        for item in dataset.bom_by_product.get(candidate.order.product_id, ()):
            by_order = need.setdefault(item.material_id, {})
            by_order[index] = by_order.get(index, 0.0) + candidate.order.quantity * item.qty_per_unit
    variable_at = np.flatnonzero(np.r_[True, orders[1:] != orders[:-1]])  # first variable of each order
    variable_count = np.diff(np.r_[variable_at, len(orders)])
    slot = np.full(len(instance.candidates), -1, dtype=np.int64)
    slot[orders[variable_at]] = np.arange(len(variable_at))
    arrivals: dict[str, list[Arrival]] = {}
    for arrival in dataset.arrivals:
        arrivals.setdefault(arrival.material_id, []).append(arrival)
    term_variable, term_row, term_need, limits, first_rows = [], [], [], [], []
    for material_id, by_order in need.items():
        available = _available(instance, material_id, arrivals.get(material_id, []))
        users = np.array(list(by_order), dtype=np.int64)
        quantity = np.array(list(by_order.values()), dtype=np.float64)
        users, quantity = users[slot[users] >= 0], quantity[slot[users] >= 0]
        if len(users) == 0 or quantity.sum() <= available[0] or quantity.max() <= 0:
            continue  # on hand covers every order: the rows cannot bind
        scale = float(quantity.max())
        # a row on the last day of each period between arrivals, and on the horizon's last day
        period_end = np.flatnonzero(np.r_[available[1:] > available[:-1], True])
        binds = available[period_end] < quantity.sum()
        first_rows.append(sum(len(rows) for rows in limits))
        limits.append(np.where(binds, available[period_end] / scale, np.inf))
        counts = variable_count[slot[users]]
        variables = (
            np.repeat(variable_at[slot[users]], counts)
            + np.arange(counts.sum())
            - np.repeat(np.cumsum(counts) - counts, counts)
        )
        term_variable.append(variables)
        term_row.append(first_rows[-1] + np.searchsorted(period_end, days[variables]))
        term_need.append(np.repeat(quantity / scale, counts))
    empty_int, empty_float = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return {
        "term_variable": np.concatenate(term_variable) if term_variable else empty_int,
        "term_row": np.concatenate(term_row) if term_row else empty_int,
        "term_need": np.concatenate(term_need) if term_need else empty_float,
        "material_limit": np.concatenate(limits) if limits else empty_float,
        "material_first_row": np.array(first_rows, dtype=np.int64),
    }


def _available(instance: Instance, material_id: str, arrivals: list[Arrival]) -> np.ndarray:
    """On hand plus arrivals up to each day of the horizon, widened by the checker's tolerance."""
    material = instance.dataset.material_by_id.get(material_id)
    by_day = np.zeros(instance.horizon, dtype=np.float64)
    by_day[0] = material.on_hand if material else 0.0
    for arrival in arrivals:
        index = (arrival.date - instance.calendar.plan_start).days
        if index < instance.horizon:
            by_day[max(0, index)] += arrival.qty  # what arrived before the plan start is on hand
    available = np.cumsum(by_day)
    return available + (MATERIAL_TOLERANCE + 1e-9) * np.maximum(1.0, available)


# -- solving and evaluating ---------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """Where each family of rows starts in the LP built by :func:`_lp_model`."""

    capacity: np.ndarray  # capacity row ids (line * horizon + day) that carry a variable, ascending
    first_capacity: int
    first_material: int
    total: int


def _lp_model(relaxation: _Relaxation) -> tuple[mbh.ModelBuilderHelper, _Rows]:
    """The LP, order rows first, then capacity rows, then material running-total rows."""
    model = mbh.ModelBuilderHelper()
    count = relaxation.variables
    shares = model.add_var_array_with_bounds(np.zeros(count), np.full(count, np.inf), np.zeros(count, bool), "x")
    model.set_objective_coefficients(shares.tolist(), relaxation.cost.tolist())
    capacity_rows = np.unique(relaxation.line_day)
    material_rows = len(relaxation.material_limit)
    bounds = [(1.0, 1.0)] * relaxation.orders
    bounds += [(-math.inf, float(relaxation.capacity[r])) for r in capacity_rows.tolist()]
    bounds += [(0.0, 0.0)] * material_rows  # running total - previous running total - issued = 0
    for lower, upper in bounds:
        row = model.add_linear_constraint()
        model.set_constraint_lower_bound(row, lower)
        model.set_constraint_upper_bound(row, upper)
    rows = _Rows(capacity_rows, relaxation.orders, relaxation.orders + len(capacity_rows), len(bounds))
    add_term = model.add_term_to_constraint
    for share, row in zip(shares.tolist(), relaxation.order.tolist(), strict=True):
        add_term(row, share, 1.0)
    capacity_row = rows.first_capacity + np.searchsorted(capacity_rows, relaxation.line_day)
    for share, row, minutes in zip(
        shares.tolist(), capacity_row.tolist(), relaxation.minutes.astype(float).tolist(), strict=True
    ):
        add_term(row, share, minutes)
    material_row = rows.first_material + relaxation.term_row
    for share, row, need in zip(
        shares[relaxation.term_variable].tolist(), material_row.tolist(), (-relaxation.term_need).tolist(), strict=True
    ):
        add_term(row, share, need)
    # running totals: issued up to the row's day, capped by what is available by then
    totals = model.add_var_array_with_bounds(
        np.zeros(material_rows), relaxation.material_limit, np.zeros(material_rows, bool), "issued"
    )
    firsts = set(relaxation.material_first_row.tolist())
    for row, total in enumerate(totals.tolist()):
        add_term(rows.first_material + row, total, 1.0)
        if row + 1 < material_rows and row + 1 not in firsts:
            add_term(rows.first_material + row + 1, total, -1.0)
    return model, rows


def _lp_multipliers(
    relaxation: _Relaxation, model: mbh.ModelBuilderHelper, rows: _Rows, solver_name: str, seconds: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Multipliers ``lambda >= 0`` (capacity rows) and ``mu >= 0`` (material rows) from the LP's duals.

    GLOP's duals are used only when it proves optimality (its iterates before
    that are not dual feasible and bound nothing useful); PDLP's are used
    whatever its status, as the Lagrangian value of any multipliers is valid.
    """
    solver = mbh.ModelSolverHelper(solver_name)
    solver.set_time_limit_in_seconds(seconds)
    solver.solve(model)
    status = solver.status()
    duals = np.asarray(solver.dual_values(), dtype=np.float64) if solver.has_response() else np.zeros(0)
    usable = status == mbh.SolveStatus.OPTIMAL or solver_name == "pdlp"
    if not usable or len(duals) != rows.total or not np.all(np.isfinite(duals)):
        log.info("lateness bound: %s status %s, no usable duals", solver_name, status.name)
        return None
    log.info("lateness bound: %s status %s, primal objective %.3f", solver_name, status.name, solver.objective_value())
    # a <= row of a minimisation has a dual <= 0; its Lagrange multiplier is the negation
    capacity = np.zeros(len(relaxation.capacity))
    capacity[rows.capacity] = np.maximum(0.0, -duals[rows.first_capacity : rows.first_material])
    # the dual of a running-total row prices a unit issued in its period: the sum of the
    # kitting multipliers of this and the later periods, so the differences are the multipliers
    price = duals[rows.first_material :]
    following = np.r_[price[1:], 0.0]
    following[relaxation.material_first_row[1:] - 1] = 0.0
    if len(price):
        following[-1] = 0.0
    material = np.where(np.isfinite(relaxation.material_limit), np.maximum(0.0, price - following), 0.0)
    return capacity, material


def _lagrangian_value(relaxation: _Relaxation, capacity: np.ndarray, material: np.ndarray) -> float:
    """``sum_o min reduced_cost - lambda * capacity - mu * available``: a bound for any ``lambda, mu >= 0``."""
    reduced = relaxation.cost + capacity[relaxation.line_day] * relaxation.minutes
    penalty = float(np.dot(capacity, relaxation.capacity))
    if len(material):
        # a unit issued in a period counts in this period's row and every later one of its material
        price = np.zeros(len(material))
        bounds = [*relaxation.material_first_row.tolist(), len(material)]
        for first, end in itertools.pairwise(bounds):
            price[first:end] = np.cumsum(material[first:end][::-1])[::-1]
        reduced += np.bincount(
            relaxation.term_variable,
            weights=relaxation.term_need * price[relaxation.term_row],
            minlength=relaxation.variables,
        )
        binding = material > 0
        penalty += float(np.dot(material[binding], relaxation.material_limit[binding]))
    starts = np.flatnonzero(np.r_[True, relaxation.order[1:] != relaxation.order[:-1]])
    return float(np.minimum.reduceat(reduced, starts).sum()) - penalty


def _rounded_up(value: float) -> int:
    """The least whole number of weighted days not below ``value`` less a small tolerance."""
    return max(0, math.ceil(value - TOLERANCE * max(1.0, abs(value))))
