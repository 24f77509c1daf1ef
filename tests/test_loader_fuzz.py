"""Fuzzing the loader: a mutated dataset document is a Dataset or located problems, nothing else.

Random mutations of a small valid document (wrong types, huge, negative and non-finite
numbers, bad dates, missing keys, NUL bytes, unicode, empty lists) go through
:func:`solver.io.load_json_document`: it returns a :class:`Dataset` or raises
:class:`DatasetError` whose every problem names a file and a row, column or JSON path.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import io
from solver.domain import Dataset, DatasetError
from tests.test_bounds import DOCUMENT

NASTY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, 1e300, float("nan"), -0.0]),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "SO/1",
            "..",
            "2026-02-30",
            "0001-01-01",
            "9999-12-31",
            "2026-11-30T00:00:00",
            "nan",
            "inf",
            "1e309",
            "true",
            "排产",
            "Mon",
            "XX",
            "CN",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _locations(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every place a value sits in the document: plant keys, tables, rows and cells."""
    places: list[tuple[Any, ...]] = [(key,) for key in document]
    for key, value in document.items():
        if isinstance(value, dict):
            places += [(key, inner) for inner in value]
        elif isinstance(value, list):
            for index, row in enumerate(value):
                places.append((key, index))
                places += [(key, index, column) for column in row]
    return places


LOCATIONS = _locations(DOCUMENT)


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(DOCUMENT)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(LOCATIONS))
        target: Any = document
        try:
            for key in path[:-1]:
                target = target[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced the container
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "empty", "add_key"]))
        if not isinstance(target, (dict, list)):
            continue
        last = path[-1]
        if isinstance(target, list) and not (isinstance(last, int) and last < len(target)):
            continue
        if isinstance(target, dict) and last not in target:
            continue
        if action == "replace":
            target[last] = draw(NASTY_VALUES)
        elif action == "delete":
            del target[last]
        elif action == "empty":
            target[last] = [] if draw(st.booleans()) else {}
        elif isinstance(target[last], dict):
            target[last][draw(st.text(max_size=8))] = draw(NASTY_VALUES)
    if draw(st.integers(min_value=0, max_value=20)) == 0:
        return draw(NASTY_VALUES)  # not even an object
    return document


def assert_within_bounds(data: Dataset) -> None:
    """What loads can be planned: every number and date inside the loader's bounds."""
    plant = data.plant
    assert 1 <= plant.horizon_days <= io.MAX_HORIZON_DAYS and 0 <= plant.frozen_days <= plant.horizon_days
    assert plant.workdays
    dates = [plant.plan_start, *(o.due_date for o in data.orders), *(a.date for a in data.arrivals)]
    dates += [d for o in data.orders for d in (o.earliest_start, o.pinned_start) if d is not None]
    dates += [e.date for e in data.calendar] + [e.date for e in data.line_calendar]
    assert all(io.EARLIEST_DATE <= d <= io.LATEST_DATE for d in dates)
    assert all(1 <= o.quantity <= io.MAX_QUANTITY for o in data.orders)
    assert all(0 <= line.hours_per_day <= 24 for line in data.lines)
    assert all(io.MIN_UNITS_PER_HOUR <= r.units_per_hour <= io.MAX_UNITS_PER_HOUR for r in data.routings)
    assert all(0 <= c.transit_days <= io.MAX_TRANSIT_DAYS for c in data.customers)
    amounts = [m.on_hand for m in data.materials] + [a.qty for a in data.arrivals] + [b.qty_per_unit for b in data.bom]
    assert all(0 <= amount <= io.MAX_AMOUNT for amount in amounts)
    ids = [o.order_id for o in data.orders]
    assert all(io.path_safe_id_problem(order_id) is None for order_id in ids)


def assert_loads_or_located_problems(document: Any) -> None:
    try:
        assert_within_bounds(io.load_json_document(document, "$"))
    except DatasetError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file, problem
            assert problem.file.startswith("$"), problem  # a JSON path, at least the document's
            assert problem.message, problem


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_mutated_document_is_a_dataset_or_located_problems(document):
    assert_loads_or_located_problems(document)
