"""A lower bound on total weighted days late, from two time-indexed relaxations on day buckets.

The CP-SAT model's own bound on weighted days late rarely gets past the
trivial one (each order alone on an empty plant): it ignores that orders
compete for the same line-days and the same material arrivals. This module
bounds the lateness of every plan that schedules all of
``instance.candidates`` by two relaxations whose capacity and material rows
make that competition count, and reports the larger of their bounds (never
below the trivial one):

* a preemptive, splittable **LP** on day buckets (GLOP, or PDLP when large),
  whose value is re-evaluated here from its duals; fast, but it lets an order
  be late by a fraction of itself;
* an **integer** relaxation (HiGHS branch and cut): each order ends in one
  lateness level of one line and starts before or after each material
  arrival. Its dual bound is valid whenever HiGHS stops; below the best plans
  known on the benchmark plants it is 0-1 % on S (LP: 26 %), 4 % on M (28 %)
  and 4-7 % on L after 30 s (13 %); see benchmarks/README.md.
  It is solved in two steps: a quick model (seconds on M), then, when that
  one is solved and time is left, a strong one with window rows (tens of
  seconds on S and M; it proves S's best known plan optimal).

:class:`BoundSearch` runs both in a thread (GLOP and HiGHS release the GIL, so
the plan search goes on beside it) and can be read at any time;
:func:`lateness_lower_bound` runs it to the end. A result is kept on disk per
instance (:func:`cache_dir`, keyed by a hash of everything the relaxations
read), so that solving the same data again costs nothing.

The LP relaxation
-----------------
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

Why the LP is a valid bound
---------------------------
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
rounded up. With ``lambda = mu = 0`` it is the trivial bound.

The integer relaxation
----------------------
An *option* ``j`` is an order ``o`` on one of its lines ``l``, with ``m``
minutes and first and last start positions ``E``, ``P`` on the line's
working-minute axis (``start[d]`` is the first position of day ``d``). The run
can end on the line's working days from ``day_of(E + m - 1)`` to
``day_of(P + m - 1)`` that have a dispatch day. ``late[o]`` is non-decreasing,
so these end days fall into *levels* of equal lateness; level ``k`` is
represented by its last day ``K[j,k]``. Binary ``y[j,k]`` means "the order runs
on ``l`` and ends in level ``k``". The *kitting days* of an order are, for each
material it needs whose rows can bind, the days before an arrival and the
horizon's last day; for each kitting day ``t`` with ``day_of(E) <= t <
day_of(P)``, binary ``S[j,t]`` means "runs on ``l`` and starts on or before
``t``" (for ``t >= day_of(P)`` that is ``sum_k y[j,k]``, for ``t < day_of(E)`` it
is 0)::

    minimise    sum  priority[o] * late[o](K[j,k]) * y[j,k]
    subject to  sum_{j of o, k} y[j,k] = 1                                  for each order
                sum_{j on l, k} w[j,k](b) * y[j,k] <= start[b + 1]           for each line l, level day b
                sum_{k: smax[j](K[j,k]) <= t} y[j,k] <= S[j,t]               for each S
                S[j,t] <= sum_{k: k = 0 or K[j,k-1] < emax[j](t)} y[j,k]     for each S
                S[j,t] <= S[j,t']                                            kitting days t < t'
                sum_o need[o,k] * sum_{j of o} S[j,t] <= available[k](t)      for each material, kitting day

and, in the strong model only, for each line and each window start ``a`` (the
day after a kitting day, or the first start day of an option on the line)::

                sum_{j on l} sum_{k: K[j,k] <= b} in[j](a) * y[j,k]
                    - sum_{j with S[j,a-1]} (m - c[j](a)) * S[j,a-1] <= start[b + 1] - start[a]

with ``c[j](a) = max(0, min(m, E + m - start[a]))``, ``in[j](a) = m`` for options
with ``S[j,a-1]`` and ``c[j](a)`` for the others; its levels also end at the
last end day that forces a start by each kitting day and at the last end day
of a start by each (same lateness on both sides), so that the ``S`` rows hold
day by day.

Here ``pmax[j,k] = min(P, start[K[j,k] + 1] - m)`` is the last start position of
a run that ends by day ``K[j,k]``; ``w[j,k](b)``, the minutes such a run must
spend before ``start[b + 1]``, is ``m`` when ``K[j,k] <= b`` and ``min(m,
max(0, start[b + 1] - pmax[j,k]))`` after (long runs ending just after ``b``,
in-production runs pinned to the first day, runs pushed against the horizon's
end); ``smax[j](e) = day_of(min(P, start[e + 1] - m))`` is the last start day of
a run that ends by day ``e`` and ``emax[j](t) = day_of(min(P, start[t + 1] - 1) +
m - 1)`` the last end day of a run that starts by day ``t``. The ``w = m`` part of
the capacity rows is chained by running totals, so each ``y`` has one term there.

Why the integer relaxation is a valid bound
-------------------------------------------
Take any plan that schedules every candidate: order ``o`` runs on line ``l``
over the positions ``[p, p + m)`` of its axis, ``E <= p <= P``, starts on day
``s = day_of(p)`` and ends on day ``e = day_of(p + m - 1)``. Set ``y[j,k*] = 1``
for its option ``j`` and the level ``k*`` of ``e`` (the first with ``K[j,k*] >=
e``), every other ``y`` of the order to 0, and ``S[j,t] = [s <= t]``.

* Assignment: one level of one option.
* Capacity: the run ends by ``K[j,k*]``, so ``p <= pmax[j,k*]``. When ``K[j,k*]
  <= b`` all of it lies in positions ``[0, start[b + 1])``; otherwise it runs
  without a break from ``p`` on, so at least ``min(m, start[b + 1] - pmax)`` of
  its minutes do (none is claimed when that is negative). Runs on a line do not
  overlap, so these minutes add up to at most ``start[b + 1]``.
* ``S`` from below: if ``smax(K[j,k*]) <= t``, then ``p <= P`` and ``p + m <=
  start[e + 1] <= start[K[j,k*] + 1]`` give ``s <= smax(K[j,k*]) <= t``.
  From above: if ``s <= t`` then ``p <= min(P, start[t + 1] - 1)``, so ``e <=
  emax(t)`` and ``K[j,k*-1] < e <= emax(t)``: level ``k*`` is in the sum.
  ``[s <= t] <= [s <= t']`` for ``t < t'``.
* Materials: the kitting rule itself: orders starting on or before ``t``
  have been issued their whole bill of materials (checker's tolerance
  included; in-production orders issue none).
* Windows (strong model): a run that ends by ``b`` and has not started by
  ``a - 1`` lies whole in ``[start[a], start[b + 1])``: ``m`` minutes; one that
  ends by ``b`` after starting earlier, at ``p >= E``, has at least ``min(m, p +
  m - start[a]) >= c(a)`` there. So each run's term, ``m * ended_by(b) - (m -
  c) * [s <= a - 1]`` (or ``c * ended_by(b)`` without ``S``; negative only
  when it ends after ``b``), is at most its minutes in the window, and those
  add up to at most the window's ``start[b + 1] - start[a]``. Splitting a
  level into two of the same lateness changes neither the proof nor the cost.
* Cost: ``e`` and ``K[j,k*]`` are in the same level, so ``days_late(e) >=
  late[o](e) = late[o](K[j,k*])``.

So the plan's weighted days late is at least the objective at this point,
hence at least the integer optimum, and HiGHS's dual bound is at most that
optimum whenever it stops (time limit included). The rules left out (one run
at a time inside a day, whole runs, the frozen window) only enlarge the
feasible set; so do the rows the strong model drops. The dual bound is
HiGHS's arithmetic, not re-checked here: floating point with tolerances of
1e-6, and HiGHS rounds it up to the next integer on integral objectives like
this one; it is rounded up again after taking off a small relative tolerance,
like the LP's. Before the solve, HiGHS is given the image of a list schedule
as a first solution: it only prunes, the bound is unchanged. The tests check
the proof itself: every valid plan they meet maps to a point meeting every row.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import highspy
import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from solver.domain import Arrival
from solver.instance import Instance, LineAxis, Option
from solver.solution import Assignment
from solver.validation import MATERIAL_TOLERANCE

log = logging.getLogger(__name__)

GLOP_MAX_VARIABLES = 300_000  # exact simplex up to here (about 5 s at 250k), first-order PDLP beyond
MAX_VARIABLES = 2_000_000  # beyond this the LP is not built: trivial bound
LP_FIRST_MAX_VARIABLES = 100_000  # an LP up to this size is solved before the MIP (M: 39k, L: 254k)
MIP_MAX_COLUMNS = 600_000  # beyond this the integer relaxation is not built (L: 136k)
MIN_SOLVE_SECONDS = 0.2  # no LP solve is started with less time than this
MIP_MIN_SECONDS = 0.5  # nor a MIP solve
STRONG_TIME_FACTOR = 12.0  # the strong MIP is tried with this many times the quick one's seconds left (it took 7-15)
EVALUATION_RESERVE = 0.2  # seconds kept for checking the duals
TOLERANCE = 1e-6  # relative slack taken off the LP value before rounding up
CACHE_MIN_SECONDS = 1.0  # results that took less than this are not worth a file
CACHE_MORE_TIME = 1.25  # a kept bound is searched again only with more than this times its seconds
FORMULATION = "lp-1+mip-2"  # part of the cache key: change it when a relaxation changes
MIP_METHOD = "mip-time-indexed (HiGHS)"
# one thread (the plan search has the others), no primal heuristics (a bound is wanted,
# and the list schedule is given as a first solution), a gap of zero (the objective is integral)
HIGHS_OPTIONS = {
    "output_flag": False,
    "threads": 1,
    "random_seed": 0,
    "mip_rel_gap": 0.0,
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
}
_NO_DISPATCH = np.iinfo(np.int64).max // 4  # "late" of an end day without a dispatch day


@dataclass(frozen=True)
class LowerBound:
    """A lower bound on ``sum(priority * days_late)`` over every plan that schedules all candidates."""

    weighted_days_late: int
    method: str  # "mip-time-indexed (HiGHS)", "lp-time-indexed (GLOP)", "... (PDLP)", "trivial"; " (cached)"
    seconds: float


def lateness_lower_bound(
    instance: Instance, time_limit: float = 10.0, plan: dict[str, Assignment] | None = None
) -> LowerBound:
    """A lower bound on total weighted days late of every plan that schedules all candidates.

    Parameters
    ----------
    instance
        The prepared dataset; its ``candidates`` are the orders every plan must place.
    time_limit
        Seconds for building and solving the relaxations (the LP first, then the
        integer one with what is left); with no time, or beyond their size caps,
        the trivial bound (or a cached one).
    plan
        A plan placing every candidate, given to HiGHS as a first solution; the
        list schedule when ``None``.

    Returns
    -------
    LowerBound
        The best bound found (never below the trivial one), how it was obtained and the seconds spent.
    """
    return BoundSearch(instance, time_limit, plan).run()


class BoundSearch:
    """The lateness bound, searched in a thread while the plan search goes on.

    Both solvers release the GIL, so the thread costs the plan search a share
    of the cores, not its Python steps. :meth:`result` reads the best bound so
    far at any time (the trivial one at first, a cached one when there is one).

    Parameters
    ----------
    instance
        The prepared dataset.
    time_limit
        Seconds from construction until the search stops (HiGHS's time limit).
    plan
        A plan placing every candidate, a first solution for HiGHS (``None``: the list schedule).
    """

    def __init__(self, instance: Instance, time_limit: float, plan: dict[str, Assignment] | None = None):
        self.started = time.monotonic()
        self.deadline = self.started + max(0.0, time_limit)
        self._instance, self._time_limit, self._plan = instance, max(0.0, time_limit), plan
        self._late = _late_by_end_day(instance)
        self._best = LowerBound(_trivial_bound(instance, self._late), "trivial", 0.0)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> BoundSearch:
        """Run :meth:`run` in a daemon thread; returns ``self``."""
        self._thread = threading.Thread(target=self._run_logged, name="paichan-lateness-bound", daemon=True)
        self._thread.start()
        return self

    def result(self, wait: float = 0.0) -> LowerBound:
        """The best bound so far, after waiting up to ``wait`` seconds for the search to finish."""
        if wait > 0 and self._thread is not None:
            self._thread.join(wait)
        with self._lock:
            return self._best

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception:  # a failed bound must not fail the solve: the best so far stands
            log.exception("lateness bound: the search failed; keeping %s", self.result())

    def run(self) -> LowerBound:
        """The cache, then the LP and the integer relaxation, each kept when better; the best found."""
        key = _instance_key(self._instance, self._late) if cache_dir() else None
        cached = _read_cache(key) if key else None
        if cached is not None:
            self._offer(replace(cached.bound, method=f"{cached.bound.method} (cached)"))
            if cached.proven or cached.budget * CACHE_MORE_TIME >= self._time_limit:
                return self.result()
        relaxation = _time_indexed_relaxation(self._instance, self._late)
        # a small LP first, a quick bound to show; a large one (seconds of GLOP) only
        # when the integer relaxation, which bounds more, gave nothing
        small = relaxation is not None and relaxation.variables <= LP_FIRST_MAX_VARIABLES
        if small:
            self._offer(_lp_bound(relaxation, self.deadline))
        value, proven = self._integer_bounds()
        if value is None and not small:
            self._offer(_lp_bound(relaxation, self.deadline))
        best = self.result()
        if key and time.monotonic() - self.started >= CACHE_MIN_SECONDS:
            budget = max(self._time_limit, cached.budget if cached else 0.0)
            method = best.method.removesuffix(" (cached)")
            _write_cache(key, _CacheEntry(replace(best, method=method), proven, budget))
        log.info("lateness bound: %d by %s after %.2f s", best.weighted_days_late, best.method, best.seconds)
        return best

    def _integer_bounds(self) -> tuple[int | None, bool]:
        """The quick integer relaxation, then, once that is solved, the strong one with the time
        left (seconds to minutes on M and S); the best bound and whether it is the strong optimum."""
        if self.deadline - time.monotonic() < MIP_MIN_SECONDS:
            return None, False
        plan = self._plan if self._plan is not None else _list_schedule(self._instance)
        started = time.monotonic()
        best, proven = _mip_bound(self._instance, self._late, self.deadline, plan, strong=False)
        self._offer(None if best is None else LowerBound(best, MIP_METHOD, 0.0))
        # the strong one takes 7-15 times as long (S, M): not started without the time to finish
        if not proven or self.deadline - time.monotonic() < STRONG_TIME_FACTOR * (time.monotonic() - started):
            return best, False
        value, proven = _mip_bound(self._instance, self._late, self.deadline, plan, strong=True)
        self._offer(None if value is None else LowerBound(value, MIP_METHOD, 0.0))
        return max(best, value or 0), proven

    def _offer(self, found: LowerBound | None) -> None:
        """Keep ``found`` when it is at least the best so far (on a tie the later, stronger
        relaxation names the method); stamp the seconds since the start."""
        with self._lock:
            if found is not None and found.weighted_days_late >= self._best.weighted_days_late:
                self._best = replace(found, seconds=round(time.monotonic() - self.started, 3))


# -- the LP relaxation --------------------------------------------------------------


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


def _lp_bound(relaxation: _Relaxation | None, deadline: float) -> LowerBound | None:
    """The LP relaxation's bound, or ``None`` without the time, the size or usable duals to get one."""
    started = time.monotonic()
    if relaxation is None:
        return None
    log.info(
        "lateness bound: LP of %d variables, %d orders, %d line-days, %d material rows",
        relaxation.variables,
        relaxation.orders,
        len(np.unique(relaxation.line_day)),
        len(relaxation.material_limit),
    )
    if deadline - time.monotonic() < MIN_SOLVE_SECONDS + EVALUATION_RESERVE:
        log.info("lateness bound: no time left for the LP")
        return None
    model, rows = _lp_model(relaxation)
    for solver_name in _solvers(relaxation.variables):
        seconds = deadline - time.monotonic() - EVALUATION_RESERVE
        if seconds < MIN_SOLVE_SECONDS:
            break
        multipliers = _lp_multipliers(relaxation, model, rows, solver_name, seconds)
        if multipliers is not None:
            value = _lagrangian_value(relaxation, *multipliers)
            log.info("lateness bound: LP %.3f by %s in %.2f s", value, solver_name, time.monotonic() - started)
            return LowerBound(_rounded_up(value), f"lp-time-indexed ({solver_name.upper()})", 0.0)
    return None


def _solvers(variables: int) -> tuple[str, ...]:
    """GLOP first while it is quick (exact duals), PDLP (anytime duals) for what is left or too big."""
    return ("glop", "pdlp") if variables <= GLOP_MAX_VARIABLES else ("pdlp",)


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
    need = _material_needs(instance)
    variable_at = np.flatnonzero(np.r_[True, orders[1:] != orders[:-1]])  # first variable of each order
    variable_count = np.diff(np.r_[variable_at, len(orders)])
    slot = np.full(len(instance.candidates), -1, dtype=np.int64)
    slot[orders[variable_at]] = np.arange(len(variable_at))
    arrivals = _arrivals_by_material(instance)
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


def _material_needs(instance: Instance) -> dict[str, dict[int, float]]:
    """``quantity * qty_per_unit`` per material and candidate index, as the checker counts it
    (not the model's rounded thousandths); in-production orders already have their materials."""
    need: dict[str, dict[int, float]] = {}
    for index, candidate in enumerate(instance.candidates):
        if candidate.order.status == "in_production":
            continue
        for item in instance.dataset.bom_by_product.get(candidate.order.product_id, ()):
            by_order = need.setdefault(item.material_id, {})
            by_order[index] = by_order.get(index, 0.0) + candidate.order.quantity * item.qty_per_unit
    return need


def _arrivals_by_material(instance: Instance) -> dict[str, list[Arrival]]:
    arrivals: dict[str, list[Arrival]] = {}
    for arrival in instance.dataset.arrivals:
        arrivals.setdefault(arrival.material_id, []).append(arrival)
    return arrivals


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


# -- solving the LP and evaluating its duals --------------------------------------


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


# -- the integer relaxation ---------------------------------------------------------


@dataclass(frozen=True)
class _OptionColumns:
    """Where one option (an order on one of its lines) has its columns in the integer relaxation."""

    order: int  # candidate index
    line_id: str
    minutes: int
    first_level: int  # column of y[j,0]; the other levels' columns follow it
    level_day: np.ndarray  # K[j,k]: the last end day of each lateness level, ascending
    earliest_position: int  # E: the first position the run may start at
    latest_position: int  # P: the last position the run may start at
    first_start_day: int  # day_of(earliest_position)
    last_start_day: int  # day_of(latest_position)
    start_by: dict[int, int]  # kitting day t -> column of S[j,t]

    def levels(self) -> np.ndarray:
        return self.first_level + np.arange(len(self.level_day))


@dataclass(frozen=True)
class _IntegerRelaxation:
    """The integer relaxation as arrays for HiGHS (rows in CSR form) and where the columns are."""

    cost: np.ndarray
    lower: np.ndarray  # column bounds
    upper: np.ndarray
    integer: np.ndarray  # whether each column is binary (or a continuous running total)
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_start: np.ndarray
    row_column: np.ndarray
    row_value: np.ndarray
    options: tuple[_OptionColumns, ...]
    totals: np.ndarray  # (row, column) of each running total, in the order they build on each other

    @property
    def columns(self) -> int:
        return len(self.cost)

    def activity(self, point: np.ndarray) -> np.ndarray:
        """Each row's left-hand side at ``point``."""
        rows = np.repeat(np.arange(len(self.row_lower)), np.diff(self.row_start))
        return np.bincount(rows, weights=self.row_value * point[self.row_column], minlength=len(self.row_lower))

    def fill_totals(self, point: np.ndarray) -> None:
        """Set each running total of ``point`` to what its row adds up (the least it may be)."""
        for row, column in self.totals.tolist():
            terms = slice(self.row_start[row], self.row_start[row + 1])
            others = self.row_column[terms] != column
            point[column] = float(self.row_value[terms][others] @ point[self.row_column[terms][others]])


class _ModelBuilder:
    """Columns and rows added one family at a time, turned into CSR arrays at the end."""

    def __init__(self) -> None:
        self._cost: list[np.ndarray] = []
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self.columns = 0
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._row_lower: list[float] = []
        self._row_upper: list[float] = []
        self._totals: list[tuple[int, int]] = []

    def add_columns(self, cost: np.ndarray, upper: np.ndarray, integer: bool, lower: float = 0.0) -> np.ndarray:
        """New columns with these costs and bounds; their indices."""
        first = self.columns
        self._cost.append(np.asarray(cost, dtype=np.float64))
        self._lower.append(np.full(len(cost), lower))
        self._upper.append(np.asarray(upper, dtype=np.float64))
        self._integer.append(np.full(len(cost), integer))
        self.columns += len(cost)
        return np.arange(first, self.columns)

    def add_row(self, columns: np.ndarray, values: np.ndarray, lower: float, upper: float) -> None:
        self._rows.append((np.asarray(columns, dtype=np.int32), np.asarray(values, dtype=np.float64)))
        self._row_lower.append(lower)
        self._row_upper.append(upper)

    def add_running_totals(
        self, terms: list[tuple[np.ndarray, np.ndarray]], limits: np.ndarray, lower: float = 0.0
    ) -> np.ndarray:
        """Columns ``total[i] >= total[i - 1] + terms[i]`` capped by ``limits[i]``: the rows
        ``sum_{i' <= i} terms[i'] <= limits[i]`` with one term per column; their columns."""
        totals = self.add_columns(np.zeros(len(limits)), limits, integer=False, lower=lower)
        for index, (columns, values) in enumerate(terms):
            carried = ([totals[index - 1]], [1.0]) if index else ([], [])
            self._totals.append((len(self._rows), int(totals[index])))
            self.add_row(np.r_[columns, carried[0], totals[index]], np.r_[values, carried[1], -1.0], -math.inf, 0.0)
        return totals

    def build(self, options: list[_OptionColumns]) -> _IntegerRelaxation:
        lengths = np.array([len(columns) for columns, _ in self._rows], dtype=np.int64)
        return _IntegerRelaxation(
            cost=np.concatenate(self._cost),
            lower=np.concatenate(self._lower),
            upper=np.concatenate(self._upper),
            integer=np.concatenate(self._integer),
            row_lower=np.array(self._row_lower, dtype=np.float64),
            row_upper=np.array(self._row_upper, dtype=np.float64),
            row_start=np.r_[0, np.cumsum(lengths)].astype(np.int32),
            row_column=np.concatenate([columns for columns, _ in self._rows]),
            row_value=np.concatenate([values for _, values in self._rows]),
            options=tuple(options),
            totals=np.array(self._totals, dtype=np.int64).reshape(-1, 2),
        )


def _mip_bound(
    instance: Instance, late: np.ndarray, deadline: float, plan: dict[str, Assignment] | None, strong: bool
) -> tuple[int | None, bool]:
    """HiGHS's dual bound on the integer relaxation by ``deadline``, and whether it is its optimum.

    ``strong`` adds the kitting windows (and the level splits they need).
    ``None`` when the relaxation is too big, there is no time, HiGHS has no
    bound yet, or no plan can place every candidate (the relaxation is infeasible).
    """
    started = time.monotonic()
    relaxation = _integer_relaxation(instance, late, strong)
    if relaxation is None:
        return None, False
    first = _image(relaxation, instance, plan)
    seconds = deadline - time.monotonic()
    log.info(
        "lateness bound: %s MIP of %d columns, %d rows, built in %.2f s; %.1f s for HiGHS",
        "strong" if strong else "quick",
        relaxation.columns,
        len(relaxation.row_lower),
        time.monotonic() - started,
        seconds,
    )
    if seconds < MIP_MIN_SECONDS:
        return None, False
    highs = _highs_model(relaxation, seconds)
    if first is not None:
        highs.setSolution(relaxation.columns, np.arange(relaxation.columns, dtype=np.int32), first)
    highs.run()
    status = highs.getModelStatus()
    value = highs.getInfo().mip_dual_bound
    log.info(
        "lateness bound: HiGHS %s, dual bound %.3f, best relaxed plan %.3f, in %.2f s",
        highs.modelStatusToString(status),
        value,
        highs.getInfo().objective_function_value,
        time.monotonic() - started,
    )
    if status == highspy.HighsModelStatus.kInfeasible or not math.isfinite(value):
        return None, False
    return _rounded_up(value), status == highspy.HighsModelStatus.kOptimal


def _highs_model(relaxation: _IntegerRelaxation, seconds: float) -> highspy._Highs:
    """The relaxation loaded in HiGHS with :data:`HIGHS_OPTIONS` and a time limit."""
    # the plain binding: highspy.Highs prints a banner on stdout when first made and
    # installs Python callbacks, which would take the GIL back during the solve
    highs = highspy._Highs()
    for name, value in HIGHS_OPTIONS.items():
        highs.setOptionValue(name, value)
    highs.setOptionValue("time_limit", float(seconds))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = relaxation.columns, len(relaxation.row_lower)
    lp.col_cost_ = relaxation.cost
    lp.col_lower_ = relaxation.lower
    lp.col_upper_ = relaxation.upper
    lp.row_lower_, lp.row_upper_ = relaxation.row_lower, relaxation.row_upper
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_, matrix.num_row_ = lp.num_col_, lp.num_row_
    matrix.start_, matrix.index_, matrix.value_ = relaxation.row_start, relaxation.row_column, relaxation.row_value
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[integer] for integer in relaxation.integer.tolist()]
    highs.passModel(lp)
    return highs


