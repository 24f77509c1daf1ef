"""Solve jobs off the event loop: a bounded thread pool, progress in the database.

CP-SAT releases the GIL, so threads solve in parallel with the server. The
job row is the source of truth: status, progress (elapsed, solutions found,
best objective, bound) and the schedule are written there, so any server
process can answer for a job, and a restarted one knows which were cut off.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api import planning
from api.db import Database, PlanJob, utcnow
from solver import engine

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0  # database writes of progress, at most


class JobRunner:
    """Runs at most ``jobs`` solves at once; the rest wait in the pool's queue."""

    def __init__(self, database: Database, jobs: int, solver_workers: int):
        self.database = database
        self.solver_workers = solver_workers
        self._pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="paichan-solve")
        self._stops: dict[str, threading.Event] = {}
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, plan_id: str) -> None:
        with self._lock:
            self._stops[plan_id] = threading.Event()
        self._pool.submit(self._run, plan_id)

    def cancel(self, plan_id: str) -> bool:
        """Ask a queued or running job to stop; it keeps the best schedule found so far."""
        with self._lock:
            stop = self._stops.get(plan_id)
        if stop is None:
            return False
        stop.set()
        return True

    def shutdown(self) -> None:
        """Stop running solves (they keep their best schedule); queued jobs stay queued for the next start."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            running = [self._stops[p] for p in self._running if p in self._stops]
        for stop in running:
            stop.set()
        self._pool.shutdown(wait=True)

    # -- one job ----------------------------------------------------------------

    def _run(self, plan_id: str) -> None:
        stop = self._stops[plan_id]
        with self._lock:
            self._running.add(plan_id)
        try:
            self._solve(plan_id, stop)
        except Exception as error:  # a job must end as failed, never vanish
            log.exception("plan %s failed", plan_id)
            self._update(plan_id, status="failed", error=f"{type(error).__name__}: {error}", finished_at=utcnow())
        finally:
            with self._lock:
                self._stops.pop(plan_id, None)
                self._running.discard(plan_id)

    def _solve(self, plan_id: str, stop: threading.Event) -> None:
        reporter = _ProgressWriter(self, plan_id)
        planning.run_job(self.database, plan_id, self.solver_workers, progress=reporter, stop=stop)

    def _update(self, plan_id: str, **fields: Any) -> None:
        with self.database.sessions() as session:
            job = session.get(PlanJob, plan_id)
            if job is not None:
                for name, value in fields.items():
                    setattr(job, name, value)
                session.commit()


class _ProgressWriter:
    """Keeps the newest progress and writes it to the job row about once a second."""

    def __init__(self, runner: JobRunner, plan_id: str):
        self.runner, self.plan_id = runner, plan_id
        self.latest: dict[str, Any] = {"elapsed": 0.0, "solutions": 0, "best_objective": None, "bound": None}
        self._written = 0.0

    def __call__(self, progress: engine.Progress) -> None:
        if progress.objective is not None:
            self.latest["best_objective"] = progress.objective
            self.latest["solutions"] = self.latest["solutions"] + 1
        if progress.bound is not None:
            self.latest["bound"] = progress.bound
        self.latest["elapsed"] = round(progress.elapsed, 2)
        self.latest["stage"] = progress.stage
        if time.monotonic() - self._written >= PROGRESS_EVERY_SECONDS:
            self._written = time.monotonic()
            self.runner._update(self.plan_id, progress=dict(self.latest))
