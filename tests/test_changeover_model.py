"""Changeovers and the daily inspection / dispatch caps in the CP-SAT models, worked by hand.

PROBLEM.md, "Changeovers" and "Inspection and dispatch capacity". Conventions of
``tests/conftest.py``: the plan starts on Monday 2026-11-30 (day 0), Mon-Fri, one line
``L1`` of 480 minutes a day, so day ``d`` covers positions ``[480 d, 480 d + 480)``; every
product runs at 60 units/h (one unit a minute) without setup. A run that ends on day ``d``
is inspected on the next working day and dispatched on the one after (no transit), so
ending Monday delivers Wednesday 12-02, Tuesday -> Thursday 12-03, Wednesday -> Friday
12-04, Thursday -> Monday 12-07.

Each test solves the model (:class:`solver.model.ScheduleModel` or the LNS sub-model) with
the gate on and asserts on the assignments and the objective it returns. The schedule
document of those assignments (built by :func:`solver.solution.build_schedule`) then goes
through :func:`solver.validation.validate_schedule`: VALIDATOR-DEPENDENT. Until the
changeover-aware builder and validator (branch co-solution) are merged, the document lays
each run out without its changeover (it has no ``changeover_minutes``) and the validator
ignores the caps: :func:`assert_document_valid` then reports the test as xfailed, by name,
instead of checking a document that cannot be right; once merged the same lines check it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from ortools.sat.python import cp_model

from solver import domain
from solver.changeover import line_changeovers
from solver.domain import Changeover, Dataset, Product
from solver.instance import Instance, build_instance
from solver.lns import Neighbourhood, PlanState
from solver.model import Baseline, NeighbourhoodModel, ScheduleModel
from solver.solution import Assignment, build_schedule
from solver.validation import validate_schedule
from tests.conftest import order, tiny_dataset

DAY = 480  # minutes of L1 a day
FAMILIES = {"A1": "A", "A2": "A", "B1": "B", "X": ""}
ROUTINGS = [(p, "L1", 60.0) for p in FAMILIES]


@pytest.fixture(autouse=True)
def planned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", True)


def with_families(dataset: Dataset, initial: str = "", changeover: int = DAY, **plant: Any) -> Dataset:
    """The dataset with the families of FAMILIES, A<->B changeovers of ``changeover`` minutes,
    the line's ``initial`` family and ``plant`` fields (the caps)."""
    return dataset.replace(
        products=[Product(p, family=FAMILIES.get(p, "")) for p in (x.product_id for x in dataset.products)],
        lines=[dataclasses.replace(line, initial_family=initial) for line in dataset.lines],
        changeovers=[Changeover("A", "B", changeover), Changeover("B", "A", changeover)],
        plant=dataclasses.replace(dataset.plant, **plant),
    )


def solve_model(instance: Instance) -> tuple[dict[str, Assignment], int, str]:
    """Levels 1-2 of the exact model: assignments, weighted days late, status."""
    model = ScheduleModel(instance)
    model.model.minimize(model.primary_objective())
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10.0
    solver.parameters.num_workers = 2
    status = solver.solve(model.model)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    assert solver.value(model.unscheduled_priority()) == 0
    return model.assignments(solver), int(solver.value(model.weighted_days_late())), solver.status_name(status)


def last_minute(instance: Instance, assignment: Assignment, changeover: int) -> int:
    """The run's last working minute: changeover, then its own minutes, from ``start``."""
    option = next(o for o in instance.candidates if o.order_id == assignment.order_id).options[0]
    return assignment.start + changeover + option.minutes - 1


def end_day(instance: Instance, assignment: Assignment, changeover: int) -> int:
    return instance.axes["L1"].day_of(last_minute(instance, assignment, changeover))


def in_start_order(assignments: dict[str, Assignment]) -> list[str]:
    return [a.order_id for a in sorted(assignments.values(), key=lambda a: a.start)]


