"""Issue #14: ``paichan replan`` over the plants of a group.

``--plant B`` plans B alone, ``--all-plants`` every plant with a dataset, each
reported in a table; one plant's bad data is its own exit 2, the others are
still planned and published. The solves run here (no broker); on the Celery
workers see tests/api/test_workers_plants.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.db import Database, MasterData, OrderRow
from api.main import create_app
from api.plants import ensure_plant
from solver import io
from tests.api import conftest as api_fixtures
from tests.api.conftest import PLANNER, make_settings, small_dataset

TIME_LIMIT = "2"  # seconds; the small dataset is proven optimal well within it

database_url = api_fixtures.database_url  # the fixture: SQLite, and PostgreSQL


@pytest.fixture
def group(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A running API on the test database with plants default, A and B loaded; the CLI's environment."""
    monkeypatch.setenv("PAICHAN_DATABASE_URL", database_url)
    monkeypatch.setenv("PAICHAN_SOLVER_WORKERS", "1")
    monkeypatch.setenv("PAICHAN_LANG", "en")
    monkeypatch.setenv("COLUMNS", "200")  # the report's rows on one line each
    monkeypatch.delenv("PAICHAN_BROKER_URL", raising=False)
    document = io.dataset_document(small_dataset())
    with TestClient(create_app(make_settings(database_url))) as client:
        for plant_id in ("default", "A", "B"):
            response = client.put(f"/v1/plants/{plant_id}/dataset", json=document, headers=PLANNER)
            assert response.status_code == 200, response.text
        yield client


def replan(*arguments: str) -> Result:
    return CliRunner().invoke(cli.app, ["replan", "--time-limit", TIME_LIMIT, *arguments])


