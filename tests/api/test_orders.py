"""/v1/orders: list with filters, create, read with history, change with a reason, the lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import BATCH, PLANNER, SALES

# HV-001 is made on L01 only; C001 is a customer of the small dataset.
NEW = {"order_id": "NEW-1", "product_id": "HV-001", "quantity": 2, "due_date": "2026-12-20", "customer_id": "C001"}
LIFECYCLE = ["reviewed", "confirmed", "in_production", "produced", "inspected", "shipped", "delivered", "closed"]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [order["order_id"] for order in response.json()]


def create(client: TestClient, headers: dict[str, str] = PLANNER, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/orders", json=NEW | fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def move(client: TestClient, order_id: str, status: str, **fields: Any):
    return client.post(f"/v1/orders/{order_id}/status", json={"status": status, **fields}, headers=PLANNER)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_list_all_by_due_date(client: TestClient, loaded: dict) -> None:
    expected = [o["order_id"] for o in sorted(loaded["orders"], key=lambda o: (o["due_date"], o["order_id"]))]
    response = client.get("/v1/orders", headers=SALES)
    assert ids(response) == expected
    first = response.json()[0]
    source = next(o for o in loaded["orders"] if o["order_id"] == first["order_id"])
    assert {k: first[k] for k in source} == source


def test_list_filters(client: TestClient, loaded: dict) -> None:
    orders = loaded["orders"]

    def expect(keep) -> list[str]:
        return [o["order_id"] for o in sorted(orders, key=lambda o: (o["due_date"], o["order_id"])) if keep(o)]

    in_production = ids(client.get("/v1/orders", params={"status": "in_production"}, headers=SALES))
    assert in_production == expect(lambda o: o["status"] == "in_production") == ["SO-2611-0002"]
    assert ids(client.get("/v1/orders", params={"status": "received"}, headers=SALES)) == []
    assert ids(client.get("/v1/orders", params={"customer_id": "C006"}, headers=SALES)) == expect(
        lambda o: o["customer_id"] == "C006"
    )
    assert ids(client.get("/v1/orders", params={"product_id": "RMU-002"}, headers=SALES)) == expect(
        lambda o: o["product_id"] == "RMU-002"
    )
    window = {"due_from": "2026-12-15", "due_to": "2026-12-20"}
    in_window = expect(lambda o: "2026-12-15" <= o["due_date"] <= "2026-12-20")
    assert "SO-2611-0001" in in_window and "SO-2611-0020" in in_window  # both ends are included
    assert ids(client.get("/v1/orders", params=window, headers=SALES)) == in_window
    assert ids(client.get("/v1/orders", params={"due_from": "2027-01-07"}, headers=SALES)) == expect(
        lambda o: o["due_date"] >= "2027-01-07"
    )
    assert ids(client.get("/v1/orders", params={"due_to": "2026-12-05"}, headers=SALES)) == expect(
        lambda o: o["due_date"] <= "2026-12-05"
    )
    combined = {"customer_id": "C001", "product_id": "RMU-003", "due_to": "2026-12-31", "status": "confirmed"}
    assert ids(client.get("/v1/orders", params=combined, headers=SALES)) == ["SO-2611-0001", "SO-2611-0016"]


def test_list_rejects_bad_filters(client: TestClient, loaded: dict) -> None:
    for params in ({"status": "lost"}, {"due_from": "soon"}, {"due_to": "2026-13-01"}):
        response = client.get("/v1/orders", params=params, headers=SALES)
        assert response.status_code == 422, params
        assert response.json()["problems"][0]["file"] == "query"


def test_planner_creates_with_the_given_status(client: TestClient, loaded: dict) -> None:
    created = create(client, status="confirmed", priority=4, reason="signed contract 4711")
    assert created["status"] == "confirmed"
    assert created["priority"] == 4
    assert created["order_type"] == "regular"
    order = client.get("/v1/orders/NEW-1", headers=SALES).json()
    assert order["status"] == "confirmed"
    (event,) = order["history"]
    assert event["kind"] == "created"
    assert event["actor"].startswith("planner:")
    assert event["reason"] == "signed contract 4711"
    assert "NEW-1" in client.get("/v1/dataset", headers=PLANNER).text


def test_sales_orders_are_always_received(client: TestClient, loaded: dict) -> None:
    created = create(client, SALES, status="confirmed")
    assert created["status"] == "received"
    created = create(client, SALES, order_id="NEW-2", status="in_production", pinned_line="L01")
    assert created["status"] == "received"
    order = client.get("/v1/orders/NEW-2", headers=PLANNER).json()
    assert order["status"] == "received"
    assert order["history"][0]["actor"].startswith("sales:")
    assert ids(client.get("/v1/orders", params={"status": "received"}, headers=SALES)) == ["NEW-1", "NEW-2"]


def test_create_rejects_bad_fields_by_json_path(client: TestClient, loaded: dict) -> None:
    response = client.post(
        "/v1/orders",
        json=NEW | {"quantity": 0, "due_date": "someday", "priority": 11, "colour": "red"},
        headers=PLANNER,
    )
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    paths = {p["column"] for p in problems}
    assert {"$.quantity", "$.due_date", "$.priority", "$.colour"} <= paths
    assert all(p["file"] == "body" and p["message"] for p in problems)
    response = client.post("/v1/orders", json={"order_id": "NEW-1"}, headers=PLANNER)
    assert response.status_code == 422
    assert {"$.product_id", "$.quantity", "$.due_date"} <= {p["column"] for p in response.json()["problems"]}
    assert client.get("/v1/orders/NEW-1", headers=PLANNER).status_code == 404


def test_create_rejects_references_to_unknown_master_data(client: TestClient, loaded: dict) -> None:
    cases = {"product_id": "NO-SUCH", "customer_id": "C999", "pinned_line": "L99"}
    for field, value in cases.items():
        response = client.post("/v1/orders", json=NEW | {field: value}, headers=PLANNER)
        assert response.status_code == 422, (field, response.text)
        problems = response.json()["problems"]
        assert len(problems) == 1, problems  # only this order's problems, not the others'
        assert field in problems[0]["column"], problems
        assert value in problems[0]["message"] or "unknown" in problems[0]["message"].lower(), problems
    response = client.post("/v1/orders", json=NEW | {"status": "in_production"}, headers=PLANNER)
    assert response.status_code == 422, response.text  # in production needs a pinned line
    assert client.get("/v1/orders", params={"customer_id": "C001"}, headers=PLANNER).json()
    assert client.get("/v1/orders/NEW-1", headers=PLANNER).status_code == 404


def test_unknown_product_is_located_by_json_path_like_any_bad_field(client: TestClient, loaded: dict) -> None:
    """Both kinds of 422 on the same body locate the field the same way: file "body", column "$.<field>"."""
    bad_field = client.post("/v1/orders", json=NEW | {"quantity": 0}, headers=PLANNER).json()["problems"]
    assert [(p["file"], p["column"]) for p in bad_field] == [("body", "$.quantity")]
    unknown = client.post("/v1/orders", json=NEW | {"product_id": "NO-SUCH"}, headers=PLANNER).json()["problems"]
    assert [(p["file"], p["column"]) for p in unknown] == [("body", "$.product_id")]


def test_create_without_a_dataset_is_404(client: TestClient) -> None:
    response = client.post("/v1/orders", json=NEW, headers=PLANNER)
    assert response.status_code == 404
    assert "PUT /v1/dataset" in response.json()["detail"]


def test_duplicate_order_id_is_409(client: TestClient, loaded: dict) -> None:
    response = client.post("/v1/orders", json=NEW | {"order_id": "SO-2611-0001"}, headers=SALES)
    assert response.status_code == 409, response.text
    assert "SO-2611-0001" in response.json()["detail"]
    create(client)
    assert client.post("/v1/orders", json=NEW, headers=PLANNER).status_code == 409
    assert client.get("/v1/orders/SO-2611-0001", headers=PLANNER).json()["quantity"] == 7


def test_get_with_history_and_404(client: TestClient, loaded: dict) -> None:
    response = client.get("/v1/orders/SO-2611-0006", headers=SALES)
    assert response.status_code == 200
    order = response.json()
    assert order | {"history": None, "created_at": None, "updated_at": None} == {
        "reviews": [],
        "joint_review": {},
        "promise": None,  # nothing is published: no room is kept yet
        "order_id": "SO-2611-0006",
        "product_id": "RMU-001",
        "quantity": 6,
        "due_date": "2026-12-28",
        "customer_id": "C006",
        "priority": 6,
        "status": "confirmed",
        "earliest_start": None,
        "pinned_line": None,
        "order_type": "special",
        "deposit_ratio": 0.1,
        "pinned_start": None,
        "history": None,
        "created_at": None,
        "updated_at": None,
        "version": 1,
    }
    assert response.headers["ETag"] == 'W/"1"'
    assert [e["kind"] for e in order["history"]] == ["import"]
    assert order["history"][0]["actor"].startswith("planner:")
    response = client.get("/v1/orders/NO-SUCH", headers=SALES)
    assert response.status_code == 404
    assert "NO-SUCH" in response.json()["detail"]


def test_patch_requires_a_reason(client: TestClient, loaded: dict) -> None:
    for body in ({"quantity": 9}, {"quantity": 9, "reason": ""}):
        response = client.patch("/v1/orders/SO-2611-0001", json=body, headers=PLANNER)
        assert response.status_code == 422, response.text
        assert "$.reason" in {p["column"] for p in response.json()["problems"]}
    response = client.patch("/v1/orders/SO-2611-0001", json={"status": "closed", "reason": "x"}, headers=PLANNER)
    assert response.status_code == 422  # the status moves only along the lifecycle
    order = client.get("/v1/orders/SO-2611-0001", headers=PLANNER).json()
    assert order["quantity"] == 7 and order["status"] == "confirmed"
    assert len(order["history"]) == 1


def test_patch_records_who_when_what_and_why(client: TestClient, loaded: dict) -> None:
    before = utc_now()
    change = {"quantity": 9, "due_date": "2026-12-18", "priority": 5, "reason": "customer mail of 2026-11-28"}
    response = client.patch("/v1/orders/SO-2611-0001", json=change, headers=PLANNER)
    after = utc_now()
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["quantity"], changed["due_date"], changed["priority"]) == (9, "2026-12-18", 5)
    order = client.get("/v1/orders/SO-2611-0001", headers=SALES).json()
    assert (order["quantity"], order["due_date"], order["priority"]) == (9, "2026-12-18", 5)
    event = order["history"][-1]
    assert event["kind"] == "change"
    assert event["actor"].startswith("planner:") and len(event["actor"]) > len("planner:")
    assert event["reason"] == "customer mail of 2026-11-28"
    assert event["detail"]["changes"] == {
        "quantity": [7, 9],
        "due_date": ["2026-12-15", "2026-12-18"],
        "priority": [1, 5],
    }
    at = dt.datetime.fromisoformat(event["at"]).replace(tzinfo=None)
    assert before - dt.timedelta(seconds=1) <= at <= after + dt.timedelta(seconds=1)
    assert dt.date.fromisoformat(order["updated_at"][:10]) == at.date()
    dataset_order = next(
        o for o in client.get("/v1/dataset", headers=PLANNER).json()["orders"] if o["order_id"] == "SO-2611-0001"
    )
    assert dataset_order["quantity"] == 9


def test_patch_checks_the_new_values(client: TestClient, loaded: dict) -> None:
    response = client.patch(
        "/v1/orders/SO-2611-0001", json={"product_id": "NO-SUCH", "reason": "typo"}, headers=PLANNER
    )
    assert response.status_code == 422, response.text
    response = client.patch("/v1/orders/SO-2611-0001", json={"quantity": -1, "reason": "typo"}, headers=PLANNER)
    assert response.status_code == 422
    order = client.get("/v1/orders/SO-2611-0001", headers=PLANNER).json()
    assert (order["product_id"], order["quantity"]) == ("RMU-003", 7)
    assert len(order["history"]) == 1


def test_patch_unknown_order_is_404(client: TestClient, loaded: dict) -> None:
    response = client.patch("/v1/orders/NO-SUCH", json={"quantity": 9, "reason": "x"}, headers=PLANNER)
    assert response.status_code == 404
    response = client.post("/v1/orders/NO-SUCH/status", json={"status": "reviewed"}, headers=PLANNER)
    assert response.status_code == 404


def test_lifecycle_walk_to_closed(client: TestClient, loaded: dict) -> None:
    create(client, SALES)
    for status in LIFECYCLE:
        fields = {"line_id": "L01"} if status == "in_production" else {}
        response = move(client, "NEW-1", status, reason=f"to {status}", **fields)
        assert response.status_code == 200, (status, response.text)
        assert response.json()["status"] == status
    order = client.get("/v1/orders/NEW-1", headers=PLANNER).json()
    assert order["status"] == "closed"
    assert order["pinned_line"] == "L01"
    moves = [e for e in order["history"] if e["kind"] == "status"]
    assert [(e["detail"]["from"], e["detail"]["to"]) for e in moves] == list(
        zip(["received", *LIFECYCLE[:-1]], LIFECYCLE, strict=True)
    )
    assert all(e["actor"].startswith("planner:") for e in moves)
    assert moves[2]["detail"]["line_id"] == "L01" and moves[2]["reason"] == "to in_production"
    response = move(client, "NEW-1", "cancelled")
    assert response.status_code == 409
    assert response.json()["allowed"] == []


def test_illegal_move_is_409_listing_the_allowed_moves(client: TestClient, loaded: dict) -> None:
    create(client, SALES)
    response = move(client, "NEW-1", "shipped")
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["allowed"] == ["reviewed", "cancelled"]
    assert "received" in body["detail"] and "shipped" in body["detail"]
    response = move(client, "NEW-1", "received")
    assert response.status_code == 409  # no standing still
    response = move(client, "SO-2611-0002", "confirmed")  # in production: no way back
    assert response.status_code == 409
    assert response.json()["allowed"] == ["produced"]
    response = move(client, "NEW-1", "lost")
    assert response.status_code == 422
    assert client.get("/v1/orders/NEW-1", headers=PLANNER).json()["status"] == "received"


def test_cancel_before_production_only(client: TestClient, loaded: dict) -> None:
    for index, reached in enumerate(["received", "reviewed", "confirmed"]):
        order_id = f"C-{index}"
        create(client, order_id=order_id)
        for status in LIFECYCLE[: LIFECYCLE.index(reached) + 1] if reached != "received" else []:
            assert move(client, order_id, status).status_code == 200
        response = move(client, order_id, "cancelled", reason="customer withdrew in writing")
        assert response.status_code == 200, (reached, response.text)
        assert response.json()["status"] == "cancelled"
        assert move(client, order_id, "reviewed").json()["allowed"] == []
    for reached in ("in_production", "produced", "shipped"):
        order_id = f"P-{reached}"
        create(client, order_id=order_id, status="confirmed")
        for status in LIFECYCLE[2 : LIFECYCLE.index(reached) + 1]:
            fields = {"line_id": "L01"} if status == "in_production" else {}
            assert move(client, order_id, status, **fields).status_code == 200
        response = move(client, order_id, "cancelled")
        assert response.status_code == 409, (reached, response.text)
        assert "cancelled" not in response.json()["allowed"]
        assert client.get(f"/v1/orders/{order_id}", headers=PLANNER).json()["status"] == reached


def test_in_production_needs_a_line_that_makes_the_product(client: TestClient, loaded: dict) -> None:
    create(client, status="confirmed")
    response = move(client, "NEW-1", "in_production")
    assert response.status_code == 409, response.text
    assert "line_id" in response.json()["detail"]
    response = move(client, "NEW-1", "in_production", line_id="L02")  # HV-001 has no routing on L02
    assert response.status_code == 409, response.text
    assert "L02" in response.json()["detail"]
    response = move(client, "NEW-1", "in_production", line_id="L99")
    assert response.status_code == 409
    order = client.get("/v1/orders/NEW-1", headers=PLANNER).json()
    assert (order["status"], order["pinned_line"]) == ("confirmed", None)
    assert [e["kind"] for e in order["history"]] == ["created"]
    response = client.post("/v1/orders/NEW-1/status", json={"status": "in_production", "line_id": "L01"}, headers=BATCH)
    assert response.status_code == 200
    assert response.json()["pinned_line"] == "L01"


def test_in_production_orders_need_a_routing_on_their_line_however_they_get_there(
    client: TestClient, loaded: dict
) -> None:
    """The status move refuses in_production on a line that cannot make the product; create and change must too."""
    in_production = NEW | {"status": "in_production", "pinned_line": "L02"}  # HV-001 is made on L01 only
    response = client.post("/v1/orders", json=in_production, headers=PLANNER)
    assert response.status_code in (409, 422), response.text
    assert client.get("/v1/orders/NEW-1", headers=PLANNER).status_code == 404
    # SO-2611-0002 is in production on L01; LV-001 is made on L02 only
    change = {"product_id": "LV-001", "reason": "wrong article number"}
    response = client.patch("/v1/orders/SO-2611-0002", json=change, headers=PLANNER)
    assert response.status_code in (409, 422), response.text
    assert client.get("/v1/orders/SO-2611-0002", headers=PLANNER).json()["product_id"] == "RMU-002"
