"""The promise ledger and the review rules, on SQLite and PostgreSQL.

Every test ends by validating the published plan with every hold and promise added as a
planned run (:func:`api.ledger.reservations_check`): no minute or unit is handed out twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api import cli, ledger
from solver import io
from solver.generate import generate_dataset
from tests.api.conftest import PLANNER, SALES, solved_plan
from tests.api.test_feasibility import published

ROOMY = "HV-002"  # the small plant's product with the most material to spare (M003 arrives by thousands)


def a_product(_: dict[str, Any]) -> str:
    return ROOMY


def assert_nothing_double_booked(client: TestClient) -> None:
    app = client.app.state
    with app.database.plant_session("default") as session:
        violations = ledger.reservations_check(session, app.promiser)
    assert violations == [], [str(v) for v in violations[:10]]


def hold(client: TestClient, document: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"product_id": a_product(document), "quantity": 1, "due_date": "2030-01-01"} | fields
    response = client.post("/v1/quotes", json=body, headers=SALES)
    assert response.status_code == 201, response.text
    return response.json()


def confirm(client: TestClient, quote_id: str, **body: Any) -> Any:
    return client.post(f"/v1/quotes/{quote_id}/confirm", json=body or None, headers=SALES)


def test_a_confirmed_hold_keeps_its_room(client, loaded):
    """The reported bug: once confirmed, a hold's room was free again for an identical request."""
    published(client)
    first = hold(client, loaded, quantity=6)  # about 430 minutes: two do not fit where one does
    assert confirm(client, first["quote_id"]).status_code == 201
    second = hold(client, loaded, quantity=6)
    assert second["placement"] != first["placement"]
    assert_nothing_double_booked(client)
    order = client.get(f"/v1/orders/Q-{first['quote_id']}", headers=SALES).json()
    assert order["promise"]["placement"] == first["placement"]
    assert order["promise"]["source"] == f"quote:{first['quote_id']}"


def test_twenty_holds_half_confirmed_never_share_room(client, loaded):
    published(client)
    quotes = []
    for number in range(20):
        response = client.post(
            "/v1/quotes",
            json={"product_id": a_product(loaded), "quantity": 3, "due_date": "2030-01-01"},
            headers=SALES,
        )
        if response.status_code == 409:  # the plant is full: nothing more to hold
            break
        quotes.append(response.json())
        if number % 2:
            assert confirm(client, quotes[-1]["quote_id"]).status_code == 201
    assert len(quotes) >= 4
    assert_nothing_double_booked(client)


def test_a_hold_promises_the_requested_date_and_the_order_carries_it(client, loaded):
    schedule = published(client)
    late_enough = (dt.date.fromisoformat(schedule["plan_start"]) + dt.timedelta(days=25)).isoformat()
    quote = hold(client, loaded, quantity=1, due_date=late_enough)
    assert quote["promised_delivery"] == late_enough  # met: the customer's date, not the earliest
    assert quote["placement"]["delivery_date"] <= late_enough
    confirmed = confirm(client, quote["quote_id"]).json()
    assert confirmed["promised_delivery"] == late_enough
    assert client.get(f"/v1/orders/{confirmed['order_id']}", headers=SALES).json()["due_date"] == late_enough
    too_soon = hold(client, loaded, quantity=1, due_date=schedule["plan_start"])
    assert too_soon["promised_delivery"] == too_soon["placement"]["delivery_date"]  # not met: the earliest


def test_a_special_order_needs_its_deposit_before_it_is_confirmed(client, loaded):
    published(client)
    quote = hold(client, loaded, order_type="special", deposit_ratio=0)  # held while the customer pays
    refused = confirm(client, quote["quote_id"])
    assert refused.status_code == 409
    assert refused.json()["rule"] == "special_order_deposit"
    assert "30 %" in refused.json()["detail_zh"] or "30%" in refused.json()["detail_zh"]
    assert confirm(client, quote["quote_id"], deposit_ratio=0.2).status_code == 409
    assert confirm(client, quote["quote_id"], deposit_ratio=0.3).status_code == 201
    order = {"order_id": "SP-1", "product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01"}
    special = order | {"order_type": "special", "deposit_ratio": 0.1, "status": "confirmed"}
    assert client.post("/v1/orders", json=special, headers=PLANNER).status_code == 409
    assert client.post("/v1/orders", json=special | {"status": "reviewed"}, headers=PLANNER).status_code == 201
    move = {"status": "confirmed", "reason": "customer signed"}
    assert client.post("/v1/orders/SP-1/status", json=move, headers=PLANNER).json()["rule"] == "special_order_deposit"
    paid = {"deposit_ratio": 0.3, "reason": "deposit received"}
    assert client.patch("/v1/orders/SP-1", json=paid, headers=PLANNER).status_code == 200
    assert client.post("/v1/orders/SP-1/status", json=move, headers=PLANNER).status_code == 200
    assert_nothing_double_booked(client)


