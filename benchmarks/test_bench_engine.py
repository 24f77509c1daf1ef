"""pytest-benchmark suites: the engine's stages on the sample and the S, M and L plants.

    python -m pytest benchmarks/test_bench_engine.py --benchmark-enable

Plants are regenerated deterministically (see ``benchmarks/suite.py`` for sizes).
Every plan a benchmark produces is validated.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from solver import io
from solver.engine import SolveParams, solve
from solver.generate import generate_dataset
from solver.heuristic import best_list_schedule
from solver.instance import build_instance
from solver.lns import LargeNeighbourhoodSearch, LnsSettings, PlanState
from solver.model import Baseline, NeighbourhoodModel, ScheduleModel
from solver.sequence import SequenceBudget, SequenceSearch
from solver.solution import Assignment, build_schedule
from solver.validation import validate_schedule

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

PLANTS = {
    "sample": lambda: io.load_dataset(SAMPLE),
    "S-300x8x90": lambda: generate_dataset(300, 8, 90, 3),
    "M-500x10x60": lambda: generate_dataset(500, 10, 60, 2),
    "L-2000x20x90": lambda: generate_dataset(2000, 20, 90, 4),
}
_loaded: dict = {}


def plant(name: str):
    if name not in _loaded:
        _loaded[name] = PLANTS[name]()
    return _loaded[name]


@pytest.fixture(params=sorted(PLANTS))
def dataset(request):
    return plant(request.param)


def test_prepare_instance(benchmark, dataset):
    benchmark(build_instance, dataset)


def test_list_scheduling(benchmark, dataset):
    instance = build_instance(dataset)
    assignments, _ = benchmark(best_list_schedule, instance)
    assert assignments


@pytest.mark.parametrize("name", ["sample", "S-300x8x90"])
def test_exact_model_building(benchmark, name):
    instance = build_instance(plant(name))
    benchmark(ScheduleModel, instance)


def test_neighbourhood_model_building(benchmark, dataset):
    instance = build_instance(dataset)
    state = PlanState(instance, Baseline({}), best_list_schedule(instance)[0])
    search = LargeNeighbourhoodSearch(state, LnsSettings(time_limit=1, seed=0), set())
    hoods = [search._pick() for _ in range(20)]
    hoods = [h for h in hoods if h is not None and h.freed]
    chooser = random.Random(0)
    benchmark(lambda: NeighbourhoodModel(state, chooser.choice(hoods)))


def test_sequence_search_of_20000_moves(benchmark, dataset):
    """The sequence search from the list schedule, a fixed 20,000 moves; its plan validated."""
    instance = build_instance(dataset)
    assignments, left_out = best_list_schedule(instance)
    placements = {o: (a.line_id, a.start) for o, a in assignments.items()}

    def search():
        found = SequenceSearch(instance, placements, set(), seed=0)
        found.run(SequenceBudget(evaluations=20_000))
        return found

    found = benchmark.pedantic(search, rounds=2, iterations=1)
    planned = {o: Assignment(o, line_id, start) for o, (line_id, start) in found.placements().items()}
    schedule = build_schedule(instance, planned, left_out, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []


def test_schedule_document_and_validation(benchmark, dataset):
    instance = build_instance(dataset)
    assignments, left_out = best_list_schedule(instance)

    def document_and_check():
        schedule = build_schedule(instance, assignments, left_out, status="FEASIBLE")
        return validate_schedule(dataset, schedule)

    assert benchmark(document_and_check) == []


def test_reproducible_solve_of_s(benchmark):
    """A fixed work budget (30 LNS rounds, 0.2 deterministic seconds each), one worker."""
    dataset = plant("S-300x8x90")
    params = SolveParams(time_limit=120, workers=1, seed=0, method="lns", lns_rounds=30, deterministic_time=0.2)
    result = benchmark.pedantic(solve, args=(dataset, params), rounds=2, iterations=1)
    assert validate_schedule(dataset, result.schedule) == []
