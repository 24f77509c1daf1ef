"""Issue #14: plants and Celery workers together (CI targets: real Redis, SQLite and PostgreSQL).

The ``cluster`` of tests/api/test_workers.py (an API on a broker and two
``paichan worker`` processes) on Redis databases of its own, 11 and 12, so
these tests never share queues with that file's: plans of two plants solved on
both workers and checked by the validator again here, ``paichan replan
--all-plants --publish`` through the broker, two API processes on one database,
keys limited to a plant.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api import cli
from api.db import Database, PlanJob
from api.main import create_app
from solver import io
from solver.generate import generate_dataset
from solver.validation import validate_schedule
from tests.api import test_workers
from tests.api.conftest import PLANNER, SALES, make_settings, small_dataset, wait_finished
from tests.api.test_workers import STALE_SECONDS

KEYS = "planner:plan-key,sales:sales-key,batch:batch-key,planner@A:planner-a,sales@A:sales-a"
PLANNER_A, SALES_A = {"X-API-Key": "planner-a"}, {"X-API-Key": "sales-a"}
TIME_LIMIT = 2  # seconds per solve

cluster = test_workers.cluster  # the fixture: an API on a broker, two worker processes


@pytest.fixture
def redis_dbs() -> dict[str, int]:
    return {"sqlite": 11, "postgresql": 12}  # not test_workers.py's 13 and 14


@pytest.fixture
def cluster_settings() -> dict[str, Any]:
    return {"api_keys": KEYS}


def busy_document(seed: int) -> dict[str, Any]:
    """100 orders on 4 lines over 45 days: a solve uses most of its 2 s, so the two workers overlap."""
    return io.dataset_document(generate_dataset(100, 4, 45, seed))


class InPlant:
    """A client whose ``/v1/...`` GETs go to one plant's paths (for ``wait_finished``)."""

    def __init__(self, client: TestClient, plant_id: str, headers: dict[str, str] = PLANNER):
        self.client, self.plant_id, self.headers = client, plant_id, headers

    def get(self, path: str, **kwargs: Any) -> Any:
        kwargs["headers"] = self.headers
        return self.client.get(path.replace("/v1", f"/v1/plants/{self.plant_id}", 1), **kwargs)


def put_plant(client: TestClient, plant_id: str, document: dict[str, Any]) -> None:
    response = client.put(f"/v1/plants/{plant_id}/dataset", json=document, headers=PLANNER)
    assert response.status_code == 200, response.text


