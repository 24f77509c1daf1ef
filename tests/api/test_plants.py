"""Several plants in one service: paths per plant, isolation, keys limited to plants, group order review."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import PLANNER, SALES, make_settings, wait_finished

KEYS = "planner:plan-key,sales:sales-key,batch:batch-key,planner@B:planner-b,sales@default+B:sales-ab,sales@C:sales-c"
PLANNER_B, SALES_AB, SALES_C = {"X-API-Key": "planner-b"}, {"X-API-Key": "sales-ab"}, {"X-API-Key": "sales-c"}


@pytest.fixture
def group(database_url: str) -> Any:
    with TestClient(create_app(make_settings(database_url, api_keys=KEYS))) as client:
        yield client


def put_plant(client: TestClient, plant_id: str, document: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"/v1/plants/{plant_id}/dataset", json=document, headers=PLANNER)
    assert response.status_code == 200, response.text
    return response.json()


def plan_and_publish(client: TestClient, prefix: str) -> str:
    response = client.post(f"{prefix}/plans", json={"time_limit_s": 3}, headers=PLANNER)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"{prefix}/plans/{response.json()['plan_id']}"
    plan_id = response.json()["plan_id"]
    plan = wait_finished(_Scoped(client, prefix), plan_id)
    assert plan["status"] == "succeeded" and plan["valid"], plan
    published = client.post(f"{prefix}/plans/{plan_id}/publish", headers=PLANNER)
    assert published.status_code == 200, published.text
    return plan_id


class _Scoped:
    """A client whose /v1/plans/... calls go to one plant's paths (for wait_finished)."""

    def __init__(self, client: TestClient, prefix: str):
        self.client, self.prefix = client, prefix

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path.replace("/v1", self.prefix, 1), **kwargs)


def test_a_new_plant_has_its_own_data_and_the_plain_paths_stay_on_the_default(
    group: TestClient, small_document: dict
) -> None:
    put_plant(group, "default", small_document)
    other = {**small_document, "orders": [dict(o, quantity=o["quantity"] + 1) for o in small_document["orders"][:10]]}
    named = group.put("/v1/plants/B/dataset", params={"name": "无锡工厂"}, json=other, headers=PLANNER)
    loaded = named.json()
    assert loaded["orders"] == 10 and loaded["version"] == 1
    plants = group.get("/v1/plants", headers=PLANNER).json()
    assert [(p["plant_id"], p["default"], p["orders"]) for p in plants] == [("default", True, 30), ("B", False, 10)]
    assert [p["name"] for p in plants] == ["", "无锡工厂"]
    assert len(group.get("/v1/orders", headers=PLANNER).json()) == 30
    assert len(group.get("/v1/plants/default/orders", headers=PLANNER).json()) == 30
    b_orders = group.get("/v1/plants/B/orders", headers=PLANNER).json()
    first = small_document["orders"][0]
    assert len(b_orders) == 10 and {o["order_id"] for o in b_orders} <= {
        o["order_id"] for o in small_document["orders"]
    }
    same_id = group.get(f"/v1/plants/B/orders/{first['order_id']}", headers=PLANNER).json()
    assert same_id["quantity"] == first["quantity"] + 1  # the same order number, the plant's own order
    assert group.get(f"/v1/orders/{first['order_id']}", headers=PLANNER).json()["quantity"] == first["quantity"]
    # a change in one plant leaves the other alone
    patched = group.patch(
        f"/v1/plants/B/orders/{first['order_id']}", json={"priority": 3, "reason": "x"}, headers=PLANNER
    )
    assert patched.status_code == 200, patched.text
    assert group.get(f"/v1/orders/{first['order_id']}", headers=PLANNER).json()["priority"] == first.get("priority", 1)


def test_unknown_and_malformed_plants(group: TestClient, small_document: dict) -> None:
    put_plant(group, "default", small_document)
    missing = group.get("/v1/plants/nowhere/orders", headers=PLANNER)
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]
    assert group.get("/v1/plants/bad%20id/orders", headers=PLANNER).status_code == 404  # cannot exist
    malformed = group.put("/v1/plants/bad%20id/dataset", json=small_document, headers=PLANNER)
    assert malformed.status_code == 422, malformed.text
    assert [p["plant_id"] for p in group.get("/v1/plants", headers=PLANNER).json()] == ["default"]
    assert group.get("/v1/plants/nowhere/orders").status_code == 401


