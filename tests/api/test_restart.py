"""The real server: uvicorn on 127.0.0.1 over HTTP, and a restart that cuts a running solve off."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.db import Database, PlanJob
from api.main import create_app
from solver import io
from solver.generate import generate_dataset
from solver.validation import validate_schedule
from tests.api.conftest import (
    API_KEYS,
    BATCH_KEY,
    PLANNER,
    PLANNER_KEY,
    SALES,
    SALES_KEY,
    make_settings,
    small_dataset,
    wait_finished,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``python -m uvicorn api.main:app`` on a free port of 127.0.0.1, its output in a log file."""

    def __init__(self, database_url: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "PAICHAN_DATABASE_URL": database_url,
            "PAICHAN_API_KEYS": API_KEYS,
            "PAICHAN_SOLVER_WORKERS": "1",
            "PAICHAN_DEFAULT_TIME_LIMIT": "3",
        }
        env.pop("PAICHAN_API_KEYS_FILE", None)
        self.log = log
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(log, "ab") as output:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"uvicorn exited with {self.process.returncode}:\n{self.log.read_text(errors='replace')}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        pytest.fail(f"uvicorn did not answer within {timeout} s:\n{self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no lifespan end, like a crash or an OOM kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def running_server(database_url: str, log: Path) -> Iterator[tuple[Server, httpx.Client]]:
    server = Server(database_url, log)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield server, http
    finally:
        server.stop()


def test_restart_fails_the_interrupted_solve_then_a_happy_path_over_http(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "uvicorn.log"
    big = io.dataset_document(generate_dataset(300, 8, 60, 1))
    with running_server(database_url, log) as (server, http):
        response = http.put("/v1/dataset", json=big, headers=PLANNER)
        assert response.status_code == 200, response.text
        response = http.post("/v1/plans", json={"time_limit_s": 60}, headers=PLANNER)
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/v1/plans/{response.json()['plan_id']}"
        interrupted = response.json()["plan_id"]
        wait_for(http, interrupted, lambda plan: plan["status"] == "running", timeout=30)
        server.kill()
        assert server.process.returncode == -signal.SIGKILL

    with running_server(database_url, log) as (server, http):
        plan = http.get(f"/v1/plans/{interrupted}", headers=SALES).json()
        assert plan["status"] == "failed", plan
        assert plan["error"] == "interrupted"
        assert plan["finished_at"] is not None
        assert http.post(f"/v1/plans/{interrupted}/publish", headers=PLANNER).status_code == 409
        assert http.post(f"/v1/plans/{interrupted}/cancel", headers=PLANNER).status_code == 409
        assert http.get(f"/v1/plans/{interrupted}/schedule", headers=SALES).status_code == 409

        # the happy path, over real HTTP
        assert http.get("/healthz").json() == {"status": "ok", "database": "ok"}
        assert http.get("/v1/orders").status_code == 401
        assert http.put("/v1/dataset", json={}, headers=SALES).status_code == 403
        small = io.dataset_document(small_dataset())
        response = http.put("/v1/dataset?remove_orders=true", json=small, headers=PLANNER)  # drops confirmed
        assert response.status_code == 200, response.text
        kept = {o["order_id"] for o in big["orders"]} & {o["order_id"] for o in small["orders"]}
        assert response.json()["orders"] == 30
        assert response.json()["orders_removed"] == 300 - len(kept)
        new = {"order_id": "WEB-1", "product_id": "HV-001", "quantity": 1, "due_date": "2026-12-22"}
        assert http.post("/v1/orders", json=new | {"customer_id": "C002"}, headers=SALES).status_code == 201
        change = {"quantity": 2, "reason": "customer mail"}
        assert http.patch("/v1/orders/WEB-1", json=change, headers=PLANNER).json()["quantity"] == 2
        for status in ("reviewed", "confirmed"):
            response = http.post("/v1/orders/WEB-1/status", json={"status": status}, headers=PLANNER)
            assert response.status_code == 200, response.text
        response = http.post("/v1/plans", json={"time_limit_s": 3}, headers=PLANNER)
        assert response.status_code == 202, response.text
        plan = wait_finished(http, response.json()["plan_id"])
        assert plan["status"] == "succeeded" and plan["valid"] is True
        response = http.post(f"/v1/plans/{plan['plan_id']}/publish", headers=PLANNER)
        assert response.status_code == 200, response.text
        schedule = http.get("/v1/plans/current/schedule", headers=SALES).json()
        assert "WEB-1" in {entry["order_id"] for entry in schedule["orders"]}
        dataset = io.load_json_document(http.get("/v1/dataset", headers=SALES).json())
        assert validate_schedule(dataset, schedule) == []
        daily = http.get("/v1/plans/current/schedule", params={"format": "daily"}, headers=SALES)
        assert daily.headers["content-type"].startswith("text/csv")
        assert daily.text.splitlines()[0].startswith("line_id,date,order_id,product_id,minutes,quantity,sequence,")
        listed = [p["plan_id"] for p in http.get("/v1/plans", headers=SALES).json()]
        assert listed == [plan["plan_id"], interrupted]
        assert http.get("/openapi.json").status_code == 200

    logged = log.read_text(errors="replace")
    for secret in (PLANNER_KEY, SALES_KEY, BATCH_KEY):
        assert secret not in logged


def test_startup_fails_running_jobs_and_requeues_queued_ones(database_url: str, small_document: dict) -> None:
    """What the lifespan does with jobs a previous process left behind, on both databases."""
    database = Database(database_url)
    database.migrate()
    parameters: dict[str, Any] = {"time_limit_s": 2, "frozen_days": None, "seed": 0}
    with database.plant_session("default") as session:
        for plan_id, status in (("cut-off", "running"), ("waiting", "queued"), ("done", "succeeded")):
            session.add(
                PlanJob(
                    plan_id=plan_id,
                    status=status,
                    created_by="planner:test",
                    parameters=parameters,
                    input_snapshot=small_document,
                    progress={},
                )
            )
        session.commit()
    database.engine.dispose()
    with TestClient(create_app(make_settings(database_url))) as client:
        cut_off = client.get("/v1/plans/cut-off", headers=PLANNER).json()
        assert (cut_off["status"], cut_off["error"]) == ("failed", "interrupted")
        waiting = wait_finished(client, "waiting")
        assert waiting["status"] == "succeeded" and waiting["valid"] is True
        assert client.get("/v1/plans/done", headers=PLANNER).json()["status"] == "succeeded"


# Regression: 200 feasibility requests at once exhausted the database pool (5 + 10
# connections for 40 worker threads, each request holding its connection while the
# ones that had finished waited for a thread to close theirs): 500s after 30 s.
def test_a_burst_of_feasibility_requests_all_succeed(database_url: str, tmp_path: Path, small_document: dict) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with running_server(database_url, tmp_path / "server.log") as (_server, client):
        assert client.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
        plan_id = client.post("/v1/plans", json={"time_limit_s": 2}, headers=PLANNER).json()["plan_id"]
        deadline = time.monotonic() + 60
        while client.get(f"/v1/plans/{plan_id}", headers=PLANNER).json()["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.post(f"/v1/plans/{plan_id}/publish", headers=PLANNER).status_code == 200
        before = client.get("/v1/plans/current/schedule", headers=PLANNER).json()
        product = small_document["routings"][0]["product_id"]
        body = {"product_id": product, "quantity": 1, "due_date": "2030-01-01"}

        def ask(_: int) -> int:
            with httpx.Client(base_url=client.base_url, headers=SALES, timeout=120) as own:
                return own.post("/v1/feasibility", json=body).status_code

        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(ask, range(200)))
        assert statuses == [200] * 200
        assert client.get("/v1/plans/current/schedule", headers=PLANNER).json() == before