def assert_document_valid(dataset: Dataset, instance: Instance, assignments: dict[str, Assignment], late: int) -> None:
    """VALIDATOR-DEPENDENT: the document of these runs passes the independent validator and
    states the model's weighted days late."""
    schedule = build_schedule(instance, assignments, {}, status="OPTIMAL")
    runs = [dataset.order_by_id[o] for o in in_start_order(assignments)]
    expected = dict(zip((o.order_id for o in runs), line_changeovers(dataset, "L1", runs), strict=True))
    written = {entry["order_id"]: entry["changeover_minutes"] for entry in schedule["orders"]}
    if any(expected.values()) and not any(written.values()):
        # main's builder writes changeover_minutes 0 for every run ("no changeover model yet")
        pytest.xfail("VALIDATOR-DEPENDENT: needs the changeover-aware schedule builder and validator (co-solution)")
    assert written == expected
    violations = validate_schedule(dataset, schedule)
    assert not violations, "\n".join(str(v) for v in violations)
    assert schedule["objective"]["weighted_days_late"] == late


# -- (a) a changeover that makes grouping pay ------------------------------------------------


def grouping_dataset() -> Dataset:
    """A1, B1, A2: 240 minutes each, all due Wednesday 12-02; A<->B changeover a full day.

    Grouped, A1 and A2 fill Monday (delivered Wednesday, on time); B1 pays 480 minutes of
    changeover from Tuesday's first minute and ends Wednesday at minute 1199: delivered
    Friday 12-04, 2 days late. Total 2.
    Alternated, A1 (Monday, 0) - B1 (changeover 240-720, runs to 959: Tuesday, 1 day late) -
    A2 (changeover from 960, runs to 1679: Thursday, delivered Monday 12-07, 5 late): 6.
    B1 first (no initial family, so no changeover): B1 Monday (0), then A pays a day: A1 or A2
    ends Tuesday (1) and the other Wednesday (2): 3. So 2 is the optimum, with B1 last.
    Without changeovers all three fit into Monday and Tuesday's first half: 1.
    """
    orders = [order("A1", 240, "2026-12-02", "A1"), order("B1", 240, "2026-12-02", "B1")]
    orders.append(order("A2", 240, "2026-12-02", "A2"))
    return with_families(tiny_dataset(orders, routings=ROUTINGS))


def test_a_changeover_makes_grouping_pay() -> None:
    instance = build_instance(grouping_dataset())
    assignments, late, _ = solve_model(instance)
    assert late == 2
    assert in_start_order(assignments)[2] == "B1"  # both A runs first, then B
    b1 = assignments["B1"]
    assert b1.start >= DAY  # its changeover begins once the A runs are done
    assert end_day(instance, b1, DAY) == 2  # ... and with it, it ends on Wednesday


def test_without_the_gate_the_same_orders_cost_one_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", False)
    _, late, _ = solve_model(build_instance(grouping_dataset()))
    assert late == 1  # the changeovers were what made it 2


def test_grouping_document_is_valid() -> None:
    dataset = grouping_dataset()
    instance = build_instance(dataset)
    assignments, late, _ = solve_model(instance)
    assert_document_valid(dataset, instance, assignments, late)


# -- (b) a cap that moves an order's end ---------------------------------------------------------


def capped_dataset(**cap: int) -> Dataset:
    """O1 (priority 2) and O2 (priority 1), 240 minutes each, both due Wednesday 12-02.

    Both fit into Monday: inspected Tuesday, dispatched Wednesday, on time (0). With one
    order inspected (or dispatched) a day, only one may end Monday: the other ends Tuesday,
    is inspected Wednesday, dispatched Thursday, one day late. O2 weighs less: 1 × 1 = 1.
    """
    orders = [order("O1", 240, "2026-12-02", "A1", priority=2), order("O2", 240, "2026-12-02", "A2")]
    return with_families(tiny_dataset(orders, routings=ROUTINGS), **cap)


