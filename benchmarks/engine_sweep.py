"""Run ``paichan solve`` on generated plants it has never seen and check each plan.

For every case: generate the dataset (deterministic), run the real command with
a time limit, then check independently that the plan is valid (validator), that
it is no worse than earliest-due-date list scheduling (first unscheduled
priority, then weighted days late), that the command returned within its limit,
and print a Markdown table.

    python benchmarks/engine_sweep.py --time-limit 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from solver import io
from solver.generate import generate_dataset
from solver.heuristic import by_due_date, list_schedule, primary_objective
from solver.instance import build_instance
from solver.validation import validate_schedule

log = logging.getLogger("engine_sweep")

# orders, lines, days, seed, plan start, load
CASES = [
    (30, 2, 60, 11, "2026-09-14", 0.8),
    (60, 3, 60, 12, "2026-12-14", 0.9),
    (100, 4, 75, 13, "2026-04-20", 0.8),
    (150, 6, 90, 7, "2026-11-30", 0.8),
    (200, 6, 90, 14, "2026-09-01", 0.85),
    (250, 8, 60, 15, "2026-01-05", 0.7),
    (300, 8, 90, 3, "2026-11-30", 0.8),
    (300, 8, 90, 16, "2026-08-17", 0.95),
]


def edd_rank(dataset) -> tuple[int, int]:
    """Plain earliest-due-date list scheduling, the baseline the done-when names."""
    instance = build_instance(dataset)
    assignments, _ = list_schedule(instance, {}, by_due_date)
    unplaceable = sum(dataset.order_by_id[o].priority for o in instance.unplaceable)
    found = primary_objective(instance, assignments)
    return found.unscheduled_priority + unplaceable, found.weighted_days_late


def run_case(case: tuple, time_limit: float, workdir: Path) -> dict:
    orders, lines, days, seed, start, load = case
    dataset = generate_dataset(orders, lines, days, seed, plan_start=dt.date.fromisoformat(start), load=load)
    folder = workdir / f"g{orders}x{lines}x{days}s{seed}"
    io.write_csv_folder(dataset, folder)
    out = folder / "schedule.json"
    command = [sys.executable, "-m", "solver", "solve", str(folder), "--out", str(out), "--time-limit", str(time_limit)]
    began = time.monotonic()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    schedule = json.loads(out.read_text(encoding="utf-8"))
    violations = validate_schedule(io.load_dataset(folder), schedule)
    objective, bound = schedule["objective"], schedule["bound"]
    edd = edd_rank(dataset)
    found = (objective["unscheduled_priority"], objective["weighted_days_late"])
    return {
        "case": f"{orders}×{lines}×{days} s{seed} {start}",
        "planned": len(dataset.planned_orders),
        "exit": finished.returncode,
        "status": schedule["status"],
        "unscheduled": objective["unscheduled_priority"],
        "wdl": objective["weighted_days_late"],
        "bound": bound.get("weighted_days_late"),
        "edd": f"{edd[0]} / {edd[1]}",
        "not_worse": found <= edd,
        "valid": not violations,
        "wall": wall,
        "within": wall <= time_limit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(
        f"| case (orders×lines×days, seed, start) | planned | status | unscheduled prio | weighted days late "
        f"| bound | EDD (unsch. / wdl) | ≤ EDD | valid | wall s (limit {args.time_limit:g}) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---|---|---:|")
    with tempfile.TemporaryDirectory() as workdir:
        for case in CASES:
            row = run_case(case, args.time_limit, Path(workdir))
            print(
                f"| {row['case']} | {row['planned']} | {row['status']} | {row['unscheduled']} | {row['wdl']} "
                f"| {row['bound']} | {row['edd']} | {'yes' if row['not_worse'] else 'NO'} "
                f"| {'yes' if row['valid'] else 'NO'} | {row['wall']:.2f}{'' if row['within'] else ' (over)'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
