"""Dependencies shared by the routers: the database session, the caller and their role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from api.auth import Caller
from api.config import Settings
from api.jobs import Runner
from api.promising import Promiser


def get_session(request: Request) -> Iterator[Session]:
    yield from request.app.state.database.session()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_runner(request: Request) -> Runner:
    return request.app.state.runner


def get_promiser(request: Request) -> Promiser:
    return request.app.state.promiser


API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="a planner's, sales' or batch key")


def get_caller(request: Request, x_api_key: Annotated[str | None, Security(API_KEY)] = None) -> Caller:
    caller = request.app.state.keys.identify(x_api_key)
    if caller is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a valid X-API-Key header is required", {"WWW-Authenticate": "ApiKey"}
        )
    return caller


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
PromiserDep = Annotated[Promiser, Depends(get_promiser)]
CallerDep = Annotated[Caller, Depends(get_caller)]


def role_in(*roles: str) -> Callable[[Caller], Caller]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    def check(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {caller.role} role may not do this")
        return caller

    return check


Planner = Annotated[Caller, Depends(role_in("planner", "batch"))]
OrderWriter = Annotated[Caller, Depends(role_in("planner", "batch", "sales"))]


def allowed_time_limit(settings: Settings, caller: Caller, asked: float | None) -> float:
    """The seconds a solve may take: what was asked (else the default), within the role's cap (else 422)."""
    time_limit = asked or settings.default_time_limit
    cap = settings.max_time_limit(caller.role)
    if time_limit > cap:
        raise HTTPException(422, f"time_limit_s {time_limit:g} is above the {caller.role} role's cap of {cap:g} s")
    return time_limit
