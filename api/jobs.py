"""Solve jobs off the event loop: a bounded thread pool, progress in the database.

CP-SAT releases the GIL, so threads solve in parallel with the server. The
job row is the source of truth: status, progress (elapsed, solutions found,
best objective, bound) and the schedule are written there, so any server
process can answer for a job.

Several server processes may share one database. Each job names its
**owner** (``host:pid:token``, one per runner) and carries the owner's
**heartbeat**, refreshed every couple of seconds while the owner holds the
job (queued in its pool or solving). A cancel through any process sets the
job's ``cancel_requested``; the owner's heartbeat (and its progress writes)
read it and stop the solve. A process that starts, and every process now and
then, ends the running jobs of owners that fell silent (``failed``,
``interrupted``) and takes over their queued jobs; jobs of live owners are
left alone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import select, update

from api import planning, store
from api.db import Database, PlanJob, database_problem, utcnow
from solver import engine

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0  # database writes of progress, at most
HEARTBEAT_EVERY_SECONDS = 2.0  # heartbeats and cancel checks of the jobs a process holds
STALE_AFTER_SECONDS = 30.0  # an owner silent this long is gone
FINISHED_STATUSES = ("succeeded", "failed", "cancelled")


class Runner(Protocol):
    """What the routes ask of a job runner: this process's :class:`JobRunner`, or
    :class:`api.worker.CeleryRunner` when solves go to Celery workers."""

    def submit(self, plan_id: str) -> None: ...

    def cancel(self, plan_id: str) -> bool: ...

    def recover(self) -> list[str]: ...

    def shutdown(self) -> None: ...


def new_owner_id() -> str:
    """An id for one job owner: host, process id and a token (two runners in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str | None, heartbeat_at: Any, stale_after: float) -> bool:
    """Whether a job's owner stopped holding it: no owner, a heartbeat older than ``stale_after``
    seconds, or a process of this host that no longer exists."""
    if owner is None or heartbeat_at is None:
        return True
    if (utcnow() - heartbeat_at).total_seconds() > stale_after:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not _process_exists(int(pid))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Heartbeat:
    """A thread that, every ``every`` seconds, refreshes the heartbeat of the jobs watched and sets
    the stop event of those whose ``cancel_requested`` is set; ``on_tick`` runs after each beat."""

    def __init__(
        self,
        database: Database,
        owner: str,
        every: float = HEARTBEAT_EVERY_SECONDS,
        on_tick: Callable[[], None] | None = None,
    ):
        self.database, self.owner, self.every, self.on_tick = database, owner, every, on_tick
        self._watched: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="paichan-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def watch(self, plan_id: str, stop: threading.Event) -> None:
        with self._lock:
            self._watched[plan_id] = stop

    def forget(self, plan_id: str) -> None:
        with self._lock:
            self._watched.pop(plan_id, None)

    def beat(self) -> None:
        """One heartbeat of every watched job, and the cancels asked for them."""
        with self._lock:
            watched = dict(self._watched)
        if not watched:
            return
        with self.database.sessions() as session:
            held = PlanJob.plan_id.in_(list(watched))
            session.execute(update(PlanJob).where(held, PlanJob.owner == self.owner).values(heartbeat_at=utcnow()))
            cancelled = session.scalars(select(PlanJob.plan_id).where(held, PlanJob.cancel_requested.is_(True)))
            cancelled = list(cancelled)
            session.commit()
        for plan_id in cancelled:
            watched[plan_id].set()

    def _loop(self) -> None:
        while not self._closing.wait(self.every):
            try:
                self.beat()
                if self.on_tick is not None:
                    self.on_tick()
            except Exception:  # a database hiccup must not end the heartbeat: the next beat retries
                log.warning("heartbeat of %s failed", self.owner, exc_info=True)


