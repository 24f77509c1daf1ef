"""Large-neighbourhood search around CP-SAT for plants too big for one model.

Start from the list schedule; then, again and again, free a few orders (a
*neighbourhood* chosen from the plan's structure), confine them to a window
of days around where they are and where they should be, and let CP-SAT
re-place them in the capacity and material the rest of the plan leaves. A
sub-plan is kept only when it improves the lexicographic objective
(unscheduled priority, weighted days late, changed orders, holding). The
neighbourhood size adapts: larger after quick proofs, smaller after timeouts.
Some rounds run the sequence search (``solver.sequence``) instead.
"""

from __future__ import annotations

import bisect
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.domain import COLLECTION_DAYS
from solver.instance import Candidate, Instance, Option
from solver.model import Baseline
from solver.objective import Objective
from solver.rules import (
    OrderVars,
    RunVars,
    add_delivery_costs,
    add_end_day,
    add_kitting,
    add_line_choice,
    add_no_overlap,
    add_plan_change,
    add_start_day,
    keep_primary,
    kit_users,
    new_run,
    primary_objective,
    secondary_objective,
    stock_changes,
)
from solver.sequence import SequenceBudget, SequenceSearch
from solver.solution import Assignment

log = logging.getLogger(__name__)

SEQUENCE_SECONDS, SEQUENCE_EVALUATIONS, SEQUENCE_PATIENCE = 0.5, 5_000, 20  # one sequence-search round


@dataclass(frozen=True)
class Run:
    order_id: str
    line_id: str
    start: int  # first working minute on the line's axis
    end: int  # one past the last
    start_day: int
    end_day: int


class PlanState:
    """A complete plan that can be changed order by order, with its costs kept current."""

    def __init__(self, instance: Instance, baseline: Baseline, assignments: dict[str, Assignment]):
        self.instance = instance
        self.baseline = baseline
        self.candidates = {c.order_id: c for c in instance.candidates}
        self.runs: dict[str, Run] = {}
        self.line_starts: dict[str, list[tuple[int, str]]] = {line_id: [] for line_id in instance.axes}
        self.issued = {m: np.zeros(instance.horizon, dtype=np.int64) for m in instance.material_available}
        for order_id, assignment in assignments.items():
            self.place(order_id, assignment.line_id, assignment.start)

    # -- changes --------------------------------------------------------------

    def option(self, order_id: str, line_id: str) -> Option:
        return next(o for o in self.candidates[order_id].options if o.line_id == line_id)

    def place(self, order_id: str, line_id: str, start: int) -> None:
        axis = self.instance.axes[line_id]
        minutes = self.option(order_id, line_id).minutes
        run = Run(order_id, line_id, start, start + minutes, axis.day_of(start), axis.day_of(start + minutes - 1))
        self.runs[order_id] = run
        bisect.insort(self.line_starts[line_id], (start, order_id))
        for material_id, quantity in self.candidates[order_id].material_need.items():
            self.issued[material_id][run.start_day] += quantity

    def move(self, placed: dict[str, tuple[str, int] | None]) -> dict[str, tuple[str, int] | None]:
        """Re-place orders at ``(line_id, start)`` (``None``: left out); returns where they
        were, which undoes the move when moved back to."""
        previous = {o: (run.line_id, run.start) if (run := self.runs.get(o)) else None for o in placed}
        for order_id in placed:
            self.remove(order_id)
        for order_id, where in placed.items():
            if where is not None:
                self.place(order_id, *where)
        return previous

    def remove(self, order_id: str) -> None:
        run = self.runs.pop(order_id, None)
        if run is None:
            return
        starts = self.line_starts[run.line_id]
        del starts[bisect.bisect_left(starts, (run.start, order_id))]
        for material_id, quantity in self.candidates[order_id].material_need.items():
            self.issued[material_id][run.start_day] -= quantity

    # -- costs ------------------------------------------------------------------

    def cost(self, order_id: str) -> Objective:
        """The order's part of the plan's objective."""
        candidate = self.candidates[order_id]
        previous = self.baseline.line_and_start.get(order_id)
        run = self.runs.get(order_id)
        if run is None:
            return self.instance.order_objective(candidate, None, changed=previous is not None)
        changed = previous is not None and previous != (run.line_id, run.start_day)
        return self.instance.order_objective(candidate, run.end_day, changed)

    def total(self) -> Objective:
        """The plan's objective (the placeable orders)."""
        return Objective.total(self.cost(o) for o in self.candidates)

    def assignments(self) -> dict[str, Assignment]:
        return {o: Assignment(o, r.line_id, r.start) for o, r in self.runs.items()}

    # -- look-ups for neighbourhoods ---------------------------------------------

    def runs_between(self, line_id: str, first: int, last: int) -> list[str]:
        """Orders whose run on ``line_id`` overlaps positions ``[first, last]``."""
        starts = self.line_starts[line_id]
        index = max(0, bisect.bisect_right(starts, (first, "")) - 1)
        found = []
        while index < len(starts) and starts[index][0] <= last:
            order_id = starts[index][1]
            if self.runs[order_id].end > first:
                found.append(order_id)
            index += 1
        return found

    def material_left(self, material_id: str, without: set[str]) -> np.ndarray:
        """Scaled material available up to each day, less what the other orders' kits took."""
        issued = self.issued[material_id].copy()
        for order_id in without:
            run = self.runs.get(order_id)
            if run is not None:
                issued[run.start_day] -= self.candidates[order_id].material_need.get(material_id, 0)
        return self.instance.material_available[material_id] - np.cumsum(issued)

    def on_time_end_day(self, candidate: Candidate) -> int:
        """The last production day from which the order still delivers on time (-1 if none)."""
        deliveries = self.instance.delivery_days(candidate)
        on_time = np.flatnonzero((deliveries >= 0) & (deliveries <= candidate.due_day))
        return int(on_time[-1]) if len(on_time) else -1


