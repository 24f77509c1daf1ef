"""Issue #13: every value a dataset carries has bounds; harmless exports load, wrong input does not.

Each test is named after what probing found: the value that got through (or the harmless
file that was refused) before the loader bounded it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from api.auth import KeyRing
from solver import io
from solver.cli import EXIT_BAD_INPUT, app
from solver.domain import DatasetError
from tests.test_io import VALID, write_folder

DOCUMENT: dict[str, Any] = {
    "plant": {"plan_start": "2026-11-30", "horizon_days": 30, "holiday_country": "CN"},
    "lines": [{"line_id": "L1", "hours_per_day": 8}],
    "line_calendar": [{"line_id": "L1", "date": "2026-12-01", "hours": 4}],
    "calendar": [{"date": "2026-12-02", "working": 0}],
    "products": [{"product_id": "P1"}],
    "routings": [{"product_id": "P1", "line_id": "L1", "units_per_hour": 2, "setup_hours": 0.5}],
    "materials": [{"material_id": "M1", "on_hand": 10}],
    "bom": [{"product_id": "P1", "material_id": "M1", "qty_per_unit": 0.5}],
    "arrivals": [{"material_id": "M1", "date": "2026-12-07", "qty": 40}],
    "customers": [{"customer_id": "C1", "transit_days": 3}],
    "orders": [
        {"order_id": "SO-1", "product_id": "P1", "quantity": 12, "due_date": "2026-12-18", "customer_id": "C1"},
    ],
}


def with_value(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """The valid document with one value replaced."""
    document = copy.deepcopy(DOCUMENT)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def problems(document: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    with pytest.raises(DatasetError) as caught:
        io.load_json_document(document, "$")
    return [(p.file, p.row, p.column, p.message) for p in caught.value.problems]


def the_problem(path: tuple[str | int, ...], value: Any) -> tuple[str, Any, Any, str]:
    """The one problem of the document with ``value`` at ``path``, located where the value is."""
    found = problems(with_value(path, value))
    assert len(found) == 1, found
    file, row, column, _ = found[0]
    if path[0] == "plant":
        assert (file, row, column) == ("$.plant", None, path[-1])
    else:
        assert (file, row, column) == (f"$.{path[0]}", f"[{path[1]}]", path[-1])
    return found[0]


def test_the_document_is_valid():
    assert io.load_json_document(DOCUMENT).orders[0].quantity == 12


# -- 1. unbounded values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("plant", "horizon_days"), 20_000),  # took 12 s and 2.3 GB
        (("plant", "horizon_days"), 100_000_000),  # accepted, every plan failed
        (("plant", "horizon_days"), 0),
        (("plant", "frozen_days"), 1_000_000_000),  # a "succeeded" invalid plan
        (("plant", "frozen_days"), 31),  # more than the horizon
        (("plant", "frozen_days"), -1),
        (("plant", "plan_start"), "9999-12-01"),  # OverflowError in every plan
        (("plant", "plan_start"), "0001-01-01"),  # crashed the validator
        (("plant", "plan_start"), "1999-12-31"),
        (("plant", "workdays"), []),  # an invalid plan
        (("plant", "holiday_country"), "XX"),  # a misleading warning, then planned without holidays
        (("plant", "horizon_days"), True),
        (("lines", 0, "hours_per_day"), 25),
        (("lines", 0, "hours_per_day"), 1e300),  # OverflowError
        (("line_calendar", 0, "hours"), 24.5),
        (("line_calendar", 0, "date"), "2101-01-01"),
        (("calendar", 0, "date"), "1970-01-01"),
        (("routings", 0, "units_per_hour"), 5e-324),  # OverflowError
        (("routings", 0, "units_per_hour"), 0.0009),
        (("routings", 0, "units_per_hour"), 2e6),
        (("routings", 0, "setup_hours"), 721),
        (("customers", 0, "transit_days"), 1e11),  # OverflowError
        (("customers", 0, "transit_days"), 366),
        (("bom", 0, "qty_per_unit"), 2e12),
        (("bom", 0, "qty_per_unit"), float("nan")),
        (("materials", 0, "on_hand"), 1e13),
        (("materials", 0, "on_hand"), float("inf")),
        (("arrivals", 0, "qty"), 1.5e12),
        (("arrivals", 0, "qty"), -1),
        (("arrivals", 0, "date"), "0001-01-01"),
        (("orders", 0, "quantity"), 2**31),
        (("orders", 0, "quantity"), 0),
        (("orders", 0, "quantity"), True),  # a bool is not a number
        (("orders", 0, "quantity"), [12]),
        (("orders", 0, "quantity"), 10**400),
        (("orders", 0, "priority"), 11),
        (("orders", 0, "due_date"), "9999-12-31"),
        (("orders", 0, "earliest_start"), "1900-01-01"),
        (("orders", 0, "order_id"), "SO/1"),  # could be created but never read
        (("orders", 0, "order_id"), "SO\\1"),
        (("orders", 0, "order_id"), "SO?1"),
        (("orders", 0, "order_id"), ".."),
        (("orders", 0, "customer_id"), "C\x001"),  # a NUL byte: PostgreSQL refuses it
        (("products", 0, "name"), "bad\x00name"),
    ],
)
def test_out_of_bounds_value_is_a_located_problem(path, value):
    the_problem(path, value)


def test_pinned_start_out_of_range_is_a_located_problem():
    order = {**DOCUMENT["orders"][0], "pinned_line": "L1", "pinned_start": "2200-01-01"}
    found = problems(with_value(("orders", 0), order))
    assert [(f, r, c) for f, r, c, _ in found] == [("$.orders", "[0]", "pinned_start")]


def test_bounds_messages_say_the_bound():
    assert "at most 1,000" in the_problem(("plant", "horizon_days"), 20_000)[3]
    assert "at most 24" in the_problem(("lines", 0, "hours_per_day"), 25)[3]
    assert "2000-01-01 to 2100-12-31" in the_problem(("plant", "plan_start"), "0001-01-01")[3]
    assert "at least one workday" in the_problem(("plant", "workdays"), [])[3]
    assert "'XX'" in the_problem(("plant", "holiday_country"), "XX")[3]
    assert "web address" in the_problem(("orders", 0, "order_id"), "SO/1")[3]


def test_values_at_the_bounds_load():
    document = with_value(("plant", "horizon_days"), 1000)
    document["plant"] |= {"frozen_days": 1000, "plan_start": "2000-01-01"}
    document["lines"][0]["hours_per_day"] = 24
    document["routings"][0] |= {"units_per_hour": 0.001, "setup_hours": 720}
    document["customers"][0]["transit_days"] = 365
    document["orders"][0] |= {"quantity": 2**31 - 1, "due_date": "2100-12-31", "order_id": "SO-1.A_(2)"}
    document["materials"][0]["on_hand"] = 1e12
    data = io.load_json_document(document)
    assert data.plant.horizon_days == 1000 and data.orders[0].quantity == 2**31 - 1


def test_max_horizon_days_is_configurable(monkeypatch):
    monkeypatch.setattr(io, "MAX_HORIZON_DAYS", 2000)
    assert io.load_json_document(with_value(("plant", "horizon_days"), 1500)).plant.horizon_days == 1500
    monkeypatch.setattr(io, "MAX_HORIZON_DAYS", 20)
    assert "at most 20" in the_problem(("plant", "horizon_days"), 30)[3]


def test_service_setting_sets_the_loaders_horizon_bound(monkeypatch):
    from api.config import Settings

    monkeypatch.setattr(io, "MAX_HORIZON_DAYS", io.MAX_HORIZON_DAYS)  # restored afterwards
    Settings(max_horizon_days=3000)
    assert io.MAX_HORIZON_DAYS == 3000


def test_holiday_country_of_the_holidays_package_loads_upper_case():
    assert io.load_json_document(with_value(("plant", "holiday_country"), "de")).plant.holiday_country == "DE"
    assert io.load_json_document(with_value(("plant", "holiday_country"), None)).plant.holiday_country is None


# -- 2. harmless input the loader refused, wrong input it accepted --------------------------------


def test_arrival_of_zero_is_no_error(tmp_path):
    files = VALID | {"arrivals.csv": "material_id,date,qty\nM1,2026-12-07,0\n"}
    assert io.load_dataset(write_folder(tmp_path / "d", files)).arrivals[0].qty == 0


def test_bom_in_plant_json_loads(tmp_path):
    folder = write_folder(tmp_path / "d", VALID)
    (folder / "plant.json").write_bytes(b"\xef\xbb\xbf" + VALID["plant.json"].encode())
    assert io.load_dataset(folder).plant.horizon_days == 30


def test_gb18030_csv_from_excel_loads_with_a_warning(tmp_path):
    folder = write_folder(tmp_path / "d", VALID)
    (folder / "lines.csv").write_bytes(VALID["lines.csv"].encode("gb18030"))
    data = io.load_dataset(folder)
    assert data.line_by_id["L1"].name == "总装一线"
    assert any("lines.csv" in w and "GB18030" in w for w in data.load_warnings)


def test_semicolon_separated_csv_loads_with_a_warning(tmp_path):
    semicolons = {name: text.replace(",", ";") for name, text in VALID.items() if name.endswith(".csv")}
    folder = write_folder(tmp_path / "d", VALID | semicolons)
    data = io.load_dataset(folder)
    assert io.dataset_document(data) == io.dataset_document(io.load_dataset(write_folder(tmp_path / "c", VALID)))
    assert any("orders.csv" in w and "';'" in w for w in data.load_warnings)


def test_utf8_csv_has_no_warning(tmp_path):
    assert io.load_dataset(write_folder(tmp_path / "d", VALID)).load_warnings == ()


def test_a_key_given_twice_in_a_json_document_is_refused(tmp_path):
    text = '{"plant": {"plan_start": "2026-11-30"}, "orders": [], "orders": []}'
    (tmp_path / "d.json").write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(tmp_path / "d.json")
    assert [(p.file, p.column) for p in caught.value.problems] == [("d.json", "orders")]


def test_a_key_given_twice_in_plant_json_is_refused(tmp_path):
    files = VALID | {"plant.json": '{"plan_start": "2026-11-30", "horizon_days": 30, "horizon_days": 90}'}
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(write_folder(tmp_path / "d", files))
    assert [(p.file, p.column) for p in caught.value.problems] == [("plant.json", "horizon_days")]


def test_a_column_given_twice_in_a_csv_header_is_refused(tmp_path):
    files = VALID | {"materials.csv": "material_id,on_hand,on_hand\nM1,10,20\n"}
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(write_folder(tmp_path / "d", files))
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [("materials.csv", 1, "on_hand")]


def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path):
    files = VALID | {"materials.csv": "material_id,on_hand\nM1,10,20\n"}
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(write_folder(tmp_path / "d", files))
    assert [(p.file, p.row) for p in caught.value.problems] == [("materials.csv", 2)]


def test_csv_that_is_neither_utf8_nor_gb18030_is_a_problem(tmp_path):
    folder = write_folder(tmp_path / "d", VALID)
    (folder / "products.csv").write_bytes(b"product_id\n\x80\x80\xff\n")
    with pytest.raises(DatasetError) as caught:
        io.load_dataset(folder)
    first = caught.value.problems[0]
    assert first.file == "products.csv" and "neither UTF-8 nor GB18030" in first.message


def test_api_key_containing_a_colon_is_written_role_name_key():
    keys = KeyRing(["planner:night-batch:abc:def", "sales:plain"])
    assert keys.identify("abc:def").actor == "planner:night-batch"
    assert keys.identify("def") is None
    assert keys.identify("plain").role == "sales"


# -- the CLI ----------------------------------------------------------------------------


runner = CliRunner()


def test_cli_refuses_a_huge_horizon_with_exit_2(tmp_path):
    document = tmp_path / "d.json"
    document.write_text(json.dumps(with_value(("plant", "horizon_days"), 20_000)), encoding="utf-8")
    result = runner.invoke(app, ["solve", str(document), "--time-limit", "2"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "horizon_days" in result.output


@pytest.mark.parametrize("seed", [str(2**31), str(-(2**31) - 1)])
def test_cli_seed_outside_int32_is_exit_2(tmp_path, seed):
    document = tmp_path / "d.json"
    document.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    result = runner.invoke(app, ["solve", str(document), "--seed", seed])
    assert result.exit_code == EXIT_BAD_INPUT


def test_cli_prints_the_loaders_warnings(tmp_path):
    folder = write_folder(tmp_path / "d", VALID)
    (folder / "lines.csv").write_bytes(VALID["lines.csv"].encode("gb18030"))
    result = runner.invoke(app, ["solve", str(folder), "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    assert "GB18030" in result.output


def test_time_limit_counts_the_set_up_of_a_1000_day_horizon():
    """A 1,000-day horizon's exact model alone took ~7 s to build: with 2 s the solve takes about 2 s."""
    import time

    from solver import engine
    from solver.generate import generate_dataset

    data = generate_dataset(orders=290, lines=8, days=1000, seed=1)
    started = time.monotonic()
    result = engine.solve(data, engine.SolveParams(time_limit=2))
    assert time.monotonic() - started < 3.5  # slack for a loaded CI machine
    assert result.schedule["orders"]
