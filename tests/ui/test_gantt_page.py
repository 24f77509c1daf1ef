"""The Gantt as the shop floor reads it (issue #12): one row per line with its runs in
sequence (no bar over another), short labels, names, search and filters, and the order
view with its history, a change with a reason and the status moves.

Reuses the planner page's server and browser (one module-scoped sample plant). The
search at 2,000 orders is timed in ``benchmarks/ui_render.py`` rather than here: planning
that plant takes longer than this module's whole run.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.ui import test_planner_page as planner_page
from tests.ui.test_planner_page import SALES_KEY, Service, Tab, english_words, expect, screenshot, sign_in

service, browser, tab = planner_page.service, planner_page.browser, planner_page.tab  # the shared fixtures

# every run bar's box, its order id and its label's own text (the short id), read in one go
BARS = """() => [...document.querySelectorAll('#gantt-chart .vis-item.run')].map((bar) => {
    const box = bar.getBoundingClientRect();
    const label = bar.querySelector('.label');
    return {left: box.left, right: box.right, top: box.top, bottom: box.bottom,
            label: label ? label.firstChild.textContent : ''};
})"""


def shared_prefix(ids: list[str]) -> str:
    low, high = min(ids), max(ids)
    length = next((n for n, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), min(len(low), len(high)))
    shared = low[:length]
    return shared[: max(shared.rfind(c) for c in "-_/. ") + 1]


def known_words(service: Service) -> set[str]:
    """Ids, codes and the Latin letters of the planners' own names (model codes such as KYN28A)."""
    dataset = service.http.get("/v1/dataset").json()
    known = {service.published} | {p["plan_id"] for p in service.http.get("/v1/plans").json()}
    for table, key in (("lines", "line_id"), ("materials", "material_id"), ("products", "product_id")):
        known |= {row[key] for row in dataset.get(table, [])}
    for table in ("lines", "materials", "products", "customers"):
        known |= {word for row in dataset.get(table, []) for word in re.findall(r"[A-Za-z]+", row.get("name") or "")}
    return known


def open_order(tab: Tab, order_id: str) -> Any:
    """Select the order's bar as a click would, and wait for its history."""
    tab.page.evaluate("(id) => window.paichan.gantt.select(id)", order_id)
    panel = tab.page.locator(f"#gantt-details[data-order='{order_id}']")
    expect(panel).to_have_attribute("data-state", "loaded")
    return panel


def test_one_row_per_line_runs_never_overlap_and_labels_drop_the_shared_prefix(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    schedule = service.schedule()
    lines = sorted({o["line_id"] for o in schedule["orders"]})
    dataset = service.http.get("/v1/dataset").json()
    line_names = {row["line_id"]: row["name"] for row in dataset["lines"]}
    labels = page.locator("#gantt-chart .vis-label")
    expect(labels).to_have_count(len(lines))
    for line_id, label in zip(lines, labels.all(), strict=True):  # the line's name, its code in small text
        expect(label).to_contain_text(line_names[line_id])
        expect(label.locator(".code")).to_contain_text(line_id)

    bars = page.evaluate(BARS)
    assert len(bars) > 10
    rows: dict[float, list[dict[str, float]]] = {}
    for bar in bars:
        rows.setdefault(round(bar["top"]), []).append(bar)
    assert len(rows) <= len(lines), f"{len(rows)} bar rows for {len(lines)} lines: runs are stacked"
    for row in rows.values():
        row.sort(key=lambda bar: bar["left"])
        for before, after in itertools.pairwise(row):
            assert after["left"] >= before["right"] - 1, f"overlapping bars: {before} and {after}"

    ids = [o["order_id"] for o in schedule["orders"]]
    prefix = shared_prefix(ids)
    assert prefix, ids[:3]
    short = {i[len(prefix) :] for i in ids}
    assert {bar["label"] for bar in bars} <= short
    assert not any(bar["label"].startswith(prefix) for bar in bars)

    # a run that began before the window keeps its label at the window's left edge
    long_runs = [o for o in schedule["orders"] if o["production_end"] > o["production_start"]]
    longest = max(long_runs, key=lambda o: len(o["allocations"]))
    page.evaluate("(id) => window.paichan.gantt.select(id)", longest["order_id"])  # centres it: move on after
    page.evaluate(
        """(id) => {
            const gantt = window.paichan.gantt;
            const item = gantt.items.get(id);
            const middle = (item.start.valueOf() + item.end.valueOf()) / 2;
            gantt.timeline.setWindow(middle, middle + 7 * 86400000, {animation: false});
        }""",
        longest["order_id"],
    )
    selected = page.locator("#gantt-chart .vis-item.run.vis-selected")
    label = selected.locator(".label")
    expect(label).to_be_visible()
    panel_left = page.locator("#gantt-chart .vis-panel.vis-center").bounding_box()["x"]
    assert selected.bounding_box()["x"] < panel_left  # the bar began before the window...
    assert label.bounding_box()["x"] >= panel_left - 1  # ...its label did not leave with it
    screenshot(tab, "gantt-rows")

    # the hover card stays inside the viewport, even for a bar in the bottom right corner
    page.click("#gantt-fit")
    last = max(page.locator("#gantt-chart .vis-item.run").all(), key=lambda bar: bar.bounding_box()["y"])
    box = last.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 1, box["y"] + box["height"] / 2)
    card = page.locator(".gantt-tip")
    expect(card).to_be_visible()
    size = page.viewport_size
    shown = card.bounding_box()
    assert shown["x"] >= 0 and shown["y"] >= 0
    assert shown["x"] + shown["width"] <= size["width"] and shown["y"] + shown["height"] <= size["height"]
    tab.assert_clean()


