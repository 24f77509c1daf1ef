"""The OR-Library weighted tardiness benchmark: parsing, and the statement as a paichan dataset.

The key property: paichan's weighted days late of a plan equals the textbook
total weighted tardiness Σ w·max(0, C − d) of the same job sequence, recomputed
here from the plan's production start dates only.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import random
import sys
from pathlib import Path

import pytest

from solver.engine import SolveParams
from solver.instance import build_instance
from solver.solution import Assignment, build_schedule
from solver.validation import validate_schedule

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "orlib.py"
_SPEC = importlib.util.spec_from_file_location("orlib_benchmark", _PATH)
assert _SPEC and _SPEC.loader
orlib = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = orlib  # dataclasses look their module up while the class is built
_SPEC.loader.exec_module(orlib)

DATA = orlib.DEFAULT_DATA_DIR
needs_files = pytest.mark.skipif(not (DATA / "wt40.txt").exists(), reason=f"OR-Library files not in {DATA}")

# Five jobs made up for this test (0-based index: p, w, d):
#   J1: 3, 2, 4    J2: 2, 5, 3    J3: 4, 1, 9    J4: 1, 4, 2    J5: 5, 3, 8
# The optimal sequence is J4 J2 J1 J5 J3 with completions 1, 3, 6, 11, 15:
#   J4 0, J2 0, J1 2·(6−4) = 4, J5 3·(11−8) = 9, J3 1·(15−9) = 6, total 19.
# The nearest alternatives cost more: J4 J2 J5 J1 J3 gives 0 + 0 + 0 + 2·(11−4)
# + 6 = 20, J2 J4 J1 J5 J3 gives 0 + 4·(3−2) + 4 + 9 + 6 = 23; the test also
# enumerates all 120 sequences.
TINY = orlib.WtInstance(1, (3, 2, 4, 1, 5), (2, 5, 1, 4, 3), (4, 3, 9, 2, 8))
TINY_OPTIMUM = 19
TINY_SEQUENCE = [3, 1, 0, 4, 2]


def _plan(instance, sequence, idle_before=None):
    """The schedule document of ``sequence`` run back to back (plus idle days before some jobs)."""
    dataset = orlib.as_dataset(instance)
    built = build_instance(dataset)
    position, assignments = 0, {}
    for job in sequence:
        position += (idle_before or {}).get(job, 0)
        assignments[orlib.job_id(job)] = Assignment(orlib.job_id(job), orlib.LINE_ID, position)
        position += instance.p[job]
    return dataset, build_schedule(built, assignments, {}, status="FEASIBLE")


# -- parsing -----------------------------------------------------------------------------------------


def test_read_instances_accepts_numbers_spread_over_lines_in_any_way(tmp_path):
    numbers = [str(i) for i in range(1, 3 * 2 * 3 + 1)]  # three instances of two jobs
    path = tmp_path / "wt2.txt"
    path.write_text(" ".join(numbers[:5]) + "\n\n  " + "\n".join(numbers[5:]) + "\n")
    instances = orlib.read_instances(path)
    assert [i.index for i in instances] == [1, 2, 3]
    assert instances[0] == orlib.WtInstance(1, (1, 2), (3, 4), (5, 6))
    assert instances[2].d == (17, 18)
    with pytest.raises(ValueError, match="whole number"):
        orlib.read_instances(path, n=4)


@needs_files
def test_wt40_has_125_instances_and_optima_matching_the_file():
    instances = orlib.read_instances(DATA / "wt40.txt")
    optima = orlib.read_optima(DATA / "wtopt40.txt")
    assert len(instances) == len(optima) == 125
    assert {i.n for i in instances} == {40}
    first = instances[0]
    # the first lines of wt40.txt: processing times, then weights, then due dates
    assert first.p[:5] == (26, 24, 79, 46, 32)
    assert first.p[-3:] == (9, 49, 50)
    assert first.w[:5] == (1, 10, 9, 10, 10)
    assert first.d[:5] == (1588, 1620, 1731, 1773, 1694)
    assert optima[:3] == [913, 1225, 537]
    assert all(1 <= w <= 10 for i in instances for w in i.w)


@needs_files
def test_wt50_has_125_instances_of_50_jobs():
    instances = orlib.read_instances(DATA / "wt50.txt")
    assert len(instances) == len(orlib.read_optima(DATA / "wtopt50.txt")) == 125
    assert {i.n for i in instances} == {50}


def test_parse_range():
    assert orlib.parse_range("1-3,7,2", 125) == [1, 2, 3, 7]
    with pytest.raises(ValueError):
        orlib.parse_range("120-126", 125)


# -- the statement -----------------------------------------------------------------------------------


def test_dataset_statement_follows_the_orlib_readme():
    dataset = orlib.as_dataset(TINY)
    plant = dataset.plant
    assert plant.horizon_days == sum(TINY.p) + 3
    assert len(plant.workdays) == 7 and plant.holiday_country is None
    assert [line.hours_per_day * 60 for line in dataset.lines] == pytest.approx([1.0])
    assert [o.due_date - plant.plan_start for o in dataset.orders] == [dt.timedelta(days=d + 1) for d in TINY.d]
    assert [o.priority for o in dataset.orders] == list(TINY.w)
    assert not dataset.materials and not dataset.bom and not dataset.customers
    built = build_instance(dataset)
    assert [c.options[0].minutes for c in built.candidates] == list(TINY.p)  # p minutes = p days
    assert set(built.axes[orlib.LINE_ID].capacity.tolist()) == {1}


@pytest.mark.parametrize("seed", range(4))
def test_weighted_days_late_of_any_sequence_is_the_textbook_tardiness(seed):
    rng = random.Random(seed)
    n = 8
    instance = orlib.WtInstance(
        seed,
        tuple(rng.randint(1, 9) for _ in range(n)),
        tuple(rng.randint(1, 10) for _ in range(n)),
        tuple(rng.randint(0, 40) for _ in range(n)),
    )
    sequence = rng.sample(range(n), n)
    dataset, plan = _plan(instance, sequence)
    assert validate_schedule(dataset, plan) == []
    assert orlib.schedule_sequence(plan) == sequence
    expected = orlib.total_weighted_tardiness(instance, sequence)
    assert plan["objective"]["weighted_days_late"] == expected == orlib.timed_tardiness(instance, plan)


def test_idle_days_are_counted_from_the_start_dates():
    dataset, plan = _plan(TINY, TINY_SEQUENCE, idle_before={4: 2})  # two idle days before J5
    assert validate_schedule(dataset, plan) == []
    # J5 completes at 13 instead of 11 (+2·3), J3 at 17 instead of 15 (+2·1)
    assert plan["objective"]["weighted_days_late"] == orlib.timed_tardiness(TINY, plan) == TINY_OPTIMUM + 8
    assert orlib.total_weighted_tardiness(TINY, orlib.schedule_sequence(plan)) == TINY_OPTIMUM


def test_engine_reaches_the_hand_computed_optimum_of_a_tiny_instance():
    assert orlib.total_weighted_tardiness(TINY, TINY_SEQUENCE) == TINY_OPTIMUM
    assert min(orlib.total_weighted_tardiness(TINY, s) for s in itertools.permutations(range(5))) == TINY_OPTIMUM
    result = orlib.solve_instance(TINY, TINY_OPTIMUM, SolveParams(time_limit=3, workers=2, seed=0))
    assert result.failure is None  # no exception, valid plan, every order planned, objective = textbook
    assert result.violations == ()
    assert result.objective == result.timed == result.textbook == TINY_OPTIMUM
    assert result.gap == 0.0


def test_summary_counts_zero_optima_apart():
    def run(index, optimum, objective):
        return orlib.RunResult("wt", index, optimum, objective, objective, objective, "FEASIBLE", 0, 1.0)

    facts = orlib.summary([run(1, 100, 110), run(2, 0, 0), run(3, 0, 5), run(4, 50, 50)])
    assert facts["optima"] == 2  # #2 (0 of 0) and #4
    assert facts["gaps_counted"] == 3
    assert facts["mean_gap"] == pytest.approx(0.1 / 3)
    assert facts["max_gap"] == pytest.approx(0.1)
    assert facts["zero_optimum_missed"] == [(3, 5)]
    assert facts["failures"] == []
