"""The lower bounds on weighted days late: valid, tight where they should be, worth reporting.

The tiny datasets follow ``conftest.py``: plan start Monday 2026-11-30, Mon-Fri,
line L1 with 480 min a day, P1 on L1 at one unit a minute, no transit. A run
ending on day ``e`` is inspected on the next working day and dispatched on the
one after::

    run ends   Mon 11-30  Tue 12-01  Wed 12-02  Thu 12-03  Fri 12-04
    dispatch   Wed 12-02  Thu 12-03  Fri 12-04  Mon 12-07  Tue 12-08

Validity is checked two ways: the bound never exceeds an optimum CP-SAT
proves, and every valid plan (list schedules, optimal plans) maps to a point
of the integer relaxation that satisfies each of its rows at no more cost than
the plan: the point the module docstring's proof builds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import bound
from solver.bound import MIP_METHOD, BoundSearch, LowerBound, lateness_lower_bound
from solver.domain import Arrival, BomItem, Material
from solver.engine import SolveParams, solve
from solver.generate import generate_dataset
from solver.heuristic import by_due_date, by_latest_start, list_schedule, primary_objective
from solver.instance import Instance, build_instance
from solver.solution import Assignment, build_schedule
from solver.validation import validate_schedule
from tests.conftest import day, order, solve_validated, tiny_dataset


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test with its own, empty bound cache."""
    monkeypatch.setenv("PAICHAN_CACHE_DIR", str(tmp_path / "cache"))


def trivial_bound(instance: Instance) -> int:
    """Each order alone on an empty plant, written out independently of the module under test."""
    total = 0
    for candidate in instance.candidates:
        total += candidate.priority * min(
            instance.days_late(candidate, instance.axes[o.line_id].day_of(o.earliest_position + o.minutes - 1))
            for o in candidate.options
        )
    return total


def lp_only(monkeypatch) -> None:
    """No integer relaxation: the LP's bound alone."""
    monkeypatch.setattr(bound, "MIP_MAX_COLUMNS", 0)


def lateness_bound(dataset) -> tuple[LowerBound, int]:
    instance = build_instance(dataset)
    return lateness_lower_bound(instance), trivial_bound(instance)


def test_one_order_alone_gets_its_own_lateness():
    # 1000 minutes: Mon 480, Tue 480, Wed 40 -> dispatched Fri 12-04, due Tue 12-01:
    # 3 days late at priority 3 = 9, whatever the plan; both relaxations see exactly that.
    data = tiny_dataset([order("A", 1000, "2026-12-01", priority=3)])
    result, trivial = lateness_bound(data)
    assert result.weighted_days_late == trivial == 9
    assert result.method == MIP_METHOD  # on a tie the stronger relaxation is named
    assert solve_validated(data).objective["weighted_days_late"] == 9


def test_two_orders_competing_for_one_line_lift_the_bound_above_trivial():
    # A (priority 3) and B (priority 1) each fill a day and are due Wed 12-02. Alone,
    # either ends Monday and is dispatched Wednesday, on time: the trivial bound is 0.
    # Monday holds only one of them; the other ends Tuesday, dispatched Thursday, a day
    # late. Best: B late, 1. The LP puts B's share on Tuesday at a cost of 1 as well.
    data = tiny_dataset([order("A", 480, "2026-12-02", priority=3), order("B", 480, "2026-12-02")])
    result, trivial = lateness_bound(data)
    assert trivial == 0
    assert result.weighted_days_late == 1 > trivial
    assert solve_validated(data).objective["weighted_days_late"] == 1


def test_whole_orders_lift_the_integer_bound_above_the_lp(monkeypatch):
    # Four orders of 360 minutes due Wed 12-02 (on time only when ending Monday). By Monday
    # 480 minutes hold one whole order, by Tuesday 960 hold two, by Wednesday all four: the
    # best plan has one on time, one a day late (ends Tue, dispatched Thu), two two days
    # late (end Wed, dispatched Fri): 0 + 1 + 2 + 2 = 5. The LP splits them: 4/3 of an
    # order's work each day at lateness 0, 1, 2 gives 4.
    data = tiny_dataset([order(name, 360, "2026-12-02") for name in "ABCD"])
    instance = build_instance(data)
    result = lateness_lower_bound(instance)
    assert (result.weighted_days_late, result.method) == (5, MIP_METHOD)
    lp_only(monkeypatch)
    assert lateness_lower_bound(instance).weighted_days_late == 4
    assert solve_validated(data).objective["weighted_days_late"] == 5