def _integer_relaxation(instance: Instance, late: np.ndarray, strong: bool = True) -> _IntegerRelaxation | None:
    """The integer relaxation's columns and rows, or ``None`` beyond :data:`MIP_MAX_COLUMNS`;
    ``strong``: with the kitting windows and the level splits they need."""
    if _level_estimate(instance, late) > MIP_MAX_COLUMNS:
        log.warning("lateness bound: more than %d MIP columns; no integer relaxation", MIP_MAX_COLUMNS)
        return None
    materials = _kitting_rows(instance)
    kitting_days: dict[int, set[int]] = {}
    for users, days, _ in materials:
        for index in users:
            kitting_days.setdefault(index, set()).update(days.tolist())
    builder = _ModelBuilder()
    options = []
    for index, candidate in enumerate(instance.candidates):
        for option in candidate.options:
            kitting = sorted(kitting_days.get(index, ()))
            columns = _option_columns(builder, instance, late, index, option, kitting, split=strong)
            if columns is not None:
                options.append(columns)
        if builder.columns > MIP_MAX_COLUMNS:
            log.warning("lateness bound: more than %d MIP columns; no integer relaxation", MIP_MAX_COLUMNS)
            return None
    if not options:
        return None
    _add_assignment_rows(builder, options)
    _add_capacity_rows(builder, instance, options)
    _add_kitting_rows(builder, options, materials)
    if strong:
        _add_kitting_windows(builder, instance, options)
    return builder.build(options)


