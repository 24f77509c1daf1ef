"""Issue #14: solves on Celery workers.

Two ``paichan worker`` subprocesses on a Redis database of their own (flushed
first) and an API whose settings name that broker: plans are solved on the
workers, a cancel through the API stops a worker's solve, and a worker killed
mid-solve leaves no job running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database, PlanJob, utcnow
from api.main import create_app
from api.worker import QUEUED_OWNER, LostJobReaper
from solver import io
from tests.api.conftest import PLANNER, SALES, make_settings, small_dataset, start_plan, wait_finished, wait_for
from tests.api.test_hardening_jobs import CANCEL_WITHIN_SECONDS, mid_size_document

REDIS_DB = {"sqlite": 13, "postgresql": 14}  # one broker database per run, so runs never share queues
STALE_SECONDS = 6.0  # short, so a lost worker is caught within seconds
ROOT = Path(__file__).resolve().parents[2]


def _broker_url(request: pytest.FixtureRequest, redis_dbs: dict[str, int] = REDIS_DB) -> str:
    db = redis_dbs[request.node.callspec.params["database_url"]]
    try:
        broker = redis.Redis(host="127.0.0.1", port=6379, db=db, socket_connect_timeout=2)
        broker.flushdb()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {error}")
    return f"redis://127.0.0.1:6379/{db}"


def _start_worker(database_url: str, broker_url: str, log: Path) -> subprocess.Popen:
    environment = os.environ | {
        "PAICHAN_DATABASE_URL": database_url,
        "PAICHAN_BROKER_URL": broker_url,
        "PAICHAN_SOLVER_WORKERS": "1",
        "PAICHAN_JOB_STALE_SECONDS": str(STALE_SECONDS),
    }
    # the worktree's code, whatever `paichan` the environment's script would run
    command = [sys.executable, "-c", "import sys; from api.cli import run; sys.argv[0] = 'paichan'; run()", "worker"]
    return subprocess.Popen(
        [*command, "--concurrency", "1"], cwd=ROOT, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


@pytest.fixture
def redis_dbs() -> dict[str, int]:
    """The broker database of each run; a module that uses ``cluster`` overrides it with numbers of its own."""
    return REDIS_DB


@pytest.fixture
def cluster_settings() -> dict[str, Any]:
    """More settings of the ``cluster``'s API (a module may override it: keys limited to plants, say)."""
    return {}


