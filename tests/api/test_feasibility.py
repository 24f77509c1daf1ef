"""POST /v1/feasibility and the quote holds, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from solver import io
from solver.promise import plan_ledger
from tests.api.conftest import PLANNER, SALES, solved_plan


def published(client: TestClient) -> dict[str, Any]:
    plan = solved_plan(client)
    assert client.post(f"/v1/plans/{plan['plan_id']}/publish", headers=PLANNER).status_code == 200
    return client.get("/v1/plans/current/schedule", headers=SALES).json()


def a_product(document: dict[str, Any]) -> str:
    return document["routings"][0]["product_id"]


def ask(client: TestClient, document: dict[str, Any], **fields: Any) -> Any:
    body = {"product_id": a_product(document), "quantity": 1, "due_date": "2030-01-01"} | fields
    return client.post("/v1/feasibility", json=body, headers=SALES)


def test_feasibility_needs_a_published_plan(client, loaded):
    response = ask(client, loaded)
    assert response.status_code == 409
    assert "published" in response.json()["detail"]


def test_feasibility_answers_without_changing_the_plan(client, loaded):
    schedule = published(client)
    orders_before = client.get("/v1/orders", headers=SALES).json()
    response = ask(client, loaded, due_date=schedule["plan_start"])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["earliest_delivery_fixed"] is not None
    assert answer["feasible"] is False  # due on the plan start: no order can be delivered that day
    assert answer["earliest_delivery_resequenced"] <= answer["earliest_delivery_fixed"]
    placement = answer["placement"]
    assert placement["delivery_date"] == answer["earliest_delivery_fixed"]
    assert sum(a["minutes"] for a in placement["allocations"]) > 0
    assert {c["rule"] for c in answer["checks"]} >= {"release_day"}
    assert answer["binding"]
    assert client.get("/v1/plans/current/schedule", headers=SALES).json() == schedule
    assert client.get("/v1/orders", headers=SALES).json() == orders_before


def test_feasibility_problems_are_located(client, loaded):
    published(client)
    response = ask(client, loaded, product_id="NO-SUCH", quantity=0)
    assert response.status_code == 422
    columns = {p["column"] for p in response.json()["problems"]}
    assert "$.quantity" in columns
    response = ask(client, loaded, product_id="NO-SUCH")
    assert response.status_code == 422
    assert response.json()["problems"][0]["column"] == "$.product_id"


def test_a_hold_blocks_its_room_until_released(client, loaded):
    schedule = published(client)
    dataset = io.load_json_document(loaded, "$")
    free = plan_ledger(dataset, schedule)
    body = {"product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01"}
    first = ask(client, loaded, resequence=False).json()
    quotes, booked, exhausted = [], {}, False
    for _ in range(40):  # each hold takes room and material: later answers fit around the earlier holds
        quote = client.post("/v1/quotes", json=body, headers=SALES)
        if quote.status_code == 409:  # nothing left to hold: the holds took it all
            assert quote.json()["answer"]["placement"] is None
            exhausted = True
            break
        assert quote.status_code == 201, quote.text
        quotes.append(quote.json())
        for allocation in quote.json()["placement"]["allocations"]:
            key = (quote.json()["placement"]["line_id"], allocation["date"])
            booked[key] = booked.get(key, 0) + allocation["minutes"]
    for (line_id, date), minutes in booked.items():
        day = free.calendar.index_of(dt.date.fromisoformat(date))
        assert minutes <= free.lines[line_id].free[day], (line_id, date)
    assert len(quotes) >= 2
    assert quotes[0]["placement"] == first["placement"]
    # the holds' room or kit is gone: a later answer moves, or at last none is left
    assert exhausted or any(q["placement"] != first["placement"] for q in quotes[1:])
    assert len(client.get("/v1/quotes", headers=SALES).json()) == len(quotes)
    for quote in quotes:
        assert client.delete(f"/v1/quotes/{quote['quote_id']}", headers=SALES).status_code == 204
    assert ask(client, loaded, resequence=False).json()["placement"] == first["placement"]
    assert client.delete(f"/v1/quotes/{quotes[0]['quote_id']}", headers=SALES).status_code == 409


def test_confirming_a_hold_creates_a_confirmed_order_with_the_promised_date(client, loaded):
    published(client)
    body = {"product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01", "hold_hours": 2}
    quote = client.post("/v1/quotes", json=body, headers=SALES).json()
    confirmed = client.post(f"/v1/quotes/{quote['quote_id']}/confirm", headers=SALES)
    assert confirmed.status_code == 201, confirmed.text
    order = client.get(f"/v1/orders/{confirmed.json()['order_id']}", headers=SALES).json()
    assert order["status"] == "confirmed"
    assert order["due_date"] == quote["promised_delivery"]
    assert client.post(f"/v1/quotes/{quote['quote_id']}/confirm", headers=SALES).status_code == 409
    assert client.post("/v1/quotes/nope/confirm", headers=SALES).status_code == 404


def test_open_holds_go_into_the_next_plan(client, loaded):
    published(client)
    body = {"product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01"}
    quote = client.post("/v1/quotes", json=body, headers=SALES).json()
    plan = solved_plan(client)
    schedule = client.get(f"/v1/plans/{plan['plan_id']}/schedule", headers=SALES).json()
    planned = {o["order_id"] for o in schedule["orders"]}
    assert f"HOLD-{quote['quote_id']}" in planned


def test_holds_are_booked_like_planned_runs(client, loaded):
    schedule = published(client)
    dataset = io.load_json_document(loaded, "$")
    body = {"product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01"}
    quote = client.post("/v1/quotes", json=body, headers=SALES).json()
    without = plan_ledger(dataset, schedule)
    with_hold = plan_ledger(dataset, schedule, [{**body, "placement": quote["placement"]}])
    line = quote["placement"]["line_id"]
    assert int(with_hold.lines[line].used.sum() - without.lines[line].used.sum()) == sum(
        a["minutes"] for a in quote["placement"]["allocations"]
    )


def test_sales_may_quote_but_not_without_a_key(client, loaded):
    published(client)
    assert client.post("/v1/feasibility", json={}, headers={}).status_code == 401
    body = {"product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01"}
    assert client.post("/v1/quotes", json=body, headers={"X-API-Key": "nope"}).status_code == 401


def test_capacity_and_rules_are_answered_apart(client, loaded):
    """Issue #11: a special order with no deposit fits the plan but a rule blocks it."""
    published(client)
    answer = ask(client, loaded, order_type="special", deposit_ratio=0.0).json()
    assert answer["capacity_feasible"] is True
    assert answer["blocked_by"] == ["special_order_deposit"]
    assert answer["feasible"] is False
    assert answer["promised_delivery"] == "2030-01-01"  # the date asked for: the fixed run meets it
    assert answer["alternatives"] is None
    deposit = next(c for c in answer["checks"] if c["rule"] == "special_order_deposit")
    assert deposit["blocking"] is True and deposit["params"] == {"required": 0.3, "paid": 0.0}
    assert all({"rule", "ok", "blocking", "detail", "params"} <= set(c) for c in answer["checks"])
    assert answer["resequencing_note"]["code"] in ("resequenced", "no_better", "busy")


