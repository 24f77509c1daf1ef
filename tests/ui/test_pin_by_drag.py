"""Drag a bar to pin it: the order is pinned to that line and day, and the next plan keeps it."""

from __future__ import annotations

import datetime as dt

from tests.ui import test_planner_page as planner_page
from tests.ui.test_planner_page import Service, Tab, expect, screenshot, sign_in

service, browser, tab = planner_page.service, planner_page.browser, planner_page.tab  # the shared fixtures

PIXELS_PER_DAY = """() => {
  const timeline = window.paichan.gantt.timeline;
  const shown = timeline.getWindow();
  return timeline.body.domProps.center.width / ((shown.end - shown.start) / 86400000);
}"""


def a_working_day_after(start: str, days: int) -> tuple[str, int]:
    """The first weekday at least ``days`` after ``start``, and how many days away it is."""
    first = dt.date.fromisoformat(start)
    for offset in range(days, days + 7):
        if (first + dt.timedelta(days=offset)).weekday() < 5:
            return (first + dt.timedelta(days=offset)).isoformat(), offset
    raise AssertionError("no weekday within a week")


def an_early_confirmed_order(service: Service, skip: int = 0) -> dict:
    """A confirmed order that starts in the Gantt's opening window."""
    schedule = service.schedule()
    opening = dt.date.fromisoformat(schedule["plan_start"]) + dt.timedelta(days=7)
    early = [
        o
        for o in sorted(schedule["orders"], key=lambda o: o["production_start"])
        if o["production_start"] <= opening.isoformat()
        and service.http.get(f"/v1/orders/{o['order_id']}").json()["status"] == "confirmed"
    ]
    return early[skip]


def drag_days_later(tab: Tab, order_id: str, days: int) -> None:
    """Select the order's bar (scrolled to) and drag it ``days`` later on its row."""
    page = tab.page
    page.evaluate("(id) => window.paichan.gantt.select(id)", order_id)
    bar = page.locator("#gantt-chart .vis-item.run.vis-selected")
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    step = page.evaluate(PIXELS_PER_DAY)
    x, y = box["x"] + min(10, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + step * days / 2, y, steps=5)
    page.mouse.move(x + step * days, y, steps=5)
    page.mouse.up()


def test_dragging_a_bar_in_what_if_mode_adds_a_pin_edit_and_changes_nothing(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    order = an_early_confirmed_order(service, skip=1)
    target, offset = a_working_day_after(order["production_start"], 3)
    page.select_option("#gantt-drag", "whatif")
    drag_days_later(tab, order["order_id"], offset)
    expect(page.locator("#flash")).to_contain_text("加入情景模拟")
    assert service.http.get(f"/v1/orders/{order['order_id']}").json()["pinned_start"] is None  # nothing live
    # a double-click on a line's row on a day: that line down from then, as a what-if edit
    page.once("dialog", lambda dialog: dialog.accept("2"))
    pick = "([line, day]) => window.paichan.gantt.timeline.emit('doubleClick', {group: line, time: new Date(day), item: null})"
    page.evaluate(pick, [order["line_id"], target + "T10:00:00"])
    expect(page.locator("#flash")).to_contain_text(f"产线 {order['line_id']} {target} 至")
    page.click("#tabs a[data-view=whatif]")
    edits = page.locator("#whatif-edits")
    expect(edits).to_have_attribute("data-count", "2")
    expect(edits).to_contain_text(target)
    tab.assert_clean()


def test_dragging_a_bar_pins_the_order_and_the_next_plan_keeps_it(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    # a confirmed order in the opening window, moved three working days later on its own line
    order = an_early_confirmed_order(service)
    target, offset = a_working_day_after(order["production_start"], 3)
    page.on("dialog", lambda dialog: dialog.accept("customer visit"))
    drag_days_later(tab, order["order_id"], offset)
    expect(page.locator("#flash")).to_contain_text(f"已锁定订单 {order['order_id']}")
    pinned = service.http.get(f"/v1/orders/{order['order_id']}").json()
    assert (pinned["pinned_line"], pinned["pinned_start"]) == (order["line_id"], target)
    assert pinned["history"][-1]["kind"] == "pin" and pinned["history"][-1]["reason"] == "customer visit"
    screenshot(tab, "gantt-pinned")

    plan_id = service.solve(5)  # the next plan keeps it
    planned = service.http.get(f"/v1/plans/{plan_id}/schedule").json()
    kept = next(o for o in planned["orders"] if o["order_id"] == order["order_id"])
    assert (kept["line_id"], kept["production_start"]) == (order["line_id"], target)

    # the order view takes the pin off again
    page.evaluate("(id) => window.paichan.gantt.select(id)", order["order_id"])
    panel = page.locator(f"#gantt-details[data-order='{order['order_id']}']")
    expect(panel.locator("[data-part=pin]")).to_contain_text(f"产线 {order['line_id']}，{target} 开工")
    panel.locator("button[data-action=unpin]").click()
    expect(page.locator("#flash")).to_contain_text("已取消锁定")
    assert service.http.get(f"/v1/orders/{order['order_id']}").json()["pinned_start"] is None
    tab.assert_clean()
