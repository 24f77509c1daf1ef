"""Issue #13, data versions: no plan made on older data is published unchecked, no upload silently
drops agreed orders, and the plan list does not read every schedule."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from typer.testing import CliRunner

from api import cli
from tests.api.conftest import PLANNER, SALES, solved_plan, wait_finished


def publish(client: TestClient, plan_id: str, revalidate: bool = False):
    query = "?revalidate=true" if revalidate else ""
    return client.post(f"/v1/plans/{plan_id}/publish{query}", headers=PLANNER)


def without_line_l01(document: dict[str, Any], orders_dropped: int) -> dict[str, Any]:
    """The document without line L01 (its routings and calendar) and without its last ``orders_dropped``
    orders and the one in production on L01."""
    edited = copy.deepcopy(document)
    for table in ("lines", "routings", "line_calendar"):
        edited[table] = [row for row in edited[table] if row["line_id"] != "L01"]
    orders = [o for o in edited["orders"] if o.get("pinned_line") != "L01"]
    edited["orders"] = orders[: len(orders) - orders_dropped]
    return edited


# -- a plan made on older data ----------------------------------------------------------------------


def test_a_plan_made_before_the_dataset_was_replaced_is_not_published(client, loaded):
    """The reported bug: L01 and 20 orders gone, publishing the old plan answered 200."""
    plan = solved_plan(client)
    assert plan["dataset_version"] == 1
    response = client.put("/v1/dataset?remove_orders=true", json=without_line_l01(loaded, 20), headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2

    response = publish(client, plan["plan_id"])
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "stale_plan"
    assert body["master_changed"] is True
    assert (body["dataset_version"], body["current_version"]) == (1, 2)
    assert body["orders_changed"] == {"added": 0, "removed": 21, "changed": 0}
    assert "master data replaced since" in body["detail"] and "21 order(s) changed since" in body["detail"]

    response = publish(client, plan["plan_id"], revalidate=True)  # checked on the current data: it fails
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "plan_invalid" and body["revalidated"] is True
    assert any("L01" in violation for violation in body["violations"])
    assert client.get("/v1/plans/current/schedule", headers=SALES).status_code == 404  # nothing was published


def test_a_plan_made_before_an_order_changed_is_refused_then_revalidated(client, loaded):
    plan = solved_plan(client)
    order_id = loaded["orders"][0]["order_id"]
    change = {"earliest_start": loaded["plant"]["plan_start"], "reason": "customer asked"}
    assert client.patch(f"/v1/orders/{order_id}", json=change, headers=PLANNER).status_code == 200

    response = publish(client, plan["plan_id"])
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "stale_plan" and body["master_changed"] is False
    assert body["orders_changed"] == {"added": 0, "removed": 0, "changed": 1}
    assert body["orders"] == [{"order_id": order_id, "change": "changed"}]

    response = publish(client, plan["plan_id"], revalidate=True)  # still valid on the current data
    assert response.status_code == 200, response.text
    assert client.get("/v1/plans/current/schedule", headers=SALES).status_code == 200


def test_revalidating_refuses_a_plan_without_an_order_confirmed_since(client, loaded):
    plan = solved_plan(client)
    order = {**loaded["orders"][0], "order_id": "SO-LATE-1", "status": "confirmed"}
    assert client.post("/v1/orders", json=order, headers=PLANNER).status_code == 201

    response = publish(client, plan["plan_id"])
    assert response.status_code == 409
    assert response.json()["orders"] == [{"order_id": "SO-LATE-1", "change": "added"}]
    response = publish(client, plan["plan_id"], revalidate=True)
    assert response.status_code == 409
    assert response.json()["code"] == "plan_invalid"
    assert any("SO-LATE-1" in violation for violation in response.json()["violations"])


def test_changes_that_do_not_touch_the_plan_leave_it_publishable(client, loaded):
    """The same file uploaded again, a new received order and a renamed customer: nothing the plan used."""
    plan = solved_plan(client)
    assert client.put("/v1/dataset", json=loaded, headers=PLANNER).json()["version"] == 2
    order = {**loaded["orders"][0], "order_id": "SO-NEW-1", "status": "received"}
    assert client.post("/v1/orders", json=order, headers=PLANNER).status_code == 201
    assert publish(client, plan["plan_id"]).status_code == 200


def test_master_data_changed_since_is_stale_and_revalidates(client, loaded):
    plan = solved_plan(client)
    renamed = copy.deepcopy(loaded)
    renamed["customers"][0]["name"] = "a new name"
    assert client.put("/v1/dataset", json=renamed, headers=PLANNER).status_code == 200
    response = publish(client, plan["plan_id"])
    assert response.status_code == 409 and response.json()["master_changed"] is True
    assert publish(client, plan["plan_id"], revalidate=True).status_code == 200


def test_the_nightly_replan_publishes_the_plan_it_just_made(client, loaded, database_url, monkeypatch):
    monkeypatch.setenv("PAICHAN_DATABASE_URL", database_url)
    monkeypatch.setenv("PAICHAN_SOLVER_WORKERS", "1")
    result = CliRunner().invoke(cli.app, ["replan", "--time-limit", "3", "--publish"])
    assert result.exit_code == 0, result.output
    assert client.get("/v1/plans", headers=PLANNER).json()[0]["published"]


def test_an_applied_scenario_publishes_its_plan_made_on_the_edited_copy(client, loaded):
    order_id = loaded["orders"][0]["order_id"]
    body = {"name": "later", "edits": [{"kind": "order", "order_id": order_id, "priority": 5}], "time_limit_s": 3}
    response = client.post("/v1/scenarios", json=body, headers=PLANNER)
    assert response.status_code == 202, response.text
    scenario = response.json()
    plan = client.get(f"/v1/plans/{scenario['plan_id']}", headers=PLANNER).json()

    assert wait_finished(client, plan["plan_id"])["status"] == "succeeded"
    response = client.post(f"/v1/scenarios/{scenario['scenario_id']}/apply", headers=PLANNER)
    assert response.status_code == 200, response.text
    assert client.get(f"/v1/plans/{plan['plan_id']}", headers=PLANNER).json()["published"]


# -- an older export ---------------------------------------------------------------------------------


def test_an_older_export_does_not_silently_remove_an_order_confirmed_since(client, loaded):
    """The reported bug: the old export dropped the confirmed order, answering only orders_removed: 1."""
    confirmed = {**loaded["orders"][0], "order_id": "SO-CONF-1", "status": "confirmed"}
    received = {**loaded["orders"][0], "order_id": "SO-RECV-1", "status": "received"}
    for order in (confirmed, received):
        assert client.post("/v1/orders", json=order, headers=PLANNER).status_code == 201

    response = client.put("/v1/dataset", json=loaded, headers=PLANNER)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "would_remove_orders"
    assert body["orders"] == [{"order_id": "SO-CONF-1", "status": "confirmed"}]  # a received one may go
    # nothing is half-written: the order, the master data version and the other orders are as they were
    assert client.get("/v1/orders/SO-CONF-1", headers=SALES).status_code == 200
    assert len(client.get("/v1/dataset", headers=SALES).json()["orders"]) == len(loaded["orders"]) + 2
    plan = solved_plan(client)
    assert plan["dataset_version"] == 1

    response = client.put("/v1/dataset?remove_orders=true", json=loaded, headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json()["orders_removed"] == 2 and response.json()["version"] == 2
    assert client.get("/v1/orders/SO-CONF-1", headers=SALES).status_code == 404


# -- the plan list -----------------------------------------------------------------------------------


def test_the_plan_list_reads_neither_schedules_nor_snapshots(client, loaded):
    """The reported bug: GET /v1/plans loaded every schedule and snapshot (4.6 s for 100 large plans)."""
    plan = solved_plan(client)
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        statements.append(statement)

    engine = client.app.state.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/v1/plans", headers=SALES)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert response.json()[0]["plan_id"] == plan["plan_id"] and response.json()[0]["dataset_version"] == 1
    plan_reads = [s for s in statements if "FROM plans" in s]
    assert plan_reads and not any("plans.schedule" in s or "plans.input_snapshot" in s for s in plan_reads)
    # one plan still comes whole
    assert client.get(f"/v1/plans/{plan['plan_id']}/schedule", headers=SALES).status_code == 200
