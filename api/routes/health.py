"""Liveness, and a database the service can read and write."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.db import database_state
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz(request: Request, response: Response) -> Health:
    """``{"status": "ok", "database": "ok"}``; 503 with ``database`` ``read-only`` or ``unreachable``
    and a one-line ``detail`` when the database cannot be read or written."""
    state, detail = database_state(request.app.state.database.engine)
    if state != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="degraded", database=state, detail=detail)
    return Health(status="ok", database="ok")
