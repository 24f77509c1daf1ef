"""``paichan serve``, ``paichan worker`` and ``paichan replan``: the service's commands beside the engine's.

The engine's commands live in :mod:`solver.cli` (the solver never imports the
service); this module adds the ones that need the database and is the
console script's entry point.
"""

from __future__ import annotations

from solver import cli as engine_cli  # first: its clock counts the imports below

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from api import jobs, planning, store
from api.config import Settings
from api.db import DEFAULT_PLANT, Database, MasterData, PlanJob, database_problem, database_state, utcnow
from api.plants import plant_ids
from api.promising import Promiser
from solver import engine, io
from solver.domain import DatasetError
from solver.wording import say

app = engine_cli.app
console, errors = engine_cli.console, engine_cli.errors
log = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
EXIT_OK, EXIT_INVALID, EXIT_BAD_DATA = 0, 1, 2
EXIT_DATABASE = 4  # the database URL is wrong, or the database cannot be reached or written


def open_database(settings: Settings) -> Database:
    """The migrated database of ``settings``, ready to be written; exit 4 with one line otherwise."""
    url = settings.database_url
    try:
        database = Database(url)
        database.migrate()
    except ArgumentError as error:  # not a URL, or a dialect that is not installed
        _database_unavailable(url, f"not a usable database URL ({str(error).splitlines()[0]})")
    except SQLAlchemyError as error:
        _database_unavailable(url, "{}: {}".format(*database_problem(error)))
    state, detail = database_state(database.engine)
    if state != "ok":
        database.engine.dispose()
        _database_unavailable(url, f"{state}: {detail}")
    return database


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """A database that fails during a command: one line and exit 4, not a traceback."""
    try:
        yield
    except SQLAlchemyError as error:
        _database_unavailable(url, "{}: {}".format(*database_problem(error)))


