"""Issue #15's hand-worked optima through the whole engine (list schedules, sequence search, exact
model, LNS, holding) and the independent validator: the datasets and the arithmetic are those of
``tests/test_changeover_model.py``, whose docstrings work each optimum out by hand."""

from __future__ import annotations

import pytest

from solver import domain
from tests.conftest import planned, solve_validated
from tests.test_changeover_model import capped_dataset, grouping_dataset, running_dataset


@pytest.fixture(autouse=True)
def changeovers_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain, "PLAN_CHANGEOVERS_AND_CAPS", True)


def in_run_order(schedule: dict) -> list[str]:
    return [e["order_id"] for e in sorted(schedule["orders"], key=lambda e: (e["line_id"], e["sequence"]))]


def test_a_changeover_makes_grouping_pay() -> None:
    result = solve_validated(grouping_dataset())
    assert result.objective["weighted_days_late"] == 2  # grouped A1, A2 then B1; alternating costs 6
    assert in_run_order(result.schedule)[-1] == "B1"
    assert planned(result.schedule, "B1")["changeover_minutes"] == 480
    assert result.schedule["kpis"]["changeover_hours_by_line"] == {"L1": 8.0}


@pytest.mark.parametrize("cap", ["inspection_orders_per_day", "dispatch_orders_per_day"])
def test_a_cap_moves_an_order_s_end(cap: str) -> None:
    result = solve_validated(capped_dataset(**{cap: 1}))
    assert result.objective["weighted_days_late"] == 1  # one order may finish Monday, the other Tuesday
    ends = {e["order_id"]: e["production_end"] for e in result.schedule["orders"]}
    assert ends == {"O1": "2026-11-30", "O2": "2026-12-01"}  # the priority-2 order keeps Monday


def test_an_order_in_production_sets_the_line_s_family() -> None:
    result = solve_validated(running_dataset())
    assert result.objective["weighted_days_late"] == 3
    assert in_run_order(result.schedule) == ["R", "A2", "B1"]
    assert [planned(result.schedule, o)["changeover_minutes"] for o in ("R", "A2", "B1")] == [0, 0, 480]
