"""pytest-benchmark suites for the engine's stages on the bundled sample and a 300-order plant.

python -m pytest benchmarks/test_bench_engine.py --benchmark-enable
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solver import io
from solver.generate import generate_dataset
from solver.heuristic import earliest_due_date_schedule
from solver.instance import build_instance
from solver.model import ScheduleModel
from solver.solution import build_schedule
from solver.validation import validate_schedule

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

PLANTS = {
    "sample": lambda: io.load_dataset(SAMPLE),
    "g300x8x90": lambda: generate_dataset(300, 8, 90, 3),
}


@pytest.fixture(params=sorted(PLANTS), scope="module")
def dataset(request):
    return PLANTS[request.param]()


def test_prepare_instance(benchmark, dataset):
    benchmark(build_instance, dataset)


def test_list_scheduling(benchmark, dataset):
    instance = build_instance(dataset)
    assignments, _ = benchmark(earliest_due_date_schedule, instance)
    assert assignments


def test_model_building(benchmark, dataset):
    instance = build_instance(dataset)
    benchmark(ScheduleModel, instance)


def test_schedule_document_and_validation(benchmark, dataset):
    instance = build_instance(dataset)
    assignments, left_out = earliest_due_date_schedule(instance)

    def document_and_check():
        schedule = build_schedule(instance, assignments, left_out, status="FEASIBLE")
        return validate_schedule(dataset, schedule)

    assert benchmark(document_and_check) == []
