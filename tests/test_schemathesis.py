"""Schemathesis against the real server: every check, every phase (examples, coverage,
fuzzing, stateful), 25 examples per operation, as a planner, as sales and without a key, on
SQLite and on the PostgreSQL at 127.0.0.1:5432. Zero failures is the bar.

Each run starts `paichan serve --demo` (the sample loaded, planned and published) with solve
times capped at 2 s, so that generated plan and scenario requests stay short. A fixed seed
keeps CI reproducible; `PAICHAN_SCHEMATHESIS_SEED=random` explores further by hand.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.serving import free_port
from tests.api.conftest import PostgresSchema
from tests.ui.served import running_server

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"planner": "st-planner-key", "sales": "st-sales-key", "batch": "st-batch-key"}
SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
# a role's schema-valid requests may also be refused for the role itself: 403 for sales on a
# planner's operation, 401 without a key (see schemathesis.toml for the rest)
EXPECTED = {"planner": [], "sales": ["403"], "none": ["401"]}

pytestmark = pytest.mark.skipif(SCHEMATHESIS is None, reason="schemathesis is not installed (pip install -e '.[test]')")


@contextlib.contextmanager
def demo_server(database_url: str, folder: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "PAICHAN_DATABASE_URL": database_url,
        "PAICHAN_API_KEYS": ",".join(f"{role}:{key}" for role, key in KEYS.items()),
        "PAICHAN_MAX_TIME_LIMIT_PLANNER": "2",
        "PAICHAN_MAX_TIME_LIMIT_BATCH": "2",
        "PAICHAN_DEFAULT_TIME_LIMIT": "1",
        "PAICHAN_SOLVER_WORKERS": "1",
    }
    env.pop("PAICHAN_API_KEYS_FILE", None)
    paichan = str(Path(sys.executable).parent / "paichan")
    command = [paichan, "serve", "--demo", "--demo-time-limit", "5", "--port", str(port)]
    with running_server(command, folder, env, folder / "server.log", port, ready_within=90, stop_within=20) as url:
        yield url


def run_schemathesis(url: str, role: str, folder: Path) -> tuple[int, str]:
    config = folder / f"schemathesis-{role}.toml"
    expected = ", ".join(f'"{s}"' for s in ["2XX", "404", "409", "422", *EXPECTED[role]])
    config.write_text(
        f"generation.max-examples = 25\n\n[checks.positive_data_acceptance]\nexpected-statuses = [{expected}]\n"
    )
    seed = os.environ.get("PAICHAN_SCHEMATHESIS_SEED", "20261129")
    command = [SCHEMATHESIS, "--no-color", "--config-file", str(config), "run", f"{url}/openapi.json"]
    command += ["--checks", "all", "--max-examples", "25", "--request-timeout", "30"]
    if seed != "random":
        command += ["--seed", seed]
    if role != "none":
        command += ["--header", f"X-API-Key: {KEYS[role]}"]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=900)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_schemathesis_finds_nothing(database: str, tmp_path: Path) -> None:
    schema = PostgresSchema() if database == "postgresql" else None
    url = schema.url if schema else f"sqlite:///{tmp_path / 'paichan.db'}"
    try:
        with demo_server(url, tmp_path) as base:
            for role in ("planner", "sales", "none"):
                code, output = run_schemathesis(base, role, tmp_path)
                counts = re.search(r"(\d+) generated.*", output)
                print(f"schemathesis {database} {role}: {counts.group(0) if counts else '?'}")
                assert code == 0, f"schemathesis as {role} on {database} failed:\n{output[-6000:]}"
    finally:
        if schema:
            schema.drop()