def _level_estimate(instance: Instance, late: np.ndarray) -> int:
    """The quick model's level columns, counted without building them."""
    count = 0
    for index, candidate in enumerate(instance.candidates):
        for option in candidate.options:
            axis = instance.axes[option.line_id]
            days = np.arange(
                axis.day_of(option.earliest_position + option.minutes - 1),
                axis.day_of(option.latest_position + option.minutes - 1) + 1,
            )
            lateness = late[index, days[axis.capacity[days] > 0]]
            count += int(np.count_nonzero(lateness[1:] > lateness[:-1])) + 1
    return count


def _option_columns(
    builder: _ModelBuilder,
    instance: Instance,
    late: np.ndarray,
    index: int,
    option: Option,
    kitting: list[int],
    split: bool,
) -> _OptionColumns | None:
    """An option's level columns ``y[j,k]``, its kitting columns ``S[j,t]`` and the rows linking
    them; ``split``: levels also end where "ended by" and "started by" imply each other."""
    axis = instance.axes[option.line_id]
    minutes, first, last = option.minutes, option.earliest_position, option.latest_position
    days = np.arange(axis.day_of(first + minutes - 1), axis.day_of(last + minutes - 1) + 1)
    days = days[(axis.capacity[days] > 0) & (late[index, days] < _NO_DISPATCH)]
    if len(days) == 0:
        return None
    lateness = late[index, days]
    level_end = np.r_[lateness[1:] > lateness[:-1], True]  # late is non-decreasing
    first_start_day, last_start_day = axis.day_of(first), axis.day_of(last)
    kitting = [t for t in kitting if first_start_day <= t < last_start_day]
    # the last start day of a run ending by each end day, and the last end day of one starting by each kitting day
    latest_start = np.searchsorted(axis.start, np.minimum(last, axis.start[days + 1] - minutes), "right") - 1
    last_end = [axis.day_of(min(last, int(axis.start[t + 1]) - 1) + minutes - 1) for t in kitting]
    if kitting and split:
        # levels also split where "ended by then" and "started by t" imply each other, so that the
        # S rows below hold day by day, not just level by level (same lateness on both sides)
        level_end[np.searchsorted(latest_start, kitting, "right") - 1] = True  # last end day forcing a start by t
        level_end[np.searchsorted(days, last_end, "right") - 1] = True  # last end day of a start by t
        level_end[-1] = True
    level_day, latest_start = days[level_end], latest_start[level_end]
    priority = instance.candidates[index].priority
    levels = builder.add_columns(priority * late[index, level_day], np.ones(len(level_day)), integer=True)
    starts = builder.add_columns(np.zeros(len(kitting)), np.ones(len(kitting)), integer=True)
    start_by = dict(zip(kitting, starts.tolist(), strict=True))
    previous = None
    for (day, started), latest_end in zip(start_by.items(), last_end, strict=True):
        ended = levels[latest_start <= day]  # ended by then, so started by then
        if len(ended):
            builder.add_row(np.r_[ended, started], np.r_[np.ones(len(ended)), -1.0], -math.inf, 0.0)
        possible = levels[np.r_[True, level_day[:-1] < latest_end]]  # started by then, so ended by latest_end
        builder.add_row(np.r_[started, possible], np.r_[1.0, -np.ones(len(possible))], -math.inf, 0.0)
        if previous is not None:
            builder.add_row(np.array([previous, started]), np.array([1.0, -1.0]), -math.inf, 0.0)
        previous = started
    return _OptionColumns(
        index,
        option.line_id,
        minutes,
        int(levels[0]),
        level_day,
        first,
        last,
        first_start_day,
        last_start_day,
        start_by,
    )


