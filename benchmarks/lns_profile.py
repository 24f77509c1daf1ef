"""The neighbourhood search's instruments on one generated plant.

Runs the engine's LNS for the given seconds and prints, per neighbourhood kind,
the rounds tried, kept and improving, the lateness and holding they removed,
seconds per round, orders freed and sub-solve statuses; then the objective
over time and the neighbourhood size over time.

    python -m benchmarks.lns_profile --orders 500 --lines 10 --days 60 --plant-seed 2 --time-limit 30
"""

from __future__ import annotations

import argparse
import functools
import logging
from dataclasses import replace

from solver import engine
from solver.engine import SolveParams, solve
from solver.generate import generate_dataset
from solver.validation import validate_schedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--plant-seed", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sub-time", type=float, help="seconds per sub-solve (default: the engine's)")
    parser.add_argument("--rounds", type=int, help="a fixed number of rounds (one worker, reproducible)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.sub_time:
        engine.LnsSettings = functools.partial(engine.LnsSettings, sub_time=args.sub_time)
    dataset = generate_dataset(args.orders, args.lines, args.days, args.plant_seed)
    params = SolveParams(time_limit=args.time_limit, workers=args.workers, seed=args.seed, method="lns")
    if args.rounds:
        params = replace(params, time_limit=3600, workers=1, lns_rounds=args.rounds, deterministic_time=0.2)
    result = solve(dataset, params)
    objective = result.objective
    valid = not validate_schedule(dataset, result.schedule)
    print(
        f"weighted days late {objective['weighted_days_late']}, unscheduled {objective['unscheduled_priority']}, "
        f"holding {objective['holding_days']}, bound {result.bound['weighted_days_late']}, valid {valid}"
    )
    print("timings", result.timings)


if __name__ == "__main__":
    main()
