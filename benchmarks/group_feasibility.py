"""The group order review through HTTP on 127.0.0.1: two plants of 2,000 orders each.

Starts the real server (SQLite in a temporary folder), loads two generated plants (the
default one and ``B``, another seed), plans and publishes each, then measures sequential
``POST /v1/feasibility`` with the fixed policy (``"resequence": false``): without a plant
(the group's answer, every plant that makes the product, earliest first) and, for
comparison, ``/v1/plants/default/feasibility`` (one plant alone). Reports the client's
latency and the sum of the server's ``answer_ms`` over the plants that answered, and checks
every group answer lists each plant that makes the product, earliest delivery first.

    python -m benchmarks.group_feasibility --plan-seconds 10 --requests 300
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics

import httpx

from benchmarks.promise_http import percentile, requests_for, timed
from benchmarks.serving import plan_and_publish, served, wait_healthy
from solver import io
from solver.generate import generate_dataset

KEY = "group-bench-key"
PLANTS = {"default": "/v1", "B": "/v1/plants/B"}  # plant → the prefix its dataset and plans live under


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", default="2000x20x90x4", help="the default plant: orders x lines x days x seed")
    parser.add_argument("--generate-b", default="2000x20x90x11", help="plant B")
    parser.add_argument("--plan-seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per case")
    parser.add_argument("--warm-up", type=int, default=20)
    args = parser.parse_args()
    documents = {
        plant: io.dataset_document(generate_dataset(*[int(p) for p in spec.split("x")]))
        for plant, spec in (("default", args.generate), ("B", args.generate_b))
    }
    with served(KEY, log=os.environ.get("GROUP_BENCH_LOG", os.devnull)) as (base, _):
        run(base, documents, args)


def run(base: str, documents: dict[str, dict], args) -> None:
    makers = {plant: {r["product_id"] for r in document["routings"]} for plant, document in documents.items()}
    # products of both plants, dates from the default plant's start (both start on the same day)
    both = {"plant": documents["default"]["plant"], "routings": [r for d in documents.values() for r in d["routings"]]}
    asks = [{**body, "resequence": False} for body in requests_for(both, args.warm_up + args.requests, 5)]
    warm, asks = asks[: args.warm_up], asks[args.warm_up :]
    with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=600) as client:
        wait_healthy(client)
        committed = {}
        for plant, prefix in PLANTS.items():
            plan_and_publish(client, documents[plant], args.plan_seconds, prefix)
            committed[plant] = len(client.get(f"{prefix}/plans/current/schedule").json()["orders"])
        cold_ms, cold = timed(client, warm[0])  # the first answer builds each plant's view of its plan
        for body in warm:  # each plant's view cached
            timed(client, body)
            timed(client, body, "/v1/plants/default/feasibility")
        group = [timed(client, body) for body in asks]
        alone = [timed(client, body, "/v1/plants/default/feasibility") for body in asks]
    print(f"committed orders in the published plans: {committed}")
    cold_server = ", ".join(f"{p['plant_id']} {p['answer_ms']:.0f} ms" for p in cold["plants"])
    print(f"first group answer after publishing (views built): {cold_ms:.0f} ms; answer_ms {cold_server}")
    wrong = [
        (body, answer)
        for body, (_, answer) in zip(asks, group, strict=True)
        if not _earliest_first(body, answer, makers)
    ]
    print(
        f"group answers listing every plant that makes the product, earliest first: {len(asks) - len(wrong)}/{len(asks)}"
    )
    for body, answer in wrong[:3]:
        print("  wrong:", body, [(p["plant_id"], p["earliest_delivery_fixed"]) for p in answer.get("plants") or []])
    print("| case | requests | p50 ms | p95 ms | max ms | answer_ms p50 | answer_ms p95 | answer_ms max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, rows, server_ms in (
        ("group, two plants (`/v1/feasibility`)", group, [sum(p["answer_ms"] for p in a["plants"]) for _, a in group]),
        ("one plant (`/v1/plants/default/feasibility`)", alone, [a["answer_ms"] for _, a in alone]),
    ):
        latencies = [ms for ms, _ in rows]
        print(
            f"| {name} | {len(rows)} | {statistics.median(latencies):.1f} | {percentile(latencies, 0.95):.1f} "
            f"| {max(latencies):.1f} | {statistics.median(server_ms):.2f} | {percentile(server_ms, 0.95):.2f} "
            f"| {max(server_ms):.2f} |"
        )
    feasible = sum(1 for _, a in group if a["feasible"])
    placed = sum(1 for _, a in group if a["earliest_delivery_fixed"])
    by_plant = {plant: sum(1 for _, a in group if a["plant_id"] == plant) for plant in PLANTS}
    print(f"group answers feasible (the due date met somewhere): {feasible}/{len(group)}; with a placement: {placed}")
    print(f"plant answering first: {by_plant}")
    print(f"one-plant answers feasible: {sum(1 for _, a in alone if a['feasible'])}/{len(alone)}")


def _earliest_first(body: dict, answer: dict, makers: dict[str, set[str]]) -> bool:
    """The plants that make the product, each once, earliest delivery first; the first at top level."""
    plants = answer.get("plants") or []
    expected = {plant for plant, products in makers.items() if body["product_id"] in products}
    if sorted(p["plant_id"] for p in plants) != sorted(expected):
        return False
    keys = [
        (p["earliest_delivery_fixed"] is None, p["earliest_delivery_fixed"] or dt.date.max.isoformat()) for p in plants
    ]
    top = plants[0]
    return keys == sorted(keys) and (answer["plant_id"], answer["earliest_delivery_fixed"]) == (
        top["plant_id"],
        top["earliest_delivery_fixed"],
    )


if __name__ == "__main__":
    main()
