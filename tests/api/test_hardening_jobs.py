"""Issue #13: several server processes on one database, and a database in trouble.

Two ``create_app`` instances on the same database stand for two server
processes: each has its own job runner, so its own owner id and heartbeat.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database, PlanJob, utcnow
from solver import io
from solver.generate import generate_dataset
from tests.api.conftest import PLANNER, SALES, start_plan, wait_finished, wait_for

MakeClient = Callable[..., TestClient]
CANCEL_WITHIN_SECONDS = 6.0  # heartbeat every 2 s, then the engine's own stop


def mid_size_document() -> dict[str, Any]:
    """200 orders on 6 lines over 60 days: 10 s of solving are not enough to prove it optimal."""
    return io.dataset_document(generate_dataset(200, 6, 60, 1))


# Regression: a starting process marked the other processes' running jobs failed, and a cancel
# through another process answered 200 while the solve ran on.
def test_a_second_process_leaves_the_running_solve_alone_and_its_cancel_stops_it(
    make_client: MakeClient,
) -> None:
    first = make_client()
    assert first.put("/v1/dataset", json=mid_size_document(), headers=PLANNER).status_code == 200
    running_id = start_plan(first, time_limit_s=10)
    queued_id = start_plan(first, time_limit_s=10)  # one solve at a time: this one waits in first's pool
    wait_for(first, running_id, lambda plan: plan["status"] == "running" and plan["progress"].get("solutions"))

    second = make_client()  # starts up while first solves
    plan = second.get(f"/v1/plans/{running_id}", headers=SALES).json()
    assert (plan["status"], plan["error"]) == ("running", None)
    assert second.get(f"/v1/plans/{queued_id}", headers=SALES).json()["status"] == "queued"

    response = second.post(f"/v1/plans/{queued_id}/cancel", headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"

    asked = time.monotonic()
    response = second.post(f"/v1/plans/{running_id}/cancel", headers=PLANNER)
    assert response.status_code == 200, response.text
    plan = wait_finished(second, running_id, timeout=CANCEL_WITHIN_SECONDS)
    stopped_after = time.monotonic() - asked
    assert plan["status"] == "cancelled", plan
    assert plan["valid"] is True and plan["progress"]["elapsed"] < 10
    schedule = second.get(f"/v1/plans/{running_id}/schedule", headers=SALES)
    assert schedule.status_code == 200 and schedule.json()["orders"]
    print(f"cancel through the other process stopped the solve after {stopped_after:.2f} s")
    assert stopped_after < CANCEL_WITHIN_SECONDS
    # the queued job first held never ran
    time.sleep(0.5)
    assert wait_finished(first, queued_id)["started_at"] is None


def _job(plan_id: str, status: str, owner: str | None, beat_seconds_ago: float | None, document: dict) -> PlanJob:
    return PlanJob(
        plan_id=plan_id,
        status=status,
        created_by="planner:test",
        parameters={"time_limit_s": 2, "frozen_days": None, "seed": 0},
        input_snapshot=document,
        progress={},
        owner=owner,
        heartbeat_at=None if beat_seconds_ago is None else utcnow() - dt.timedelta(seconds=beat_seconds_ago),
    )


def _dead_local_owner() -> str:
    import socket

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:gone"


def test_startup_ends_or_takes_over_only_the_jobs_of_owners_that_are_gone(
    database_url: str, make_client: MakeClient, small_document: dict
) -> None:
    database = Database(database_url)
    database.migrate()
    alive = "elsewhere.example:4242:alive"
    with database.plant_session("default") as session:
        session.add_all(
            [
                _job("live-running", "running", alive, 0, small_document),
                _job("live-queued", "queued", alive, 0, small_document),
                _job("stale-running", "running", "elsewhere.example:1:old", 120, small_document),
                _job("dead-running", "running", _dead_local_owner(), 0, small_document),  # this host, pid gone
                _job("stale-queued", "queued", "elsewhere.example:1:old", 120, small_document),
                _job("ownerless-running", "running", None, None, small_document),  # before owners existed
            ]
        )
        session.commit()
    database.engine.dispose()

    client = make_client(job_stale_seconds=3, job_heartbeat_seconds=0.5)
    status = {p: client.get(f"/v1/plans/{p}", headers=SALES).json() for p in ("live-running", "live-queued")}
    assert status["live-running"]["status"] == "running" and status["live-queued"]["status"] == "queued"
    for plan_id in ("stale-running", "dead-running", "ownerless-running"):
        plan = client.get(f"/v1/plans/{plan_id}", headers=SALES).json()
        assert (plan["status"], plan["error"]) == ("failed", "interrupted"), plan
    assert wait_finished(client, "stale-queued")["status"] == "succeeded"

    # the other owner falls silent: within the stale time (and a sweep) its jobs are taken care of
    assert wait_finished(client, "live-running", timeout=15)["error"] == "interrupted"
    assert wait_finished(client, "live-queued", timeout=30)["status"] == "succeeded"
    owner = client.app.state.runner.owner
    database = Database(database_url)
    with database.plant_session("default") as session:
        assert session.scalars(select(PlanJob.owner).where(PlanJob.plan_id == "live-queued")).one() == owner
    database.engine.dispose()


def test_queued_jobs_are_released_on_shutdown_for_the_next_process(
    make_client: MakeClient, small_document: dict
) -> None:
    first = make_client()
    assert first.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
    running_id = start_plan(first, time_limit_s=30)
    queued_id = start_plan(first)
    wait_for(first, running_id, lambda plan: plan["status"] == "running")
    first.__exit__(None, None, None)  # graceful stop: the running solve keeps its best plan, cancelled
    second = make_client()
    assert wait_finished(second, running_id)["status"] == "cancelled"
    assert wait_finished(second, queued_id)["status"] == "succeeded"  # taken over at once, not after 30 s


# -- a database in trouble ---------------------------------------------------------------


def read_only_url(database_url: str) -> str:
    """The same database, opened read-only (SQLite) or with read-only transactions (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return database_url + "%20-cdefault_transaction_read_only%3Don"


# Regression: on a read-only database /healthz said "ok" and every write was a bare 500.
def test_a_read_only_database_is_degraded_health_and_503s(
    database_url: str, make_client: MakeClient, small_document: dict
) -> None:
    writable = make_client()
    assert writable.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert writable.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200

    read_only = TestClient(_app(read_only_url(database_url)))
    with read_only:
        response = read_only.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert (body["status"], body["database"]) == ("degraded", "read-only")
        assert body["detail"] and "\n" not in body["detail"]
        assert read_only.get("/v1/orders", headers=SALES).status_code == 200  # reads still work
        order = {"order_id": "RO-1", "product_id": small_document["routings"][0]["product_id"]}
        order |= {"quantity": 1, "due_date": "2030-01-01"}
        for response in (
            read_only.post("/v1/orders", json=order, headers=PLANNER),
            read_only.put("/v1/dataset", json=small_document, headers=PLANNER),
            read_only.post("/v1/plans", json={"time_limit_s": 1}, headers=PLANNER),
        ):
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["code"] == "database_unavailable" and body["database"] == "read-only"
            assert body["detail"].startswith("database read-only: ") and "\n" not in body["detail"]
            assert "[SQL:" not in body["detail"]  # the driver's message, not the statement
            assert response.headers["retry-after"] == "5"


def _app(database_url: str):
    from api.main import create_app
    from tests.api.conftest import make_settings

    return create_app(make_settings(database_url))


# Regression: a database gone while serving: /healthz said so, but requests were bare 500s.
def test_an_unreachable_database_is_degraded_health_and_503s(make_client: MakeClient) -> None:
    client = make_client()
    live = client.app.state.database
    client.app.state.database = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert (body["status"], body["database"]) == ("degraded", "unreachable")
        assert "refused" in body["detail"] or "failed" in body["detail"]
        response = client.get("/v1/orders", headers=SALES)
        assert response.status_code == 503, response.text
        assert response.json()["database"] == "unreachable" and "\n" not in response.json()["detail"]
    finally:
        client.app.state.database.engine.dispose()
        client.app.state.database = live
    assert client.get("/healthz").status_code == 200
