"""Leftovers of the hardening pass: codes in requests, and a database that refuses a write."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from tests.api.conftest import API_KEYS, PG_DSN, PLANNER, PostgresSchema


@pytest.mark.parametrize("field", ["product_id", "customer_id", "pinned_line"])
def test_a_control_character_in_a_code_is_a_located_422(client: TestClient, loaded: dict, field: str) -> None:
    order = {"order_id": "SO-X", "product_id": "HV-001", "quantity": 1, "due_date": "2027-01-15"}
    response = client.post("/v1/orders", json=order | {field: "C\x1b[31m01"}, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert [p["column"] for p in response.json()["problems"]] == [f"$.{field}"]


def test_a_write_the_database_role_may_not_make_is_a_503(small_document: dict) -> None:
    """PostgreSQL's 'permission denied' (42501): read-only for us, as /healthz says, not a 500."""
    schema = PostgresSchema()
    reader = f"paichan_reader_{schema.name[-12:]}"
    try:
        with TestClient(create_app(Settings(database_url=schema.url, api_keys=API_KEYS))) as owner:
            assert owner.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
        schema.admin.execute(f"CREATE ROLE {reader} LOGIN")
        schema.admin.execute(f"GRANT USAGE ON SCHEMA {schema.name} TO {reader}")
        schema.admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema.name} TO {reader}")
        url = schema.url.replace("postgres@", f"{reader}@")
        with TestClient(create_app(Settings(database_url=url, api_keys=API_KEYS))) as client:
            assert client.get("/v1/orders", headers=PLANNER).status_code == 200  # reading is fine
            order = {"order_id": "SO-RO", "product_id": "HV-001", "quantity": 1, "due_date": "2027-01-15"}
            refused = client.post("/v1/orders", json=order, headers=PLANNER)
            assert refused.status_code == 503, refused.text
            assert refused.json()["database"] == "read-only"
            assert client.get("/healthz").json()["database"] == "read-only"
    finally:
        schema.drop()
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {reader}")
