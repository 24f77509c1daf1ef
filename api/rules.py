"""The company's order-review rules as states: what must be recorded before an order takes effect.

* a ``special`` order takes effect only once a deposit of at least 30 % is recorded;
* a ``non_regular`` order (new design, discontinued product, above-standard quality, tight
  date with a penalty clause) is accepted only after technology, quality, purchasing and
  production have reviewed it together: each department's newest verdict is ``approved``.

A quote hold keeps room while a special order's deposit is being paid, so it may be held;
a non-regular order is reviewed as an order (``received`` → joint review → ``confirmed``),
so it cannot be held as a quote. A broken rule is HTTP 409 with the rule, in both languages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import store
from api.db import OrderReview
from solver.promise import SPECIAL_ORDER_DEPOSIT

DEPARTMENTS = ("technology", "quality", "purchasing", "production")
DEPARTMENT_NAMES_ZH = {"technology": "技术", "quality": "质量", "purchasing": "采购", "production": "生产"}
VERDICTS = ("approved", "rejected")


def blocked(rule: str, message: str, message_zh: str, **detail: Any) -> store.Conflict:
    return store.Conflict(message, code="rule_blocked", rule=rule, detail_zh=message_zh, **detail)


def check_can_hold(request: dict[str, Any]) -> None:
    if request.get("order_type") == "non_regular":
        raise blocked(
            "joint_review",
            "a non-regular order is accepted only after technology, quality, purchasing and production have "
            "reviewed it together: create it as an order, record the joint review, then confirm it",
            "非常规订单须经技术、质量、采购、生产联合评审后方可接受：请先创建订单、登记联合评审结果，再确认订单",
        )


def check_can_confirm(session: Session, record: dict[str, Any]) -> None:
    """Raise a 409 naming the rule when ``record`` may not be confirmed yet."""
    kind = record.get("order_type", "regular")
    if kind == "special":
        paid = record.get("deposit_ratio") or 0.0
        if paid < SPECIAL_ORDER_DEPOSIT:
            raise blocked(
                "special_order_deposit",
                f"a special order takes effect only once a {SPECIAL_ORDER_DEPOSIT:.0%} deposit is recorded; "
                f"recorded: {paid:.0%}",
                f"特殊订单须收到 {SPECIAL_ORDER_DEPOSIT:.0%} 定金后方可生效；已登记定金 {paid:.0%}",
                required=SPECIAL_ORDER_DEPOSIT,
                paid=paid,
            )
    if kind == "non_regular":
        verdicts = joint_review(session, record["order_id"])
        missing = [d for d in DEPARTMENTS if verdicts.get(d) != "approved"]
        if missing:
            names_zh = "、".join(DEPARTMENT_NAMES_ZH[d] for d in missing)
            raise blocked(
                "joint_review",
                "a non-regular order is confirmed only after the joint review: "
                f"not approved yet by {', '.join(missing)}",
                f"非常规订单须联合评审通过后方可确认：尚未通过的部门：{names_zh}",
                missing=missing,
                verdicts=verdicts,
            )


def reviews(session: Session, order_id: str) -> list[OrderReview]:
    query = select(OrderReview).where(OrderReview.order_id == order_id).order_by(OrderReview.at, OrderReview.id)
    return list(session.scalars(query))


def joint_review(session: Session, order_id: str) -> dict[str, str]:
    """Each department's newest verdict on the order."""
    return {review.department: review.verdict for review in reviews(session, order_id)}


def record_review(session: Session, order_id: str, review: dict[str, Any], actor: str) -> OrderReview:
    row = store.get_order(session, order_id)
    if row.order_type != "non_regular":
        raise store.Conflict(
            f"order {order_id} is {row.order_type}: only non-regular orders have a joint review",
            code="no_joint_review",
        )
    entry = OrderReview(order_id=order_id, recorded_by=actor, **review)
    session.add(entry)
    store.record_event(
        session,
        order_id,
        actor,
        "review",
        {k: review[k] for k in ("department", "verdict", "reviewer")},
        review.get("note", ""),
    )
    return entry
