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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from api import jobs, planning, store
from api.config import Settings
from api.db import DEFAULT_PLANT, Database, PlanJob, database_problem, database_state, utcnow
from api.promising import Promiser
from solver import io
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
    publish: Annotated[bool, typer.Option(help="Publish the new plan if the validator accepts it.")] = False,
    time_limit: Annotated[float, typer.Option(help="Seconds for the solve.", min=0.1)] = 300.0,
    frozen_days: Annotated[int | None, typer.Option(help="Frozen window in working days (default: plant's).")] = None,
) -> None:
    """Nightly replan: plan the open orders against the published plan, validate, optionally publish.

    Exit codes: 0 planned (and published when asked), 1 invalid or failed, 2 bad data,
    3 internal error, 4 database unavailable (wrong URL, unreachable or read-only).
    """
    settings = Settings()
    database = open_database(settings)
    try:
        with database_errors(settings.database_url):
            code = _replan(database, time_limit, publish, frozen_days, actor="batch:replan")
    finally:
        database.engine.dispose()
    raise typer.Exit(code)


def _replan(database: Database, time_limit: float, publish: bool, frozen_days: int | None, actor: str) -> int:
    """The nightly batch: the same snapshot, solve, validation and publication as the API's plans."""
    with database.plant_session(DEFAULT_PLANT) as session:
        return _replan_in(database, session, time_limit, publish, frozen_days, actor)


def _replan_in(database: Database, session, time_limit: float, publish: bool, frozen_days, actor: str) -> int:
    try:
        store.current_dataset(session)  # bad data stops here, with every problem listed
    except DatasetError as error:
        engine_cli.print_problems(error)
        return EXIT_BAD_DATA
    except store.NotFound as error:
        errors.print(f"[red]{error}[/]", highlight=False)
        return EXIT_BAD_DATA
    baseline_id = store.published_plan_id(session)
    parameters = planning.PlanParameters(time_limit, frozen_days, baseline=baseline_id)
    job = planning.new_job(session, parameters, actor)
    # this process owns the job like a server would: a server starting meanwhile leaves it running,
    # and a cancel through the API stops it
    owner, stop = jobs.new_owner_id(), threading.Event()
    job.owner, job.heartbeat_at = owner, utcnow()
    session.commit()
    with jobs.Heartbeat(database, owner) as heartbeat, engine_cli.progress_bar(time_limit) as show:
        heartbeat.watch(job.plan_id, stop)
        # the solve, and the validator's verdict that run_job recorded with it
        result, violations = planning.run_job(
            database, job.plan_id, Settings().solver_workers, progress=show, stop=stop, owner=owner
        )
    session.expire_all()
    job = session.get(PlanJob, job.plan_id)
    baseline = planning.baseline_schedule(session, baseline_id)
    if publish and not violations:
        try:
            planning.publish(session, Promiser(), job, actor)
        except store.Conflict as error:  # the data changed during the solve, say: the plan is kept, not published
            session.rollback()
            errors.print(f"[bold red]plan {job.plan_id} not published: {error}[/]", highlight=False)
            return EXIT_INVALID
    _print_changes(job.schedule, baseline)
    engine_cli.print_summary(result, violations)
    if violations:
        errors.print(f"[bold red]plan {job.plan_id} is invalid: not published[/]")
        return EXIT_INVALID
    console.print(f"plan {job.plan_id} {'published' if publish else 'stored (not published)'}")
    return EXIT_OK


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