def _database_unavailable(url: str, why: str) -> NoReturn:
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True) if parsed.password else url
    except ArgumentError:
        shown = url
    errors.print(f"[bold red]database unavailable[/] ({shown}): {why}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_DATABASE)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load data/sample, plan and publish it if the database has no plan, print keys.")
    ] = False,
    demo_time_limit: Annotated[float, typer.Option(help="Seconds for the demo's first plan.")] = 20.0,
) -> None:
    """Run the HTTP service under uvicorn (SQLite ./paichan.db unless PAICHAN_DATABASE_URL says otherwise)."""
    import os

    import uvicorn

    if demo and not Settings().api_keys and not Settings().api_keys_file:
        keys = {role: f"{role}-{secrets.token_urlsafe(9)}" for role in ("planner", "sales", "batch")}
        os.environ["PAICHAN_API_KEYS"] = ",".join(f"{r}:{k}" for r, k in keys.items())
        _print_keys(keys)
    open_database(Settings()).engine.dispose()  # a wrong URL or a database down: one line, exit 4
    if demo:
        _prepare_demo(Settings(), demo_time_limit)
    from api.main import create_app

    console.print(f"serving on http://{host}:{port}  (OpenAPI docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(Settings()), host=host, port=port, log_level="info")


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Solves at once in this worker (default PAICHAN_WORKER_CONCURRENCY).", min=1)
    ] = None,
) -> None:
    """Run a Celery worker that solves the plans the API enqueues (needs PAICHAN_BROKER_URL).

    The pool is threads: CP-SAT releases the GIL, so threads solve in parallel, and they share one
    database engine and one heartbeat per worker. Each solve uses PAICHAN_SOLVER_WORKERS CP-SAT threads.
    """
    import os
    import socket

    settings = Settings()
    if not settings.broker_url:
        errors.print("[bold red]no broker[/]: set PAICHAN_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
        raise typer.Exit(EXIT_BAD_DATA)
    open_database(settings).engine.dispose()  # migrated like `serve`; a wrong URL: one line, exit 4
    from api.worker import celery_app

    threads = concurrency or settings.worker_concurrency
    name = f"paichan-{os.getpid()}@{socket.gethostname()}"  # unique per process: several workers per machine
    celery_app.worker_main(
        ["worker", "--pool", "threads", "--concurrency", str(threads), "--hostname", name, "--loglevel", "INFO"]
    )


def _print_keys(keys: dict[str, str]) -> None:
    table = Table(title="demo API keys (send as the X-API-Key header)")
    table.add_column("role")
    table.add_column("key")
    for role, key in keys.items():
        table.add_row(role, key)
    console.print(table)


def _prepare_demo(settings: Settings, time_limit: float) -> None:
    """Load the sample and publish a first plan unless the database already has them."""
    database = open_database(settings)
    with database_errors(settings.database_url), database.plant_session(DEFAULT_PLANT) as session:
        if store.master_document(session) is None:
            counts = store.replace_dataset(session, io.load_dataset(SAMPLE), "batch:demo")
            session.commit()
            console.print(f"loaded {SAMPLE} ({counts['orders_added']} orders)")
        if store.published_plan_id(session) is None:
            console.print(f"planning the sample ({time_limit:g} s)...")
            code = _replan(database, time_limit, publish=True, frozen_days=None, actor="batch:demo")
            if code != EXIT_OK:
                raise typer.Exit(code)
    database.engine.dispose()


@app.command()
def replan(
    publish: Annotated[bool, typer.Option(help="Publish each new plan the validator accepts.")] = False,
    time_limit: Annotated[float, typer.Option(help="Seconds for each solve.", min=0.1)] = 300.0,
    frozen_days: Annotated[int | None, typer.Option(help="Frozen window in working days (default: plant's).")] = None,
    plant: Annotated[
        str | None, typer.Option("--plant", help="The plant to plan (default: the default plant).")
    ] = None,
    all_plants: Annotated[
        bool, typer.Option("--all-plants", help="Plan every plant that has a dataset, one job each.")
    ] = False,
    max_wait: Annotated[
        float | None,
        typer.Option(
            help="With a broker: seconds to wait for the workers (default: each plant's solve plus 10 min).", min=1
        ),
    ] = None,
) -> None:
    """Nightly replan: plan a plant's open orders (or every plant's) against its published plan, validate,
    optionally publish; then a report per plant.

    With PAICHAN_BROKER_URL set the solves run on the `paichan worker` processes and this command waits
    for them; without, they run here one after another. A plant with bad data or a failed solve does
    not stop the others.

    Exit codes: 0 every plant planned (and published when asked); otherwise the worst plant's:
    1 invalid, failed or not published, 2 bad data (also: an unknown plant, --plant with --all-plants),
    4 database unavailable (wrong URL, unreachable or read-only); 3 internal error.
    """
    if plant is not None and all_plants:
        errors.print(f"[bold red]{say('replan.plant_and_all')}[/]", highlight=False)
        raise typer.Exit(EXIT_BAD_DATA)
    settings = Settings()
    database = open_database(settings)
    try:
        with database_errors(settings.database_url):
            plants = _plants_to_plan(database, plant, all_plants)
            batch = Replan(database, settings, time_limit, frozen_days, "batch:replan")
            code = batch.run(plants, publish, on_workers=settings.broker_url is not None, max_wait=max_wait)
    finally:
        database.engine.dispose()
    raise typer.Exit(code)


def _replan(database: Database, time_limit: float, publish: bool, frozen_days: int | None, actor: str) -> int:
    """The default plant's replan, solved here (``serve --demo``'s first plan)."""
    batch = Replan(database, Settings(), time_limit, frozen_days, actor)
    return batch.run([DEFAULT_PLANT], publish, on_workers=False)


def _plants_to_plan(database: Database, plant: str | None, all_plants: bool) -> list[str]:
    """The plant asked for (it must exist), or every plant with a dataset; exit 2 when there is none."""
    with database.sessions() as session:
        known = plant_ids(session)
        with_data = set(session.scalars(select(MasterData.plant_id)))
    if not all_plants:
        chosen = plant if plant is not None else DEFAULT_PLANT
        if chosen not in known:
            errors.print(escape(say("replan.unknown_plant", plant=chosen, known=", ".join(known))), highlight=False)
            raise typer.Exit(EXIT_BAD_DATA)
        return [chosen]  # without a dataset: reported as bad data, like any plant's
    for plant_id in known:
        if plant_id not in with_data:
            console.print(say("replan.skipped", plant=plant_id), highlight=False)
    chosen = [plant_id for plant_id in known if plant_id in with_data]
    if not chosen:
        errors.print(f"[bold red]{say('replan.no_plant_has_data')}[/]", highlight=False)
        raise typer.Exit(EXIT_BAD_DATA)
    return chosen


@dataclass
class PlantReplan:
    """One plant's part of a replan: its job, what became of it, and the exit code it earns."""

    plant_id: str
    plan_id: str | None = None
    baseline_id: str | None = None
    code: int = EXIT_OK
    status: str = "-"
    valid: bool | None = None
    late: int | None = None
    unscheduled: int | None = None
    published: bool = False
    why: str = ""  # why it was not planned or not published
    solved: planning.Solved | None = None  # a solve run here: its summary is printed

    def failed(self, code: int, why: str) -> None:
        self.code, self.why = max(self.code, code), why


class Replan:
    """The nightly batch over plants: for each, the same snapshot, solve, validation and publication as
    the API's plans; the solves run here one after another or on the Celery workers."""

    def __init__(self, database: Database, settings: Settings, time_limit: float, frozen_days: int | None, actor: str):
        self.database, self.settings = database, settings
        self.time_limit, self.frozen_days, self.actor = time_limit, frozen_days, actor

    def run(self, plants: list[str], publish: bool, on_workers: bool, max_wait: float | None = None) -> int:
        """Plan ``plants``; the worst plant's exit code."""
        runs = [PlantReplan(plant_id) for plant_id in plants]
        solver = _OnWorkers(self.database, self.settings) if on_workers else _Here(self.database, self.settings)
        try:
            for run in runs:  # each job is handed over at once: no other process takes it meanwhile
                self._start(run)
                if run.plan_id is not None:
                    self._submit(solver, run)
            wait = max_wait if max_wait is not None else len(runs) * self.time_limit + 600
            with _Board(runs, self.time_limit) as board:
                solver.wait(runs, board, wait)
        finally:
            solver.close()
        for run in runs:
            if run.plan_id is not None:
                self._finish(run, publish, several=len(runs) > 1)
        _print_report(runs)
        return max(run.code for run in runs)

    def _submit(self, solver: _Here | _OnWorkers, run: PlantReplan) -> None:
        try:
            solver.submit(run.plan_id)
        except SQLAlchemyError:
            raise
        except Exception as error:  # the broker cannot be reached, say: this job ends failed, the others are tried
            message = f"not sent to the workers: {type(error).__name__}: {error}"
            jobs.update_job(self.database, run.plan_id, status="failed", error=message, finished_at=utcnow())
            run.failed(EXIT_INVALID, say("why.not_sent", error=error))
            errors.print(f"[bold red]{escape(say('replan.plant', plant=run.plant_id) + ': ' + run.why)}[/]")

    def _start(self, run: PlantReplan) -> None:
        """The plant's job, snapshot taken; bad data stops here, with every problem listed."""
        try:
            with self.database.plant_session(run.plant_id) as session:
                try:
                    store.current_dataset(session)
                except DatasetError as error:
                    errors.print(f"[bold red]{say('replan.bad_data', plant=run.plant_id)}[/]", highlight=False)
                    engine_cli.print_problems(error)
                    run.failed(EXIT_BAD_DATA, say("why.bad_data", n=len(error.problems)))
                    return
                except store.NotFound as error:
                    errors.print(
                        f"[red]{escape(say('replan.plant', plant=run.plant_id) + f': {error}')}[/]", highlight=False
                    )
                    run.failed(EXIT_BAD_DATA, say("why.no_dataset"))
                    return
                run.baseline_id = store.published_plan_id(session)
                parameters = planning.PlanParameters(self.time_limit, self.frozen_days, baseline=run.baseline_id)
                job = planning.new_job(session, parameters, self.actor)
                run.plan_id, run.status = job.plan_id, job.status
        except SQLAlchemyError as error:
            self._database_failed(run, error)

    def _finish(self, run: PlantReplan, publish: bool, several: bool) -> None:
        """What became of the plant's job: its changes and summary, published if asked and valid."""
        try:
            with self.database.plant_session(run.plant_id) as session:
                job = session.get(PlanJob, run.plan_id)
                run.status, run.valid = job.status, job.valid
                kpis = (job.summary or {}).get("kpis", {})
                run.late, run.unscheduled = kpis.get("orders_late"), kpis.get("orders_unscheduled")
                if several:
                    console.rule(say("replan.plant", plant=run.plant_id))
                if job.schedule is not None:
                    _print_changes(job.schedule, planning.baseline_schedule(session, run.baseline_id))
                if run.solved is not None:
                    engine_cli.print_summary(*run.solved)
                self._verdict(session, run, job, publish)
        except SQLAlchemyError as error:
            self._database_failed(run, error)

    def _verdict(self, session: Any, run: PlantReplan, job: PlanJob, publish: bool) -> None:
        if run.code == EXIT_OK:
            if job.status == "failed":
                run.failed(EXIT_INVALID, say("why.failed", error=job.error or "-"))
            elif job.status != "succeeded":  # cancelled through the API, say: not what the night asked for
                run.failed(EXIT_INVALID, say("why.cancelled"))
            elif not job.valid:
                run.failed(EXIT_INVALID, say("why.invalid"))
                errors.print(f"[bold red]{say('replan.invalid', plan=job.plan_id)}[/]", highlight=False)
                return
            elif publish:
                try:
                    planning.publish(session, Promiser(), job, self.actor)
                    run.published = True
                except store.Conflict as error:  # the data changed during the solve, say: kept, not published
                    session.rollback()
                    run.failed(EXIT_INVALID, say("why.refused", error=error))
        if run.code != EXIT_OK:
            errors.print(
                f"[bold red]{escape(say('replan.not_published', plan=job.plan_id, why=run.why))}[/]", highlight=False
            )
        else:
            console.print(say("replan.published" if run.published else "replan.stored", plan=job.plan_id))

    def _database_failed(self, run: PlantReplan, error: SQLAlchemyError) -> None:
        detail = "{}: {}".format(*database_problem(error))
        run.failed(EXIT_DATABASE, say("why.database", detail=detail))
        errors.print(
            f"[bold red]{escape(say('replan.plant', plant=run.plant_id) + ': ' + run.why)}[/]", highlight=False
        )


class _Here:
    """Solves in this process, one after another, as their owner: a server starting meanwhile leaves
    them alone, and a cancel through the API stops them (as ``paichan replan`` always did)."""

    def __init__(self, database: Database, settings: Settings):
        self.database, self.settings = database, settings
        self.owner, self.stops = jobs.new_owner_id(), {}
        self.heartbeat = jobs.Heartbeat(database, self.owner, settings.job_heartbeat_seconds)
        self.heartbeat.start()

    def submit(self, plan_id: str) -> None:
        self.stops[plan_id] = stop = threading.Event()
        jobs.update_job(self.database, plan_id, owner=self.owner, heartbeat_at=utcnow())
        self.heartbeat.watch(plan_id, stop)

    def wait(self, runs: list[PlantReplan], board: _Board, _max_wait: float) -> None:
        for run in runs:
            if run.plan_id is None:
                continue
            # the solve, and the validator's verdict that run_job recorded with it
            run.solved = jobs.run_one_job(
                self.database,
                run.plan_id,
                self.owner,
                self.settings.solver_workers,
                self.stops[run.plan_id],
                self.heartbeat,
                progress=board.reporter(run),
            )
            with self.database.sessions() as session:
                board.finished(run, session.get(PlanJob, run.plan_id).status)

    def close(self) -> None:
        self.heartbeat.close()


class _OnWorkers:
    """Solves on the Celery workers, enqueued as the API's :class:`api.worker.CeleryRunner` does."""

    POLL_SECONDS = 0.5

    def __init__(self, database: Database, settings: Settings):
        from api.worker import CeleryRunner  # Celery is imported only when a broker is set

        self.database, self.runner = database, CeleryRunner(database, settings)

    def submit(self, plan_id: str) -> None:
        self.runner.submit(plan_id)

    def wait(self, runs: list[PlantReplan], board: _Board, max_wait: float) -> None:
        pending = {run.plan_id: run for run in runs if run.plan_id is not None}
        if pending:
            console.print(say("replan.sent", n=len(pending)))
        deadline = time.monotonic() + max_wait
        try:
            while pending:
                with self.database.sessions() as session:
                    query = select(PlanJob.plan_id, PlanJob.status, PlanJob.progress)
                    rows = session.execute(query.where(PlanJob.plan_id.in_(list(pending)))).all()
                for plan_id, status, progress in rows:
                    board.show(pending[plan_id], status, progress or {})
                    if status in jobs.FINISHED_STATUSES:
                        board.finished(pending.pop(plan_id), status)
                if pending and time.monotonic() > deadline:
                    for run in pending.values():  # they go on on the workers; this batch publishes nothing of them
                        run.failed(EXIT_INVALID, say("why.timeout", seconds=max_wait))
                    return
                if pending:
                    time.sleep(self.POLL_SECONDS)
        except KeyboardInterrupt:
            for plan_id in pending:
                self.runner.cancel(plan_id)
            errors.print(say("replan.cancelling", n=len(pending)))
            raise

    def close(self) -> None:
        self.runner.shutdown()


class _Board:
    """A progress bar per plant on a terminal, and a line per plant as its job ends wherever the output goes."""

    def __init__(self, runs: list[PlantReplan], time_limit: float):
        self.runs, self.time_limit = runs, time_limit
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
        )
        self.bar = Progress(*columns, console=console, transient=True, disable=not console.is_terminal)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Board:
        self.bar.start()
        for run in self.runs:
            if run.plan_id is not None:
                description = f"[bold]{say('replan.plant', plant=run.plant_id)}[/]"
                self.tasks[run.plan_id] = self.bar.add_task(
                    description, total=self.time_limit, status=say("job.queued")
                )
        return self

    def __exit__(self, *_: object) -> None:
        self.bar.stop()

    def reporter(self, run: PlantReplan) -> planning.Progress:
        """A solve's progress callback (a solve run here)."""

        def show(progress: engine.Progress) -> None:
            best = {"solutions": progress.solutions, "best_objective": progress.objective, "elapsed": progress.elapsed}
            self.show(run, "running", best)

        return show

    def show(self, run: PlantReplan, status: str, progress: dict[str, Any]) -> None:
        """A job's status and progress as its row says (a solve on a worker)."""
        best = progress.get("best_objective")
        if status == "running" and best:
            n, unscheduled, late = (
                progress.get("solutions", 0),
                best["unscheduled_priority"],
                best["weighted_days_late"],
            )
            text = say("replan.found", n=n, unscheduled=unscheduled, late=late)
        else:
            text = say("replan.waiting") if status == "queued" else say(f"job.{status}")
        self.bar.update(self.tasks[run.plan_id], completed=progress.get("elapsed") or 0, status=text)

    def finished(self, run: PlantReplan, status: str) -> None:
        self.bar.update(self.tasks[run.plan_id], completed=self.time_limit, status=say(f"job.{status}"))
        line = say("replan.finished_one", plant=run.plant_id, plan=run.plan_id, status=say(f"job.{status}"))
        console.print(line, highlight=False)


