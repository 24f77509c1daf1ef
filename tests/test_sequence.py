"""The sequence search (iterated local search over each line's run order): exact move
timing, optima of small instances, kits never overdrawn, locked runs kept."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.domain import Arrival, BomItem, Material
from solver.engine import SolveParams, solve
from solver.generate import generate_dataset
from solver.heuristic import best_list_schedule
from solver.instance import build_instance
from solver.lns import PlanState, improve_sequences
from solver.model import Baseline
from solver.sequence import SequenceBudget, SequenceSearch, _all_moves, _LineRuns
from solver.solution import Assignment, build_schedule
from solver.validation import validate_schedule
from tests.conftest import order, tiny_dataset
from tests.test_orlib import orlib


def single_machine(p: list[int], w: list[int], d: list[int]):
    instance = orlib.WtInstance(1, tuple(p), tuple(w), tuple(d))
    return instance, orlib.as_dataset(instance)


def search_from_list_order(dataset, locked=frozenset(), seed=0) -> SequenceSearch:
    """A search starting from the jobs back to back in id order."""
    built = build_instance(dataset)
    clock, placements = 0, {}
    for candidate in built.candidates:
        placements[candidate.order_id] = ("M", clock)
        clock += candidate.options[0].minutes
    return SequenceSearch(built, placements, set(locked), seed)


def sequence_of(search: SequenceSearch) -> list[int]:
    placed = search.placements()
    return [int(o[1:]) - 1 for o in sorted(placed, key=lambda o: placed[o][1])]


jobs = st.lists(st.tuples(st.integers(1, 9), st.integers(1, 10), st.integers(0, 40)), min_size=2, max_size=9)


# The timing of a move from its first changed position (stopping where the clock meets
# the old one, or where the line cannot get cheaper) must give exactly the cost of timing
# the whole new sequence, with releases and runs that stay put in the way.
@settings(max_examples=60, deadline=None)
@given(jobs=jobs, releases=st.lists(st.integers(0, 20), min_size=9, max_size=9), seed=st.integers(0, 999))
def test_a_move_timed_from_where_it_starts_costs_what_the_whole_sequence_costs(jobs, releases, seed):
    late_cost = [[w * max(0, day - d) for day in range(400)] for _, w, d in jobs]
    line = _LineRuns("M", list(range(401)), [(5, 7), (19, 20)], late_cost)
    for job, (p, _, _) in enumerate(jobs):
        line.minutes[job], line.earliest[job], line.latest[job] = p, releases[job], 350
    rng = random.Random(seed)
    sequence = list(range(len(jobs)))
    rng.shuffle(sequence)
    assert line.set_sequence(sequence)
    for move in _all_moves(line, rng):
        [(_, low, high, segment)] = move
        moved = [*sequence[:low], *segment, *sequence[high:]]
        expected = line.timing(moved)[2][-1]
        found = line.cost_with(low, high, segment, line.total)
        assert found == (expected if expected < line.total else None)
        assert line.cost_with(low, high, segment, 10**9) == expected


# Seven jobs, every one of the 5,040 sequences enumerated: the search finds the optimum.
def test_the_search_reaches_the_optimum_of_a_small_single_machine_instance():
    rng = random.Random(3)
    p = [rng.randint(1, 10) for _ in range(7)]
    w = [rng.randint(1, 10) for _ in range(7)]
    d = [rng.randint(0, 25) for _ in range(7)]
    instance, dataset = single_machine(p, w, d)
    optimum = min(orlib.total_weighted_tardiness(instance, s) for s in itertools.permutations(range(7)))
    search = search_from_list_order(dataset)
    assert search.run(SequenceBudget(evaluations=20_000)) == optimum > 0
    assert orlib.total_weighted_tardiness(instance, sequence_of(search)) == optimum


def test_a_budget_in_evaluations_gives_the_same_plan_twice():
    rng = random.Random(11)
    p, w, d = ([rng.randint(1, 20) for _ in range(25)] for _ in range(3))
    _, dataset = single_machine(p, w, [x * 5 for x in d])
    budget = SequenceBudget(evaluations=5_000)
    first = search_from_list_order(dataset, seed=4)
    second = search_from_list_order(dataset, seed=4)
    assert first.run(budget) == second.run(budget)
    assert first.placements() == second.placements()


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
    improve_sequences(state, set(), SequenceBudget(evaluations=2_000))
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
    assert improve_sequences(state, {"C"}, SequenceBudget(evaluations=2_000))
    assert state.runs["C"].start == int(axis.start[1])
    assert state.runs["B"].end_day == 0  # the urgent order shares Monday with A: on time
    assert state.total() < before
    schedule = build_schedule(built, state.assignments(), {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []


# Three one-day orders all planned on L1 (Mon, Tue, Wed), due Wed: on time only if
# production ends Mon. L2 can make the same product. Best: two of them on Monday, one
# on each line, and the least important (C, priority 1) on Tuesday: 1 day late, cost 1.
def test_runs_move_to_another_line_when_it_is_free():
    orders = [
        order("A", 480, "2026-12-02", priority=3),
        order("B", 480, "2026-12-02", priority=2),
        order("C", 480, "2026-12-02", priority=1),
    ]
    dataset = tiny_dataset(orders, lines={"L1": 8, "L2": 8}, routings=[("P1", "L1", 60.0), ("P1", "L2", 60.0)])
    built = build_instance(dataset)
    axis = built.axes["L1"]
    start = {"A": 0, "B": int(axis.start[1]), "C": int(axis.start[2])}
    state = PlanState(built, Baseline({}, -1), {o: Assignment(o, "L1", s) for o, s in start.items()})
    assert state.total()[1] == 2 * 1 + 1 * 2
    stopped = threading.Event()
    stopped.set()
    assert not improve_sequences(state, set(), SequenceBudget(evaluations=2_000, stop=stopped))
    assert state.total()[1] == 4
    seen: list[int] = []
    assert improve_sequences(state, set(), SequenceBudget(evaluations=2_000), on_improvement=seen.append)
    assert state.total()[1] == 1
    assert seen and seen[-1] == 1 and seen == sorted(seen, reverse=True)
    assert state.runs["C"].end_day == 1
    schedule = build_schedule(built, state.assignments(), {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []


# LO (priority 1, due late) took M1's 100 on hand on Monday; HI (priority 5, due Wed
# 12-02) waits for the next 100, arriving Mon 12-07: 7 days late, cost 35. Neither can
# move alone (HI has no material earlier, LO later gains nothing): they must trade the
# material, HI first and LO after the fillers, on the day the next lot arrives. Cost 0.
def test_an_important_kit_takes_the_material_a_cheaper_one_gives_up():
    fillers = [order(f"F{n}", 480, "2026-12-31", product_id="P2") for n in range(1, 6)]
    orders = [order("LO", 100, "2026-12-21"), order("HI", 100, "2026-12-02", priority=5), *fillers]
    dataset = tiny_dataset(
        orders,
        horizon_days=21,
        routings=[("P1", "L1", 60.0), ("P2", "L1", 60.0)],
        materials=[Material("M1", 100.0)],
        bom=[BomItem("P1", "M1", 1.0)],
        arrivals=[Arrival("M1", dt.date(2026, 12, 7), 100.0)],
    )
    built = build_instance(dataset)
    clock, plan = 0, {}
    for order_id in ["LO", "F1", "F2", "F3", "F4", "F5", "HI"]:
        plan[order_id] = Assignment(order_id, "L1", clock)
        clock += next(c for c in built.candidates if c.order_id == order_id).options[0].minutes
    state = PlanState(built, Baseline({}, -1), plan)
    assert state.total()[1] == 35
    assert improve_sequences(state, set(), SequenceBudget(evaluations=5_000))
    assert state.total()[1] == 0
    assert state.runs["HI"].start_day == 0 and state.runs["LO"].start_day == 7
    schedule = build_schedule(built, state.assignments(), {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []


# Every plan the search leaves, on generated plants with shared materials, is valid; on
# these seeds it finds something better than the list schedule (EDD 135-219 days late).
@pytest.mark.parametrize("seed", [4, 5, 6])
def test_the_search_keeps_generated_plans_valid(seed):
    dataset = generate_dataset(90, 3, 45, seed, load=0.95)
    built = build_instance(dataset)
    plan, left_out = best_list_schedule(built)
    state = PlanState(built, Baseline({}, -1), plan)
    before = state.total()
    assert improve_sequences(state, set(), SequenceBudget(evaluations=20_000), seed=seed)
    assert state.total() < before
    schedule = build_schedule(built, state.assignments(), left_out, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []
