"""The engine at scale: S, M, L and XL plants, each solved in its own process.

For every size: regenerate the plant deterministically, solve it with the
engine's default method for that size and the size's time limit, validate the
plan (an invalid plan counts as failed), and print one Markdown row:
objective, ratio to classic earliest-due-date dispatching (append-only) and to
paichan's own list schedule, the lower bound and the gap to it, the time to the
first valid plan, and the process's peak memory.

    python benchmarks/suite.py                 # all sizes
    python benchmarks/suite.py --sizes S M --time-scale 0.5
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Size:
    name: str
    orders: int
    lines: int
    days: int
    seed: int
    time_limit: float


SIZES = {
    size.name: size
    for size in (
        Size("S", 300, 8, 90, 3, 30.0),
        Size("M", 500, 10, 60, 2, 30.0),
        Size("L", 2000, 20, 90, 4, 60.0),
        Size("XL", 10000, 50, 120, 5, 120.0),
    )
}

BEST_KNOWN = Path(__file__).with_name("best_known.json")


def _measure(size: Size, time_limit: float, seed: int, queue) -> None:
    """Child process: generate, solve, validate; report numbers and peak memory."""
    from solver.engine import SolveParams, solve
    from solver.generate import generate_dataset
    from solver.heuristic import by_due_date, list_schedule, primary_objective
    from solver.instance import build_instance
    from solver.objective import PRIMARY_LEVELS
    from solver.validation import validate_schedule

    dataset = generate_dataset(size.orders, size.lines, size.days, size.seed)
    instance = build_instance(dataset)
    classic = primary_objective(instance, list_schedule(instance, {}, by_due_date, append_only=True)[0])
    began = time.monotonic()
    result = solve(dataset, SolveParams(time_limit=time_limit, workers=2, seed=seed))
    wall = time.monotonic() - began
    violations = validate_schedule(dataset, result.schedule)
    queue.put(
        {
            "objective": result.objective,
            "list_schedule": result.baseline_objective,
            "classic_edd": classic.as_dict(PRIMARY_LEVELS),
            "bound": result.bound,
            "first_plan": result.timings.get("first_plan"),
            "wall": wall,
            "stages": result.schedule["solver"]["stages"],
            "valid": not violations,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def run_size(size: Size, time_limit: float, seed: int) -> dict:
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=_measure, args=(size, time_limit, seed, queue))
    process.start()
    row = queue.get()
    process.join()
    return row


def _ratio(found: int, reference: int) -> str:
    return f"{found / reference:.1%}" if reference else "-"


def format_row(size: Size, time_limit: float, row: dict, best: dict) -> str:
    objective, bound = row["objective"], row["bound"]
    late, floor = objective["weighted_days_late"], bound["weighted_days_late"]
    best_late = best.get(size.name, late)
    classic = row["classic_edd"]
    return (
        f"| {size.name} {size.orders}×{size.lines}×{size.days} | {time_limit:g} "
        f"| {objective['unscheduled_priority']} | {late} "
        f"| {classic['unscheduled_priority']} / {classic['weighted_days_late']} ({_ratio(late, classic['weighted_days_late'])}) "
        f"| {row['list_schedule']['weighted_days_late']} ({_ratio(late, row['list_schedule']['weighted_days_late'])}) "
        f"| {best_late} ({(late - best_late) / best_late:+.1%}) "
        f"| {floor} | {(late - floor) / late:.0%} | {row['first_plan']:.2f} | {row['wall']:.1f} "
        f"| {row['peak_mb']:.0f} | {'yes' if row['valid'] else 'NO'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every size's time limit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record-best", action="store_true", help="store better objectives in best_known.json")
    args = parser.parse_args()
    best = json.loads(BEST_KNOWN.read_text()) if BEST_KNOWN.exists() else {}
    print(
        "| size | limit s | unscheduled prio | weighted days late | classic EDD unsch. / wdl (ratio) "
        "| list schedule wdl (ratio) | best known (gap) | LP bound | gap to bound | first plan s | wall s "
        "| peak MB | valid |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in args.sizes:
        size = SIZES[name]
        time_limit = size.time_limit * args.time_scale
        row = run_size(size, time_limit, args.seed)
        print(format_row(size, time_limit, row, best), flush=True)
        late = row["objective"]["weighted_days_late"]
        complete = row["valid"] and row["objective"]["unscheduled_priority"] == 0
        if args.record_best and complete and late < best.get(name, sys.maxsize):
            best[name] = late
            BEST_KNOWN.write_text(json.dumps(best, indent=2) + "\n")


if __name__ == "__main__":
    main()
