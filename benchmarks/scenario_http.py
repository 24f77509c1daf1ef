"""A what-if on a 2,000-order plant through HTTP: how long from the request to the answer.

Starts the real server (SQLite in a temporary folder), loads a generated plant, plans and
publishes it, then asks for a line-down scenario (the busiest line stopped for three
working days) with a time limit, polls it until its comparison is there, and prints the
seconds against the limit (the target: within the limit + 1 s) with the deltas found.

    python -m benchmarks.scenario_http --generate 2000x20x90x4 --plan-seconds 20 --time-limit 30
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import httpx

from benchmarks.serving import plan_and_publish, served, wait_healthy
from solver import io
from solver.generate import generate_dataset

KEY = "scenario-bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", default="2000x20x90x4")
    parser.add_argument("--plan-seconds", type=float, default=20.0)
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    document = io.dataset_document(generate_dataset(*[int(p) for p in args.generate.split("x")]))
    log = os.environ.get("SCENARIO_BENCH_LOG", os.devnull)
    with (
        served(KEY, log=log) as (base, _),
        httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=600) as client,
    ):
        wait_healthy(client)
        plan_and_publish(client, document, args.plan_seconds)
        run(client, args.time_limit)


def line_down(schedule: dict) -> dict:
    line = Counter(e["line_id"] for e in schedule["orders"]).most_common(1)[0][0]
    days = sorted({a["date"] for e in schedule["orders"] if e["line_id"] == line for a in e["allocations"]})
    return {"kind": "line_hours", "line_id": line, "from": days[2], "to": days[4], "hours": 0}


def run(client: httpx.Client, time_limit: float) -> None:
    schedule = client.get("/v1/plans/current/schedule").json()
    edit = line_down(schedule)
    began = time.perf_counter()
    response = client.post("/v1/scenarios", json={"name": "bench", "edits": [edit], "time_limit_s": time_limit})
    response.raise_for_status()
    accepted = time.perf_counter() - began
    scenario_id = response.json()["scenario_id"]
    while (answer := client.get(f"/v1/scenarios/{scenario_id}").json())["plan_status"] in ("queued", "running"):
        time.sleep(0.1)
    answered = time.perf_counter() - began
    print(f"committed orders: {len(schedule['orders'])}; edit: {edit}")
    print(f"accepted (202) after {accepted:.2f} s; answered after {answered:.2f} s for a {time_limit:g} s limit")
    print(f"within the limit + 1 s: {answered <= time_limit + 1}")
    print(
        f"plan {answer['plan_status']}, valid {answer['valid']}; orders that change: {len(answer['changes'])}; "
        f"customers to call: {len(answer['notify'])}"
    )
    for name, delta in answer["kpi_deltas"].items():
        print(f"  {name}: {delta['before']} → {delta['after']} ({delta['delta']:+g})")


if __name__ == "__main__":
    main()
