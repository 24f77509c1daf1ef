"""Local search over the order of the runs on every line (iterated local search).

Once each line's runs are in a given order, packing every run as early as it
may start (its release, its line's calendar, the runs that stay put) is
best for lateness, which only grows with the end day. So the search is over
*sequences*, and a sequence is timed in pure Python in microseconds:

* moves: a late run moved earlier on its line or to another line, a run
  ahead of it moved behind it or to another line, swaps; on short lines every
  swap and insertion;
* a move is timed from its first changed position only, and the timing stops
  as soon as the line's clock meets the old one (the rest is then unchanged),
  or as soon as the line cannot get cheaper;
* kits: a move that would issue a kit earlier than the material allows is
  refused, so the plan never overdraws a material;
* local optima are left by a few random moves (a kick), and the best plan
  found is kept (iterated local search).

It is the tool CP-SAT is weakest at (long chains of runs on one line, the
single-machine weighted tardiness core of the problem); the engine runs it
before the exact model and between the neighbourhoods of the LNS.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from solver.changeover import line_changeovers, line_has_changeovers
from solver.instance import Candidate, Instance

Edit = tuple["_LineRuns", int, int, list[int]]  # line, first and one-past-last position replaced, new jobs
Move = list[Edit]

SHORT_LINE = 60  # runs; on lines this short every swap and insertion is tried
REACH = 10  # positions a late run (or the runs ahead of it) may move in one step
EJECT_BEHIND = 4  # places behind a late run that a run it passes may go to
KIT_SHARERS = 6  # runs taking a late run's material earlier that may give it up in one move
KIT_REPAIRS = 8  # kits pinned (one by one, then all) when a move brings them forward too far
KICK_MOVES = (2, 4)  # random moves that kick the search out of a local optimum


@dataclass(frozen=True)
class SequenceBudget:
    """When the search stops: a deadline, a number of moves tried, or fruitless kicks in a row.

    A budget in moves alone (no deadline) makes a run reproducible: same seed, same plan.
    """

    deadline: float | None = None
    evaluations: int | None = None
    patience: int = 100
    stop: threading.Event | None = None  # set it to stop the search early

    def __post_init__(self) -> None:
        if self.deadline is None and self.evaluations is None:
            raise ValueError("a sequence search needs a deadline or a number of evaluations")


class _Counter:
    def __init__(self, budget: SequenceBudget):
        self.budget, self.used = budget, 0

    def spent(self) -> bool:
        if self.budget.evaluations is not None and self.used >= self.budget.evaluations:
            return True
        if self.used % 64:  # the clock is read every 64 moves only: reading it costs as much as a move
            return False
        if self.budget.stop is not None and self.budget.stop.is_set():
            return True
        return self.budget.deadline is not None and time.monotonic() >= self.budget.deadline


@dataclass(frozen=True)
class _Obstacle:
    """A run that stays put (in production, frozen): its interval, its family and the changeover
    the plan gives it, which no move may change (its end day, so its lateness, stays as it is)."""

    start: int
    end: int
    family: int  # coded; 0: no family (the line's family passes through)
    changeover: int
    no_changeover: bool  # in production: nothing in front of it whatever runs before


class _Families:
    """Families coded as numbers and each job's family, shared by the lines (0: no family)."""

    def __init__(self) -> None:
        self.code: dict[str, int] = {"": 0}
        self.names: list[str] = [""]
        self.of_job: list[int] = []
        self.no_changeover: list[bool] = []  # in production: its line is already set up

    def coded(self, family: str) -> int:
        if family not in self.code:
            self.code[family] = len(self.names)
            self.names.append(family)
        return self.code[family]


