"""Liveness, API keys and roles: 401 without a known key, 403 without the role, keys never echoed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.config import Settings
from api.main import create_app
from tests.api.conftest import (
    API_KEYS,
    BATCH,
    BATCH_KEY,
    PLANNER,
    PLANNER_KEY,
    SALES,
    SALES_KEY,
    make_settings,
    solved_plan,
    start_plan,
    wait_finished,
)

NEW_ORDER = {
    "order_id": "NEW-1",
    "product_id": "HV-001",
    "quantity": 2,
    "due_date": "2026-12-20",
    "customer_id": "C001",
}

# Every /v1 endpoint that exists today (feasibility and quotes come with another issue).
V1_ENDPOINTS = [
    ("GET", "/v1/dataset", None),
    ("PUT", "/v1/dataset", {}),
    ("GET", "/v1/orders", None),
    ("POST", "/v1/orders", NEW_ORDER),
    ("GET", "/v1/orders/SO-2611-0001", None),
    ("PATCH", "/v1/orders/SO-2611-0001", {"quantity": 3, "reason": "customer mail"}),
    ("POST", "/v1/orders/SO-2611-0001/status", {"status": "cancelled"}),
    ("POST", "/v1/plans", {"time_limit_s": 2}),
    ("GET", "/v1/plans", None),
    ("GET", "/v1/plans/abc", None),
    ("GET", "/v1/plans/abc/schedule", None),
    ("POST", "/v1/plans/abc/cancel", None),
    ("POST", "/v1/plans/abc/publish", None),
    ("GET", "/v1/plans/current/schedule", None),
]

PLANNER_ONLY = [
    ("PUT", "/v1/dataset", {}),
    ("PATCH", "/v1/orders/SO-2611-0001", {"quantity": 3, "reason": "customer mail"}),
    ("POST", "/v1/orders/SO-2611-0001/status", {"status": "reviewed"}),
    ("POST", "/v1/plans", {"time_limit_s": 2}),
    ("POST", "/v1/plans/abc/cancel", None),
    ("POST", "/v1/plans/abc/publish", None),
]


def call(client: Any, method: str, path: str, body: Any, headers: dict[str, str] | None = None):
    return client.request(method, path, json=body, headers=headers or {})


def test_healthz_needs_no_key_and_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(client: TestClient) -> None:
    database = client.app.state.database
    working = database.engine
    database.engine = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    try:
        response = client.get("/healthz")
    finally:
        database.engine.dispose()
        database.engine = working
    assert response.status_code == 503
    body = response.json()
    assert {k: body[k] for k in ("status", "database")} == {"status": "degraded", "database": "unreachable"}
    assert "Connection refused" in body["detail"] and "\n" not in body["detail"]


def test_missing_or_unknown_key_is_401(client: TestClient, loaded: dict) -> None:
    for method, path, body in V1_ENDPOINTS:
        for headers in ({}, {"X-API-Key": ""}, {"X-API-Key": "no-such-key"}, {"X-API-Key": PLANNER_KEY + "x"}):
            response = call(client, method, path, body, headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers.get("www-authenticate") == "ApiKey"


def test_key_is_checked_before_the_body(client: TestClient) -> None:
    """An anonymous caller learns nothing from validation errors."""
    response = client.post("/v1/orders", json={"quantity": "lots"})
    assert response.status_code == 401
    response = client.post("/v1/plans", json={"time_limit_s": -1}, headers=SALES)
    assert response.status_code == 403


def test_sales_may_not_do_planner_things(client: TestClient, loaded: dict) -> None:
    before = client.get("/v1/orders/SO-2611-0001", headers=SALES).json()
    for method, path, body in PLANNER_ONLY:
        response = call(client, method, path, body, SALES)
        assert response.status_code == 403, (method, path, response.text)
        assert "sales" in response.json()["detail"]
    after = client.get("/v1/orders/SO-2611-0001", headers=SALES).json()
    assert after == before
    assert client.get("/v1/plans", headers=SALES).json() == []
    assert client.get("/v1/dataset", headers=SALES).json() == client.get("/v1/dataset", headers=PLANNER).json()


def test_sales_may_read_and_create_orders(client: TestClient, loaded: dict) -> None:
    for path in ("/v1/dataset", "/v1/orders", "/v1/orders/SO-2611-0001", "/v1/plans"):
        assert client.get(path, headers=SALES).status_code == 200, path
    response = client.post("/v1/orders", json=NEW_ORDER, headers=SALES)
    assert response.status_code == 201, response.text
    plan = solved_plan(client)
    for path in (f"/v1/plans/{plan['plan_id']}", f"/v1/plans/{plan['plan_id']}/schedule"):
        assert client.get(path, headers=SALES).status_code == 200, path


def test_batch_may_do_planner_things(client: TestClient, small_document: dict) -> None:
    assert client.put("/v1/dataset", json=small_document, headers=BATCH).status_code == 200
    response = client.patch("/v1/orders/SO-2611-0001", json={"quantity": 9, "reason": "nightly"}, headers=BATCH)
    assert response.status_code == 200, response.text
    assert response.json()["quantity"] == 9
    response = client.post("/v1/orders", json=NEW_ORDER | {"status": "confirmed"}, headers=BATCH)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "confirmed"  # batch is not forced to received like sales
    response = client.post("/v1/orders/NEW-1/status", json={"status": "cancelled"}, headers=BATCH)
    assert response.status_code == 200, response.text
    plan_id = start_plan(client, BATCH)
    plan = wait_finished(client, plan_id)
    assert plan["status"] == "succeeded"
    assert plan["created_by"].startswith("batch:")
    response = client.post(f"/v1/plans/{plan_id}/publish", headers=BATCH)
    assert response.status_code == 200, response.text
    response = client.post(f"/v1/plans/{plan_id}/cancel", headers=BATCH)
    assert response.status_code == 409  # finished: past the role check


def test_keys_file(database_url: str, tmp_path: Path, small_document: dict) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# paichan keys\n\nplanner:alice:file-plan-key\n  sales:file-sales-key  \n", encoding="utf-8")
    settings = make_settings(database_url, api_keys="", api_keys_file=keys)
    with TestClient(create_app(settings)) as client:
        plan_key, sales_key = {"X-API-Key": "file-plan-key"}, {"X-API-Key": "file-sales-key"}
        assert client.get("/v1/orders", headers=PLANNER).status_code == 401  # only the file's keys
        assert client.get("/v1/orders", headers={"X-API-Key": "# paichan keys"}).status_code == 401
        assert client.put("/v1/dataset", json=small_document, headers=plan_key).status_code == 200
        assert client.put("/v1/dataset", json=small_document, headers=sales_key).status_code == 403
        change = {"priority": 3, "reason": "phone call, mail follows"}
        assert client.patch("/v1/orders/SO-2611-0001", json=change, headers=plan_key).status_code == 200
        history = client.get("/v1/orders/SO-2611-0001", headers=sales_key).json()["history"]
        assert history[-1]["actor"] == "planner:alice"


def test_keys_file_from_the_environment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("batch:nightly:env-file-key\n", encoding="utf-8")
    monkeypatch.setenv("PAICHAN_API_KEYS_FILE", str(keys))
    monkeypatch.setenv("PAICHAN_API_KEYS", "sales:env-sales-key")
    settings = Settings(database_url=database_url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/plans", headers={"X-API-Key": "env-file-key"}).status_code == 200
        assert client.get("/v1/plans", headers={"X-API-Key": "env-sales-key"}).status_code == 200
        response = client.post("/v1/plans/abc/cancel", headers={"X-API-Key": "env-sales-key"})
        assert response.status_code == 403
        assert client.post("/v1/plans/abc/cancel", headers={"X-API-Key": "env-file-key"}).status_code == 404


def test_several_keys_per_role(database_url: str) -> None:
    settings = make_settings(database_url, api_keys="planner:one-key,planner:two-key,sales:three-key")
    with TestClient(create_app(settings)) as client:
        for key in ("one-key", "two-key", "three-key"):
            assert client.get("/v1/plans", headers={"X-API-Key": key}).status_code == 200
        assert client.get("/v1/plans", headers=PLANNER).status_code == 401


def test_unknown_role_is_refused_without_echoing_the_key(database_url: str) -> None:
    with pytest.raises(ValueError) as raised:
        create_app(make_settings(database_url, api_keys="admin:top-secret-key"))
    assert "admin" in str(raised.value)
    assert "top-secret-key" not in str(raised.value)


def test_a_key_is_never_echoed(client: TestClient, small_document: dict, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-key-4711"
    responses = [
        client.get("/v1/orders", headers={"X-API-Key": wrong}),
        client.put("/v1/dataset", json=small_document, headers=SALES),
        client.put("/v1/dataset", json=small_document, headers=PLANNER),
        client.put("/v1/dataset", json={"plant": {}}, headers=PLANNER),
        client.post("/v1/orders", json=NEW_ORDER | {"quantity": 0}, headers=SALES),
        client.post("/v1/orders", json=NEW_ORDER, headers=SALES),
        client.get("/v1/orders/NEW-1", headers=SALES),
        client.patch("/v1/orders/NEW-1", json={"quantity": 4, "reason": "mail"}, headers=PLANNER),
        client.post("/v1/orders/NEW-1/status", json={"status": "shipped"}, headers=PLANNER),
        client.post("/v1/plans", json={"time_limit_s": 10_000}, headers=BATCH),
    ]
    plan_id = start_plan(client, BATCH)
    wait_finished(client, plan_id)
    responses += [
        client.get(f"/v1/plans/{plan_id}", headers=SALES),
        client.get("/v1/plans", headers=PLANNER),
        client.post(f"/v1/plans/{plan_id}/publish", headers=PLANNER),
        client.get("/v1/orders/NEW-1", headers=PLANNER),
        client.get("/v1/dataset", headers=PLANNER),
    ]
    secrets = [PLANNER_KEY, SALES_KEY, BATCH_KEY, wrong]
    for response in responses:
        for secret in secrets:
            assert secret not in response.text, (response.request.url, response.text)
            for name, value in response.headers.items():
                assert secret not in value, (name, value)
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
    assert API_KEYS not in logged
