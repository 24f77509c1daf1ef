"""Order review: can we deliver this new order by the customer's date, and if not, when?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api import rules, store
from api.deps import CallerDep, SessionDep
from api.schemas import ErrorOut, FeasibilityAnswer, FeasibilityRequest

router = APIRouter(prefix="/v1/feasibility", tags=["feasibility"])


@router.post("", response_model=FeasibilityAnswer, responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def check_feasibility(body: FeasibilityRequest, request: Request, session: SessionDep, _: CallerDep) -> dict[str, Any]:
    """Answer against the published plan, open quote holds and promises; never changes the plan or the orders.

    With ``order_id`` (an order under review), the order's recorded joint review and deposit are
    what the rules see, not what the request says.
    """
    asked = body.model_dump()
    if body.order_id is not None:
        row = store.get_order(session, body.order_id)
        asked["joint_review"] = rules.joint_review(session, body.order_id)
        asked["deposit_ratio"] = row.deposit_ratio
    return request.app.state.promiser.answer(session, asked)
