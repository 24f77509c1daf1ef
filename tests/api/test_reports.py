"""Dispatch monitoring and the order-process report, with every count worked out by hand.

The plant works Monday to Friday, and Wednesday 2026-11-18 is a plant holiday
(``calendar.csv``), so working days and calendar days differ. Published plans are
written straight into the database with hand-made schedules and publication
times in the past: the report's rule ("the plan in force as the day began") is
about history, which a test cannot wait for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.db import OrderEvent, OrderRow, PlanJob, Publication
from tests.api.conftest import PLANNER, SALES, solved_plan

D = dt.date.fromisoformat

CUSTOMERS = [
    {"customer_id": "C1", "name": "国网江苏", "region": "华东", "transit_days": 1},
    {"customer_id": "C2", "name": "南网广东", "region": "华南", "transit_days": 2},
    {"customer_id": "C3", "name": "散户"},  # no region: the unassigned group
]
ORDERS = {  # order id → (customer, quantity)
    "O1": ("C1", 10),
    "O2": ("C1", 20),
    "O3": ("C2", 5),
    "O4": ("C3", 7),
    "O5": ("C2", 8),
}


def tiny_document() -> dict[str, Any]:
    return {
        "plant": {"plan_start": "2026-11-02", "horizon_days": 30, "holiday_country": None},
        "lines": [{"line_id": "L1", "hours_per_day": 8}],
        "products": [{"product_id": "P1", "name": "开关柜"}],
        "routings": [{"product_id": "P1", "line_id": "L1", "units_per_hour": 10}],
        "customers": CUSTOMERS,
        "calendar": [{"date": "2026-11-18", "working": 0}],
        "orders": [
            {"order_id": o, "product_id": "P1", "quantity": q, "due_date": "2026-11-25", "customer_id": c}
            for o, (c, q) in ORDERS.items()
        ],
    }


@pytest.fixture
def tiny(client: TestClient) -> TestClient:
    response = client.put("/v1/dataset", json=tiny_document(), headers=PLANNER)
    assert response.status_code == 200, response.text
    return client


def entry(order_id: str, dispatch: str) -> dict[str, Any]:
    customer, quantity = ORDERS[order_id]
    return {"order_id": order_id, "customer_id": customer, "quantity": quantity, "dispatch_date": dispatch}


def add_published_plan(client: TestClient, plan_id: str, entries: list[dict], published_at: dt.datetime) -> None:
    """A finished plan with a hand-made schedule, published at ``published_at``."""
    snapshot = {"customers": CUSTOMERS, "orders": [{"order_id": e["order_id"]} for e in entries]}
    with client.app.state.database.plant_session("default") as session:
        session.add(
            PlanJob(
                plan_id=plan_id,
                status="succeeded",
                created_at=published_at - dt.timedelta(hours=1),
                input_snapshot=snapshot,
                schedule={"orders": entries, "unscheduled": []},
            )
        )
        session.flush()
        session.add(Publication(plan_id=plan_id, at=published_at))
        session.commit()


def ship(client: TestClient, order_id: str, day: str) -> None:
    """Move a confirmed order through production and ship it on ``day``."""
    for status, extra in (("in_production", {"line_id": "L1"}), ("produced", {}), ("inspected", {})):
        response = client.post(f"/v1/orders/{order_id}/status", json={"status": status, **extra}, headers=PLANNER)
        assert response.status_code == 200, response.text
    response = client.post(f"/v1/orders/{order_id}/status", json={"status": "shipped", "date": day}, headers=PLANNER)
    assert response.status_code == 200, response.text


def report(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/v1/reports/dispatch", params=params, headers=SALES)
    assert response.status_code == 200, response.text
    return response.json()


# plan A, in force from 2026-11-02: O1 on Wed 11-04, O2 Thu 11-05, O3 Fri 11-06, O4 11-12, O5 11-13
PLAN_A = [entry("O1", "2026-11-04"), entry("O2", "2026-11-05"), entry("O3", "2026-11-06")]
PLAN_A += [entry("O4", "2026-11-12"), entry("O5", "2026-11-13")]
# plan B, published Tue 11-10 afternoon so in force from Wed 11-11: O4 moves to 11-16, O5 to 11-12,
# O1 (already due on 11-04) to 11-20
PLAN_B = [entry("O1", "2026-11-20"), entry("O4", "2026-11-16"), entry("O5", "2026-11-12")]


def test_dispatch_report_counts_on_time_late_and_not_dispatched_per_region(tiny: TestClient) -> None:
    add_published_plan(tiny, "plan-a", PLAN_A, dt.datetime(2026, 11, 1, 10))
    add_published_plan(tiny, "plan-b", PLAN_B, dt.datetime(2026, 11, 10, 15))
    ship(tiny, "O1", "2026-11-04")  # on its due day: on time
    ship(tiny, "O2", "2026-11-06")  # a day after: late
    ship(tiny, "O5", "2026-11-12")  # due 11-12 by plan B (plan A's 11-13 never came): on time
    ship(tiny, "O4", "2026-11-11")  # due 11-16 by plan B, shipped before: on time
    # O3 (due 11-06) is not dispatched

    body = report(tiny, **{"from": "2026-11-02", "to": "2026-11-16"})
    assert (body["from"], body["to"], body["plans"]) == ("2026-11-02", "2026-11-16", ["plan-a", "plan-b"])
    groups = {g["key"]: g for g in body["groups"]}
    assert [g["key"] for g in body["groups"]] == ["华东", "华南", ""]  # the unassigned group last
    # 华东: O1 on time, O2 late → 1 / 2; 30 units demanded, 30 shipped
    east = groups["华东"]
    assert (east["orders_due"], east["dispatched_on_time"], east["dispatched_late"], east["not_dispatched"]) == (
        2,
        1,
        1,
        0,
    )
    assert (east["on_time_rate"], east["units_demanded"], east["units_shipped"]) == (0.5, 30, 30)
    # 华南: O3 not dispatched (week of 11-02), O5 on time (week of 11-09)
    south = groups["华南"]
    assert (south["orders_due"], south["dispatched_on_time"], south["not_dispatched"]) == (2, 1, 1)
    assert (south["on_time_rate"], south["units_demanded"], south["units_shipped"]) == (0.5, 13, 8)
    assert [(w["week_start"], w["orders_due"], w["on_time_rate"]) for w in south["weeks"]] == [
        ("2026-11-02", 1, 0.0),
        ("2026-11-09", 1, 1.0),
    ]
    # no region: O4, due Mon 11-16 (week of 11-16), shipped on 11-11
    assert (groups[""]["orders_due"], groups[""]["on_time_rate"]) == (1, 1.0)
    assert groups[""]["weeks"][0]["week_start"] == "2026-11-16"
    total = body["total"]
    assert (total["orders_due"], total["dispatched_on_time"], total["dispatched_late"], total["not_dispatched"]) == (
        5,
        3,
        1,
        1,
    )
    assert (total["on_time_rate"], total["units_demanded"], total["units_shipped"]) == (0.6, 50, 45)

    by_customer = {
        g["key"]: g for g in report(tiny, **{"from": "2026-11-02", "to": "2026-11-16"}, group_by="customer")["groups"]
    }
    assert by_customer["C1"]["name"] == "国网江苏" and by_customer["C1"]["orders_due"] == 2
    assert by_customer["C3"]["name"] == "散户"


def test_a_later_publication_does_not_change_what_was_due_earlier(tiny: TestClient) -> None:
    add_published_plan(tiny, "plan-a", PLAN_A, dt.datetime(2026, 11, 1, 10))
    period = {"from": "2026-11-02", "to": "2026-11-13"}
    before = report(tiny, **period)
    # under plan A alone: O1..O5 all due in the period
    assert before["total"]["orders_due"] == 5
    first_week = {"from": "2026-11-02", "to": "2026-11-08"}
    week_before = report(tiny, **first_week)
    add_published_plan(tiny, "plan-b", PLAN_B, dt.datetime(2026, 11, 10, 15))
    # O1's move to 11-20 does not undo its 11-04 due day; the first week is untouched
    assert report(tiny, **first_week) == week_before
    after = report(tiny, **period)
    # from 11-11 plan B rules: O4 (now 11-16) leaves the period, O5 is due 11-12 instead of 11-13
    assert after["total"]["orders_due"] == 4
    assert after["plans"] == ["plan-a", "plan-b"]


def test_a_plan_first_published_during_the_day_counts_from_that_day(tiny: TestClient) -> None:
    add_published_plan(tiny, "plan-a", PLAN_A, dt.datetime(2026, 11, 4, 9))
    body = report(tiny, **{"from": "2026-11-03", "to": "2026-11-05"})
    assert body["total"]["orders_due"] == 2  # O1 (11-04) and O2 (11-05); nothing was in force on 11-03


def test_no_publication_no_orders_due(tiny: TestClient) -> None:
    body = report(tiny, **{"from": "2026-11-02", "to": "2026-11-08"})
    assert body["groups"] == [] and body["total"]["orders_due"] == 0 and body["total"]["on_time_rate"] is None


@pytest.mark.parametrize(
    ("params", "column"),
    [
        ({"from": "2026-11-09", "to": "2026-11-02"}, "$.from"),
        ({"from": "2020-01-01", "to": "2026-11-02"}, "$.to"),
        ({"from": "soon"}, "$.from"),
        ({"group_by": "country"}, "$.group_by"),
    ],
)
def test_bad_dispatch_report_parameters_are_422_naming_them(
    tiny: TestClient, params: dict[str, str], column: str
) -> None:
    response = tiny.get("/v1/reports/dispatch", params=params, headers=SALES)
    assert response.status_code == 422, response.text
    assert [p["column"] for p in response.json()["problems"]] == [column]


def test_a_status_move_records_its_date_and_refuses_the_future(tiny: TestClient) -> None:
    response = tiny.post("/v1/orders/O1/status", json={"status": "in_production", "line_id": "L1"}, headers=PLANNER)
    assert response.status_code == 200
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = tiny.post("/v1/orders/O1/status", json={"status": "produced", "date": tomorrow}, headers=PLANNER)
    assert response.status_code == 422
    assert response.json()["problems"][0]["column"] == "$.date"
    response = tiny.post("/v1/orders/O1/status", json={"status": "produced", "date": "2026-11-20"}, headers=PLANNER)
    assert response.status_code == 200
    history = tiny.get("/v1/orders/O1", headers=SALES).json()["history"]
    assert history[-2]["detail"]["date"] == dt.date.today().isoformat()  # no date given: today
    assert history[-1]["detail"] == {"from": "in_production", "to": "produced", "line_id": None, "date": "2026-11-20"}


def test_the_dispatch_plan_of_a_solved_plan_as_csv_and_json(loaded: dict[str, Any], client: TestClient) -> None:
    plan = solved_plan(client)
    path = f"/v1/plans/{plan['plan_id']}/schedule"
    csv_text = client.get(path, params={"format": "dispatch"}, headers=SALES).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("dispatch_date,order_id,customer_id,customer_name,region,product_id,")
    rows = client.get(path, params={"format": "dispatch"}, headers=SALES | {"Accept": "application/json"}).json()
    schedule = client.get(path, headers=SALES).json()
    assert len(rows) == len(lines) - 1 == len(schedule["orders"])
    assert [r["dispatch_date"] for r in rows] == sorted(r["dispatch_date"] for r in rows)
    customers = {c["customer_id"]: c for c in loaded.get("customers", [])}
    for row in rows:
        known = customers.get(row["customer_id"], {})
        assert row["region"] == (known.get("region") or "")
    region = next(r["region"] for r in rows if r["region"])
    middle = rows[len(rows) // 2]["dispatch_date"]
    params = {"format": "dispatch", "region": region, "from": middle}
    chosen = client.get(path, params=params, headers=SALES | {"Accept": "application/json"}).json()
    assert chosen == [r for r in rows if r["region"] == region and r["dispatch_date"] >= middle]
    bad = client.get(path, params={"format": "dispatch", "from": "2027-02-01", "to": "2027-01-01"}, headers=SALES)
    assert bad.status_code == 422 and bad.json()["problems"][0]["column"] == "$.from"


# -- the order-process report ----------------------------------------------------------------

AS_OF = "2026-11-24"  # a Tuesday; Wed 11-18 was a plant holiday


def new_order(client: TestClient, order_id: str, received: dt.datetime) -> None:
    """An order sales entered (``received``), dated back to ``received``."""
    body = {"order_id": order_id, "product_id": "P1", "quantity": 3, "due_date": "2026-12-20", "customer_id": "C1"}
    assert client.post("/v1/orders", json=body, headers=SALES).status_code == 201
    with client.app.state.database.plant_session("default") as session:
        session.execute(update(OrderRow).where(OrderRow.order_id == order_id).values(created_at=received))
        session.execute(update(OrderEvent).where(OrderEvent.order_id == order_id).values(at=received))
        session.commit()


def move(client: TestClient, order_id: str, status: str, day: str) -> None:
    response = client.post(f"/v1/orders/{order_id}/status", json={"status": status, "date": day}, headers=PLANNER)
    assert response.status_code == 200, response.text


def ask_information(client: TestClient, order_id: str, asked: dt.datetime) -> None:
    response = client.post(f"/v1/orders/{order_id}/info-request", json={"note": "缺少技术参数"}, headers=SALES)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "info_requested"
    with client.app.state.database.plant_session("default") as session:
        query = update(OrderEvent).where(OrderEvent.order_id == order_id, OrderEvent.kind == "info_requested")
        session.execute(query.values(at=asked))
        session.commit()


def add_plan(
    client: TestClient, plan_id: str, created: dt.datetime, order_ids: list[str], published: dt.datetime
) -> None:
    with client.app.state.database.plant_session("default") as session:
        orders = [{"order_id": o} for o in order_ids]
        schedule = {"orders": [{"order_id": o, "dispatch_date": "2026-12-01"} for o in order_ids], "unscheduled": []}
        session.add(
            PlanJob(
                plan_id=plan_id,
                status="succeeded",
                created_at=created,
                input_snapshot={"orders": orders},
                schedule=schedule,
            )
        )
        session.flush()
        session.add(Publication(plan_id=plan_id, at=published))
        session.commit()


def process_report(client: TestClient, **params: str) -> list[tuple]:
    response = client.get("/v1/reports/order-process", params={"as_of": AS_OF, **params}, headers=SALES)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == AS_OF
    return [
        (r["order_id"], r["stage"], r["since"], r["due_by"], r["working_days_overdue"], r["met_on"])
        for r in body["overdue"]
    ]


def test_order_process_stages_are_counted_in_plant_working_days(tiny: TestClient) -> None:
    friday, tuesday = dt.datetime(2026, 11, 13, 9), dt.datetime(2026, 11, 17, 9)
    new_order(tiny, "R1", friday)  # never reviewed: due Mon 11-16
    new_order(tiny, "R2", friday)
    move(tiny, "R2", "reviewed", "2026-11-16")  # on its last day: met
    new_order(tiny, "R3", tuesday)
    move(tiny, "R3", "reviewed", "2026-11-20")  # due Thu 11-19 (Wed 11-18 off): one working day late
    new_order(tiny, "I1", tuesday)
    ask_information(tiny, "I1", tuesday)  # due 2 working days later: Fri 11-20
    new_order(tiny, "C1", friday)
    move(tiny, "C1", "reviewed", "2026-11-16")
    move(tiny, "C1", "confirmed", "2026-11-16")  # in no plan: release due 11-17, plan due 11-19
    new_order(tiny, "C2", friday)
    move(tiny, "C2", "reviewed", "2026-11-16")
    move(tiny, "C2", "confirmed", "2026-11-16")
    add_plan(tiny, "p1", dt.datetime(2026, 11, 17, 8), ["C2"], dt.datetime(2026, 11, 19, 16))  # both in time

    assert process_report(tiny) == [
        # working days after the due day up to Tue 11-24: 17, 19, 20, 23, 24 (not the holiday 18)
        ("R1", "review", "2026-11-13", "2026-11-16", 5, None),
        ("I1", "review", "2026-11-17", "2026-11-19", 3, None),  # 20, 23, 24
        ("I1", "information", "2026-11-17", "2026-11-20", 2, None),  # 23, 24
        ("C1", "release", "2026-11-16", "2026-11-17", 4, None),  # 19, 20, 23, 24
        ("C1", "plan", "2026-11-16", "2026-11-19", 3, None),  # 20, 23, 24
    ]
    with_met = process_report(tiny, include_met="true")
    assert ("R3", "review", "2026-11-17", "2026-11-19", 1, "2026-11-20") in with_met
    assert len(with_met) == 6

    # the information arrives on Mon 11-23, one working day late; C1 goes into a plan on 11-24
    response = tiny.post("/v1/orders/I1/info-received", json={"note": "已补充"}, headers=SALES)
    assert response.status_code == 201
    with tiny.app.state.database.plant_session("default") as session:
        query = update(OrderEvent).where(OrderEvent.order_id == "I1", OrderEvent.kind == "info_received")
        session.execute(query.values(at=dt.datetime(2026, 11, 23, 9)))
        session.commit()
    add_plan(tiny, "p2", dt.datetime(2026, 11, 24, 8), ["C1"], dt.datetime(2026, 11, 24, 9))
    assert [(r[0], r[1]) for r in process_report(tiny)] == [("R1", "review"), ("I1", "review")]
    assert ("I1", "information", "2026-11-17", "2026-11-20", 1, "2026-11-23") in process_report(
        tiny, include_met="true"
    )


def test_order_process_judged_on_an_earlier_day_ignores_what_came_later(tiny: TestClient) -> None:
    new_order(tiny, "R1", dt.datetime(2026, 11, 13, 9))
    response = tiny.get("/v1/reports/order-process", params={"as_of": "2026-11-16"}, headers=SALES)
    assert response.json()["overdue"] == []  # due that Monday: not overdue yet
    response = tiny.get("/v1/reports/order-process", params={"as_of": "2026-11-17"}, headers=SALES)
    assert [(r["order_id"], r["working_days_overdue"]) for r in response.json()["overdue"]] == [("R1", 1)]
    assert tiny.get("/v1/reports/order-process", params={"as_of": "x"}, headers=SALES).status_code == 422


def test_information_requests_need_an_order_and_a_writer(tiny: TestClient) -> None:
    assert tiny.post("/v1/orders/NOPE/info-request", json={"note": ""}, headers=SALES).status_code == 404
    assert tiny.post("/v1/orders/O1/info-request", json={"note": ""}).status_code == 401
    history = tiny.get("/v1/orders/O1", headers=SALES).json()["history"]
    assert all(e["kind"] != "info_requested" for e in history)
