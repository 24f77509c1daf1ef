"""OR-Library single-machine weighted tardiness (wt40, wt50) solved by paichan's engine.

Each instance (Crauwels, Potts & Van Wassenhove 1998) is stated as a paichan
dataset exactly as ``/work/shared/benchmarks/orlib-wt/README.md`` describes:
one line working every day with 1 minute of capacity a day, each job an order
of quantity ``p`` at 60 units/hour without setup (``p`` minutes, so ``p``
days), priority = weight, no materials, no holidays, transit 0, due date
``plan_start + d + 1`` days and a horizon of ``Σp + 3`` days. A job that
starts on day ``s`` ends production on day ``C − 1`` with ``C = s + p``, is
inspected on day ``C`` and delivered (dispatched, transit 0) on day ``C + 1``,
so its days late are ``max(0, C − d)``: paichan's weighted days late is the
textbook total weighted tardiness ``Σ w·max(0, C − d)``.

    python benchmarks/orlib.py --set wt40 --time-limit 10 --instances 1-10
    python benchmarks/orlib.py --set wt40 --time-limit 10 --jobs 2 --workers 1

Every plan goes through the independent validator (an invalid plan is a
failure) and its objective is checked against the textbook tardiness
recomputed here from the plan's production start dates alone.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solver.domain import WEEKDAYS, Dataset, Line, Order, Plant, Product, Routing
from solver.engine import SolveParams, solve
from solver.validation import validate_schedule

DEFAULT_DATA_DIR = Path(os.environ.get("ORLIB_WT_DIR", "/work/shared/benchmarks/orlib-wt"))
PLAN_START = dt.date(2030, 1, 7)  # a Monday; no weekday or holiday matters, every day works
INSTANCES_PER_FILE = 125
LINE_ID = "M"
PRODUCT_ID = "JOB"

log = logging.getLogger("orlib")


# -- the files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WtInstance:
    """One weighted tardiness instance: processing times, weights and due dates per job."""

    index: int  # 1-based position in its file
    p: tuple[int, ...]
    w: tuple[int, ...]
    d: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.p)


def _numbers(path: Path | str) -> list[int]:
    return [int(token) for token in Path(path).read_text(encoding="ascii").split()]


def _jobs_from_name(path: Path) -> int | None:
    match = re.search(r"wt(?:opt)?(\d+)", path.name)
    return int(match.group(1)) if match else None


def read_instances(path: Path | str, n: int | None = None) -> list[WtInstance]:
    """The instances of a ``wtN.txt`` file: for each, N processing times, N weights, N due dates.

    ``n`` is taken from the file name (``wt40.txt`` → 40) unless given; the
    numbers are whitespace-separated and may span lines in any way.
    """
    path = Path(path)
    numbers = _numbers(path)
    if n is None:
        n = _jobs_from_name(path)
    if n is None:
        if len(numbers) % (3 * INSTANCES_PER_FILE):
            raise ValueError(f"{path}: cannot tell the number of jobs from the name or the size")
        n = len(numbers) // (3 * INSTANCES_PER_FILE)
    if n <= 0 or len(numbers) % (3 * n):
        raise ValueError(f"{path}: {len(numbers)} numbers is not a whole number of {n}-job instances")
    instances = []
    for index, offset in enumerate(range(0, len(numbers), 3 * n), start=1):
        block = numbers[offset : offset + 3 * n]
        instances.append(WtInstance(index, tuple(block[:n]), tuple(block[n : 2 * n]), tuple(block[2 * n :])))
    return instances


def read_optima(path: Path | str) -> list[int]:
    """The optimal (or best-known) total weighted tardiness of each instance of a ``wtoptN.txt`` file."""
    return _numbers(path)


# -- the dataset ------------------------------------------------------------------------------


def job_id(job: int) -> str:
    """Order id of the 0-based job index ``job``: J01, J02, ..."""
    return f"J{job + 1:02d}"


def as_dataset(instance: WtInstance, plan_start: dt.date = PLAN_START) -> Dataset:
    """The instance as a paichan dataset (see the module docstring for the statement)."""
    plant = Plant(
        plan_start=plan_start,
        horizon_days=sum(instance.p) + 3,
        workdays=WEEKDAYS,
        holiday_country=None,
        frozen_days=0,
    )
    orders = [
        Order(
            order_id=job_id(job),
            product_id=PRODUCT_ID,
            quantity=instance.p[job],
            due_date=plan_start + dt.timedelta(days=instance.d[job] + 1),
            priority=instance.w[job],
        )
        for job in range(instance.n)
    ]
    return Dataset.create(
        plant=plant,
        lines=[Line(LINE_ID, hours_per_day=1 / 60, name="single machine")],
        products=[Product(PRODUCT_ID, name="job")],
        routings=[Routing(PRODUCT_ID, LINE_ID, units_per_hour=60.0, setup_hours=0.0)],
        orders=orders,
    )


# -- the textbook objective, recomputed from a plan's dates only ------------------------------


def total_weighted_tardiness(instance: WtInstance, sequence: Sequence[int]) -> int:
    """Σ w·max(0, C − d) of the jobs (0-based) processed in ``sequence`` from time 0 without idle time."""
    if sorted(sequence) != list(range(instance.n)):
        raise ValueError("the sequence must hold every job exactly once")
    clock, total = 0, 0
    for job in sequence:
        clock += instance.p[job]
        total += instance.w[job] * max(0, clock - instance.d[job])
    return total


def _job_index(order_id: str) -> int:
    return int(order_id[1:]) - 1


def start_days(schedule: dict[str, Any], plan_start: dt.date = PLAN_START) -> dict[int, int]:
    """Job (0-based) → start day (0-based) of each planned order, from ``production_start`` only."""
    return {
        _job_index(entry["order_id"]): (dt.date.fromisoformat(entry["production_start"]) - plan_start).days
        for entry in schedule["orders"]
    }


def schedule_sequence(schedule: dict[str, Any], plan_start: dt.date = PLAN_START) -> list[int]:
    """The jobs (0-based) of a plan in the order of their production start dates."""
    starts = start_days(schedule, plan_start)
    return sorted(starts, key=lambda job: (starts[job], job))


def timed_tardiness(instance: WtInstance, schedule: dict[str, Any], plan_start: dt.date = PLAN_START) -> int:
    """Σ w·max(0, C − d) with each job completing at C = start day + p, idle time included."""
    return sum(
        instance.w[job] * max(0, start + instance.p[job] - instance.d[job])
        for job, start in start_days(schedule, plan_start).items()
    )


# -- one run ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """One instance solved and checked."""

    set_name: str
    index: int
    optimum: int | None
    objective: int | None = None  # paichan's weighted days late
    textbook: int | None = None  # Σ w·max(0, C − d) of the plan's sequence, no idle time
    timed: int | None = None  # the same with C taken from the plan's start dates
    status: str = ""
    bound: int | None = None
    seconds: float = 0.0  # wall time of the solve call
    cpu_seconds: float = 0.0  # CPU time of the solving process (all threads) over that call
    unscheduled: int = 0
    violations: tuple[str, ...] = ()
    error: str | None = None
    peak_rss_mb: float = 0.0

    @property
    def failure(self) -> str | None:
        """Why this run failed, or ``None``: an exception, an invalid plan, an order left out,
        or an objective that is not the textbook tardiness of the plan."""
        if self.error:
            return self.error
        if self.violations:
            return f"{len(self.violations)} violation(s): {self.violations[0]}"
        if self.unscheduled:
            return f"{self.unscheduled} order(s) unscheduled"
        if self.objective != self.timed:
            return f"objective {self.objective} != textbook {self.timed} from the plan's start dates"
        return None

    @property
    def gap(self) -> float | None:
        """(objective − optimum) / optimum; 0 when both are 0; ``None`` when undefined."""
        if self.objective is None or self.optimum is None or self.failure:
            return None
        if self.optimum == 0:
            return 0.0 if self.objective == 0 else None
        return (self.objective - self.optimum) / self.optimum


def solve_instance(
    instance: WtInstance,
    optimum: int | None,
    params: SolveParams,
    set_name: str = "",
) -> RunResult:
    """Solve one instance with the engine, validate the plan and recompute the textbook objective."""
    result = RunResult(set_name, instance.index, optimum)
    try:
        dataset = as_dataset(instance)
        began, cpu = time.monotonic(), time.process_time()
        solved = solve(dataset, params)
        result.seconds = time.monotonic() - began
        result.cpu_seconds = time.process_time() - cpu
        schedule = solved.schedule
        result.status = solved.status
        result.objective = solved.objective["weighted_days_late"]
        result.unscheduled = solved.objective["unscheduled_priority"]
        result.bound = solved.bound.get("weighted_days_late")
        result.violations = tuple(str(v) for v in validate_schedule(dataset, schedule))
        if not result.unscheduled:
            result.textbook = total_weighted_tardiness(instance, schedule_sequence(schedule))
            result.timed = timed_tardiness(instance, schedule)
    except Exception as error:  # a crash on one instance is reported, the others still run
        log.debug("instance %s failed", instance.index, exc_info=True)
        last = traceback.extract_tb(error.__traceback__)[-1]
        result.error = f"{type(error).__name__}: {error} ({Path(last.filename).name}:{last.lineno})"
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _solve_job(args: tuple[WtInstance, int | None, SolveParams, str]) -> RunResult:
    return solve_instance(*args)


def run_all(
    instances: Sequence[WtInstance],
    optima: Sequence[int | None],
    params: SolveParams,
    jobs: int = 1,
    set_name: str = "",
) -> Iterable[RunResult]:
    """Results in the order the instances are given; ``jobs`` > 1 solves in parallel processes."""
    tasks = [(instance, optimum, params, set_name) for instance, optimum in zip(instances, optima, strict=True)]
    if jobs <= 1:
        for task in tasks:
            yield _solve_job(task)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process that has run OR-Tools threads
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield from pool.map(_solve_job, tasks)


# -- the report -------------------------------------------------------------------------------------


def parse_range(text: str, last: int) -> list[int]:
    """``"1-10,15,20-22"`` → the 1-based instance numbers, each within ``1..last``."""
    chosen: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        first, final = int(low), int(high or low)
        if not 1 <= first <= final <= last:
            raise ValueError(f"instance range {part!r} is not within 1-{last}")
        chosen += [i for i in range(first, final + 1) if i not in chosen]
    return chosen


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}"


def table_header() -> str:
    return (
        "| # | optimum | paichan | gap % | textbook (sequence) | status | bound | s | CPU s | valid | note |\n"
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|"
    )


def table_row(result: RunResult) -> str:
    failure = result.failure
    note = failure or ""
    if not failure and result.optimum is not None and result.objective is not None:
        if result.objective < result.optimum:
            note = "below the listed value"
        elif result.optimum == 0 and result.objective > 0:
            note = "optimum 0: no gap"
    valid = "—" if result.error else ("yes" if not result.violations else "NO")
    return (
        f"| {result.index} | {_show(result.optimum)} | {_show(result.objective)} | {_pct(result.gap)} "
        f"| {_show(result.textbook)} | {result.status or '—'} | {_show(result.bound)} | {result.seconds:.2f} "
        f"| {result.cpu_seconds:.2f} | {valid} | {note} |"
    )


def _show(value: object) -> str:
    return "—" if value is None else str(value)


def summary(results: Sequence[RunResult]) -> dict[str, Any]:
    """Instances run, optima reached, mean and max gap, mean seconds, failures."""
    gaps = [r.gap for r in results if r.gap is not None]
    failed = [r for r in results if r.failure]
    return {
        "instances": len(results),
        "optima": sum(1 for r in results if not r.failure and r.objective == r.optimum),
        "below_listed": [r.index for r in results if not r.failure and r.objective < (r.optimum or 0)],
        "mean_gap": statistics.fmean(gaps) if gaps else None,
        "max_gap": max(gaps) if gaps else None,
        "gaps_counted": len(gaps),
        "zero_optimum_missed": [
            (r.index, r.objective) for r in results if not r.failure and r.optimum == 0 and r.objective
        ],
        "mean_seconds": statistics.fmean(r.seconds for r in results) if results else 0.0,
        "mean_cpu_seconds": statistics.fmean(r.cpu_seconds for r in results) if results else 0.0,
        "max_seconds": max((r.seconds for r in results), default=0.0),
        "statuses": {s: sum(1 for r in results if r.status == s) for s in sorted({r.status for r in results})},
        "sequence_differs": [r.index for r in results if not r.failure and r.textbook != r.objective],
        "failures": [(r.index, r.failure) for r in failed],
        "peak_rss_mb": max((r.peak_rss_mb for r in results), default=0.0),
    }


def engine_version() -> str:
    """The repository's commit, with ``+changes`` when solver/ has uncommitted edits."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "solver"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def summary_markdown(
    facts: dict[str, Any],
    set_name: str,
    params: SolveParams,
    jobs: int,
    load: tuple[float, float] | None = None,
    engine: str | None = None,
) -> str:
    method = getattr(params, "method", None)
    lines = [
        f"**{set_name}**, time limit {params.time_limit:g} s, {params.workers} worker(s), seed {params.seed}, "
        f"{jobs} instance(s) at a time{f', method {method}' if method else ''}, engine {engine or engine_version()}",
        "",
        "| instances | optima reached | mean gap % | max gap % | mean s | max s | failures |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {facts['instances']} | {facts['optima']} | {_pct(facts['mean_gap'])} | {_pct(facts['max_gap'])} "
        f"| {facts['mean_seconds']:.2f} | {facts['max_seconds']:.2f} | {len(facts['failures'])} |",
        "",
        "- statuses: " + ", ".join(f"{k or '—'} {v}" for k, v in facts["statuses"].items()),
        f"- gap averaged over {facts['gaps_counted']} instance(s); peak RSS of a solving process "
        f"{facts['peak_rss_mb']:.0f} MB; mean CPU s per solve {facts['mean_cpu_seconds']:.2f}",
    ]
    if load:
        lines.append(
            f"- 1-minute load average {load[0]:.2f} at the start, {load[1]:.2f} at the end ({os.cpu_count()} CPUs)"
        )
    if facts["zero_optimum_missed"]:
        shown = ", ".join(f"#{i} (objective {o})" for i, o in facts["zero_optimum_missed"])
        lines.append(f"- optimum 0 not reached (left out of the gap): {shown}")
    if facts["below_listed"]:
        lines.append(f"- below the listed (best-known) value: {', '.join(f'#{i}' for i in facts['below_listed'])}")
    if facts["sequence_differs"]:
        shown = ", ".join(f"#{i}" for i in facts["sequence_differs"])
        lines.append(f"- plans with idle time that costs lateness (sequence without idle time is better): {shown}")
    for index, reason in facts["failures"]:
        lines.append(f"- FAILED #{index}: {reason}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="wt40", help="wt40 or wt50 (files wtN.txt and wtoptN.txt)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of the OR-Library files")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--instances", default=None, help="1-based numbers, e.g. 1-10,17 (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers per solve")
    parser.add_argument("--jobs", type=int, default=1, help="instances solved at a time, each in its own process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", default=None, help="the engine's SolveParams.method, when it has one")
    parser.add_argument("--verbose", action="store_true", help="a table row per instance")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    jobs_in_set = int(args.set.removeprefix("wt"))
    instances = read_instances(args.data_dir / f"{args.set}.txt", jobs_in_set)
    optima = read_optima(args.data_dir / f"wtopt{jobs_in_set}.txt")
    if len(optima) != len(instances):
        parser.error(f"{len(instances)} instances but {len(optima)} optima")
    try:
        chosen = parse_range(args.instances, len(instances)) if args.instances else list(range(1, len(instances) + 1))
    except ValueError as error:
        parser.error(str(error))
    extra = {}
    if args.method is not None:
        if "method" not in {f.name for f in dataclasses.fields(SolveParams)}:
            parser.error("this engine's SolveParams has no method")
        extra["method"] = args.method
    params = SolveParams(time_limit=args.time_limit, workers=args.workers, seed=args.seed, **extra)
    load_before, engine = os.getloadavg()[0], engine_version()  # the code as imported, before any solve

    if args.verbose:
        print(table_header(), flush=True)
    results = []
    picked = [instances[i - 1] for i in chosen]
    for result in run_all(picked, [optima[i - 1] for i in chosen], params, args.jobs, args.set):
        results.append(result)
        if args.verbose:
            print(table_row(result), flush=True)
        else:
            print(f"#{result.index}: {result.objective} (optimum {result.optimum})", file=sys.stderr, flush=True)
    print()
    load = (load_before, os.getloadavg()[0])
    print(summary_markdown(summary(results), args.set, params, args.jobs, load, engine))
    return 1 if any(r.failure for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