def test_a_non_regular_order_needs_the_joint_review(client, loaded):
    published(client)
    refused = client.post(
        "/v1/quotes",
        json={"product_id": a_product(loaded), "quantity": 1, "due_date": "2030-01-01", "order_type": "non_regular"},
        headers=SALES,
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "joint_review"
    order = {"order_id": "NR-1", "product_id": a_product(loaded), "quantity": 2, "due_date": "2030-01-01"}
    assert client.post("/v1/orders", json=order | {"order_type": "non_regular"}, headers=SALES).status_code == 201
    move = {"status": "reviewed", "reason": "complete"}
    assert client.post("/v1/orders/NR-1/status", json=move, headers=PLANNER).status_code == 200
    confirm_move = {"status": "confirmed", "reason": "accepted"}
    blocked = client.post("/v1/orders/NR-1/status", json=confirm_move, headers=PLANNER).json()
    assert blocked["rule"] == "joint_review"
    assert blocked["missing"] == ["technology", "quality", "purchasing", "production"]
    asked = order | {"order_type": "non_regular", "order_id": "NR-1", "joint_review": {"technology": "approved"}}
    answer = client.post("/v1/feasibility", json=asked, headers=SALES).json()
    assert answer["capacity_feasible"] and answer["blocked_by"] == ["joint_review"]  # the recorded review counts
    for department in ("technology", "quality", "purchasing", "production"):
        verdict = "rejected" if department == "quality" else "approved"
        review = {"department": department, "reviewer": f"{department} lead", "verdict": verdict}
        assert client.post("/v1/orders/NR-1/reviews", json=review, headers=SALES).status_code == 201
    blocked = client.post("/v1/orders/NR-1/status", json=confirm_move, headers=PLANNER).json()
    assert blocked["missing"] == ["quality"]
    review = {"department": "quality", "reviewer": "quality lead", "verdict": "approved", "note": "test report ok"}
    assert client.post("/v1/orders/NR-1/reviews", json=review, headers=SALES).status_code == 201
    assert client.post("/v1/feasibility", json=asked, headers=SALES).json()["blocked_by"] == []
    assert client.post("/v1/orders/NR-1/status", json=confirm_move, headers=PLANNER).status_code == 200
    order = client.get("/v1/orders/NR-1", headers=SALES).json()
    assert order["joint_review"] == dict.fromkeys(("technology", "quality", "purchasing", "production"), "approved")
    assert [e["kind"] for e in order["history"]].count("review") == 5
    assert order["promise"] is not None  # confirmed against the published plan: room is kept
    assert_nothing_double_booked(client)


def test_new_and_changed_confirmed_orders_keep_room(client, loaded):
    schedule = published(client)
    product = a_product(loaded)
    new = {"order_id": "NEW-1", "product_id": product, "quantity": 30, "due_date": "2030-01-01", "status": "confirmed"}
    assert client.post("/v1/orders", json=new, headers=PLANNER).status_code == 201
    assert client.get("/v1/orders/NEW-1", headers=SALES).json()["promise"]["source"] == "created"
    planned = next(o for o in schedule["orders"] if o["order_id"].startswith("SO-"))
    change = {"quantity": 200, "reason": "customer's written confirmation"}
    assert client.patch(f"/v1/orders/{planned['order_id']}", json=change, headers=PLANNER).status_code == 200
    promise = client.get(f"/v1/orders/{planned['order_id']}", headers=SALES).json()["promise"]
    assert promise["source"] == "changed"
    assert_nothing_double_booked(client)
    cancel = {"status": "cancelled", "reason": "customer withdrew"}
    assert client.post("/v1/orders/NEW-1/status", json=cancel, headers=PLANNER).status_code == 200
    assert client.get("/v1/orders/NEW-1", headers=SALES).json()["promise"] is None


def test_publishing_a_plan_that_carries_them_ends_promises_and_keeps_holds(client, loaded):
    published(client)
    confirmed = hold(client, loaded)
    order_id = confirm(client, confirmed["quote_id"]).json()["order_id"]
    still_open = hold(client, loaded)
    plan = solved_plan(client, baseline="current")
    snapshot = {
        o["order_id"] for o in client.get(f"/v1/plans/{plan['plan_id']}/schedule", headers=SALES).json()["orders"]
    }
    assert {order_id, f"HOLD-{still_open['quote_id']}"} <= snapshot  # the plan was made with both
    late_hold = hold(client, loaded)  # made after the snapshot: placed again when the plan is published
    assert client.post(f"/v1/plans/{plan['plan_id']}/publish", headers=PLANNER).status_code == 200
    assert client.get(f"/v1/orders/{order_id}", headers=SALES).json()["promise"] is None  # the plan carries it
    quotes = {q["quote_id"]: q for q in client.get("/v1/quotes", headers=SALES).json()}
    carried = client.get("/v1/plans/current/schedule", headers=SALES).json()
    hold_run = next(o for o in carried["orders"] if o["order_id"] == f"HOLD-{still_open['quote_id']}")
    assert quotes[still_open["quote_id"]]["placement"]["allocations"] == hold_run["allocations"]
    assert late_hold["quote_id"] in quotes
    assert_nothing_double_booked(client)


def test_fifty_concurrent_confirms_with_fifty_answers(client):
    roomy = generate_dataset(40, 4, 90, 3)  # room on four lines for fifty holds
    document = io.dataset_document(roomy) | {"bom": []}  # capacity is what concurrent holds fight over
    assert client.put("/v1/dataset", json=document, headers=PLANNER).status_code == 200
    published(client)
    products = sorted({r.product_id for r in roomy.routings if r.units_per_hour >= 1})  # a unit in under an hour
    quotes = [hold(client, {}, product_id=products[n % len(products)], quantity=1) for n in range(50)]
    body = {"product_id": products[0], "quantity": 3, "due_date": "2030-01-01", "resequence": False}

    def confirm_one(quote: dict[str, Any]) -> int:
        return confirm(client, quote["quote_id"]).status_code

    def answer_one(_: int) -> int:
        return client.post("/v1/feasibility", json=body, headers=SALES).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        confirms = pool.map(confirm_one, quotes)
        answers = pool.map(answer_one, range(50))
        codes = list(confirms) + list(answers)
    assert codes == [201] * 50 + [200] * 50
    assert len(client.get("/v1/quotes", headers=SALES).json()) == 0
    assert_nothing_double_booked(client)


def test_thirty_concurrent_holds_never_take_the_same_room(client):
    roomy = generate_dataset(40, 4, 90, 3)
    document = io.dataset_document(roomy) | {"bom": []}
    assert client.put("/v1/dataset", json=document, headers=PLANNER).status_code == 200
    published(client)
    product = min(roomy.routings, key=lambda r: -r.units_per_hour).product_id  # one product: one set of lines
    body = {"product_id": product, "quantity": 20, "due_date": "2030-01-01"}

    def hold_one(_: int) -> int:
        return client.post("/v1/quotes", json=body, headers=SALES).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(hold_one, range(30)))
    assert set(codes) <= {201, 409} and codes.count(201) >= 10
    assert_nothing_double_booked(client)


