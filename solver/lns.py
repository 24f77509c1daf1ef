"""Large-neighbourhood search around CP-SAT for plants too big for one model.

Start from the list schedule; then, again and again, free a few orders (a
*neighbourhood* chosen from the plan's structure), confine them to a window
of days around where they are and where they should be, and let CP-SAT
re-place them (:class:`solver.model.NeighbourhoodModel`) in the gaps and the
material the rest of the plan leaves; on the wall clock two sub-models are
solved at once. A sub-plan is kept when it is no worse: on unscheduled
priority, weighted days late and changed orders while lateness is being
worked on (so the plan drifts along plateaus), on all four levels in the
holding phase at the end, which starts by moving on-time runs later
(:mod:`solver.holding`). The neighbourhood size adapts: larger after quick
proofs, smaller after timeouts. Some rounds run the sequence search
(``solver.sequence``) instead. :class:`LnsStats` records what every kind of
round did.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.changeover import line_changeovers
from solver.domain import Order
from solver.holding import shift_later
from solver.instance import Candidate, Instance, Option
from solver.model import Baseline, NeighbourhoodModel
from solver.objective import Objective
from solver.rules import FixedRun, sequenced_lines
from solver.sequence import SequenceBudget, SequenceSearch
from solver.solution import Assignment

log = logging.getLogger(__name__)

# a share of the rounds free three times the usual orders for four times the time: on L the
# plateaus at 2,700-2,750 were left only by neighbourhoods of 100 orders and more
BIG_SHARE, BIG_SIZE, BIG_TIME, BIG_MAX_SIZE = 0.15, 3, 4, 250
SEQUENCE_SECONDS, SEQUENCE_EVALUATIONS, SEQUENCE_PATIENCE = 0.5, 5_000, 20  # one sequence-search round


@dataclass(frozen=True)
class Run:
    order_id: str
    line_id: str
    start: int  # first working minute on the line's axis
    end: int  # one past the last
    start_day: int
    end_day: int
    changeover: int = 0  # minutes of changeover in front of it, from ``start``


class PlanState:
    """A complete plan that can be changed order by order, with its costs kept current.

    On a line where changeovers arise (``sequenced``), a run's length follows the run before
    it: every change re-derives the line's changeovers (:func:`solver.changeover.line_changeovers`),
    so the runs after a moved one may grow or shrink; ``affected`` names the orders whose costs
    a change may touch. With inspection or dispatch caps, the orders inspected and dispatched
    per day are counted, and :meth:`fits` checks them too.
    """

    def __init__(self, instance: Instance, baseline: Baseline, assignments: dict[str, Assignment]):
        self.instance = instance
        self.baseline = baseline
        self.candidates = {c.order_id: c for c in instance.candidates}
        self.runs: dict[str, Run] = {}
        self.line_starts: dict[str, list[tuple[int, str]]] = {line_id: [] for line_id in instance.axes}
        self.issued = {m: np.zeros(instance.horizon, dtype=np.int64) for m in instance.material_available}
        on_line: dict[str, list[Order]] = {}
        for candidate in instance.candidates:
            for option in candidate.options:
                on_line.setdefault(option.line_id, []).append(candidate.order)
        self.sequenced = sequenced_lines(instance.dataset, on_line)
        dataset, calendar = instance.dataset, instance.calendar
        self._caps = [
            (cap, day_by_end_day, np.zeros(calendar.length, dtype=np.int64))
            for cap, day_by_end_day in (
                (dataset.inspection_cap, calendar.next_working_day[: instance.horizon]),
                (dataset.dispatch_cap, calendar.dispatch_by_end_day),
            )
            if cap is not None
        ]
        self.touched: set[str] = set()  # the lines the last move changed
        self._settled = False  # each line's changeovers follow once every run is placed
        for order_id, assignment in assignments.items():
            self.place(order_id, assignment.line_id, assignment.start)
        self._settled = True
        for line_id in sorted(self.sequenced):
            self._resequence(line_id)

    # -- changes --------------------------------------------------------------

    def option(self, order_id: str, line_id: str) -> Option:
        return next(o for o in self.candidates[order_id].options if o.line_id == line_id)

    def place(self, order_id: str, line_id: str, start: int) -> None:
        run = self._run(order_id, line_id, start, 0)
        self.runs[order_id] = run
        self._count(run, 1)
        bisect.insort(self.line_starts[line_id], (start, order_id))
        for material_id, quantity in self.candidates[order_id].material_need.items():
            self.issued[material_id][run.start_day] += quantity
        if line_id in self.sequenced and self._settled:
            self._resequence(line_id)

    def _run(self, order_id: str, line_id: str, start: int, changeover: int) -> Run:
        axis = self.instance.axes[line_id]
        end = start + changeover + self.option(order_id, line_id).minutes
        return Run(order_id, line_id, start, end, axis.day_of(start), axis.day_of(end - 1), changeover)

    def _resequence(self, line_id: str) -> None:
        """Each run's changeover (and end) on ``line_id`` from the runs before it, by start."""
        order_ids = [o for _, o in self.line_starts[line_id]]
        runs = [self.candidates[o].order for o in order_ids]
        for order_id, changeover in zip(order_ids, line_changeovers(self.instance.dataset, line_id, runs), strict=True):
            run = self.runs[order_id]
            if run.changeover != changeover:
                self._count(run, -1)
                self.runs[order_id] = self._run(order_id, line_id, run.start, changeover)
                self._count(self.runs[order_id], 1)

    def _count(self, run: Run, step: int) -> None:
        """Count the run's inspection and dispatch days (only when a cap is set)."""
        for _, day_by_end_day, counted in self._caps:
            day = int(day_by_end_day[run.end_day]) if run.end_day < len(day_by_end_day) else -1
            if day >= 0:
                counted[day] += step

    def affected(self, placed: Iterable[str], lines: Iterable[str]) -> set[str]:
        """The orders whose costs re-placing ``placed`` on ``lines`` may change: those, and on a
        line where changeovers arise, every run of the lines they leave or join."""
        touched = {self.runs[o].line_id for o in placed if o in self.runs} | set(lines)
        return set(placed).union(*(self._on_line(line_id) for line_id in touched & self.sequenced))

    def _on_line(self, line_id: str) -> list[str]:
        return [o for _, o in self.line_starts[line_id]]

    def move(self, placed: dict[str, tuple[str, int] | None]) -> dict[str, tuple[str, int] | None]:
        """Re-place orders at ``(line_id, start)`` (``None``: left out); returns where they
        were, which undoes the move when moved back to."""
        previous = {o: (run.line_id, run.start) if (run := self.runs.get(o)) else None for o in placed}
        self.touched = {where[0] for where in (*previous.values(), *placed.values()) if where is not None}
        for order_id in placed:
            self.remove(order_id)
        for order_id, where in placed.items():
            if where is not None:
                self.place(order_id, *where)
        return previous

    def fits(self, order_ids: Iterable[str]) -> bool:
        """Whether the runs of ``order_ids`` overlap no other run on their lines and every
        material they take stays within what has arrived, day by day."""
        materials = set()
        for order_id in order_ids:
            run = self.runs.get(order_id)
            if run is None:
                continue
            materials.update(self.candidates[order_id].material_need)
            starts = self.line_starts[run.line_id]
            index = bisect.bisect_left(starts, (run.start, order_id))
            if index > 0 and self.runs[starts[index - 1][1]].end > run.start:
                return False
            if index + 1 < len(starts) and starts[index + 1][0] < run.end:
                return False
        for line_id in self.touched & self.sequenced:  # a changeover that grew may reach the next run
            runs = [self.runs[o] for o in self._on_line(line_id)]
            if any(after.start < before.end for before, after in itertools.pairwise(runs)):
                return False
        if any(np.any(counted > cap) for cap, _, counted in self._caps):
            return False
        available = self.instance.material_available
        return all(np.all(np.cumsum(self.issued[m]) <= available[m]) for m in materials)

    def remove(self, order_id: str) -> None:
        run = self.runs.pop(order_id, None)
        if run is None:
            return
        self._count(run, -1)
        starts = self.line_starts[run.line_id]
        del starts[bisect.bisect_left(starts, (run.start, order_id))]
        for material_id, quantity in self.candidates[order_id].material_need.items():
            self.issued[material_id][run.start_day] -= quantity
        if run.line_id in self.sequenced:
            self._resequence(run.line_id)

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
        return self.assignments_of(self.runs)

    def assignments_of(self, order_ids: Iterable[str]) -> dict[str, Assignment]:
        """The runs of ``order_ids`` that are placed."""
        runs = ((o, self.runs.get(o)) for o in order_ids)
        return {o: Assignment(o, r.line_id, r.start) for o, r in runs if r is not None}

    def fixed_runs(self, line_id: str, moving: set[str]) -> list[tuple[int, int]]:
        """``(start, end)`` of the runs on ``line_id`` that stay when ``moving`` move, in order."""
        return [(self.runs[o].start, self.runs[o].end) for _, o in self.line_starts[line_id] if o not in moving]

    def fixed_sequence(self, line_id: str, moving: set[str]) -> list[FixedRun]:
        """The runs on ``line_id`` that stay when ``moving`` move, with their changeovers, in order."""
        runs = (self.runs[o] for _, o in self.line_starts[line_id] if o not in moving)
        return [FixedRun(self.candidates[r.order_id].order, r.start, r.end, r.changeover) for r in runs]

    def fixed_end_days(self, moving: set[str]) -> list[int]:
        """The last production days of the runs that stay when ``moving`` move (for the caps)."""
        return [run.end_day for order_id, run in self.runs.items() if order_id not in moving]

    @property
    def caps(self) -> bool:
        """Whether an inspection or dispatch cap is planned with."""
        return bool(self._caps)

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
    big: bool = False  # BIG_SIZE times the usual orders and BIG_TIME times the time