def test_a_shared_material_lifts_the_bound_above_trivial():
    # A and B, half a day each, need 240 of M1 each; 240 on hand, 240 more arriving Thu
    # 12-03. Alone, either starts Monday and is on time for Wed 12-02: trivial 0. The
    # second to be kitted starts Thursday, is dispatched Mon 12-07: 5 days late. The LP's
    # kitting row up to Wednesday holds one order's worth, so one share waits for
    # Thursday at a cost of 5; in the integer relaxation one of the two starts after Wed.
    data = tiny_dataset(
        [order("A", 240, "2026-12-02"), order("B", 240, "2026-12-02")],
        bom=[BomItem("P1", "M1", 1.0)],
        materials=[Material("M1", 240.0)],
        arrivals=[Arrival("M1", day("2026-12-03"), 240.0)],
    )
    result, trivial = lateness_bound(data)
    assert trivial == 0
    assert result.weighted_days_late == 5
    assert solve_validated(data).objective["weighted_days_late"] == 5


def test_materials_on_hand_for_everyone_change_nothing():
    # the same two orders with 480 on hand: both start Monday on time, bound 0
    data = tiny_dataset(
        [order("A", 240, "2026-12-02"), order("B", 240, "2026-12-02")],
        bom=[BomItem("P1", "M1", 1.0)],
        materials=[Material("M1", 480.0)],
    )
    result, trivial = lateness_bound(data)
    assert result.weighted_days_late == trivial == 0


def test_an_order_in_production_keeps_its_day_in_the_bound():
    # Z is in production on L1 and must start Monday: its 480 minutes take the day, so A
    # (480, due Wed) cannot end Monday and is a day late. Without the rule A would be on time.
    orders = [order("Z", 480, "2026-12-10", status="in_production", pinned_line="L1"), order("A", 480, "2026-12-02")]
    data = tiny_dataset(orders)
    result, trivial = lateness_bound(data)
    assert trivial == 0
    assert result.weighted_days_late == 1 == solve_validated(data).objective["weighted_days_late"]


def test_an_earliest_start_counts_in_the_bound():
    # A (480) may not start before Tue 12-01 and is due Thu 12-03 (end Tue); B (480, due Thu,
    # priority 2) is free. If B ends Tuesday A ends Wednesday, a day late; if A takes Tuesday,
    # B takes Monday: both on time. Bound and optimum 0; with A due Wed 12-02 A is always a
    # day late (it ends Tuesday at the earliest): 1.
    for due, expected in (("2026-12-03", 0), ("2026-12-02", 1)):
        data = tiny_dataset(
            [order("A", 480, due, earliest_start="2026-12-01"), order("B", 480, "2026-12-03", priority=2)]
        )
        result, _ = lateness_bound(data)
        assert result.weighted_days_late == expected == solve_validated(data).objective["weighted_days_late"]


def test_more_work_than_any_plan_can_place_misleads_no_one():
    # Each order fits the ten working days alone; both together do not, so no plan places
    # both and any number bounds the (empty) set of plans that do; the engine plans one of
    # them and its lateness bound holds for that.
    data = tiny_dataset([order("A", 3000, "2026-12-11"), order("B", 3000, "2026-12-11")])
    lateness_bound(data)  # whatever it says, it says it without failing
    result = solve_validated(data)
    assert result.objective["unscheduled_priority"] == 1
    assert result.bound["weighted_days_late"] <= result.objective["weighted_days_late"]


# instances CP-SAT proves optimal in a few seconds, every order placed; with materials,
# holidays and line calendars, earliest starts and an in-production order each
GENERATED = [(25, 40, 2), (35, 60, 4), (30, 30, 6), (40, 45, 7), (20, 60, 8)]


