"""Issue #13: lost updates, racing creates and confirms, and bodies that used to end in a 500.

Races run with a thread pool against one ``TestClient``, on SQLite and on PostgreSQL:
exactly one of the changes made from one version wins, the others get 409, and the
order's history always chains (each change's "before" is the previous change's "after").
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from api import rules, store
from api.db import OrderRow
from api.main import MAX_JSON_DEPTH, json_too_deep
from tests.api.conftest import PLANNER, SALES
from tests.api.test_feasibility import published
from tests.api.test_orders import NEW

RACERS = 16
MAX_INT = 2_147_483_647


def race(calls: list) -> list[Any]:
    """Run the calls at once; their responses in order."""
    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(lambda call: call(), calls))


def codes(responses: list[Any]) -> Counter:
    return Counter(r.status_code for r in responses)


def order(client: TestClient, order_id: str = "NEW-1") -> dict[str, Any]:
    response = client.get(f"/v1/orders/{order_id}", headers=PLANNER)
    assert response.status_code == 200, response.text
    return response.json()


def new_order(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/orders", json=NEW | fields, headers=PLANNER)
    assert response.status_code == 201, response.text
    return response.json()


def patch(client: TestClient, body: dict[str, Any], order_id: str = "NEW-1", **headers: str) -> Any:
    return client.patch(f"/v1/orders/{order_id}", json={"reason": "customer's mail"} | body, headers=PLANNER | headers)


def move(client: TestClient, status: str, order_id: str = "NEW-1", **headers: str) -> Any:
    return client.post(f"/v1/orders/{order_id}/status", json={"status": status}, headers=PLANNER | headers)


def assert_history_chains(history: list[dict[str, Any]], field: str, final: Any) -> None:
    """Every change's "before" is what the one before it left: no update was lost."""
    changes = [
        e["detail"]["changes"][field] for e in history if e["kind"] == "change" and field in e["detail"]["changes"]
    ]
    for (_, after), (before, _) in pairwise(changes):
        assert before == after, changes
    assert changes[-1][1] == final, changes


# -- versions and ETags -------------------------------------------------------------------------------


def test_every_change_bumps_the_version_and_the_etag(client: TestClient, loaded: dict) -> None:
    created = client.post("/v1/orders", json=NEW, headers=PLANNER)
    assert created.json()["version"] == 1 and created.headers["ETag"] == 'W/"1"'
    assert client.get("/v1/orders/NEW-1", headers=SALES).headers["ETag"] == 'W/"1"'
    changed = patch(client, {"quantity": 3})
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.headers["ETag"] == 'W/"2"'
    moved = move(client, "reviewed")
    assert moved.json()["version"] == 3 and moved.headers["ETag"] == 'W/"3"'
    pin = {"line_id": "L01", "start_date": loaded["plant"]["plan_start"], "reason": "by hand"}
    pinned = client.post("/v1/orders/NEW-1/pin", json=pin, headers=PLANNER)
    assert pinned.status_code in (200, 422), pinned.text
    version = order(client)["version"]
    assert version == (4 if pinned.status_code == 200 else 3)
    document = client.get("/v1/dataset", headers=PLANNER).json()
    for record in document["orders"]:
        if record["order_id"] == "NEW-1":
            record["quantity"] = 9
    assert client.put("/v1/dataset", json=document, headers=PLANNER).status_code == 200
    assert order(client)["version"] == version + 1  # an import's change is a change too
    assert order(client, "SO-2611-0001")["version"] == 1  # an import that changes nothing keeps the version