@dataclass
class Neighbourhood:
    """Orders to re-place and the days they may move within."""

    kind: str
    freed: set[str]
    first_day: int
    last_day: int
    polish: bool = False  # re-solve for stability and holding, lateness kept


class SubModel:
    """The freed orders, confined to their windows, around the fixed rest of the plan.

    Its constraints come from :mod:`solver.rules`, as the exact model's do; it gives them
    each freed order's window of days (its neighbourhood's, widened to where it runs now),
    runs whose start range is clipped to that window, and the material the fixed runs
    leave. Earliest starts hold through the runs' start ranges; in-production and frozen
    orders are never freed.
    """

    def __init__(self, state: PlanState, hood: Neighbourhood, polish: bool = False):
        self.state, self.hood, self.polish = state, hood, polish
        self.model = cp_model.CpModel()
        self.orders: dict[str, OrderVars] = {}
        self.start_ranges: dict[tuple[str, str], tuple[int, int]] = {}  # allowed run positions
        self.intervals: dict[str, list[cp_model.IntervalVar]] = {}  # by line, the fixed runs' after the freed
        for order_id in sorted(hood.freed):
            self._add_order(order_id)
        self._add_fixed_runs()
        add_no_overlap(self.model, self.intervals)
        self._add_materials()
        self._add_objective()

    def _window(self, order_id: str) -> tuple[int, int]:
        run = self.state.runs.get(order_id)
        first, last = self.hood.first_day, self.hood.last_day
        if run is not None:
            first, last = min(first, run.start_day), max(last, run.end_day)
        return first, last

    def _add_order(self, order_id: str) -> None:
        instance, model = self.state.instance, self.model
        candidate = self.state.candidates[order_id]
        first, last = self._window(order_id)
        end_day = model.new_int_var(first, last, f"end_day[{order_id}]")
        start_day = model.new_int_var(min(max(first, candidate.earliest_day), last), last, f"start_day[{order_id}]")
        runs = self._add_runs(candidate, first, last, start_day, end_day)
        order = self._order_vars(candidate, (first, last), start_day, end_day, runs)
        self.orders[order_id] = order
        add_line_choice(model, order)
        add_delivery_costs(model, instance, order)
        previous = self.state.baseline.line_and_start.get(order_id)
        if previous is not None:
            frozen = self.state.baseline.frozen(order_id) is not None
            add_plan_change(model, instance, order, previous, (first, last), frozen=frozen)

    def _add_runs(
        self, candidate: Candidate, first: int, last: int, start_day: cp_model.IntVar, end_day: cp_model.IntVar
    ) -> dict[str, RunVars]:
        """The order's runs on the lines where it fits inside days ``first..last``, tied to its days."""
        runs = {}
        for option in candidate.options:
            axis = self.state.instance.axes[option.line_id]
            low = max(option.earliest_position, int(axis.start[first]))
            high = min(option.latest_position, int(axis.start[last + 1]) - option.minutes)
            if high < low:
                continue
            run = new_run(self.model, candidate.order_id, option, low, high)
            runs[option.line_id] = run
            self.start_ranges[(candidate.order_id, option.line_id)] = (low, high + option.minutes)
            self.intervals.setdefault(option.line_id, []).append(run.interval)
            # the end day from both sides only when polishing: holding pushes it up
            add_end_day(self.model, self.state.instance, run, end_day, exact=self.polish)
            if candidate.material_need:
                add_start_day(self.model, self.state.instance, run, start_day, exact=False)
        return runs

    def _order_vars(
        self,
        candidate: Candidate,
        days: tuple[int, int],
        start_day: cp_model.IntVar,
        end_day: cp_model.IntVar,
        runs: dict[str, RunVars],
    ) -> OrderVars:
        """The order's decision and costs for end days inside ``days``."""
        model, oid = self.model, candidate.order_id
        scheduled = model.new_bool_var(f"scheduled[{oid}]")
        deliveries = np.maximum(0, self.state.instance.delivery_days(candidate))[days[0] : days[1] + 1].tolist()
        max_late = max(0, max(deliveries) - candidate.due_day)
        max_holding = max(0, candidate.due_day - min(deliveries) - COLLECTION_DAYS)
        return OrderVars(
            candidate=candidate,
            scheduled=scheduled,
            start_day=start_day,
            end_day=end_day,
            delivery_day=model.new_int_var(min(deliveries), max(deliveries), f"delivery_day[{oid}]"),
            days_late=model.new_int_var(0, max_late, f"days_late[{oid}]"),
            holding_days=model.new_int_var(0, max_holding, f"holding[{oid}]"),
            max_days_late=max_late,
            max_holding_days=max_holding,
            options=runs,
        )

    def _add_fixed_runs(self) -> None:
        """Runs of the orders that stay put, where the freed ones might go."""
        for line_id, intervals in self.intervals.items():
            ranges = [r for k, r in self.start_ranges.items() if k[1] == line_id]
            low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
            for order_id in self.state.runs_between(line_id, low, high):
                if order_id not in self.hood.freed:
                    run = self.state.runs[order_id]
                    intervals.append(self.model.new_fixed_size_interval_var(run.start, run.end - run.start, ""))

    def _add_materials(self) -> None:
        """Kitting: the freed orders' kits within what the fixed orders left, day by day."""
        for material_id, users in sorted(kit_users(self.orders.values()).items()):
            left = self.state.material_left(material_id, self.hood.freed)
            add_kitting(self.model, stock_changes(left), users)

    def _add_objective(self) -> None:
        """Levels 1-2 (unscheduled, lateness); or, when polishing, levels 3-4 with 1-2 kept."""
        orders = self.orders.values()
        if not self.polish:
            self.model.minimize(primary_objective(orders))
            return
        keep_primary(self.model, orders, Objective.total(self.state.cost(o) for o in self.hood.freed))
        self.model.minimize(secondary_objective(orders))

    def hint(self) -> None:
        """The current plan of the freed orders, every decision and its days."""
        for order_id, order in self.orders.items():
            run = self.state.runs.get(order_id)
            self.model.add_hint(order.scheduled, run is not None)
            if run is not None:
                self.model.add_hint(order.end_day, run.end_day)
                self.model.add_hint(order.start_day, run.start_day)
        for order_id, order in self.orders.items():
            run = self.state.runs.get(order_id)
            for line_id, option in order.options.items():
                chosen = run is not None and run.line_id == line_id
                self.model.add_hint(option.present, chosen)
                if chosen:
                    self.model.add_hint(option.start, run.start)

    def solution(self, solver: cp_model.CpSolver) -> dict[str, tuple[str, int] | None]:
        placed: dict[str, tuple[str, int] | None] = dict.fromkeys(sorted(self.hood.freed))
        for order_id, order in self.orders.items():
            for line_id, run in order.options.items():
                if solver.boolean_value(run.present):
                    placed[order_id] = (line_id, int(solver.value(run.start)))
        return placed


