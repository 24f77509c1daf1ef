"""The real service under uvicorn for the browser tests: started on a free port, waited for, stopped."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from benchmarks.serving import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_server(
    command: list[str], cwd: Path, env: dict[str, str], log: Path, port: int, ready_within: float, stop_within: float
) -> Iterator[str]:
    """Start ``command`` (a server on ``port``), wait until its ``/healthz`` answers 200, yield its
    URL, and stop it afterwards; a server that exits or stays silent fails with the end of ``log``."""
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while True:
            assert process.poll() is None, f"the server exited:\n{log.read_text(errors='replace')[-3000:]}"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the server did not answer:\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_within)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def uvicorn_service(folder: Path, keys: str) -> Iterator[tuple[str, Path]]:
    """``api.main:app`` on SQLite in ``folder`` with ``keys``: its URL and its log, once it answers."""
    env = os.environ | {
        "PAICHAN_DATABASE_URL": f"sqlite:///{folder / 'paichan.db'}",
        "PAICHAN_API_KEYS": keys,
        "PAICHAN_SOLVER_WORKERS": "2",
    }
    env.pop("PAICHAN_API_KEYS_FILE", None)
    log = folder / "uvicorn.log"
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    with running_server(command, ROOT, env, log, port, ready_within=30, stop_within=10) as url:
        yield url, log


def solved_plan(http: httpx.Client, time_limit: float, prefix: str = "/v1") -> str:
    """Start a plan under ``prefix`` and wait until it succeeded with a valid schedule: its id."""
    response = http.post(f"{prefix}/plans", json={"time_limit_s": time_limit})
    assert response.status_code == 202, response.text
    plan_id = response.json()["plan_id"]
    deadline = time.monotonic() + 60
    while (plan := http.get(f"{prefix}/plans/{plan_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, plan
        time.sleep(0.2)
    assert plan["status"] == "succeeded" and plan["valid"], plan
    return plan_id
