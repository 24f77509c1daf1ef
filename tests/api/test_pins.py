"""POST/DELETE /v1/orders/{order_id}/pin: the planner's manual placement, kept by the published plan."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from solver import io
from solver.validation import validate_schedule
from tests.api.conftest import BATCH, PLANNER, SALES, solved_plan

ORDER = "SO-2611-0003"  # confirmed, RMU-002, made on L01 only
PIN = {"line_id": "L01", "start_date": "2026-12-09", "reason": "customer asked for a joint inspection that week"}


def pin(client: TestClient, order_id: str = ORDER, headers: dict[str, str] = PLANNER, **body: Any):
    return client.post(f"/v1/orders/{order_id}/pin", json={**PIN, **body}, headers=headers)


def unpin(client: TestClient, order_id: str = ORDER, reason: str = "inspection moved"):
    return client.request("DELETE", f"/v1/orders/{order_id}/pin", json={"reason": reason}, headers=PLANNER)


def published_schedule(client: TestClient) -> dict[str, Any]:
    """Solve, check the schedule with the validator against the live data, publish it; the schedule."""
    plan_id = solved_plan(client)["plan_id"]
    schedule = client.get(f"/v1/plans/{plan_id}/schedule", headers=PLANNER).json()
    dataset = io.load_json_document(client.get("/v1/dataset", headers=PLANNER).json())
    assert validate_schedule(dataset, schedule) == []
    assert client.post(f"/v1/plans/{plan_id}/publish", headers=PLANNER).status_code == 200
    return client.get("/v1/plans/current/schedule", headers=PLANNER).json()


def entry_of(schedule: dict[str, Any], order_id: str) -> dict[str, Any]:
    return next(e for e in schedule["orders"] if e["order_id"] == order_id)


def test_pin_plan_publish_unpin_with_history(client: TestClient, loaded: dict) -> None:
    response = pin(client)
    assert response.status_code == 200, response.text
    assert (response.json()["pinned_line"], response.json()["pinned_start"]) == ("L01", "2026-12-09")

    entry = entry_of(published_schedule(client), ORDER)
    assert (entry["line_id"], entry["production_start"]) == ("L01", "2026-12-09")
    document = client.get("/v1/dataset", headers=SALES).json()
    assert next(o for o in document["orders"] if o["order_id"] == ORDER)["pinned_start"] == "2026-12-09"

    response = unpin(client)
    assert response.status_code == 200, response.text
    assert (response.json()["pinned_line"], response.json()["pinned_start"]) == (None, None)
    history = client.get(f"/v1/orders/{ORDER}", headers=SALES).json()["history"]
    pins = [(e["kind"], e["detail"], e["reason"]) for e in history if e["kind"] in ("pin", "unpin")]
    assert pins == [
        (
            "pin",
            {"line_id": "L01", "start_date": "2026-12-09", "before": {"line_id": None, "start_date": None}},
            PIN["reason"],
        ),
        ("unpin", {"before": {"line_id": "L01", "start_date": "2026-12-09"}}, "inspection moved"),
    ]
    published_schedule(client)  # unpinned, the order is planned like any other, validly


def test_batch_may_pin_sales_may_not(client: TestClient, loaded: dict) -> None:
    assert pin(client, headers=SALES).status_code == 403
    assert pin(client, headers=BATCH).status_code == 200


def test_pin_of_an_order_in_production_or_cancelled_is_409(client: TestClient, loaded: dict) -> None:
    assert pin(client, "SO-2611-0002").status_code == 409  # in production: it already runs on its line
    moved = client.post(f"/v1/orders/{ORDER}/status", json={"status": "cancelled", "reason": "x"}, headers=PLANNER)
    assert moved.status_code == 200, moved.text
    response = pin(client)
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]
    assert unpin(client).status_code == 409


def test_pin_refuses_a_line_without_routing_or_a_day_outside_the_horizon(client: TestClient, loaded: dict) -> None:
    cases = [
        ({"line_id": "L02"}, "$.line_id", "no routing"),
        ({"start_date": "2026-11-27"}, "$.start_date", "outside the horizon"),
        ({"start_date": "2027-01-04"}, "$.start_date", "outside the horizon"),
        ({"start_date": "2026-12-05"}, "$.start_date", "not a working day"),  # a Saturday
    ]
    for body, path, words in cases:
        response = pin(client, **body)
        assert response.status_code == 422, (body, response.text)
        [problem] = response.json()["problems"]
        assert problem["column"] == path and words in problem["message"], problem
    assert client.get(f"/v1/orders/{ORDER}", headers=PLANNER).json()["pinned_start"] is None


def test_pin_of_an_unknown_order_is_404_and_unpin_of_an_unpinned_order_is_409(client: TestClient, loaded: dict) -> None:
    assert pin(client, "SO-NONE").status_code == 404
    assert unpin(client).status_code == 409
