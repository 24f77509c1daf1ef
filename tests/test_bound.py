"""The time-indexed lower bound on weighted days late: valid, tight where it should be, worth reporting.

The tiny datasets follow ``conftest.py``: plan start Monday 2026-11-30, Mon-Fri,
line L1 with 480 min a day, P1 on L1 at one unit a minute, no transit. A run
ending on day ``e`` is inspected on the next working day and dispatched on the
one after::

    run ends   Mon 11-30  Tue 12-01  Wed 12-02  Thu 12-03  Fri 12-04
    dispatch   Wed 12-02  Thu 12-03  Fri 12-04  Mon 12-07  Tue 12-08
"""

from __future__ import annotations

import pytest

from solver import bound
from solver.bound import LowerBound, lateness_lower_bound
from solver.domain import Arrival, BomItem, Material
from solver.generate import generate_dataset
from solver.instance import Instance, build_instance
from tests.conftest import day, order, solve_validated, tiny_dataset


def trivial_bound(instance: Instance) -> int:
    """Each order alone on an empty plant, written out independently of the module under test."""
    total = 0
    for candidate in instance.candidates:
        total += candidate.priority * min(
            instance.days_late(candidate, instance.axes[o.line_id].day_of(o.earliest_position + o.minutes - 1))
            for o in candidate.options
        )
    return total


def lp_bound(dataset) -> tuple[LowerBound, int]:
    instance = build_instance(dataset)
    return lateness_lower_bound(instance), trivial_bound(instance)


def test_one_order_alone_gets_its_own_lateness():
    # 1000 minutes: Mon 480, Tue 480, Wed 40 -> dispatched Fri 12-04, due Tue 12-01:
    # 3 days late at priority 3 = 9, whatever the plan; the LP sees exactly that.
    data = tiny_dataset([order("A", 1000, "2026-12-01", priority=3)])
    result, trivial = lp_bound(data)
    assert result.weighted_days_late == trivial == 9
    assert result.method == "lp-time-indexed (GLOP)"
    assert solve_validated(data).objective["weighted_days_late"] == 9


def test_two_orders_competing_for_one_line_lift_the_bound_above_trivial():
    # A (priority 3) and B (priority 1) each fill a day and are due Wed 12-02. Alone,
    # either ends Monday and is dispatched Wednesday, on time: the trivial bound is 0.
    # Monday holds only one of them; the other ends Tuesday, dispatched Thursday, a day
    # late. Best: B late, 1. The LP puts B's share on Tuesday at a cost of 1 as well.
    data = tiny_dataset([order("A", 480, "2026-12-02", priority=3), order("B", 480, "2026-12-02")])
    result, trivial = lp_bound(data)
    assert trivial == 0
    assert result.weighted_days_late == 1 > trivial
    assert solve_validated(data).objective["weighted_days_late"] == 1


def test_a_shared_material_lifts_the_bound_above_trivial():
    # A and B, half a day each, need 240 of M1 each; 240 on hand, 240 more arriving Thu
    # 12-03. Alone, either starts Monday and is on time for Wed 12-02: trivial 0. The
    # second to be kitted starts Thursday, is dispatched Mon 12-07: 5 days late. The LP's
    # kitting row up to Wednesday holds one order's worth, so one share waits for
    # Thursday at a cost of 5.
    data = tiny_dataset(
        [order("A", 240, "2026-12-02"), order("B", 240, "2026-12-02")],
        bom=[BomItem("P1", "M1", 1.0)],
        materials=[Material("M1", 240.0)],
        arrivals=[Arrival("M1", day("2026-12-03"), 240.0)],
    )
    result, trivial = lp_bound(data)
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
    result, trivial = lp_bound(data)
    assert result.weighted_days_late == trivial == 0


# instances CP-SAT proves optimal in a few seconds, every order placed
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
    assert trivial_bound(instance) <= result.weighted_days_late <= solved.objective["weighted_days_late"]


def test_no_time_gives_the_trivial_bound():
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    result = lateness_lower_bound(instance, time_limit=0.0)
    assert result.method == "trivial"
    assert result.weighted_days_late == trivial_bound(instance)


def test_too_big_an_lp_gives_the_trivial_bound(monkeypatch):
    monkeypatch.setattr(bound, "MAX_VARIABLES", 10)
    instance = build_instance(generate_dataset(40, 2, 45, 7))
    result = lateness_lower_bound(instance)
    assert result.method == "trivial"
    assert result.weighted_days_late == trivial_bound(instance)


def test_pdlp_duals_give_a_valid_bound_too(monkeypatch):
    # past GLOP's size PDLP answers; its approximate duals still bound from below
    monkeypatch.setattr(bound, "GLOP_MAX_VARIABLES", 0)
    data = generate_dataset(35, 2, 60, 4)
    instance = build_instance(data)
    result = lateness_lower_bound(instance, time_limit=5.0)
    exact = lateness_lower_bound(instance).weighted_days_late
    assert result.method in ("lp-time-indexed (PDLP)", "trivial")
    assert trivial_bound(instance) <= result.weighted_days_late <= exact


def test_no_orders_no_lateness():
    result = lateness_lower_bound(build_instance(tiny_dataset([])))
    assert result == LowerBound(0, "trivial", result.seconds)