OPERATIONS = st.sampled_from(("feasibility", "hold", "confirm", "release", "new_order", "change"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(OPERATIONS, st.integers(1, 9), st.integers(0, 1000)), min_size=1, max_size=10))
def test_any_sequence_between_publishes_hands_out_valid_room(published_small, steps):
    """Feasibility, hold, confirm, release, new order and change in any order: the published
    plan and every placement handed out stay a valid schedule together."""
    client, products = published_small
    for operation, quantity, pick in steps:
        product = products[pick % len(products)]
        STEPS[operation](client, product, quantity, pick)
        assert_nothing_double_booked(client)


def _feasibility(client: TestClient, product: str, quantity: int, _: int) -> None:
    body = {"product_id": product, "quantity": quantity, "due_date": "2027-01-10", "resequence": False}
    assert client.post("/v1/feasibility", json=body, headers=SALES).status_code == 200


def _hold(client: TestClient, product: str, quantity: int, _: int) -> None:
    body = {"product_id": product, "quantity": quantity, "due_date": "2027-01-10"}
    assert client.post("/v1/quotes", json=body, headers=SALES).status_code in (201, 409)  # 409: no room left


def _open_quote(client: TestClient, pick: int) -> str | None:
    quotes = client.get("/v1/quotes", headers=SALES).json()
    return quotes[pick % len(quotes)]["quote_id"] if quotes else None


def _confirm(client: TestClient, _: str, __: int, pick: int) -> None:
    if quote_id := _open_quote(client, pick):
        assert confirm(client, quote_id).status_code == 201


def _release(client: TestClient, _: str, __: int, pick: int) -> None:
    if quote_id := _open_quote(client, pick):
        assert client.delete(f"/v1/quotes/{quote_id}", headers=SALES).status_code == 204