@pytest.mark.parametrize("cap", ["inspection_orders_per_day", "dispatch_orders_per_day"])
def test_a_cap_moves_an_order_s_end(cap: str) -> None:
    instance = build_instance(capped_dataset(**{cap: 1}))
    assignments, late, _ = solve_model(instance)
    assert late == 1
    ends = {o: end_day(instance, a, 0) for o, a in assignments.items()}
    assert ends == {"O1": 0, "O2": 1}  # O1 inspected Tuesday, O2 Wednesday
    inspection = instance.calendar.next_working_day
    assert [inspection[ends[o]] for o in ("O1", "O2")] == [1, 2]


def test_a_cap_that_does_not_bind() -> None:
    instance = build_instance(capped_dataset(inspection_orders_per_day=2, dispatch_orders_per_day=2))
    assignments, late, _ = solve_model(instance)
    assert late == 0
    assert {end_day(instance, a, 0) for a in assignments.values()} == {0}


def test_capped_document_is_valid() -> None:
    dataset = capped_dataset(inspection_orders_per_day=1)
    instance = build_instance(dataset)
    assignments, late, _ = solve_model(instance)
    assert_document_valid(dataset, instance, assignments, late)


# -- (c) an in-production order sets the line's family ------------------------------------------


def running_dataset() -> Dataset:
    """L1 was last set up for B; R (family A) is in production on it and fills Monday (480
    minutes); A2 and B1 (240 minutes each) are confirmed, due Wednesday 12-02, and may start
    from Tuesday (else B1 could go in front of R on Monday, free after the line's B, and push
    R into Tuesday: the model lets a run in production start anywhere on its day).

    R continues on Monday with no changeover in front of it (its line is already set up), and
    sets the line to A: A2 follows at minute 480 without changeover and ends Tuesday (1 late);
    B1 pays the day of changeover (720-1199) and ends Wednesday at 1439 (2 late). Total 3.
    B1 straight after R pays the changeover and ends Wednesday (2), A2 then another one and
    ends Thursday (5): 7. Had the line stayed B, R, B1, A2 would cost 1 + 2 = 3 and R, A2, B1
    4: the order of the runs tells the two apart. Had R paid B->A, it would end Tuesday.
    """
    orders = [
        order("R", 480, "2026-12-02", "A1", status="in_production", pinned_line="L1"),
        order("A2", 240, "2026-12-02", "A2", earliest_start="2026-12-01"),
        order("B1", 240, "2026-12-02", "B1", earliest_start="2026-12-01"),
    ]
    return with_families(tiny_dataset(orders, routings=ROUTINGS), initial="B")


def test_an_order_in_production_sets_the_line_s_family() -> None:
    instance = build_instance(running_dataset())
    assignments, late, _ = solve_model(instance)
    assert late == 3
    assert in_start_order(assignments) == ["R", "A2", "B1"]
    assert assignments["R"].start == 0
    assert end_day(instance, assignments["R"], 0) == 0  # no changeover from the line's B in front of it
    assert assignments["A2"].start == DAY  # straight after R: the line is set up for A
    assert end_day(instance, assignments["B1"], DAY) == 2


def test_running_document_is_valid() -> None:
    dataset = running_dataset()
    instance = build_instance(dataset)
    assignments, late, _ = solve_model(instance)
    assert_document_valid(dataset, instance, assignments, late)


# -- a product without a family leaves the line's family as it was ------------------------------


def test_a_product_without_a_family_carries_the_line_s_family() -> None:
    """L1 is set up for A. X (no family) is due Monday 11-30 (late whatever happens: priority 1,
    2 days at best when it ends Monday), A2 and B1 (240 minutes each) are due Wednesday.

    X 120 minutes first: no changeover (it has no family), the line stays A. Then A2 (no
    changeover: A after A, through X) ends at minute 359, Monday: 0; B1 pays 480: ends
    Wednesday (2). X: 2 days late. Total 4. Had X reset the line to "no family", A2 would
    be free either way; the carried family is what B1's changeover reads. Were X to count
    as a change of family, A2 would pay 480 too.
    """
    orders = [order("X", 120, "2026-11-30", "X"), order("A2", 240, "2026-12-02", "A2")]
    orders.append(order("B1", 240, "2026-12-02", "B1"))
    instance = build_instance(with_families(tiny_dataset(orders, routings=ROUTINGS), initial="A"))
    assignments, late, _ = solve_model(instance)
    assert late == 4
    assert in_start_order(assignments) == ["X", "A2", "B1"]
    assert assignments["A2"].start == 120
    assert end_day(instance, assignments["B1"], DAY) == 2