class _LineRuns:
    """One line's movable runs in order, with each prefix's clock, family and cost.

    A run's interval starts with its changeover, from the line's family after the run (or
    the run that stays put) before it; ``table`` is ``None`` on a line where no changeover
    takes time, and the families are then left aside.
    """

    def __init__(
        self,
        line_id: str,
        day_start: list[int],
        obstacles: list[_Obstacle] | list[tuple[int, int]],
        late_cost: list,
        families: _Families | None = None,
        table: list[list[int]] | None = None,
        initial: int = 0,
    ):
        self.line_id = line_id
        self.day_start = day_start
        # (start, end) pairs: runs that stay put on a line without changeovers
        kept = [o if isinstance(o, _Obstacle) else _Obstacle(o[0], o[1], 0, 0, True) for o in obstacles]
        self.obstacles = sorted(kept, key=lambda o: o.start)
        self.obstacle_start = [o.start for o in self.obstacles]
        self.obstacle_end = [o.end for o in self.obstacles]
        self.late_cost = late_cost  # shared: per job, weighted days late by end day
        self.job_families = families or _Families()
        self.table = table if families is not None else None
        self.initial = initial if table is not None else 0
        self.minutes: dict[int, int] = {}
        self.earliest: dict[int, int] = {}
        self.latest: dict[int, int] = {}
        self.seq: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.costs: list[int] = []
        self.families: list[int] = []  # the line's family after each run

    @property
    def total(self) -> int:
        return self.costs[-1] if self.costs else 0

    def start_at(self, job: int, clock: int) -> int:
        """Earliest start of ``job`` at or after ``clock``, clear of the runs that stay put
        (on a line without changeovers)."""
        start = clock if clock > self.earliest[job] else self.earliest[job]
        minutes = self.minutes[job]
        index = bisect.bisect_right(self.obstacle_end, start)
        while index < len(self.obstacle_start) and start + minutes > self.obstacle_start[index]:
            start = self.obstacle_end[index]
            index += 1
        return start

    def _changeover(self, family: int, job: int) -> int:
        assert self.table is not None
        if self.job_families.no_changeover[job]:
            return 0
        return self.table[family][self.job_families.of_job[job]]

    def _pass(self, index: int, family: int) -> int | None:
        """The family after the run that stays put at ``index``, or ``None`` when coming from
        ``family`` would change its changeover."""
        obstacle = self.obstacles[index]
        assert self.table is not None
        changeover = 0 if obstacle.no_changeover else self.table[family][obstacle.family]
        if changeover != obstacle.changeover:
            return None
        return obstacle.family or family

    def place(self, job: int, clock: int, family: int) -> tuple[int, int, int] | None:
        """Start, end and the line's family after ``job``, run as early as it may from ``clock``
        with the line set up for ``family``; ``None`` when it does not fit.

        With changeovers, a run goes into a gap in front of a run that stays put only when
        that run's changeover stays as the plan has it; otherwise it goes after it.
        """
        if self.table is None:
            start = self.start_at(job, clock)
            return (start, start + self.minutes[job], 0) if start <= self.latest[job] else None
        minutes, after = self.minutes[job], self.job_families.of_job[job]
        start = clock if clock > self.earliest[job] else self.earliest[job]
        index = bisect.bisect_left(self.obstacle_start, clock)
        while True:
            while index < len(self.obstacles) and self.obstacle_start[index] < start:
                passed = self._pass(index, family)
                if passed is None:
                    return None
                family, start = passed, max(start, self.obstacle_end[index])
                index += 1
            end = start + self._changeover(family, job) + minutes
            if index == len(self.obstacles) or (
                end <= self.obstacle_start[index] and self._pass(index, after or family) is not None
            ):
                break
            passed = self._pass(index, family)
            if passed is None:
                return None
            family, start = passed, max(start, self.obstacle_end[index])
            index += 1
        if start > self.latest[job] or end > self.day_start[-1]:
            return None
        return start, end, after or family

    def _rest_fits(self, clock: int, family: int) -> bool:
        """Whether the runs that stay put after ``clock`` keep their changeovers from ``family``."""
        if self.table is None:
            return True
        for index in range(bisect.bisect_left(self.obstacle_start, clock), len(self.obstacles)):
            passed = self._pass(index, family)
            if passed is None:
                return False
            family = passed
        return True

    def family_before(self, position: int) -> int:
        return self.families[position - 1] if position else self.initial

    def run_from(self, job: int, clock: int, family: int = 0) -> tuple[int, int, int, int] | None:
        """Start, end, weighted days late and family after of ``job`` run as early as it may
        from ``clock``; ``None`` past its latest start."""
        placed = self.place(job, clock, family)
        if placed is None:
            return None
        start, end, after = placed
        return start, end, self.late_cost[job][bisect.bisect_right(self.day_start, end - 1) - 1], after

    def timing(self, sequence: list[int]) -> tuple[list[int], list[int], list[int], list[int]] | None:
        """Starts, ends, prefix costs and families of ``sequence`` packed early; ``None`` if it does not fit."""
        starts, ends, costs, families = [], [], [], []
        clock = total = 0
        family = self.initial
        for job in sequence:
            run = self.run_from(job, clock, family)
            if run is None:
                return None
            start, clock, cost, family = run
            total += cost
            starts.append(start)
            ends.append(clock)
            costs.append(total)
            families.append(family)
        if not self._rest_fits(clock, family):
            return None
        return starts, ends, costs, families

    def set_sequence(self, sequence: list[int]) -> bool:
        timed = self.timing(sequence)
        if timed is None:
            return False
        self.seq = sequence
        self.starts, self.ends, self.costs, self.families = timed
        return True

    def cost_with(self, low: int, high: int, segment: list[int], limit: int) -> int | None:
        """Cost of the line with positions ``low..high-1`` replaced by ``segment``, or ``None``
        when it does not fit or is not below ``limit``.

        The new runs are timed from ``low``; past the segment, the old runs are timed only
        until the clock and the line's family meet the old ones (the rest then runs as
        before) or, the family as before, the clock runs late enough that the rest cannot
        make the line cheaper.
        """
        clock = self.ends[low - 1] if low else 0
        total = self.costs[low - 1] if low else 0
        family = self.family_before(low)
        whole, rest_from = self.total, high - len(segment)  # old index = position + rest_from
        for position, job in enumerate(itertools.chain(segment, itertools.islice(self.seq, high, None))):
            index = position + rest_from
            if index >= high and family == self.family_before(index):
                old_clock = self.ends[index - 1] if index else 0
                rest = whole - (self.costs[index - 1] if index else 0)
                if clock == old_clock:
                    return total + rest if total + rest < limit else None
                if clock > old_clock and total + rest >= limit:
                    return None
            run = self.run_from(job, clock, family)
            if run is None:
                return None
            clock, total, family = run[1], total + run[2], run[3]
            if total >= limit:
                return None
        if not self._rest_fits(clock, family):
            return None
        return total if total < limit else None

    def day_of(self, position: int) -> int:
        """Day index holding the working minute at ``position``."""
        return bisect.bisect_right(self.day_start, position) - 1

    def timings(self) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        """The sequence and its timing, to put back exactly with :meth:`put_back`."""
        return self.seq, self.starts, self.ends, self.costs, self.families

    def put_back(self, timings: tuple[list[int], list[int], list[int], list[int], list[int]]) -> None:
        self.seq, self.starts, self.ends, self.costs, self.families = timings

    def position_at(self, position: int) -> int:
        """Index in the sequence of the first run starting at or after ``position``."""
        return bisect.bisect_left(self.starts, position)


