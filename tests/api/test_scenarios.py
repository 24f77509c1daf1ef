"""What-if scenarios and exceptions through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import FINISHED, PLANNER, SALES, SMALL_TIME_LIMIT
from tests.api.test_feasibility import published


def scenario(client: TestClient, edits: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    """POST a scenario and poll it until its plan has finished; the answer."""
    request = {"name": "line down", "edits": edits, "time_limit_s": SMALL_TIME_LIMIT} | body
    response = client.post("/v1/scenarios", json=request, headers=PLANNER)
    assert response.status_code == 202, response.text
    scenario_id = response.json()["scenario_id"]
    deadline = time.monotonic() + 30
    while (answer := client.get(f"/v1/scenarios/{scenario_id}", headers=SALES).json())["plan_status"] not in FINISHED:
        assert time.monotonic() < deadline, answer
        time.sleep(0.1)
    return answer


def busiest_line_days(schedule: dict[str, Any]) -> tuple[str, str, str]:
    """The line with the most runs and the first three working days it runs on."""
    counts: dict[str, int] = {}
    for entry in schedule["orders"]:
        counts[entry["line_id"]] = counts.get(entry["line_id"], 0) + 1
    line = max(counts, key=counts.get)
    days = sorted({a["date"] for e in schedule["orders"] if e["line_id"] == line for a in e["allocations"]})
    return line, days[0], days[2]


def test_a_line_down_scenario_leaves_live_data_alone_until_applied(client, loaded):
    schedule = published(client)
    dataset_before = client.get("/v1/dataset", headers=SALES).json()
    line, first, last = busiest_line_days(schedule)
    edit = {"kind": "line_hours", "line_id": line, "from": first, "to": last, "hours": 0}
    answer = scenario(client, [edit])
    assert answer["plan_status"] == "succeeded" and answer["valid"]
    assert answer["status"] == "open" and not answer["live_changed"]
    moved = {c["order_id"]: c for c in answer["changes"]}
    hit = [e for e in schedule["orders"] if e["line_id"] == line and e["production_start"] <= last]
    assert hit and {e["order_id"] for e in hit} <= moved.keys()  # every run in the breakdown moved
    for entry in hit:
        assert {"kind": "edit", "index": 0, "edit": edit} in moved[entry["order_id"]]["why"]
    assert set(answer["kpi_deltas"]) >= {"orders_late", "weighted_days_late"}
    later = {c["order_id"] for c in answer["changes"] if (c["days_later"] or 0) > 0}
    called = {o["order_id"] for group in answer["notify"] for o in group["orders"]}
    assert called == later
    # nothing live changed: the published plan, the data
    assert client.get("/v1/plans/current/schedule", headers=SALES).json() == schedule
    assert client.get("/v1/dataset", headers=SALES).json() == dataset_before
    refused = client.post(f"/v1/plans/{answer['plan_id']}/publish", headers=PLANNER)
    assert refused.status_code == 409 and refused.json()["code"] == "scenario_plan"

    applied = client.post(f"/v1/scenarios/{answer['scenario_id']}/apply", headers=PLANNER)
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "applied"
    assert client.get("/v1/plans/current", headers=SALES).json()["plan_id"] == answer["plan_id"]
    calendar = client.get("/v1/dataset", headers=SALES).json()["line_calendar"]
    assert {"line_id": line, "date": first, "hours": 0} in calendar
    again = client.post(f"/v1/scenarios/{answer['scenario_id']}/apply", headers=PLANNER)
    assert again.status_code == 409


def test_order_edits_are_recorded_with_the_scenario_name(client, loaded):
    schedule = published(client)
    order_id = schedule["orders"][0]["order_id"]
    rush = {"order_id": "RUSH-1", "product_id": "HV-002", "quantity": 1, "due_date": schedule["plan_start"]}
    edits = [
        {"kind": "order", "order_id": order_id, "priority": 9},
        {"kind": "new_order", "order": rush},
    ]
    answer = scenario(client, edits, name="rush for C001")
    assert "RUSH-1" in {c["order_id"] for c in answer["changes"]}
    assert client.get("/v1/orders/RUSH-1", headers=SALES).status_code == 404  # not live yet
    assert client.post(f"/v1/scenarios/{answer['scenario_id']}/apply", headers=PLANNER).status_code == 200
    history = client.get(f"/v1/orders/{order_id}", headers=SALES).json()["history"]
    assert history[-1]["reason"] == "scenario rush for C001" and history[-1]["detail"]["changes"]["priority"][1] == 9
    assert client.get("/v1/orders/RUSH-1", headers=SALES).json()["status"] == "confirmed"


def test_a_scenario_is_refused_once_the_live_data_changed(client, loaded):
    schedule = published(client)
    order_id = schedule["orders"][0]["order_id"]
    answer = scenario(client, [{"kind": "order", "order_id": order_id, "priority": 5}])
    quantity = client.get(f"/v1/orders/{order_id}", headers=SALES).json()["quantity"]
    change = {"quantity": quantity + 1, "reason": "customer's written confirmation"}
    assert client.patch(f"/v1/orders/{order_id}", json=change, headers=PLANNER).status_code == 200
    assert client.get(f"/v1/scenarios/{answer['scenario_id']}", headers=SALES).json()["live_changed"]
    refused = client.post(f"/v1/scenarios/{answer['scenario_id']}/apply", headers=PLANNER)
    assert refused.status_code == 409 and refused.json()["code"] == "scenario_stale"
    assert client.delete(f"/v1/scenarios/{answer['scenario_id']}", headers=PLANNER).status_code == 204
    assert client.get(f"/v1/scenarios/{answer['scenario_id']}", headers=SALES).json()["status"] == "discarded"


def test_an_exception_records_itself_in_every_moved_order(client, loaded):
    schedule = published(client)
    line, first, last = busiest_line_days(schedule)
    edit = {"kind": "line_hours", "line_id": line, "from": first, "to": last, "hours": 0}
    answer = scenario(client, [edit], name="L breakdown", kind="exception", frozen_days=0)
    assert client.post(f"/v1/scenarios/{answer['scenario_id']}/apply", headers=PLANNER).status_code == 200
    for change in answer["changes"][:5]:
        history = client.get(f"/v1/orders/{change['order_id']}", headers=SALES).json()["history"]
        assert history[-1]["kind"] == "exception" and history[-1]["reason"] == "exception L breakdown"


def test_bad_edits_are_located(client, loaded):
    published(client)
    start = dt.date(2026, 12, 1).isoformat()
    edits = [
        {"kind": "line_hours", "line_id": "NO-LINE", "from": start, "to": start, "hours": 0},
        {"kind": "arrival", "material_id": "M001", "date": "2026-01-01", "new_date": start},
        {"kind": "teleport"},
    ]
    response = client.post("/v1/scenarios", json={"name": "bad", "edits": edits}, headers=PLANNER)
    assert response.status_code == 422
    columns = [p["column"] for p in response.json()["problems"]]
    assert columns == ["$.edits[0].line_id", "$.edits[1].date", "$.edits[2].kind"]
    assert client.get("/v1/scenarios", headers=SALES).json() == []
    assert client.post("/v1/scenarios", json={"name": "x", "edits": []}, headers=SALES).status_code == 403


def test_a_pin_edit_is_kept_by_the_scenario_and_becomes_live_when_applied(client, loaded):
    schedule = published(client)
    entry = schedule["orders"][-1]
    start = dt.date.fromisoformat(entry["production_start"])
    later = next(
        (start + dt.timedelta(days=n)).isoformat()
        for n in range(1, 10)
        if (start + dt.timedelta(days=n)).weekday() < 5 and (start + dt.timedelta(days=n)).isoformat() <= "2026-12-24"
    )
    edit = {"kind": "pin", "order_id": entry["order_id"], "line_id": entry["line_id"], "start_date": later}
    answer = scenario(client, [edit], name="pin by hand")
    pinned = next(c for c in answer["changes"] if c["order_id"] == entry["order_id"])
    assert pinned["after"]["production_start"] == later and pinned["after"]["line_id"] == entry["line_id"]
    assert {"kind": "edit", "index": 0, "edit": edit} in pinned["why"]
    assert client.post(f"/v1/scenarios/{answer['scenario_id']}/apply", headers=PLANNER).status_code == 200
    order = client.get(f"/v1/orders/{entry['order_id']}", headers=SALES).json()
    assert (order["pinned_line"], order["pinned_start"]) == (entry["line_id"], later)
    assert order["history"][-1]["kind"] == "pin" and order["history"][-1]["reason"] == "scenario pin by hand"
