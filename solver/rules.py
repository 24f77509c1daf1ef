"""The rules of PROBLEM.md as CP-SAT constraints: one function per rule family.

The exact model and the LNS sub-model (both :class:`solver.model.PlanModel`)
build their constraints from these functions, each taking ``(model, instance,
variables...)``. What differs between the two is what they give them: the
exact model every order over the whole horizon, no fixed runs and the stock of
``materials.csv`` and ``arrivals.csv``; the sub-model the freed orders, each
confined to a window of days, the runs of the rest of the plan and the stock
those leave. Each function's docstring states its rule in the words of
PROBLEM.md, and :mod:`solver.validation` checks the same sentence, so that
``grep`` finds the rule, its constraint and its check in one step.

Everything is stated on each line's working-minute axis (see
:mod:`solver.instance`) with linear rows and Booleans, without element
constraints (their expansion took half of every sub-solve's time):

* a run may only start where it fits: after its release, inside the horizon
  (or its window) and in a gap the fixed runs leave on the line;
* days late, holding and the kit's issue day are step functions of the run's
  first or last minute, written as thresholds on the axis: a Boolean for each
  day on which the function steps, tied to the run's position by one enforced
  inequality. The objective pushes each Boolean the cheap way and the rows
  force it where the run really ends, so the costs are exact.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.changeover import changeover_before
from solver.domain import COLLECTION_DAYS, Dataset, Order
from solver.instance import Candidate, Instance, Option
from solver.objective import Objective


@dataclass
class RunVars:
    """An order's run on one of its lines: whether it is the line chosen, and where it starts."""

    option: Option
    present: cp_model.IntVar
    start: cp_model.IntVar  # first working minute on the line's axis
    interval: cp_model.IntervalVar
    late_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (day's first minute, ends at/after)
    early_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (day's last minute, ends at/before)
    # minutes of changeover in front of the run, on a line whose runs are sequenced (None: none can arise)
    changeover: cp_model.IntVar | None = None
    cap_steps: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)  # (day's first minute, ends at/after)

    @property
    def line_id(self) -> str:
        return self.option.line_id

    @property
    def lead(self) -> cp_model.LinearExprT:
        """The run's start plus its changeover: its last minute is ``lead + option.minutes - 1``."""
        return self.start if self.changeover is None else self.start + self.changeover

    @property
    def end(self) -> cp_model.LinearExprT:
        """One past the run's last minute: changeover, setup and processing from ``start``."""
        return self.lead + self.option.minutes


@dataclass
class OrderVars:
    """An order's decisions, the days it may run on and the costs that follow."""

    candidate: Candidate
    scheduled: cp_model.IntVar
    first_day: int  # the window of days its run must lie in
    last_day: int
    options: dict[str, RunVars] = field(default_factory=dict)  # by line
    weighted_days_late: cp_model.LinearExprT = 0
    holding_days: cp_model.LinearExprT = 0
    changed: cp_model.LinearExprT | None = None  # only for orders of a previous plan
    max_weighted_days_late: int = 0
    max_holding_days: int = 0

    @property
    def order_id(self) -> str:
        return self.candidate.order_id


# -- lines and runs -----------------------------------------------------------------------


def run_start_domain(
    instance: Instance, option: Option, first_day: int, last_day: int, fixed: list[tuple[int, int]]
) -> cp_model.Domain | None:
    """No order starts before its earliest_start (when given) nor before the plan start.
    In_production orders keep the line given in pinned_line and start on that line's first working day on or after the plan start.
    Per line and date, the minutes of all orders add up to at most the capacity.

    The positions on the line's axis where the run may start: from its release
    (``option.earliest_position``; for an in-production or pinned order the first minute of its
    fixed day, and no later than that day's last minute: :func:`add_pins`) to the latest start
    that still ends inside the horizon, within ``[first_day, last_day]``, and where it fits between
    the ``fixed`` runs (sorted ``(start, end)`` pairs) that stay on the line. ``None``: nowhere.
    """
    axis = instance.axes[option.line_id]
    low = max(option.earliest_position, int(axis.start[first_day]))
    high = min(option.latest_position, int(axis.start[last_day + 1]) - option.minutes)
    intervals, cursor = [], low
    for start, end in fixed:
        if cursor > high:
            break
        if start - option.minutes >= cursor:
            intervals.append([cursor, min(high, start - option.minutes)])
        cursor = max(cursor, end)
    if cursor <= high:
        intervals.append([cursor, high])
    return cp_model.Domain.from_intervals(intervals) if intervals else None


def new_run(
    model: cp_model.CpModel,
    order_id: str,
    option: Option,
    domain: cp_model.Domain,
    max_changeover: int = 0,
    end_limit: int = 0,
) -> RunVars:
    """An order runs on one line, without interruption except by non-working time.

    The run is an optional interval on the line's working-minute axis, starting at a position of
    ``domain`` (:func:`run_start_domain`), of the minutes the order needs there:
    On line l the order needs round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour) minutes.
    Being one interval on that axis, it keeps the day-bucket rules by construction:
    Its production days are consecutive working days of that line (days with capacity > 0).
    Every day strictly between its first and its last day is filled entirely by it.
    On any day at most one order carries over from the day before and at most one carries on into the next.

    When a changeover of up to ``max_changeover`` minutes may stand in front of it
    (:func:`add_changeovers` says how long), the interval starts where the changeover begins and
    lasts changeover + ``option.minutes``, ending by ``end_limit``:
    On line l an order needs changeover + round(setup_hours * 60) + ceil(quantity * 60 / units_per_hour) minutes, the changeover first.
    """
    name = f"{order_id},{option.line_id}"
    present = model.new_bool_var(f"present[{name}]")
    start = model.new_int_var_from_domain(domain, f"start[{name}]")
    if max_changeover <= 0:
        interval = model.new_optional_fixed_size_interval_var(start, option.minutes, present, f"run[{name}]")
        return RunVars(option, present, start, interval)
    changeover = model.new_int_var(0, max_changeover, f"changeover[{name}]")
    end = model.new_int_var(domain.min() + option.minutes, end_limit, f"end[{name}]")
    size = changeover + option.minutes
    interval = model.new_optional_interval_var(start, size, end, present, f"run[{name}]")
    return RunVars(option, present, start, interval, changeover=changeover)


def add_line_choice(model: cp_model.CpModel, order: OrderVars) -> None:
    """A product can be made on the lines listed for it in routings.csv; an order runs on one line, or is unscheduled."""
    model.add(sum(run.present for run in order.options.values()) == order.scheduled)


def add_no_overlap(model: cp_model.CpModel, orders: Iterable[OrderVars]) -> None:
    """Per line and date, the minutes of all orders add up to at most the capacity.

    The runs placed here never overlap on a line's axis; runs that stay put are outside every
    start domain already (:func:`run_start_domain`).
    """
    by_line: dict[str, list[cp_model.IntervalVar]] = {}
    for order in orders:
        for line_id, run in order.options.items():
            by_line.setdefault(line_id, []).append(run.interval)
    for intervals in by_line.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)