@pytest.mark.parametrize(("orders", "days", "seed"), GENERATED)
def test_the_bound_never_exceeds_the_proven_optimum(orders, days, seed):
    data = generate_dataset(orders, 2, days, seed)
    instance = build_instance(data)
    result = lateness_lower_bound(instance)
    solved = solve_validated(data, time_limit=20.0)
    fixed = sum(data.order_by_id[o].priority for o in instance.unplaceable)
    assert solved.status == "OPTIMAL"
    assert solved.objective["unscheduled_priority"] == fixed  # every candidate placed
    optimum = solved.objective["weighted_days_late"]
    assert trivial_bound(instance) <= result.weighted_days_late <= optimum
    assert result.method in (MIP_METHOD, "lp-time-indexed (GLOP)")  # the LP's day rows win on (35, 60, 4)
    assert_maps_into_the_relaxation(instance, plan_of(instance, solved.schedule), optimum)


def test_the_generated_plants_have_what_the_bound_must_respect():
    # the plants above exercise every rule the relaxations model
    datasets = [generate_dataset(orders, 2, days, seed) for orders, days, seed in GENERATED]
    assert any(o.status == "in_production" for d in datasets for o in d.orders)
    assert any(o.earliest_start for d in datasets for o in d.orders)
    assert any(d.arrivals for d in datasets) and any(d.line_calendar for d in datasets)
    assert any(bound._kitting_rows(build_instance(d)) for d in datasets)  # a material that binds


def plan_of(instance: Instance, schedule: dict) -> dict[str, Assignment]:
    """The axis positions of a schedule document's runs: a run spanning days ends its first
    day, so it starts that day's minutes before the next day; a one-day run anywhere in its day."""
    plan = {}
    for entry in schedule["orders"]:
        axis = instance.axes[entry["line_id"]]
        first = entry["allocations"][0]
        start_day = (dt.date.fromisoformat(first["date"]) - instance.calendar.plan_start).days
        plan[entry["order_id"]] = Assignment(
            entry["order_id"], entry["line_id"], int(axis.start[start_day + 1]) - first["minutes"]
        )
    return plan


def assert_maps_into_the_relaxation(instance: Instance, plan: dict[str, Assignment], lateness: int) -> None:
    """The proof's point for ``plan`` satisfies every row of the quick and the strong
    integer relaxation, and costs what the plan does."""
    for strong in (False, True):
        relaxation = bound._integer_relaxation(instance, bound._late_by_end_day(instance), strong)
        assert_maps_into(relaxation, instance, plan, lateness)


def assert_maps_into(relaxation, instance: Instance, plan: dict[str, Assignment], lateness: int) -> None:
    point = bound._image(relaxation, instance, plan)
    assert point is not None
    assert np.all((point >= relaxation.lower - 1e-9) & (point <= relaxation.upper + 1e-9))
    assert np.all(point[relaxation.integer] == np.round(point[relaxation.integer]))
    activity = relaxation.activity(point)
    slack = 1e-7 * np.maximum(1.0, np.abs(relaxation.row_upper))
    assert np.all(activity <= relaxation.row_upper + slack), np.flatnonzero(activity > relaxation.row_upper + slack)
    assert np.all(activity >= relaxation.row_lower - 1e-9)
    assert float(relaxation.cost @ point) == pytest.approx(lateness)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orders=st.integers(10, 70),
    lines=st.integers(1, 4),
    days=st.integers(20, 70),
    seed=st.integers(0, 10_000),
    load=st.sampled_from([0.6, 0.9, 1.1]),
)
def test_every_valid_plan_maps_into_the_integer_relaxation(orders, lines, days, seed, load):
    # list schedules are valid plans (checked); each one that places every candidate is a
    # point of the relaxation satisfying every row, at its own weighted days late
    data = generate_dataset(orders, lines, days, seed, load=load)
    instance = build_instance(data)
    for key in (by_due_date, by_latest_start(instance)):
        assignments, left_out = list_schedule(instance, {}, key)
        if left_out:
            continue
        schedule = build_schedule(instance, assignments, {}, status="FEASIBLE")
        assert validate_schedule(data, schedule) == []
        assert_maps_into_the_relaxation(
            instance, assignments, primary_objective(instance, assignments).weighted_days_late
        )