def _add_assignment_rows(builder: _ModelBuilder, options: list[_OptionColumns]) -> None:
    """Each order ends in one level of one of its options."""
    for _, group in itertools.groupby(options, key=lambda columns: columns.order):
        levels = np.concatenate([columns.levels() for columns in group])
        builder.add_row(levels, np.ones(len(levels)), 1.0, 1.0)


def _add_capacity_rows(builder: _ModelBuilder, instance: Instance, options: list[_OptionColumns]) -> None:
    """Runs ending by day ``b`` on a line fit in its minutes up to ``b``: a running total per level day."""
    for line_id, axis in instance.axes.items():
        mine = [columns for columns in options if columns.line_id == line_id]
        if not mine:
            continue
        level_day = np.concatenate([columns.level_day for columns in mine])
        levels = np.concatenate([columns.levels() for columns in mine])
        minutes = np.concatenate([np.full(len(columns.level_day), float(columns.minutes)) for columns in mine])
        days, terms = _by_day(level_day, levels, minutes)
        totals = builder.add_running_totals(terms, axis.start[days + 1].astype(np.float64))
        _add_crossing_rows(builder, axis, mine, days, totals)


def _by_day(day: np.ndarray, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list]:
    """The distinct days, ascending, and the (columns, values) of the terms on each."""
    days, row_of = np.unique(day, return_inverse=True)
    order = np.argsort(row_of, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(row_of, minlength=len(days)))]
    terms = [(columns[order[begin:end]], values[order[begin:end]]) for begin, end in itertools.pairwise(bounds)]
    return days, terms