@dataclass
class _Round:
    """A sub-model being solved."""

    hood: Neighbourhood
    sub: NeighbourhoodModel
    solver: cp_model.CpSolver
    began: float
    best_before: Objective
    lines: set[str]


@dataclass
class LnsSettings:
    """How the search runs; ``rounds`` makes it reproducible instead of the wall clock."""

    time_limit: float
    seed: int = 0
    workers: int = 1
    rounds: int | None = None
    sub_time: float = 0.4
    deterministic_time: float | None = None  # per sub-solve, for reproducible runs
    initial_size: int = 40
    max_size: int = 150
    holding_share: float = 0.15  # of the time (or rounds) kept for stability and holding at the end
    accept_equal: bool = True  # also keep sub-plans as good as the current one (drift on plateaus)


@dataclass
class KindStats:
    """What the rounds of one neighbourhood kind did."""

    tried: int = 0
    accepted: int = 0  # kept: no worse than before
    improved: int = 0  # strictly better
    lateness_gain: int = 0  # weighted days late removed (unscheduled priority counts as lateness here)
    holding_gain: int = 0
    seconds: float = 0.0
    freed: int = 0  # orders freed, summed over rounds
    statuses: dict[str, int] = field(default_factory=dict)  # sub-solve status -> rounds


@dataclass
class LnsStats:
    """The search's instruments: per neighbourhood kind, and the neighbourhood size over time."""

    rounds: int = 0
    improvements: int = 0
    started: float = field(default_factory=time.monotonic)
    by_kind: dict[str, KindStats] = field(default_factory=dict)
    sizes: list[tuple[float, int]] = field(default_factory=list)  # (seconds, size) at each change
    trace: list[tuple[float, int, int]] = field(default_factory=list)  # (seconds, unscheduled, lateness)

    def record(self, kind: str, before: Objective, after: Objective, seconds: float, freed: int, status: str) -> None:
        entry = self.by_kind.setdefault(kind, KindStats())
        entry.tried += 1
        entry.seconds += seconds
        entry.freed += freed
        entry.statuses[status] = entry.statuses.get(status, 0) + 1
        if after <= before:
            entry.accepted += 1
        if after < before:
            entry.improved += 1
            entry.lateness_gain += (before[0] - after[0]) * 1000 + before[1] - after[1]
            entry.holding_gain += before[3] - after[3]

    def table(self) -> str:
        """A plain-text table of the rounds per kind, for logs and benchmarks."""
        elapsed = max(1e-9, time.monotonic() - self.started)
        rows = [f"{self.rounds} rounds in {elapsed:.1f} s ({self.rounds / elapsed:.1f}/s)"]
        rows.append("kind                 tried  kept better  late-gain hold-gain  s/round  freed  statuses")
        for kind, k in sorted(self.by_kind.items()):
            statuses = ",".join(f"{s}:{n}" for s, n in sorted(k.statuses.items()))
            rows.append(
                f"{kind:20} {k.tried:5} {k.accepted:5} {k.improved:6} {k.lateness_gain:10} {k.holding_gain:9}"
                f" {k.seconds / max(1, k.tried):8.3f} {k.freed / max(1, k.tried):6.1f}  {statuses}"
            )
        rows.append("weighted days late over time: " + self._timeline(elapsed))
        rows.append(
            "neighbourhood size over time: "
            + " ".join(f"{t:.0f}s:{n}" for t, n in self.sizes[:: max(1, len(self.sizes) // 12)])
        )
        return "\n".join(rows)

    def _timeline(self, elapsed: float, points: int = 10) -> str:
        marks = []
        for step in range(1, points + 1):
            at = elapsed * step / points
            reached = [lateness for t, _, lateness in self.trace if t <= at]
            marks.append(f"{at:.0f}s:{reached[-1] if reached else '-'}")
        return " ".join(marks)


class LargeNeighbourhoodSearch:
    """Improve a plan by re-solving neighbourhoods with CP-SAT until time or rounds run out."""

    def __init__(self, state: PlanState, settings: LnsSettings, locked: set[str]):
        self.state, self.settings = state, settings
        self.locked = locked  # in-production and frozen orders: the sequence search and holding leave them
        # sub-models may re-place them as their rules allow: an in-production order on its day
        # (its options hold it), a frozen one on its line and start day; a frozen order the plan
        # could not keep there stays where it is
        self._frozen_in_place = {o for o in locked if state.baseline.frozen(o) and self._in_place(o)}
        self._unfreeable = {o for o in locked if state.baseline.frozen(o)} - self._frozen_in_place
        self.random = random.Random(settings.seed)
        self.size = settings.initial_size
        self.stats = LnsStats()
        self.best = state.total()
        self._sharing_lines = self._lines_sharing_products()
        self._late: dict[str, int] | None = None  # weighted days late per late order, until the plan changes
        self._parallel = settings.rounds is None and settings.workers >= 2
        self._round_limit: int | None = settings.rounds
        self.holding_phase = False  # lateness settled: every round re-solves for stability and holding
        self._on_improvement: Callable[[Objective], None] | None = None
        self._kinds: list[tuple[str, Callable[[], Neighbourhood | None]]] = [
            ("late_order", self._late_order),
            ("insert_unscheduled", self._insert_unscheduled),
            ("day_window", self._day_window),
            ("one_line", self._one_line),
            ("shared_material", self._shared_material),
            ("sequence_search", self._sequence_search),
            ("late_lines", self._late_lines),
        ]

    def run(self, deadline: float, on_improvement: Callable[[Objective], None] | None = None, stop=None) -> Objective:
        """Rounds until ``deadline`` (or the fixed number of rounds, or ``stop``). On the wall
        clock with two workers or more, sub-models are solved two at a time with one CP-SAT
        worker each: a small sub-model gains nothing from a second worker (measured on L:
        2,743 with one against 2,754 with two), while two of them at once double the rounds."""
        self._on_improvement = on_improvement
        share = self.settings.holding_share
        lateness_deadline = deadline - share * max(0.0, deadline - time.monotonic())
        self._round_limit = None if self.settings.rounds is None else round(self.settings.rounds * (1 - share))
        self._rounds(lateness_deadline, stop)
        if stop is None or not stop.is_set():
            self._start_holding_phase()
            self._round_limit = self.settings.rounds
            self._rounds(deadline, stop)
        log.info("neighbourhood search:\n%s", self.stats.table())
        return self.best

    def _rounds(self, deadline: float, stop) -> None:
        if self._parallel:
            self._run_parallel(deadline, stop, slots=self.settings.workers)
            return
        while self._go_on(deadline, stop):
            job = self._next_round(deadline)
            if job is not None:
                self._finish(job, job.solver.solve(job.sub.model))

    def _start_holding_phase(self) -> None:
        """Lateness is settled: move on-time runs later, then re-solve for stability and holding."""
        self.holding_phase = True
        before = self.best
        shift_later(self.state, self.locked)
        self.best = self.state.total()
        self._late = None
        self.stats.record("shift_later", before, self.best, 0.0, 0, "SHIFT")

    def _run_parallel(self, deadline: float, stop, slots: int) -> None:
        with ThreadPoolExecutor(max_workers=slots) as pool:
            running: dict[Future, _Round] = {}
            while True:
                while len(running) < slots and self._go_on(deadline, stop):
                    job = self._next_round(deadline, busy=running.values())
                    if job is not None:
                        running[pool.submit(job.solver.solve, job.sub.model)] = job
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    self._finish(running.pop(future), future.result())

    def _next_round(self, deadline: float, busy: Iterable[_Round] = ()) -> _Round | None:
        """Pick a neighbourhood and build its sub-model; a sequence-search round runs at once."""
        self.stats.rounds += 1
        busy_lines = {line for job in busy for line in job.lines}
        usual_size = self.size
        big = not self.holding_phase and self.random.random() < BIG_SHARE
        if big:
            self.size = min(BIG_MAX_SIZE, self.size * BIG_SIZE)
        hood = self._pick()
        for _ in range(3):  # a neighbourhood apart from the one being solved is likelier to fit
            if hood is None or not busy_lines or not self._lines_of(hood) & busy_lines:
                break
            hood = self._pick()
        self.size = usual_size
        if hood is not None:
            hood.big = big and hood.kind != "sequence_search"
        if hood is None or (not hood.freed and hood.kind != "sequence_search"):
            return None
        if hood.kind == "sequence_search":
            before, began = self.best, time.monotonic()
            kept = self._search_sequences(deadline)
            self._record(hood, before, began, kept, "SEQUENCE")
            return None
        return self._start(hood, deadline)

    def _record(self, hood: Neighbourhood, before: Objective, began: float, kept: bool, status: str) -> None:
        kind = f"{hood.kind}{' (polish)' if hood.polish else ''}{' (big)' if hood.big else ''}"
        self.stats.record(kind, before, self.best, time.monotonic() - began, len(hood.freed), status)
        if kept and self.best < before:
            self.stats.improvements += 1
            self.stats.trace.append((time.monotonic() - self.stats.started, self.best[0], self.best[1]))
            if self._on_improvement:
                self._on_improvement(self.best)

    def _go_on(self, deadline: float, stop) -> bool:
        if stop is not None and stop.is_set():
            return False
        if self._round_limit is not None:
            return self.stats.rounds < self._round_limit
        return time.monotonic() < deadline - 0.05

    def _in_place(self, order_id: str) -> bool:
        run = self.state.runs.get(order_id)
        return run is not None and self.state.baseline.frozen(order_id) == (run.line_id, run.start_day)

    def late_orders(self) -> dict[str, int]:
        """Movable late orders with their weighted days late."""
        if self._late is None:
            costs = ((o, self.state.cost(o)[1]) for o in self.state.runs if o not in self._unfreeable)
            self._late = {o: c for o, c in costs if c > 0}
        return self._late

    def _lines_of(self, hood: Neighbourhood) -> set[str]:
        return {o.line_id for order_id in hood.freed for o in self.state.candidates[order_id].options}

    def _update_late(self, order_ids: Iterable[str]) -> None:
        if self._late is None:
            return
        for order_id in order_ids:
            lateness = self.state.cost(order_id)[1] if order_id in self.state.runs else 0
            if lateness > 0 and order_id not in self._unfreeable:
                self._late[order_id] = lateness
            else:
                self._late.pop(order_id, None)

    def _pick(self) -> Neighbourhood | None:
        late = bool(self.late_orders())
        unscheduled = len(self.state.runs) < len(self.state.candidates)
        weights = [
            4 if late else 0,
            4 if unscheduled else 0,
            1,
            1,
            2 if late else 0,
            1 if late else 0,
            4 if late else 0,
        ]
        if self.holding_phase:
            weights = [2 if late else 0, 0, 2, 2, 1 if late else 0, 0, 2 if late else 0]
        if not any(weights):
            weights = [0, 0, 1, 1, 0, 0, 0]
        kind, build = self.random.choices(self._kinds, weights=weights)[0]
        hood = build()
        if hood is not None:
            hood.kind = kind
            hood.freed -= self._unfreeable
            # levels 3-4 get a share of the rounds, all of them once nothing is late
            hood.polish = self.holding_phase or self.random.random() < (0.2 if late or unscheduled else 1.0)
        return hood

    # -- solving a neighbourhood -------------------------------------------------

    def _start(self, hood: Neighbourhood, deadline: float) -> _Round:
        """The sub-model of ``hood`` and a solver for it."""
        began = time.monotonic()
        sub = NeighbourhoodModel(self.state, hood, polish=hood.polish, frozen=hood.freed & self._frozen_in_place)
        sub.hint()
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.num_workers = 1 if self._parallel else self.settings.workers
        params.random_seed = self.settings.seed + self.stats.rounds
        params.cp_model_probing_level = 0
        params.symmetry_level = 0
        params.max_presolve_iterations = 1
        if self.settings.deterministic_time is not None:
            params.max_deterministic_time = self.settings.deterministic_time * (BIG_TIME if hood.big else 1)
            params.max_time_in_seconds = 3600.0
        else:
            seconds = self.settings.sub_time * (BIG_TIME if hood.big else 1)
            params.max_time_in_seconds = max(0.01, min(seconds, deadline - time.monotonic() - 0.05))
        lines = {run.line_id for order in sub.orders.values() for run in order.options.values()}
        return _Round(hood, sub, solver, began, self.best, lines)

    def _finish(self, job: _Round, status: int) -> None:
        """Keep the sub-plan when the freed orders cost no more than before and it still fits
        the plan (another round may have changed it meanwhile)."""
        if not job.hood.big:
            self._adapt(status, job.solver)
        kept = False
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            kept = self._keep_if_no_worse(job.sub.solution(job.solver))
        self._record(job.hood, job.best_before, job.began, kept, job.solver.status_name(status))

    def _keep_if_no_worse(self, placed: dict[str, tuple[str, int] | None]) -> bool:
        state = self.state
        affected = state.affected(placed, (where[0] for where in placed.values() if where is not None))
        before = Objective.total(state.cost(o) for o in affected)
        previous = state.move(placed)
        after = Objective.total(state.cost(o) for o in affected)
        if state.fits(placed) and self._no_worse(before, after):
            self.best = Objective(*(b + a - x for b, a, x in zip(self.best, after, before, strict=True)))
            self._update_late(placed)
            return True
        state.move(previous)  # worse, or overtaken by another round: put the plan back as it was
        return False

    def _no_worse(self, before: Objective, after: Objective) -> bool:
        """Whether a sub-plan is kept. Until lateness is settled, holding is not compared: the
        lateness rounds leave it to chance, and a plan that may only drift on its plateau
        when holding happens not to grow barely drifts (L stalled at 2,745 from any start);
        the holding phase at the end takes it back."""
        if not self.holding_phase:
            before, after = before[:3], after[:3]
        return after < before or (self.settings.accept_equal and after == before)

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

    def _adapt(self, status: int, solver: cp_model.CpSolver) -> None:
        """Larger neighbourhoods after quick proofs, smaller after timeouts; "quick" on CP-SAT's
        deterministic clock when runs must be reproducible (the wall clock depends on the load)."""
        size = self.size
        if self.settings.deterministic_time is not None:
            quick = solver.deterministic_time < 0.5 * self.settings.deterministic_time
        else:
            quick = solver.wall_time < 0.5 * self.settings.sub_time
        if status == cp_model.OPTIMAL and quick:
            self.size = min(self.settings.max_size, int(self.size * 1.15) + 1)
        elif status != cp_model.OPTIMAL:
            self.size = max(6, int(self.size * 0.85))
        if self.size != size:
            self.stats.sizes.append((time.monotonic() - self.stats.started, self.size))

    # -- neighbourhoods -------------------------------------------------------------

    def _around(
        self, line_ids: list[str], first_day: int, last_day: int, must: set[str], focus: tuple[int, int] | None = None
    ) -> set[str]:
        """Up to ``size`` orders on ``line_ids`` running in the day window, ``must`` included:
        those nearest the ``focus`` days first (a block of neighbouring runs can be
        resequenced; scattered ones are held in place by the fixed runs between them),
        or a random choice without a focus."""
        found = [o for line_id in line_ids for o in self._runs_in_days(line_id, first_day, last_day)]
        found = [o for o in dict.fromkeys(found) if o not in must and o not in self._unfreeable]
        self.random.shuffle(found)
        if focus is not None:
            found.sort(key=lambda o: self._distance(o, focus))
        return set(must) | set(found[: max(0, self.size - len(must))])

    def _widened(self, line_ids: list[str], first: int, last: int) -> tuple[int, int]:
        """The day window, widened a week at a time (up to four) while the runs on ``line_ids``
        in it are fewer than the neighbourhood's size: on a lightly loaded plant a window of a
        few days frees a handful of orders that CP-SAT re-places at once, and nothing moves."""
        for _ in range(4):
            runs = sum(len(self._runs_in_days(line_id, first, last)) for line_id in line_ids)
            if runs >= self.size or (first, last) == (0, self.state.instance.horizon - 1):
                break
            first, last = self._clip(first - 7, last + 7)
        return first, last

    def _runs_in_days(self, line_id: str, first_day: int, last_day: int) -> list[str]:
        """Orders whose run on ``line_id`` overlaps days ``[first_day, last_day]``."""
        axis = self.state.instance.axes[line_id]
        return self.state.runs_between(line_id, int(axis.start[first_day]), int(axis.start[last_day + 1]) - 1)

    def _distance(self, order_id: str, focus: tuple[int, int]) -> int:
        run = self.state.runs[order_id]
        return max(0, focus[0] - run.end_day, run.start_day - focus[1])

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
        first, last = self._widened(own_lines, first, last)
        focus = (min(on_time, run.start_day) - span, run.end_day)
        nearby = self._around(own_lines, first, last, {order_id}, focus)
        other_lines = {o.line_id for n in nearby for o in self.state.candidates[n].options} - set(own_lines)
        if len(nearby) < self.size and other_lines:
            nearby = self._around(sorted(other_lines), first, last, nearby, focus)
        return Neighbourhood("", nearby, first, last)

    def _insert_unscheduled(self) -> Neighbourhood | None:
        """An unscheduled order, with what runs on its lines around where it would be due."""
        left = [o for o in self.state.candidates if o not in self.state.runs and o not in self._unfreeable]
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
        first, last = self._widened(lines, *self._clip(first, first + self.random.randint(3, 10)))
        return Neighbourhood("", self._around(lines, first, last, set()), first, last)

    def _late_lines(self) -> Neighbourhood | None:
        """A late order's line and one to three lines sharing products with it, every run on
        them in a window of days around the day the order should end by: work moves across
        those lines, and the late order's line empties where it is needed."""
        late = self.late_orders()
        if not late:
            return None
        order_id = self.random.choices(list(late), weights=list(late.values()))[0]
        run = self.state.runs[order_id]
        others = sorted(self._sharing_lines[run.line_id] - {run.line_id})
        lines = [run.line_id, *self.random.sample(others, min(len(others), self.random.randint(1, 3)))]
        on_time = max(0, self.state.on_time_end_day(self.state.candidates[order_id]))
        first, last = self._clip(on_time - self.random.randint(3, 10), run.end_day + self.random.randint(1, 5))
        first, last = self._widened(lines, first, last)
        focus = (on_time - 2, on_time + 2)
        return Neighbourhood("", self._around(lines, first, last, {order_id}, focus), first, last)

    def _one_line(self) -> Neighbourhood | None:
        """One line over a window of days."""
        line_id = self.random.choice(list(self.state.instance.axes))
        first = self.random.randrange(self.state.instance.horizon)
        first, last = self._widened([line_id], *self._clip(first, first + self.random.randint(5, 20)))
        return Neighbourhood("", self._around([line_id], first, last, set()), first, last)

    def _shared_material(self) -> Neighbourhood | None:
        """A late order and the orders whose kits took the same material before it, from the
        plan start on (an issue weeks earlier leaves the material short just the same),
        the least important first: the material may change hands."""
        late = [o for o in self.late_orders() if self.state.candidates[o].material_need]
        if not late:
            return None
        order_id = self.random.choice(late)
        run = self.state.runs[order_id]
        materials = set(self.state.candidates[order_id].material_need)
        first, last = self._clip(0, run.end_day + 5)
        sharing = [
            o
            for o, r in self.state.runs.items()
            if r.start_day <= last and materials & set(self.state.candidates[o].material_need)
        ]
        sharing = [o for o in sharing if o != order_id and o not in self._unfreeable]
        self.random.shuffle(sharing)
        sharing.sort(key=lambda o: self.state.candidates[o].priority)
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
    affected = state.affected(placed, (line_id for line_id, _ in placed.values()))
    before = Objective.total(state.cost(o) for o in affected)
    previous = state.move(placed)
    # with changeovers or caps, a move must also keep the lines' sequences and the day counts
    fits = not (state.sequenced or state.caps) or state.fits(placed)
    if fits and Objective.total(state.cost(o) for o in affected) < before:
        return True
    state.move(previous)
    return False
