"""The dispatch plan and dispatch monitoring views of the planner page, in headless chromium.

The server, browser and helpers are those of ``test_planner_page`` (a server of its own
for this module: the sample planned and published). For the monitoring view to have a
history, a copy of the published plan moved four weeks back is written into the
database as a plan published five weeks ago, then the real plan is published again so
it stays the current one; some orders are shipped on past days, and one order sales
entered is dated back so that it is overdue for review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from api.db import Database, OrderEvent, OrderRow, PlanJob, Publication
from tests.ui import test_planner_page as planner_page
from tests.ui.test_planner_page import SALES_KEY, Service, Tab, expect, screenshot, sign_in

# the planner page tests' fixtures: a server (the sample planned and published) and a browser of this module's own
browser, service, tab = planner_page.browser, planner_page.service, planner_page.tab

SHIFT = dt.timedelta(days=28)


def shifted(day: str) -> str:
    return (dt.date.fromisoformat(day) - SHIFT).isoformat()


def add_past_plan(service: Service) -> list[dict[str, Any]]:
    """The published plan four weeks earlier, published before its first day; its orders."""
    current = service.http.get(f"/v1/plans/{service.published}").json()
    schedule = service.schedule()
    orders = [o | {"dispatch_date": shifted(o["dispatch_date"])} for o in schedule["orders"]]
    first = min(o["dispatch_date"] for o in orders)
    database = Database(f"sqlite:///{service.log.parent / 'paichan.db'}")
    try:
        with database.plant_session("default") as session:
            snapshot = session.get(PlanJob, current["plan_id"]).input_snapshot
            published_at = dt.datetime.fromisoformat(first) - dt.timedelta(days=1)
            session.add(
                PlanJob(
                    plan_id="past-plan",
                    status="succeeded",
                    created_at=published_at,
                    input_snapshot=snapshot,
                    schedule=schedule | {"orders": orders},
                )
            )
            session.flush()
            session.add(Publication(plan_id="past-plan", at=published_at))
            session.commit()
    finally:
        database.engine.dispose()
    assert service.http.post(f"/v1/plans/{service.published}/publish").status_code == 200
    return orders


def ship(service: Service, order: dict[str, Any], day: str) -> None:
    http = service.http
    moves = [{"status": "in_production", "line_id": order["line_id"]}, {"status": "produced"}, {"status": "inspected"}]
    for move in [*moves, {"status": "shipped", "date": day}]:
        response = http.post(f"/v1/orders/{order['order_id']}/status", json=move)
        assert response.status_code == 200, response.text


def backdated_order(service: Service, received: dt.datetime) -> str:
    """An order sales entered, received on ``received`` and never reviewed."""
    record = service.http.get("/v1/orders").json()[0]
    body = {k: record[k] for k in ("product_id", "quantity", "due_date", "customer_id")} | {"order_id": "UI-LATE-1"}
    response = service.http.post("/v1/orders", json=body, headers={"X-API-Key": SALES_KEY})
    assert response.status_code == 201, response.text
    database = Database(f"sqlite:///{service.log.parent / 'paichan.db'}")
    try:
        with database.plant_session("default") as session:
            session.execute(update(OrderRow).where(OrderRow.order_id == "UI-LATE-1").values(created_at=received))
            session.execute(update(OrderEvent).where(OrderEvent.order_id == "UI-LATE-1").values(at=received))
            session.commit()
    finally:
        database.engine.dispose()
    return "UI-LATE-1"


def test_the_dispatch_plan_by_day_filtered_and_printable(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    rows = service.http.get(
        f"/v1/plans/{service.published}/schedule", params={"format": "dispatch"}, headers={"Accept": "application/json"}
    ).json()
    page.click("#tabs a[data-view=dispatch]")
    expect(page.locator("#dispatch-days .dispatch-day").first).to_be_visible()
    days = sorted({r["dispatch_date"] for r in rows})
    expect(page.locator("#dispatch-days .dispatch-day")).to_have_count(len(days))
    expect(page.locator("#dispatch-days tbody tr")).to_have_count(len(rows))
    expect(page.locator("#dispatch-title")).to_contain_text(service.published)
    screenshot(tab, "dispatch")

    region = next(r["region"] for r in rows if r["region"])
    page.select_option("#dispatch-region", region)
    page.fill("#dispatch-from", days[1])
    page.locator("#dispatch-from").dispatch_event("change")
    chosen = [r for r in rows if r["region"] == region and r["dispatch_date"] >= days[1]]
    expect(page.locator("#dispatch-days tbody tr")).to_have_count(len(chosen))
    expect(page.locator("#dispatch-summary")).to_contain_text(f"共 {len(chosen)} 个订单")

    page.emulate_media(media="print")
    expect(page.locator("#tabs")).to_be_hidden()
    expect(page.locator("#dispatch-print")).to_be_hidden()
    expect(page.locator("#dispatch-days .dispatch-day").first).to_be_visible()
    screenshot(tab, "dispatch-print")
    page.emulate_media(media="screen")
    expect(page.locator("#tabs")).to_be_visible()
    tab.assert_clean()


def test_dispatch_monitoring_by_region_and_week_and_the_overdue_orders(tab: Tab, service: Service) -> None:
    orders = add_past_plan(service)
    today = dt.date.today()
    due = sorted(
        # confirmed ones: the in-production ones cannot take the same first steps
        (o for o in orders if o["dispatch_date"] < today.isoformat() and o["status"] == "confirmed"),
        key=lambda o: o["dispatch_date"],
    )
    assert len(due) >= 4, "the sample dispatches too little in its first weeks for this test"
    for order in due[:2]:
        ship(service, order, order["dispatch_date"])  # on time
    ship(service, due[2], (dt.date.fromisoformat(due[2]["dispatch_date"]) + dt.timedelta(days=1)).isoformat())  # late
    backdated_order(service, dt.datetime.combine(today - dt.timedelta(days=10), dt.time(9)))

    page = tab.page
    sign_in(tab, service, SALES_KEY)  # any role may read the reports
    page.click("#tabs a[data-view=reports]")
    expect(page.locator("#reports-table tr.total")).to_be_visible()
    start = page.input_value("#reports-from")
    report = service.http.get("/v1/reports/dispatch", params={"from": start, "to": today.isoformat()}).json()
    assert report["plans"] == ["past-plan"]
    assert report["total"]["dispatched_on_time"] == 2 and report["total"]["dispatched_late"] == 1
    expect(page.locator("#reports-table tbody tr")).to_have_count(len(report["groups"]) + 1)
    expect(page.locator("#reports-table thead th")).to_have_count(len(report["total"]["weeks"]) + 3)
    rate = round(report["total"]["on_time_rate"] * 1000) / 10
    expect(page.locator("#reports-summary")).to_contain_text(f"准时率 {rate:g}%")
    expect(page.locator("#process-table tbody tr").first).to_contain_text("UI-LATE-1")
    expect(page.locator("#process-table tbody tr").first).to_contain_text("初审")
    screenshot(tab, "reports")

    # no English inside the Chinese page (ids, codes and dates aside)
    text = page.locator('section[data-view="reports"]').inner_text()
    words = {w for w in text.replace("UI-LATE-1", "").split() if any("a" <= c.lower() <= "z" for c in w)}
    assert not {w for w in words if not any(c.isdigit() for c in w)}, words

    page.select_option("#lang", "en")
    expect(page.locator("#tabs a[data-view=reports]")).to_have_text("Dispatch monitoring")
    expect(page.locator("#reports-summary")).to_contain_text("on-time rate")
    expect(page.locator("#process-table tbody tr").first).to_contain_text("review")
    screenshot(tab, "reports-en")
    tab.assert_clean()