class _CapCounts:
    """Orders inspected and dispatched per day (PROBLEM.md "Inspection and dispatch capacity"):
    the caps couple the lines as the kits do, so a move that puts a day over its cap is refused."""

    def __init__(self, instance: Instance, placements: dict[str, tuple[str, int]], ends: dict[str, int]):
        dataset, calendar = instance.dataset, instance.calendar
        self.inspection_cap, self.dispatch_cap = dataset.inspection_cap, dataset.dispatch_cap
        self.inspection_of = [calendar.inspection_day(d) for d in range(instance.horizon)]
        self.dispatch_of = [calendar.dispatch_day(d) for d in range(instance.horizon)]
        self.inspections: dict[int, int] = {}
        self.dispatches: dict[int, int] = {}
        for order_id, (line_id, _) in placements.items():
            self._count(instance.axes[line_id].day_of(ends[order_id] - 1), 1)

    @property
    def capped(self) -> bool:
        return self.inspection_cap is not None or self.dispatch_cap is not None

    def copy(self) -> _CapCounts:
        other = copy.copy(self)
        other.inspections, other.dispatches = dict(self.inspections), dict(self.dispatches)
        return other

    def _count(self, end_day: int, step: int) -> None:
        for counts, day in (
            (self.inspections, self.inspection_of[end_day]),
            (self.dispatches, self.dispatch_of[end_day]),
        ):
            counts[day] = counts.get(day, 0) + step

    def move(self, changes: dict[int, int], end_day: dict[int, int]) -> None:
        """Count the jobs of ``changes`` on their new last production days instead of ``end_day``'s."""
        for job, day in changes.items():
            self._count(end_day[job], -1)
            self._count(day, 1)

    def over(self, changes: dict[int, int], end_day: dict[int, int]) -> set[int]:
        """Jobs of ``changes`` whose new inspection or dispatch day would hold more than its cap
        (a day already over it, in the plan the search started from, may keep what it has)."""
        if not changes:
            return set()
        over = set()
        for counts, of, cap in (
            (self.inspections, self.inspection_of, self.inspection_cap),
            (self.dispatches, self.dispatch_of, self.dispatch_cap),
        ):
            if cap is None:
                continue
            delta: dict[int, int] = {}
            for job, day in changes.items():
                delta[of[end_day[job]]] = delta.get(of[end_day[job]], 0) - 1
                delta[of[day]] = delta.get(of[day], 0) + 1
            full = {d for d, step in delta.items() if d >= 0 and step > 0 and counts.get(d, 0) + step > cap}
            over |= {job for job, day in changes.items() if of[day] in full}
        return over