def add_pins(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """A confirmed order with pinned_line and pinned_start runs on that line and its first production day is pinned_start.
    In_production orders keep the line given in pinned_line and start on that line's first working day on or after the plan start.

    Both are one rule family: a start day the run must keep (``Option.fixed_start_day``, set for
    those orders only, on their pinned line only: :func:`solver.instance.build_instance` offers no
    other line). The start domain (:func:`run_start_domain`) already lies inside that day; the rows
    here state it again on the variables, so a window or a domain built some other way can never
    move a pinned run. A pin the plan cannot keep leaves the order unscheduled (level 1), never
    the plan infeasible.
    """
    for run in order.options.values():
        day = run.option.fixed_start_day
        if day is None:
            continue
        axis = instance.axes[run.line_id]
        model.add(run.start >= int(axis.start[day])).only_enforce_if(run.present)
        model.add(run.start < int(axis.start[day + 1])).only_enforce_if(run.present)


# -- changeovers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedRun:
    """A run of the rest of the plan that stays put (LNS sub-model): where it starts (its
    changeover's first minute), one past its last minute, and the changeover it has now."""

    order: Order
    start: int
    end: int
    changeover: int


def line_families(dataset: Dataset, line_id: str, orders: Iterable[Order]) -> list[str]:
    """The families the line may be set up for: its initial family and those of ``orders``
    ("" stands for no family, as for a line without ``initial_family``)."""
    families = {dataset.line_by_id[line_id].initial_family}
    families.update(dataset.family_of(o.product_id) for o in orders)
    return sorted(families)


def max_changeover(dataset: Dataset, line_id: str, families: Iterable[str], order: Order) -> int:
    """The longest changeover that may stand in front of ``order`` on the line."""
    return max((changeover_before(dataset, line_id, f, order) for f in families), default=0)


def sequenced_lines(dataset: Dataset, orders_by_line: Mapping[str, Collection[Order]]) -> set[str]:
    """The lines on which some run may pay a changeover: only there are runs sequenced, so a
    plant without changeovers (or with the gate off) gets exactly the model it always had."""
    lines = set()
    for line_id, orders in orders_by_line.items():
        families = line_families(dataset, line_id, orders)
        if any(max_changeover(dataset, line_id, families, o) > 0 for o in orders):
            lines.add(line_id)
    return lines


@dataclass
class _Node:
    """A run of a sequenced line as a node of its circuit (the depot is node 0, ``order`` None)."""

    order: Order | None
    family: str  # its product's family; "" none: the line keeps the family it had
    present: cp_model.LinearExprT  # 1 for the depot and fixed runs
    start: cp_model.LinearExprT
    end: cp_model.LinearExprT
    earliest_start: int
    latest_start: int
    earliest_end: int
    latest_end: int
    changeover: cp_model.IntVar | int  # an IntVar for a placed run that may pay one, else its minutes
    fixed: bool = False


@dataclass
class LineSequence:
    """The circuit of one sequenced line, kept for hints: its nodes, the arc Booleans (i, j):
    j directly follows i, and the Booleans that carry the line's family across runs of
    products without a family."""

    line_id: str
    nodes: list[_Node]
    arcs: dict[tuple[int, int], cp_model.IntVar]
    carried: dict[tuple[int, str], cp_model.IntVar]
    via_familyless: dict[tuple[int, int], cp_model.IntVar]
    depot_alone: cp_model.IntVar


def add_changeovers(
    model: cp_model.CpModel,
    instance: Instance,
    line_id: str,
    runs: list[tuple[Order, RunVars]],
    fixed: list[FixedRun],
) -> LineSequence:
    """When an order follows, on the same line, an order of another family, the line spends the changeover minutes of that pair before the order's own setup.
    "Follows" is the order of runs on the line by start. The first run on a line follows the line's initial_family when given, else nothing (no changeover).
    An in_production order has no changeover in front of it and sets the line's family for the run after it.
    A product without a family causes no changeover and leaves the line's family as it was.

    The line's runs form one circuit (``add_circuit``) through a depot whose family is the
    line's ``initial_family``; a run not on the line loops on itself. An arc (i, j) says that j
    directly follows i: then j starts at or after i's end, and j's changeover (its
    ``RunVars.changeover``) is the one :func:`solver.changeover.changeover_before` gives after
    i's family. A product without a family passes the family before it on (``carried``).

    ``fixed`` runs (sorted by start) stay where they are with the changeover they have: a
    freed run may go in front of one only when it leaves that changeover as it is, so the rest
    of the plan keeps its positions, lengths and costs (the neighbourhood search accepts a
    sub-plan on the freed orders' costs alone).

    Arcs are made only where j can follow i directly: j can start after i's earliest end, and
    no fixed run lies necessarily between them. Every run between the same pair of fixed runs
    still gets an arc to every other, so the circuit is exact, not a restriction.
    """
    dataset = instance.dataset
    nodes = _sequence_nodes(instance, line_id, runs, fixed)
    families = line_families(dataset, line_id, [n.order for n in nodes if n.order is not None])
    fixed_starts = [f.start for f in fixed]
    arcs: dict[tuple[int, int], cp_model.IntVar] = {}
    for i, before in enumerate(nodes):
        for j, after in enumerate(nodes):
            if i == j or not (i == 0 or j == 0 or _may_follow(before, after, fixed, fixed_starts)):
                continue
            keeps = not (j and after.fixed and (i == 0 or before.family))
            if keeps or _changeover(dataset, line_id, before, after) == after.changeover:
                arcs[i, j] = model.new_bool_var(f"follows[{line_id},{i},{j}]")  # (else: a fixed run's would change)
    carried = _carry_families(model, nodes, arcs, families, line_id)
    via_familyless = _changeover_lengths(model, instance, line_id, nodes, arcs, carried, families)
    depot_alone = model.new_bool_var(f"empty[{line_id}]")
    circuit = [(i, j, lit) for (i, j), lit in arcs.items()]
    circuit.append((0, 0, depot_alone))
    if fixed:
        model.add(depot_alone == 0)
    for index, node in enumerate(nodes[1:], start=1):
        if not node.fixed:
            circuit.append((index, index, ~node.present))
            model.add_implication(node.present, ~depot_alone)
    model.add_circuit(circuit)
    for (i, j), lit in arcs.items():
        if i and j:  # the successor starts at or after the predecessor's end
            model.add(nodes[j].start >= nodes[i].end).only_enforce_if(lit)
    return LineSequence(line_id, nodes, arcs, carried, via_familyless, depot_alone)


def _sequence_nodes(
    instance: Instance, line_id: str, runs: list[tuple[Order, RunVars]], fixed: list[FixedRun]
) -> list[_Node]:
    dataset, axis = instance.dataset, instance.axes[line_id]
    initial = dataset.line_by_id[line_id].initial_family
    nodes = [_Node(None, initial, 1, 0, 0, 0, 0, 0, 0, 0, fixed=True)]
    for order, run in runs:
        domain, minutes = list(run.start.proto.domain), run.option.minutes
        earliest, latest = domain[0], domain[-1]
        most = 0 if run.changeover is None else int(run.changeover.proto.domain[-1])
        changeover = 0 if run.changeover is None else run.changeover
        latest_end = min(axis.total, latest + most + minutes)
        family = dataset.family_of(order.product_id)
        nodes.append(
            _Node(
                order,
                family,
                run.present,
                run.start,
                run.end,
                earliest,
                latest,
                earliest + minutes,
                latest_end,
                changeover,
            )
        )
    for f in fixed:
        family = dataset.family_of(f.order.product_id)
        nodes.append(
            _Node(f.order, family, 1, f.start, f.end, f.start, f.start, f.end, f.end, f.changeover, fixed=True)
        )
    return nodes


def _may_follow(before: _Node, after: _Node, fixed: list[FixedRun], fixed_starts: list[int]) -> bool:
    """Whether ``after`` may directly follow ``before``: it can start once ``before`` ends, and
    no fixed run lies surely between them. Of the fixed runs that start after ``before`` has
    surely ended, the first ends first (they never overlap): if even it ends before ``after``
    can start, it stands between them."""
    if before.earliest_end > after.latest_start:
        return False
    index = bisect.bisect_left(fixed_starts, before.latest_end)
    return not (index < len(fixed) and fixed[index].end <= after.earliest_start)


def _changeover(dataset: Dataset, line_id: str, before: _Node, after: _Node) -> int:
    """Minutes in front of ``after`` when it follows ``before`` (which has a family, or is the depot)."""
    assert after.order is not None
    return changeover_before(dataset, line_id, before.family, after.order)


def _carry_families(
    model: cp_model.CpModel,
    nodes: list[_Node],
    arcs: dict[tuple[int, int], cp_model.IntVar],
    families: list[str],
    line_id: str,
) -> dict[tuple[int, str], cp_model.IntVar]:
    """A product without a family leaves the line's family as it was: for each such run, one
    Boolean per family says which one the line still has after it."""
    carried: dict[tuple[int, str], cp_model.IntVar] = {}
    familyless = [k for k, node in enumerate(nodes) if k and not node.family]
    for k in familyless:
        for family in families:
            carried[k, family] = model.new_bool_var(f"carried[{line_id},{k},{family}]")
        model.add(sum(carried[k, f] for f in families) == nodes[k].present)
    for (i, k), arc in arcs.items():
        if k not in familyless:
            continue
        if i == 0 or nodes[i].family:
            model.add_implication(arc, carried[k, nodes[i].family])
        else:
            for family in families:
                model.add_bool_or([~arc, ~carried[i, family], carried[k, family]])
    return carried


def _changeover_lengths(
    model: cp_model.CpModel,
    instance: Instance,
    line_id: str,
    nodes: list[_Node],
    arcs: dict[tuple[int, int], cp_model.IntVar],
    carried: dict[tuple[int, str], cp_model.IntVar],
    families: list[str],
) -> dict[tuple[int, int], cp_model.IntVar]:
    """Each run's changeover: a sum of its incoming arcs × the minutes after each predecessor's
    family; after a run without a family, the minutes after the family it carried. A fixed
    run's changeover must stay what it is."""
    dataset = instance.dataset
    via_familyless: dict[tuple[int, int], cp_model.IntVar] = {}
    terms: dict[int, list[cp_model.LinearExprT]] = {}
    for (i, j), arc in arcs.items():
        after = nodes[j]
        if j == 0 or (not after.fixed and not isinstance(after.changeover, cp_model.IntVar)):
            continue  # the depot, or a run that never pays one
        if i == 0 or nodes[i].family:
            if not after.fixed:
                terms.setdefault(j, []).append(_changeover(dataset, line_id, nodes[i], after) * arc)
            continue
        assert after.order is not None
        minutes = {f: changeover_before(dataset, line_id, f, after.order) for f in families}
        if after.fixed:  # the family carried into a fixed run must leave its changeover as it is
            for family in families:
                if minutes[family] != after.changeover:
                    model.add_bool_or([~arc, ~carried[i, family]])
            continue
        length = model.new_int_var(0, max(minutes.values()), f"changeover_after[{line_id},{i},{j}]")
        for family in families:
            model.add(length == minutes[family]).only_enforce_if([arc, carried[i, family]])
        model.add(length == 0).only_enforce_if(~arc)
        via_familyless[i, j] = length
        terms.setdefault(j, []).append(length)
    for j, node in enumerate(nodes):
        if j and not node.fixed and isinstance(node.changeover, cp_model.IntVar):
            model.add(node.changeover == sum(terms.get(j, [])))
    return via_familyless


def hint_changeovers(
    model: cp_model.CpModel, instance: Instance, sequence: LineSequence, starts: Mapping[str, int]
) -> dict[str, int]:
    """Hint a line's circuit with a plan's runs on it (``starts`` by order; the fixed runs are
    where they are): arcs between consecutive runs, the changeovers and carried families.
    Returns the changeover in front of each placed run, by order."""
    placed = []
    for index, node in enumerate(sequence.nodes[1:], start=1):
        if node.fixed:
            placed.append((node.earliest_start, index))
        elif node.order is not None and node.order.order_id in starts:
            placed.append((starts[node.order.order_id], index))
    order = [0, *(index for _, index in sorted(placed))]
    follows = set(zip(order, [*order[1:], 0], strict=True)) if len(order) > 1 else set()
    for (i, j), arc in sequence.arcs.items():
        model.add_hint(arc, (i, j) in follows)
    model.add_hint(sequence.depot_alone, len(order) == 1)
    family, carried_by, changeovers = sequence.nodes[0].family, {}, {}
    for before, index in itertools.pairwise(order):
        node = sequence.nodes[index]
        assert node.order is not None
        minutes = changeover_before(instance.dataset, sequence.line_id, family, node.order)
        changeovers[node.order.order_id] = minutes
        if isinstance(node.changeover, cp_model.IntVar):
            model.add_hint(node.changeover, minutes)
        if (before, index) in sequence.via_familyless:
            model.add_hint(sequence.via_familyless[before, index], minutes)
        family = node.family or family
        carried_by[index] = family
    for (i, j), length in sequence.via_familyless.items():
        if (i, j) not in follows:
            model.add_hint(length, 0)
    for (k, f), lit in sequence.carried.items():
        model.add_hint(lit, carried_by.get(k) == f)
    return changeovers


# -- inspection and dispatch capacity ------------------------------------------------------------


def add_inspection_cap(
    model: cp_model.CpModel, instance: Instance, orders: Iterable[OrderVars], cap: int, fixed_end_days: Iterable[int]
) -> None:
    """On every date, the orders whose inspection falls on it are at most the cap (inspection_orders_per_day).

    Inspection stays the first plant working day after the last production day, so the cap
    limits how many runs may end before each working day. ``fixed_end_days``: the last
    production days of the runs that stay put (LNS sub-model), which take their share first.
    """
    inspection = instance.calendar.next_working_day[: instance.horizon]
    _add_daily_cap(model, instance, orders, inspection, cap, fixed_end_days, "inspected")


def add_dispatch_cap(
    model: cp_model.CpModel, instance: Instance, orders: Iterable[OrderVars], cap: int, fixed_end_days: Iterable[int]
) -> None:
    """On every date, the orders whose dispatch falls on it are at most the cap (dispatch_orders_per_day).

    Dispatch stays the first plant working day after inspection: a step function of the last
    production day like inspection, capped the same way.
    """
    _add_daily_cap(model, instance, orders, instance.calendar.dispatch_by_end_day, cap, fixed_end_days, "dispatched")


def _add_daily_cap(
    model: cp_model.CpModel,
    instance: Instance,
    orders: Iterable[OrderVars],
    day_by_end_day: np.ndarray,
    cap: int,
    fixed_end_days: Iterable[int],
    what: str,
) -> None:
    """At most ``cap`` orders a day whose ``day_by_end_day[last production day]`` is that day.

    Per run, the possible last production days (working days of its line in its window) fall
    into groups of one inspection (dispatch) day; a Boolean per group boundary says "ends at or
    after it", exact both ways (the cap would otherwise tempt the solver to misreport). Being
    in group k is the difference of two of them; each day's row sums those over the runs.
    """
    taken: dict[int, int] = {}
    for end_day in fixed_end_days:
        day = int(day_by_end_day[end_day])
        if day >= 0:
            taken[day] = taken.get(day, 0) + 1
    counted: dict[int, list[cp_model.LinearExprT]] = {}
    for order in orders:
        for run in order.options.values():
            for day, indicator in _end_groups(model, instance, order, run, day_by_end_day):
                counted.setdefault(day, []).append(indicator)
    for day, indicators in sorted(counted.items()):
        model.add(sum(indicators) <= max(0, cap - taken.get(day, 0))).with_name(f"{what}[{day}]")


def _end_groups(
    model: cp_model.CpModel, instance: Instance, order: OrderVars, run: RunVars, day_by_end_day: np.ndarray
) -> list[tuple[int, cp_model.LinearExprT]]:
    """(day, 1 when the run ends in the group of end days mapped to it) for each group."""
    axis = instance.axes[run.line_id]
    end_days = [d for d in range(order.first_day, order.last_day + 1) if axis.capacity[d] > 0]
    groups: list[tuple[int, int]] = []  # (first end day of the group, its mapped day)
    for end_day in end_days:
        mapped = int(day_by_end_day[end_day])
        if not groups or groups[-1][1] != mapped:
            groups.append((end_day, mapped))
    if not groups:
        return []
    steps: list[cp_model.LinearExprT] = [run.present]
    for first_end_day, _ in groups[1:]:
        steps.append(_ends_at_or_after(model, run, int(axis.start[first_end_day])))
    steps.append(0)
    return [(mapped, steps[k] - steps[k + 1]) for k, (_, mapped) in enumerate(groups) if mapped >= 0]


def _ends_at_or_after(model: cp_model.CpModel, run: RunVars, first_minute: int) -> cp_model.IntVar:
    """A Boolean: the run is chosen and its last minute is at or after ``first_minute`` (exact
    both ways). The lateness threshold at the same minute is reused, made exact."""
    step = next((s for m, s in run.cap_steps if m == first_minute), None)
    if step is not None:
        return step
    step = next((s for m, s in run.late_steps if m == first_minute), None)
    minutes = run.option.minutes
    if step is None:
        step = model.new_bool_var("")
        model.add(run.lead <= first_minute - minutes).only_enforce_if([~step, run.present])
    model.add_implication(step, run.present)
    model.add(run.lead >= first_minute - minutes + 1).only_enforce_if(step)
    run.cap_steps.append((first_minute, step))
    return step


# -- after production: delivery, lateness, holding -------------------------------------------


def add_days_late(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """Inspection takes place on the first plant working day strictly after the last production day.
    Dispatch takes place on the first plant working day strictly after inspection.
    Delivery is dispatch plus the customer's transit_days calendar days.
    Days late is max(0, delivery - due_date) in calendar days.

    Sets ``order.weighted_days_late`` to priority × days late of the run's last production day
    (the delivery table by end day, :meth:`~solver.instance.Instance.delivery_days`, holds the time
    rules): it only grows with that day, so it is the cost of the window's first day plus one
    threshold per day on which it grows.
    """
    candidate = order.candidate
    late = candidate.priority * np.maximum(0, instance.delivery_days(candidate) - candidate.due_day)
    window = np.maximum.accumulate(late[order.first_day : order.last_day + 1])
    order.max_weighted_days_late = int(window[-1])
    order.weighted_days_late = sum(
        _cost_by_end_day(model, instance, order, run, window, growing=True) for run in order.options.values()
    )


def add_holding(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> None:
    """Holding: days between delivery and due date beyond the 7 days within which customers must collect.

    Sets ``order.holding_days``: it only shrinks as the last production day moves later, so it is
    the cost of the window's last day plus one threshold per day on which it shrinks.
    """
    candidate = order.candidate
    hold = np.maximum(0, candidate.due_day - instance.delivery_days(candidate) - COLLECTION_DAYS)
    window = np.maximum.accumulate(hold[order.first_day : order.last_day + 1][::-1])[::-1]
    order.max_holding_days = int(window[0])
    order.holding_days = sum(
        _cost_by_end_day(model, instance, order, run, window, growing=False) for run in order.options.values()
    )


def end_day_expression(model: cp_model.CpModel, instance: Instance, order: OrderVars) -> cp_model.LinearExprT:
    """The last production day of the order's run (0 when unscheduled), to minimise."""
    days = np.arange(order.first_day, order.last_day + 1)
    return sum(_cost_by_end_day(model, instance, order, run, days, growing=True) for run in order.options.values())


def _cost_by_end_day(
    model: cp_model.CpModel, instance: Instance, order: OrderVars, run: RunVars, cost: np.ndarray, *, growing: bool
) -> cp_model.LinearExprT:
    """``cost[d - first_day]`` for the day ``d`` of the run's last minute, when the run is chosen;
    ``cost`` is non-decreasing (``growing``) or non-increasing over the window."""
    axis, minutes = instance.axes[run.line_id], run.option.minutes
    base = int(cost[0] if growing else cost[-1])
    terms: list[cp_model.LinearExprT] = [base * run.present] if base else []
    for offset in np.flatnonzero(np.diff(cost)):
        day = order.first_day + int(offset) + (1 if growing else 0)
        step = model.new_bool_var("")
        if growing:  # not step => the run's last minute falls before the day's first
            first_minute = int(axis.start[day])
            model.add(run.lead <= first_minute - minutes).only_enforce_if([~step, run.present])
            run.late_steps.append((first_minute, step))
        else:  # not step => the run's last minute falls after the day's last
            last_minute = int(axis.start[day + 1]) - 1
            model.add(run.lead >= last_minute + 2 - minutes).only_enforce_if([~step, run.present])
            run.early_steps.append((last_minute, step))
        terms.append(abs(int(cost[offset + 1] - cost[offset])) * step)
    return sum(terms)


def add_deliver_by(instance: Instance, model: cp_model.CpModel, order: OrderVars, day: int) -> None:
    """The order delivers on or before ``day``: its run ends by the last production day from
    which it still does (order review: a committed order delivers no later than promised)."""
    deliveries = instance.delivery_days(order.candidate)
    in_time = np.flatnonzero((deliveries >= 0) & (deliveries <= day))
    last_end = int(in_time[-1]) if len(in_time) else -1
    for run in order.options.values():
        end = int(instance.axes[run.line_id].start[last_end + 1])
        model.add(run.lead <= end - run.option.minutes).only_enforce_if(run.present)


# -- materials ------------------------------------------------------------------------------


def kit_users(orders: Iterable[OrderVars]) -> dict[str, list[OrderVars]]:
    """The orders whose kit takes each material (in_production orders already have theirs)."""
    users: dict[str, list[OrderVars]] = {}
    for order in orders:
        for material_id in order.candidate.material_need:
            users.setdefault(material_id, []).append(order)
    return users


def add_kitting(
    model: cp_model.CpModel,
    instance: Instance,
    material_id: str,
    users: list[OrderVars],
    left: np.ndarray,
    started: dict[tuple[str, int], cp_model.LinearExprT],
) -> None:
    """For every material and every date d, the materials issued to orders starting on or before d add up to at most what is available up to d.

    ``left`` is what is available up to each day, less what the runs that stay put took; the
    rows are kept on the days they can bind: the day before ``left`` rises, and from the users'
    last day on (no more is issued then) one row against the least left. ``started`` caches the
    "starts on or before day d" Booleans an order shares among its materials.
    """
    first = min(o.first_day for o in users)
    last = max(o.last_day for o in users)
    rises = np.flatnonzero(np.diff(left) > 0)
    rows = [(int(d), int(left[d])) for d in rises if first <= d < last]
    rows.append((last, int(left[last:].min())))
    for day, available in rows:
        issued = []
        for order in users:
            key = (order.order_id, day)
            if key not in started:
                started[key] = _started_by(model, instance, order, day)
            issued.append(order.candidate.material_need[material_id] * started[key])
        model.add(sum(issued) <= available)


def _started_by(model: cp_model.CpModel, instance: Instance, order: OrderVars, day: int) -> cp_model.LinearExprT:
    """1 when the order's run starts on or before ``day`` (its kit is issued by then)."""
    if day < order.first_day:
        return 0
    if day >= order.last_day:
        return order.scheduled
    started = model.new_bool_var("")
    for line_id, run in order.options.items():
        next_day_first_minute = int(instance.axes[line_id].start[day + 1])
        model.add(run.start >= next_day_first_minute).only_enforce_if([~started, run.present])
    model.add_implication(started, order.scheduled)
    return started


# -- plan stability ----------------------------------------------------------------------------


def add_plan_change(
    model: cp_model.CpModel, instance: Instance, order: OrderVars, previous: tuple[str, int], *, frozen: bool
) -> None:
    """Orders whose line or start day changes against the previous plan are counted (plan stability).

    Orders starting inside the frozen window (frozen_days working days from the plan start) keep their line and start exactly.
    The model enforces it when ``frozen``. ``previous`` is the previous plan's line and start day.
    Sets ``order.changed``.
    """
    line_id, start_day = previous
    run = order.options.get(line_id)
    if run is None or not order.first_day <= start_day <= order.last_day:
        order.changed = 1  # the previous run cannot be kept here
        return
    unchanged = model.new_bool_var(f"unchanged[{order.order_id}]")
    model.add_implication(unchanged, run.present)
    axis = instance.axes[line_id]
    model.add(run.start >= int(axis.start[start_day])).only_enforce_if(unchanged)
    model.add(run.start < int(axis.start[start_day + 1])).only_enforce_if(unchanged)
    if frozen:
        model.add(unchanged == 1)
    order.changed = 1 - unchanged


# -- the objective --------------------------------------------------------------------------------


def unscheduled_priority(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 1: Σ priority over unscheduled orders."""
    return sum(o.candidate.priority * (1 - o.scheduled) for o in orders)


def weighted_days_late(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 2: Σ priority × days_late."""
    return sum(o.weighted_days_late for o in orders)


def changed_orders(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 3: orders whose line or start day changes against the previous plan are counted (plan stability)."""
    return sum(o.changed for o in orders if o.changed is not None)


def holding_days(orders: Iterable[OrderVars]) -> cp_model.LinearExprT:
    """Level 4, holding: days between delivery and due date beyond the 7 days within which customers must collect."""
    return sum(o.holding_days for o in orders)


def lateness_weight(orders: Iterable[OrderVars]) -> int:
    """One priority point unscheduled outweighs any possible lateness."""
    return 1 + sum(o.max_weighted_days_late for o in orders)


def primary_objective(orders: Collection[OrderVars]) -> cp_model.LinearExprT:
    """Levels 1 and 2 as one expression: unscheduled priority, then weighted days late."""
    return lateness_weight(orders) * unscheduled_priority(orders) + weighted_days_late(orders)


def secondary_objective(orders: Collection[OrderVars]) -> cp_model.LinearExprT:
    """Levels 3 and 4 as one expression: changed orders, then holding days."""
    holding_weight = 1 + sum(o.max_holding_days for o in orders)
    return holding_weight * changed_orders(orders) + holding_days(orders)


def keep_primary(model: cp_model.CpModel, orders: Collection[OrderVars], at_most: Objective) -> None:
    """Levels 1-2 no worse than ``at_most`` while levels 3-4 are minimised."""
    model.add(primary_objective(orders) <= at_most.primary_value(lateness_weight(orders)))