def test_if_match_of_an_older_version_is_409_order_changed(client: TestClient, loaded: dict) -> None:
    new_order(client)
    assert patch(client, {"quantity": 3}, **{"If-Match": 'W/"1"'}).status_code == 200
    stale = patch(client, {"quantity": 4}, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 409, stale.text
    assert stale.json()["code"] == "order_changed" and stale.json()["version"] == 2
    assert move(client, "reviewed", **{"If-Match": '"1"'}).json()["code"] == "order_changed"
    assert order(client)["quantity"] == 3 and order(client)["status"] == "received"
    for fresh in ('"2"', "2", 'W/"7", W/"2"'):  # strong, bare and a list are taken too
        assert patch(client, {"priority": 2}, **{"If-Match": fresh}).status_code == 200
        assert patch(client, {"priority": 3}, **{"If-Match": "*"}).status_code == 200
        assert move(client, "received", **{"If-Match": "*"}).status_code == 409  # an illegal move stays 409
        current = order(client)["version"]
        assert patch(client, {"priority": 2}, **{"If-Match": f'W/"{current}"'}).status_code == 200
        break


def test_a_write_from_a_stale_read_is_refused_by_the_update_itself(client: TestClient, loaded: dict) -> None:
    """UPDATE ... WHERE version = <read>: even a request that read before another's commit cannot overwrite it."""
    new_order(client)
    database = client.app.state.database
    with database.plant_session("default") as slow, database.plant_session("default") as fast:
        stale = slow.get(OrderRow, ("default", "NEW-1"))  # read at version 1
        fresh = fast.get(OrderRow, ("default", "NEW-1"))
        fresh.quantity = 5
        fast.commit()
        stale.quantity = 6
        with pytest.raises(store.Conflict) as refused, store.order_guard(slow, "NEW-1"):
            slow.commit()
    assert refused.value.detail["code"] == "order_changed" and refused.value.detail["version"] == 2
    assert order(client)["quantity"] == 5


# -- races ------------------------------------------------------------------------------------------


def test_racing_patches_from_one_version_one_wins(client: TestClient, loaded: dict) -> None:
    new_order(client)
    responses = race([lambda i=i: patch(client, {"quantity": i}, **{"If-Match": 'W/"1"'}) for i in range(3, 3 + 24)])
    assert codes(responses) == {200: 1, 409: 23}
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert all(r.json()["code"] == "order_changed" for r in responses if r.status_code == 409)
    final = order(client)
    assert final["quantity"] == winner["quantity"] and final["version"] == 2
    assert [e["detail"]["changes"]["quantity"] for e in final["history"] if e["kind"] == "change"] == [
        [2, winner["quantity"]]
    ]


def test_racing_patches_without_if_match_lose_no_update(client: TestClient, loaded: dict) -> None:
    new_order(client)
    responses = race([lambda i=i: patch(client, {"quantity": i}) for i in range(3, 3 + 24)])
    assert set(codes(responses)) <= {200, 409}, [r.text for r in responses if r.status_code not in (200, 409)]
    final = order(client)
    changes = [e for e in final["history"] if e["kind"] == "change"]
    assert len(changes) == codes(responses)[200] and final["version"] == 1 + len(changes)
    assert_history_chains(final["history"], "quantity", final["quantity"])


def test_racing_moves_from_reviewed_one_wins(client: TestClient, loaded: dict) -> None:
    new_order(client)
    assert move(client, "reviewed").status_code == 200
    calls = [lambda s=s: move(client, s, **{"If-Match": 'W/"2"'}) for s in ["confirmed", "cancelled"] * 12]
    responses = race(calls)
    assert codes(responses) == {200: 1, 409: 23}
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    final = order(client)
    moves = [(e["detail"]["from"], e["detail"]["to"]) for e in final["history"] if e["kind"] == "status"]
    assert moves == [("received", "reviewed"), ("reviewed", winner["status"])]
    assert final["status"] == winner["status"]


def test_racing_moves_without_if_match_follow_the_lifecycle(client: TestClient, loaded: dict) -> None:
    new_order(client)
    assert move(client, "reviewed").status_code == 200
    responses = race([lambda s=s: move(client, s) for s in ["confirmed", "cancelled"] * 12])
    assert set(codes(responses)) <= {200, 409}
    final = order(client)
    moves = [(e["detail"]["from"], e["detail"]["to"]) for e in final["history"] if e["kind"] == "status"]
    assert len(moves) == 1 + codes(responses)[200] <= 3  # reviewed, then confirmed and/or cancelled
    for (_, to), (after, _) in pairwise(moves):
        assert to == after, moves
    assert moves[-1][1] == final["status"]


def test_racing_creates_of_one_id_one_wins(client: TestClient, loaded: dict) -> None:
    responses = race([lambda: client.post("/v1/orders", json=NEW, headers=SALES) for _ in range(24)])
    assert codes(responses) == {201: 1, 409: 23}
    assert all(r.json()["code"] == "order_exists" for r in responses if r.status_code == 409)
    assert [e["kind"] for e in order(client)["history"]] == ["created"]


def test_an_insert_that_loses_the_race_in_the_database_is_409_order_exists(
    client: TestClient, loaded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other create committed after this one looked: the primary key refuses it, and that is a 409."""
    new_order(client)
    new_row = store._new_row

    def unchecked(session: Any, record: dict[str, Any], actor: str) -> OrderRow:  # looked before the other's commit
        row = new_row(record)
        session.add(row)
        return row

    monkeypatch.setattr(store, "create_order", unchecked)
    response = client.post("/v1/orders", json=NEW, headers=PLANNER)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "order_exists"
    monkeypatch.undo()
    assert [e["kind"] for e in order(client)["history"]] == ["created"]


def test_any_integrity_error_is_a_409_and_rolled_back(
    client: TestClient, loaded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_order(client)

    def clash(*_: Any, **__: Any) -> None:
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key value violates unique constraint"))

    monkeypatch.setattr(store, "change_order", clash)
    response = patch(client, {"quantity": 3})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict" and "reload" in response.json()["detail"]
    monkeypatch.undo()
    assert patch(client, {"quantity": 3}).status_code == 200  # nothing was left locked


def test_a_stale_write_outside_the_order_routes_is_409_order_changed(
    client: TestClient, loaded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stale(*_: Any, **__: Any) -> None:
        raise StaleDataError("UPDATE statement on table 'orders' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(rules, "record_review", stale)
    review = {"department": "quality", "reviewer": "Li", "verdict": "approved"}
    response = client.post("/v1/orders/SO-2611-0006/reviews", json=review, headers=PLANNER)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "order_changed"


def test_racing_confirms_of_one_quote_one_wins(client: TestClient, loaded: dict) -> None:
    published(client)
    body = {"product_id": "HV-002", "quantity": 1, "due_date": "2030-01-01"}
    quote = client.post("/v1/quotes", json=body, headers=SALES)
    assert quote.status_code == 201, quote.text
    quote_id = quote.json()["quote_id"]
    responses = race([lambda: client.post(f"/v1/quotes/{quote_id}/confirm", headers=SALES) for _ in range(16)])
    assert codes(responses) == {201: 1, 409: 15}
    assert order(client, f"Q-{quote_id}")["status"] == "confirmed"


# -- bodies that used to end in a 500 ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["priority", "order_type", "product_id", "quantity", "due_date"])
def test_patch_with_null_for_a_field_every_order_has_is_422(client: TestClient, loaded: dict, field: str) -> None:
    response = patch(client, {field: None}, "SO-2611-0001")
    assert response.status_code == 422, response.text
    assert [p["column"] for p in response.json()["problems"]] == [f"$.{field}"]
    assert order(client, "SO-2611-0001")["version"] == 1


def test_patch_with_null_clears_an_optional_field(client: TestClient, loaded: dict) -> None:
    new_order(client, earliest_start="2026-12-01")
    response = patch(client, {"earliest_start": None, "customer_id": None})
    assert response.status_code == 200, response.text
    assert response.json()["earliest_start"] is None and response.json()["customer_id"] is None


@pytest.mark.parametrize("quantity", [2**31, 2**63, 10**30])
def test_quantities_above_what_the_databases_store_are_422(client: TestClient, loaded: dict, quantity: int) -> None:
    created = client.post("/v1/orders", json=NEW | {"quantity": quantity}, headers=PLANNER)
    assert created.status_code == 422 and created.json()["problems"][0]["column"] == "$.quantity", created.text
    changed = patch(client, {"quantity": quantity}, "SO-2611-0001")
    assert changed.status_code == 422 and changed.json()["problems"][0]["column"] == "$.quantity", changed.text
    asked = {"product_id": "HV-002", "quantity": quantity, "due_date": "2030-01-01"}
    for path in ("/v1/feasibility", "/v1/quotes"):
        response = client.post(path, json=asked, headers=SALES)
        assert response.status_code == 422 and response.json()["problems"][0]["column"] == "$.quantity", path
    plan = client.post("/v1/plans", json={"seed": quantity, "frozen_days": quantity}, headers=PLANNER)
    assert plan.status_code == 422 and {p["column"] for p in plan.json()["problems"]} == {"$.seed", "$.frozen_days"}
    assert patch(client, {"quantity": MAX_INT}, "SO-2611-0001").status_code in (200, 422)  # never a 500


def test_dataset_quantities_above_what_the_databases_store_are_located(client: TestClient, loaded: dict) -> None:
    document = json.loads(json.dumps(loaded))
    document["orders"][2]["quantity"] = 2**31
    response = client.put("/v1/dataset", json=document, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert [(p["file"], p["row"], p["column"]) for p in response.json()["problems"]] == [
        ("$.orders", "[2]", "quantity")
    ]


@pytest.mark.parametrize(
    ("path", "method", "body", "where"),
    [
        ("/v1/orders", "POST", NEW | {"order_id": "NEW\x00-1"}, "$.order_id"),
        ("/v1/orders", "POST", NEW | {"reason": "signed\x00"}, "$.reason"),
        ("/v1/orders/SO-2611-0001", "PATCH", {"reason": "mail\x00"}, "$.reason"),
        ("/v1/orders/SO-2611-0001", "PATCH", {"reason": "mail", "customer_id": "C\x00"}, "$.customer_id"),
        ("/v1/orders/SO-2611-0001/status", "POST", {"status": "cancelled", "reason": "\x00"}, "$.reason"),
        ("/v1/feasibility", "POST", {"product_id": "HV\x00", "quantity": 1, "due_date": "2030-01-01"}, "$.product_id"),
        ("/v1/plans", "POST", {"name": "night\x00"}, "$.name"),
        ("/v1/scenarios", "POST", {"name": "x", "edits": [{"kind": "cancel_order", "order_id": "A\x00"}]}, "$.edits"),
    ],
)
def test_a_nul_character_in_any_string_is_a_located_422(
    client: TestClient, loaded: dict, path: str, method: str, body: dict, where: str
) -> None:
    response = client.request(method, path, json=body, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert where in [p["column"] for p in response.json()["problems"]], response.text
    assert order(client, "SO-2611-0001")["version"] == 1


def test_a_nul_character_in_the_dataset_is_located(client: TestClient, loaded: dict) -> None:
    document = json.loads(json.dumps(loaded))
    document["orders"][1]["customer_id"] = "C001\x00"
    response = client.put("/v1/dataset", json=document, headers=PLANNER)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["problems"]
    assert (problem["file"], problem["row"], problem["column"]) == ("$.orders", "[1]", "customer_id")
    assert "NUL" in problem["message"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 950, 100_000])
@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v1/dataset"), ("POST", "/v1/scenarios"), ("PATCH", "/v1/orders/SO-2611-0001"), ("POST", "/v1/orders")],
)
def test_json_nested_too_deep_is_422_not_500(
    client: TestClient, loaded: dict, depth: int, method: str, path: str
) -> None:
    nested = '{"a":' * depth + "1" + "}" * depth
    for body in ("[" * depth + "]" * depth, '{"name": "x", "edits": [%s]}' % nested):  # noqa: UP031
        response = client.request(method, path, content=body, headers=PLANNER | {"content-type": "application/json"})
        assert response.status_code == 422, response.text[:300]
        (problem,) = response.json()["problems"]
        assert problem["code"] == "json_too_deep" and problem["column"] == "$"


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_too_deep(b"[" * 32 + b"]" * 32, 32)
    assert json_too_deep(b"[" * 33 + b"]" * 33, 32)
    assert not json_too_deep(json.dumps({"name": "[" * 100 + '\\"{{'}).encode(), 32)
    assert not json_too_deep(b"]" * 40 + b"[" * 10, 32)  # not JSON at all: the parser says so
    assert json_too_deep(b"[" * 40, 32)  # never closed, but too deep before that
    assert json_too_deep(b"[" * 10 + b"[[],[]," * 30, 32)  # deep by siblings that never close
    wide = json.dumps({"orders": [{"order_id": str(i), "tags": [[i]]} for i in range(5000)]}).encode()
    assert not json_too_deep(wide, 5)
    assert json_too_deep(wide, 4)
