"""Resequencing one line: iterated local search over the order of its runs.

On a line, a plan's levels 1-2 depend only on the order in which the line's
runs follow each other: given that order, packing each run as early as it may
start (its release, the material it needs, the runs that stay put) is best,
because lateness only grows with the end day. So the search is over
sequences, and a sequence is timed in pure Python in microseconds. Moves are
swaps and insertions; a move is timed from its first changed position only,
and stops as soon as the line's clock meets the old one again (the rest of
the line is then unchanged). Local optima are escaped by random perturbation
(iterated local search), the best sequence kept.

It is the tool CP-SAT is weakest at (long chains of runs on one line, the
single-machine weighted tardiness core of the problem), and it runs as a
construction step before the exact model and as one neighbourhood of the
large-neighbourhood search.
"""

from __future__ import annotations

import bisect
import random
import time
from dataclasses import dataclass

import numpy as np

from solver.instance import Instance


@dataclass(frozen=True)
class SequenceBudget:
    """When the search stops: a wall-clock deadline, a number of move evaluations, or both.

    A budget in evaluations alone makes a run reproducible (the same seed, the same plan).
    """

    deadline: float | None = None
    evaluations: int | None = None
    patience: int = 100  # kicks in a row that find nothing better, before giving up

    def __post_init__(self) -> None:
        if self.deadline is None and self.evaluations is None:
            raise ValueError("a sequence search needs a deadline or a number of evaluations")


class LineSequencer:
    """The movable runs of one line, timed by packing them in a given order.

    Parameters
    ----------
    instance
        The planning instance.
    line_id
        The line whose runs are resequenced.
    order_ids
        The orders that may move on this line.
    release_day
        Per order, the first day its run may start (its release and, for an order with
        a kit, the first day its material can be issued with every other kit kept).
    obstacles
        ``(start, end)`` positions of the runs that stay put on the line.
    """

    def __init__(
        self,
        instance: Instance,
        line_id: str,
        order_ids: list[str],
        release_day: dict[str, int],
        obstacles: list[tuple[int, int]],
    ):
        axis = instance.axes[line_id]
        candidates = {c.order_id: c for c in instance.candidates}
        self.order_ids = list(order_ids)
        self.day_start = [int(v) for v in axis.start]
        self.obstacle_start = [s for s, _ in sorted(obstacles)]
        self.obstacle_end = [e for _, e in sorted(obstacles)]
        dispatch = instance.calendar.dispatch_by_end_day
        self.minutes: list[int] = []
        self.earliest: list[int] = []
        self.latest: list[int] = []
        self.late_cost: list[list[int]] = []  # per order, weighted days late by end day
        for order_id in self.order_ids:
            candidate = candidates[order_id]
            option = next(o for o in candidate.options if o.line_id == line_id)
            self.minutes.append(option.minutes)
            released = self.day_start[min(release_day[order_id], len(self.day_start) - 1)]
            self.earliest.append(max(option.earliest_position, released))
            self.latest.append(option.latest_position)
            delivery = np.where(dispatch < 0, -1, dispatch + candidate.transit_days)
            late = candidate.priority * np.maximum(0, delivery - candidate.due_day)
            self.late_cost.append([int(v) for v in late])

    # -- timing -----------------------------------------------------------------------

    def _start_at(self, job: int, clock: int) -> int:
        """Earliest start of ``job`` at or after ``clock`` clear of the runs that stay put."""
        start = max(clock, self.earliest[job])
        minutes = self.minutes[job]
        index = bisect.bisect_right(self.obstacle_end, start)
        while index < len(self.obstacle_start) and start + minutes > self.obstacle_start[index]:
            start = self.obstacle_end[index]
            index += 1
        return start

    def _run_cost(self, job: int, start: int) -> int | None:
        """Weighted days late of ``job`` started at ``start``, or ``None`` past its latest start."""
        if start > self.latest[job]:
            return None
        end_day = bisect.bisect_right(self.day_start, start + self.minutes[job] - 1) - 1
        return self.late_cost[job][end_day]

    def timing(self, sequence: list[int]) -> tuple[list[int], list[int], list[int]] | None:
        """Starts, ends and cumulative cost of ``sequence`` packed early (``None``: does not fit)."""
        starts, ends, costs = [], [], []
        clock, total = 0, 0
        for job in sequence:
            start = self._start_at(job, clock)
            cost = self._run_cost(job, start)
            if cost is None:
                return None
            clock = start + self.minutes[job]
            total += cost
            starts.append(start)
            ends.append(clock)
            costs.append(total)
        return starts, ends, costs


