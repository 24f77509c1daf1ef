"""Run order, the shop-floor sheet and the Excel workbook (issue #12).

The hand-made plan below is built from assignments rather than solved, so every
sequence, minute and clock time is worked out in the comments:

* line L1 (总装一线) works 8 h = 480 min a day from 08:00, Mon 2026-11-30 ... Fri;
  its working-minute axis puts Monday at 0-480, Tuesday at 480-960, Wednesday at 960-1440;
* P1 (KYN28 开关柜) and P2 (环网柜) make one unit a minute after 30 and 60 min of setup;
* SO-2 (P1, 100 units: 30 + 100 = 130 min) starts at 0: Monday 08:00-10:10;
* SO-1 (P2, 400 units: 60 + 400 = 460 min) starts at 130: Monday 10:10-16:00 (350 min,
  60 setup + 290 units), Tuesday 08:00-09:50 (110 min, 110 units);
* SO-3 (P1, 50 units: 30 + 50 = 80 min) starts at 930: Tuesday 15:30-16:00 is all setup
  (30 min, no unit), Wednesday 08:00-08:50 makes the 50 units.

So Monday holds SO-2 then SO-1: run order, not order-number order.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from solver import io
from solver.cli import app
from solver.domain import Customer, Dataset, Line, Material, Order, Plant, Product, Routing
from solver.instance import build_instance
from solver.solution import Assignment, assignments_from_schedule, build_schedule
from solver.validation import validate_schedule
from tests.conftest import solve_validated
from tests.test_io import VALID, write_folder

PLAN_START = dt.date(2026, 11, 30)  # a Monday
STARTS = {"SO-2": 0, "SO-1": 130, "SO-3": 930}  # positions on L1's working-minute axis


def named_dataset(day_start: dt.time = dt.time(8, 0)) -> Dataset:
    due = dt.date(2026, 12, 11)
    return Dataset.create(
        plant=Plant(PLAN_START, horizon_days=14, holiday_country=None, day_start=day_start),
        lines=[Line("L1", 8, "总装一线")],
        products=[Product("P1", "KYN28 开关柜"), Product("P2", "环网柜")],
        routings=[Routing("P1", "L1", 60, 0.5), Routing("P2", "L1", 60, 1.0)],
        materials=[Material("M1", 1000, "铜排")],
        customers=[Customer("C1", "国网江苏", "华东", 1)],
        orders=[
            Order("SO-1", "P2", 400, due, "C1"),
            Order("SO-2", "P1", 100, due, "C1"),
            Order("SO-3", "P1", 50, due, "C1"),
        ],
    )


def hand_plan(dataset: Dataset) -> dict[str, Any]:
    """The plan of the module docstring, checked by the validator."""
    instance = build_instance(dataset)
    assignments = {o: Assignment(o, "L1", start) for o, start in STARTS.items()}
    schedule = build_schedule(instance, assignments, {}, status="FEASIBLE")
    assert validate_schedule(dataset, schedule) == []
    return schedule


def entry(schedule: dict[str, Any], order_id: str) -> dict[str, Any]:
    return next(e for e in schedule["orders"] if e["order_id"] == order_id)


def test_entries_carry_sequence_and_minutes_of_their_first_and_last_day():
    schedule = hand_plan(named_dataset())
    run_order = {e["order_id"]: (e["sequence"], e["start_minute"], e["end_minute"]) for e in schedule["orders"]}
    # SO-2 0-130 on Monday; SO-1 from 130 on Monday to 110 on Tuesday; SO-3 from 450 on Tuesday to 50 on Wednesday
    assert run_order == {"SO-2": (1, 0, 130), "SO-1": (2, 130, 110), "SO-3": (3, 450, 50)}
    assert [e["order_id"] for e in schedule["orders"]] == ["SO-2", "SO-1", "SO-3"]
    assert all(e["changeover_minutes"] == 0 for e in schedule["orders"])


def test_a_schedule_rebuilt_from_its_document_keeps_the_run_order():
    dataset = named_dataset()
    schedule = hand_plan(dataset)
    instance = build_instance(dataset)
    rebuilt = assignments_from_schedule(instance, schedule["orders"])
    assert {o: a.start for o, a in rebuilt.items()} == STARTS
    assert build_schedule(instance, rebuilt, {}, status="FEASIBLE")["orders"] == schedule["orders"]


def test_daily_plan_lists_runs_in_run_order_with_clock_times_and_setup():
    rows = io.daily_plan_rows(hand_plan(named_dataset()), named_dataset())
    seen = [
        (r["date"], r["sequence"], r["order_id"], r["start"], r["end"], r["quantity"], r["setup_minutes"], r["note"])
        for r in rows
    ]
    assert seen == [
        ("2026-11-30", 1, "SO-2", "08:00", "10:10", 100, 30, ""),
        ("2026-11-30", 2, "SO-1", "10:10", "16:00", 290, 60, ""),
        ("2026-12-01", 2, "SO-1", "08:00", "09:50", 110, 0, ""),
        ("2026-12-01", 3, "SO-3", "15:30", "16:00", 0, 30, "setup"),
        ("2026-12-02", 3, "SO-3", "08:00", "08:50", 50, 0, ""),
    ]
    assert (rows[0]["line_name"], rows[0]["product_name"]) == ("总装一线", "KYN28 开关柜")


def test_daily_plan_clock_follows_the_plants_day_start():
    dataset = named_dataset(day_start=dt.time(7, 30))
    rows = io.daily_plan_rows(hand_plan(dataset), dataset)
    assert [(r["start"], r["end"]) for r in rows][:2] == [("07:30", "09:40"), ("09:40", "15:30")]


def test_day_start_is_read_from_plant_json_and_checked(tmp_path):
    files = dict(VALID)
    files["plant.json"] = json.dumps({"plan_start": "2026-11-30", "day_start": "07:30"})
    dataset = io.load_dataset(write_folder(tmp_path / "ok", files))
    assert dataset.plant.day_start == dt.time(7, 30)
    assert io.dataset_document(dataset)["plant"]["day_start"] == "07:30"
    files["plant.json"] = json.dumps({"plan_start": "2026-11-30", "day_start": "7.30"})
    with pytest.raises(io.DatasetError) as caught:
        io.load_dataset(write_folder(tmp_path / "bad", files))
    assert [str(p) for p in caught.value.problems] == [
        "plant.json, column day_start: '7.30' is not a time of day (HH:MM, 00:00 to 23:59)"
    ]
    assert io.clock_time(dt.time(16, 0), 540) == "01:00+1"  # a second shift runs past midnight


def test_older_documents_without_run_order_stay_valid_and_list_carried_runs_first():
    dataset = named_dataset()
    schedule = hand_plan(dataset)
    for e in schedule["orders"]:
        for key in ("sequence", "start_minute", "end_minute", "changeover_minutes"):
            del e[key]
    assert validate_schedule(dataset, schedule) == []
    tuesday = [r["order_id"] for r in io.daily_plan_rows(schedule, dataset) if r["date"] == "2026-12-01"]
    assert tuesday == ["SO-1", "SO-3"]  # SO-1 carries over from Monday


def test_validator_catches_a_swapped_sequence_and_a_wrong_start_minute():
    dataset = named_dataset()
    schedule = hand_plan(dataset)
    swapped = copy.deepcopy(schedule)
    entry(swapped, "SO-2")["sequence"], entry(swapped, "SO-1")["sequence"] = 2, 1
    assert {v.rule for v in validate_schedule(dataset, swapped)} == {"sequence"}
    gap = copy.deepcopy(schedule)
    entry(gap, "SO-3")["sequence"] = 4
    assert [v.rule for v in validate_schedule(dataset, gap)] == ["sequence"]
    late_start = copy.deepcopy(schedule)
    entry(late_start, "SO-1")["start_minute"] = 140  # it carries on, so it must fill Monday from 130
    assert [v.rule for v in validate_schedule(dataset, late_start)] == ["run_minutes"]
    overlap = copy.deepcopy(schedule)
    entry(overlap, "SO-2")["start_minute"], entry(overlap, "SO-2")["end_minute"] = 100, 230
    assert {v.rule for v in validate_schedule(dataset, overlap)} == {"sequence"}  # ends after SO-1 starts


def test_late_reasons_are_worded_with_names():
    dataset = named_dataset()
    material = {"kind": "material", "material_id": "M1", "available_from": "2026-12-03"}
    capacity = {"kind": "capacity", "line_id": "L1", "dates": ["2026-11-30", "2026-12-02"], "full_days": 3}
    assert io.reason_text(material, dataset, "zh") == "物料 M1 铜排 2026-12-03 才够"
    assert io.reason_text(capacity, dataset, "en") == "line L1 总装一线 full from 2026-11-30 to 2026-12-02 (3 day(s))"


def read_sheet(path: Path, title: str) -> list[tuple]:
    return list(openpyxl.load_workbook(path)[title].iter_rows(values_only=True))


def test_workbook_sheets_headers_dates_and_run_order(tmp_path):
    dataset = named_dataset()
    schedule = hand_plan(dataset)
    io.write_schedule_workbook(schedule, dataset, tmp_path / "plan.xlsx")
    io.write_schedule_workbook(schedule, dataset, tmp_path / "plan-en.xlsx", lang="en")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert book.sheetnames == ["订单", "每日作业", "发货计划", "延期订单", "产线负荷"]
    english = openpyxl.load_workbook(tmp_path / "plan-en.xlsx")
    assert english.sheetnames == ["Orders", "Daily work", "Dispatch plan", "Late orders", "Line load"]
    assert all(sheet.freeze_panes == "A2" for sheet in [*book, *english])

    orders = read_sheet(tmp_path / "plan.xlsx", "订单")
    assert orders[0][:5] == ("订单号", "客户编码", "客户名称", "产品编码", "产品名称")
    assert orders[1][:9] == ("SO-2", "C1", "国网江苏", "P1", "KYN28 开关柜", 100, 1, "L1", "总装一线")
    assert orders[1][9] == dt.datetime(2026, 11, 30)  # a date cell, not text
    assert book["订单"]["J2"].number_format == "yyyy-mm-dd"

    daily = read_sheet(tmp_path / "plan.xlsx", "每日作业")
    assert daily[0][:6] == ("产线", "产线名称", "日期", "顺序", "开始", "结束")
    assert [(row[3], row[6], row[4]) for row in daily[1:]] == [
        (1, "SO-2", "08:00"),
        (2, "SO-1", "10:10"),
        (2, "SO-1", "08:00"),
        (3, "SO-3", "15:30"),
        (3, "SO-3", "08:00"),
    ]
    assert daily[4][-1] == "调机"  # SO-3's Tuesday is all setup
    assert read_sheet(tmp_path / "plan-en.xlsx", "Daily work")[4][-1] == "setup"

    load = book["产线负荷"]
    # Monday: 130 + 350 = 480 of 480 min
    assert [c.value for c in load[2]] == ["L1", "总装一线", dt.datetime(2026, 11, 30), 8, 8, 1]
    assert load["F2"].number_format == "0.0%"
    assert read_sheet(tmp_path / "plan.xlsx", "延期订单") == [tuple(c.zh for c in io.LATE_SHEET.columns)]


def test_workbook_of_a_solved_plan_lists_late_orders_with_reasons(tmp_path):
    # 1,000 units due on the first Wednesday on an empty 8 h line: two days late at best
    dataset = named_dataset()
    dataset = dataset.replace(orders=[Order("SO-9", "P1", 1000, dt.date(2026, 12, 2), "C1", priority=2)])
    schedule = solve_validated(dataset).schedule
    io.write_schedule_workbook(schedule, dataset, tmp_path / "plan.xlsx")
    late = read_sheet(tmp_path / "plan.xlsx", "延期订单")
    assert len(late) == 2 and late[1][0] == "SO-9"
    assert late[1][-1].startswith(f"延期 {schedule['orders'][0]['days_late']} 天；交期短于最短周期")


def test_cli_solve_writes_the_workbook(tmp_path):
    folder = write_folder(tmp_path / "plant", VALID)
    out, book = tmp_path / "schedule.json", tmp_path / "out" / "plan.xlsx"
    result = CliRunner().invoke(
        app, ["solve", str(folder), "--out", str(out), "--xlsx", str(book), "--lang", "en", "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    schedule = json.loads(out.read_text(encoding="utf-8"))
    assert validate_schedule(io.load_dataset(folder), schedule) == []
    orders = read_sheet(book, "Orders")
    assert {row[0] for row in orders[1:]} == {"SO-1", "SO-2"}
    assert "workbook written to" in result.output
    bad = CliRunner().invoke(app, ["solve", str(folder), "--xlsx", str(book), "--lang", "fr"])
    assert bad.exit_code == 2


def test_write_workbook_rejects_an_unknown_language(tmp_path):
    dataset = named_dataset()
    with pytest.raises(ValueError, match="lang"):
        io.write_schedule_workbook(hand_plan(dataset), dataset, tmp_path / "plan.xlsx", lang="fr")
    assert not (tmp_path / "plan.xlsx").exists()


def test_plant_day_start_defaults_to_eight():
    assert Plant(PLAN_START).day_start == dt.time(8, 0)
