"""Order review as sales works it (issue #11): a hold confirmed moves the next answer on, a
blocked rule is refused in Chinese, and no view of the Chinese page shows English.

Reuses the planner page's server and browser (one module-scoped sample plant).
"""

from __future__ import annotations

import re
from typing import Any

from tests.ui import test_planner_page as planner_page
from tests.ui.test_planner_page import Service, Tab, english_words, expect, review, screenshot, sign_in

service, browser, tab = planner_page.service, planner_page.browser, planner_page.tab  # the shared fixtures

VIEWS = ("gantt", "load", "late", "plans", "review", "worklist", "dispatch", "reports", "whatif")


def placement_text(result: Any) -> str:
    return result.locator("table.facts").nth(1).inner_text()


def test_a_confirmed_hold_moves_the_next_answer_on(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    page.click("#tabs a[data-view=review]")
    # 405 of L06's 600 minutes a day: a second run of it cannot share the day the first one holds
    request = {"product_id": "VCB-004", "quantity": 10, "due_date": "2030-01-01"}
    result = review(tab, request)
    answer = service.http.post("/v1/feasibility", json=request | {"resequence": False}).json()
    first = answer["placement"]
    assert first, answer
    expect(result).to_contain_text(first["production_start"])
    page.click("#review-hold")
    held = page.locator("#review-held")
    expect(held).to_contain_text("已锁定报价")
    quote_id = held.get_attribute("data-quote")
    page.click(f"#quote-table button[data-action=confirm][data-quote='{quote_id}']")
    expect(page.locator("#flash")).to_contain_text(f"报价已转为订单 Q-{quote_id}")
    expect(page.locator(f"#quote-table tr[data-quote='{quote_id}']")).to_have_count(0)

    # the confirmed order keeps the room: the same request is placed elsewhere now
    result = review(tab, request)
    second = service.http.post("/v1/feasibility", json=request | {"resequence": False}).json()["placement"]
    assert second != first
    expect(result).to_contain_text(second["production_start"])
    order = service.http.get(f"/v1/orders/Q-{quote_id}").json()
    assert order["status"] == "confirmed" and order["promise"]["placement"] == first
    screenshot(tab, "review-moved-on")
    tab.assert_clean()


def test_a_blocked_rule_is_refused_in_chinese(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    page.click("#tabs a[data-view=review]")
    special = {"product_id": "HV-001", "quantity": 1, "due_date": "2030-01-01", "order_type": "special"}
    review(tab, special | {"deposit_ratio": 0})
    page.click("#review-hold")  # a special order may be held while the deposit is paid
    expect(page.locator("#review-held")).to_contain_text("已锁定报价")
    quote_id = page.locator("#review-held").get_attribute("data-quote")
    page.click(f"#quote-table button[data-action=confirm][data-quote='{quote_id}']")
    flash = page.locator("#flash")
    expect(flash).to_contain_text("特殊订单须收到 30% 定金后方可生效")
    assert english_words(flash.inner_text(), {quote_id}) == []
    page.click(f"#quote-table button[data-action=release][data-quote='{quote_id}']")
    expect(page.locator(f"#quote-table tr[data-quote='{quote_id}']")).to_have_count(0)
    tab.assert_clean("409")  # the browser reports the refused confirm itself


def test_no_view_of_the_chinese_page_shows_english(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    dataset = service.http.get("/v1/dataset").json()
    known = {service.published} | {p["plan_id"] for p in service.http.get("/v1/plans").json()}
    known |= {q["quote_id"] for q in service.http.get("/v1/quotes").json()}
    for table, key in (("lines", "line_id"), ("materials", "material_id"), ("products", "product_id")):
        known |= {row[key] for row in dataset.get(table, [])}
    for table in ("lines", "materials", "products", "customers"):  # the planners' own names: model codes
        known |= {word for row in dataset.get(table, []) for word in re.findall(r"[A-Za-z]+", row.get("name") or "")}
    for view in VIEWS:
        page.click(f"#tabs a[data-view={view}]")
        section = page.locator(f"section.view[data-view={view}]")
        expect(section).to_be_visible()
        if view == "review":
            review(tab, {"product_id": "HV-001", "quantity": 4, "due_date": "2027-01-15", "order_type": "non_regular"})
            joint = page.locator("#review-joint-field")
            expect(joint.locator("select[data-department]")).to_have_count(4)  # one verdict per department
            expect(joint).to_contain_text("技术")
        page.wait_for_timeout(300)  # the view's data arrives
        words = english_words(page.inner_text("body"), known | {"English"})  # the language picker's own name
        assert words == [], f"English on the Chinese {view} view: {sorted(set(words))}"
    tab.assert_clean()