@dataclass
class LnsSettings:
    """How the search runs; ``rounds`` makes it reproducible instead of the wall clock."""

    time_limit: float
    seed: int = 0
    workers: int = 1
    rounds: int | None = None
    sub_time: float = 0.4
    deterministic_time: float | None = None  # per sub-solve, for reproducible runs
    initial_size: int = 20
    accept_equal: bool = True  # also keep sub-plans as good as the current one (drift on plateaus)


@dataclass
class LnsStats:
    rounds: int = 0
    improvements: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [tried, improved]


class LargeNeighbourhoodSearch:
    """Improve a plan by re-solving neighbourhoods with CP-SAT until time or rounds run out."""

    def __init__(self, state: PlanState, settings: LnsSettings, locked: set[str]):
        self.state, self.settings = state, settings
        self.locked = locked  # in-production and frozen orders never move
        self.random = random.Random(settings.seed)
        self.size = settings.initial_size
        self.stats = LnsStats()
        self.best = state.total()
        self._sharing_lines = self._lines_sharing_products()
        self._late: dict[str, int] | None = None  # weighted days late per late order, until the plan changes
        self._kinds: list[tuple[str, Callable[[], Neighbourhood | None]]] = [
            ("late_order", self._late_order),
            ("insert_unscheduled", self._insert_unscheduled),
            ("day_window", self._day_window),
            ("one_line", self._one_line),
            ("shared_material", self._shared_material),
            ("sequence_search", self._sequence_search),
        ]

    def run(self, deadline: float, on_improvement: Callable[[Objective], None] | None = None, stop=None) -> Objective:
        while self._go_on(deadline, stop):
            self.stats.rounds += 1
            hood = self._pick()
            if hood is None or (not hood.freed and hood.kind != "sequence_search"):
                continue
            improved = (
                self._search_sequences(deadline) if hood.kind == "sequence_search" else self._solve(hood, deadline)
            )
            tried = self.stats.by_kind.setdefault(hood.kind, [0, 0])
            tried[0] += 1
            if improved:
                tried[1] += 1
                self.stats.improvements += 1
                if on_improvement:
                    on_improvement(self.best)
        return self.best

    def _go_on(self, deadline: float, stop) -> bool:
        if stop is not None and stop.is_set():
            return False
        if self.settings.rounds is not None:
            return self.stats.rounds < self.settings.rounds
        return time.monotonic() < deadline - 0.05

    def late_orders(self) -> dict[str, int]:
        """Movable late orders with their weighted days late."""
        if self._late is None:
            costs = ((o, self.state.cost(o)[1]) for o in self.state.runs if o not in self.locked)
            self._late = {o: c for o, c in costs if c > 0}
        return self._late

    def _pick(self) -> Neighbourhood | None:
        late = bool(self.late_orders())
        unscheduled = len(self.state.runs) < len(self.state.candidates)
        weights = [6 if late else 0, 4 if unscheduled else 0, 1, 1, 2 if late else 0, 1 if late else 0]
        if not any(weights):
            weights = [0, 0, 1, 1, 0, 0]
        kind, build = self.random.choices(self._kinds, weights=weights)[0]
        hood = build()
        if hood is not None:
            hood.kind = kind
            hood.freed -= self.locked
            # levels 3-4 get a share of the rounds, all of them once nothing is late
            hood.polish = self.random.random() < (0.2 if late or unscheduled else 1.0)
        return hood

    # -- solving a neighbourhood -------------------------------------------------

    def _solve(self, hood: Neighbourhood, deadline: float) -> bool:
        state = self.state
        before = Objective.total(state.cost(o) for o in hood.freed)
        sub = SubModel(state, hood, polish=hood.polish)
        sub.hint()
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.num_workers = self.settings.workers
        params.random_seed = self.settings.seed + self.stats.rounds
        params.cp_model_probing_level = 0
        params.symmetry_level = 0
        params.max_presolve_iterations = 1
        if self.settings.deterministic_time is not None:
            params.max_deterministic_time = self.settings.deterministic_time
            params.max_time_in_seconds = 3600.0
        else:
            params.max_time_in_seconds = max(0.01, min(self.settings.sub_time, deadline - time.monotonic() - 0.05))
        status = solver.solve(sub.model)
        self._adapt(status, solver.wall_time)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False
        previous = state.move(sub.solution(solver))
        after = Objective.total(state.cost(o) for o in hood.freed)
        if after < before or (self.settings.accept_equal and after == before):
            self.best = state.total()
            self._late = None
            return True
        state.move(previous)  # not better: put the plan back as it was
        return False

    def _search_sequences(self, deadline: float) -> bool:
        """The sequence search (moves on and across lines) from the current plan, briefly."""
        if self.settings.rounds is not None:
            budget = SequenceBudget(evaluations=SEQUENCE_EVALUATIONS, patience=SEQUENCE_PATIENCE)
        else:
            seconds = min(SEQUENCE_SECONDS, deadline - time.monotonic() - 0.05)
            budget = SequenceBudget(deadline=time.monotonic() + max(0.0, seconds), patience=SEQUENCE_PATIENCE)
        seed = self.settings.seed + self.stats.rounds
        improved = improve_sequences(self.state, self.locked, budget, seed)
        if improved:
            self.best = self.state.total()
            self._late = None
        return improved

    def _adapt(self, status: int, seconds: float) -> None:
        if status == cp_model.OPTIMAL and seconds < 0.5 * self.settings.sub_time:
            self.size = min(80, int(self.size * 1.15) + 1)
        elif status != cp_model.OPTIMAL:
            self.size = max(6, int(self.size * 0.85))

    # -- neighbourhoods -------------------------------------------------------------

    def _around(self, line_ids: list[str], first_day: int, last_day: int, must: set[str]) -> set[str]:
        """Up to ``size`` orders on ``line_ids`` running in the day window, ``must`` included."""
        found: list[str] = []
        for line_id in line_ids:
            axis = self.state.instance.axes[line_id]
            low, high = int(axis.start[first_day]), int(axis.start[last_day + 1]) - 1
            found += self.state.runs_between(line_id, low, high)
        found = [o for o in dict.fromkeys(found) if o not in must and o not in self.locked]
        self.random.shuffle(found)
        return set(must) | set(found[: max(0, self.size - len(must))])

    def _clip(self, first: int, last: int) -> tuple[int, int]:
        horizon = self.state.instance.horizon
        return max(0, first), min(horizon - 1, last)

    def _late_order(self) -> Neighbourhood | None:
        """A late order, what runs on its lines from well before its on-time day to past its
        current end, and what runs on those orders' other lines there, so work can move over."""
        late = self.late_orders()
        if not late:
            return None
        order_id = self.random.choices(list(late), weights=list(late.values()))[0]
        candidate, run = self.state.candidates[order_id], self.state.runs[order_id]
        on_time = self.state.on_time_end_day(candidate)
        span = run.end_day - run.start_day + 1
        first, last = self._clip(
            min(on_time, run.start_day) - span - self.random.randint(0, 15), run.end_day + self.random.randint(1, 10)
        )
        own_lines = [o.line_id for o in candidate.options]
        nearby = self._around(own_lines, first, last, {order_id})
        other_lines = {o.line_id for n in nearby for o in self.state.candidates[n].options} - set(own_lines)
        if len(nearby) < self.size and other_lines:
            nearby = self._around(sorted(other_lines), first, last, nearby)
        return Neighbourhood("", nearby, first, last)

    def _insert_unscheduled(self) -> Neighbourhood | None:
        """An unscheduled order, with what runs on its lines around where it would be due."""
        left = [o for o in self.state.candidates if o not in self.state.runs and o not in self.locked]
        if not left:
            return None
        order_id = self.random.choices(left, weights=[self.state.candidates[o].priority for o in left])[0]
        candidate = self.state.candidates[order_id]
        on_time = max(candidate.earliest_day, self.state.on_time_end_day(candidate))
        width = self.random.randint(5, 20)
        first = max(candidate.earliest_day, on_time - width)
        first, last = self._clip(first, max(first, on_time) + width)
        lines = [o.line_id for o in candidate.options]
        return Neighbourhood("", self._around(lines, first, last, {order_id}), first, last)

    def _day_window(self) -> Neighbourhood | None:
        """A few days across the lines that share products with a random line."""
        line_id = self.random.choice(list(self.state.instance.axes))
        lines = sorted(self._sharing_lines[line_id])
        first = self.random.randrange(self.state.instance.horizon)
        first, last = self._clip(first, first + self.random.randint(3, 10))
        return Neighbourhood("", self._around(lines, first, last, set()), first, last)

    def _one_line(self) -> Neighbourhood | None:
        """One line over a window of days."""
        line_id = self.random.choice(list(self.state.instance.axes))
        first = self.random.randrange(self.state.instance.horizon)
        first, last = self._clip(first, first + self.random.randint(5, 20))
        return Neighbourhood("", self._around([line_id], first, last, set()), first, last)

    def _shared_material(self) -> Neighbourhood | None:
        """A late order and the orders whose kits take the same material around it."""
        late = [o for o in self.late_orders() if self.state.candidates[o].material_need]
        if not late:
            return None
        order_id = self.random.choice(late)
        run = self.state.runs[order_id]
        materials = set(self.state.candidates[order_id].material_need)
        first, last = self._clip(run.start_day - 15, run.end_day + 5)
        sharing = [
            o
            for o, r in self.state.runs.items()
            if first <= r.start_day <= last and materials & set(self.state.candidates[o].material_need)
        ]
        sharing = [o for o in sharing if o != order_id and o not in self.locked]
        self.random.shuffle(sharing)
        return Neighbourhood("", {order_id, *sharing[: self.size - 1]}, first, last)

    def _sequence_search(self) -> Neighbourhood:
        """Not a sub-model: a marker for a round of the sequence search over the whole plan."""
        return Neighbourhood("sequence_search", set(), 0, 0)

    def _lines_sharing_products(self) -> dict[str, set[str]]:
        sharing = {line_id: {line_id} for line_id in self.state.instance.axes}
        for candidate in self.state.candidates.values():
            option_lines = {o.line_id for o in candidate.options}
            for line_id in option_lines:
                sharing[line_id] |= option_lines
        return sharing


# -- the sequence search, from the current plan ----------------------------------------------


def improve_sequences(
    state: PlanState,
    locked: set[str],
    budget: SequenceBudget,
    seed: int = 0,
    on_improvement: Callable[[int], None] | None = None,
) -> bool:
    """Run the sequence search from the current plan; keep what it found only when the plan
    improves (levels 1-4, lexicographically). ``on_improvement`` gets the plan's weighted
    days late each time the search finds better."""
    placements = {o: (r.line_id, r.start) for o, r in state.runs.items()}
    search = SequenceSearch(state.instance, placements, locked, seed)
    fixed = state.total()[1] - search.total()  # the locked runs' lateness, which never changes
    search.run(budget, on_improvement and (lambda lateness: on_improvement(fixed + lateness)))
    changed = {o: where for o, where in search.placements().items() if where != placements[o]}
    return bool(changed) and _keep_if_better(state, changed)


def _keep_if_better(state: PlanState, placed: dict[str, tuple[str, int]]) -> bool:
    before = Objective.total(state.cost(o) for o in placed)
    previous = state.move(placed)
    if Objective.total(state.cost(o) for o in placed) < before:
        return True
    state.move(previous)
    return False
