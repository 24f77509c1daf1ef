"""Plans with a name and a note, and any two finished plans compared (issue #12), on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.conftest import PLANNER, SALES, solved_plan, start_plan
from tests.api.test_scenarios import busiest_line_days, scenario


def test_a_plan_keeps_its_name_and_note(client, loaded):
    plan = solved_plan(client, name="周一排产", note="客户 C001 加急后重排")
    assert plan["name"] == "周一排产" and plan["note"] == "客户 C001 加急后重排"
    assert plan["parameters"]["name"] == "周一排产"
    listed = {p["plan_id"]: p for p in client.get("/v1/plans", headers=SALES).json()}
    assert listed[plan["plan_id"]]["note"] == "客户 C001 加急后重排"
    unnamed = solved_plan(client)
    assert unnamed["name"] == "" and unnamed["note"] == "" and unnamed["scenario_id"] is None


def test_name_and_note_lengths_are_checked(client, loaded):
    too_long = client.post("/v1/plans", json={"name": "x" * 201}, headers=PLANNER)
    assert too_long.status_code == 422
    too_long = client.post("/v1/plans", json={"note": "x" * 2001}, headers=PLANNER)
    assert too_long.status_code == 422
    assert start_plan(client, name="x" * 200, note="y" * 2000)


def test_a_scenario_plan_shows_the_scenario_name(client, loaded):
    plan = solved_plan(client)
    assert client.post(f"/v1/plans/{plan['plan_id']}/publish", headers=PLANNER).status_code == 200
    schedule = client.get("/v1/plans/current/schedule", headers=SALES).json()
    line, first, last = busiest_line_days(schedule)
    edit = {"kind": "line_hours", "line_id": line, "from": first, "to": last, "hours": 0}
    answer = scenario(client, [edit], name="一线停机")
    mine = client.get(f"/v1/plans/{answer['plan_id']}", headers=SALES).json()
    assert mine["name"] == "一线停机" and mine["scenario_id"] == answer["scenario_id"]


def test_two_plans_compared(client, loaded):
    first = solved_plan(client)
    assert client.post(f"/v1/plans/{first['plan_id']}/publish", headers=PLANNER).status_code == 200
    schedule = client.get("/v1/plans/current/schedule", headers=SALES).json()
    line, day_one, day_three = busiest_line_days(schedule)
    edit = {"kind": "line_hours", "line_id": line, "from": day_one, "to": day_three, "hours": 0}
    second = scenario(client, [edit])  # a plan that surely differs: its line is down for three days
    response = client.get(f"/v1/plans/{first['plan_id']}/compare/{second['plan_id']}", headers=SALES)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"kpi_deltas", "changes"}
    assert {c["order_id"] for c in answer["changes"]} == {c["order_id"] for c in second["changes"]}
    assert answer["kpi_deltas"] == second["kpi_deltas"]
    assert all(w["kind"] != "edit" for c in answer["changes"] for w in c["why"])  # no edits between two plans
    same = client.get(f"/v1/plans/{first['plan_id']}/compare/{first['plan_id']}", headers=SALES).json()
    assert same["changes"] == [] and all(d["delta"] == 0 for d in same["kpi_deltas"].values())
    missing = client.get(f"/v1/plans/{first['plan_id']}/compare/nope", headers=SALES)
    assert missing.status_code == 404


def test_a_plan_without_schedule_cannot_be_compared(client, loaded):
    done = solved_plan(client)
    pending = start_plan(client, time_limit_s=60)
    response = client.get(f"/v1/plans/{done['plan_id']}/compare/{pending}", headers=SALES)
    client.post(f"/v1/plans/{pending}/cancel", headers=PLANNER)
    assert response.status_code in (200, 409)  # 409 while it has no schedule; a quick solve may already have one
    if response.status_code == 409:
        assert "no schedule" in response.json()["detail"]
