"""/v1/plans: start (202), poll, read the schedule in three formats, publish, baseline, cancel."""

from __future__ import annotations

import csv
import datetime as dt
import io as stdio
import itertools
import time
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from solver import io
from solver.generate import generate_dataset
from solver.validation import validate_schedule
from tests.api.conftest import (
    BATCH,
    PLANNER,
    SALES,
    SMALL_TIME_LIMIT,
    small_dataset,
    solved_plan,
    start_plan,
    wait_finished,
    wait_for,
)

ORDER_HEADER = [*io.ORDER_COLUMNS, "unscheduled_reason", "customer_name", "product_name", "line_name"]
DAILY_HEADER = [
    *("line_id", "date", "order_id", "product_id", "minutes", "quantity"),  # the columns the page and sheets relied on
    *("sequence", "start", "end", "changeover_minutes", "setup_minutes", "note", "line_name", "product_name"),
]
BOUNDED = ("unscheduled_priority", "weighted_days_late")


@pytest.fixture(scope="module")
def long_dataset():
    """120 orders on 4 lines: CP-SAT keeps improving for the whole of a 30 s limit."""
    return generate_dataset(120, 4, 40, 1)


def schedule_of(client: TestClient, plan_id: str, headers: dict[str, str] = SALES) -> dict[str, Any]:
    response = client.get(f"/v1/plans/{plan_id}/schedule", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def clock_minutes(text: str) -> int:
    """Minutes after midnight of a sheet's ``HH:MM`` (``+1``: the next day)."""
    clock, _, days = text.partition("+")
    hours, minutes = clock.split(":")
    return int(days or 0) * 1440 + int(hours) * 60 + int(minutes)


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(stdio.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=None)


def test_start_poll_read_and_schedule_formats(client: TestClient, loaded: dict) -> None:
    response = client.post("/v1/plans", json={"time_limit_s": SMALL_TIME_LIMIT, "seed": 7}, headers=PLANNER)
    assert response.status_code == 202, response.text
    body = response.json()
    plan_id = body["plan_id"]
    assert body["status"] in ("queued", "running")
    assert response.headers["location"] == f"/v1/plans/{plan_id}"
    plan = wait_finished(client, plan_id)
    assert plan["status"] == "succeeded", plan
    assert plan["plan_id"] == plan_id
    assert plan["valid"] is True and plan["error"] is None
    assert plan["published"] is False
    assert plan["created_by"].startswith("planner:")
    assert plan["parameters"] == {"time_limit_s": SMALL_TIME_LIMIT, "frozen_days": None, "seed": 7}
    assert plan["baseline_plan_id"] is None
    assert when(plan["created_at"]) <= when(plan["started_at"]) <= when(plan["finished_at"])
    progress = plan["progress"]
    assert 0 < progress["elapsed"] <= SMALL_TIME_LIMIT + 1
    assert progress["solutions"] >= 1
    assert set(BOUNDED) <= set(progress["best_objective"])
    assert set(BOUNDED) <= set(progress["bound"])
    summary = plan["summary"]
    assert summary["status"] in ("OPTIMAL", "FEASIBLE")
    assert set(summary["objective"]) == {"unscheduled_priority", "weighted_days_late", "changed_orders", "holding_days"}
    kpis = summary["kpis"]
    assert kpis["orders_planned"] + kpis["orders_unscheduled"] == 30
    assert 0 <= kpis["on_time_rate"] <= 1
    assert set(kpis["utilisation"]) == {"L01", "L02"}
    for term in BOUNDED:
        assert progress["bound"][term] <= progress["best_objective"][term] == summary["objective"][term]

    response = client.get(f"/v1/plans/{plan_id}/schedule", headers=SALES)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    schedule = response.json()
    assert schedule["objective"] == summary["objective"] and schedule["kpis"] == kpis
    assert validate_schedule(small_dataset(), schedule) == []
    assert client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "json"}, headers=SALES).json() == schedule

    response = client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "csv"}, headers=SALES)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, rows = csv_rows(response.text)
    assert header == ORDER_HEADER
    assert len(rows) == len(schedule["orders"]) + len(schedule["unscheduled"])
    first = schedule["orders"][0]
    assert rows[0]["order_id"] == first["order_id"] and rows[0]["line_id"] == first["line_id"]
    assert rows[0]["production_start"] == first["production_start"]
    lines = {line.line_id: line.name for line in small_dataset().lines}
    assert rows[0]["line_name"] == lines[first["line_id"]]  # names next to the codes

    response = client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "daily"}, headers=SALES)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, rows = csv_rows(response.text)
    assert header == DAILY_HEADER
    allocations = [a for entry in schedule["orders"] for a in entry["allocations"]]
    assert len(rows) == len(allocations)
    assert sum(int(r["minutes"]) for r in rows) == sum(a["minutes"] for a in allocations)
    # each line-day's runs in run order (not by order number), with their clock times
    assert rows == sorted(rows, key=lambda r: (r["line_id"], r["date"], int(r["sequence"])))
    for before, after in itertools.pairwise(rows):
        if (before["line_id"], before["date"]) == (after["line_id"], after["date"]):
            assert clock_minutes(before["end"]) <= clock_minutes(after["start"])

    day = rows[0]["date"]  # one day of it as JSON: what the page's printable work list reads
    asked = {"format": "daily", "from": day, "to": day}
    one_day = client.get(f"/v1/plans/{plan_id}/schedule", params=asked, headers=SALES | {"Accept": "application/json"})
    assert one_day.json() == [{k: _typed(k, v) for k, v in r.items()} for r in rows if r["date"] == day]

    response = client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "pdf"}, headers=SALES)
    assert response.status_code == 422


