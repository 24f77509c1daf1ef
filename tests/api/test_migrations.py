"""Alembic migrations: every table on SQLite and PostgreSQL, idempotent, and matching the models."""

from __future__ import annotations

import datetime as dt
import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from api.db import MIGRATIONS, Base, Database
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


def _migrate_to(database: Database, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_data_from_before_plants_becomes_the_default_plants(database_url: str, small_document: dict) -> None:
    """0010: what a one-plant service kept (master data, orders, ledger lock) is the default plant's."""
    database = Database(database_url)
    try:
        _migrate_to(database, "0009")
        master = {k: v for k, v in small_document.items() if k != "orders"}
        order = small_document["orders"][0]
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO master_data (id, document, version, updated_at, updated_by) VALUES (1, :d, 3, :t, 'x')"
                ),
                {"d": json.dumps(master), "t": dt.datetime(2026, 11, 1)},
            )
            connection.execute(
                text(
                    "INSERT INTO orders (order_id, product_id, quantity, due_date, priority, status, order_type, "
                    "created_at, updated_at, version) VALUES (:o, :p, :q, :d, 1, 'confirmed', 'regular', :t, :t, 1)"
                ),
                {
                    "o": order["order_id"],
                    "p": order["product_id"],
                    "q": order["quantity"],
                    "d": dt.date(2026, 12, 20),
                    "t": dt.datetime(2026, 11, 1),
                },
            )
            connection.execute(text("UPDATE ledger_lock SET version = 7"))
    finally:
        database.engine.dispose()
    with TestClient(create_app(make_settings(database_url))) as client:  # migrates to the head
        (plant,) = client.get("/v1/plants", headers=PLANNER).json()
        assert (plant["plant_id"], plant["default"], plant["dataset_version"], plant["orders"]) == (
            "default",
            True,
            3,
            1,
        )
        for path in ("/v1/orders", "/v1/plants/default/orders"):
            assert [o["order_id"] for o in client.get(path, headers=PLANNER).json()] == [order["order_id"]]
        assert client.get("/v1/dataset", headers=PLANNER).json()["plant"] == small_document["plant"]
        assert client.put("/v1/dataset", json=small_document, headers=PLANNER).json()["version"] == 4
        assert client.put("/v1/plants/B/dataset", json=small_document, headers=PLANNER).json()["version"] == 1
        with client.app.state.database.sessions() as session:
            locks = dict(session.execute(text("SELECT plant_id, version FROM ledger_lock")).all())
        assert locks["default"] >= 7 and "B" in locks  # the lock kept its version; B got its own
    database = Database(database_url)
    try:  # and back: one plant again, the default one's rows kept
        _migrate_to(database, "0009", down=True)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM orders")).scalar() == 30
            assert connection.execute(text("SELECT id, version FROM master_data")).all() == [(1, 4)]
    finally:
        database.engine.dispose()
