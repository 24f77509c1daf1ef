"""The command line: exit codes, files written, problems listed without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from solver import io
from solver.cli import app
from solver.validation import validate_schedule
from tests.test_io import VALID, write_folder

ROOT = Path(__file__).resolve().parents[1]

runner = CliRunner()


def test_solve_writes_a_valid_schedule_and_csvs(tmp_path):
    folder = write_folder(tmp_path / "plant", VALID)
    out = tmp_path / "schedule.json"
    result = runner.invoke(
        app, ["solve", str(folder), "--out", str(out), "--csv", str(tmp_path / "csv"), "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "independent check" in result.output and "OK" in result.output
    schedule = json.loads(out.read_text(encoding="utf-8"))
    assert validate_schedule(io.load_dataset(folder), schedule) == []
    assert {o["order_id"] for o in schedule["orders"]} == {"SO-1", "SO-2"}
    daily = (tmp_path / "csv" / "daily_plan.csv").read_text(encoding="utf-8").splitlines()
    assert daily[0] == ",".join(io.DAILY_COLUMNS)
    assert daily[0].startswith("line_id,date,order_id,product_id,minutes,quantity,")  # what others read stays
    assert len(daily) - 1 == sum(len(o["allocations"]) for o in schedule["orders"])
    assert (tmp_path / "csv" / "orders.csv").exists()
    dispatch = (tmp_path / "csv" / "dispatch_plan.csv").read_text(encoding="utf-8").splitlines()
    assert dispatch[0].startswith("dispatch_date,order_id,customer_id,customer_name,region,")
    assert len(dispatch) - 1 == len(schedule["orders"])
    assert "dispatch_plan.csv" in result.output

    assert runner.invoke(app, ["validate", str(folder), str(out)]).exit_code == 0


def test_validate_exits_1_on_a_broken_schedule(tmp_path):
    folder = write_folder(tmp_path / "plant", VALID)
    out = tmp_path / "schedule.json"
    assert runner.invoke(app, ["solve", str(folder), "--out", str(out), "--time-limit", "5"]).exit_code == 0
    schedule = json.loads(out.read_text(encoding="utf-8"))
    schedule["orders"][0]["days_late"] += 3
    out.write_text(json.dumps(schedule), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder), str(out)])
    assert result.exit_code == 1
    assert "violation" in result.output


def test_bad_dataset_exits_2_listing_every_problem(tmp_path):
    files = dict(VALID)
    files["orders.csv"] = "order_id,product_id,quantity,due_date\nO1,P1,x,2026-12-01\nO2,P9,1,soon\n"
    result = runner.invoke(app, ["solve", str(write_folder(tmp_path / "bad", files))])
    assert result.exit_code == 2
    output = result.output
    assert "3 problem(s)" in output
    assert "orders.csv, row 2, column quantity: 'x' is not a number" in output
    assert "orders.csv, row 3, column due_date: 'soon' is not a date (YYYY-MM-DD)" in output
    assert "orders.csv, row 3, column product_id: unknown product 'P9'" in output
    assert "Traceback" not in output


def test_missing_previous_plan_is_bad_input(tmp_path):
    folder = write_folder(tmp_path / "plant", VALID)
    result = runner.invoke(app, ["solve", str(folder), "--previous", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_generate_writes_a_loadable_dataset(tmp_path):
    result = runner.invoke(app, ["generate", str(tmp_path / "gen"), "--orders", "40", "--lines", "3", "--days", "60"])
    assert result.exit_code == 0, result.output
    dataset = io.load_dataset(tmp_path / "gen")
    assert len(dataset.orders) == 40
    assert len(dataset.lines) == 3


# The bound computed once (say nightly, with minutes to spare) is what a later solve of the
# same data reports, named as kept; it never exceeds the plan's weighted days late.
def test_bound_is_kept_for_later_solves_of_the_same_data(tmp_path, monkeypatch):
    monkeypatch.setenv("PAICHAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("solver.bound.CACHE_MIN_SECONDS", 0.0)
    folder = write_folder(tmp_path / "plant", VALID)
    result = runner.invoke(app, ["bound", str(folder), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    assert "weighted days late >=" in result.output and "kept in" in result.output
    assert any((tmp_path / "cache").iterdir())
    out = tmp_path / "schedule.json"
    assert runner.invoke(app, ["solve", str(folder), "--out", str(out), "--time-limit", "5"]).exit_code == 0
    schedule = json.loads(out.read_text(encoding="utf-8"))
    assert schedule["bound"]["weighted_days_late"] <= schedule["objective"]["weighted_days_late"]
    assert schedule["solver"]["stages"]["bound"].endswith("(cached)")


def test_bound_of_bad_data_exits_2(tmp_path):
    folder = write_folder(tmp_path / "plant", {**VALID, "orders.csv": "order_id,product_id\nSO-1,P1\n"})
    assert runner.invoke(app, ["bound", str(folder)]).exit_code == 2


# Regression (issue #11): the resequencing note became an object; the answer still prints as JSON.
def test_promise_prints_capacity_rules_and_alternatives():
    sample = str(Path(__file__).resolve().parents[1] / "data" / "sample")
    arguments = ["promise", sample, "--product", "HV-001", "--quantity", "5", "--due", "2026-12-10"]
    result = runner.invoke(app, [*arguments, "--order-type", "special"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout[result.stdout.index("{") :])
    assert answer["blocked_by"] == ["special_order_deposit"] and answer["feasible"] is False
    assert answer["resequencing_note"]["code"] in ("resequenced", "no_better", "not_placeable")
    assert set(answer) >= {"capacity_feasible", "promised_delivery", "alternatives"}


def test_scenario_says_what_a_line_down_changes_and_whom_to_call(tmp_path):
    """Two orders on L1; L1 down on the first run's day: it moves, and whoever now gets it later is called."""
    from tests.conftest import order, tiny_dataset

    dataset = tiny_dataset([order("A", 480, "2026-12-11", customer_id=None), order("B", 480, "2026-12-11")])
    folder = tmp_path / "plant"
    io.write_csv_folder(dataset, folder)
    previous = tmp_path / "plan.json"
    assert runner.invoke(app, ["solve", str(folder), "--time-limit", "5", "--out", str(previous)]).exit_code == 0
    plan = json.loads(previous.read_text())
    first = min(plan["orders"], key=lambda e: e["production_start"])
    edits = tmp_path / "edits.json"
    day = first["production_start"]
    down = {"kind": "line_hours", "line_id": "L1", "from": day, "to": day, "hours": 0}
    edits.write_text(json.dumps([down]))
    out = tmp_path / "scenario.json"
    args = ["scenario", str(folder), "--edits", str(edits), "--previous", str(previous), "--time-limit", "5"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    answer = json.loads(out.read_text())
    assert "orders that change" in result.output
    assert {c["order_id"] for c in answer["changes"]} >= {first["order_id"]}
    runs_that_day = [e for e in answer["schedule"]["orders"] if any(a["date"] == day for a in e["allocations"])]
    assert runs_that_day == []  # the line is down: it may run earlier (it was planned just in time) or later
    called = {o["order_id"] for group in answer["notify"] for o in group["orders"]}
    assert called == {c["order_id"] for c in answer["changes"] if c["days_later"] > 0}
    edited = io.load_json_document(io.dataset_document(dataset) | {"line_calendar": []}, "$")
    assert validate_schedule(edited, plan) == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"kind": "line_hours", "line_id": "NOPE", "from": "2026-12-01", "to": "2026-12-01"}]))
    refused = runner.invoke(app, ["scenario", str(folder), "--edits", str(bad), "--previous", str(previous)])
    assert refused.exit_code == 2 and "edits[0].line_id" in refused.output


