"""Solves spread over Celery workers: eight 20-s plans (one CP-SAT thread each) on one worker
process against two, wall time from the first request to the last plan finished.

Needs Redis at 127.0.0.1:6379 (its database 12 is flushed). The API is the real app in this
process (TestClient) on a SQLite file; the workers are `paichan worker` processes with
concurrency 1.

    python -m benchmarks.workers --plans 8 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from solver import io
from solver.generate import generate_dataset

BROKER = "redis://127.0.0.1:6379/12"
KEY = "workers-bench-key"


def start_worker(database_url: str, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "PAICHAN_DATABASE_URL": database_url,
        "PAICHAN_BROKER_URL": BROKER,
        "PAICHAN_SOLVER_WORKERS": "1",
        "PAICHAN_WORKER_CONCURRENCY": "1",
    }
    command = [sys.executable, "-c", "import sys; from api.cli import run; sys.argv[0] = 'paichan'; run()", "worker"]
    with open(log, "wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def run(workers: int, plans: int, seconds: float) -> float:
    redis.Redis.from_url(BROKER).flushdb()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        settings = Settings(database_url=url, api_keys=f"planner:{KEY}", broker_url=BROKER, solver_workers=1)
        headers = {"X-API-Key": KEY}
        with TestClient(create_app(settings)) as client:
            document = io.dataset_document(generate_dataset(300, 8, 60, 3))
            client.put("/v1/dataset", json=document, headers=headers).raise_for_status()
            processes = [start_worker(url, Path(folder) / f"worker{n}.log") for n in range(workers)]
            try:
                time.sleep(3)  # the workers connect to the broker
                began = time.monotonic()
                ids = [
                    client.post("/v1/plans", json={"time_limit_s": seconds, "seed": n}, headers=headers).json()[
                        "plan_id"
                    ]
                    for n in range(plans)
                ]
                while any(
                    client.get(f"/v1/plans/{i}", headers=headers).json()["status"] in ("queued", "running") for i in ids
                ):
                    time.sleep(0.5)
                wall = time.monotonic() - began
                statuses = [client.get(f"/v1/plans/{i}", headers=headers).json() for i in ids]
                assert all(p["status"] == "succeeded" and p["valid"] for p in statuses), statuses
                return wall
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    one = run(1, args.plans, args.seconds)
    print(f"1 worker process: {one:.1f} s for {args.plans} plans of {args.seconds:g} s")
    two = run(2, args.plans, args.seconds)
    print(f"2 worker processes: {two:.1f} s; ratio {two / one:.2f}")


if __name__ == "__main__":
    main()
