"""What a solve job costs end to end through the HTTP API.

Starts the real server (uvicorn, SQLite in a temporary folder), uploads a
dataset, starts a plan, polls it to the end, fetches the schedule, and prints
the wall time of each step and the server process's peak memory (VmHWM).

    python benchmarks/api_e2e.py --dataset data/sample --time-limit 30
    python benchmarks/api_e2e.py --generate 2000x20x90x4 --time-limit 60
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from solver import io
from solver.generate import generate_dataset

KEY = "e2e-planner-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--generate", help="ORDERSxLINESxDAYSxSEED")
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    if args.generate:
        dataset = generate_dataset(*[int(part) for part in args.generate.split("x")])
    else:
        dataset = io.load_dataset(args.dataset)
    document = io.dataset_document(dataset)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **os.environ,
            "PAICHAN_DATABASE_URL": f"sqlite:///{folder}/e2e.db",
            "PAICHAN_API_KEYS": f"planner:{KEY}",
            "PAICHAN_MAX_TIME_LIMIT_PLANNER": "3600",
        }
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            report(measure(f"http://127.0.0.1:{port}", document, args.time_limit), server.pid, len(dataset.orders))
        finally:
            server.terminate()
            server.wait(timeout=30)


def measure(base: str, document: dict, time_limit: float) -> dict[str, float]:
    headers = {"X-API-Key": KEY}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for _ in range(100):
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        steps: dict[str, float] = {}
        began = time.monotonic()
        client.put("/v1/dataset", json=document).raise_for_status()
        steps["upload dataset"] = time.monotonic() - began
        began = time.monotonic()
        plan = client.post("/v1/plans", json={"time_limit_s": time_limit}).json()
        steps["POST /v1/plans (202)"] = time.monotonic() - began
        while client.get(f"/v1/plans/{plan['plan_id']}").json()["status"] in ("queued", "running"):
            time.sleep(0.25)
        steps["solve, to succeeded"] = time.monotonic() - began
        status = client.get(f"/v1/plans/{plan['plan_id']}").json()
        mark = time.monotonic()
        client.get(f"/v1/plans/{plan['plan_id']}/schedule").raise_for_status()
        steps["GET schedule"] = time.monotonic() - mark
        mark = time.monotonic()
        client.post(f"/v1/plans/{plan['plan_id']}/publish").raise_for_status()
        steps["publish (validated)"] = time.monotonic() - mark
        steps["end to end"] = time.monotonic() - began
        steps["weighted days late"] = status["summary"]["objective"]["weighted_days_late"]
        return steps


def report(steps: dict[str, float], pid: int, orders: int) -> None:
    print(f"| step ({orders} orders) | value |")
    print("|---|---:|")
    for name, value in steps.items():
        print(f"| {name} | {value:.2f} |")
    print(f"| server peak RSS (MB) | {peak_rss_mb(pid):.0f} |")


if __name__ == "__main__":
    main()