def _add_crossing_rows(
    builder: _ModelBuilder, axis: LineAxis, mine: list[_OptionColumns], days: np.ndarray, totals: np.ndarray
) -> None:
    """Runs of a level whose day is after ``b`` count the minutes they must spend before
    ``start[b + 1]``: ``min(m, start[b + 1] - pmax)``, ``pmax`` their last start position."""
    levels = np.concatenate([columns.levels() for columns in mine])
    level_day = np.concatenate([columns.level_day for columns in mine])
    minutes = np.concatenate([np.full(len(columns.level_day), columns.minutes) for columns in mine])
    latest = np.concatenate([np.full(len(columns.level_day), columns.latest_position) for columns in mine])
    last_start = np.minimum(latest, axis.start[level_day + 1] - minutes)
    # rows of the level days b with start[b + 1] > last_start and b < the level's own day
    first_row = np.searchsorted(days, np.searchsorted(axis.start, last_start, "right") - 1)
    rows_each = np.maximum(0, np.searchsorted(days, level_day) - first_row)
    term = np.repeat(np.arange(len(levels)), rows_each)
    row = first_row[term] + np.arange(len(term)) - np.repeat(np.cumsum(rows_each) - rows_each, rows_each)
    share = np.minimum(minutes[term], axis.start[days[row] + 1] - last_start[term]).astype(np.float64)
    order = np.argsort(row, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(row, minlength=len(days)))]
    for at, (begin, end) in enumerate(itertools.pairwise(bounds.tolist())):
        if end > begin:
            terms = order[begin:end]
            limit = float(axis.start[days[at] + 1])
            builder.add_row(np.r_[totals[at], levels[term[terms]]], np.r_[1.0, share[terms]], -math.inf, limit)