def plans_of(client: TestClient, plant_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/plants/{plant_id}/plans", headers=PLANNER)
    assert response.status_code == 200, response.text
    return response.json()


def report_row(output: str, plant_id: str) -> str:
    """The report table's line of ``plant_id``."""
    report = output[output.index("replan by plant") :]
    rows = [line for line in report.splitlines() if line.strip("│ ").startswith(f"{plant_id} ")]
    assert len(rows) == 1, report
    return rows[0]


def test_replan_of_one_plant_plans_only_that_plant(group: TestClient) -> None:
    result = replan("--plant", "B", "--publish")
    assert result.exit_code == 0, result.output
    [plan] = plans_of(group, "B")
    assert (plan["status"], plan["valid"], plan["published"]) == ("succeeded", True, True), plan
    assert plan["created_by"] == "batch:replan"
    assert plans_of(group, "default") == [] and plans_of(group, "A") == []
    row = report_row(result.output, "B")
    assert plan["plan_id"] in row and "succeeded" in row and "yes" in row
    assert f"plan {plan['plan_id']} published" in result.output


def test_replan_without_a_plant_is_the_default_plants_as_before(group: TestClient) -> None:
    result = replan()
    assert result.exit_code == 0, result.output
    [plan] = plans_of(group, "default")
    assert plan["status"] == "succeeded" and not plan["published"]
    assert plans_of(group, "A") == [] and plans_of(group, "B") == []
    assert "no (not asked)" in report_row(result.output, "default")
    assert "independent check" in result.output  # the solve's summary, as the single-plant replan printed it


def test_all_plants_plans_and_reports_every_plant(group: TestClient, database_url: str) -> None:
    database = Database(database_url)
    with database.plant_session("empty") as session:  # a plant without a dataset: nothing to plan there
        ensure_plant(session, "empty")
        session.commit()
    database.engine.dispose()
    result = replan("--all-plants", "--publish")
    assert result.exit_code == 0, result.output
    assert "plant empty has no dataset: skipped" in result.output
    for plant_id in ("default", "A", "B"):
        [plan] = plans_of(group, plant_id)
        assert (plan["status"], plan["valid"], plan["published"]) == ("succeeded", True, True), (plant_id, plan)
        current = group.get(f"/v1/plants/{plant_id}/plans/current", headers=PLANNER).json()
        assert current["plan_id"] == plan["plan_id"]
        row = report_row(result.output, plant_id)
        assert plan["plan_id"] in row and "succeeded" in row and row.rstrip(" │").endswith("yes")
    assert "empty" not in result.output[result.output.index("replan by plant") :]
    # the next night: each plant's plan against its own published one
    again = replan("--all-plants")
    assert again.exit_code == 0, again.output
    assert again.output.count("orders moved against the published plan:") == 3
    assert "this is the first plan" not in again.output
    for plant_id in ("default", "A", "B"):
        newest, first = plans_of(group, plant_id)
        assert newest["baseline_plan_id"] == first["plan_id"] and first["published"], (plant_id, newest, first)


def _plant_with_an_unknown_product(database_url: str, plant_id: str) -> None:
    """A master document and an order of a product it does not know, written behind the API's back."""
    document = io.dataset_document(small_dataset())
    document.pop("orders")
    database = Database(database_url)
    with database.plant_session(plant_id) as session:
        ensure_plant(session, plant_id)
        session.add(MasterData(document=document, version=1, updated_by="test"))
        session.add(
            OrderRow(order_id="SO-BAD", product_id="NO-SUCH-PRODUCT", quantity=5, due_date=dt.date(2026, 12, 20))
        )
        session.commit()
    database.engine.dispose()


def test_a_plant_with_bad_data_is_exit_2_and_the_others_are_planned_and_published(
    group: TestClient,
    database_url: str,
) -> None:
    _plant_with_an_unknown_product(database_url, "C")
    result = replan("--all-plants", "--publish")
    assert result.exit_code == 2, result.output
    assert "plant C has bad data" in result.output
    assert "unknown product 'NO-SUCH-PRODUCT'" in result.output and "Traceback" not in result.output
    for plant_id in ("default", "A", "B"):
        [plan] = plans_of(group, plant_id)
        assert (plan["status"], plan["valid"], plan["published"]) == ("succeeded", True, True), (plant_id, plan)
        assert row_says(result.output, plant_id, "yes")
    assert plans_of(group, "C") == []
    assert row_says(result.output, "C", "no: bad data (1 problem(s))")
    # the bad plant alone: the same exit code
    assert replan("--plant", "C").exit_code == 2


def row_says(output: str, plant_id: str, text: str) -> bool:
    return text in report_row(output, plant_id)


def test_an_unknown_plant_and_contradictory_options_are_exit_2(group: TestClient) -> None:
    result = replan("--plant", "nowhere")
    assert result.exit_code == 2
    assert "no plant nowhere (the plants: default, A, B)" in result.output and "Traceback" not in result.output
    both = replan("--plant", "B", "--all-plants")
    assert both.exit_code == 2
    assert "--plant and --all-plants cannot be used together" in both.output
    assert all(plans_of(group, plant_id) == [] for plant_id in ("default", "A", "B"))


def test_replan_speaks_chinese(group: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAICHAN_LANG", "zh")
    assert "没有工厂 nowhere" in replan("--plant", "nowhere").output
    assert "只能选一个" in replan("--plant", "B", "--all-plants").output
    result = replan("--plant", "A")
    assert result.exit_code == 0, result.output
    assert "各工厂排产结果" in result.output and "否（未要求发布）" in result.output


def test_a_broker_that_cannot_be_reached_fails_the_jobs_not_the_command(
    group: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAICHAN_BROKER_URL", "redis://127.0.0.1:1/0")
    result = replan("--all-plants", "--publish")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for plant_id in ("default", "A", "B"):
        [plan] = plans_of(group, plant_id)
        assert plan["status"] == "failed" and "not sent to the workers" in plan["error"], plan
        assert row_says(result.output, plant_id, "no: not sent to the workers")
