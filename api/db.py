"""Persistence: SQLAlchemy 2 tables, the engine, sessions and Alembic migrations.

The same migrations build the schema on SQLite (the default file
``./paichan.db``) and on PostgreSQL. Master data is kept as the dataset's JSON
document (without orders); orders are rows with an audited history; plan jobs
keep their input snapshot, parameters, seed, progress and result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.sql.expression import false

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


DEFAULT_PLANT = "default"  # the plant the paths without /plants/{plant_id} act on; holds pre-plant data


class Plant(Base):
    """A plant of the group: its own master data, orders, plans, holds and ledger."""

    __tablename__ = "plants"
    plant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PlantScoped:
    """A row that belongs to one plant. A session opened for a plant (``Database.plant_session``)
    reads, updates and deletes only that plant's rows and stamps new rows with it; a session
    without a plant (job runners, workers, reapers) sees every plant."""

    plant_id: Mapped[str] = mapped_column(String(40), index=True, server_default=DEFAULT_PLANT)


class MasterData(PlantScoped, Base):
    """The plant, lines, products, routings, materials, customers...: one versioned document."""

    __tablename__ = "master_data"
    plant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


class OrderRow(PlantScoped, Base):
    __tablename__ = "orders"
    plant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(100), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    customer_id: Mapped[str | None] = mapped_column(String(100), index=True, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), index=True, default="received")
    earliest_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    pinned_line: Mapped[str | None] = mapped_column(String(100), nullable=True)
    order_type: Mapped[str] = mapped_column(String(20), default="regular")
    deposit_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    pinned_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # a manual pin, with pinned_line
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # optimistic concurrency: every UPDATE is "... WHERE version = <the version read>" and bumps it,
    # so of two changes made from the same read exactly one lands (the other: StaleDataError, a 409)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class OrderEvent(PlantScoped, Base):
    """Who (role and key name), when, what and why: the written-confirmation rule."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(100), index=True)  # kept after the order is gone
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # created, status, change, import, removed, pin, unpin
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")


class PlanJob(PlantScoped, Base):
    __tablename__ = "plans"
    plan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued running succeeded failed cancelled
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    baseline_plan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    input_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    valid: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the master data version it was made on (None: made before versions were recorded)
    dataset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the server process running (or holding queued) the job, "host:pid:token", and when it last
    # said so; a job whose owner fell silent is taken over (queued) or ends failed (running)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # set by a cancel through any process; the owner's heartbeat sees it and stops the solve
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # how many times a process claimed the job to solve it: a worker lost mid-solve is retried up to
    # a limit, then the job ends failed
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Publication(PlantScoped, Base):
    """Which plan the shop follows: the newest row."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.plan_id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(200), default="")


class QuoteHold(PlantScoped, Base):
    """Capacity and material held for a sales quote until it expires, is confirmed or released."""

    __tablename__ = "quotes"
    quote_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open confirmed released
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    order_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class LedgerLock(PlantScoped, Base):
    """One row: every change to the promise ledger first bumps its version.

    The ``UPDATE`` takes PostgreSQL's row lock and SQLite's write lock before anything is
    read, so holds, confirms and promises are placed one after the other, each seeing the
    room the previous ones took; the version also keys the cached ledgers.
    """

    __tablename__ = "ledger_lock"
    plant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Promise(PlantScoped, Base):
    """Room kept for a confirmed order that the published plan does not carry (yet, or as it is now)."""

    __tablename__ = "promises"
    plant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    placement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    promised_delivery: Mapped[dt.date] = mapped_column(Date)
    plan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the plan it was placed against
    source: Mapped[str] = mapped_column(String(60), default="")  # quote:ID, created, confirmed, changed, import
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)  # no room, or room only after the promise
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OrderReview(PlantScoped, Base):
    """One department's verdict in the joint review of a non-regular order."""

    __tablename__ = "order_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(100), index=True)
    department: Mapped[str] = mapped_column(String(20))  # technology quality purchasing production
    reviewer: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(20))  # approved rejected
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")


class Scenario(PlantScoped, Base):
    """A what-if (or an exception, 异常): edits to a copy of the live data and the plan made from it."""

    __tablename__ = "scenarios"
    scenario_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="scenario")  # scenario exception
    edits: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    plan_id: Mapped[str] = mapped_column(String(40))
    base_plan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # published when it was made
    live_fingerprint: Mapped[str] = mapped_column(String(64))  # the live data it was made from
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open applied discarded
    comparison: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


def _only_the_plant(state: ORMExecuteState) -> None:
    plant = state.session.info.get("plant_id")
    if plant is None or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(PlantScoped, lambda cls: cls.plant_id == plant, include_aliases=True)
        )


def _stamp_the_plant(session: Session, _context: object, _instances: object) -> None:
    plant = session.info.get("plant_id")
    for row in session.new:
        if isinstance(row, PlantScoped) and getattr(row, "plant_id", None) is None:
            if plant is None:
                raise RuntimeError(f"a new {type(row).__name__} needs a plant: use Database.plant_session")
            row.plant_id = plant


event.listen(Session, "do_orm_execute", _only_the_plant)
event.listen(Session, "before_flush", _stamp_the_plant)


def session_plant(session: Session) -> str:
    """The plant a session was opened for."""
    plant = session.info.get("plant_id")
    if plant is None:
        raise RuntimeError("this needs a plant's session (Database.plant_session)")
    return plant


def by_order_id(session: Session, model: type[OrderRow] | type[Promise], order_id: str) -> Any:
    """The plant's order (or promise) ``order_id``, or None."""
    return session.get(model, {"plant_id": session_plant(session), "order_id": order_id})


def master_row(session: Session) -> MasterData | None:
    """The plant's master data row, or None before its first dataset."""
    return session.get(MasterData, session_plant(session))


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite is opened for use from worker threads with foreign keys on."""
    # more connections than the server's worker threads (40), so no request waits on the pool
    # while the requests holding connections wait for a thread to finish them
    pool = {"pool_size": 20, "max_overflow": 40}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # pragma: no cover - driver hook
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# A write the service may always make (it changes nothing and is rolled back): refused by a
# read-only database, a PostgreSQL hot standby or a role without write rights.
WRITE_PROBE = "UPDATE alembic_version SET version_num = version_num WHERE 1 = 0"


def database_problem(error: BaseException) -> tuple[str, str]:
    """``("read-only" | "unreachable", one-line detail)`` for a driver error."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines() or [type(original).__name__]
    detail = lines[0]
    sqlstate = getattr(original, "sqlstate", None) or ""
    code = getattr(original, "sqlite_errorcode", None)
    read_only = sqlstate in ("25006", "42501") or code == 8 or "readonly" in detail or "read-only" in detail
    return ("read-only" if read_only else "unreachable"), detail


def database_state(engine: Engine) -> tuple[str, str]:
    """``("ok", "")``, or what keeps the service from reading and writing its database."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                connection.execute(text(WRITE_PROBE))
            finally:
                connection.rollback()
    except Exception as error:  # any driver error means the same to a load balancer
        return database_problem(error)
    return "ok", ""


class Database:
    """The engine and a session factory for one database URL."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self, plant_id: str = DEFAULT_PLANT) -> Iterator[Session]:
        with self.plant_session(plant_id) as session:
            yield session

    def plant_session(self, plant_id: str) -> Session:
        """A session that sees and writes only ``plant_id``'s rows."""
        return self.sessions(info={"plant_id": plant_id})

    def migrate(self) -> None:
        migrate(self.engine)