def _add_kitting_windows(builder: _ModelBuilder, instance: Instance, options: list[_OptionColumns]) -> None:
    """Runs that start after a kitting day ``t`` and end by ``b`` fit in the line's minutes of days ``t + 1 .. b``.

    From ``a = t + 1`` on: a run that has not started by ``t`` and ends by ``b`` lies
    there whole (``m``); one that started by ``t`` and ends by ``b`` at least ``c =
    min(m, E + m - start[a])`` of it; so ``m * ended_by(b) - (m - c) * S[t]`` minutes,
    or ``c * ended_by(b)`` for a run without ``S[t]``. A running total per window
    start, free below (the ``S`` terms make it negative), one term per level.
    """
    for line_id, axis in instance.axes.items():
        mine = [columns for columns in options if columns.line_id == line_id]
        kitting = {t for columns in mine for t in columns.start_by}
        releases = {columns.first_start_day - 1 for columns in mine if columns.first_start_day > 0}
        for day in sorted(kitting | releases):
            if day + 1 >= instance.horizon:
                continue
            window_start = int(axis.start[day + 1])
            levels, level_day, share, started, credit = [], [], [], [], []
            for columns in mine:
                m = columns.minutes
                inside = max(0, min(m, columns.earliest_position + m - window_start))
                if day in columns.start_by:
                    started.append(columns.start_by[day])
                    credit.append(float(inside - m))
                    inside = m
                if inside > 0:
                    levels.append(columns.levels())
                    level_day.append(np.maximum(columns.level_day, day + 1))  # before the window: its first row
                    share.append(np.full(len(columns.level_day), float(inside)))
            if not levels:
                continue
            days, terms = _by_day(np.concatenate(level_day), np.concatenate(levels), np.concatenate(share))
            columns, values = terms[0]
            terms[0] = (np.r_[columns, started].astype(np.int64), np.r_[values, credit])
            limits = (axis.start[days + 1] - window_start).astype(np.float64)
            builder.add_running_totals(terms, limits, lower=-math.inf)


