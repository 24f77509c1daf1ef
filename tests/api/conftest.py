"""Fixtures for the HTTP service: a database on SQLite and on PostgreSQL, a client, a loaded dataset.

Every database test runs twice: on a SQLite file in ``tmp_path`` and on the
PostgreSQL at 127.0.0.1:5432 (database ``test``), each run in a fresh schema
that is dropped afterwards. Only when that server cannot be reached is the
PostgreSQL half skipped, with the reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from solver import io
from solver.domain import Dataset
from solver.generate import generate_dataset

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

PLANNER_KEY, SALES_KEY, BATCH_KEY = "plan-key", "sales-key", "batch-key"
API_KEYS = f"planner:{PLANNER_KEY},sales:{SALES_KEY},batch:{BATCH_KEY}"
PLANNER = {"X-API-Key": PLANNER_KEY}
SALES = {"X-API-Key": SALES_KEY}
BATCH = {"X-API-Key": BATCH_KEY}

FINISHED = ("succeeded", "failed", "cancelled")
SMALL_TIME_LIMIT = 3  # seconds; the small dataset is proven optimal in well under one


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'paichan.db'}"


class PostgresSchema:
    """A fresh schema in the test database, and a URL whose connections use it."""

    def __init__(self) -> None:
        try:
            self.admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as error:
            pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {str(error).strip()}")
        self.name = f"paichan_test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f"CREATE SCHEMA {self.name}")
        self.url = f"{PG_URL}?options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        try:
            self.admin.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        finally:
            self.admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migratable, empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "api_keys": API_KEYS,
        "solver_workers": 1,
        "default_time_limit": SMALL_TIME_LIMIT,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def make_client(database_url: str) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**settings)``: a started client on the test database with other settings."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(database_url, **overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The service on the test database, with its lifespan (migrations, job runner) running."""
    with TestClient(create_app(make_settings(database_url))) as client:
        yield client


def small_dataset() -> Dataset:
    """30 orders on 2 lines over 30 days: solved to optimality in about half a second."""
    return generate_dataset(30, 2, 30, 1)


@pytest.fixture
def small_document() -> dict[str, Any]:
    return io.dataset_document(small_dataset())


@pytest.fixture
def loaded(client: TestClient, small_document: dict[str, Any]) -> dict[str, Any]:
    """The small dataset PUT through the API; its JSON document."""
    response = client.put("/v1/dataset", json=small_document, headers=PLANNER)
    assert response.status_code == 200, response.text
    return small_document


def wait_for(
    client: Any, plan_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """Poll ``GET /v1/plans/{plan_id}`` until ``done(plan)``; the plan."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/plans/{plan_id}", headers=PLANNER)
        assert response.status_code == 200, response.text
        plan = response.json()
        if done(plan):
            return plan
        assert time.monotonic() < deadline, f"plan {plan_id} still {plan['status']} after {timeout} s: {plan}"
        time.sleep(0.1)


def wait_finished(client: Any, plan_id: str, timeout: float = 30.0) -> dict[str, Any]:
    return wait_for(client, plan_id, lambda plan: plan["status"] in FINISHED, timeout)


def start_plan(client: Any, headers: dict[str, str] = PLANNER, **body: Any) -> str:
    """POST /v1/plans (202); the plan id."""
    body.setdefault("time_limit_s", SMALL_TIME_LIMIT)
    response = client.post("/v1/plans", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["plan_id"]


def solved_plan(client: Any, headers: dict[str, str] = PLANNER, **body: Any) -> dict[str, Any]:
    """A plan started and polled until it succeeded."""
    plan = wait_finished(client, start_plan(client, headers, **body))
    assert plan["status"] == "succeeded", plan
    return plan