def _new_order(client: TestClient, product: str, quantity: int, _: int) -> None:
    order_id = f"P-{uuid.uuid4().hex[:8]}"
    body = {"order_id": order_id, "product_id": product, "quantity": quantity, "due_date": "2027-01-10"}
    assert client.post("/v1/orders", json=body | {"status": "confirmed"}, headers=PLANNER).status_code == 201


def _change(client: TestClient, _: str, quantity: int, pick: int) -> None:
    confirmed = client.get("/v1/orders", params={"status": "confirmed"}, headers=SALES).json()
    if confirmed:
        order_id = confirmed[pick % len(confirmed)]["order_id"]
        change = {"quantity": quantity, "reason": "customer's written confirmation"}
        assert client.patch(f"/v1/orders/{order_id}", json=change, headers=PLANNER).status_code == 200


STEPS = {
    "feasibility": _feasibility,
    "hold": _hold,
    "confirm": _confirm,
    "release": _release,
    "new_order": _new_order,
    "change": _change,
}


@pytest.fixture
def published_small(client, loaded) -> tuple[TestClient, list[str]]:
    published(client)
    return client, ["HV-002", "RMU-002", "DB-002", "LV-002"]


def test_the_nightly_replan_keeps_open_holds_and_promises(client, loaded, database_url, monkeypatch):
    """The reported bug: ``paichan replan`` built its own snapshot without the holds."""
    published(client)
    open_quote = hold(client, loaded)
    confirmed = confirm(client, hold(client, loaded)["quote_id"]).json()["order_id"]
    monkeypatch.setenv("PAICHAN_DATABASE_URL", database_url)
    monkeypatch.setenv("PAICHAN_SOLVER_WORKERS", "1")
    result = CliRunner().invoke(cli.app, ["replan", "--time-limit", "3", "--publish"])
    assert result.exit_code == 0, result.output
    newest = client.get("/v1/plans", headers=PLANNER).json()[0]
    assert newest["published"] and newest["created_by"] == "batch:replan"
    assert newest["progress"]["best_objective"] is not None  # the page's objective column, as for API plans
    planned = {o["order_id"]: o for o in client.get("/v1/plans/current/schedule", headers=SALES).json()["orders"]}
    assert {f"HOLD-{open_quote['quote_id']}", confirmed} <= planned.keys()
    quote = next(q for q in client.get("/v1/quotes", headers=SALES).json() if q["quote_id"] == open_quote["quote_id"])
    assert quote["placement"]["allocations"] == planned[f"HOLD-{open_quote['quote_id']}"]["allocations"]
    assert client.get(f"/v1/orders/{confirmed}", headers=SALES).json()["promise"] is None  # the plan carries it
    assert_nothing_double_booked(client)


def test_pinning_a_confirmed_order_moves_its_room_to_the_pin(client, loaded):
    schedule = published(client)
    entry = next(e for e in schedule["orders"] if e["order_id"].startswith("SO-") and e["days_late"] == 0)
    start = dt.date.fromisoformat(entry["production_start"])
    later = next(day.isoformat() for n in range(3, 12) if (day := start + dt.timedelta(days=n)).weekday() < 5)
    pin = {"line_id": entry["line_id"], "start_date": later, "reason": "customer visit"}
    assert client.post(f"/v1/orders/{entry['order_id']}/pin", json=pin, headers=PLANNER).status_code == 200
    promise = client.get(f"/v1/orders/{entry['order_id']}", headers=SALES).json()["promise"]
    assert promise["source"] == "pinned" and promise["placement"]["line_id"] == entry["line_id"]
    assert promise["placement"]["production_start"] >= later  # at the pin, or as near after it as room allows
    assert_nothing_double_booked(client)
    unpin = {"reason": "visit cancelled"}
    assert (
        client.request("DELETE", f"/v1/orders/{entry['order_id']}/pin", json=unpin, headers=PLANNER).status_code == 200
    )
    assert (
        client.get(f"/v1/orders/{entry['order_id']}", headers=SALES).json()["promise"] is None
    )  # the plan's run again
    assert_nothing_double_booked(client)


def test_an_order_changed_back_to_its_planned_run_does_not_take_room_given_away(published_small):
    """The reported bug (found by the sequence property): an order changed away from the plan frees its
    planned run, a later change places another order's promise into that room, and changing the
    first order back made it take its planned run again, on top of the other's promise."""
    client, products = published_small
    for quantity, pick in [(5, 991), (2, 920), (8, 886), (9, 266)]:
        _change(client, products[0], quantity, pick)
        assert_nothing_double_booked(client)
