"""The planner's day (issue #12): a what-if built in the page, read, applied; plans with a name
and a note; any two plans compared; no English on the Chinese what-if view.

Reuses the planner page's server and browser (one module-scoped sample plant, planned and published).
"""

from __future__ import annotations

import re

from tests.api.test_scenarios import busiest_line_days
from tests.ui import test_planner_page as planner_page
from tests.ui.test_planner_page import SALES_KEY, Service, Tab, english_words, expect, screenshot, sign_in

service, browser, tab = planner_page.service, planner_page.browser, planner_page.tab  # the shared fixtures

SOLVE_MS = 60_000


def known_codes(service: Service) -> set[str]:
    """Ids, codes and the Latin words of the planners' own names: what may stay in Latin letters."""
    dataset = service.http.get("/v1/dataset").json()
    known = {p["plan_id"] for p in service.http.get("/v1/plans").json()}
    known |= {s["scenario_id"] for s in service.http.get("/v1/scenarios").json()}
    for table, key in (("lines", "line_id"), ("materials", "material_id"), ("products", "product_id")):
        known |= {row[key] for row in dataset.get(table, [])}
    for table in ("lines", "materials", "products", "customers"):
        known |= {word for row in dataset.get(table, []) for word in re.findall(r"[A-Za-z]+", row.get("name") or "")}
    return known


def build_line_down(tab: Tab, line: str, first: str, last: str) -> None:
    page = tab.page
    page.select_option("#whatif-kind", "line_hours")
    page.select_option("#whatif-field-line_id", line)
    page.fill("#whatif-field-from", first)
    page.fill("#whatif-field-to", last)
    page.fill("#whatif-field-hours", "0")
    page.click("#whatif-add")
    expect(page.locator("#whatif-edits")).to_have_attribute("data-count", "1")


