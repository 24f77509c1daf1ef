"""``GET /v1/plans`` with 100 plans of a 2,000-order plant: how long the list takes.

Loads a generated plant into a SQLite database in a temporary folder through the real app
(FastAPI's TestClient), makes one real plan (a short solve), copies its row 99 times (each
copy carries the whole schedule and input snapshot, megabytes each), then times
``GET /v1/plans?limit=100`` (the target: at most 100 ms) and, for comparison, reading the
same 100 rows whole as the list did before it left the schedules and snapshots out.

    python -m benchmarks.plan_list --generate 2000x20x90x4 --plan-seconds 10 --runs 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.config import Settings
from api.db import PlanJob
from api.main import create_app
from solver import io
from solver.generate import generate_dataset

KEY = "plan-list-bench-key"
HEADERS = {"X-API-Key": KEY}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", default="2000x20x90x4")
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--plan-seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    document = io.dataset_document(generate_dataset(*[int(p) for p in args.generate.split("x")]))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'paichan.db'}",
            api_keys=f"planner:{KEY}",
            solver_workers=2,
        )
        with TestClient(create_app(settings)) as client:
            client.put("/v1/dataset", json=document, headers=HEADERS).raise_for_status()
            plan_id = one_plan(client, args.plan_seconds)
            size = copy_plan(client, plan_id, args.plans - 1)
            print(
                f"{args.plans} plans of {len(document['orders'])} orders; one row's schedule + snapshot: {size:.1f} MB"
            )
            listed = timed(args.runs, lambda: list_plans(client, args.plans))
            whole = timed(args.runs, lambda: read_whole_rows(client, args.plans))
    print(f"GET /v1/plans?limit={args.plans}: median {listed * 1000:.0f} ms over {args.runs} runs")
    print(f"the same rows read whole (schedule and snapshot, as before): median {whole * 1000:.0f} ms")


def one_plan(client: TestClient, seconds: float) -> str:
    response = client.post("/v1/plans", json={"time_limit_s": seconds}, headers=HEADERS)
    response.raise_for_status()
    plan_id = response.json()["plan_id"]
    while client.get(f"/v1/plans/{plan_id}", headers=HEADERS).json()["status"] in ("queued", "running"):
        time.sleep(0.5)
    return plan_id


def copy_plan(client: TestClient, plan_id: str, copies: int) -> float:
    """Insert ``copies`` copies of the plan's row; the megabytes of one row's schedule and snapshot."""
    with client.app.state.database.plant_session("default") as session:
        job = session.get(PlanJob, plan_id)
        columns = {c.key: getattr(job, c.key) for c in PlanJob.__table__.columns}
        for _ in range(copies):
            session.add(PlanJob(**{**columns, "plan_id": uuid.uuid4().hex[:12]}))
        session.commit()
        return (len(json.dumps(job.schedule)) + len(json.dumps(job.input_snapshot))) / 1e6


def list_plans(client: TestClient, limit: int) -> None:
    response = client.get(f"/v1/plans?limit={limit}", headers=HEADERS)
    response.raise_for_status()
    assert len(response.json()) == limit


def read_whole_rows(client: TestClient, limit: int) -> None:
    with client.app.state.database.plant_session("default") as session:
        rows = session.scalars(select(PlanJob).order_by(PlanJob.created_at.desc()).limit(limit)).all()
        assert len(rows) == limit and all(row.schedule is not None for row in rows)


def timed(runs: int, call) -> float:
    call()  # warm up
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


if __name__ == "__main__":
    main()