class SequenceSearch:
    """Iterated local search over the sequences of every line, kits kept within the material.

    Parameters
    ----------
    instance
        The planning instance.
    placements
        ``order_id -> (line_id, start position)`` of the placed orders.
    locked
        Orders that never move (in production, frozen): they stay put as obstacles.
    seed
        Seed of the move order and the kicks.
    """

    def __init__(self, instance: Instance, placements: dict[str, tuple[str, int]], locked: set[str], seed: int = 0):
        self.instance = instance
        self.random = random.Random(seed)
        by_id = {c.order_id: c for c in instance.candidates}
        self.order_ids = sorted(o for o in placements if o not in locked)
        self.candidates = [by_id[o] for o in self.order_ids]
        self.late_cost: list = [self._late_cost(c) for c in self.candidates]
        self.families = _Families()
        for candidate in self.candidates:
            self.families.of_job.append(self.families.coded(instance.dataset.family_of(candidate.order.product_id)))
            self.families.no_changeover.append(candidate.order.status == "in_production")
        placed_ends = self._placed_ends(by_id, placements)
        self.lines = self._lines({o: by_id[o] for o in locked if o in placements}, placements, placed_ends)
        self.options = [[o.line_id for o in c.options if o.line_id in self.lines] for c in self.candidates]
        self.line_of: dict[int, _LineRuns] = {}
        for job, order_id in enumerate(self.order_ids):
            line = self.lines[placements[order_id][0]]
            self.line_of[job] = line
            for option in self.candidates[job].options:
                if option.line_id in self.lines:
                    runs = self.lines[option.line_id]
                    runs.minutes[job] = option.minutes
                    runs.earliest[job] = option.earliest_position
                    runs.latest[job] = option.latest_position
        self.kit_day = {
            job: instance.axes[placements[o][0]].day_of(placements[o][1]) for job, o in enumerate(self.order_ids)
        }
        self.left = self._material_left(by_id, placements)
        self.users: dict[str, list[int]] = {}
        for job, candidate in enumerate(self.candidates):
            for material_id in candidate.material_need:
                self.users.setdefault(material_id, []).append(job)
        self.caps = _CapCounts(instance, placements, placed_ends)
        self.end_day = {
            job: instance.axes[placements[o][0]].day_of(placed_ends[o] - 1) for job, o in enumerate(self.order_ids)
        }
        self._first_sequences(placements)

    # -- set-up --------------------------------------------------------------------------

    def _late_cost(self, candidate: Candidate) -> list[int]:
        late = np.maximum(0, self.instance.delivery_days(candidate) - candidate.due_day)
        return (candidate.priority * late).tolist()

    def _placed_ends(self, by_id: dict[str, Candidate], placements: dict[str, tuple[str, int]]) -> dict[str, int]:
        """Where each placed run ends: its changeover (from the run before it on its line) and its minutes."""
        dataset = self.instance.dataset
        by_line: dict[str, list[str]] = {}
        for order_id, (line_id, _) in placements.items():
            by_line.setdefault(line_id, []).append(order_id)
        ends = {}
        for line_id, order_ids in by_line.items():
            order_ids.sort(key=lambda o: placements[o][1])
            changeovers = line_changeovers(dataset, line_id, [by_id[o].order for o in order_ids])
            for order_id, changeover in zip(order_ids, changeovers, strict=True):
                minutes = next(o.minutes for o in by_id[order_id].options if o.line_id == line_id)
                ends[order_id] = placements[order_id][1] + changeover + minutes
        return ends

    def _lines(
        self, locked: dict[str, Candidate], placements: dict[str, tuple[str, int]], ends: dict[str, int]
    ) -> dict[str, _LineRuns]:
        """Every line, with the placed locked runs as obstacles (keeping the changeovers the plan gives them)."""
        dataset, families = self.instance.dataset, self.families
        obstacles: dict[str, list[_Obstacle]] = {line_id: [] for line_id in self.instance.axes}
        for order_id, candidate in locked.items():
            line_id, start = placements[order_id]
            minutes = next(o.minutes for o in candidate.options if o.line_id == line_id)
            family = families.coded(dataset.family_of(candidate.order.product_id))
            in_production = candidate.order.status == "in_production"
            changeover = ends[order_id] - start - minutes
            obstacles[line_id].append(_Obstacle(start, ends[order_id], family, changeover, in_production))
        initial = {
            line_id: families.coded(dataset.line_by_id[line_id].initial_family) for line_id in self.instance.axes
        }
        return {
            line_id: _LineRuns(
                line_id,
                axis.start.tolist(),
                obstacles[line_id],
                self.late_cost,
                families,
                self._changeover_table(line_id),
                initial[line_id],
            )
            for line_id, axis in self.instance.axes.items()
        }

    def _changeover_table(self, line_id: str) -> list[list[int]] | None:
        """Minutes from each coded family to each on the line; ``None`` when no changeover takes time there."""
        dataset, names = self.instance.dataset, self.families.names
        if not line_has_changeovers(dataset, line_id):
            return None
        return [[dataset.planned_changeover(line_id, a, b) if a and b else 0 for b in names] for a in names]

    def _material_left(
        self, by_id: dict[str, Candidate], placements: dict[str, tuple[str, int]]
    ) -> dict[str, np.ndarray]:
        """Scaled material available up to each day less every placed kit."""
        issued = {m: np.zeros(self.instance.horizon, dtype=np.int64) for m in self.instance.material_available}
        for order_id, (line_id, start) in placements.items():
            day = self.instance.axes[line_id].day_of(start)
            for material_id, quantity in by_id[order_id].material_need.items():
                issued[material_id][day] += quantity
        return {m: self.instance.material_available[m] - np.cumsum(issued[m]) for m in issued}

    def _first_sequences(self, placements: dict[str, tuple[str, int]]) -> None:
        """Each line's runs in their current order, packed early; a kit that packing would
        issue before its material allows keeps its current day as its release instead."""
        for line in self.lines.values():
            line.seq = sorted(
                (j for j in self.line_of if self.line_of[j] is line), key=lambda j: placements[self.order_ids[j]][1]
            )
        pinned: dict[tuple[_LineRuns, int], int] = {}
        while True:
            for line in self.lines.values():
                if not line.set_sequence(line.seq):
                    # packed early, a run went in front of one that stays put and changed its
                    # changeover: every run of the line keeps its start as placed instead
                    self._pin_at({j: placements[self.order_ids[j]][1] for j in line.seq}, line, pinned)
                    if not line.set_sequence(line.seq):
                        raise ValueError(f"line {line.line_id}: the plan's runs do not fit when packed")
            changes = self._kit_changes(self.lines.values())
            early = {j for j in self._short_jobs(changes) if changes[j] < self.kit_day[j]}
            ends = self._end_changes(self.lines.values())
            # a run packed earlier into a full inspection or dispatch day keeps its start as placed
            full = {j: placements[self.order_ids[j]][1] for j in self.caps.over(ends, self.end_day)}
            full = {j: p for j, p in full.items() if self.line_of[j].earliest[j] < p}
            if not early and not full:
                self._issue(changes)
                self._book_ends(ends)
                self._unpin(pinned)
                return
            self._pin(early, pinned)
            for job, position in full.items():
                self._pin_at({job: position}, self.line_of[job], pinned)

    # -- kits -----------------------------------------------------------------------------

    def _kit_changes(self, lines) -> dict[int, int]:
        """Jobs with a kit on ``lines`` whose first production day differs from their kit's day."""
        changes = {}
        for line in lines:
            for job, start in zip(line.seq, line.starts, strict=True):
                if self.candidates[job].material_need:
                    day = line.day_of(start)
                    if day != self.kit_day[job]:
                        changes[job] = day
        return changes

    def _material_deltas(self, changes: dict[int, int], materials: set[str] | None = None) -> dict[str, np.ndarray]:
        """Change in the cumulative issue of each material (of ``materials``, default all)."""
        deltas: dict[str, np.ndarray] = {}
        for job, day in changes.items():
            for material_id, quantity in self.candidates[job].material_need.items():
                if materials is None or material_id in materials:
                    if material_id not in deltas:
                        deltas[material_id] = np.zeros(self.instance.horizon, dtype=np.int64)
                    delta = deltas[material_id]
                    delta[self.kit_day[job]] -= quantity
                    delta[day] += quantity
        return {m: np.cumsum(d) for m, d in deltas.items()}

    def _short_jobs(self, changes: dict[int, int]) -> set[int]:
        """Jobs whose changed kit day would overdraw one of their materials. Only a kit
        issued earlier can overdraw, so only the materials of those are checked."""
        materials = {m for j, day in changes.items() if day < self.kit_day[j] for m in self.candidates[j].material_need}
        if not materials:
            return set()
        deltas = self._material_deltas(changes, materials)
        short = {m for m, delta in deltas.items() if (self.left[m] - delta).min() < 0}
        return {j for j in changes if not short.isdisjoint(self.candidates[j].material_need)}

    def _issue(self, changes: dict[int, int]) -> None:
        for material_id, delta in self._material_deltas(changes).items():
            self.left[material_id] -= delta
        self.kit_day.update(changes)

    # -- moves ------------------------------------------------------------------------------

    def total(self) -> int:
        return sum(line.total for line in self.lines.values())

    def _try(self, move: Move) -> bool:
        """Make ``move`` if it lowers the lateness of the lines it touches and the kits allow."""
        before = limit = sum(line.total for line in {edit[0] for edit in move})
        for line, low, high, segment in move:
            cost = line.cost_with(low, high, segment, limit)
            if cost is None:
                return False
            limit -= cost
        return self._make(move, before)

    def _make(self, move: Move, limit: int | None = None) -> bool:
        """Apply ``move`` if every run still fits, no kit comes before its material and the
        lines it touches cost less than ``limit`` (when given).

        A kit the move would bring forward too far is held at its current day (a *pin*)
        and the lines are timed again: the runs around it can still move, it cannot
        overdraw its material. Pins last for this move only: the timing kept is the pinned
        one, and a later move may bring the kit forward once its material is free.
        """
        old = {line: line.timings() for line, *_ in move}
        pinned: dict[tuple[_LineRuns, int], int] = {}
        for line, low, high, segment in move:
            if not line.set_sequence([*line.seq[:low], *segment, *line.seq[high:]]):
                return self._undo(old, pinned)
        for repair in range(KIT_REPAIRS):
            # a pin only delays runs, so once the lines cost too much no pin can save the move
            if limit is not None and sum(line.total for line in old) >= limit:
                return self._undo(old, pinned)
            changes = self._kit_changes(old)
            early = [j for j in self._short_jobs(changes) if changes[j] < self.kit_day[j]]
            ends = self._end_changes(old)
            full = self.caps.over(ends, self.end_day)
            # a run brought forward into a full inspection or dispatch day is held where it
            # started (a pin, as for kits); one pushed later into a full day refuses the move
            was = {j: self._old_place(j, old) for j in full}
            if any(ends[j] > self.end_day[j] or was[j][0] is not self.line_of_after(j, old) for j in full):
                return self._undo(old, pinned)
            if not early and not full:
                break
            if early:
                # first one kit at a time, the least important first (the move's point is often
                # an important kit brought forward with material a cheaper one gives up); then all
                if repair < KIT_REPAIRS // 2:
                    early = [min(early, key=lambda j: (self.candidates[j].priority, changes[j] - self.kit_day[j], j))]
                self._pin(set(early), pinned)
            for job in full:
                self._pin_at({job: was[job][1]}, was[job][0], pinned)
            if not all(line.set_sequence(line.seq) for line in old):
                return self._undo(old, pinned)
        else:
            return self._undo(old, pinned)
        self._issue(changes)
        self._book_ends(ends)
        for line in old:
            for job in line.seq:
                self.line_of[job] = line
        self._unpin(pinned)
        return True

    def _old_place(self, job: int, old: dict[_LineRuns, tuple]) -> tuple[_LineRuns, int]:
        """Line and start of ``job`` before the move."""
        line = self.line_of[job]
        seq, starts = old[line][0], old[line][1]
        return line, starts[seq.index(job)]

    @staticmethod
    def line_of_after(job: int, lines) -> _LineRuns | None:
        """The line of ``lines`` whose sequence holds ``job`` now."""
        return next((line for line in lines if job in line.seq), None)

    @staticmethod
    def _pin_at(positions: dict[int, int], line: _LineRuns, pinned: dict[tuple[_LineRuns, int], int]) -> None:
        """Hold runs of ``line`` at or after the given positions, for this move only."""
        for job, position in positions.items():
            pinned.setdefault((line, job), line.earliest[job])
            line.earliest[job] = max(line.earliest[job], position)

    # -- inspection and dispatch caps --------------------------------------------------------

    def _end_changes(self, lines) -> dict[int, int]:
        """Jobs on ``lines`` whose last production day differs from the one counted (nothing without caps)."""
        if not self.caps.capped:
            return {}
        changes = {}
        for line in lines:
            for job, end in zip(line.seq, line.ends, strict=True):
                day = line.day_of(end - 1)
                if day != self.end_day[job]:
                    changes[job] = day
        return changes

    def _book_ends(self, changes: dict[int, int]) -> None:
        self.caps.move(changes, self.end_day)
        self.end_day.update(changes)

    @staticmethod
    def _unpin(pinned: dict[tuple[_LineRuns, int], int]) -> None:
        for (runs, job), earliest in pinned.items():
            runs.earliest[job] = earliest

    def _pin(self, jobs: set[int], pinned: dict[tuple[_LineRuns, int], int]) -> None:
        for job in jobs:
            for line_id in self.options[job]:
                runs = self.lines[line_id]
                pinned.setdefault((runs, job), runs.earliest[job])
                runs.earliest[job] = max(runs.earliest[job], runs.day_start[self.kit_day[job]])

    def _undo(self, old: dict[_LineRuns, tuple], pinned: dict[tuple[_LineRuns, int], int]) -> bool:
        """Back to the timings before the move, exactly (timing again could bring a kit forward)."""
        self._unpin(pinned)
        for line, timings in old.items():
            line.put_back(timings)
        return False

    def _late_jobs(self) -> list[int]:
        late = []
        for line in self.lines.values():
            previous = 0
            for job, cost in zip(line.seq, line.costs, strict=True):
                if cost > previous:
                    late.append(job)
                previous = cost
        return late

    def _move_groups(self) -> Iterator[Iterator[Move]]:
        """Moves around each late run, then every swap and insertion on each short late line;
        each group is built from the plan as it is when the search reaches it."""
        late = self._late_jobs()
        self.random.shuffle(late)
        for job in late:
            yield self._moves_for(job)
        short = [line for line in {self.line_of[j] for j in late} if len(line.seq) <= SHORT_LINE]
        for line in sorted(short, key=lambda runs: runs.line_id):
            yield _all_moves(line, self.random)

    def _moves_for(self, job: int) -> Iterator[Move]:
        line = self.line_of[job]
        seq = line.seq
        i = seq.index(job)
        reach = range(i - 1, max(-1, i - REACH - 1), -1)
        for j in reach:  # earlier on its line
            yield [(line, j, i + 1, [job, *seq[j:i]])]
            yield [(line, j, i + 1, [job, *seq[j + 1 : i], seq[j]])]
        for k in reach:  # a run ahead of it moved behind it, or to another line
            yield [(line, k, i + 1, [*seq[k + 1 : i + 1], seq[k]])]
            yield from self._transfers(seq[k], line, k, spread=1)
        yield from self._transfers(job, line, i, spread=REACH)
        yield from self._ejections(job, line, i)
        yield from self._kit_ejections(job, line, i)

    def _ejections(self, job: int, line: _LineRuns, i: int) -> Iterator[Move]:
        """``job`` moved ahead to position ``j`` and one run it passes ejected: behind it
        (a few places) or to another line, so one cheap run makes room for a costly one."""
        seq = line.seq
        for j in range(i - 2, max(-1, i - REACH - 1), -1):
            for k in range(j, i):
                passed = [run for run in seq[j:i] if run != seq[k]]
                for m in range(i, min(len(seq), i + EJECT_BEHIND)):
                    yield [(line, j, m + 1, [job, *passed, *seq[i + 1 : m + 1], seq[k]])]
                day = line.day_of(line.starts[k])
                for line_id in self.options[seq[k]]:
                    other = self.lines[line_id]
                    if other is not line:
                        p = other.position_at(other.day_start[day])
                        for q in range(max(0, p - 1), min(len(other.seq), p + 1) + 1):
                            yield [(line, j, i + 1, [job, *passed]), (other, q, q, [seq[k]])]

    def _kit_ejections(self, job: int, line: _LineRuns, i: int) -> Iterator[Move]:
        """``job`` moved ahead, and a run that takes one of its materials earlier moved behind
        where ``job`` was: the material changes hands along with the line's time."""
        day = self.kit_day[job]
        sharers = {y for m in self.candidates[job].material_need for y in self.users[m]}
        sharers = sorted((y for y in sharers if y != job and self.kit_day[y] <= day), key=lambda y: -self.kit_day[y])
        seq = line.seq
        for y in sharers[:KIT_SHARERS]:
            other = self.line_of[y]
            k = other.seq.index(y)
            if other is line:
                for j in range(i - 1, max(k, i - REACH - 1), -1):
                    yield [(line, k, i + 1, [*seq[k + 1 : j], job, *seq[j:i], y])]
                continue
            behind = other.position_at(other.day_start[day])
            for m in range(max(k + 1, behind - 1), min(len(other.seq), behind + 2)):
                later = (other, k, m, [*other.seq[k + 1 : m], y])
                for j in range(i - 1, max(-1, i - REACH - 1), -1):
                    yield [(line, j, i + 1, [job, *seq[j:i]]), later]

    def _transfers(self, job: int, line: _LineRuns, i: int, spread: int) -> Iterator[Move]:
        """``job`` taken from ``line`` to another of its lines, near where it starts now, or
        swapped there with a run that could come to ``line``."""
        day = line.day_of(line.starts[i])
        for line_id in self.options[job]:
            other = self.lines[line_id]
            if other is line:
                continue
            p = other.position_at(other.day_start[day])
            for j in range(min(len(other.seq), p + 1), max(-1, p - spread - 1), -1):
                yield [(line, i, i + 1, []), (other, j, j, [job])]
                if j < len(other.seq) and other.seq[j] in line.minutes:
                    yield [(line, i, i + 1, [other.seq[j]]), (other, j, j + 1, [job])]

    # -- the search ------------------------------------------------------------------------

    def _descend(self, counter: _Counter) -> None:
        """First improvement: a group of moves is left at its first improving move (the rest
        of it was built for the plan before), and passes repeat until none improves."""
        improved = True
        while improved and self.total() > 0:
            improved = False
            for group in self._move_groups():
                for move in group:
                    if counter.spent():
                        return
                    counter.used += 1
                    if self._try(move):
                        improved = True
                        break

    def _kick(self) -> None:
        """A few random moves around late runs, whatever they cost."""
        late = self._late_jobs()
        for _ in range(self.random.randint(*KICK_MOVES)):
            if not late:
                return
            moves = list(self._moves_for(self.random.choice(late)))
            if moves:
                self._make(self.random.choice(moves))

    def _snapshot(self) -> tuple:
        timings = {line: line.timings() for line in self.lines.values()}
        caps = (dict(self.end_day), self.caps.copy())
        return timings, {m: v.copy() for m, v in self.left.items()}, dict(self.kit_day), caps

    def _restore(self, snapshot: tuple) -> None:
        """Back to a snapshot's timings exactly (timing again could bring pinned kits forward)."""
        timings, left, kit_day, (end_day, caps) = snapshot
        self.end_day, self.caps = dict(end_day), caps.copy()
        for line, saved in timings.items():
            line.put_back(saved)
            for job in line.seq:
                self.line_of[job] = line
        self.left, self.kit_day = {m: v.copy() for m, v in left.items()}, dict(kit_day)

    def run(self, budget: SequenceBudget, on_improvement: Callable[[int], None] | None = None) -> int:
        """Search until the budget is spent; the best plan found is kept. Its lateness.

        ``on_improvement`` is called with the lateness of each better plan found.
        """
        counter = _Counter(budget)
        report = on_improvement or (lambda total: None)
        start = self.total()
        self._descend(counter)
        best, best_total, current_total = self._snapshot(), self.total(), self.total()
        if best_total < start:
            report(best_total)
        fruitless = 0
        while best_total > 0 and fruitless < budget.patience and not counter.spent():
            fruitless += 1
            before = self._snapshot()
            self._kick()
            counter.used += 1
            self._descend(counter)
            total = self.total()
            if total < best_total:
                best, best_total, fruitless = self._snapshot(), total, 0
                report(best_total)
            if total <= current_total:
                current_total = total
            else:
                self._restore(before)
        self._restore(best)
        return best_total

    def placements(self) -> dict[str, tuple[str, int]]:
        """``order_id -> (line_id, start)`` of the movable runs as the search left them."""
        found = {}
        for line in self.lines.values():
            for job, start in zip(line.seq, line.starts, strict=True):
                found[self.order_ids[job]] = (line.line_id, start)
        return found


def _all_moves(line: _LineRuns, rng: random.Random) -> Iterator[Move]:
    """Every swap and insertion on ``line``, in a random order."""
    n, seq = len(line.seq), line.seq
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    rng.shuffle(pairs)
    for i, j in pairs:
        if i < j:
            yield [(line, i, j + 1, [seq[j], *seq[i + 1 : j], seq[i]])]  # swap
            yield [(line, i, j + 1, [*seq[i + 1 : j + 1], seq[i]])]  # i goes behind j
        else:
            yield [(line, j, i + 1, [seq[i], *seq[j:i]])]  # i goes ahead of j