class _Timed:
    """A sequence with its prefix clocks and costs, for timing moves from where they start."""

    def __init__(self, sequencer: LineSequencer, sequence: list[int]):
        timed = sequencer.timing(sequence)
        if timed is None:
            raise ValueError("the starting sequence does not fit on the line")
        self.sequencer, self.sequence = sequencer, sequence
        self.starts, self.ends, self.costs = timed

    @property
    def total(self) -> int:
        return self.costs[-1] if self.costs else 0

    def cost_with(self, low: int, segment: list[int], limit: int) -> int | None:
        """Total cost when positions ``low..low+len(segment)-1`` hold ``segment``, or ``None``
        when it is not below ``limit`` (or does not fit)."""
        seq = self.sequencer
        clock = self.ends[low - 1] if low else 0
        total = self.costs[low - 1] if low else 0
        for job in segment:
            start = seq._start_at(job, clock)
            cost = seq._run_cost(job, start)
            if cost is None:
                return None
            clock = start + seq.minutes[job]
            total += cost
            if total >= limit:
                return None
        position = low + len(segment) - 1
        rest = self.total - self.costs[position]
        if clock == self.ends[position]:
            total += rest
            return total if total < limit else None
        # a later clock can only delay the rest: prune when even the old rest is too much
        if clock > self.ends[position] and total + rest >= limit:
            return None
        return self._finish(position, clock, total, limit)

    def _finish(self, position: int, clock: int, total: int, limit: int) -> int | None:
        """Time the unchanged rest from ``position + 1`` until the clock meets the old one."""
        seq = self.sequencer
        for index in range(position + 1, len(self.sequence)):
            if clock == self.ends[index - 1]:
                total += self.total - self.costs[index - 1]
                return total if total < limit else None
            job = self.sequence[index]
            start = seq._start_at(job, clock)
            cost = seq._run_cost(job, start)
            if cost is None:
                return None
            clock = start + seq.minutes[job]
            total += cost
            if total >= limit:
                return None
        return total if total < limit else None


class _Counter:
    def __init__(self, budget: SequenceBudget):
        self.budget, self.used = budget, 0

    def spent(self) -> bool:
        if self.budget.evaluations is not None and self.used >= self.budget.evaluations:
            return True
        # the clock is read every 64 evaluations only: it costs as much as a move
        return self.budget.deadline is not None and self.used % 64 == 0 and time.monotonic() >= self.budget.deadline


FULL_NEIGHBOURHOOD_UP_TO = 60  # runs on a line; beyond, moves span at most MOVE_REACH positions
MOVE_REACH = 30


def _moves(n: int, rng: random.Random) -> list[tuple[str, int, int]]:
    """Swaps and insertions of a sequence of ``n`` (all of them on short lines), in a random order."""
    reach = n if n <= FULL_NEIGHBOURHOOD_UP_TO else MOVE_REACH
    moves = [("swap", i, j) for i in range(n) for j in range(i + 1, min(n, i + reach + 1))]
    moves += [
        ("insert", i, j)
        for i in range(n)
        for j in range(max(0, i - reach), min(n, i + reach + 1))
        if i != j and j != i - 1
    ]
    rng.shuffle(moves)
    return moves


def _segment(sequence: list[int], move: tuple[str, int, int]) -> tuple[int, list[int]]:
    """First changed position and the jobs from there to the last changed position."""
    kind, i, j = move
    if kind == "swap":
        return i, [sequence[j], *sequence[i + 1 : j], sequence[i]]
    if i < j:  # the job at i goes after the job at j
        return i, [*sequence[i + 1 : j + 1], sequence[i]]
    return j, [sequence[i], *sequence[j:i]]


def _descend(timed: _Timed, moves: list[tuple[str, int, int]], counter: _Counter) -> _Timed:
    """First-improvement descent over ``moves`` until none improves or the budget is spent."""
    improved = True
    while improved and timed.total > 0:
        improved = False
        for move in moves:
            if counter.spent():
                return timed
            counter.used += 1
            low, segment = _segment(timed.sequence, move)
            if timed.cost_with(low, segment, timed.total) is not None:
                sequence = list(timed.sequence)
                sequence[low : low + len(segment)] = segment
                timed = _Timed(timed.sequencer, sequence)
                improved = True
    return timed


def _perturb(sequence: list[int], rng: random.Random) -> list[int]:
    """A few random swaps of nearby runs: a kick out of a local optimum that keeps most of it."""
    sequence = list(sequence)
    n = len(sequence)
    for _ in range(rng.randint(2, 4)):
        i = rng.randrange(n)
        j = min(n - 1, i + rng.randint(1, max(1, n // 4)))
        sequence[i], sequence[j] = sequence[j], sequence[i]
    return sequence


def improve_sequence(
    sequencer: LineSequencer, sequence: list[int], budget: SequenceBudget, seed: int = 0
) -> tuple[list[int], int]:
    """The best sequence found from ``sequence`` by iterated local search, and its cost."""
    rng = random.Random(seed)
    counter = _Counter(budget)
    moves = _moves(len(sequence), rng)
    best = current = _descend(_Timed(sequencer, list(sequence)), moves, counter)
    fruitless = 0
    while best.total > 0 and len(sequence) > 1 and fruitless < budget.patience and not counter.spent():
        fruitless += 1
        kicked = _perturb(current.sequence, rng)
        counter.used += 1
        if sequencer.timing(kicked) is None:
            continue
        candidate = _descend(_Timed(sequencer, kicked), moves, counter)
        if candidate.total <= current.total:
            current = candidate
        if candidate.total < best.total:
            best, fruitless = candidate, 0
    return best.sequence, best.total
