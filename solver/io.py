"""Datasets in and out: CSV folders, JSON documents and Excel workbooks.

Loading never stops at the first problem: every row of every table is parsed,
each problem is recorded with its file, row (as a spreadsheet user counts it:
the header is row 1) and column, and a :class:`DatasetError` carrying all of
them is raised at the end. Nothing is half-loaded.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io as stdio
import json
import logging
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from solver.calendar import hours_to_minutes
from solver.domain import (
    DAY_START,
    ORDER_STATUSES,
    ORDER_TYPES,
    WEEKDAYS,
    Arrival,
    BomItem,
    CalendarException,
    Changeover,
    Customer,
    Dataset,
    DatasetError,
    InventoryFigure,
    Line,
    LineCalendarEntry,
    Material,
    Order,
    Plant,
    Problem,
    Product,
    Routing,
    Source,
)

log = logging.getLogger(__name__)

REQUIRED_TABLES = ("lines", "products", "routings", "orders")
OPTIONAL_TABLES = (
    "line_calendar",
    "calendar",
    "bom",
    "materials",
    "arrivals",
    "customers",
    "inventory",
    "changeovers",
)


class _Invalid(ValueError):
    """A cell value that does not parse; the message says what was expected."""


# -- cell parsers --------------------------------------------------------------


# -- bounds: every value a file can carry has one ------------------------------------

MAX_HORIZON_DAYS = int(os.environ.get("PAICHAN_MAX_HORIZON_DAYS") or 1000)  # the service may set it (api.config)
EARLIEST_DATE, LATEST_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # official holiday data spans these
MAX_QUANTITY = 2**31 - 1  # order quantities are int32 in the database and the solver's arrays
MAX_AMOUNT = 1e12  # material quantities (on hand, arrivals, per unit) and inventory figures
HOURS_PER_DAY = 24.0
MAX_SETUP_HOURS = 30 * 24.0  # a month of round-the-clock work: longer is a unit mistake
MAX_CHANGEOVER_MINUTES = 30 * 24 * 60  # the same month, in minutes
MAX_ORDERS_PER_DAY = 1_000_000  # an inspection or dispatch cap above this is no cap but a typo
MAX_TRANSIT_DAYS = 365
MAX_UNITS_PER_HOUR = 1e6
# One unit per 1,000 hours (six weeks round the clock) is slower than any line. With it the
# largest order (MAX_QUANTITY units) needs 60 * MAX_QUANTITY / MIN_UNITS_PER_HOUR ~ 1.3e14 run
# minutes: exact as a float (< 2**53) and an int64, never an overflow. Keeping run minutes
# inside int32 for every quantity would need 60 units an hour at least, which refuses real
# heavy-equipment routings; an order too long for the horizon is left unscheduled instead.
MIN_UNITS_PER_HOUR = 1e-3
# An order id is a segment of its web address (/v1/orders/{order_id}): no slash and nothing
# a browser or proxy rewrites there.
PATH_UNSAFE = frozenset("/\\?#%")


def _control_characters(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def _text(value: str) -> str:
    text = value.strip()
    if _control_characters(text):
        raise _Invalid("contains a control character (such as a NUL byte or a line break)")
    return text


MAX_ID_LENGTH = 100  # ids are keys in files, databases and URLs


def _identifier(value: str) -> str:
    text = _text(value)
    if len(text) > MAX_ID_LENGTH:
        raise _Invalid(f"an id may have at most {MAX_ID_LENGTH} characters, this one has {len(text)}")
    return text


def path_safe_id_problem(text: str) -> str | None:
    """Why ``text`` cannot be an order id (it is part of the order's web address), or ``None``."""
    unsafe = sorted({ch for ch in text if ch in PATH_UNSAFE})
    if unsafe:
        shown = " ".join(unsafe)
        return f"an order id may not contain {shown} (it is part of the order's web address)"
    if text in (".", ".."):
        return f"{text!r} cannot be an order id (it is part of the order's web address)"
    if _control_characters(text):
        return "an order id may not contain a control character"
    return None


def _order_id(value: str) -> str:
    text = _identifier(value)
    problem = path_safe_id_problem(text)
    if problem:
        raise _Invalid(problem)
    return text


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _Invalid(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise _Invalid(f"{value!r} is not a finite number")
    return number


def _shown(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _between(low: float, high: float, *, above_low: bool = False, whole: bool = False) -> Callable[[str], Any]:
    """A parser of numbers in ``[low, high]`` (``(low, high]`` with ``above_low``), whole ones only if asked."""

    def parse(value: str) -> Any:
        number = _whole(value) if whole else _number(value)
        if above_low and number <= low:
            raise _Invalid(f"must be greater than {_shown(low)}, got {value}")
        if number < low:
            if low == 0:
                raise _Invalid(f"must not be negative, got {value}")
            if whole and low == 1:
                raise _Invalid(f"must be a whole number greater than 0, got {value}")
            if number <= 0:
                raise _Invalid(f"must be greater than 0, got {value}")
            raise _Invalid(f"must be at least {_shown(low)}, got {value}")
        if number > high:
            raise _Invalid(f"must be at most {_shown(high)}, got {value}")
        return number

    return parse


MAX_WHOLE = 2_147_483_647  # the largest INTEGER PostgreSQL stores (and far below SQLite's)


def _whole(value: str) -> int:
    number = _number(value)
    if number != int(number):
        raise _Invalid(f"{value!r} is not a whole number")
    if abs(number) > MAX_WHOLE:
        raise _Invalid(f"must be at most {MAX_WHOLE:,} in size, got {value}")
    return int(number)


_hours_of_day = _between(0, HOURS_PER_DAY)
_units_per_hour = _between(MIN_UNITS_PER_HOUR, MAX_UNITS_PER_HOUR)
_setup_hours = _between(0, MAX_SETUP_HOURS)
_positive_amount = _between(0, MAX_AMOUNT, above_low=True)
_amount = _between(0, MAX_AMOUNT)
_transit_days = _between(0, MAX_TRANSIT_DAYS, whole=True)
_quantity = _between(1, MAX_QUANTITY, whole=True)
_changeover_minutes = _between(0, MAX_CHANGEOVER_MINUTES, whole=True)
_orders_per_day = _between(1, MAX_ORDERS_PER_DAY, whole=True)


def _priority(value: str) -> int:
    number = _whole(value)
    if not 1 <= number <= 10:
        raise _Invalid(f"priority must be a whole number 1-10, got {value}")
    return number


def _date(value: str) -> dt.date:
    text = value.strip()
    # Excel and pandas hand back "2026-11-30 00:00:00" for date cells.
    if len(text) > 10 and text[10] in " T" and text[11:].strip("0:. ") == "":
        text = text[:10]
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise _Invalid(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not EARLIEST_DATE <= date <= LATEST_DATE:
        raise _Invalid(f"{date} is outside the dates paichan plans ({EARLIEST_DATE} to {LATEST_DATE})")
    return date


def _clock(value: str) -> dt.time:
    """A time of day as ``HH:MM`` (24-hour clock)."""
    parts = value.strip().split(":")
    if len(parts) == 3 and parts[2] == "00":  # a time cell of a workbook reads back as HH:MM:00
        parts = parts[:2]
    try:
        if len(parts) != 2 or len(parts[1]) != 2:
            raise ValueError
        return dt.time(int(parts[0]), int(parts[1]))
    except ValueError:
        raise _Invalid(f"{value!r} is not a time of day (HH:MM, 00:00 to 23:59)") from None


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "1.0", "true", "yes"):
        return True
    if text in ("0", "0.0", "false", "no"):
        return False
    raise _Invalid(f"{value!r} is not 1 or 0")


def _one_of(choices: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(choices)

    def parse(value: str) -> str:
        text = value.strip()
        if text not in allowed:
            raise _Invalid(f"{value!r} is not one of {', '.join(allowed)}")
        return text

    return parse


def _fraction(value: str) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise _Invalid(f"must be a fraction between 0 and 1, got {value}")
    return number


@dataclass(frozen=True)
class _Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False
    field: str | None = None  # attribute name when it differs from the column
    # written only when some row gives it, so datasets without it are written as before
    omit_blank: bool = False


@dataclass(frozen=True)
class _Table:
    stem: str
    record: type
    columns: tuple[_Column, ...]
    omit_empty: bool = False  # left out of written datasets (documents, folders, workbooks) when it has no rows


def _col(name: str, parse: Callable[[str], Any], required: bool = False) -> _Column:
    return _Column(name, parse, required)


TABLES: dict[str, _Table] = {
    t.stem: t
    for t in (
        _Table(
            "lines",
            Line,
            (
                _col("line_id", _identifier, True),
                _col("hours_per_day", _hours_of_day, True),
                _col("name", _text),
                _Column("initial_family", _text, omit_blank=True),
            ),
        ),
        _Table(
            "line_calendar",
            LineCalendarEntry,
            (_col("line_id", _identifier, True), _col("date", _date, True), _col("hours", _hours_of_day, True)),
        ),
        _Table("calendar", CalendarException, (_col("date", _date, True), _col("working", _flag, True))),
        _Table(
            "products", Product, (_col("product_id", _identifier, True), _col("name", _text), _col("family", _text))
        ),
        _Table(
            "routings",
            Routing,
            (
                _col("product_id", _identifier, True),
                _col("line_id", _identifier, True),
                _col("units_per_hour", _units_per_hour, True),
                _col("setup_hours", _setup_hours),
            ),
        ),
        _Table(
            "bom",
            BomItem,
            (
                _col("product_id", _identifier, True),
                _col("material_id", _identifier, True),
                _col("qty_per_unit", _positive_amount, True),
            ),
        ),
        _Table(
            "materials",
            Material,
            (_col("material_id", _identifier, True), _col("on_hand", _amount, True), _col("name", _text)),
        ),
        _Table(
            "arrivals",
            Arrival,
            (_col("material_id", _identifier, True), _col("date", _date, True), _col("qty", _amount, True)),
        ),
        _Table(
            "customers",
            Customer,
            (
                _col("customer_id", _identifier, True),
                _col("name", _text),
                _col("region", _text),
                _col("transit_days", _transit_days),
            ),
        ),
        _Table(
            "orders",
            Order,
            (
                _col("order_id", _order_id, True),
                _col("product_id", _identifier, True),
                _col("quantity", _quantity, True),
                _col("due_date", _date, True),
                _col("customer_id", _identifier),
                _col("priority", _priority),
                _col("status", _one_of(ORDER_STATUSES)),
                _col("earliest_start", _date),
                _col("pinned_line", _identifier),
                _col("order_type", _one_of(ORDER_TYPES)),
                _col("deposit_ratio", _fraction),
                _col("pinned_start", _date),
            ),
        ),
        _Table(
            "inventory",
            InventoryFigure,
            (
                _col("product_id", _identifier, True),
                _col("stock_ceiling", _amount),
                _col("in_transit", _amount),
                _col("forecast_week", _amount),
            ),
        ),
        _Table(
            "changeovers",
            Changeover,
            (
                _col("from_family", _text, True),
                _col("to_family", _text, True),
                _col("minutes", _changeover_minutes, True),
                _col("line_id", _identifier),
            ),
            omit_empty=True,
        ),
    )
}


# -- raw tables: rows of strings with their locations -----------------------------


@dataclass
class _RawTable:
    """A table as strings, with the label and numbering a user sees."""

    file: str  # "orders.csv", "orders" (sheet) or "$.orders"
    columns: list[str]
    rows: list[dict[str, str]]
    row_label: Callable[[int], int | str]


def _csv_row_label(index: int) -> int:
    return index + 2  # the header is row 1


def _json_row_label(index: int) -> str:
    return f"[{index}]"


def _frame_to_raw(frame: pd.DataFrame, file: str) -> _RawTable:
    frame = frame.fillna("")
    columns = [str(c).strip() for c in frame.columns]
    rows = [
        {c: _cell_text(v) for c, v in zip(columns, values, strict=True)} for values in frame.itertuples(index=False)
    ]
    return _RawTable(file, columns, rows, _csv_row_label)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.date().isoformat()
    return str(value).strip()


# -- parsing ------------------------------------------------------------------------


def _parse_table(raw: _RawTable, table: _Table, problems: list[Problem]) -> list[Any]:
    """Records of every row; a bad cell is a problem and ``None`` in its record."""
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    for name in missing:
        problems.append(Problem(raw.file, None, name, "required column is missing"))
    if missing:
        return []
    records = []
    for index, row in enumerate(raw.rows):
        if not any(v.strip() for v in row.values()):
            continue  # blank spreadsheet rows are not records
        label = raw.row_label(index)
        values: dict[str, Any] = {}
        for column in table.columns:
            cell = row.get(column.name, "")
            if isinstance(cell, _BadCell):
                problems.append(Problem(raw.file, label, column.name, str(cell)))
                values[column.field or column.name] = None
                continue
            text = cell.strip()
            if "\x00" in text:  # PostgreSQL refuses NUL in text; refused everywhere alike
                problems.append(Problem(raw.file, label, column.name, "contains a NUL character (\\u0000)"))
                values[column.field or column.name] = None
                continue
            if text == "":
                if column.required:
                    problems.append(Problem(raw.file, label, column.name, "value is required"))
                    values[column.field or column.name] = None
                continue
            try:
                values[column.field or column.name] = column.parse(text)
            except _Invalid as error:
                problems.append(Problem(raw.file, label, column.name, str(error)))
                values[column.field or column.name] = None
        records.append(table.record(**values, source=Source(raw.file, label)))
    return records


def _parse_plant(document: Any, file: str, problems: list[Problem]) -> Plant | None:
    if not isinstance(document, dict):
        problems.append(Problem(file, None, None, "must be a JSON object"))
        return None
    values: dict[str, Any] = {}
    if "plan_start" not in document or document["plan_start"] in (None, ""):
        problems.append(Problem(file, None, "plan_start", "value is required"))
    for key, parse in (
        ("plan_start", _date),
        ("horizon_days", _between(1, MAX_HORIZON_DAYS, whole=True)),
        ("frozen_days", _between(0, MAX_HORIZON_DAYS, whole=True)),
        ("day_start", _clock),
        ("inspection_orders_per_day", _orders_per_day),
        ("dispatch_orders_per_day", _orders_per_day),
    ):
        if document.get(key) not in (None, ""):
            try:
                values[key] = parse(_plant_scalar(document[key]))
            except _Invalid as error:
                problems.append(Problem(file, None, key, str(error)))
    horizon = values.get("horizon_days", Plant.horizon_days)
    if values.get("frozen_days", 0) > horizon:
        problems.append(Problem(file, None, "frozen_days", f"must not exceed horizon_days ({horizon})"))
    for key in ("workdays", "release_weekdays"):
        if key in document:
            days = document[key]
            if not isinstance(days, list) or any(not isinstance(d, str) or d not in WEEKDAYS for d in days):
                problems.append(Problem(file, None, key, f"must be a list of {', '.join(WEEKDAYS)}"))
            elif key == "workdays" and not days:
                problems.append(Problem(file, None, key, "the plant needs at least one workday"))
            else:
                values[key] = tuple(days)
    if "holiday_country" in document:
        country = document["holiday_country"]
        if country is not None and not isinstance(country, str):
            problems.append(Problem(file, None, "holiday_country", "must be a country code or null"))
        elif country and not known_holiday_country(country):
            message = f"no holiday data for country {country!r}: give an ISO code such as CN, DE or US, or null"
            problems.append(Problem(file, None, "holiday_country", message))
        else:
            values["holiday_country"] = country.strip().upper() if country else None
    if "plan_start" not in values:
        return None
    return Plant(**values)


def _plant_scalar(value: Any) -> str:
    """A plant value as the text its parser reads; ``true`` and lists are no numbers or dates."""
    if isinstance(value, (bool, list, dict)):
        raise _Invalid(f"{json.dumps(value)[:40]} is not a number, date or time")
    return str(value)


def known_holiday_country(country: str) -> bool:
    """Whether holidays of ``country`` are known (CN from chinese_calendar, others from holidays)."""
    code = country.strip().upper()
    if code == "CN":
        return True
    import holidays  # only needed for plants outside China

    return code in holidays.list_supported_countries()


def _build(
    plant: Plant | None,
    tables: dict[str, _RawTable],
    problems: list[Problem],
    missing_label: Callable[[str], str],
    warnings: list[str] | None = None,
) -> Dataset:
    for stem in REQUIRED_TABLES:
        if stem not in tables:
            problems.append(Problem(missing_label(stem), None, None, "required table is missing"))
    parsed = {stem: _parse_table(raw, TABLES[stem], problems) for stem, raw in tables.items() if stem in TABLES}
    # rows with bad cells are kept (bad cells as None) so their references are checked too
    records = {stem: tuple(rows) for stem, rows in parsed.items()}
    checked = Dataset(plant=plant or Plant(dt.date.min), **{stem: records.get(stem, ()) for stem in TABLES})
    problems += checked.problems()
    if plant is None or problems:
        raise DatasetError(problems)
    for warning in warnings or ():
        log.warning(warning)
    return dataclasses.replace(checked, load_warnings=tuple(warnings or ()))


# -- public loaders -------------------------------------------------------------------


def load_dataset(path: str | Path) -> Dataset:
    """Load a dataset from a CSV folder, a ``.json`` document or an ``.xlsx`` workbook."""
    path = Path(path)
    if path.is_dir():
        return load_csv_folder(path)
    if not path.exists():
        raise DatasetError([Problem(str(path), None, None, "no such file or folder")])
    if path.suffix.lower() == ".json":
        return load_json_file(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return load_workbook(path)
    raise DatasetError([Problem(str(path), None, None, "expected a folder, a .json or an .xlsx file")])


def load_csv_folder(folder: str | Path) -> Dataset:
    """Load a CSV folder: ``plant.json`` and one CSV per table.

    Excel's exports are read as they come: UTF-8 with or without a BOM, else GB18030 (what
    Excel writes as "CSV" on a Chinese Windows), and ``;`` or tab separators (European
    Excel); each guess is a warning naming the file (:attr:`Dataset.load_warnings`).
    """
    folder = Path(folder)
    problems: list[Problem] = []
    warnings: list[str] = []
    plant = None
    plant_file = folder / "plant.json"
    if not plant_file.exists():
        problems.append(Problem("plant.json", None, None, "required file is missing"))
    else:
        document = parse_json_bytes(plant_file.read_bytes(), "plant.json", problems)
        if document is not None:
            plant = _parse_plant(document, "plant.json", problems)
    tables: dict[str, _RawTable] = {}
    for stem in TABLES:
        file = folder / f"{stem}.csv"
        if file.exists():
            raw = read_csv_table(file.read_bytes(), file.name, problems, warnings)
            if raw is not None:
                tables[stem] = raw
    return _build(plant, tables, problems, lambda stem: f"{stem}.csv", warnings)


CSV_DELIMITERS = (",", ";", "\t", "|")


def _decode(content: bytes, file: str, warnings: list[str]) -> str | None:
    """UTF-8 (a BOM dropped), else GB18030; ``None`` when neither reads."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError:
        return None
    warnings.append(f"{file} is not UTF-8: read as GB18030 (Chinese Excel's CSV); save it as CSV UTF-8 to be sure")
    return text


def read_csv_table(content: bytes, file: str, problems: list[Problem], warnings: list[str]) -> _RawTable | None:
    """A CSV file as a raw table: encoding and separator detected, every bad row a problem."""
    text = _decode(content, file, warnings)
    if text is None:
        problems.append(Problem(file, None, None, "cannot be read: neither UTF-8 nor GB18030 text"))
        return None
    if "\x00" in text:
        problems.append(Problem(file, None, None, "contains NUL bytes: not a CSV text file"))
        return None
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    # the separator is the one the header uses most (a header has no quoted separators in practice)
    delimiter = max(CSV_DELIMITERS, key=lambda d: (header_line.count(d), d == ","))
    if delimiter != "," and header_line.count(delimiter):
        shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
        warnings.append(f"{file} is separated by {shown}, not ',': read it that way")
    try:
        rows = list(csv.reader(stdio.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True))
    except csv.Error as error:
        problems.append(Problem(file, None, None, f"cannot be read as CSV: {error}"))
        return None
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        return _RawTable(file, [], [], _csv_row_label)
    columns = [c.strip() for c in rows[0]]
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            problems.append(Problem(file, 1, name, "column appears twice in the header"))
        seen.add(name)
    records = []
    for index, cells in enumerate(rows[1:]):
        extra = [c for c in cells[len(columns) :] if c.strip()]
        if extra:
            message = f"has {len(cells)} cells but the header has {len(columns)} columns"
            problems.append(Problem(file, _csv_row_label(index), None, message))
        cells = cells + [""] * (len(columns) - len(cells))
        records.append({c: v.strip() for c, v in zip(columns, cells, strict=False) if c})
    return _RawTable(file, [c for c in columns if c], records, _csv_row_label)


def parse_json_bytes(content: bytes, file: str, problems: list[Problem]) -> Any | None:
    """A JSON document (UTF-8, a BOM allowed); a key given twice in one object is a problem,
    not silently the last one. ``None`` (and a problem) when it is no JSON."""
    duplicates: list[str] = []

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            if key in found:
                duplicates.append(key)
            found[key] = value
        return found

    try:
        text = content.decode("utf-8-sig")
        document = json.loads(text, object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        problems.append(Problem(file, None, None, f"not valid JSON: {error}"))
        return None
    for key in dict.fromkeys(duplicates):
        problems.append(Problem(file, None, key, f"key {key!r} is given twice in one object: remove one"))
    return None if duplicates else document


def load_json_document(document: Any, file: str = "$") -> Dataset:
    """Load a dataset from a JSON document whose keys are the file stems."""
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise DatasetError([Problem(file, None, None, "must be a JSON object keyed by file stem")])
    plant = None
    if "plant" not in document:
        problems.append(Problem(f"{file}.plant", None, None, "required key is missing"))
    else:
        plant = _parse_plant(document["plant"], f"{file}.plant", problems)
    tables: dict[str, _RawTable] = {}
    for stem in TABLES:
        if stem not in document:
            continue
        rows = document[stem]
        label = f"{file}.{stem}"
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            problems.append(Problem(label, None, None, "must be a list of objects"))
            continue
        text_rows = [{str(k): _json_cell(v) for k, v in r.items()} for r in rows]
        columns = sorted({c for r in text_rows for c in r}) if text_rows else [c.name for c in TABLES[stem].columns]
        # A JSON record simply lacks an optional key; a missing required key is a per-row problem.
        for column in TABLES[stem].columns:
            if column.name not in columns:
                columns.append(column.name)
        tables[stem] = _RawTable(label, columns, text_rows, _json_row_label)
    return _build(plant, tables, problems, lambda stem: f"{file}.{stem}")


class _BadCell(str):
    """A JSON cell no column can read (a list, an object, a number too long); its text is why."""


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # a flag reads it; no number does
    if isinstance(value, (list, dict)):
        return _BadCell(f"must be a single value, not a JSON {'list' if isinstance(value, list) else 'object'}")
    if isinstance(value, int) and value.bit_length() > 63:
        return _BadCell("number is too large")
    return str(value)


def load_json_file(path: str | Path) -> Dataset:
    path = Path(path)
    problems: list[Problem] = []
    document = parse_json_bytes(path.read_bytes(), path.name, problems)
    if problems:
        raise DatasetError(problems)
    return load_json_document(document, path.name)


def load_workbook(path: str | Path) -> Dataset:
    """Load a dataset from an Excel workbook with one sheet per file stem.

    The ``plant`` sheet holds ``key``/``value`` rows (list values comma-separated).
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise DatasetError([Problem(path.name, None, None, f"cannot be read as an xlsx workbook: {error}")]) from None
    problems: list[Problem] = []
    plant = None
    if "plant" not in sheets:
        problems.append(Problem(f"{path.name}:plant", None, None, "required sheet is missing"))
    else:
        plant = _parse_plant(_plant_from_sheet(sheets["plant"]), f"{path.name}:plant", problems)
    tables = {stem: _frame_to_raw(frame, f"{path.name}:{stem}") for stem, frame in sheets.items() if stem in TABLES}
    return _build(plant, tables, problems, lambda stem: f"{path.name}:{stem}")


def _plant_from_sheet(frame: pd.DataFrame) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=False):
        key, value = str(key).strip(), _cell_text(value)
        if key in ("workdays", "release_weekdays"):
            document[key] = [d.strip() for d in value.split(",") if d.strip()]
        elif key == "holiday_country":
            document[key] = value or None
        elif key:
            document[key] = value
    return document


# -- writing ---------------------------------------------------------------------------


def plant_document(plant: Plant) -> dict[str, Any]:
    document: dict[str, Any] = {
        "plan_start": plant.plan_start.isoformat(),
        "horizon_days": plant.horizon_days,
        "workdays": list(plant.workdays),
        "holiday_country": plant.holiday_country,
        "frozen_days": plant.frozen_days,
        "release_weekdays": list(plant.release_weekdays),
        "day_start": plant.day_start.strftime("%H:%M"),
    }
    # the caps only when the plant sets them, so plants without them are written as before
    for key in ("inspection_orders_per_day", "dispatch_orders_per_day"):
        if getattr(plant, key) is not None:
            document[key] = getattr(plant, key)
    return document


def _record_row(record: object, table: _Table) -> dict[str, Any]:
    row = {}
    for column in table.columns:
        value = getattr(record, column.field or column.name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        row[column.name] = value
    return row


def dataset_tables(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """The dataset as rows per file stem (plant excluded).

    A table marked ``omit_empty`` is left out when it has no rows, and a column marked
    ``omit_blank`` when no row gives it: data without them is written as before.
    """
    tables = {}
    for stem, table in TABLES.items():
        records = getattr(dataset, stem)
        if table.omit_empty and not records:
            continue
        rows = [_record_row(r, table) for r in records]
        for column in table.columns:
            if column.omit_blank and all(row[column.name] in (None, "") for row in rows):
                for row in rows:
                    del row[column.name]
        tables[stem] = rows
    return tables


def _written_columns(stem: str, rows: list[dict[str, Any]]) -> list[str]:
    """The columns a written table has: its table's, less those :func:`dataset_tables` left out."""
    columns = [c.name for c in TABLES[stem].columns]
    return [c for c in columns if c in rows[0]] if rows else [c for c in columns if not _omit_blank(stem, c)]


def _omit_blank(stem: str, name: str) -> bool:
    return any(c.name == name and c.omit_blank for c in TABLES[stem].columns)


def dataset_document(dataset: Dataset) -> dict[str, Any]:
    """The dataset as one JSON document keyed by file stem (``None`` cells dropped)."""
    document: dict[str, Any] = {"plant": plant_document(dataset.plant)}
    for stem, rows in dataset_tables(dataset).items():
        document[stem] = [{k: v for k, v in row.items() if v is not None} for row in rows]
    return document


def write_csv_folder(dataset: Dataset, folder: str | Path) -> None:
    """Write the dataset as a CSV folder (plant.json plus one CSV per table)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plant.json").write_text(json.dumps(plant_document(dataset.plant), indent=2) + "\n", encoding="utf-8")
    for stem, rows in dataset_tables(dataset).items():
        if not rows and stem not in REQUIRED_TABLES:
            continue
        columns = _written_columns(stem, rows)
        pd.DataFrame(rows, columns=columns).to_csv(folder / f"{stem}.csv", index=False, encoding="utf-8")


def write_workbook(dataset: Dataset, path: str | Path) -> None:
    """Write the dataset as an xlsx workbook, one sheet per file stem."""
    plant = plant_document(dataset.plant)
    plant_rows = [(k, ",".join(v) if isinstance(v, list) else ("" if v is None else v)) for k, v in plant.items()]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(plant_rows, columns=["key", "value"]).to_excel(writer, sheet_name="plant", index=False)
        for stem, rows in dataset_tables(dataset).items():
            columns = _written_columns(stem, rows)
            pd.DataFrame(rows, columns=columns).to_excel(writer, sheet_name=stem, index=False)


# -- spreadsheet safety ----------------------------------------------------------------

# A text cell starting with one of these is run as a formula when a spreadsheet opens the file
# (=HYPERLINK(...), +cmd|..., -2+3, @SUM(...); tab and carriage return hide the sign).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` for an exported cell: text a spreadsheet would run as a formula gets ``'`` in front.

    Only text is escaped; numbers (also negative ones) and dates stay as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with every cell through :func:`spreadsheet_safe`."""
    return [{key: spreadsheet_safe(value) for key, value in row.items()} for row in rows]


# -- schedules -------------------------------------------------------------------------

ORDER_COLUMNS = (
    "order_id",
    "line_id",
    "product_id",
    "customer_id",
    "quantity",
    "priority",
    "status",
    "production_start",
    "production_end",
    "inspection_date",
    "dispatch_date",
    "delivery_date",
    "due_date",
    "days_late",
)


ORDER_NAME_COLUMNS = ("customer_name", "product_name", "line_name")


def schedule_order_rows(schedule: dict[str, Any], dataset: Dataset | None = None) -> list[dict[str, Any]]:
    """One row per order: planned ones with their dates, unscheduled ones with the reason;
    with the dataset, the customer's, product's and line's names after the codes."""
    rows = [{c: entry.get(c) for c in ORDER_COLUMNS} | {"unscheduled_reason": ""} for entry in schedule["orders"]]
    rows += [
        dict.fromkeys(ORDER_COLUMNS, "") | {"order_id": u["order_id"], "unscheduled_reason": u["reason"]}
        for u in schedule["unscheduled"]
    ]
    return [_with_names(row, dataset) for row in rows] if dataset is not None else rows


def order_columns(dataset: Dataset | None) -> list[str]:
    """The columns of ``orders.csv``: the names only when the dataset gives them."""
    return [*ORDER_COLUMNS, "unscheduled_reason", *(ORDER_NAME_COLUMNS if dataset is not None else ())]


DAILY_COLUMNS = (
    "line_id",
    "date",
    "order_id",
    "product_id",
    "minutes",
    "quantity",
    "sequence",
    "start",
    "end",
    "changeover_minutes",
    "setup_minutes",
    "note",
    "line_name",
    "product_name",
)
SETUP_ONLY, NO_UNIT_FINISHED = "setup", "no unit finished"  # notes of a day that finishes no unit


def daily_plan_rows(schedule: dict[str, Any], dataset: Dataset | None = None) -> list[dict[str, Any]]:
    """The shop-floor sheet: per line and date its runs in run order, one row each.

    Each row has the run's ``sequence`` on its line, its ``start``-``end`` clock times that
    day (the plant's ``day_start`` plus the run's minutes into the line's day), the units
    finished that day, the setup minutes spent that day and a ``note`` for a day that
    finishes no unit. ``dataset`` gives the day start, setup times and names; without it
    (or for documents older than run order) those cells are blank or the defaults.
    """
    keyed = [(key, row) for entry in schedule["orders"] for key, row in _daily_rows(entry, dataset)]
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]


def _daily_rows(entry: dict[str, Any], dataset: Dataset | None) -> list[tuple[tuple, dict[str, Any]]]:
    """An entry's rows, each with its sort key: line, date, run order, order."""
    day_start = dataset.plant.day_start if dataset else DAY_START
    setup_left = _setup_minutes(entry, dataset)
    changeover_left = entry.get("changeover_minutes")
    changeover_left = changeover_left if isinstance(changeover_left, int) else 0
    start_minute = entry.get("start_minute")
    sequence = entry.get("sequence")
    rows = []
    for number, allocation in enumerate(entry["allocations"]):
        changeover = min(changeover_left, allocation["minutes"])  # the changeover is spent first
        changeover_left -= changeover
        setup = None if setup_left is None else min(setup_left, allocation["minutes"] - changeover)
        if setup_left is not None and setup is not None:
            setup_left -= setup  # setup is spent first
        # a run starts its first day at start_minute and every later day at the day's start
        start = (start_minute if number == 0 else 0) if isinstance(start_minute, int) else None
        # older documents have no sequence: the run carried over from the day before comes first
        run_order = (sequence if isinstance(sequence, int) else math.inf, number == 0)
        key = (entry["line_id"], allocation["date"], run_order, entry["order_id"])
        row = {
            "line_id": entry["line_id"],
            "date": allocation["date"],
            "order_id": entry["order_id"],
            "product_id": entry.get("product_id", ""),
            "minutes": allocation["minutes"],
            "quantity": allocation["quantity"],
            "sequence": sequence if sequence is not None else "",
            "start": clock_time(day_start, start) if start is not None else "",
            "end": clock_time(day_start, start + allocation["minutes"]) if start is not None else "",
            "changeover_minutes": changeover,
            "setup_minutes": setup if setup is not None else "",
            "note": _day_note(allocation, changeover + (setup or 0)),
            "line_name": _name(dataset, "line", entry["line_id"]),
            "product_name": _name(dataset, "product", entry.get("product_id", "")),
        }
        rows.append((key, row))
    return rows


def _day_note(allocation: dict[str, Any], setting_up: int) -> str:
    """A day that finishes no unit: all of it changeover and setup, or production not yet done."""
    if allocation["quantity"] > 0:
        return ""
    return SETUP_ONLY if setting_up == allocation["minutes"] else NO_UNIT_FINISHED


def _setup_minutes(entry: dict[str, Any], dataset: Dataset | None) -> int | None:
    """The run's setup minutes on its line (spent first), ``None`` when the dataset does not say."""
    if dataset is None:
        return None
    routings = dataset.routings_by_product.get(entry.get("product_id") or "", ())
    routing = next((r for r in routings if r.line_id == entry["line_id"]), None)
    return hours_to_minutes(routing.setup_hours) if routing else None


def clock_time(day_start: dt.time, minutes: int) -> str:
    """``HH:MM`` ``minutes`` after ``day_start``; past midnight marked ``+1`` (a two-shift line)."""
    total = day_start.hour * 60 + day_start.minute + minutes
    days, minute_of_day = divmod(total, 24 * 60)
    text = f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
    return text if days == 0 else f"{text}+{days}"


def _name(dataset: Dataset | None, kind: str, code: str | None) -> str:
    """The name the dataset gives a line, product, customer or material; blank when it has none."""
    if dataset is None or not code:
        return ""
    record = getattr(dataset, f"{kind}_by_id").get(code)
    return record.name if record is not None else ""


DISPATCH_COLUMNS = (
    "dispatch_date",
    "order_id",
    "customer_id",
    "customer_name",
    "region",
    "product_id",
    "product_name",
    "quantity",
    "transit_days",
    "delivery_date",
    "due_date",
    "days_late",
    "line_id",
)


def dispatch_plan_rows(schedule: dict[str, Any], dataset: Dataset) -> list[dict[str, Any]]:
    """The daily dispatch plan (日发货计划): one row per planned order, by dispatch date then order.

    Customer name, region and transit days come from ``dataset``'s customers, the
    product's name from its products; they are blank when the dataset does not know them.
    """
    rows = [_dispatch_row(entry, dataset) for entry in schedule["orders"]]
    return sorted(rows, key=lambda r: (r["dispatch_date"], r["order_id"]))


def _dispatch_row(entry: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    order = dataset.order_by_id.get(entry["order_id"])
    customer_id = entry.get("customer_id") or (order.customer_id if order else None) or ""
    product_id = entry.get("product_id") or (order.product_id if order else "")
    customer = dataset.customer_by_id.get(customer_id)
    product = dataset.product_by_id.get(product_id)
    quantity = entry.get("quantity") or (order.quantity if order else None)
    if quantity is None:  # a schedule without quantities: what its days make
        quantity = sum(a["quantity"] for a in entry.get("allocations", []))
    return {
        "dispatch_date": entry["dispatch_date"],
        "order_id": entry["order_id"],
        "customer_id": customer_id,
        "customer_name": customer.name if customer else "",
        "region": customer.region if customer else "",
        "product_id": product_id,
        "product_name": product.name if product else "",
        "quantity": quantity,
        "transit_days": customer.transit_days if customer else "",
        "delivery_date": entry.get("delivery_date", ""),
        "due_date": entry.get("due_date", ""),
        "days_late": entry.get("days_late", ""),
        "line_id": entry.get("line_id", ""),
    }


def _atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file so a failure never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_schedule_json(schedule: dict[str, Any], path: str | Path) -> None:
    _atomic_write(Path(path), json.dumps(schedule, ensure_ascii=False, indent=2) + "\n")


def write_schedule_csv(schedule: dict[str, Any], folder: str | Path, dataset: Dataset | None = None) -> list[Path]:
    """Write ``orders.csv``, ``daily_plan.csv``, ``line_loads.csv`` and, given the dataset
    (customers and regions), ``dispatch_plan.csv``; returns the paths."""
    folder = Path(folder)
    safe = spreadsheet_safe_rows  # text that would run as a formula is escaped
    tables = {
        "orders.csv": pd.DataFrame(safe(schedule_order_rows(schedule, dataset)), columns=order_columns(dataset)),
        "daily_plan.csv": pd.DataFrame(safe(daily_plan_rows(schedule, dataset)), columns=list(DAILY_COLUMNS)),
        "line_loads.csv": pd.DataFrame(
            safe(schedule.get("line_loads", [])), columns=["line_id", "date", "minutes_used", "minutes_available"]
        ),
    }
    if dataset is not None:
        rows = safe(dispatch_plan_rows(schedule, dataset))
        tables["dispatch_plan.csv"] = pd.DataFrame(rows, columns=list(DISPATCH_COLUMNS))
    written = []
    for name, frame in tables.items():
        _atomic_write(folder / name, frame.to_csv(index=False))
        written.append(folder / name)
    return written


def load_schedule(path: str | Path) -> dict[str, Any]:
    """A schedule document from a JSON file; problems raise :class:`DatasetError`."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError([Problem(str(path), None, None, "no such file")]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetError([Problem(path.name, None, None, f"not valid JSON: {error}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("orders"), list):
        raise DatasetError([Problem(path.name, None, "orders", "not a schedule document (no 'orders' list)")])
    return document


# -- the schedule workbook -------------------------------------------------------------------

WORKBOOK_LANGUAGES = ("zh", "en")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class _SheetColumn:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text, number, date, hours or percent: how the cell is typed and formatted


@dataclass(frozen=True)
class _SheetSpec:
    zh: str
    en: str
    columns: tuple[_SheetColumn, ...]


_C = _SheetColumn
_LINE = (_C("line_id", "产线", "Line"), _C("line_name", "产线名称", "Line name"))
_CUSTOMER = (_C("customer_id", "客户编码", "Customer"), _C("customer_name", "客户名称", "Customer name"))
_PRODUCT = (_C("product_id", "产品编码", "Product"), _C("product_name", "产品名称", "Product name"))

ORDERS_SHEET = _SheetSpec(
    "订单",
    "Orders",
    (
        _C("order_id", "订单号", "Order"),
        *_CUSTOMER,
        *_PRODUCT,
        _C("quantity", "数量", "Quantity", "number"),
        _C("priority", "优先级", "Priority", "number"),
        *_LINE,
        _C("production_start", "开工日期", "Production start", "date"),
        _C("production_end", "完工日期", "Production end", "date"),
        _C("inspection_date", "检验日期", "Inspection", "date"),
        _C("dispatch_date", "发货日期", "Dispatch", "date"),
        _C("delivery_date", "交付日期", "Delivery", "date"),
        _C("due_date", "交期", "Due date", "date"),
        _C("days_late", "延期天数", "Days late", "number"),
        _C("unscheduled_reason", "未排产原因", "Not scheduled because"),
    ),
)
DAILY_SHEET = _SheetSpec(
    "每日作业",
    "Daily work",
    (
        *_LINE,
        _C("date", "日期", "Date", "date"),
        _C("sequence", "顺序", "Sequence", "number"),
        _C("start", "开始", "Start"),
        _C("end", "结束", "End"),
        _C("order_id", "订单号", "Order"),
        *_PRODUCT,
        _C("quantity", "当日完成数量", "Units finished", "number"),
        _C("minutes", "工时（分钟）", "Minutes", "number"),
        _C("changeover_minutes", "换型（分钟）", "Changeover minutes", "number"),
        _C("setup_minutes", "调机（分钟）", "Setup minutes", "number"),
        _C("note", "备注", "Note"),
    ),
)
DISPATCH_SHEET = _SheetSpec(
    "发货计划",
    "Dispatch plan",
    (
        _C("dispatch_date", "发货日期", "Dispatch", "date"),
        _C("order_id", "订单号", "Order"),
        *_CUSTOMER,
        _C("region", "区域", "Region"),
        *_PRODUCT,
        _C("quantity", "数量", "Quantity", "number"),
        _C("transit_days", "运输天数", "Transit days", "number"),
        _C("delivery_date", "交付日期", "Delivery", "date"),
        _C("due_date", "交期", "Due date", "date"),
        _C("days_late", "延期天数", "Days late", "number"),
        *_LINE,
    ),
)
LATE_SHEET = _SheetSpec(
    "延期订单",
    "Late orders",
    (
        _C("order_id", "订单号", "Order"),
        *_CUSTOMER,
        *_PRODUCT,
        *_LINE,
        _C("due_date", "交期", "Due date", "date"),
        _C("delivery_date", "交付日期", "Delivery", "date"),
        _C("days_late", "延期天数", "Days late", "number"),
        _C("priority", "优先级", "Priority", "number"),
        _C("reasons", "延期原因", "Why late"),
    ),
)
LOAD_SHEET = _SheetSpec(
    "产线负荷",
    "Line load",
    (
        *_LINE,
        _C("date", "日期", "Date", "date"),
        _C("hours_used", "已排工时（小时）", "Hours used", "hours"),
        _C("hours_available", "可用工时（小时）", "Hours available", "hours"),
        _C("load", "负荷率", "Load", "percent"),
    ),
)

_NOTES = {"zh": {SETUP_ONLY: "调机", NO_UNIT_FINISHED: "未完成整件"}, "en": {}}
_REASONS = {  # the page's wording (api/static/js/i18n.js, reason.*) for the late orders' binding reasons
    "zh": {
        "days_late": "延期 {days} 天",
        "lead_time": "交期短于最短周期：即使产线全空也要晚 {days} 天",
        "material": "物料 {material} {available_from} 才够",
        "earliest_start": "最早开工日 {date}",
        "changeover": "产线 {line} 开工前换型 {minutes} 分钟",
        "inspection_cap": "检验日 {date} 已满（每天最多检验 {cap} 单）",
        "dispatch_cap": "发货日 {date} 已满（每天最多发货 {cap} 单）",
        "capacity": "产线 {line} 在 {from_} 至 {to} 已排满（{full_days} 天）",
    },
    "en": {
        "days_late": "{days} day(s) late",
        "lead_time": "due inside the lead time: {days} day(s) late even on an empty plant",
        "material": "material {material} only enough from {available_from}",
        "earliest_start": "earliest start {date}",
        "changeover": "a {minutes} min changeover on line {line} before its run",
        "inspection_cap": "inspection day {date} full ({cap} order(s) a day)",
        "dispatch_cap": "dispatch day {date} full ({cap} order(s) a day)",
        "capacity": "line {line} full from {from_} to {to} ({full_days} day(s))",
    },
}
_REASON_SEPARATOR = {"zh": "；", "en": "; "}


def _labelled(code: str, name: str) -> str:
    """A code with its name next to it, as planners read it: ``L01 总装一线``."""
    return f"{code} {name}" if name else code


def reason_text(reason: dict[str, Any], dataset: Dataset, lang: str = "zh") -> str:
    """One binding reason of a late order in the sheet's language, codes named."""
    kind = reason.get("kind", "")
    template = _REASONS[lang].get(kind)
    if template is None:  # a kind this sheet does not know: what the engine said rather than nothing
        return f"{kind}: {json.dumps(reason, ensure_ascii=False)}"
    dates = reason.get("dates") or ["", ""]
    values = {
        **reason,
        "material": _labelled(reason.get("material_id", ""), _name(dataset, "material", reason.get("material_id"))),
        "line": _labelled(reason.get("line_id", ""), _name(dataset, "line", reason.get("line_id"))),
        "from_": dates[0],
        "to": dates[-1],
    }
    return template.format(**values)


def _with_names(row: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    """The row with the names of its customer, product and line next to their codes."""
    order = dataset.order_by_id.get(row.get("order_id") or "")
    customer_id = row.get("customer_id") or (order.customer_id if order else "") or ""
    product_id = row.get("product_id") or (order.product_id if order else "") or ""
    return {
        **row,
        "customer_id": customer_id,
        "customer_name": _name(dataset, "customer", customer_id),
        "product_id": product_id,
        "product_name": _name(dataset, "product", product_id),
        "line_name": _name(dataset, "line", row.get("line_id")),
    }


def _order_facts(row: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    """An unscheduled order's row with what the order itself says: quantity, priority, due date."""
    order = dataset.order_by_id.get(row["order_id"])
    if order is None or row.get("quantity") not in (None, ""):
        return row
    return row | {"quantity": order.quantity, "priority": order.priority, "due_date": order.due_date.isoformat()}


def _late_rows(schedule: dict[str, Any], dataset: Dataset, lang: str) -> list[dict[str, Any]]:
    """Late orders, latest first, with their binding reasons worded."""
    late = sorted(
        (e for e in schedule["orders"] if (e.get("days_late") or 0) > 0),
        key=lambda e: (-e["days_late"], e["order_id"]),
    )
    separator = _REASON_SEPARATOR[lang]
    return [
        _with_names(e, dataset)
        | {"reasons": separator.join(reason_text(r, dataset, lang) for r in e.get("binding", []))}
        for e in late
    ]


def _load_rows(schedule: dict[str, Any], dataset: Dataset) -> list[dict[str, Any]]:
    return [
        {
            "line_id": load["line_id"],
            "line_name": _name(dataset, "line", load["line_id"]),
            "date": load["date"],
            "hours_used": round(load["minutes_used"] / 60, 2),
            "hours_available": round(load["minutes_available"] / 60, 2),
            "load": load["minutes_used"] / load["minutes_available"] if load["minutes_available"] else None,
        }
        for load in schedule.get("line_loads", [])
    ]


def _workbook_sheets(
    schedule: dict[str, Any], dataset: Dataset, lang: str
) -> list[tuple[_SheetSpec, list[dict[str, Any]]]]:
    notes = _NOTES[lang]
    daily = [row | {"note": notes.get(row["note"], row["note"])} for row in daily_plan_rows(schedule, dataset)]
    return [
        (ORDERS_SHEET, [_order_facts(_with_names(row, dataset), dataset) for row in schedule_order_rows(schedule)]),
        (DAILY_SHEET, daily),
        (DISPATCH_SHEET, [_with_names(row, dataset) for row in dispatch_plan_rows(schedule, dataset)]),
        (LATE_SHEET, _late_rows(schedule, dataset, lang)),
        (LOAD_SHEET, _load_rows(schedule, dataset)),
    ]


def schedule_workbook_bytes(schedule: dict[str, Any], dataset: Dataset, lang: str = "zh") -> bytes:
    """The schedule as an xlsx workbook (see :func:`write_schedule_workbook`), as bytes."""
    import io as stdio

    import openpyxl

    if lang not in WORKBOOK_LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(WORKBOOK_LANGUAGES)}, got {lang!r}")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec, rows in _workbook_sheets(schedule, dataset, lang):
        _write_sheet(book.create_sheet(getattr(spec, lang)), spec, rows, lang)
    buffer = stdio.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_schedule_workbook(schedule: dict[str, Any], dataset: Dataset, path: str | Path, lang: str = "zh") -> None:
    """Write the plan as one workbook for the office and the shop floor.

    Sheets 订单 / Orders, 每日作业 / Daily work, 发货计划 / Dispatch plan, 延期订单 / Late
    orders and 产线负荷 / Line load, headers in ``lang`` (``zh`` or ``en``), every code with
    its name from ``dataset`` next to it, dates as date cells, frozen header rows, printable
    landscape one page wide. (:func:`write_workbook` writes a *dataset* as a workbook.)
    """
    content = schedule_workbook_bytes(schedule, dataset, lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    partial.replace(path)


_NUMBER_FORMATS = {"date": "yyyy-mm-dd", "hours": "0.0", "percent": "0.0%"}


def _write_sheet(sheet: Any, spec: _SheetSpec, rows: list[dict[str, Any]], lang: str) -> None:
    from openpyxl.styles import Font, PatternFill

    sheet.append([getattr(c, lang) for c in spec.columns])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append([_cell_value(row.get(c.key), c.kind) for c in spec.columns])
        for cell in sheet[sheet.max_row]:
            if spreadsheet_safe(cell.value) is not cell.value:
                # openpyxl takes "=..." text for a formula: keep it text, and quoted as Excel
                # quotes a typed-in 'text, so that editing the cell does not run it either
                cell.data_type, cell.quotePrefix = "s", True
    for index, column in enumerate(spec.columns, start=1):
        number_format = _NUMBER_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    _lay_out(sheet, spec, rows, lang)


def _cell_value(value: Any, kind: str) -> Any:
    """A typed cell: dates as dates (Excel sorts and filters them), blanks as empty cells."""
    if value is None or value == "":
        return None
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _lay_out(sheet: Any, spec: _SheetSpec, rows: list[dict[str, Any]], lang: str) -> None:
    """Frozen header, filters, columns as wide as their text, landscape pages one page wide."""
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(spec.columns, start=1):
        sample = [_display_width(getattr(column, lang))]
        sample += [_display_width(row.get(column.key)) for row in rows[:500]]  # enough to size a column
        width = 12 if column.kind == "date" else min(60, max(sample) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = max(8, width)
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _display_width(value: Any) -> int:
    """Characters a cell shows, Chinese ones counting twice (they are twice as wide)."""
    text = "" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
