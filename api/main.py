"""The paichan HTTP service: ``api.main:app`` (FastAPI), or :func:`create_app` with settings."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import IntegrityError, InterfaceError, InternalError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api import store
from api.auth import KeyRing
from api.config import Settings, get_settings
from api.db import Database, database_problem
from api.deps import plant_in_path
from api.jobs import JobRunner, Runner
from api.plants import PlantDirectory
from api.promising import Promiser
from api.routes import dataset, feasibility, health, orders, plans, plants, quotes, reports, scenarios, ui
from api.schemas import ErrorOut
from solver.domain import DatasetError

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A service bound to ``settings`` (the environment's when omitted)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        database.migrate()
        runner = _make_runner(database, settings)
        app.state.database, app.state.runner = database, runner
        app.state.plants = PlantDirectory(database)
        for plan_id in runner.recover():  # only the jobs of processes that are gone
            runner.submit(plan_id)
        yield
        runner.shutdown()
        database.engine.dispose()

    # the docs page's Swagger UI and ReDoc come from the package, never from a CDN
    app = FastAPIOffline(
        title="paichan",
        summary="Production scheduling and order promising for make-to-order plants",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(no_nul_in_path_or_query)],
    )
    app.state.settings = settings
    app.state.keys = KeyRing.from_settings(settings)
    requests = RequestCounter()
    app.state.promiser = Promiser(load=lambda: requests.active)
    if not len(app.state.keys):
        log.warning("no API keys configured (PAICHAN_API_KEYS): every /v1 call will be refused")
    _add_error_handlers(app)
    app.add_middleware(JsonDepthLimit, max_depth=MAX_JSON_DEPTH)  # inside the size limit: reads what it let in
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(LoadGauge, counter=requests)
    app.include_router(health.router)
    app.include_router(plants.router, responses=COMMON_ERRORS)
    per_plant = (
        dataset.router,
        orders.router,
        plans.router,
        feasibility.router,
        quotes.router,
        scenarios.router,
        reports.router,
        reports.orders_router,
    )
    for router in per_plant:  # the default plant's paths, as before plants
        app.include_router(router, prefix="/v1", responses=COMMON_ERRORS)
    for router in per_plant:  # every plant's
        app.include_router(
            router, prefix="/v1/plants/{plant_id}", responses=PLANT_ERRORS, dependencies=[Depends(plant_in_path)]
        )
    app.include_router(ui.router)
    return app


def no_nul_in_path_or_query(request: Request) -> None:
    """A NUL character in a path or query parameter is a 422 like one in a body: PostgreSQL refuses
    NUL in text, so it would otherwise fail the query itself."""
    problems = [
        {"loc": (where, name), "msg": "contains a NUL character (\\u0000)", "type": "value_error", "input": value}
        for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items()))
        for name, value in items
        if "\x00" in str(value) or "\x00" in name
    ]
    if problems:
        raise RequestValidationError(problems)


# what any /v1 call may answer besides its own codes, with the body it really has
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body is not JSON at all"},
    401: {"model": ErrorOut, "description": "no X-API-Key, or an unknown one"},
    403: {"model": ErrorOut, "description": "the key's role may not do this"},
    413: {"model": ErrorOut, "description": "the body is larger than PAICHAN_MAX_BODY_BYTES"},
    422: {"model": ErrorOut, "description": "bad input: every problem located by JSON path or file/row/column"},
    503: {"model": ErrorOut, "description": "the database cannot be reached or written"},
}


PLANT_ERRORS: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    403: {"model": ErrorOut, "description": "the key's role may not do this, or the key is not for this plant"},
    404: {"model": ErrorOut, "description": "no such plant (or no such resource in it)"},
}


class RequestCounter:
    """How many HTTP requests the server is handling now."""

    def __init__(self) -> None:
        self.active = 0


class LoadGauge:
    """Counts requests in a :class:`RequestCounter`, for work that should yield under a burst."""

    def __init__(self, app, counter: RequestCounter):
        self.app, self.counter = app, counter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.counter.active += 1  # only the event loop's thread counts: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.active -= 1


class BodySizeLimit:
    """Refuse request bodies above ``max_bytes`` with 413, whether declared or streamed."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        seen, refused = 0, False

        async def counted_receive() -> dict[str, Any]:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes and not refused:
                # answer now and tell the app the client is gone, whoever reads the body
                refused = True
                await self._too_large(send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise  # a disconnect we caused may surface as an error in the app; anything else is real

    async def _too_large(self, send) -> None:
        response = JSONResponse({"detail": f"request body above {self.max_bytes} bytes"}, status_code=413)
        await response({"type": "http"}, _no_receive, send)


MAX_JSON_DEPTH = 32  # the deepest body the API takes (a dataset, a scenario's edits) is 5 levels
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_CHUNK = 1 << 20
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_JSON = ("application/zip", "application/x-zip-compressed", "multipart/", "application/vnd.openxmlformats")


def json_too_deep(body: bytes, max_depth: int) -> bool:
    """Whether ``body``, read as JSON, nests arrays and objects deeper than ``max_depth``.

    Without recursion and at C speed (a 20 MB body in well under a second): strings are cut
    out, only brackets kept, and the running depth summed a megabyte at a time.
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    brackets = np.frombuffer(_JSON_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET), dtype=np.uint8)
    depth = 0
    for start in range(0, len(brackets), _CHUNK):
        chunk = brackets[start : start + _CHUNK]
        running = np.cumsum(np.where((chunk == ord("[")) | (chunk == ord("{")), 1, -1), dtype=np.int64) + depth
        if running.max() > max_depth:
            return True
        depth = int(running[-1])
    return False


class JsonDepthLimit:
    """Refuse JSON bodies nested deeper than ``max_depth`` with a 422, before anything parses them.

    Python's JSON decoder and pydantic recurse once per level: about 950 levels (fewer under a
    deep server stack) end in ``RecursionError``, which FastAPI and ``PUT /v1/dataset`` answered
    with 400 or 500.
    """

    def __init__(self, app, max_depth: int):
        self.app, self.max_depth = app, max_depth

    async def __call__(self, scope, receive, send) -> None:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1").lower()
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD") or content_type.startswith(_NOT_JSON):
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if json_too_deep(body, self.max_depth):
            message = f"JSON nested deeper than {self.max_depth} levels"
            problem = {"file": "body", "row": None, "column": "$", "message": message}
            problem |= {"code": "json_too_deep", "params": {"max_depth": self.max_depth}}
            await JSONResponse({"detail": "1 problem(s) in the request", "problems": [problem]}, 422)(
                scope, receive, send
            )
            return

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _no_receive() -> dict[str, Any]:  # pragma: no cover - a response never reads
    return {"type": "http.disconnect"}


def _make_runner(database: Database, settings: Settings) -> Runner:
    """Solves on Celery workers when a broker is configured, in this process otherwise."""
    if settings.broker_url:
        from api.worker import CeleryRunner  # Celery is imported only by services that use it

        return CeleryRunner(database, settings)
    return JobRunner(
        database,
        settings.solve_jobs,
        settings.solver_workers,
        heartbeat_every=settings.job_heartbeat_seconds,
        stale_after=settings.job_stale_seconds,
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = dict(error.headers or {})
        if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = ", ".join(_allowed_methods(request.app, request.scope))  # every route of the path
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)

    @app.exception_handler(DatasetError)
    async def dataset_error(_: Request, error: DatasetError) -> JSONResponse:
        problems = [p.as_dict() for p in error.problems]
        detail = f"{len(problems)} problem(s) in the input"
        return JSONResponse({"detail": detail, "problems": problems}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in error.errors()]
        detail = f"{len(problems)} problem(s) in the request"
        return JSONResponse({"detail": detail, "problems": problems}, status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(InternalError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(_: Request, error: Exception) -> JSONResponse:
        # the database is down, read-only or saturated: the client may retry, it is not a bug
        state, detail = database_problem(error)
        log.error("database %s: %s", state, detail)
        body = {"detail": f"database {state}: {detail}", "code": "database_unavailable", "database": state}
        return JSONResponse(body, status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})

    @app.exception_handler(ProgrammingError)
    async def refused_by_database(request: Request, error: ProgrammingError) -> JSONResponse:
        # PostgreSQL refuses a write the role may not make (SQLSTATE 42501): the database is
        # read-only for us, as /healthz says; anything else of this kind is a bug of ours
        if getattr(error.orig, "sqlstate", None) == "42501":
            return await database_unavailable(request, error)
        raise error

    @app.exception_handler(store.NotFound)
    async def not_found(_: Request, error: store.NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(IntegrityError)
    async def integrity_conflict(_: Request, error: IntegrityError) -> JSONResponse:
        # two requests wrote the same key at once (the loser's transaction is rolled back as its
        # session closes); the database kept the first, so this one is a conflict, not a crash
        log.info("integrity conflict answered 409: %s", error.orig)
        message = "the change clashes with data saved at the same moment (an id already taken?): reload and retry"
        return JSONResponse({"detail": message, "message": message, "code": "conflict"}, status_code=409)

    @app.exception_handler(StaleDataError)
    async def stale_write(_: Request, error: StaleDataError) -> JSONResponse:
        # a write from a version another request replaced, outside a route's order_guard
        message = "an order was changed by someone else meanwhile: reload and retry"
        return JSONResponse({"detail": message, "message": message, "code": "order_changed"}, status_code=409)

    @app.exception_handler(store.Conflict)
    async def conflict(_: Request, error: store.Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(error), **error.detail}, status_code=status.HTTP_409_CONFLICT)


def _allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method some route serves at this path (several routes may share one path)."""
    methods: set[str] = set()
    for route in _all_routes(app.routes):
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _all_routes(routes: list[Any]) -> Iterator[Any]:
    """The routes, those of included routers too, with their prefixes (FastAPI keeps an included
    router whole and builds its routes' effective, prefixed forms on demand)."""
    for route in routes:
        effective = getattr(route, "effective_candidates", None)
        yield from _all_routes(effective()) if effective is not None else (route,)


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as a problem located by JSON path (``$.body.quantity``)."""
    location = [str(part) for part in error.get("loc", ())]
    where, *path = location or ["body"]
    json_path = "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path)
    params = {k: v if isinstance(v, int | float | str) else str(v) for k, v in (error.get("ctx") or {}).items()}
    return {
        "file": where,
        "row": None,
        "column": json_path,
        "message": error.get("msg", "invalid"),
        "code": error.get("type", "invalid"),  # pydantic's error type: the page words it in either language
        "params": params,
    }


app = create_app()
