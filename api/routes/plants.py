"""The group's plants: ``GET /v1/plants``. Each plant's own resources live under
``/v1/plants/{plant_id}/...`` (see :mod:`api.main`); ``PUT /v1/plants/{plant_id}/dataset`` creates one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.deps import CallerDep
from api.plants import plant_overview

router = APIRouter(prefix="/v1/plants", tags=["plants"])


class PlantOut(BaseModel):
    plant_id: str
    name: str
    default: bool  # the plant the paths without /plants/{plant_id} act on
    dataset_version: int | None  # None: no dataset loaded yet
    lines: int
    products: list[str]  # the products it has a routing for: where group order review asks
    orders: int
    published_plan_id: str | None


@router.get("", response_model=list[PlantOut])
def list_plants(request: Request, caller: CallerDep) -> list[dict]:
    """The plants this key may use, the default one first."""
    with request.app.state.database.sessions() as session:
        return plant_overview(session, set(caller.plants) if caller.plants is not None else None)