def _add_kitting_rows(
    builder: _ModelBuilder,
    options: list[_OptionColumns],
    materials: list[tuple[dict[int, float], np.ndarray, np.ndarray]],
) -> None:
    """Orders starting on or before a kitting day use at most the material available by then."""
    by_order: dict[int, list[_OptionColumns]] = {}
    for columns in options:
        by_order.setdefault(columns.order, []).append(columns)
    for users, days, available in materials:
        scale = max(users.values())  # rows in units of the largest need, for HiGHS's tolerances
        for day, limit in zip(days.tolist(), available.tolist(), strict=True):
            terms, values = [], []
            for index, need in users.items():
                for columns in by_order.get(index, ()):
                    if day >= columns.last_start_day:
                        started = columns.levels()  # every run of this option has started by then
                    elif day in columns.start_by:
                        started = np.array([columns.start_by[day]])
                    else:
                        continue  # it cannot have started by then
                    terms.append(started)
                    values.append(np.full(len(started), need / scale))
            if terms:
                builder.add_row(np.concatenate(terms), np.concatenate(values), -math.inf, limit / scale)


def _kitting_rows(instance: Instance) -> list[tuple[dict[int, float], np.ndarray, np.ndarray]]:
    """Per material whose rows can bind: its users' needs, its kitting days and what is available by each.

    A kitting day is the last day before an arrival or the horizon's last day
    (the rows of the other days are implied); one binds only when the
    candidates' needs add up to more than is available by then.
    """
    arrivals = _arrivals_by_material(instance)
    rows = []
    for material_id, users in _material_needs(instance).items():
        available = _available(instance, material_id, arrivals.get(material_id, []))
        period_end = np.flatnonzero(np.r_[available[1:] > available[:-1], True])
        days = period_end[available[period_end] < sum(users.values())]
        if len(days) and max(users.values()) > 0:
            rows.append((users, days, available[days]))
    return rows


