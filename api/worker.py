"""Solves on Celery workers, for a service whose solves outgrow the API's machine.

With ``PAICHAN_BROKER_URL`` set, the API enqueues each plan's solve
(:class:`CeleryRunner`) and ``paichan worker`` processes run them with the
machinery of the in-process runner (:func:`api.jobs.run_one_job`): the job row
names the worker as its owner, the worker's heartbeat refreshes it and turns a
cancel asked through any API process into a stop, the solve keeps its best plan.

Delivery is at least once: messages are acknowledged after the solve
(``task_acks_late``) and handed back when a pool process dies
(``task_reject_on_worker_lost``). A lost worker is also caught through the
database, sooner than any broker timeout: the reaper (in every API process and
every worker) finds running jobs whose owner fell silent and queues them again
for another worker, or, once a job was tried ``job_max_attempts`` times, marks
it ``failed`` with the reason. A message delivered twice finds its job
finished, or held by a live worker, and does nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from celery import Celery, signals

from api import store
from api.config import Settings, get_settings
from api.db import Database, PlanJob
from api.jobs import FINISHED_STATUSES, Heartbeat, new_owner_id, owner_is_gone, run_one_job, update_job

log = logging.getLogger(__name__)

SOLVE_TASK = "paichan.solve_plan"
QUEUED_OWNER = "celery:queued"  # a job waiting in the broker: no process beats for it yet


def make_celery(settings: Settings) -> Celery:
    """A Celery app on the settings' broker, configured for long solves delivered at least once."""
    app = Celery("paichan", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a solve is acknowledged when it ends: a lost worker's solve is not lost
        task_reject_on_worker_lost=True,  # a pool process that dies hands its solve back at once
        worker_prefetch_multiplier=1,  # a worker takes a solve only when it has room to run it
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,  # results live in the job row, not in a result backend
        worker_hijack_root_logger=False,
    )
    return app


class LostJobReaper:
    """Every third of ``job_stale_seconds``: running jobs whose owner is gone are queued again (and
    handed to ``enqueue``) or failed once out of attempts. Runs as a heartbeat's ``on_tick``."""

    def __init__(self, database: Database, settings: Settings, enqueue: Callable[[str], None]):
        self.database, self.settings, self.enqueue = database, settings, enqueue
        self._next = 0.0

    def __call__(self) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.settings.job_stale_seconds / 3
        for plan_id in self.reap():
            log.info("plan %s: its worker is gone, queued again", plan_id)
            self.enqueue(plan_id)

    def reap(self) -> list[str]:
        """The ids of the jobs queued again."""
        stale_after, max_attempts = self.settings.job_stale_seconds, self.settings.job_max_attempts
        with self.database.sessions() as session:
            lost = store.lost_running_jobs(session, lambda job: owner_is_gone(job.owner, job.heartbeat_at, stale_after))
            requeued = [j.plan_id for j in lost if store.retry_or_fail_lost_job(session, j, max_attempts, QUEUED_OWNER)]
            session.commit()
        return requeued


class CeleryRunner:
    """The API's runner when a broker is configured: solves are enqueued for ``paichan worker``."""

    def __init__(self, database: Database, settings: Settings):
        self.database, self.settings = database, settings
        self.app = make_celery(settings)
        self.reaper = LostJobReaper(database, settings, self.submit)
        # no job of its own to beat for: the heartbeat thread only runs the reaper
        self.heartbeat = Heartbeat(database, new_owner_id(), settings.job_heartbeat_seconds, on_tick=self.reaper)
        self.heartbeat.start()

    def submit(self, plan_id: str) -> None:
        """Enqueue the job's solve; the first free worker takes it."""
        update_job(self.database, plan_id, owner=QUEUED_OWNER, heartbeat_at=None)
        self.app.send_task(SOLVE_TASK, args=[plan_id])

    def cancel(self, plan_id: str) -> bool:
        """Ask the job to stop: the worker's heartbeat sees the flag. False: no solve runs here."""
        update_job(self.database, plan_id, cancel_requested=True)
        return False

    def recover(self) -> list[str]:
        """Queue again the jobs of workers that are gone (the caller submits them)."""
        return self.reaper.reap()

    def shutdown(self) -> None:
        """Stop the reaper; queued solves stay in the broker, running ones on their workers."""
        self.heartbeat.close()
        self.app.close()


# -- the worker side -------------------------------------------------------------

celery_app = make_celery(get_settings())


class _Worker:
    """One worker process's database, owner id and heartbeat (shared by its pool's threads)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.database = Database(settings.database_url)
        self.owner = new_owner_id()
        reaper = LostJobReaper(self.database, settings, lambda plan_id: solve_plan.delay(plan_id))
        self.heartbeat = Heartbeat(self.database, self.owner, settings.job_heartbeat_seconds, on_tick=reaper)
        self.heartbeat.start()

    def close(self) -> None:
        self.heartbeat.close()
        self.database.engine.dispose()


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def _this_worker() -> _Worker:
    # made on first use, in the process that solves (a prefork pool's child, or the threads pool's process)
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _Worker(get_settings())
        return _worker


@signals.worker_ready.connect
def _start_reaper(**_: object) -> None:
    _this_worker()  # the reaper runs from the start, not only after a first solve


@signals.worker_shutdown.connect
def _close_worker(**_: object) -> None:
    global _worker
    with _worker_lock:
        if _worker is not None:
            _worker.close()
            _worker = None


@celery_app.task(name=SOLVE_TASK)
def solve_plan(plan_id: str) -> None:
    """Solve a queued job, validate and record it (:func:`api.planning.run_job`), as this worker."""
    worker = _this_worker()
    if not ready_to_run(worker.database, plan_id, worker.settings):
        return
    run_one_job(
        worker.database, plan_id, worker.owner, worker.settings.solver_workers, threading.Event(), worker.heartbeat
    )


def ready_to_run(database: Database, plan_id: str, settings: Settings) -> bool:
    """Whether a delivered solve should run: its job is queued, or was running on a worker that is
    gone (queued again here if attempts remain). A finished job, or one a live worker holds (a
    second delivery of the same message), is left alone."""
    with database.sessions() as session:
        job = session.get(PlanJob, plan_id)
        if job is None or job.status in FINISHED_STATUSES:
            return False
        if job.status == "queued":
            return True
        if not owner_is_gone(job.owner, job.heartbeat_at, settings.job_stale_seconds):
            log.info("plan %s: already solving on %s", plan_id, job.owner)
            return False
        requeued = store.retry_or_fail_lost_job(session, job, settings.job_max_attempts, QUEUED_OWNER)
        session.commit()
        return requeued
