"""The data of issue #15, read and checked but not planned yet: product families, changeovers
(``changeovers.csv``), the lines' initial families and the plant's inspection and dispatch caps.

Every loader (CSV folder, JSON document, workbook) runs the same row checks and names
file, row and column; the look-ups are stated once on :class:`Dataset`; writing a dataset
round-trips the new data and leaves data without it exactly as it was written before.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from solver import io
from solver.cli import app
from solver.domain import Changeover, Dataset, DatasetError, Line, Plant, Product
from solver.generate import generate_dataset
from tests.test_io import VALID, write_folder
from tests.test_loader_fuzz import NASTY_VALUES, assert_loads_or_located_problems

FAMILIES = {
    **VALID,
    "plant.json": json.dumps(
        {
            "plan_start": "2026-11-30",
            "horizon_days": 30,
            "inspection_orders_per_day": 6,
            "dispatch_orders_per_day": None,
        }
    ),
    "lines.csv": "line_id,hours_per_day,name,initial_family\nL1,8,总装一线,高压开关柜\nL2,16,总装二线,\n",
    "products.csv": "product_id,name,family\nP1,KYN28 开关柜,高压开关柜\nP2,HXGN15 环网柜,环网柜\nP3,铭牌,\n",
    "changeovers.csv": (
        "from_family,to_family,minutes,line_id\n"
        "高压开关柜,环网柜,90,\n"
        "环网柜,高压开关柜,60,\n"
        "高压开关柜,环网柜,45,L2\n"
        "环网柜,环网柜,0,\n"
    ),
}


def loaded(files: dict[str, str], tmp_path: Path, name: str = "ok") -> Dataset:
    return io.load_dataset(write_folder(tmp_path / name, files))


def problems_in(files: dict[str, str], tmp_path: Path) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        loaded(files, tmp_path, "bad")
    return sorted(str(p) for p in caught.value.problems)


# -- reading ------------------------------------------------------------------------------


def test_families_changeovers_initial_families_and_caps_are_read(tmp_path):
    data = loaded(FAMILIES, tmp_path)
    assert data.changeovers == (
        Changeover("高压开关柜", "环网柜", 90),
        Changeover("环网柜", "高压开关柜", 60),
        Changeover("高压开关柜", "环网柜", 45, "L2"),
        Changeover("环网柜", "环网柜", 0),
    )
    assert data.changeovers[2].source is not None and data.changeovers[2].source.row == 4
    assert [line.initial_family for line in data.lines] == ["高压开关柜", ""]
    assert (data.plant.inspection_orders_per_day, data.plant.dispatch_orders_per_day) == (6, None)
    assert data.product_families == {"高压开关柜", "环网柜"}


def test_without_the_new_data_nothing_changes(tmp_path):
    data = loaded(VALID, tmp_path)
    assert data.changeovers == ()
    assert all(line.initial_family == "" for line in data.lines)
    assert (data.plant.inspection_orders_per_day, data.plant.dispatch_orders_per_day) == (None, None)
    assert data.changeover_minutes("L1", "a", "b") == 0


# -- the look-ups ---------------------------------------------------------------------------


def test_a_lines_own_row_overrides_the_row_for_every_line(tmp_path):
    data = loaded(FAMILIES, tmp_path)
    assert data.changeover_minutes("L1", "高压开关柜", "环网柜") == 90
    assert data.changeover_minutes("L2", "高压开关柜", "环网柜") == 45
    assert data.changeover_minutes("L2", "环网柜", "高压开关柜") == 60  # no row of its own: every line's


def test_same_family_blank_family_or_no_row_is_no_changeover(tmp_path):
    data = loaded({**FAMILIES, "changeovers.csv": "from_family,to_family,minutes\n高压开关柜,环网柜,90\n"}, tmp_path)
    assert data.changeover_minutes("L1", "高压开关柜", "高压开关柜") == 0
    assert data.changeover_minutes("L1", "", "环网柜") == 0
    assert data.changeover_minutes("L1", "高压开关柜", "") == 0
    assert data.changeover_minutes("L1", "环网柜", "高压开关柜") == 0  # only the other direction has a row
    assert data.changeover_minutes("L9", "高压开关柜", "环网柜") == 90  # a line without rows: every line's


def test_family_of_a_product(tmp_path):
    data = loaded(FAMILIES, tmp_path)
    assert data.family_of("P1") == "高压开关柜"
    assert data.family_of("P3") == ""  # a product without a family
    assert data.family_of("P404") == ""


def test_the_changeover_table_is_built_once(tmp_path):
    data = loaded(FAMILIES, tmp_path)
    data.changeover_minutes("L1", "高压开关柜", "环网柜")
    table = data.__dict__["_changeover_table"]
    data.changeover_minutes("L2", "环网柜", "高压开关柜")
    assert data.__dict__["_changeover_table"] is table


# -- located problems -----------------------------------------------------------------------


def test_bad_changeover_rows_are_located(tmp_path):
    files = dict(FAMILIES)
    files["changeovers.csv"] = (
        "from_family,to_family,minutes,line_id\n"
        "高压开关柜,环网柜,-5,\n"  # 2
        "高压开关柜,环网柜,2.5,L1\n"  # 3
        "环网柜,高压开关柜,abc,\n"  # 4
        ",环网柜,30,\n"  # 5
        "高压开关柜,环网柜,30,L9\n"  # 6
        "高压开关柜,环网柜柜,30,\n"  # 7: a typo
        "环网柜,高压开关柜,20,L2\n"  # 8
        "环网柜,高压开关柜,25,L2\n"  # 9: the pair again for L2
        "环网柜,环网柜,15,\n"  # 10: same family
        "高压开关柜,环网柜,30,\n"  # 11: the pair again for every line (row 2's minutes were bad)
        "环网柜,高压开关柜,50000,L1\n"  # 12
    )
    assert problems_in(files, tmp_path) == sorted(
        [
            "changeovers.csv, row 2, column minutes: must not be negative, got -5",
            "changeovers.csv, row 3, column minutes: '2.5' is not a whole number",
            "changeovers.csv, row 4, column minutes: 'abc' is not a number",
            "changeovers.csv, row 5, column from_family: value is required",
            "changeovers.csv, row 6, column line_id: unknown line 'L9'",
            "changeovers.csv, row 7, column to_family: unknown family '环网柜柜': no product in products.csv has it",
            "changeovers.csv, row 9, column line_id: duplicate changeover 环网柜 -> 高压开关柜 for line L2 "
            "(first at row 8)",
            "changeovers.csv, row 10, column minutes: a changeover from family '环网柜' to itself is never spent "
            "(same family: no changeover): give 0 minutes or remove the row",
            "changeovers.csv, row 11, column line_id: duplicate changeover 高压开关柜 -> 环网柜 for every line "
            "(first at row 2)",
            "changeovers.csv, row 12, column minutes: must be at most 43,200, got 50000",
        ]
    )


def test_a_missing_changeover_column_is_located(tmp_path):
    files = {**FAMILIES, "changeovers.csv": "from_family,to_family,line_id\n高压开关柜,环网柜,\n"}
    assert problems_in(files, tmp_path) == ["changeovers.csv, column minutes: required column is missing"]


def test_an_unknown_initial_family_is_located(tmp_path):
    files = {**FAMILIES, "lines.csv": "line_id,hours_per_day,initial_family\nL1,8,高压开关柜\nL2,16,高压柜\n"}
    assert problems_in(files, tmp_path) == [
        "lines.csv, row 3, column initial_family: unknown family '高压柜': no product in products.csv has it"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be a whole number greater than 0, got 0"),
        (-2, "must be a whole number greater than 0, got -2"),
        (2.5, "'2.5' is not a whole number"),
        ("many", "'many' is not a number"),
        (True, "true is not a number, date or time"),
        (10**7, "must be at most 1,000,000, got 10000000"),
    ],
)
@pytest.mark.parametrize("key", ["inspection_orders_per_day", "dispatch_orders_per_day"])
def test_a_bad_cap_is_located(tmp_path, key, value, message):
    files = {**VALID, "plant.json": json.dumps({"plan_start": "2026-11-30", key: value})}
    assert problems_in(files, tmp_path) == [f"plant.json, column {key}: {message}"]


def test_a_json_document_is_checked_row_by_row(tmp_path):
    document = io.dataset_document(loaded(FAMILIES, tmp_path))
    document["changeovers"][1]["minutes"] = -1
    document["changeovers"][2]["line_id"] = "L7"
    document["lines"][0]["initial_family"] = "X"
    document["plant"]["dispatch_orders_per_day"] = 0
    with pytest.raises(DatasetError) as caught:
        io.load_json_document(document, "$")
    assert sorted((p.file, p.row, p.column, p.message) for p in caught.value.problems) == [
        ("$.changeovers", "[1]", "minutes", "must not be negative, got -1"),
        ("$.changeovers", "[2]", "line_id", "unknown line 'L7'"),
        ("$.lines", "[0]", "initial_family", "unknown family 'X': no product in products.csv has it"),
        ("$.plant", None, "dispatch_orders_per_day", "must be a whole number greater than 0, got 0"),
    ]


def test_a_workbook_is_checked_row_by_row(tmp_path):
    import openpyxl

    path = tmp_path / "book.xlsx"
    io.write_workbook(loaded(FAMILIES, tmp_path), path)
    book = openpyxl.load_workbook(path)
    book["changeovers"]["C3"] = 1.5  # row 3: the second changeover
    plant = book["plant"]
    row = next(r for r in range(1, plant.max_row + 1) if plant.cell(r, 1).value == "inspection_orders_per_day")
    plant.cell(row, 2).value = "0"
    book.save(path)
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(path)
    assert sorted(str(p) for p in caught.value.problems) == [
        "book.xlsx:changeovers, row 3, column minutes: '1.5' is not a whole number",
        "book.xlsx:plant, column inspection_orders_per_day: must be a whole number greater than 0, got 0",
    ]


def test_a_dataset_built_in_code_is_checked_too():
    plant = Plant(plan_start=dt.date(2026, 11, 30), inspection_orders_per_day=0)
    with pytest.raises(DatasetError) as caught:
        Dataset.create(
            plant=plant,
            lines=[Line("L1", 8, initial_family="B")],
            products=[Product("P1", family="A")],
            routings=[],
            orders=[],
            changeovers=[Changeover("A", "B", 30), Changeover("A", "A", 10.5)],  # type: ignore[arg-type]
        )
    assert sorted(str(p) for p in caught.value.problems) == [
        "changeovers.csv, column minutes: changeover minutes must be a whole number >= 0, got 10.5",
        "changeovers.csv, column to_family: unknown family 'B': no product in products.csv has it",
        "lines.csv, column initial_family: unknown family 'B': no product in products.csv has it",
        "plant.json, column inspection_orders_per_day: must be a whole number >= 1 or null, got 0",
    ]


DOCUMENT: dict[str, Any] = {
    "plant": {"plan_start": "2026-11-30", "horizon_days": 30, "inspection_orders_per_day": 3},
    "lines": [{"line_id": "L1", "hours_per_day": 8, "initial_family": "A"}],
    "products": [{"product_id": "P1", "family": "A"}, {"product_id": "P2", "family": "B"}],
    "routings": [{"product_id": "P1", "line_id": "L1", "units_per_hour": 2}],
    "orders": [{"order_id": "SO-1", "product_id": "P1", "quantity": 12, "due_date": "2026-12-18"}],
    "changeovers": [
        {"from_family": "A", "to_family": "B", "minutes": 30},
        {"from_family": "B", "to_family": "A", "minutes": 45, "line_id": "L1"},
    ],
}
PLACES = [
    ("plant", "inspection_orders_per_day"),
    ("plant", "dispatch_orders_per_day"),
    ("lines", 0, "initial_family"),
    ("products", 1, "family"),
    *(("changeovers", row, column) for row in (0, 1) for column in ("from_family", "to_family", "minutes")),
    ("changeovers", 1, "line_id"),
    ("changeovers",),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PLACES), NASTY_VALUES), min_size=1, max_size=3))
def test_nasty_values_in_the_new_data_are_a_dataset_or_located_problems(changes):
    document = copy.deepcopy(DOCUMENT)
    for path, value in changes:
        target: Any = document
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced the container
    assert_loads_or_located_problems(document)
    try:
        data = io.load_json_document(document, "$")
    except DatasetError:
        return
    assert all(isinstance(c.minutes, int) and 0 <= c.minutes <= io.MAX_CHANGEOVER_MINUTES for c in data.changeovers)
    for cap in (data.plant.inspection_orders_per_day, data.plant.dispatch_orders_per_day):
        assert cap is None or (isinstance(cap, int) and 1 <= cap <= io.MAX_ORDERS_PER_DAY)


# -- round trips ---------------------------------------------------------------------------


def test_csv_json_and_xlsx_round_trip_the_new_data(tmp_path):
    original = loaded(FAMILIES, tmp_path)
    document = io.dataset_document(original)
    assert document["plant"]["inspection_orders_per_day"] == 6
    assert "dispatch_orders_per_day" not in document["plant"]  # null: no cap, left out
    assert document["lines"][0]["initial_family"] == "高压开关柜"
    assert document["changeovers"][2] == {
        "from_family": "高压开关柜",
        "to_family": "环网柜",
        "minutes": 45,
        "line_id": "L2",
    }
    assert io.load_json_document(json.loads(json.dumps(document)), "$") == original
    io.write_csv_folder(original, tmp_path / "copy")
    io.write_workbook(original, tmp_path / "book.xlsx")
    for path in (tmp_path / "copy", tmp_path / "book.xlsx"):
        copied = io.load_dataset(path)
        assert copied == original, path
        assert copied.changeover_minutes("L2", "高压开关柜", "环网柜") == 45


def test_data_without_the_new_fields_is_written_as_before(tmp_path):
    original = loaded(VALID, tmp_path)
    document = io.dataset_document(original)
    assert "changeovers" not in document
    assert set(document["plant"]) == {
        "plan_start",
        "horizon_days",
        "workdays",
        "holiday_country",
        "frozen_days",
        "release_weekdays",
        "day_start",
    }
    assert all("initial_family" not in row for row in document["lines"])
    io.write_csv_folder(original, tmp_path / "copy")
    assert not (tmp_path / "copy" / "changeovers.csv").exists()
    assert (tmp_path / "copy" / "lines.csv").read_text(encoding="utf-8").splitlines()[0] == "line_id,hours_per_day,name"
    io.write_workbook(original, tmp_path / "book.xlsx")
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "book.xlsx")
    assert "changeovers" not in book.sheetnames
    assert [c.value for c in book["lines"][1]] == ["line_id", "hours_per_day", "name"]


def test_an_empty_lines_table_keeps_its_header(tmp_path):
    data = loaded(VALID, tmp_path)
    assert io._written_columns("lines", []) == ["line_id", "hours_per_day", "name"]
    assert io._written_columns("changeovers", []) == ["from_family", "to_family", "minutes", "line_id"]
    assert io.dataset_tables(data)["lines"][0].keys() == {"line_id", "hours_per_day", "name"}


# -- the generator -------------------------------------------------------------------------

# sha256 of the CSV folder that generate_dataset(60, 5, 21, seed=3) wrote before issue #15's
# options existed (file names and bytes, in name order): the defaults must keep writing it.
DEFAULT_DIGEST = "f692684ce50ea4986585bd987f74168c4a17e248b28d381d81b0ed4dbbed8bc1"


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def test_the_generators_defaults_write_the_same_bytes_as_before(tmp_path):
    data = generate_dataset(60, 5, 21, seed=3)
    assert data.changeovers == () and all(line.initial_family == "" for line in data.lines)
    assert (data.plant.inspection_orders_per_day, data.plant.dispatch_orders_per_day) == (None, None)
    io.write_csv_folder(data, tmp_path / "gen")
    assert folder_digest(tmp_path / "gen") == DEFAULT_DIGEST


@pytest.mark.parametrize("level", ["family", "series"])
def test_the_generator_gives_changeovers_initial_families_and_caps(level):
    plain = generate_dataset(120, 8, 30, seed=5)
    data = generate_dataset(
        120, 8, 30, seed=5, changeovers=level, inspection_orders_per_day=4, dispatch_orders_per_day=6
    )
    assert (data.plant.inspection_orders_per_day, data.plant.dispatch_orders_per_day) == (4, 6)
    # the rest of the dataset is the one without changeovers
    assert data.orders == plain.orders and data.routings == plain.routings and data.materials == plain.materials
    assert [p.product_id for p in data.products] == [p.product_id for p in plain.products]
    if level == "family":
        assert data.products == plain.products
    else:
        assert len(data.product_families) > len(plain.product_families)
        assert data.family_of("HV-001") == "KYN28A-12"
    shared = [c for c in data.changeovers if c.line_id is None]
    own = [c for c in data.changeovers if c.line_id is not None]
    assert shared and own
    assert all(c.from_family != c.to_family and c.minutes > 0 for c in data.changeovers)
    for row in own:  # a line's own row overrides the one for every line
        assert data.changeover_minutes(row.line_id, row.from_family, row.to_family) == row.minutes
        every_line = next(c for c in shared if (c.from_family, c.to_family) == (row.from_family, row.to_family))
        assert row.minutes != every_line.minutes
    routed = {r.line_id for r in data.routings}
    assert all(line.initial_family for line in data.lines if line.line_id in routed)
    assert data == generate_dataset(
        120, 8, 30, seed=5, changeovers=level, inspection_orders_per_day=4, dispatch_orders_per_day=6
    )


def test_the_generator_refuses_unknown_levels_and_caps_below_one():
    with pytest.raises(ValueError, match="changeovers must be one of family, series"):
        generate_dataset(20, 2, 14, seed=1, changeovers="matrix")
    with pytest.raises(ValueError, match="at least 1 order a day"):
        generate_dataset(20, 2, 14, seed=1, dispatch_orders_per_day=0)


def test_paichan_generate_writes_the_new_data(tmp_path):
    arguments = ["generate", str(tmp_path / "gen"), "--orders", "40", "--lines", "3", "--days", "30"]
    options = ["--changeovers", "family", "--inspection-orders-per-day", "5"]
    result = CliRunner().invoke(app, [*arguments, *options])
    assert result.exit_code == 0, result.output
    data = io.load_dataset(tmp_path / "gen")
    assert data.changeovers and data.plant.inspection_orders_per_day == 5
    assert data.plant.dispatch_orders_per_day is None
    assert CliRunner().invoke(app, [*arguments, "--changeovers", "matrix"]).exit_code == 2