def test_no_time_gives_the_trivial_bound():
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    result = lateness_lower_bound(instance, time_limit=0.0)
    assert result.method == "trivial"
    assert result.weighted_days_late == trivial_bound(instance)


def test_too_big_relaxations_give_the_trivial_bound(monkeypatch):
    monkeypatch.setattr(bound, "MAX_VARIABLES", 10)
    lp_only(monkeypatch)
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    result = lateness_lower_bound(instance)
    assert result.method == "trivial"
    assert result.weighted_days_late == trivial_bound(instance)


def test_pdlp_duals_give_a_valid_bound_too(monkeypatch):
    # past GLOP's size PDLP answers; its approximate duals still bound from below
    lp_only(monkeypatch)
    data = generate_dataset(35, 2, 60, 4)
    instance = build_instance(data)
    exact = lateness_lower_bound(instance).weighted_days_late
    monkeypatch.setattr(bound, "GLOP_MAX_VARIABLES", 0)
    result = lateness_lower_bound(instance, time_limit=5.0)
    assert result.method in ("lp-time-indexed (PDLP)", "trivial")
    assert trivial_bound(instance) <= result.weighted_days_late <= exact


def test_no_orders_no_lateness():
    result = lateness_lower_bound(build_instance(tiny_dataset([])))
    assert result == LowerBound(0, "trivial", result.seconds)


def test_a_bound_is_kept_per_instance_and_reused(monkeypatch, tmp_path):
    monkeypatch.setattr(bound, "CACHE_MIN_SECONDS", 0.0)
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    first = lateness_lower_bound(instance)
    assert len(list((tmp_path / "cache" / "bounds").glob("*.json"))) == 1

    def no_solving(*args):
        raise AssertionError("solved again")

    monkeypatch.setattr(bound, "_lp_bound", no_solving)
    monkeypatch.setattr(bound, "_mip_bound", no_solving)
    again = lateness_lower_bound(build_instance(generate_dataset(40, 2, 45, 7)))
    assert again.weighted_days_late == first.weighted_days_late
    assert again.method == f"{MIP_METHOD} (cached)"


def test_other_data_is_another_cache_entry(monkeypatch):
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    late = bound._late_by_end_day(instance)
    other = build_instance(generate_dataset(40, 2, 45, 8))
    assert bound._instance_key(instance, late) != bound._instance_key(other, bound._late_by_end_day(other))
    assert bound._instance_key(instance, late) == bound._instance_key(instance, late.copy())


def test_an_empty_cache_setting_keeps_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("PAICHAN_CACHE_DIR", "")
    monkeypatch.setattr(bound, "CACHE_MIN_SECONDS", 0.0)
    lateness_lower_bound(build_instance(generate_dataset(40, 2, 45, 7)))
    assert bound.cache_dir() is None
    assert not (tmp_path / "cache").exists()


def test_the_search_in_a_thread_finds_the_same_bound():
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    search = BoundSearch(instance, 10.0).start()
    found = search.result(wait=30.0)
    assert search.done
    assert found.weighted_days_late == lateness_lower_bound(instance).weighted_days_late
    assert found.method == MIP_METHOD


def test_the_engine_reports_the_integer_bound():
    # the neighbourhood search asks for the bound at its end, long after the thread is done
    data = generate_dataset(40, 2, 45, 7)
    result = solve(data, SolveParams(time_limit=4.0, method="lns", workers=1))
    assert validate_schedule(data, result.schedule) == []
    assert result.schedule["solver"]["stages"]["bound"] == MIP_METHOD
    assert result.bound["weighted_days_late"] == lateness_lower_bound(build_instance(data)).weighted_days_late
    assert result.bound["weighted_days_late"] <= result.objective["weighted_days_late"]
