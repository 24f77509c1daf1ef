"""Dependencies shared by the routers: the database session, the caller and their role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from api import store
from api.auth import Caller
from api.config import Settings
from api.db import DEFAULT_PLANT
from api.jobs import Runner
from api.plants import PLANT_ID_PATTERN
from api.promising import Promiser

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="a planner's, sales' or batch key")


def get_caller(request: Request, x_api_key: Annotated[str | None, Security(API_KEY)] = None) -> Caller:
    caller = request.app.state.keys.identify(x_api_key)
    if caller is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a valid X-API-Key header is required", {"WWW-Authenticate": "ApiKey"}
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def plant_in_path(
    plant_id: Annotated[
        str, Path(pattern=PLANT_ID_PATTERN, description="the plant; the paths without it act on the default plant")
    ],
) -> str:
    """Documents ``{plant_id}`` of the ``/v1/plants/{plant_id}/...`` paths; :func:`get_plant` checks it."""
    return plant_id


def _plant_of(request: Request, caller: Caller, creating: bool) -> str:
    plant_id = request.path_params.get("plant_id", DEFAULT_PLANT)
    if not caller.may_use(plant_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key is not for plant {plant_id}")
    if not creating and not request.app.state.plants.exists(plant_id):
        raise store.NotFound(f"plant {plant_id} does not exist (PUT /v1/plants/{plant_id}/dataset creates it)")
    return plant_id


def get_plant(request: Request, caller: CallerDep) -> str:
    """The plant the request acts on (the path's, else the default one): 404 unknown, 403 not the key's."""
    return _plant_of(request, caller, creating=False)


def get_new_or_existing_plant(request: Request, caller: CallerDep) -> str:
    """Like :func:`get_plant`, for the one request that may create the plant (its dataset upload)."""
    return _plant_of(request, caller, creating=True)


PlantDep = Annotated[str, Depends(get_plant)]


def get_session(request: Request, plant_id: PlantDep) -> Iterator[Session]:
    yield from request.app.state.database.session(plant_id)


def get_creating_session(
    request: Request, plant_id: Annotated[str, Depends(get_new_or_existing_plant)]
) -> Iterator[Session]:
    yield from request.app.state.database.session(plant_id)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_runner(request: Request) -> Runner:
    return request.app.state.runner


def get_promiser(request: Request) -> Promiser:
    return request.app.state.promiser


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
PromiserDep = Annotated[Promiser, Depends(get_promiser)]
CreatingSessionDep = Annotated[Session, Depends(get_creating_session)]


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