def test_search_scrolls_to_the_order_and_the_filters_narrow_the_chart(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    schedule = service.schedule()
    dataset = service.http.get("/v1/dataset").json()
    chart = page.locator("#gantt-chart")

    # an order far from the opening window: found, scrolled to, selected, outlined, opened
    target = max(schedule["orders"], key=lambda o: o["production_start"])
    page.fill("#gantt-search", target["order_id"])
    page.press("#gantt-search", "Enter")
    expect(page.locator("#gantt-search-count")).to_have_text("第 1 个，共 1 个")
    selected = chart.locator(".vis-item.run.vis-selected.match")
    expect(selected).to_be_visible()
    center = chart.locator(".vis-panel.vis-center").bounding_box()
    bar = selected.bounding_box()
    assert center["x"] <= bar["x"] + bar["width"] / 2 <= center["x"] + center["width"]
    expect(page.locator("#gantt-details")).to_have_attribute("data-order", target["order_id"])

    # by customer name: every order of that customer, Enter walks through them
    customer = next(
        c for c in dataset["customers"] if any(o["customer_id"] == c["customer_id"] for o in schedule["orders"])
    )
    theirs = [o for o in schedule["orders"] if o["customer_id"] == customer["customer_id"]]
    page.fill("#gantt-search", customer["name"])
    page.press("#gantt-search", "Enter")
    expect(page.locator("#gantt-search-count")).to_have_text(f"第 1 个，共 {len(theirs)} 个")
    page.press("#gantt-search", "Enter")
    if len(theirs) > 1:
        expect(page.locator("#gantt-search-count")).to_have_text(f"第 2 个，共 {len(theirs)} 个")
    shown = page.locator("#gantt-details").get_attribute("data-order")
    assert shown in {o["order_id"] for o in theirs}
    page.fill("#gantt-search", "没有这个订单")
    page.press("#gantt-search", "Enter")
    expect(page.locator("#gantt-search-count")).to_have_text("未找到")
    screenshot(tab, "gantt-search")

    # filters: one line, one customer, late only
    line = schedule["orders"][0]["line_id"]
    page.select_option("#gantt-line", line)
    expect(chart.locator(".vis-label")).to_have_count(1)
    page.click("#gantt-fit")
    expect(chart.locator(".vis-item.run")).to_have_count(len([o for o in schedule["orders"] if o["line_id"] == line]))
    page.select_option("#gantt-line", "")
    page.select_option("#gantt-customer", customer["customer_id"])
    expect(chart.locator(".vis-item.run")).to_have_count(len(theirs))
    page.select_option("#gantt-customer", "")
    page.check("#gantt-late")
    late = [o for o in schedule["orders"] if o["days_late"] > 0]
    expect(chart.locator(".vis-item.run")).to_have_count(len(late))
    expect(chart.locator(".vis-item.run.is-late")).to_have_count(len(late))
    screenshot(tab, "gantt-late-only")
    tab.assert_clean()


def test_the_order_view_shows_placement_reasons_history_and_records_a_change(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    schedule = service.schedule()
    late = max((o for o in schedule["orders"] if o["days_late"] > 0), key=lambda o: o["days_late"])
    panel = open_order(tab, late["order_id"])
    placement = panel.locator("[data-part=placement]")
    expect(placement).to_contain_text(f"{late['production_start']} ")  # with its clock time
    expect(placement).to_contain_text(re.compile(r"\d\d:\d\d – "))
    expect(placement).to_contain_text(late["due_date"])
    expect(placement).to_contain_text(f"延期 {late['days_late']} 天")
    expect(panel.locator("ul.reasons li")).to_have_count(len(late["binding"]))
    expect(panel.locator("ul.history li").first).to_be_visible()  # the dataset import at least
    expect(panel.locator("ul.history")).to_contain_text("数据导入")

    # a change needs a reason: recorded in the order's history with it
    record = service.http.get(f"/v1/orders/{late['order_id']}").json()
    priority = 1 if record["priority"] != 1 else 2
    panel.locator("input[name=priority]").fill(str(priority))
    panel.locator("button[type=submit]").click()
    assert (
        service.http.get(f"/v1/orders/{late['order_id']}").json()["priority"] == record["priority"]
    )  # no reason, no change
    panel.locator("input[name=reason]").fill("客户书面确认优先")
    panel.locator("button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text(f"订单 {late['order_id']} 已修改")
    history = panel.locator("ul.history")
    expect(history.locator("li").first).to_contain_text(f"优先级 {record['priority']} → {priority}")
    expect(history.locator("li").first).to_contain_text("客户书面确认优先")
    after = service.http.get(f"/v1/orders/{late['order_id']}").json()
    assert after["priority"] == priority
    assert after["history"][-1]["kind"] == "change" and after["history"][-1]["reason"] == "客户书面确认优先"
    screenshot(tab, "order-view")

    # a move the order no longer allows (cancelled behind the page's back): the 409 names what is allowed
    other = next(o for o in schedule["orders"] if o["status"] == "confirmed" and o["order_id"] != late["order_id"])
    panel = open_order(tab, other["order_id"])
    expect(panel.locator("button[data-action=move]")).to_have_count(2)  # in production, cancelled
    cancelled = service.http.post(
        f"/v1/orders/{other['order_id']}/status", json={"status": "cancelled", "reason": "测试"}
    )
    assert cancelled.status_code == 200, cancelled.text
    panel.locator("button[data-action=move][data-status=in_production]").click()
    expect(panel.locator("[data-part=refused]")).to_contain_text("不允许此变更；当前可改为：无")
    expect(panel.locator("button[data-action=move]")).to_have_count(0)
    tab.assert_clean("409")  # the browser reports the refused move itself


def test_sales_sees_the_order_view_without_changes(tab: Tab, service: Service) -> None:
    sign_in(tab, service, SALES_KEY)
    order = service.schedule()["orders"][0]
    panel = open_order(tab, order["order_id"])
    expect(panel.locator("ul.history li").first).to_be_visible()
    expect(panel.locator("form.order-edit")).to_have_count(0)
    expect(panel.locator("button[data-action=move]")).to_have_count(0)
    tab.assert_clean()


def test_the_chinese_gantt_and_order_view_show_no_english(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    schedule = service.schedule()
    known = known_words(service)
    late = max((o for o in schedule["orders"] if o["days_late"] > 0), key=lambda o: o["days_late"])
    open_order(tab, late["order_id"])
    page.evaluate("(id) => window.paichan.gantt.select(id)", late["order_id"])
    page.hover("#gantt-chart .vis-item.run.vis-selected")
    expect(page.locator(".gantt-tip")).to_be_visible()
    for part in ("section.view[data-view=gantt]", ".gantt-tip"):
        text = page.inner_text(part)
        assert english_words(text, known) == [], text
    screenshot(tab, "order-view-zh")
    tab.assert_clean()