def _list_schedule(instance: Instance) -> dict[str, Assignment] | None:
    """The list schedule, when it places every candidate: a first solution for HiGHS."""
    from solver.heuristic import best_list_schedule  # the heuristic is only needed here

    assignments, left_out = best_list_schedule(instance)
    return None if left_out else assignments


def _image(relaxation: _IntegerRelaxation, instance: Instance, plan: dict[str, Assignment] | None) -> np.ndarray | None:
    """The relaxation's point that a plan placing every candidate maps to (the validity proof's).

    ``None`` without a plan, or when it leaves out an order or ends one where
    the relaxation has no level (no valid plan does).
    """
    if plan is None:
        return None
    point = np.zeros(relaxation.columns)
    placed = set()
    for columns in relaxation.options:
        assignment = plan.get(instance.candidates[columns.order].order_id)
        if assignment is None:
            return None
        if assignment.line_id != columns.line_id:
            continue
        axis = instance.axes[columns.line_id]
        end_day = axis.day_of(assignment.start + columns.minutes - 1)
        level = int(np.searchsorted(columns.level_day, end_day))
        if level == len(columns.level_day):
            return None
        point[columns.first_level + level] = 1.0
        start_day = axis.day_of(assignment.start)
        for day, column in columns.start_by.items():
            point[column] = float(start_day <= day)
        placed.add(columns.order)
    if len(placed) != len({columns.order for columns in relaxation.options}):
        return None
    relaxation.fill_totals(point)
    return point


# -- the cache ----------------------------------------------------------------------


@dataclass(frozen=True)
class _CacheEntry:
    bound: LowerBound
    proven: bool  # the integer relaxation was solved to optimality: more time cannot raise it
    budget: float  # seconds the search had


def cache_dir() -> Path | None:
    """Where bounds are kept between solves.

    ``$PAICHAN_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/paichan``,
    else ``~/.cache/paichan``.
    """
    configured = os.environ.get("PAICHAN_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paichan"


def _instance_key(instance: Instance, late: np.ndarray) -> str:
    """A hash of everything the relaxations read: lateness by end day, priorities, options,
    capacities, needs and availability (day indices, so the plan start's date does not count)."""
    digest = hashlib.sha256(FORMULATION.encode())
    digest.update(repr(late.shape).encode())
    digest.update(np.ascontiguousarray(late).tobytes())
    for candidate in instance.candidates:
        options = [(o.line_id, o.minutes, o.earliest_position, o.latest_position) for o in candidate.options]
        digest.update(repr((candidate.priority, options)).encode())
    for line_id, axis in instance.axes.items():
        digest.update(line_id.encode())
        digest.update(np.ascontiguousarray(axis.capacity, dtype=np.int64).tobytes())
    arrivals = _arrivals_by_material(instance)
    for material_id, users in sorted(_material_needs(instance).items()):
        digest.update(repr((material_id, sorted(users.items()))).encode())
        digest.update(_available(instance, material_id, arrivals.get(material_id, [])).tobytes())
    return digest.hexdigest()


def _read_cache(key: str) -> _CacheEntry | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        data = json.loads((directory / "bounds" / f"{key}.json").read_text(encoding="utf-8"))
        bound = LowerBound(int(data["weighted_days_late"]), str(data["method"]), float(data["seconds"]))
        return _CacheEntry(bound, bool(data["proven"]), float(data["budget"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or unreadable: computed again


def _write_cache(key: str, entry: _CacheEntry) -> None:
    directory = cache_dir()
    if directory is None:
        return
    folder = directory / "bounds"
    data = {
        "weighted_days_late": entry.bound.weighted_days_late,
        "method": entry.bound.method,
        "seconds": entry.bound.seconds,
        "proven": entry.proven,
        "budget": entry.budget,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # written aside and renamed, so a reader never sees half a file
        partial = folder / f".{key}.{os.getpid()}.{threading.get_ident()}"
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, folder / f"{key}.json")
    except OSError as error:
        log.warning("lateness bound: cannot keep the bound in %s: %s", folder, error)