def test_schedule_as_a_workbook_in_either_language(client: TestClient, loaded: dict) -> None:
    plan_id = solved_plan(client)["plan_id"]
    schedule = schedule_of(client, plan_id)
    assert validate_schedule(small_dataset(), schedule) == []
    response = client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "xlsx"}, headers=SALES)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == io.XLSX_MEDIA_TYPE
    assert f'filename="plan-{plan_id}.xlsx"' in response.headers["content-disposition"]
    book = openpyxl.load_workbook(stdio.BytesIO(response.content))
    assert book.sheetnames == ["订单", "每日作业", "发货计划", "延期订单", "产线负荷"]
    orders = list(book["订单"].iter_rows(values_only=True))
    assert len(orders) - 1 == len(schedule["orders"]) + len(schedule["unscheduled"])
    names = {c["customer_id"]: c["name"] for c in loaded["customers"]}
    assert all(row[2] == names[row[1]] for row in orders[1:] if row[1])  # the name next to the code
    daily = list(book["每日作业"].iter_rows(values_only=True))
    assert len(daily) - 1 == sum(len(e["allocations"]) for e in schedule["orders"])

    response = client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "xlsx", "lang": "en"}, headers=SALES)
    assert response.status_code == 200
    assert openpyxl.load_workbook(stdio.BytesIO(response.content)).sheetnames[0] == "Orders"
    response = client.get(f"/v1/plans/{plan_id}/schedule", params={"format": "xlsx", "lang": "fr"}, headers=SALES)
    assert response.status_code == 422


def test_publish_then_current_then_baseline(client: TestClient, loaded: dict) -> None:
    response = client.get("/v1/plans/current/schedule", headers=SALES)
    assert response.status_code == 404
    response = client.post("/v1/plans", json={"baseline": "current"}, headers=PLANNER)
    assert response.status_code in (404, 409, 422), response.text  # nothing published to start from

    first = solved_plan(client)
    response = client.post(f"/v1/plans/{first['plan_id']}/publish", headers=PLANNER)
    assert response.status_code == 200, response.text
    published = response.json()
    assert published["plan_id"] == first["plan_id"]
    assert abs(when(published["published_at"]) - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=1)
    schedule = schedule_of(client, first["plan_id"])
    assert schedule_of(client, "current") == schedule
    current = client.get("/v1/plans/current", headers=SALES).json()
    assert current["plan_id"] == first["plan_id"] and current["published"] is True

    plan_id = start_plan(client, baseline="current", frozen_days=2)
    second = wait_finished(client, plan_id)
    assert second["status"] == "succeeded", second
    assert second["baseline_plan_id"] == first["plan_id"]
    assert second["parameters"]["frozen_days"] == 2
    assert second["valid"] is True
    assert "changed_orders" in second["summary"]["objective"]
    assert second["summary"]["objective"]["changed_orders"] == 0  # the same orders: nothing had to move
    new_schedule = schedule_of(client, plan_id)
    assert validate_schedule(small_dataset(), new_schedule, previous=schedule, frozen_days=2) == []
    assert client.post(f"/v1/plans/{plan_id}/publish", headers=BATCH).status_code == 200
    assert schedule_of(client, "current") == new_schedule
    plans = {p["plan_id"]: p["published"] for p in client.get("/v1/plans", headers=SALES).json()}
    assert plans == {plan_id: True, first["plan_id"]: False}

    third = start_plan(client, baseline=first["plan_id"])  # an explicit plan id as the baseline
    assert wait_finished(client, third)["baseline_plan_id"] == first["plan_id"]
    response = client.post("/v1/plans", json={"baseline": "no-such-plan"}, headers=PLANNER)
    assert response.status_code in (404, 422), response.text


