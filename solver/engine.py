"""The planning entry point: dataset in, schedule document out.

``solve`` builds the instance and runs list scheduling. Up to
``EXACT_MAX_ORDERS`` orders it then solves the CP-SAT model in two
lexicographic stages (first unscheduled priority and weighted days late, then
plan changes and holding with the first stage's value kept), with the
sequence search improving the first stage's plan in between; beyond that, the
large-neighbourhood search. It returns the better of the search's and the
list schedule's plan, so a solve is never worse than EDD and never "just
infeasible".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ortools.sat.python import cp_model

from solver.bound import BoundSearch
from solver.domain import Dataset
from solver.heuristic import best_list_schedule, primary_objective, stable_schedule
from solver.holding import shift_later
from solver.instance import MATERIAL_SCALE, Candidate, Instance, build_instance, pin_label
from solver.lns import LargeNeighbourhoodSearch, LnsSettings, PlanState, improve_sequences
from solver.model import Baseline, ScheduleModel
from solver.objective import PRIMARY_LEVELS, Objective
from solver.sequence import SequenceBudget
from solver.solution import Assignment, build_schedule, schedule_objective

log = logging.getLogger(__name__)

# of the time limit: the lateness bound is searched in a thread for the first 70 % of the
# solve (sharing the search's cores; L's bound is 2,271 after 50 %, 2,299 after 70 %), and
# waited for at most BOUND_WAIT of it at the start and when asked after that
BOUND_SHARE, BOUND_WAIT = 0.7, 0.02
REPRODUCIBLE_SUBSOLVE_WORK = 0.2  # CP-SAT deterministic seconds per sub-solve when rounds are fixed
# beyond this many orders to place, neighbourhoods beat one model: at 300 orders (S) the
# model then the sequence search reach 307-308 where the LNS stops at 315-338; at 500 (M)
# the model is far behind (465-476 against 406)
EXACT_MAX_ORDERS = 300
# Lateness thresholds (one Boolean per option and day past the due date) the exact model's
# Python build makes per second on a loaded 2-core machine: 1,000 days x 289 orders took ~7 s.
EXACT_STEPS_PER_SECOND = 25_000
SEQUENCE_EVALUATIONS = 50_000  # sequence-search moves, when runs must be reproducible
FIRST_STAGE_SHARE = 0.5  # of the time left, for unscheduled + lateness; the rest for stability + holding


@dataclass(frozen=True)
class SolveParams:
    """How long and how to search. Every solve has a time limit, a worker count and a seed."""

    time_limit: float = 30.0
    workers: int = 2
    seed: int = 0
    frozen_days: int | None = None  # None: the plant's frozen_days
    log_search: bool = False
    method: str = "auto"  # "exact" (one CP-SAT model), "lns" (neighbourhoods), "auto" by size
    lns_rounds: int | None = None  # a fixed number of LNS rounds instead of the clock (reproducible)
    deterministic_time: float | None = None  # CP-SAT work limit per LNS sub-solve (reproducible)


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running solve, for progress bars and job status."""

    elapsed: float
    stage: str
    solutions: int
    objective: dict[str, int] | None = None
    bound: dict[str, int] | None = None


ProgressCallback = Callable[[Progress], None]


@dataclass
class SolveResult:
    schedule: dict[str, Any]
    status: str
    objective: dict[str, int]
    bound: dict[str, int]
    seconds: float
    baseline_objective: dict[str, int]  # the best list schedule's, for comparison
    timings: dict[str, float] = field(default_factory=dict)


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Streams solutions found to a progress callback and honours a stop request."""

    def __init__(self, solve: _Solve, model: ScheduleModel, stage: str):
        super().__init__()
        self._model, self._stage, self._started = model, stage, solve.started
        self._report, self._stop = solve.report, solve.stop
        self._unplaceable = solve.unplaceable_priority  # orders no plan can place are not in the model
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self._report:
            found = Objective(
                self._unplaceable + int(self.value(self._model.unscheduled_priority())),
                int(self.value(self._model.weighted_days_late())),
            )
            progress = Progress(time.monotonic() - self._started, self._stage, self.solutions, _primary_dict(found))
            self._report(progress)
        if self._stop is not None and self._stop.is_set():
            self.stop_search()


def _primary_dict(objective: Objective) -> dict[str, int]:
    """Levels 1-2 in the document's form, as progress reports and bounds give them."""
    return objective.as_dict(PRIMARY_LEVELS)