# -- the LNS sub-model: fixed runs keep their changeover --------------------------------------------


def test_the_sub_model_keeps_fixed_runs_changeovers() -> None:
    """A plan A1 (Monday 0-239), B1 (changeover 240-719, runs to 959: Tuesday), A2 (changeover
    960-1439, runs to 1679: Thursday): 0 + 1 + 5 = 6 days late. Free A2 only, in a window up to
    Friday: B1 stays with its changeover after A1, so A2 may not go between A1 and B1 (that
    would change B1's changeover); after B1 it pays the changeover again. Its best stays
    Thursday: the plan's 6. Free A2 and B1: the sub-model finds the grouped plan's 2.
    """
    dataset = grouping_dataset()
    instance = build_instance(dataset)
    plan = {"A1": Assignment("A1", "L1", 0), "B1": Assignment("B1", "L1", 240), "A2": Assignment("A2", "L1", 960)}
    state = PlanState(instance, Baseline({}), plan)
    assert [state.runs[o].changeover for o in ("A1", "B1", "A2")] == [0, DAY, DAY]
    assert [state.runs[o].end_day for o in ("A1", "B1", "A2")] == [0, 1, 3]
    assert state.total().weighted_days_late == 6
    for freed, best in (({"A2"}, 6), ({"A2", "B1"}, 2)):
        sub = NeighbourhoodModel(state, Neighbourhood("test", set(freed), 0, 4))
        sub.hint()
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = 10.0
        solver.parameters.num_workers = 1
        assert solver.solve(sub.model) == cp_model.OPTIMAL
        placed = sub.solution(solver)
        undo = state.move(placed)
        assert state.fits(placed)
        assert state.total().weighted_days_late == best, placed
        state.move(undo)


def test_the_sub_model_counts_fixed_runs_against_the_cap() -> None:
    """The capped plan of :func:`capped_dataset`: O1 ends Monday, O2 Tuesday (1 day late).
    Freed alone, O2 could fit into Monday after O1 (240-479) and be on time, but O1, which
    stays, already takes Tuesday's one inspection: O2 stays on Tuesday, 1 day late."""
    instance = build_instance(capped_dataset(inspection_orders_per_day=1))
    plan = {"O1": Assignment("O1", "L1", 0), "O2": Assignment("O2", "L1", DAY)}
    state = PlanState(instance, Baseline({}), plan)
    sub = NeighbourhoodModel(state, Neighbourhood("test", {"O2"}, 0, 4))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(sub.model) == cp_model.OPTIMAL
    line_id, start = sub.solution(solver)["O2"] or ("", -1)
    assert instance.axes[line_id].day_of(start + 240 - 1) == 1


def test_with_the_gate_off_the_model_is_the_one_without_changeovers_and_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changeovers and caps in the data change nothing, variable for variable, until the gate opens."""
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", False)
    orders = [
        order("A1", 240, "2026-12-02", "A1"),
        order("B1", 240, "2026-12-02", "B1"),
        order("X", 60, "2026-12-01", "X"),
    ]
    plain = tiny_dataset(orders, routings=ROUTINGS)
    full = with_families(plain, initial="B", inspection_orders_per_day=1, dispatch_orders_per_day=1)
    assert str(ScheduleModel(build_instance(full)).model.proto) == str(ScheduleModel(build_instance(plain)).model.proto)
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", True)  # and the test can tell
    assert str(ScheduleModel(build_instance(full)).model.proto) != str(ScheduleModel(build_instance(plain)).model.proto)