def test_keys_limited_to_plants(group: TestClient, small_document: dict) -> None:
    put_plant(group, "default", small_document)
    put_plant(group, "B", small_document)
    assert group.get("/v1/plants/B/orders", headers=PLANNER_B).status_code == 200
    for path in ("/v1/orders", "/v1/plants/default/orders", "/v1/plants/default/plans", "/v1/dataset"):
        refused = group.get(path, headers=PLANNER_B)
        assert refused.status_code == 403 and "plant default" in refused.json()["detail"], path
    assert group.put("/v1/plants/default/dataset", json=small_document, headers=PLANNER_B).status_code == 403
    assert group.put("/v1/plants/D/dataset", json=small_document, headers=PLANNER_B).status_code == 403
    assert [p["plant_id"] for p in group.get("/v1/plants", headers=PLANNER_B).json()] == ["B"]
    assert [p["plant_id"] for p in group.get("/v1/plants", headers=SALES_AB).json()] == ["default", "B"]
    assert group.get("/v1/plants/B/orders", headers=SALES_AB).status_code == 200
    assert group.get("/v1/plants", headers=SALES_C).json() == []  # C does not exist (yet)
    assert group.get("/v1/whoami", headers=SALES_AB).json()["plants"] == ["B", "default"]


def test_plans_live_in_their_plant(group: TestClient, small_document: dict) -> None:
    put_plant(group, "default", small_document)
    put_plant(group, "B", small_document)
    plan_b = plan_and_publish(group, "/v1/plants/B")
    assert group.get(f"/v1/plants/B/plans/{plan_b}", headers=PLANNER).json()["status"] == "succeeded"
    assert group.get(f"/v1/plans/{plan_b}", headers=PLANNER).status_code == 404
    assert group.get("/v1/plans/current/schedule", headers=PLANNER).status_code == 404  # default: none published
    assert group.get("/v1/plants/B/plans/current", headers=PLANNER).json()["plan_id"] == plan_b
    assert group.post(f"/v1/plans/{plan_b}/publish", headers=PLANNER).status_code == 404
    b = next(p for p in group.get("/v1/plants", headers=PLANNER).json() if p["plant_id"] == "B")
    assert b["published_plan_id"] == plan_b


def test_group_order_review_answers_per_plant_earliest_first(group: TestClient, small_document: dict) -> None:
    small_document = {**small_document, "bom": []}  # capacity decides, not material
    put_plant(group, "default", small_document)
    # plant B: the same lines, twice as fast, no orders of its own: it delivers first
    fast = {**small_document, "orders": []}
    fast["routings"] = [dict(r, units_per_hour=r["units_per_hour"] * 2) for r in small_document["routings"]]
    put_plant(group, "B", fast)
    plan_and_publish(group, "/v1")
    plan_and_publish(group, "/v1/plants/B")
    product = small_document["orders"][0]["product_id"]
    start = dt.date.fromisoformat(small_document["plant"]["plan_start"])
    ask = {
        "product_id": product,
        "quantity": 10,
        "due_date": (start + dt.timedelta(days=3)).isoformat(),
        "resequence": False,
    }
    answer = group.post("/v1/feasibility", json=ask, headers=SALES)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    plants = body["plants"]
    assert [p["plant_id"] for p in plants] == ["B", "default"]
    assert plants[0]["earliest_delivery_fixed"] < plants[1]["earliest_delivery_fixed"]
    assert body["plant_id"] == "B" and body["earliest_delivery_fixed"] == plants[0]["earliest_delivery_fixed"]
    # one plant's own answer is the one it gives in the group
    alone = group.post("/v1/plants/default/feasibility", json=ask, headers=SALES).json()
    assert alone["plant_id"] == "default" and alone["plants"] is None
    assert alone["earliest_delivery_fixed"] == plants[1]["earliest_delivery_fixed"]
    # the hold goes to the chosen plant, and only its ledger holds it
    held = group.post("/v1/plants/B/quotes", json={**ask, "hold_hours": 2}, headers=SALES_AB)
    assert held.status_code == 201, held.text
    assert len(group.get("/v1/plants/B/quotes", headers=SALES).json()) == 1
    assert group.get("/v1/quotes", headers=SALES).json() == []
    # a key for plant C only: C does not exist, nothing answers
    assert group.post("/v1/feasibility", json=ask, headers=SALES_C).status_code == 404
    # a product only plant B makes: only B answers
    solo = {**fast, "products": [*fast["products"], {"product_id": "ONLY-B"}]}
    solo["routings"] = [*fast["routings"], {**fast["routings"][0], "product_id": "ONLY-B"}]
    put_plant(group, "B", solo)
    plan_and_publish(group, "/v1/plants/B")
    only_b = group.post("/v1/feasibility", json={**ask, "product_id": "ONLY-B"}, headers=SALES).json()
    assert [p["plant_id"] for p in only_b["plants"]] == ["B"]
    nowhere = group.post("/v1/feasibility", json={**ask, "product_id": "NOWHERE"}, headers=SALES)
    assert nowhere.status_code == 422