def start_in(client: TestClient, plant_id: str, headers: dict[str, str] = PLANNER, **body: Any) -> str:
    body.setdefault("time_limit_s", TIME_LIMIT)
    response = client.post(f"/v1/plants/{plant_id}/plans", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["plan_id"]


def wait_workers_ready(folder: Path, timeout: float = 60.0) -> None:
    """Both workers consume the queue (else the first one up may take every solve)."""
    deadline = time.monotonic() + timeout
    logs = [folder / f"worker{n}.log" for n in range(2)]
    while not all(log.exists() and " ready." in log.read_text(errors="replace") for log in logs):
        assert time.monotonic() < deadline, [log.read_text(errors="replace")[-2000:] for log in logs if log.exists()]
        time.sleep(0.2)


def jobs_of(database_url: str, plan_ids: list[str]) -> dict[str, PlanJob]:
    database = Database(database_url)
    with database.sessions() as session:  # every plant's
        jobs = {job.plan_id: job for job in session.scalars(select(PlanJob).where(PlanJob.plan_id.in_(plan_ids)))}
    database.engine.dispose()
    return jobs


def owner_pid(job: PlanJob) -> str:
    return job.owner.split(":")[1]


def test_six_plans_of_two_plants_run_on_both_workers_and_validate(cluster: dict[str, Any], tmp_path: Path) -> None:
    client = cluster["client"]
    put_plant(client, "A", busy_document(1))
    put_plant(client, "B", busy_document(2))
    wait_workers_ready(tmp_path)
    started = [(plant_id, start_in(client, plant_id)) for _ in range(3) for plant_id in ("A", "B")]
    datasets = {
        plant_id: io.load_json_document(client.get(f"/v1/plants/{plant_id}/dataset", headers=PLANNER).json(), "$")
        for plant_id in ("A", "B")
    }
    for plant_id, plan_id in started:
        plan = wait_finished(InPlant(client, plant_id), plan_id, timeout=90)
        assert (plan["status"], plan["valid"], plan["error"]) == ("succeeded", True, None), plan
        schedule = client.get(f"/v1/plants/{plant_id}/plans/{plan_id}/schedule", headers=SALES).json()
        assert schedule["orders"]
        # the API's verdict is the validator's; checked once more here, against the plant's own data
        assert validate_schedule(datasets[plant_id], schedule) == [], (plant_id, plan_id)
    jobs = jobs_of(cluster["database_url"], [plan_id for _, plan_id in started])
    assert {(job.plan_id, job.plant_id) for job in jobs.values()} == {(p, plant) for plant, p in started}
    assert all(job.attempts == 1 for job in jobs.values())
    worker_pids = {str(worker.pid) for worker in cluster["workers"]}
    assert {owner_pid(job) for job in jobs.values()} == worker_pids  # both workers solved, the API none


def test_replan_all_plants_runs_on_the_workers_and_publishes_each_plant(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = cluster["client"]
    document = io.dataset_document(small_dataset())
    put_plant(client, "A", document)
    put_plant(client, "B", document)
    for name, value in {
        "PAICHAN_DATABASE_URL": cluster["database_url"],
        "PAICHAN_BROKER_URL": cluster["broker_url"],
        "PAICHAN_SOLVER_WORKERS": "1",
        "PAICHAN_LANG": "en",
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)
    arguments = ["replan", "--all-plants", "--publish", "--time-limit", str(TIME_LIMIT), "--max-wait", "120"]
    result = CliRunner().invoke(cli.app, arguments)
    assert result.exit_code == 0, result.output
    assert "2 plan job(s) sent to the workers" in result.output
    assert "plant default has no dataset: skipped" in result.output
    report = result.output[result.output.index("replan by plant") :]
    worker_pids = {str(worker.pid) for worker in cluster["workers"]}
    for plant_id in ("A", "B"):
        [plan] = client.get(f"/v1/plants/{plant_id}/plans", headers=PLANNER).json()
        assert (plan["status"], plan["valid"], plan["published"]) == ("succeeded", True, True), plan
        assert plan["created_by"] == "batch:replan"
        assert client.get(f"/v1/plants/{plant_id}/plans/current", headers=PLANNER).json()["plan_id"] == plan["plan_id"]
        [job] = jobs_of(cluster["database_url"], [plan["plan_id"]]).values()
        assert owner_pid(job) in worker_pids and job.plant_id == plant_id  # solved on a worker, not here
        [row] = [line for line in report.splitlines() if line.strip("│ ").startswith(f"{plant_id} ")]
        assert plan["plan_id"] in row and "succeeded" in row and row.rstrip(" │").endswith("yes"), report


def test_two_api_processes_on_the_workers_leave_each_others_jobs_alone(
    cluster: dict[str, Any], database_url: str
) -> None:
    first = cluster["client"]
    put_plant(first, "A", busy_document(1))
    put_plant(first, "B", busy_document(2))
    started = [("A", start_in(first, "A")), ("B", start_in(first, "B"))]
    settings = make_settings(
        database_url, api_keys=KEYS, broker_url=cluster["broker_url"], job_stale_seconds=STALE_SECONDS
    )
    with TestClient(create_app(settings)) as second:  # starts (and reaps) while the first's jobs are on the workers
        started += [("B", start_in(second, "B")), ("A", start_in(second, "A"))]
        for plant_id, plan_id in started:
            for client in (first, second):  # either process answers for any job of any plant
                plan = wait_finished(InPlant(client, plant_id), plan_id, timeout=90)
                assert (plan["status"], plan["valid"]) == ("succeeded", True), plan
    jobs = jobs_of(database_url, [plan_id for _, plan_id in started])
    assert all(job.attempts == 1 and job.error is None for job in jobs.values())
    worker_pids = {str(worker.pid) for worker in cluster["workers"]}
    assert {owner_pid(job) for job in jobs.values()} <= worker_pids


def test_two_api_processes_solving_in_process_leave_each_others_jobs_alone(make_client: Any) -> None:
    """No broker: each API process owns the solves it runs, across plants; the other one's start and its
    sweeps every couple of seconds leave them alone (none failed, none taken over)."""
    overrides = {"api_keys": KEYS, "broker_url": None, "solve_jobs": 1, "job_stale_seconds": STALE_SECONDS}
    first = make_client(**overrides)
    put_plant(first, "A", busy_document(1))
    put_plant(first, "B", busy_document(2))
    mine = {start_in(first, plant_id): plant_id for plant_id in ("A", "B", "A")}
    second = make_client(**overrides)  # one solve at a time: the first's queue is still waiting when it starts
    theirs = {start_in(second, plant_id): plant_id for plant_id in ("B", "A", "B")}
    assert any(
        first.get(f"/v1/plants/{p}/plans/{i}", headers=PLANNER).json()["status"] == "queued" for i, p in mine.items()
    )
    for plan_id, plant_id in (mine | theirs).items():
        plan = wait_finished(InPlant(first, plant_id), plan_id, timeout=90)
        assert (plan["status"], plan["valid"], plan["error"]) == ("succeeded", True, None), plan
    jobs = jobs_of(first.app.state.database.url, list(mine | theirs))
    assert {jobs[p].owner for p in mine} == {first.app.state.runner.owner}
    assert {jobs[p].owner for p in theirs} == {second.app.state.runner.owner}
    assert all(job.attempts == 1 for job in jobs.values())


def test_keys_limited_to_plant_a_get_403_on_plant_b_while_the_workers_run(cluster: dict[str, Any]) -> None:
    client = cluster["client"]
    document = io.dataset_document(small_dataset())
    put_plant(client, "A", document)
    put_plant(client, "B", document)
    plan_b = start_in(client, "B")
    plan_a = start_in(client, "A", headers=PLANNER_A)
    # while the workers solve them
    for path in ("/v1/plants/B/plans", f"/v1/plants/B/plans/{plan_b}", "/v1/plants/B/dataset", "/v1/plans"):
        refused = client.get(path, headers=PLANNER_A)
        assert refused.status_code == 403 and "plant " in refused.json()["detail"], (path, refused.text)
    assert client.post("/v1/plants/B/plans", json={"time_limit_s": 1}, headers=PLANNER_A).status_code == 403
    assert client.post(f"/v1/plants/B/plans/{plan_b}/cancel", headers=PLANNER_A).status_code == 403
    assert client.put("/v1/plants/B/dataset", json=document, headers=PLANNER_A).status_code == 403
    ask = {"product_id": document["orders"][0]["product_id"], "quantity": 5, "due_date": "2026-12-20"}
    for key in (SALES_A, PLANNER_A):
        assert client.post("/v1/plants/B/feasibility", json=ask, headers=key).status_code == 403
    assert [p["plant_id"] for p in client.get("/v1/plants", headers=PLANNER_A).json()] == ["A"]
    # their own plant answers, and plant B's plan was left to run
    plan = wait_finished(InPlant(client, "A", PLANNER_A), plan_a, timeout=90)
    assert (plan["status"], plan["valid"]) == ("succeeded", True), plan
    plan = wait_finished(InPlant(client, "B"), plan_b, timeout=90)
    assert (plan["status"], plan["valid"]) == ("succeeded", True), plan
    assert client.post(f"/v1/plants/A/plans/{plan_a}/publish", headers=PLANNER_A).status_code == 200
    assert client.post(f"/v1/plants/B/plans/{plan_b}/publish", headers=PLANNER_A).status_code == 403
    assert client.post("/v1/plants/A/feasibility", json=ask, headers=SALES_A).status_code == 200
    [job_a, job_b] = [jobs_of(cluster["database_url"], [p])[p] for p in (plan_a, plan_b)]
    assert {owner_pid(job_a), owner_pid(job_b)} <= {str(worker.pid) for worker in cluster["workers"]}
