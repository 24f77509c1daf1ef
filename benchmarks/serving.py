"""The real server for the HTTP benchmarks: start it, wait for it, plan and publish through it;
and the headless browser that the page benchmark and the UI tests render its planner page in."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, driven by Playwright
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GANTT_READY = "body[data-gantt-ready]:not([data-gantt-ready=''])"  # the planner page has drawn its plan


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(key: str, log: str = os.devnull, **settings: str) -> Iterator[tuple[str, int]]:
    """uvicorn on a free 127.0.0.1 port, SQLite in a temporary folder, ``key`` as the planner's:
    the base URL and the server's pid."""
    with tempfile.TemporaryDirectory() as folder, open(log, "w") as output:
        port = free_port()
        env = {
            **os.environ,
            "PAICHAN_DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "PAICHAN_API_KEYS": f"planner:{key}",
            **{f"PAICHAN_{name.upper()}": value for name, value in settings.items()},
        }
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            yield f"http://127.0.0.1:{port}", server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_healthy(client: httpx.Client, attempts: int = 300) -> None:
    for _ in range(attempts):
        try:
            client.get("/healthz")
            return
        except httpx.TransportError:
            time.sleep(0.1)


def start_plan(client: httpx.Client, time_limit: float, prefix: str = "/v1") -> str:
    """POST {prefix}/plans and poll it to the end; the plan id. ``prefix`` ``/v1/plants/B``: plant B's."""
    plan_id = client.post(f"{prefix}/plans", json={"time_limit_s": time_limit}).json()["plan_id"]
    while client.get(f"{prefix}/plans/{plan_id}").json()["status"] in ("queued", "running"):
        time.sleep(0.25)
    return plan_id


def plan_and_publish(client: httpx.Client, document: dict, time_limit: float, prefix: str = "/v1") -> str:
    """Upload the dataset (creating the plant under ``/v1/plants/{id}``), solve it and publish the
    plan; the plan id."""
    client.put(f"{prefix}/dataset", json=document).raise_for_status()
    plan_id = start_plan(client, time_limit, prefix)
    client.post(f"{prefix}/plans/{plan_id}/publish").raise_for_status()
    return plan_id