# Regression (issue #13): a bad PAICHAN_DATABASE_URL printed a 100-line traceback, and an
# unreachable or read-only database made `paichan replan` exit 3 (internal error), undocumented.
def _paichan(tmp_path: Path, database_url: str, *arguments: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PAICHAN_DATABASE_URL": database_url}
    command = [sys.executable, "-c", "from api.cli import run; run()", *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _read_only_sqlite(tmp_path: Path) -> str:
    from api.db import Database

    database = Database(f"sqlite:///{tmp_path / 'ro.db'}")
    database.migrate()
    database.engine.dispose()
    return f"sqlite:///file:{tmp_path / 'ro.db'}?mode=ro&uri=true"


@pytest.mark.parametrize("command", [["replan", "--time-limit", "1"], ["serve", "--port", "1"]])
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a usable database URL"),
        ("nosuchdb://x/y", "not a usable database URL"),
        ("sqlite:////nonexistent-folder/paichan.db", "unreachable"),
        ("postgresql+psycopg://paichan:secret@127.0.0.1:1/paichan", "unreachable"),
        ("read-only", "read-only"),
    ],
)
def test_a_database_unavailable_is_one_line_and_exit_4(tmp_path, command, url, says):
    url = _read_only_sqlite(tmp_path) if url == "read-only" else url
    done = _paichan(tmp_path, url, *command)
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("database unavailable"), done.stderr
    assert says in lines[0] and "Traceback" not in done.stderr
    assert "secret" not in done.stderr


def test_readme_documents_every_exit_code():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Command line") :]
    section = section[: section.index("\n## ", 3)]
    for code in ("0", "1", "2", "3", "4", "130"):
        assert f"| {code} |" in section, code