def test_a_non_regular_order_waits_for_its_joint_review(client, loaded):
    published(client)
    pending = ask(client, loaded, order_type="non_regular", resequence=False).json()
    assert pending["blocked_by"] == ["joint_review"] and pending["feasible"] is False
    assert pending["resequencing_note"] == {"code": "not_asked", "params": {}}
    verdicts = dict.fromkeys(("technology", "quality", "purchasing", "production"), "approved")
    approved = ask(client, loaded, order_type="non_regular", joint_review=verdicts, resequence=False).json()
    assert approved["blocked_by"] == [] and approved["feasible"] is True
    wrong = ask(client, loaded, order_type="non_regular", joint_review={"sales": "approved"})
    assert wrong.status_code == 422


def test_a_missed_date_comes_with_alternatives(client, loaded):
    schedule = published(client)
    answer = ask(client, loaded, due_date=schedule["plan_start"], resequence=False).json()
    assert answer["capacity_feasible"] is False and answer["feasible"] is False
    assert answer["promised_delivery"] == answer["earliest_delivery_fixed"]
    alternatives = answer["alternatives"]
    assert alternatives["full_quantity"] == {"delivery_date": answer["earliest_delivery_fixed"]}
    assert alternatives["by_due_date"] is None  # nothing is delivered on the plan start
    assert alternatives["split"] is None
    for reason in answer["binding"]:
        assert reason["kind"] in ("capacity", "material", "release_day", "combined", "calendar"), reason