@dataclass(frozen=True)
class _Plan:
    """A plan a solve may return: its runs, the orders it leaves out (with reasons), its status and bound."""

    assignments: dict[str, Assignment]
    left_out: dict[str, str]
    status: str = "FEASIBLE"
    bound: Objective = field(default_factory=Objective)


def _solver(params: SolveParams, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.random_seed = params.seed
    solver.parameters.log_search_progress = params.log_search
    # light presolve: probing and symmetry search cost seconds on the element-heavy day mapping
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    solver.parameters.max_presolve_iterations = 1
    return solver


def _left_out_reasons(instance: Instance, assignments: dict[str, Assignment]) -> dict[str, str]:
    """Why each placeable order is still left out: a material the planned kits used up, or capacity."""
    left = _material_left_at_horizon_end(instance, assignments)
    reasons = {}
    for candidate in instance.candidates:
        if candidate.order_id in assignments:
            continue
        if candidate.order.has_manual_pin:
            reasons[candidate.order_id] = _pin_left_out_reason(instance, candidate, assignments)
            continue
        short = [m for m, quantity in sorted(candidate.material_need.items()) if quantity > left[m]]
        if short:
            detail = ", ".join(
                f"{m} (needs {candidate.material_need[m] / MATERIAL_SCALE:g}, {max(0, left[m]) / MATERIAL_SCALE:g} left)"
                for m in short
            )
            reasons[candidate.order_id] = f"material taken by orders of more priority or earlier due: {detail}"
            continue
        lines = ", ".join(o.line_id for o in candidate.options)
        minutes = min(o.minutes for o in candidate.options)
        reasons[candidate.order_id] = (
            f"no room for its {minutes} minutes on line(s) {lines} before the horizon end "
            "without leaving out orders of more priority"
        )
    return reasons


def _pin_left_out_reason(instance: Instance, candidate: Candidate, assignments: dict[str, Assignment]) -> str:
    """Why a pinned order is left out: the material its kit needs on the pinned day, or that day's room."""
    pin_day = candidate.earliest_day  # a pinned order's release is its pinned day
    by_id = {c.order_id: c for c in instance.candidates}
    short = []
    for material_id, quantity in sorted(candidate.material_need.items()):
        left = instance.material_available[material_id][pin_day:].copy()
        for order_id, assignment in assignments.items():
            kit_day = instance.axes[assignment.line_id].day_of(assignment.start)
            left[max(0, kit_day - pin_day) :] -= by_id[order_id].material_need.get(material_id, 0)
        if quantity > left.min():  # issuing on the pinned day must leave every later day covered
            short.append(
                f"{material_id} (needs {quantity / MATERIAL_SCALE:g}, {max(0, left.min()) / MATERIAL_SCALE:g} left)"
            )
    if short:
        return f"{pin_label(candidate.order)}: material taken by other orders: {', '.join(short)}"
    minutes = candidate.options[0].minutes
    return (
        f"{pin_label(candidate.order)}: no room for its {minutes} minutes on that day "
        "without leaving out orders of more priority (another pin or a run in production)"
    )


def _material_left_at_horizon_end(instance: Instance, assignments: dict[str, Assignment]) -> dict[str, int]:
    by_id = {c.order_id: c for c in instance.candidates}
    left = {m: int(available[-1]) for m, available in instance.material_available.items()}
    for order_id in assignments:
        for material_id, quantity in by_id[order_id].material_need.items():
            left[material_id] -= quantity
    return left


class _Solve:
    """One solve, stage by stage; keeps the best plan found so far."""

    def __init__(self, dataset: Dataset, params: SolveParams, previous: dict | None, report, stop):
        self.started = self._last_lap = time.monotonic()
        self.params, self.previous, self.report, self.stop = params, previous, report, stop
        self.timings: dict[str, float] = {}
        self.stages: dict[str, str] = {}  # CP-SAT status per lexicographic stage
        self._bound_search: BoundSearch | None = None
        self.instance = build_instance(dataset)
        orders = dataset.order_by_id
        self.unplaceable_priority = sum(orders[o].priority for o in self.instance.unplaceable)
        self.warnings = list(self.instance.warnings)
        self.timings["prepare"] = self._lap()
        frozen = params.frozen_days if params.frozen_days is not None else dataset.plant.frozen_days
        self.baseline = Baseline.from_schedule(self.instance, previous, frozen)
        self.frozen = {c.order_id: f for c in self.instance.candidates if (f := self.baseline.frozen(c.order_id))}
        self.list_plan = _Plan(*best_list_schedule(self.instance, self.frozen, self.baseline.line_and_start))
        self.timings["heuristic"] = self._lap()
        self.timings["first_plan"] = round(time.monotonic() - self.started, 4)
        self.list_objective = self._objective(self.list_plan)
        # in-production and pinned runs: the sequence search and holding leave them where they are
        self.locked = set(self.frozen) | {c.order_id for c in self.instance.candidates if c.start_pinned}
        self.list_plan_keeps_frozen = all(
            self._keeps(self.list_plan.assignments, oid, line, day) for oid, (line, day) in self.frozen.items()
        )

    def _keeps(self, assignments: dict[str, Assignment], order_id: str, line_id: str, day: int) -> bool:
        kept = assignments.get(order_id)
        return kept is not None and kept.line_id == line_id and self.instance.axes[line_id].day_of(kept.start) == day

    def _lap(self) -> float:
        """Seconds since the previous lap (or the start)."""
        now = time.monotonic()
        elapsed, self._last_lap = now - self._last_lap, now
        return round(elapsed, 4)

    def remaining(self) -> float:
        """Seconds the solver may still search: CP-SAT overruns its limit a little when it
        stops, and the schedule document still has to be built."""
        reserve = 0.2 + 0.05 * self.params.time_limit
        return self.params.time_limit - reserve - (time.monotonic() - self.started)

    def _objective(self, plan: _Plan) -> Objective:
        """The plan's objective as its schedule document will state it."""
        return schedule_objective(self.instance, plan.assignments, plan.left_out, self.previous)

    def run(self) -> SolveResult:
        if not self.instance.candidates:
            return self._result(_Plan({}, {}, "OPTIMAL", self._placed_bound()))
        self._placed_bound()  # first, so that the bound is searched beside the plan
        return self._result(self._run_lns() if self._use_lns() else self._run_exact())

    def _use_lns(self) -> bool:
        if self.params.method in ("exact", "lns"):
            return self.params.method == "lns"
        too_many = len(self.instance.candidates) > EXACT_MAX_ORDERS or self.params.lns_rounds is not None
        # a build under a second overruns little; a longer one must leave half the time to search
        return too_many or self._exact_build_seconds() > max(1.0, 0.5 * self.remaining())

    def _exact_build_seconds(self) -> float:
        """About how long the exact model takes to build: the time limit counts the set-up too,
        and a long horizon makes a model that alone would take longer than the limit."""
        horizon = self.instance.horizon
        steps = sum(len(c.options) * max(0, horizon - max(c.due_day, c.earliest_day)) for c in self.instance.candidates)
        return steps / EXACT_STEPS_PER_SECOND

    def _run_lns(self) -> _Plan:
        """List schedule, then neighbourhoods re-solved with CP-SAT until the time is up."""
        state = PlanState(self.instance, self.baseline, self.list_plan.assignments)
        settings = LnsSettings(
            time_limit=self.params.time_limit,
            seed=self.params.seed,
            workers=self.params.workers,
            rounds=self.params.lns_rounds,
            deterministic_time=self.params.deterministic_time,
        )
        search = LargeNeighbourhoodSearch(state, settings, self.locked)
        if self.report:
            objective, bound = self._found(state.total()), _primary_dict(self._placed_bound())
            self.report(Progress(time.monotonic() - self.started, "neighbourhood search", 0, objective, bound))
        deadline = self.started + self.params.time_limit - (0.2 + 0.05 * self.params.time_limit)
        search.run(deadline, self._lns_progress(search), self.stop)
        self.timings["lns"] = self._lap()
        self.stages["lns"] = f"{search.stats.rounds} rounds, {search.stats.improvements} improvements"
        assignments = state.assignments()
        left_out = {**self.list_plan.left_out, **_left_out_reasons(self.instance, assignments)}
        left_out = {o: r for o, r in left_out.items() if o not in assignments}
        return _Plan(assignments, left_out, "FEASIBLE", self._unproven_bound(assignments))

    def _lns_progress(self, search: LargeNeighbourhoodSearch) -> Callable[[Objective], None]:
        def report(cost: Objective) -> None:
            if self.report:
                elapsed = time.monotonic() - self.started
                self.report(Progress(elapsed, "neighbourhood search", search.stats.improvements, self._found(cost)))

        return report

    def _found(self, placeable: Objective) -> dict[str, int]:
        """Levels 1-2 of a plan found for the placeable orders, the unplaceable ones counted in."""
        return _primary_dict(placeable.primary + Objective(self.unplaceable_priority))

    def _run_exact(self) -> _Plan:
        """One CP-SAT model, two lexicographic stages; never worse than the list schedule."""
        model = self._build_model(enforce_frozen=True)
        first = self._first_stage(model)
        if first is None and self.stages["unscheduled_and_lateness"] == "INFEASIBLE":
            self.warnings.append("the frozen window could not be kept (orders or capacity changed); replanned freely")
            model = self._build_model(enforce_frozen=False)
            first = self._first_stage(model)
        if first is None:
            self.warnings.append("the solver found no plan in its time; the earliest-due-date plan is returned")
            if not self.list_plan_keeps_frozen:
                self.warnings.append("the earliest-due-date plan could not keep every order of the frozen window")
            return replace(self.list_plan, bound=self._unproven_bound(self.list_plan.assignments))
        assignments, status, bound = first
        stopped = self.stop is not None and self.stop.is_set()
        worth_it = self.previous or model.may_hold()
        if status != "OPTIMAL" and not stopped:
            assignments = self._polished(assignments, share=0.7 if worth_it else 1.0)
        if self.remaining() > 0.05 and worth_it and not stopped:
            assignments, status = self._second_stage(model, assignments, status)
        solved = _Plan(assignments, _left_out_reasons(self.instance, assignments), status, bound)
        list_plan_better = self.list_objective < self._objective(solved)
        if list_plan_better and (self.list_plan_keeps_frozen or not model.enforces_frozen):
            return replace(self.list_plan, bound=bound)
        return solved

    def _polished(self, assignments: dict[str, Assignment], share: float) -> dict[str, Assignment]:
        """The solver's plan improved by the sequence search (moves on and across lines),
        which finds what CP-SAT misses on long chains of runs."""
        state = PlanState(self.instance, self.baseline, assignments)
        # for ``share`` of the time left, or a fixed number of moves when runs must be reproducible
        if self.params.deterministic_time is not None or self.params.lns_rounds is not None:
            budget = SequenceBudget(evaluations=SEQUENCE_EVALUATIONS, stop=self.stop)
        else:
            budget = SequenceBudget(deadline=time.monotonic() + share * max(0.0, self.remaining()), stop=self.stop)
        before = state.total()
        found = 0

        def report(lateness: int) -> None:
            nonlocal found
            found += 1
            if self.report:
                objective = self._found(before._replace(weighted_days_late=lateness))
                self.report(Progress(time.monotonic() - self.started, "sequence search", found, objective))

        improve_sequences(state, self.locked, budget, self.params.seed, report)
        self.timings["sequence_search"] = self._lap()
        after = state.total().weighted_days_late
        self.stages["sequence_search"] = f"weighted days late {before.weighted_days_late} -> {after}"
        return state.assignments()

    def _build_model(self, enforce_frozen: bool) -> ScheduleModel:
        model = ScheduleModel(self.instance, self.baseline, enforce_frozen=enforce_frozen)
        # the list schedule, not a polished local optimum: CP-SAT explores more widely from it
        model.add_hint(self.list_plan.assignments)
        self.timings["model_build"] = self._lap()
        return model

    def _first_stage(self, model: ScheduleModel):
        """Fewest unscheduled orders by priority, then least weighted days late."""
        model.model.minimize(model.primary_objective())
        share = FIRST_STAGE_SHARE if (self.previous or self.remaining() > 1) else 1.0
        solver = _solver(self.params, self.remaining() * share)
        reporter = _Reporter(self, model, "unscheduled and lateness")
        status = solver.solve(model.model, reporter)
        self.timings["stage1"] = self._lap()
        self.stages["unscheduled_and_lateness"] = solver.status_name(status)
        log.info(
            "stage 1: %s, objective %s, bound %s",
            solver.status_name(status),
            solver.objective_value,
            solver.best_objective_bound,
        )
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        bound = self._bound(model, solver, status)
        self._report_bound(bound, reporter.solutions)
        return model.assignments(solver), solver.status_name(status), bound

    def _second_stage(self, model: ScheduleModel, assignments, first_status: str):
        """With levels 1-2 kept, fewest changed orders, then least holding."""
        best = primary_objective(self.instance, assignments)
        model.keep_primary(best)
        assignments = self._shifted_later(assignments)  # levels 1-3 as they were, less holding
        model.add_holding_costs()
        model.model.minimize(model.secondary_objective())
        model.add_hint(self._stable_hint(model, assignments, best))
        solver = _solver(self.params, self.remaining())
        reporter = _Reporter(self, model, "stability and holding")
        status = solver.solve(model.model, reporter)
        self.timings["stage2"] = self._lap()
        self.stages["stability_and_holding"] = solver.status_name(status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return assignments, "FEASIBLE"
        both_optimal = first_status == "OPTIMAL" and status == cp_model.OPTIMAL
        return model.assignments(solver), "OPTIMAL" if both_optimal else "FEASIBLE"

    def _shifted_later(self, assignments: dict[str, Assignment]) -> dict[str, Assignment]:
        state = PlanState(self.instance, self.baseline, assignments)
        shift_later(state, self.locked)
        return state.assignments()

    def _stable_hint(self, model: ScheduleModel, found: dict[str, Assignment], best: Objective) -> dict:
        """The plan that keeps the previous one where it can, when it is as good on levels 1-2."""
        if not self.baseline.line_and_start:
            return found
        stable, _ = stable_schedule(self.instance, self.frozen, self.baseline.line_and_start)
        weight = model.lateness_weight
        as_good = primary_objective(self.instance, stable).primary_value(weight) <= best.primary_value(weight)
        return stable if as_good else found

    def _bound(self, model: ScheduleModel, solver: cp_model.CpSolver, status: int) -> Objective:
        """Lower bounds on unscheduled priority and, at that level, on weighted days late."""
        weight = model.lateness_weight
        fixed = self.unplaceable_priority
        found_unscheduled = int(solver.value(model.unscheduled_priority()))
        if status == cp_model.OPTIMAL:
            return Objective(found_unscheduled + fixed, int(solver.value(model.weighted_days_late())))
        best_bound = int(solver.best_objective_bound)
        unscheduled_bound = max(0, -(-(best_bound - (weight - 1)) // weight))
        lateness_bound = (
            max(0, best_bound - weight * found_unscheduled) if unscheduled_bound >= found_unscheduled else 0
        )
        if found_unscheduled == 0:
            lateness_bound = max(lateness_bound, self._placed_bound().weighted_days_late)
        return Objective(unscheduled_bound + fixed, lateness_bound)

    def _unproven_bound(self, assignments: dict[str, Assignment]) -> Objective:
        """The bound of a plan found without the solver's proof (the search's or the list
        schedule's): the placed-orders bound, whose lateness part holds only when the plan
        leaves out no order some plan could place (so none is left out at optimum)."""
        bound = self._placed_bound()
        if primary_objective(self.instance, assignments).unscheduled_priority > 0:
            return bound._replace(weighted_days_late=0)
        return bound

    def _placed_bound(self) -> Objective:
        """Bounds for plans that place every placeable order: the unplaceable orders' priority,
        and the best lateness bound of :mod:`solver.bound` so far (its relaxations run in a
        thread beside the search, for BOUND_SHARE of the time limit; a call after that waits
        for them a moment; the list schedule is HiGHS's first solution)."""
        first = self._bound_search is None
        if first:
            seconds = BOUND_SHARE * self.params.time_limit
            self._bound_search = BoundSearch(self.instance, seconds, plan=self.list_plan.assignments).start()
        search = self._bound_search
        # a moment at the start (small plants are bounded by then) and once its time is up
        waits = first or time.monotonic() >= search.deadline
        found = search.result(BOUND_WAIT * self.params.time_limit if waits else 0.0)
        self.stages["bound"] = found.method
        self.timings["bound"] = found.seconds  # when the thread found it, not time taken from the search
        return Objective(self.unplaceable_priority, found.weighted_days_late)

    def _report_bound(self, bound: Objective, solutions: int) -> None:
        if self.report:
            elapsed = time.monotonic() - self.started
            self.report(Progress(elapsed, "unscheduled and lateness", solutions, None, _primary_dict(bound)))

    def _result(self, plan: _Plan) -> SolveResult:
        """The schedule document of ``plan``, built once with the solve's warnings, timings and stages."""
        self.timings["total"] = round(time.monotonic() - self.started, 3)
        schedule = build_schedule(
            self.instance,
            plan.assignments,
            plan.left_out,
            status=plan.status,
            bound=plan.bound,
            solve_seconds=self.timings["total"],
            previous=self.previous,
            warnings=list(dict.fromkeys(self.warnings)),
            timings=self.timings,
            solver_info={
                "stages": self.stages,
                "time_limit": self.params.time_limit,
                "workers": self.params.workers,
                "seed": self.params.seed,
            },
        )
        return SolveResult(
            schedule=schedule,
            status=schedule["status"],
            objective=schedule["objective"],
            bound=schedule["bound"],
            seconds=schedule["solve_seconds"],
            baseline_objective=self.list_objective.as_dict(),
            timings=self.timings,
        )


def solve(
    dataset: Dataset,
    params: SolveParams | None = None,
    previous: dict | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> SolveResult:
    """Plan ``dataset``: the best schedule found within ``params.time_limit`` seconds.

    Parameters
    ----------
    dataset
        The plant, its lines, products, materials and orders.
    params
        Time limit, workers, seed and the frozen window override.
    previous
        A previous schedule document, for plan stability and the frozen window.
    progress
        Called with a :class:`Progress` at every improving solution.
    stop
        Set it to stop the search early; the best plan so far is returned.
    """
    return _Solve(dataset, params or SolveParams(), previous, progress, stop).run()