def _print_report(runs: list[PlantReplan]) -> None:
    table = Table(title=say("replan.report"))
    for key in ("plant", "plan", "status", "valid", "late", "unscheduled", "published"):
        table.add_column(say(f"replan.col.{key}"), justify="right" if key in ("late", "unscheduled") else "left")
    for run in runs:
        valid = "-" if run.valid is None else say("replan.yes" if run.valid else "replan.no")
        if run.published:
            published = say("replan.published_yes")
        elif run.code != EXIT_OK:
            published = say("replan.why", why=run.why)
        else:
            published = say("replan.not_asked")
        status = say(f"job.{run.status}") if run.status != "-" else "-"
        numbers = ("-" if n is None else str(n) for n in (run.late, run.unscheduled))
        table.add_row(run.plant_id, run.plan_id or "-", status, valid, *numbers, published)
    console.print(table)


def plan_changes(schedule: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, list[str]]:
    """Orders moved (line or start day) and orders newly late, against the previous plan."""
    if not baseline:
        return {"moved": [], "newly_late": [o["order_id"] for o in schedule["orders"] if o["days_late"] > 0]}
    before = {o["order_id"]: o for o in baseline.get("orders", [])}
    moved, newly_late = [], []
    for entry in schedule["orders"]:
        old = before.get(entry["order_id"])
        if old and (old["line_id"], old["production_start"]) != (entry["line_id"], entry["production_start"]):
            moved.append(entry["order_id"])
        if entry["days_late"] > 0 and (old is None or old.get("days_late", 0) == 0):
            newly_late.append(entry["order_id"])
    return {"moved": moved, "newly_late": newly_late}


def _print_changes(schedule: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    if not baseline:  # nothing was published before: nothing moved, nothing is newly late
        console.print(say("first_plan"))
        return
    changes = plan_changes(schedule, baseline)
    console.print(say("moved", n=len(changes["moved"])))
    for order_id in changes["moved"][:50]:
        console.print(say("moved_one", order=order_id))
    console.print(say("newly_late", n=len(changes["newly_late"])))
    for order_id in changes["newly_late"][:50]:
        console.print(say("newly_late_one", order=order_id))


def run() -> None:
    """Console entry point (``paichan``)."""
    engine_cli.run()
