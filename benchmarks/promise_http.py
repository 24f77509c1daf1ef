"""Order promising through HTTP on 127.0.0.1, against a published plan of committed orders.

Starts the real server (SQLite in a temporary folder), loads a generated plant,
plans and publishes it, then measures POST /v1/feasibility: latency of the fixed
policy and of the resequenced one (sequential requests), the days resequencing
gains, and a burst of concurrent requests (errors, and the plan unchanged).

    python benchmarks/promise_http.py --generate 2000x20x90x4 --plan-seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time

import httpx

from benchmarks.serving import plan_and_publish, served, wait_healthy
from solver import io
from solver.generate import generate_dataset

KEY = "promise-bench-key"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def requests_for(document: dict, count: int, seed: int) -> list[dict]:
    chooser = random.Random(seed)
    products = sorted({r["product_id"] for r in document["routings"]})
    start = document["plant"]["plan_start"]
    base = time.mktime(time.strptime(start, "%Y-%m-%d"))
    asks = []
    for _ in range(count):
        due = time.strftime("%Y-%m-%d", time.localtime(base + chooser.randint(10, 80) * 86400))
        asks.append({"product_id": chooser.choice(products), "quantity": chooser.randint(1, 8), "due_date": due})
    return asks


def timed(client: httpx.Client, body: dict, path: str = "/v1/feasibility") -> tuple[float, dict]:
    began = time.perf_counter()
    response = client.post(path, json=body)
    response.raise_for_status()
    return (time.perf_counter() - began) * 1000, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", default="2000x20x90x4")
    parser.add_argument("--plan-seconds", type=float, default=30.0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument(
        "--burst-policy", choices=("fixed", "resequenced"), default="resequenced", help="what the burst asks for"
    )
    args = parser.parse_args()
    dataset = generate_dataset(*[int(p) for p in args.generate.split("x")])
    document = io.dataset_document(dataset)
    with served(KEY, log=os.environ.get("PROMISE_BENCH_LOG", os.devnull)) as (base, _):
        run(base, document, args)


def run(base: str, document: dict, args) -> None:
    with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=600) as client:
        wait_healthy(client)
        plan_and_publish(client, document, args.plan_seconds)
        committed = len(client.get("/v1/plans/current/schedule").json()["orders"])
        before = client.get("/v1/plans/current/schedule").text
        timed(client, {**requests_for(document, 1, 0)[0], "resequence": False})  # warm the cache
        fixed = [timed(client, {**body, "resequence": False}) for body in requests_for(document, args.requests, 1)]
        resequenced = [timed(client, body) for body in requests_for(document, args.requests // 2, 2)]
        gains = [
            _days(answer["earliest_delivery_fixed"]) - _days(answer["earliest_delivery_resequenced"])
            for _, answer in resequenced
            if answer["earliest_delivery_fixed"] and answer["earliest_delivery_resequenced"]
        ]
        burst = requests_for(document, args.concurrent, 3)
        if args.burst_policy == "fixed":
            burst = [{**body, "resequence": False} for body in burst]
        began = time.perf_counter()
        timed_outcomes = asyncio.run(_burst(base, burst))
        burst_seconds = time.perf_counter() - began
        outcomes = [status for status, _ in timed_outcomes]
        burst_ms = [ms for _, ms in timed_outcomes]
        after = client.get("/v1/plans/current/schedule").text
    print(f"committed orders in the published plan: {committed}")
    print("| policy | requests | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in (("fixed", fixed), ("resequenced (0.5 s box)", resequenced)):
        latencies = [ms for ms, _ in rows]
        print(
            f"| {name} | {len(rows)} | {statistics.median(latencies):.1f} | {percentile(latencies, 0.95):.1f} "
            f"| {max(latencies):.1f} |"
        )
    answered = sum(1 for _, a in fixed if a["earliest_delivery_fixed"])
    print(f"fixed answers with a placement: {answered}/{len(fixed)}")
    if gains:
        earlier = sum(1 for g in gains if g > 0)
        print(
            f"resequencing: {len(gains)} comparable answers, mean gain {statistics.mean(gains):.2f} days, "
            f"earlier in {earlier}, never later: {min(gains) >= 0}"
        )
    errors = [s for s in outcomes if s != 200]
    print(
        f"{args.concurrent} concurrent requests: {len(errors)} errors ({json.dumps(errors[:5])}), "
        f"{burst_seconds:.1f} s in all, plan unchanged: {before == after}"
    )
    print(
        f"burst latency: p50 {statistics.median(burst_ms):.0f} ms, p95 {percentile(burst_ms, 0.95):.0f} ms, "
        f"max {max(burst_ms):.0f} ms"
    )


def _days(text: str) -> int:
    return int(time.mktime(time.strptime(text, "%Y-%m-%d")) // 86400)


async def _burst(base: str, bodies: list[dict]) -> list[tuple[int, float]]:
    """Every request in flight at once, each on its own connection: statuses and milliseconds.

    One asyncio client keeps the load generator light (200 threads with a client each spent
    more of the two cores than the server did), so the latencies are the server's.
    """
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}, timeout=600, limits=limits) as client:

        async def one(body: dict) -> tuple[int, float]:
            began = time.perf_counter()
            response = await client.post("/v1/feasibility", json=body)
            return response.status_code, (time.perf_counter() - began) * 1000

        return await asyncio.gather(*(one(body) for body in bodies))


if __name__ == "__main__":
    main()
