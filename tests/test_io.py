"""Loading datasets: every problem named by file, row and column; round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from solver import io
from solver.domain import DatasetError


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


VALID = {
    "plant.json": json.dumps({"plan_start": "2026-11-30", "horizon_days": 30}),
    "lines.csv": "line_id,hours_per_day,name\nL1,8,总装一线\nL2,16,总装二线\n",
    "products.csv": "product_id,name\nP1,KYN28 开关柜\n",
    "routings.csv": "product_id,line_id,units_per_hour,setup_hours\nP1,L1,2,0.5\nP1,L2,1.5,\n",
    "materials.csv": "material_id,on_hand\nM1,10.5\n",
    "bom.csv": "product_id,material_id,qty_per_unit\nP1,M1,0.25\n",
    "arrivals.csv": "material_id,date,qty\nM1,2026-12-07,40\n",
    "customers.csv": "customer_id,name,transit_days\nC1,国网江苏,3\n",
    "orders.csv": (
        "order_id,product_id,quantity,due_date,customer_id,priority,status,pinned_line\n"
        "SO-1,P1,12,2026-12-18,C1,3,confirmed,\n"
        "SO-2,P1,4,2026-12-10,C1,,in_production,L2\n"
    ),
}


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(path)
    return [str(p) for p in caught.value.problems]


def test_valid_folder_loads_with_defaults(tmp_path):
    dataset = io.load_dataset(write_folder(tmp_path / "ok", VALID))
    assert dataset.plant.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert dataset.plant.holiday_country == "CN"
    assert dataset.order_by_id["SO-2"].priority == 1
    assert dataset.order_by_id["SO-1"].customer_id == "C1"
    assert dataset.routings_by_product["P1"][1].setup_hours == 0.0
    assert dataset.line_by_id["L1"].name == "总装一线"
    assert dataset.transit_days(dataset.order_by_id["SO-1"]) == 3


def test_every_problem_is_reported_with_file_row_and_column(tmp_path):
    files = dict(VALID)
    files["lines.csv"] = "line_id,hours_per_day\nL1,8\nL1,x\n"
    files["routings.csv"] = "product_id,line_id,units_per_hour\nP1,L1,0\nP1,L9,5\n"
    files["orders.csv"] = (
        "order_id,product_id,quantity,due_date,status,priority\n"
        "O1,P1,10,2026-12-10,confirmed,1\n"
        "O2,P2,-3,2026-13-01,confirmed,11\n"
        "O3,P1,5,2026-12-10,in_production,\n"
        "O1,P1,2.5,2026-12-10,shipped,1\n"
    )
    files["bom.csv"] = "product_id,material_id,qty_per_unit\nP1,M7,1\n"
    files["arrivals.csv"] = "material_id,date\nM1,2026-12-07\n"
    found = problems_of(write_folder(tmp_path / "bad", files))
    expected = [
        "lines.csv, row 3, column hours_per_day: 'x' is not a number",
        "lines.csv, row 3, column line_id: duplicate line_id L1 (first at row 2)",
        "routings.csv, row 2, column units_per_hour: must be greater than 0, got 0",
        "routings.csv, row 3, column line_id: unknown line 'L9'",
        "orders.csv, row 3, column quantity: must be a whole number greater than 0, got -3",
        "orders.csv, row 3, column due_date: '2026-13-01' is not a date (YYYY-MM-DD)",
        "orders.csv, row 3, column priority: priority must be a whole number 1-10, got 11",
        "orders.csv, row 3, column product_id: unknown product 'P2'",
        "orders.csv, row 4, column pinned_line: order O3 is in_production but has no pinned_line",
        "orders.csv, row 5, column quantity: '2.5' is not a whole number",
        "orders.csv, row 5, column order_id: duplicate order_id O1 (first at row 2)",
        "bom.csv, row 2, column material_id: unknown material 'M7'",
        "arrivals.csv, column qty: required column is missing",
    ]
    assert sorted(found) == sorted(expected)


def test_missing_required_files_and_plant_keys(tmp_path):
    files = {k: v for k, v in VALID.items() if k not in ("routings.csv",)}
    files["plant.json"] = json.dumps({"horizon_days": "ninety", "workdays": ["Mon", "Funday"]})
    found = problems_of(write_folder(tmp_path / "bad", files))
    assert "plant.json, column plan_start: value is required" in found
    assert "plant.json, column horizon_days: 'ninety' is not a number" in found
    assert any(p.startswith("plant.json, column workdays: must be a list of") for p in found)
    assert "routings.csv: required table is missing" in found


def test_unknown_customer_and_pinned_line(tmp_path):
    files = dict(VALID)
    files["orders.csv"] = (
        "order_id,product_id,quantity,due_date,customer_id,status,pinned_line\n"
        "SO-1,P1,12,2026-12-18,C9,in_production,L7\n"
    )
    found = problems_of(write_folder(tmp_path / "bad", files))
    assert sorted(found) == [
        "orders.csv, row 2, column customer_id: unknown customer 'C9'",
        "orders.csv, row 2, column pinned_line: unknown line 'L7'",
    ]


def test_json_document_problems_name_the_json_path(tmp_path):
    document = io.dataset_document(io.load_dataset(write_folder(tmp_path / "ok", VALID)))
    document["orders"][1]["quantity"] = 0
    del document["orders"][0]["due_date"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    found = problems_of(path)
    assert sorted(found) == [
        "plan.json.orders, row [0], column due_date: value is required",
        "plan.json.orders, row [1], column quantity: must be a whole number greater than 0, got 0",
    ]


def test_csv_json_and_xlsx_round_trip_to_the_same_dataset(tmp_path):
    original = io.load_dataset(write_folder(tmp_path / "ok", VALID))
    io.write_csv_folder(original, tmp_path / "copy")
    (tmp_path / "doc.json").write_text(json.dumps(io.dataset_document(original)), encoding="utf-8")
    io.write_workbook(original, tmp_path / "book.xlsx")
    for path in (tmp_path / "copy", tmp_path / "doc.json", tmp_path / "book.xlsx"):
        assert io.load_dataset(path) == original, path


def test_workbook_problems_name_the_sheet(tmp_path):
    original = io.load_dataset(write_folder(tmp_path / "ok", VALID))
    broken = original.replace()  # a checked copy, unchanged
    io.write_workbook(broken, tmp_path / "book.xlsx")
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "book.xlsx")
    book["orders"]["C3"] = "many"
    book.save(tmp_path / "book.xlsx")
    assert problems_of(tmp_path / "book.xlsx") == ["book.xlsx:orders, row 3, column quantity: 'many' is not a number"]


def test_not_json_and_missing_path(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    assert problems_of(path)[0].startswith("broken.json: not valid JSON")
    assert problems_of(tmp_path / "nowhere")[0].endswith("no such file or folder")


def test_dispatch_plan_rows_name_customer_region_and_transit(tmp_path):
    files = dict(VALID)
    files["customers.csv"] = "customer_id,name,region,transit_days\nC1,国网江苏,华东,3\n"
    files["orders.csv"] = (
        "order_id,product_id,quantity,due_date,customer_id\n"
        "SO-1,P1,12,2026-12-18,C1\n"
        "SO-2,P1,4,2026-12-10,C9X\n"
        "SO-3,P1,6,2026-12-10,\n"
    ).replace("C9X", "")
    dataset = io.load_dataset(write_folder(tmp_path / "d", files))
    # a hand-made schedule: SO-2 and SO-3 leave the same day (order id breaks the tie), SO-1 earlier
    entry = {"line_id": "L1", "allocations": [], "days_late": 0}
    schedule = {
        "orders": [
            entry
            | {
                "order_id": "SO-3",
                "dispatch_date": "2026-12-04",
                "delivery_date": "2026-12-04",
                "due_date": "2026-12-10",
            },
            entry
            | {
                "order_id": "SO-2",
                "dispatch_date": "2026-12-04",
                "delivery_date": "2026-12-04",
                "due_date": "2026-12-10",
            },
            entry
            | {
                "order_id": "SO-1",
                "dispatch_date": "2026-12-03",
                "delivery_date": "2026-12-06",
                "due_date": "2026-12-18",
            },
        ],
        "unscheduled": [],
    }
    rows = io.dispatch_plan_rows(schedule, dataset)
    assert [r["order_id"] for r in rows] == ["SO-1", "SO-2", "SO-3"]
    assert rows[0] == {
        "dispatch_date": "2026-12-03",
        "order_id": "SO-1",
        "customer_id": "C1",
        "customer_name": "国网江苏",
        "region": "华东",
        "product_id": "P1",
        "product_name": "KYN28 开关柜",
        "quantity": 12,
        "transit_days": 3,
        "delivery_date": "2026-12-06",
        "due_date": "2026-12-18",
        "days_late": 0,
        "line_id": "L1",
    }
    # no customer: name, region and transit days blank, not guessed
    assert (rows[1]["customer_id"], rows[1]["customer_name"], rows[1]["region"], rows[1]["transit_days"]) == (
        "",
        "",
        "",
        "",
    )
    assert rows[1]["quantity"] == 4


def test_write_schedule_csv_adds_the_dispatch_plan_only_with_the_dataset(tmp_path):
    dataset = io.load_dataset(write_folder(tmp_path / "d", VALID))
    schedule = {"orders": [], "unscheduled": [], "line_loads": []}
    assert not any(p.name == "dispatch_plan.csv" for p in io.write_schedule_csv(schedule, tmp_path / "a"))
    written = io.write_schedule_csv(schedule, tmp_path / "b", dataset)
    assert (tmp_path / "b" / "dispatch_plan.csv") in written
    header = (tmp_path / "b" / "dispatch_plan.csv").read_text(encoding="utf-8").strip()
    assert header == ",".join(io.DISPATCH_COLUMNS)