def test_a_line_down_scenario_is_read_and_applied(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    line, first, last = busiest_line_days(service.schedule())
    page.click("#tabs a[data-view=whatif]")
    build_line_down(tab, line, first, last)
    expect(page.locator("#whatif-edits li")).to_contain_text(f"产线 {line}")
    expect(page.locator("#whatif-edits li")).to_contain_text("停线")

    # an edit added by mistake is removed again
    page.select_option("#whatif-kind", "cancel_order")
    order_id = service.schedule()["orders"][0]["order_id"]
    page.select_option("#whatif-field-order_id", order_id)
    page.click("#whatif-add")
    expect(page.locator("#whatif-edits")).to_have_attribute("data-count", "2")
    page.click("#whatif-edits li[data-kind=cancel_order] button[data-remove]")
    expect(page.locator("#whatif-edits")).to_have_attribute("data-count", "1")

    page.fill("#whatif-name", "一线停机三天")
    page.fill("#whatif-time-limit", "5")
    page.click("#whatif-run")
    result = page.locator("#whatif-result")
    expect(result).to_have_attribute("data-plan-status", "succeeded", timeout=SOLVE_MS)
    scenario_id = result.get_attribute("data-scenario")
    answer = service.http.get(f"/v1/scenarios/{scenario_id}").json()
    assert answer["changes"], answer  # three days down on the busiest line moves something

    expect(result.locator("table.kpis tr[data-kpi]")).to_have_count(len(answer["kpi_deltas"]))
    expect(result.locator(".changes-count")).to_have_attribute("data-changes", str(len(answer["changes"])))
    hit = next(c for c in answer["changes"] if any(w["kind"] == "edit" for w in c["why"]))
    expect(result.locator(f"tr[data-order='{hit['order_id']}']")).to_contain_text("变更 1：产线")
    expect(result.locator(".notify-count")).to_have_attribute("data-customers", str(len(answer["notify"])))
    for group in answer["notify"]:
        expect(result.locator(f"li[data-customer='{group['customer_id']}']")).to_contain_text(group["name"])
    expect(page.locator(f"#whatif-table tr[data-scenario='{scenario_id}']")).to_contain_text("待定")
    words = english_words(page.locator("section.view[data-view=whatif]").inner_text(), known_codes(service))
    assert words == [], f"English on the Chinese what-if view: {sorted(set(words))}"
    screenshot(tab, "whatif")

    page.select_option("#lang", "en")
    expect(result.locator("h3").first).to_contain_text("KPI changes")
    expect(result.locator(f"tr[data-order='{hit['order_id']}']")).to_contain_text("change 1: line")
    screenshot(tab, "whatif-en")
    page.select_option("#lang", "zh")

    page.click("#whatif-result button[data-action=apply]")
    expect(page.locator("#flash")).to_contain_text("已应用")
    expect(result).to_have_attribute("data-status", "applied")
    current = service.http.get("/v1/plans/current").json()
    assert current["plan_id"] == answer["plan_id"] and current["scenario_id"] == scenario_id
    assert {"line_id": line, "date": first, "hours": 0} in service.http.get("/v1/dataset").json()["line_calendar"]

    # the plans view marks the scenario's plan with its name
    page.click("#tabs a[data-view=plans]")
    row = page.locator(f"#plan-table tr[data-plan='{answer['plan_id']}']")
    expect(row).to_contain_text("情景：一线停机三天")
    expect(row).to_contain_text("已发布")
    service.published = answer["plan_id"]
    tab.assert_clean()


def test_a_stale_scenario_offers_to_be_discarded(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    line, first, _ = busiest_line_days(service.schedule())
    page.click("#tabs a[data-view=whatif]")
    build_line_down(tab, line, first, first)
    page.fill("#whatif-name", "改单前的模拟")
    page.fill("#whatif-time-limit", "3")
    page.click("#whatif-run")
    result = page.locator("#whatif-result")
    expect(result).to_have_attribute("data-plan-status", "succeeded", timeout=SOLVE_MS)
    order = service.http.get("/v1/orders", params={"status": "confirmed"}).json()[0]
    change = {"priority": min(10, order["priority"] + 1), "reason": "客户来电"}
    assert service.http.patch(f"/v1/orders/{order['order_id']}", json=change).status_code == 200

    page.click("#whatif-result button[data-action=apply]")  # the page still thinks it fresh
    expect(result.locator(".notice.stale")).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("实时数据已变化")
    page.click("#whatif-result button[data-action=discard]")
    expect(result).to_have_attribute("data-status", "discarded")
    tab.assert_clean("409")  # the browser reports the refused apply itself


def test_a_named_plan_and_two_plans_compared(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    page.click("#tabs a[data-view=plans]")
    page.fill("#plan-time-limit", "3")
    page.fill("#plan-name", "周一早班")
    page.fill("#plan-note", "插单后重排，待主管确认")
    page.click("#plan-start")
    expect(page.locator("#plan-progress-facts")).to_have_attribute("data-status", "succeeded", timeout=SOLVE_MS)
    plan_id = page.locator("#plan-table tbody tr").first.get_attribute("data-plan")
    row = page.locator(f"#plan-table tr[data-plan='{plan_id}']")
    expect(row).to_contain_text("周一早班")
    expect(row).to_contain_text("插单后重排，待主管确认")
    plan = service.http.get(f"/v1/plans/{plan_id}").json()
    assert plan["name"] == "周一早班" and plan["note"] == "插单后重排，待主管确认"

    first = service.http.get("/v1/plans").json()[-1]["plan_id"]  # the fixture's plan, made before any scenario
    page.select_option("#plan-pair-a", first)
    page.select_option("#plan-pair-b", plan_id)
    page.click("#plan-pair-go")
    compare = page.locator("#plan-compare")
    expect(compare).to_have_attribute("data-pair", f"{first}|{plan_id}")
    answer = service.http.get(f"/v1/plans/{first}/compare/{plan_id}").json()
    expect(compare.locator("table.kpis tr[data-kpi]")).to_have_count(len(answer["kpi_deltas"]))
    expect(compare.locator(".changes-count")).to_have_attribute("data-changes", str(len(answer["changes"])))
    words = english_words(page.locator("section.view[data-view=plans]").inner_text(), known_codes(service))
    assert words == [], f"English on the Chinese plans view: {sorted(set(words))}"
    screenshot(tab, "plans-compare-two")
    tab.assert_clean()


def test_sales_has_no_what_if(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service, SALES_KEY)
    expect(page.locator("#tabs a[data-view=whatif]")).to_be_hidden()
    page.goto(service.url + "/#whatif")
    expect(page.locator("section.view[data-view=whatif]")).to_be_hidden()
    tab.assert_clean()