@pytest.fixture
def cluster(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path: Path,
    redis_dbs: dict[str, int],
    cluster_settings: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    """An API client on a broker, and two worker processes (``workers``) solving its plans."""
    broker_url = _broker_url(request, redis_dbs)
    settings = make_settings(database_url, broker_url=broker_url, job_stale_seconds=STALE_SECONDS, **cluster_settings)
    with TestClient(create_app(settings)) as client:  # migrates first: the workers find the schema ready
        workers = [_start_worker(database_url, broker_url, tmp_path / f"worker{n}.log") for n in range(2)]
        try:
            yield {"client": client, "workers": workers, "database_url": database_url, "broker_url": broker_url}
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


def test_six_short_plans_are_solved_on_the_workers_and_validate(cluster: dict[str, Any]) -> None:
    client = cluster["client"]
    assert client.put("/v1/dataset", json=io.dataset_document(small_dataset()), headers=PLANNER).status_code == 200
    plan_ids = [start_plan(client, time_limit_s=2) for _ in range(6)]
    for plan_id in plan_ids:
        plan = wait_finished(client, plan_id, timeout=90)
        assert (plan["status"], plan["valid"], plan["error"]) == ("succeeded", True, None), plan
        assert client.get(f"/v1/plans/{plan_id}/schedule", headers=SALES).json()["orders"]
    with Database(cluster["database_url"]).plant_session("default") as session:
        jobs = session.scalars(select(PlanJob).where(PlanJob.plan_id.in_(plan_ids))).all()
        owners = {job.owner.split(":")[1] for job in jobs}
        assert all(job.attempts == 1 for job in jobs)
    worker_pids = {str(worker.pid) for worker in cluster["workers"]}
    assert owners <= worker_pids, (owners, worker_pids)  # solved by the workers, not by the API process


def test_a_cancel_through_the_api_stops_the_solve_on_its_worker(cluster: dict[str, Any]) -> None:
    client = cluster["client"]
    assert client.put("/v1/dataset", json=mid_size_document(), headers=PLANNER).status_code == 200
    plan_id = start_plan(client, time_limit_s=20)
    wait_for(client, plan_id, lambda plan: plan["status"] == "running" and plan["progress"].get("solutions"), 60)
    asked = time.monotonic()
    response = client.post(f"/v1/plans/{plan_id}/cancel", headers=PLANNER)
    assert response.status_code == 200, response.text
    plan = wait_finished(client, plan_id, timeout=CANCEL_WITHIN_SECONDS)
    assert time.monotonic() - asked < CANCEL_WITHIN_SECONDS
    assert (plan["status"], plan["valid"]) == ("cancelled", True), plan
    assert plan["progress"]["elapsed"] < 20
    assert client.get(f"/v1/plans/{plan_id}/schedule", headers=SALES).json()["orders"]


def test_a_worker_killed_mid_solve_leaves_no_job_running(cluster: dict[str, Any]) -> None:
    client = cluster["client"]
    assert client.put("/v1/dataset", json=mid_size_document(), headers=PLANNER).status_code == 200
    plan_id = start_plan(client, time_limit_s=8)
    wait_for(client, plan_id, lambda plan: plan["status"] == "running", 60)
    database = Database(cluster["database_url"])
    with database.plant_session("default") as session:
        owner_pid = int(session.get(PlanJob, plan_id).owner.split(":")[1])
    killed = next(worker for worker in cluster["workers"] if worker.pid == owner_pid)
    killed.send_signal(signal.SIGKILL)
    killed.wait()

    # the reaper (API and surviving worker) queues it again for the other worker: it ends there
    plan = wait_finished(client, plan_id, timeout=60)
    assert plan["status"] in ("succeeded", "failed"), plan
    with database.plant_session("default") as session:
        job = session.get(PlanJob, plan_id)
        print(f"killed worker {owner_pid}: plan {job.status} after {job.attempts} attempts ({job.error})")
        if job.status == "succeeded":
            assert job.attempts == 2 and job.valid is True
            assert int(job.owner.split(":")[1]) != owner_pid
        else:
            assert job.error and "worker was lost" in job.error
        assert not session.scalars(select(PlanJob).where(PlanJob.status == "running")).all()
    database.engine.dispose()


def test_a_job_lost_on_its_last_attempt_ends_failed_with_the_reason(database_url: str, small_document: dict) -> None:
    """No broker needed: the reaper alone. A job lost twice is failed, not queued a third time."""
    settings = make_settings(database_url, broker_url="redis://unused", job_stale_seconds=STALE_SECONDS)
    database = Database(database_url)
    database.migrate()
    gone = f"{os.uname().nodename}:999999999:gone"
    with database.plant_session("default") as session:
        for plan_id, attempts in (("lost-once", 1), ("lost-twice", 2)):
            session.add(
                PlanJob(
                    plan_id=plan_id,
                    status="running",
                    created_by="planner:test",
                    parameters={"time_limit_s": 2},
                    input_snapshot=small_document,
                    progress={},
                    owner=gone,
                    heartbeat_at=utcnow(),
                    attempts=attempts,
                )
            )
        session.commit()
    enqueued: list[str] = []
    LostJobReaper(database, settings, enqueued.append)()
    assert enqueued == ["lost-once"]
    with database.plant_session("default") as session:
        once, twice = session.get(PlanJob, "lost-once"), session.get(PlanJob, "lost-twice")
        assert (once.status, once.owner) == ("queued", QUEUED_OWNER)
        assert twice.status == "failed"
        assert twice.error == "interrupted: its worker was lost during attempt 2 of 2"
    database.engine.dispose()


def test_worker_without_a_broker_says_so(tmp_path: Path) -> None:
    environment = os.environ | {"PAICHAN_DATABASE_URL": f"sqlite:///{tmp_path / 'paichan.db'}"}
    environment.pop("PAICHAN_BROKER_URL", None)
    command = [sys.executable, "-c", "import sys; from api.cli import run; sys.argv[0] = 'paichan'; run()", "worker"]
    finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert "PAICHAN_BROKER_URL" in finished.stderr
