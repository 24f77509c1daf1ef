"""Alembic migrations: every table on SQLite and PostgreSQL, idempotent, and matching the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from api.db import Base, Database
from api.main import create_app
from tests.api.conftest import PLANNER, make_settings

TABLES = {"master_data", "orders", "order_events", "plans", "publications", "quotes"}
TABLES |= {"ledger_lock", "promises", "order_reviews", "scenarios", "plants"}
HEAD = "0010"


def test_migrations_create_every_table_once(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert set(inspect(database.engine).get_table_names()) == set()
        database.migrate()
        tables = set(inspect(database.engine).get_table_names())
        assert tables == TABLES | {"alembic_version"}
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        database.migrate()  # a second run is a no-op
        assert set(inspect(database.engine).get_table_names()) == tables
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
            assert MigrationContext.configure(connection).get_current_revision() == HEAD
    finally:
        database.engine.dispose()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        database.migrate()
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        columns = {c["name"] for c in inspect(database.engine).get_columns("plans")}
        assert {"plan_id", "status", "input_snapshot", "progress", "schedule", "valid", "error"} <= columns
    finally:
        database.engine.dispose()


def test_a_migrated_database_keeps_its_data_on_the_next_start(database_url: str, small_document: dict) -> None:
    with TestClient(create_app(make_settings(database_url))) as client:
        assert client.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
    with TestClient(create_app(make_settings(database_url))) as client:
        assert len(client.get("/v1/orders", headers=PLANNER).json()) == 30
        assert client.put("/v1/dataset", json=small_document, headers=PLANNER).json()["version"] == 2
