"""Resequencing a line by iterated local search: exact move timing, optima, kits, locks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from solver.domain import Arrival, BomItem, Material
from solver.engine import SolveParams, solve
from solver.instance import build_instance
from solver.lns import PlanState, resequence_line
from solver.model import Baseline
from solver.sequence import LineSequencer, SequenceBudget, _moves, _segment, _Timed, improve_sequence
from solver.solution import Assignment, build_schedule
from solver.validation import validate_schedule
from tests.conftest import order, tiny_dataset
from tests.test_orlib import orlib


def single_machine(p: list[int], w: list[int], d: list[int]):
    instance = orlib.WtInstance(1, tuple(p), tuple(w), tuple(d))
    return instance, orlib.as_dataset(instance)


def sequencer_for(dataset, releases=None, obstacles=()) -> tuple[LineSequencer, list[str]]:
    built = build_instance(dataset)
    ids = [c.order_id for c in built.candidates]
    releases = releases or {}
    return LineSequencer(built, "M", ids, {o: releases.get(o, 0) for o in ids}, list(obstacles)), ids


jobs = st.lists(st.tuples(st.integers(1, 9), st.integers(1, 10), st.integers(0, 40)), min_size=2, max_size=9)


# The incremental timing of a move (from its first changed position, stopping where the
# clock meets the old one) must give exactly the cost of timing the whole new sequence,
# with releases and runs that stay put in the way.
@settings(max_examples=60, deadline=None)
@given(jobs=jobs, releases=st.lists(st.integers(0, 20), min_size=9, max_size=9), seed=st.integers(0, 999))
def test_a_move_timed_from_where_it_starts_costs_what_the_whole_sequence_costs(jobs, releases, seed):
    p, w, d = (list(column) for column in zip(*jobs, strict=True))
    _, dataset = single_machine(p, w, d)
    dataset = dataset.replace(plant=dataclasses.replace(dataset.plant, horizon_days=sum(p) + 40))
    by_order = {orlib.job_id(job): releases[job] for job in range(len(p))}
    sequencer, ids = sequencer_for(dataset, by_order, obstacles=[(5, 7), (19, 20)])
    rng = random.Random(seed)
    sequence = list(range(len(ids)))
    rng.shuffle(sequence)
    timed = _Timed(sequencer, sequence)
    for move in _moves(len(sequence), rng):
        low, segment = _segment(sequence, move)
        moved = list(sequence)
        moved[low : low + len(segment)] = segment
        whole = sequencer.timing(moved)
        assert whole is not None
        expected = whole[2][-1]
        found = timed.cost_with(low, segment, timed.total)
        assert found == (expected if expected < timed.total else None)


# Seven jobs, every one of the 5,040 sequences enumerated: the search finds the optimum.
def test_the_search_reaches_the_optimum_of_a_small_single_machine_instance():
    rng = random.Random(3)
    p = [rng.randint(1, 10) for _ in range(7)]
    w = [rng.randint(1, 10) for _ in range(7)]
    d = [rng.randint(0, 25) for _ in range(7)]
    instance, dataset = single_machine(p, w, d)
    optimum = min(orlib.total_weighted_tardiness(instance, s) for s in itertools.permutations(range(7)))
    sequencer, ids = sequencer_for(dataset)
    sequence, cost = improve_sequence(sequencer, list(range(7)), SequenceBudget(evaluations=20_000))
    assert cost == optimum > 0
    assert orlib.total_weighted_tardiness(instance, [int(ids[j][1:]) - 1 for j in sequence]) == optimum


def test_a_budget_in_evaluations_gives_the_same_sequence_twice():
    rng = random.Random(11)
    p, w, d = ([rng.randint(1, 20) for _ in range(25)] for _ in range(3))
    _, dataset = single_machine(p, w, [x * 5 for x in d])
    sequencer, _ = sequencer_for(dataset)
    budget = SequenceBudget(evaluations=5_000)
    first = improve_sequence(sequencer, list(range(25)), budget, seed=4)
    assert first == improve_sequence(sequencer, list(range(25)), budget, seed=4)


# Through the engine, the five-job instance of test_orlib (optimum 19) and a plan the
# validator accepts.
def test_the_engine_solves_five_jobs_to_the_textbook_optimum():
    instance, dataset = single_machine([3, 2, 4, 1, 5], [2, 5, 1, 4, 3], [4, 3, 9, 2, 8])
    result = solve(dataset, SolveParams(time_limit=3, workers=1))
    assert validate_schedule(dataset, result.schedule) == []
    assert result.objective["weighted_days_late"] == 19
    assert orlib.timed_tardiness(instance, result.schedule) == 19


# K1 and K2 each need 100 of M1: 100 on hand, 100 more arriving Tue 12-01. Planned
# Wed and Fri, both late (due Wed 12-02: on time only if production ends Mon).
# Each alone could start Mon, both together cannot: the resequenced line must not
# overdraw M1, and it must not be worse than before.
def test_resequencing_never_overdraws_a_shared_material():
    orders = [
        order("K1", 100, "2026-12-02"),
        order("K2", 100, "2026-12-02", priority=3),
        order("X", 240, "2026-12-10", product_id="P2"),
    ]
    dataset = tiny_dataset(
        orders,
        routings=[("P1", "L1", 60.0), ("P2", "L1", 60.0)],
        materials=[Material("M1", 100.0)],
        bom=[BomItem("P1", "M1", 1.0)],
        arrivals=[Arrival("M1", dt.date(2026, 12, 1), 100.0)],
    )
    built = build_instance(dataset)
    axis = built.axes["L1"]
    start = {"X": int(axis.start[0]), "K1": int(axis.start[2]), "K2": int(axis.start[4])}
    state = PlanState(built, Baseline({}, -1), {o: Assignment(o, "L1", s) for o, s in start.items()})
    before = state.total()
    resequence_line(state, "L1", set(), SequenceBudget(evaluations=2_000))
    assert state.total() <= before
    schedule = build_schedule(built, state.assignments(), {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []


# A locked run (in production, frozen) is an obstacle: it keeps its place exactly.
def test_resequencing_keeps_locked_runs_where_they_are():
    orders = [order("A", 240, "2026-12-09"), order("B", 240, "2026-12-02", priority=5), order("C", 480, "2026-12-03")]
    dataset = tiny_dataset(orders)
    built = build_instance(dataset)
    axis = built.axes["L1"]
    start = {"A": 0, "C": int(axis.start[1]), "B": int(axis.start[2])}
    state = PlanState(built, Baseline({}, -1), {o: Assignment(o, "L1", s) for o, s in start.items()})
    before = state.total()
    assert resequence_line(state, "L1", {"C"}, SequenceBudget(evaluations=2_000))
    assert state.runs["C"].start == int(axis.start[1])
    assert state.runs["B"].end_day == 0  # the urgent order shares Monday with A: on time
    assert state.total() < before
    schedule = build_schedule(built, state.assignments(), {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []
