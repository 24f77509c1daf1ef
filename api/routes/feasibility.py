"""Order review: can we deliver this new order by the customer's date, and if not, when? And at
which of the group's plants first?"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from api import rules, store
from api.auth import Caller
from api.deps import CallerDep, get_plant
from api.schemas import ErrorOut, FeasibilityRequest, GroupFeasibility
from solver.domain import DatasetError

router = APIRouter(prefix="/feasibility", tags=["feasibility"])


@router.post("", response_model=GroupFeasibility, responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def check_feasibility(body: FeasibilityRequest, request: Request, caller: CallerDep) -> dict[str, Any]:
    """Answer against the published plan, open quote holds and promises; never changes the plan or the orders.

    Under ``/v1/plants/{plant_id}`` the plant answers. Without a plant, every plant the key may use
    that makes the product answers, earliest delivery first in ``plants``, the first one also at
    the top level. With ``order_id`` (an order under review), the order's plant answers (the path's,
    else the default one), and the order's recorded joint review and deposit are what the rules see,
    not what the request says.
    """
    if "plant_id" in request.path_params or body.order_id is not None:
        plant_id = get_plant(request, caller)
        with request.app.state.database.plant_session(plant_id) as session:
            return {**_answer(request, session, body), "plant_id": plant_id}
    return _group_answer(request, caller, body)


def _answer(request: Request, session: Session, body: FeasibilityRequest) -> dict[str, Any]:
    asked = body.model_dump()
    if body.order_id is not None:
        row = store.get_order(session, body.order_id)
        asked["joint_review"] = rules.joint_review(session, body.order_id)
        asked["deposit_ratio"] = row.deposit_ratio
    return request.app.state.promiser.answer(session, asked)


def _group_answer(request: Request, caller: Caller, body: FeasibilityRequest) -> dict[str, Any]:
    """Every plant that makes the product and has a published plan; the first failure if none does."""
    answers, failures = [], []
    for plant_id in request.app.state.plants.ids():
        if not caller.may_use(plant_id):
            continue
        try:
            with request.app.state.database.plant_session(plant_id) as session:
                answers.append({**_answer(request, session, body), "plant_id": plant_id})
        except (DatasetError, store.Conflict) as error:  # does not make it, or has no plan yet
            failures.append(error)
    if not answers:
        if failures:
            raise _most_telling(failures)
        raise store.NotFound("this key is for no plant that exists")
    answers.sort(key=_earliest_first)
    return {**answers[0], "plants": answers}


def _earliest_first(answer: dict[str, Any]) -> tuple[bool, dt.date, str]:
    earliest = answer["earliest_delivery_fixed"]
    return earliest is None, earliest or dt.date.max, answer["plant_id"]


def _most_telling(failures: list[Exception]) -> Exception:
    """A plant that knows the product but cannot answer says more than one that does not make it."""
    known = [f for f in failures if not (isinstance(f, DatasetError) and _unknown_product(f))]
    return (known or failures)[0]


def _unknown_product(error: DatasetError) -> bool:
    return any(problem.column == "$.product_id" for problem in error.problems)