class JobRunner:
    """Runs at most ``jobs`` solves at once; the rest wait in the pool's queue."""

    def __init__(
        self,
        database: Database,
        jobs: int,
        solver_workers: int,
        heartbeat_every: float = HEARTBEAT_EVERY_SECONDS,
        stale_after: float = STALE_AFTER_SECONDS,
    ):
        self.database = database
        self.solver_workers = solver_workers
        self.owner = new_owner_id()
        self.stale_after = stale_after
        self._pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="paichan-solve")
        self._stops: dict[str, threading.Event] = {}
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._next_sweep = time.monotonic() + stale_after / 3
        self.heartbeat = Heartbeat(database, self.owner, heartbeat_every, on_tick=self._sweep_when_due)
        self.heartbeat.start()

    def submit(self, plan_id: str) -> None:
        """Queue a job in this process: it becomes this runner's (owner, heartbeat)."""
        stop = threading.Event()
        with self._lock:
            self._stops[plan_id] = stop
        self.heartbeat.watch(plan_id, stop)
        self._update(plan_id, owner=self.owner, heartbeat_at=utcnow())
        self._pool.submit(self._run, plan_id)

    def cancel(self, plan_id: str) -> bool:
        """Ask a queued or running job to stop, in whichever process runs it; it keeps the best
        schedule found so far. True when this process holds the job (it stops at once)."""
        self._update(plan_id, cancel_requested=True)
        with self._lock:
            stop = self._stops.get(plan_id)
        if stop is None:
            return False
        stop.set()
        return True

    def recover(self) -> list[str]:
        """End the running jobs of owners that are gone (failed, interrupted) and take over their
        queued jobs; the ids taken over, oldest first, to :meth:`submit`."""
        with self.database.sessions() as session:
            taken = store.reset_unfinished_jobs(
                session, self.owner, lambda job: owner_is_gone(job.owner, job.heartbeat_at, self.stale_after)
            )
            session.commit()
        return taken

    def shutdown(self) -> None:
        """Stop running solves (they keep their best schedule); queued jobs stay queued, released
        for the next process to take over at once."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            running = [self._stops[p] for p in self._running if p in self._stops]
        for stop in running:
            stop.set()
        self._pool.shutdown(wait=True)
        self.heartbeat.close()
        try:
            with self.database.sessions() as session:
                session.execute(
                    update(PlanJob)
                    .where(PlanJob.owner == self.owner, PlanJob.status == "queued")
                    .values(owner=None, heartbeat_at=None)
                )
                session.commit()
        except Exception as error:  # the database went away: the queued jobs' heartbeat goes stale instead
            log.warning("could not release the queued jobs of %s: %s", self.owner, database_problem(error)[1])

    def _sweep_when_due(self) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.stale_after / 3
        for plan_id in self.recover():
            log.info("plan %s: its owner is gone, taken over by %s", plan_id, self.owner)
            self.submit(plan_id)

    # -- one job ----------------------------------------------------------------

    def _run(self, plan_id: str) -> None:
        stop = self._stops[plan_id]
        with self._lock:
            self._running.add(plan_id)
        try:
            run_one_job(self.database, plan_id, self.owner, self.solver_workers, stop, self.heartbeat)
        finally:
            with self._lock:
                self._stops.pop(plan_id, None)
                self._running.discard(plan_id)

    def _update(self, plan_id: str, **fields: Any) -> None:
        update_job(self.database, plan_id, **fields)


def update_job(database: Database, plan_id: str, **fields: Any) -> None:
    """Set fields of one job row (nothing when it is gone)."""
    with database.sessions() as session:
        job = session.get(PlanJob, plan_id)
        if job is not None:
            for name, value in fields.items():
                setattr(job, name, value)
            session.commit()


def run_one_job(
    database: Database,
    plan_id: str,
    owner: str,
    solver_workers: int,
    stop: threading.Event,
    heartbeat: Heartbeat,
    progress: planning.Progress | None = None,
) -> planning.Solved | None:
    """Solve one job as ``owner``: ``heartbeat`` beats for it and turns a cancel into ``stop``, progress
    is written about once a second (and handed to ``progress`` too, a terminal's display, say); the
    in-process runner, the Celery workers and ``paichan replan`` all run jobs so. The solve and the
    validator's verdict, or None when the job was not run here or failed."""
    heartbeat.watch(plan_id, stop)
    try:
        writer = _ProgressWriter(database, owner, plan_id, stop)
        reporter = writer if progress is None else _Both(writer, progress)
        return planning.run_job(database, plan_id, solver_workers, progress=reporter, stop=stop, owner=owner)
    except Exception as error:  # a job must end as failed, never vanish
        log.exception("plan %s failed", plan_id)
        update_job(database, plan_id, status="failed", error=f"{type(error).__name__}: {error}", finished_at=utcnow())
        return None
    finally:
        heartbeat.forget(plan_id)


class _Both:
    def __init__(self, *reporters: planning.Progress):
        self.reporters = reporters

    def __call__(self, progress: engine.Progress) -> None:
        for reporter in self.reporters:
            reporter(progress)


class _ProgressWriter:
    """Keeps the newest progress and writes it to the job row about once a second, with a
    heartbeat; a cancel asked through another process is seen there too."""

    def __init__(self, database: Database, owner: str, plan_id: str, stop: threading.Event):
        self.database, self.owner, self.plan_id, self.stop = database, owner, plan_id, stop
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
            try:
                self._write()
            except Exception:  # progress is a courtesy: a lost write must not end the solve
                log.warning("progress of plan %s not written", self.plan_id, exc_info=True)

    def _write(self) -> None:
        with self.database.sessions() as session:
            job = session.get(PlanJob, self.plan_id)
            if job is None:
                return
            job.progress = dict(self.latest)
            if job.owner == self.owner:
                job.heartbeat_at = utcnow()
            cancel_requested = job.cancel_requested
            session.commit()
        if cancel_requested:
            self.stop.set()
