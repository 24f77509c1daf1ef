"""Order review: can we deliver this new order by the customer's date, and if not, when?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import CallerDep, SessionDep
from api.schemas import ErrorOut, FeasibilityAnswer, FeasibilityRequest

router = APIRouter(prefix="/v1/feasibility", tags=["feasibility"])


@router.post("", response_model=FeasibilityAnswer, responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def check_feasibility(body: FeasibilityRequest, request: Request, session: SessionDep, _: CallerDep) -> dict[str, Any]:
    """Answer against the published plan and open quote holds; never changes the plan or the orders."""
    return request.app.state.promiser.answer(session, body.model_dump())
