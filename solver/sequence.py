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
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

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


class _LineRuns:
    """One line's movable runs in order, with each prefix's clock and cost."""

    def __init__(self, line_id: str, day_start: list[int], obstacles: list[tuple[int, int]], late_cost: list):
        self.line_id = line_id
        self.day_start = day_start
        self.obstacle_start = [s for s, _ in sorted(obstacles)]
        self.obstacle_end = [e for _, e in sorted(obstacles)]
        self.late_cost = late_cost  # shared: per job, weighted days late by end day
        self.minutes: dict[int, int] = {}
        self.earliest: dict[int, int] = {}
        self.latest: dict[int, int] = {}
        self.seq: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.costs: list[int] = []

    @property
    def total(self) -> int:
        return self.costs[-1] if self.costs else 0

    def start_at(self, job: int, clock: int) -> int:
        """Earliest start of ``job`` at or after ``clock``, clear of the runs that stay put."""
        start = clock if clock > self.earliest[job] else self.earliest[job]
        minutes = self.minutes[job]
        index = bisect.bisect_right(self.obstacle_end, start)
        while index < len(self.obstacle_start) and start + minutes > self.obstacle_start[index]:
            start = self.obstacle_end[index]
            index += 1
        return start

    def run_from(self, job: int, clock: int) -> tuple[int, int] | None:
        """Start and weighted days late of ``job`` run as early as it may from ``clock``;
        ``None`` past its latest start."""
        start = self.start_at(job, clock)
        if start > self.latest[job]:
            return None
        return start, self.late_cost[job][bisect.bisect_right(self.day_start, start + self.minutes[job] - 1) - 1]

    def timing(self, sequence: list[int]) -> tuple[list[int], list[int], list[int]] | None:
        """Starts, ends and prefix costs of ``sequence`` packed early; ``None`` if it does not fit."""
        starts, ends, costs = [], [], []
        clock = total = 0
        for job in sequence:
            run = self.run_from(job, clock)
            if run is None:
                return None
            clock = run[0] + self.minutes[job]
            total += run[1]
            starts.append(run[0])
            ends.append(clock)
            costs.append(total)
        return starts, ends, costs

    def set_sequence(self, sequence: list[int]) -> bool:
        timed = self.timing(sequence)
        if timed is None:
            return False
        self.seq = sequence
        self.starts, self.ends, self.costs = timed
        return True

    def cost_with(self, low: int, high: int, segment: list[int], limit: int) -> int | None:
        """Cost of the line with positions ``low..high-1`` replaced by ``segment``, or ``None``
        when it does not fit or is not below ``limit``.

        The new runs are timed from ``low``; past the segment, the old runs are timed only
        until the clock meets the old one (the rest then runs as before) or runs late
        enough that the rest cannot make the line cheaper.
        """
        clock = self.ends[low - 1] if low else 0
        total = self.costs[low - 1] if low else 0
        whole, rest_from = self.total, high - len(segment)  # old index = position + rest_from
        for position, job in enumerate(itertools.chain(segment, itertools.islice(self.seq, high, None))):
            index = position + rest_from
            if index >= high:
                old_clock = self.ends[index - 1] if index else 0
                rest = whole - (self.costs[index - 1] if index else 0)
                if clock == old_clock:
                    return total + rest if total + rest < limit else None
                if clock > old_clock and total + rest >= limit:
                    return None
            run = self.run_from(job, clock)
            if run is None:
                return None
            clock = run[0] + self.minutes[job]
            total += run[1]
            if total >= limit:
                return None
        return total if total < limit else None

    def day_of(self, position: int) -> int:
        """Day index holding the working minute at ``position``."""
        return bisect.bisect_right(self.day_start, position) - 1

    def timings(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """The sequence and its timing, to put back exactly with :meth:`put_back`."""
        return self.seq, self.starts, self.ends, self.costs

    def put_back(self, timings: tuple[list[int], list[int], list[int], list[int]]) -> None:
        self.seq, self.starts, self.ends, self.costs = timings

    def position_at(self, position: int) -> int:
        """Index in the sequence of the first run starting at or after ``position``."""
        return bisect.bisect_left(self.starts, position)


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
        self.lines = self._lines({o: by_id[o] for o in locked if o in placements}, placements)
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
        self._first_sequences(placements)

    # -- set-up --------------------------------------------------------------------------

    def _late_cost(self, candidate: Candidate) -> list[int]:
        late = np.maximum(0, self.instance.delivery_days(candidate) - candidate.due_day)
        return (candidate.priority * late).tolist()

    def _lines(self, locked: dict[str, Candidate], placements: dict[str, tuple[str, int]]) -> dict[str, _LineRuns]:
        """Every line, with the placed locked runs as obstacles."""
        obstacles: dict[str, list[tuple[int, int]]] = {line_id: [] for line_id in self.instance.axes}
        for order_id, candidate in locked.items():
            line_id, start = placements[order_id]
            minutes = next(o.minutes for o in candidate.options if o.line_id == line_id)
            obstacles[line_id].append((start, start + minutes))
        return {
            line_id: _LineRuns(line_id, axis.start.tolist(), obstacles[line_id], self.late_cost)
            for line_id, axis in self.instance.axes.items()
        }

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
                    raise ValueError(f"line {line.line_id}: the plan's runs do not fit when packed")
            changes = self._kit_changes(self.lines.values())
            early = {j for j in self._short_jobs(changes) if changes[j] < self.kit_day[j]}
            if not early:
                self._issue(changes)
                self._unpin(pinned)
                return
            self._pin(early, pinned)

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
            if not early:
                break
            # first one kit at a time, the least important first (the move's point is often
            # an important kit brought forward with material a cheaper one gives up); then all
            if repair < KIT_REPAIRS // 2:
                early = [min(early, key=lambda j: (self.candidates[j].priority, changes[j] - self.kit_day[j], j))]
            self._pin(set(early), pinned)
            if not all(line.set_sequence(line.seq) for line in old):
                return self._undo(old, pinned)
        else:
            return self._undo(old, pinned)
        self._issue(changes)
        for line in old:
            for job in line.seq:
                self.line_of[job] = line
        self._unpin(pinned)
        return True

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
        return timings, {m: v.copy() for m, v in self.left.items()}, dict(self.kit_day)

    def _restore(self, snapshot: tuple) -> None:
        """Back to a snapshot's timings exactly (timing again could bring pinned kits forward)."""
        timings, left, kit_day = snapshot
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