def test_cancel_a_running_solve_keeps_a_valid_schedule(client: TestClient, long_dataset) -> None:
    document = io.dataset_document(long_dataset)
    assert client.put("/v1/dataset", json=document, headers=PLANNER).status_code == 200
    plan_id = start_plan(client, time_limit_s=30)
    # not finished yet: neither a schedule nor publishable
    response = client.get(f"/v1/plans/{plan_id}/schedule", headers=SALES)
    assert response.status_code == 409, response.text
    response = client.post(f"/v1/plans/{plan_id}/publish", headers=PLANNER)
    assert response.status_code == 409, response.text
    assert client.get("/v1/plans/current/schedule", headers=SALES).status_code == 404
    plan = wait_for(client, plan_id, lambda p: p["status"] == "running" and p["progress"]["solutions"] >= 1, 20)
    assert client.post(f"/v1/plans/{plan_id}/publish", headers=PLANNER).status_code == 409
    assert client.post(f"/v1/plans/{plan_id}/cancel", headers=SALES).status_code == 403
    asked = time.monotonic()
    response = client.post(f"/v1/plans/{plan_id}/cancel", headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("running", "cancelled")
    plan = wait_finished(client, plan_id, timeout=10)
    assert time.monotonic() - asked < 6, "cancel took too long"
    assert plan["status"] == "cancelled"
    assert plan["progress"]["elapsed"] < 20
    assert plan["valid"] is True
    schedule = schedule_of(client, plan_id)
    assert schedule["orders"]
    assert validate_schedule(long_dataset, schedule) == []
    response = client.post(f"/v1/plans/{plan_id}/cancel", headers=PLANNER)
    assert response.status_code == 409
    assert response.json()["status"] == "cancelled"
    # the best plan so far may still be published: it is valid and finished
    assert client.post(f"/v1/plans/{plan_id}/publish", headers=PLANNER).status_code == 200


def test_cancel_a_queued_plan_takes_effect_at_once(client: TestClient, long_dataset) -> None:
    """With one solve at a time, a plan waiting behind a long solve is cancelled without waiting for it."""
    document = io.dataset_document(long_dataset)
    assert client.put("/v1/dataset", json=document, headers=PLANNER).status_code == 200
    running = start_plan(client, time_limit_s=30)
    wait_for(client, running, lambda p: p["status"] == "running", 10)
    queued = start_plan(client, time_limit_s=30)
    try:
        assert client.get(f"/v1/plans/{queued}", headers=PLANNER).json()["status"] == "queued"
        response = client.post(f"/v1/plans/{queued}/cancel", headers=PLANNER)
        assert response.status_code == 200, response.text
        plan = wait_finished(client, queued, timeout=3)
        assert plan["status"] == "cancelled"
        assert plan["started_at"] is None and plan["summary"] is None
        assert client.get(f"/v1/plans/{queued}/schedule", headers=SALES).status_code == 409
        assert client.post(f"/v1/plans/{queued}/publish", headers=PLANNER).status_code == 409
        assert client.post(f"/v1/plans/{queued}/cancel", headers=PLANNER).status_code == 409
    finally:
        client.post(f"/v1/plans/{running}/cancel", headers=PLANNER)
        client.post(f"/v1/plans/{queued}/cancel", headers=PLANNER)
        wait_finished(client, running, timeout=10)


def test_cancel_of_a_finished_plan_is_409(client: TestClient, loaded: dict) -> None:
    plan = solved_plan(client, BATCH)
    response = client.post(f"/v1/plans/{plan['plan_id']}/cancel", headers=PLANNER)
    assert response.status_code == 409
    assert response.json()["status"] == "succeeded"
    assert client.get(f"/v1/plans/{plan['plan_id']}", headers=PLANNER).json()["status"] == "succeeded"


def test_time_limit_caps_by_role(make_client, small_document: dict) -> None:
    client = make_client(max_time_limit_planner=5, max_time_limit_batch=8)
    assert client.put("/v1/dataset", json=small_document, headers=PLANNER).status_code == 200
    for headers, limit in ((PLANNER, 6), (PLANNER, 5.5), (BATCH, 9)):
        response = client.post("/v1/plans", json={"time_limit_s": limit}, headers=headers)
        assert response.status_code == 422, (headers, limit, response.text)
        assert "time_limit_s" in response.json()["detail"]
    for limit in (0, -1, "soon"):
        response = client.post("/v1/plans", json={"time_limit_s": limit}, headers=PLANNER)
        assert response.status_code == 422, (limit, response.text)
        assert response.json()["problems"][0]["column"] == "$.time_limit_s"
    assert client.get("/v1/plans", headers=PLANNER).json() == []
    batch_plan = start_plan(client, BATCH, time_limit_s=6)  # above the planner's cap, within the batch one
    default_plan = start_plan(client, PLANNER, time_limit_s=None)
    assert wait_finished(client, batch_plan)["parameters"]["time_limit_s"] == 6
    assert wait_finished(client, default_plan)["parameters"]["time_limit_s"] == SMALL_TIME_LIMIT
    response = client.post("/v1/plans", json={"time_limit_s": 5, "colour": "red"}, headers=PLANNER)
    assert response.status_code == 422


def test_unknown_plan_is_404(client: TestClient, loaded: dict) -> None:
    for method, path in (
        ("GET", "/v1/plans/no-such-plan"),
        ("GET", "/v1/plans/no-such-plan/schedule"),
        ("POST", "/v1/plans/no-such-plan/cancel"),
        ("POST", "/v1/plans/no-such-plan/publish"),
        ("GET", "/v1/plans/current"),
        ("GET", "/v1/plans/current/schedule"),
    ):
        response = client.request(method, path, headers=PLANNER)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["detail"]


def test_plan_without_a_dataset(client: TestClient) -> None:
    response = client.post("/v1/plans", json={"time_limit_s": 1}, headers=PLANNER)
    assert response.status_code in (404, 409), response.text
    assert client.get("/v1/plans", headers=PLANNER).json() == []


def test_list_newest_first(client: TestClient, loaded: dict) -> None:
    started = [start_plan(client, time_limit_s=1) for _ in range(3)]
    listed = client.get("/v1/plans", headers=SALES)
    assert listed.status_code == 200
    assert [p["plan_id"] for p in listed.json()] == started[::-1]
    assert [p["plan_id"] for p in client.get("/v1/plans", params={"limit": 2}, headers=SALES).json()] == started[:0:-1]
    assert client.get("/v1/plans", params={"limit": 0}, headers=SALES).status_code == 422
    for plan_id in started:
        assert wait_finished(client, plan_id)["status"] == "succeeded"
    listed = client.get("/v1/plans", headers=SALES).json()
    assert [p["plan_id"] for p in listed] == started[::-1]
    assert all(p["summary"] and p["progress"]["solutions"] >= 1 for p in listed)


def test_progress_bound_never_exceeds_best_objective(client: TestClient, loaded: dict) -> None:
    """An order that cannot start inside the horizon is left out; the progress must say so too.

    The finished plan's progress agrees with its own summary: the best
    objective found counts the left-out order's priority, and a lower bound is
    never above it.
    """
    order = {
        "order_id": "TOO-LATE",
        "product_id": "HV-001",
        "quantity": 2,
        "due_date": "2027-03-10",
        "customer_id": "C001",
        "priority": 10,
        "status": "confirmed",
        "earliest_start": "2027-03-01",  # the 30-day horizon ends on 2026-12-29
    }
    assert client.post("/v1/orders", json=order, headers=PLANNER).status_code == 201
    plan = solved_plan(client)
    summary, progress = plan["summary"], plan["progress"]
    assert "TOO-LATE" in {u["order_id"] for u in schedule_of(client, plan["plan_id"])["unscheduled"]}
    assert summary["objective"]["unscheduled_priority"] >= 10
    for term in BOUNDED:
        assert progress["bound"][term] <= progress["best_objective"][term], progress
        assert progress["best_objective"][term] == summary["objective"][term], (progress, summary)


def _typed(column: str, text: str) -> object:
    """A daily CSV cell as the JSON rows carry it: numbers as numbers, blanks as they are."""
    if column in ("minutes", "quantity", "sequence", "changeover_minutes", "setup_minutes") and text != "":
        return int(text)
    return text
