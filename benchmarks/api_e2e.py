"""What a solve job costs end to end through the HTTP API.

Starts the real server (uvicorn, SQLite in a temporary folder), uploads a
dataset, starts a plan, polls it to the end, fetches the schedule, and prints
the wall time of each step and the server process's peak memory (VmHWM).

    python -m benchmarks.api_e2e --dataset data/sample --time-limit 30
    python -m benchmarks.api_e2e --generate 2000x20x90x4 --time-limit 60
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx

from benchmarks.serving import served, wait_healthy
from solver import io
from solver.generate import generate_dataset

KEY = "e2e-planner-key"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--generate", help="ORDERSxLINESxDAYSxSEED")
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    if args.generate:
        dataset = generate_dataset(*[int(part) for part in args.generate.split("x")])
    else:
        dataset = io.load_dataset(args.dataset)
    document = io.dataset_document(dataset)
    with served(KEY, max_time_limit_planner="3600") as (base, pid):
        report(measure(base, document, args.time_limit), pid, len(dataset.orders))


def measure(base: str, document: dict, time_limit: float) -> dict[str, float]:
    headers = {"X-API-Key": KEY}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        wait_healthy(client)
        steps: dict[str, float] = {}
        began = time.monotonic()
        client.put("/v1/dataset", json=document).raise_for_status()
        steps["upload dataset"] = time.monotonic() - began
        began = time.monotonic()
        plan = client.post("/v1/plans", json={"time_limit_s": time_limit}).json()
        steps["POST /v1/plans (202)"] = time.monotonic() - began
        while client.get(f"/v1/plans/{plan['plan_id']}").json()["status"] in ("queued", "running"):
            time.sleep(0.25)
        steps["solve, to succeeded"] = time.monotonic() - began
        status = client.get(f"/v1/plans/{plan['plan_id']}").json()
        mark = time.monotonic()
        client.get(f"/v1/plans/{plan['plan_id']}/schedule").raise_for_status()
        steps["GET schedule"] = time.monotonic() - mark
        mark = time.monotonic()
        client.post(f"/v1/plans/{plan['plan_id']}/publish").raise_for_status()
        steps["publish (validated)"] = time.monotonic() - mark
        steps["end to end"] = time.monotonic() - began
        steps["weighted days late"] = status["summary"]["objective"]["weighted_days_late"]
        return steps


def report(steps: dict[str, float], pid: int, orders: int) -> None:
    print(f"| step ({orders} orders) | value |")
    print("|---|---:|")
    for name, value in steps.items():
        print(f"| {name} | {value:.2f} |")
    print(f"| server peak RSS (MB) | {peak_rss_mb(pid):.0f} |")


if __name__ == "__main__":
    main()
