"""The planner page at ``/`` in headless chromium, against a real uvicorn server.

One server for the module: a SQLite file in a temporary folder, three keys, the
sample dataset PUT through the API, planned (5 s) and published. Each test opens
a fresh browser context (so a fresh sessionStorage), signs in through the form,
drives the page like a planner or a sales clerk would, and ends with no console
error. A screenshot of each view is written to ``$PAICHAN_SCREENSHOTS_DIR`` (default: a
folder in the system's temporary directory, so a test run leaves the checkout as it was;
``PAICHAN_SCREENSHOTS_DIR=docs/screenshots`` refreshes the README's pictures).

Skipped, with the reason, only when ``/usr/bin/chromium`` or the ``playwright``
package is missing. The browser is the Debian chromium: Playwright's own browser
downloads are never used.
"""

from __future__ import annotations

import csv
import datetime as dt
import io as stdio
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS, GANTT_READY
from solver import io
from tests.ui.served import ROOT, solved_plan, uvicorn_service

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is missing (pip install -e '.[test]')"
)

SCREENSHOTS = Path(os.environ.get("PAICHAN_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "paichan-screenshots")
SAMPLE = ROOT / "data" / "sample"
PLANNER_KEY, SALES_KEY, BATCH_KEY = "ui-planner-key", "ui-sales-key", "ui-batch-key"
PLANNER = {"X-API-Key": PLANNER_KEY}
TIMEOUT_MS = 20_000


# -- the server ---------------------------------------------------------------------------


@dataclass
class Service:
    url: str
    http: httpx.Client
    published: str = ""
    log: Path = field(default_factory=Path)

    def schedule(self) -> dict[str, Any]:
        return self.http.get("/v1/plans/current/schedule").json()

    def solve(self, time_limit: float) -> str:
        return solved_plan(self.http, time_limit)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """uvicorn serving ``api.main:app`` on a free port of 127.0.0.1, the sample planned and published."""
    folder = tmp_path_factory.mktemp("ui")
    keys = f"planner:{PLANNER_KEY},sales:{SALES_KEY},batch:{BATCH_KEY}"
    with uvicorn_service(folder, keys) as (url, log), httpx.Client(base_url=url, headers=PLANNER, timeout=60) as http:
        document = io.dataset_document(io.load_dataset(SAMPLE))
        assert http.put("/v1/dataset", json=document).status_code == 200
        service = Service(url, http, log=log)
        service.published = service.solve(5)
        assert http.post(f"/v1/plans/{service.published}/publish").status_code == 200
        yield service


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page and every console error and uncaught exception it produced."""

    page: Any
    errors: list[str]

    def assert_clean(self, *expected: str) -> None:
        """No console error, apart from ones containing one of ``expected``."""
        unexpected = [e for e in self.errors if not any(part in e for part in expected)]
        assert unexpected == [], "console errors:\n" + "\n".join(unexpected)


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield Tab(page, errors)
    context.close()


def sign_in(tab: Tab, service: Service, key: str = PLANNER_KEY) -> None:
    page = tab.page
    page.goto(service.url + "/")
    page.fill("#signin-key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector(GANTT_READY)


def screenshot(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_until(tab: Tab, script: str, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Poll ``script`` until it is true (``page.wait_for_function`` evaluates strings, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not tab.page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        time.sleep(0.05)


def expect(locator: Any) -> Any:
    return sync_api.expect(locator)


sync_api.expect.set_options(timeout=TIMEOUT_MS)  # the default 5 s is short for a loaded CI machine


# -- the tests ------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_without_any_cdn(service: Service) -> None:
    page = httpx.get(service.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace('lang="zh-CN"', "")  # every URL is the service's own
    vendor = httpx.get(service.url + "/static/vendor/vis-timeline/vis-timeline-graph2d.min.js")
    assert vendor.status_code == 200 and "vis-timeline" in vendor.text[:300]
    for licence in ("LICENSE.MIT.txt", "LICENSE.Apache-2.0.txt", "THIRD_PARTY_LICENSES.txt"):
        assert httpx.get(f"{service.url}/static/vendor/vis-timeline/{licence}").status_code == 200
    assert httpx.get(service.url + "/static/../main.py").status_code == 404
    assert httpx.get(service.url + "/static/nothing.js").status_code == 404
    assert httpx.get(service.url + "/v1/whoami").status_code == 401
    assert httpx.get(service.url + "/v1/whoami", headers={"X-API-Key": SALES_KEY}).json() == {
        "role": "sales",
        "name": "key1",
        "plants": None,
    }


def test_sign_in_shows_the_gantt_of_the_published_plan(tab: Tab, service: Service) -> None:
    page = tab.page
    page.goto(service.url + "/")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    screenshot(tab, "signin")
    sign_in(tab, service)

    # the key is kept for this tab's session only
    assert page.evaluate("sessionStorage.getItem('paichan.apiKey')") == PLANNER_KEY
    assert PLANNER_KEY not in page.evaluate("JSON.stringify(localStorage)")
    assert page.context.cookies() == []
    expect(page.locator("#who")).to_contain_text("计划员")
    expect(page.locator("#may-list li")).to_have_count(4)

    schedule = service.schedule()
    orders = schedule["orders"]
    late = [o for o in orders if o["days_late"] > 0]
    pinned = [o for o in orders if o["status"] == "in_production"]
    assert late and pinned, "the sample has late and in-production orders to show"
    chart = page.locator("#gantt-chart")
    expect(chart).to_have_attribute("data-orders", str(len(orders)))
    expect(page.locator("#gantt-summary")).to_contain_text(f"{len(orders)} 个订单")
    expect(chart.locator(".vis-label")).to_have_count(len({r["line_id"] for r in schedule["line_loads"]}))
    screenshot(tab, "gantt")

    # the whole horizon: one bar per order of the published schedule, coloured by state
    page.click("#gantt-fit")
    expect(chart.locator(".vis-item.run")).to_have_count(len(orders))
    expect(chart.locator(".vis-item.run.late")).to_have_count(len([o for o in late if o not in pinned]))
    expect(chart.locator(".vis-item.run.pinned")).to_have_count(len(pinned))
    assert chart.locator(".vis-item.vis-background.off").count() > 0  # weekends and holidays shaded
    screenshot(tab, "gantt-all")

    # hover: customer, product (names, with their codes), quantity, due date, days late (and why)
    worst = max(late, key=lambda o: o["days_late"])
    page.evaluate("(id) => window.paichan.gantt.select(id)", worst["order_id"])
    page.hover("#gantt-chart .vis-item.run.vis-selected")
    tooltip = page.locator(".gantt-tip")
    expect(tooltip).to_be_visible()
    for text in (worst["customer_id"], worst["product_id"], str(worst["quantity"]), worst["due_date"]):
        expect(tooltip).to_contain_text(text)
    expect(tooltip).to_contain_text("延期天数")
    expect(tooltip).to_contain_text(f"延期 {worst['days_late']} 天")
    # the selected order's inspection and dispatch days: a tail under its row
    expect(chart.locator(".vis-item.tail.inspection")).to_have_count(1)
    expect(chart.locator(".vis-item.tail.dispatch")).to_have_count(1)

    # zoom: a week shows fewer bars; tails off removes the selected order's tail
    page.click("#gantt-week")
    wait_until(tab, f"document.querySelectorAll('#gantt-chart .vis-item.run').length < {len(orders)}")
    page.click("#gantt-tails")
    expect(chart.locator(".vis-item.tail")).to_have_count(0)
    tab.assert_clean()


def test_line_load_and_late_orders_with_their_reasons(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    schedule = service.schedule()

    page.click("#tabs a[data-view=load]")
    lines = {row["line_id"] for row in schedule["line_loads"]}
    cells = page.locator("#load-strip .heat-cell")
    expect(cells.first).to_be_visible()
    assert cells.count() % len(lines) == 0 and cells.count() >= len(lines) * 80  # one per line and day
    assert page.locator("#load-strip .heat-cell.off").count() > 0
    full = next(r for r in schedule["line_loads"] if r["minutes_available"] > 0)
    cell = page.locator(f"#load-strip .heat-cell[data-line='{full['line_id']}'][data-date='{full['date']}']")
    expect(cell).to_have_attribute(
        "title",
        f"{full['line_id']} {full['date'][5:]}：{full['minutes_used']} / {full['minutes_available']} 分钟（{round(1000 * full['minutes_used'] / full['minutes_available']) / 10:g}%）",
    )
    screenshot(tab, "load")
    page.check("input[name=load-mode][value=weekly]")
    dates = sorted(dt.date.fromisoformat(row["date"]) for row in schedule["line_loads"])
    span = range((dates[-1] - dates[0]).days + 1)  # every calendar day: a week off entirely is a column too
    weeks = {(dates[0] + dt.timedelta(days=n)).isocalendar()[:2] for n in span}
    expect(cells).to_have_count(len(lines) * len(weeks))
    assert page.locator("#load-strip .heat-cell.overloaded").count() > 0  # the sample runs full: framed
    screenshot(tab, "load-weekly")

    page.click("#tabs a[data-view=late]")
    late = sorted((o for o in schedule["orders"] if o["days_late"] > 0), key=lambda o: -o["days_late"])
    rows = page.locator("#late-table tbody tr")
    expect(rows).to_have_count(len(late) + len(schedule["unscheduled"]))
    expect(rows.first).to_contain_text(late[0]["order_id"])  # the worst first
    expect(page.locator("#late-table tbody")).to_contain_text("交期短于最短周期")  # the engine's lead_time reason
    screenshot(tab, "late")
    page.click("#late-table th[data-key=order_id]")  # sort by order id
    first_by_id = min(o["order_id"] for o in late)
    expect(rows.first).to_contain_text(first_by_id)

    with page.expect_download() as download:
        page.click("#late-export")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(stdio.StringIO(text)))
    assert table[0][:2] == ["类型", "订单"] and table[0][-1] == "binding"
    assert [row[1] for row in table[1:]] == sorted(o["order_id"] for o in late)  # as shown, in the order shown
    assert download.value.suggested_filename == f"late-orders-{page.input_value('#source')}.csv"

    # an order id opens it in the Gantt
    page.click(f"#late-table a[data-order='{first_by_id}']")
    expect(page.locator("#gantt-details")).to_contain_text(first_by_id)
    tab.assert_clean()


def test_order_review_answers_and_holds_a_quote(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    page.click("#tabs a[data-view=review]")
    request = {"product_id": "HV-001", "quantity": 4, "due_date": "2027-01-15", "customer_id": "C002"}
    expect(page.locator("#review-products option")).not_to_have_count(0)  # the dataset's products offered
    page.fill("#review-product", request["product_id"])
    page.fill("#review-quantity", str(request["quantity"]))
    page.fill("#review-due", request["due_date"])
    page.fill("#review-customer", request["customer_id"])
    page.click("#review-submit")
    result = page.locator("#review-result")
    expect(result).to_have_attribute("data-state", "answered")

    answer = service.http.post("/v1/feasibility", json=request | {"resequence": False}).json()
    verdict = result.locator(".verdict")
    expect(result).to_contain_text(answer["earliest_delivery_fixed"])
    expect(result).to_contain_text("最早交付（重新排序）")
    expect(result).to_contain_text(answer["placement"]["line_id"])
    kinds = [reason["kind"] for reason in answer["binding"]]
    expect(result.locator("ul.binding li")).to_have_count(len(kinds))
    expect(result.locator("ul.checks li[data-rule=release_day]")).to_contain_text("下达日")
    assert verdict.get_attribute("data-feasible") in ("true", "false")
    screenshot(tab, "review")

    page.fill("#review-hold-hours", "2")
    page.click("#review-hold")
    held = page.locator("#review-held")
    expect(held).to_contain_text("已锁定报价")
    quote_id = held.get_attribute("data-quote")
    expect(page.locator(f"#quote-table tr[data-quote='{quote_id}']")).to_contain_text(answer["promised_delivery"])
    assert quote_id in {q["quote_id"] for q in service.http.get("/v1/quotes").json()}
    screenshot(tab, "review-quote")
    page.click(f"#quote-table button[data-action=release][data-quote='{quote_id}']")  # leave no hold behind
    expect(page.locator(f"#quote-table tr[data-quote='{quote_id}']")).to_have_count(0)
    assert service.http.get("/v1/quotes").json() == []
    tab.assert_clean()


def test_start_watch_compare_and_publish_a_plan(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    before = service.http.get("/v1/plans/current/schedule").json()
    page.click("#tabs a[data-view=plans]")

    # a long solve, watched and cancelled: it keeps the best schedule found so far
    page.fill("#plan-time-limit", "120")
    page.click("#plan-start")
    facts = page.locator("#plan-progress-facts")
    expect(facts).to_have_attribute("data-status", "running")
    long_id = page.locator("#plan-table tbody tr").first.get_attribute("data-plan")
    page.click("#plan-progress-cancel")
    expect(facts).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(page.locator(f"#plan-table tr[data-plan='{long_id}']")).to_have_attribute("data-status", "cancelled")
    assert service.http.get(f"/v1/plans/{long_id}").json()["status"] == "cancelled"

    page.fill("#plan-time-limit", "3")
    page.select_option("#plan-baseline", "current")
    page.click("#plan-start")
    expect(page.locator("#plan-progress-title")).not_to_contain_text(long_id)
    expect(facts).to_have_attribute("data-status", "succeeded", timeout=60_000)
    plan_id = page.locator("#plan-table tbody tr").first.get_attribute("data-plan")
    assert plan_id and plan_id != service.published

    # finished: compared with the published plan, KPI by KPI, and the orders that moved
    compare = page.locator("#plan-compare")
    # eight KPIs, and three more for the sample's changeovers and caps (changeover hours, busiest
    # inspection and dispatch days)
    expect(compare.locator("table.kpis tr[data-kpi]")).to_have_count(11)
    mine = service.http.get(f"/v1/plans/{plan_id}/schedule").json()
    was = {o["order_id"]: (o["line_id"], o["production_start"]) for o in before["orders"]}
    moved = sum(
        1
        for o in mine["orders"]
        if was.get(o["order_id"], (o["line_id"], o["production_start"])) != (o["line_id"], o["production_start"])
    )
    expect(compare.locator(".moved-count")).to_have_attribute("data-moved", str(moved))
    assert page.evaluate("document.querySelector('#plan-chart').width") > 0
    screenshot(tab, "plans")

    page.click(f"#plan-table button[data-action=publish][data-plan='{plan_id}']")
    expect(page.locator("#flash")).to_contain_text(f"方案 {plan_id} 已发布")
    expect(page.locator(f"#plan-table tr[data-plan='{plan_id}'] .tag.published")).to_be_visible()
    assert service.http.get(f"/v1/plans/{plan_id}").json()["published"] is True
    page.click("#tabs a[data-view=gantt]")
    page.wait_for_selector(f"body[data-gantt-ready='{plan_id}']")
    expect(page.locator("#gantt-chart")).to_have_attribute("data-orders", str(len(mine["orders"])))
    service.published = plan_id
    tab.assert_clean()


def test_sales_sees_no_planner_actions_and_english_labels(tab: Tab, service: Service) -> None:
    page = tab.page
    page.goto(service.url + "/")
    page.fill("#signin-key", "not-a-key")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text("密钥无效，请重试。")
    assert page.evaluate("sessionStorage.getItem('paichan.apiKey')") is None
    tab.assert_clean("401")  # the browser reports the refused whoami itself
    tab.errors.clear()

    sign_in(tab, service, SALES_KEY)
    expect(page.locator("#who")).to_contain_text("销售")
    expect(page.locator("#may-list li")).to_have_count(3)
    page.select_option("#lang", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#tabs a[data-view=gantt]")).to_have_text("Gantt")
    expect(page.locator("#gantt-summary")).to_contain_text("orders")
    screenshot(tab, "gantt-en")
    page.click("#tabs a[data-view=plans]")
    expect(page.locator("#plan-form")).to_be_hidden()  # no solve for sales
    expect(page.locator("#plan-table tbody tr").first).to_be_visible()
    assert page.locator("#plan-table button[data-action=publish]").count() == 0
    assert page.locator("#plan-table button[data-action=cancel]").count() == 0
    screenshot(tab, "plans-sales-en")
    page.click("#signout")
    expect(page.locator("#signin")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('paichan.apiKey')") is None
    tab.assert_clean()


# -- order review (issue #11): capacity and rules apart, alternatives, no English in Chinese --------

# What may stay in Latin letters on the Chinese review view, and why:
# * ids and codes, which carry a digit: products (HV-001), customers (C002), lines (L01),
#   materials (M001), plans and quotes (hex); removed with the ids the test itself knows;
# * ISO dates (2027-01-15);
# * abbreviations the planners use as they are: API, ID, CSV.
ALLOWED = {"API", "ID", "CSV"}
CODE = re.compile(r"[A-Za-z0-9_.-]*\d[A-Za-z0-9_.-]*")
WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str, known_ids: set[str]) -> list[str]:
    for known in sorted(known_ids, key=len, reverse=True):
        text = text.replace(known, " ")
    text = CODE.sub(" ", text)
    return [w for w in WORD.findall(text) if w not in ALLOWED]


def fixed_answer(service: Service, request: dict[str, Any]) -> dict[str, Any]:
    response = service.http.post("/v1/feasibility", json=request | {"resequence": False})
    assert response.status_code == 200, response.text
    return response.json()


def review(tab: Tab, request: dict[str, Any]) -> Any:
    page = tab.page
    page.fill("#review-product", request["product_id"])
    page.fill("#review-quantity", str(request["quantity"]))
    page.fill("#review-due", request["due_date"])
    page.select_option("#review-type", request.get("order_type", "regular"))
    if "deposit_ratio" in request:
        page.fill("#review-deposit", str(request["deposit_ratio"]))
    result = page.locator("#review-result")
    result.evaluate("element => element.removeAttribute('data-state')")
    page.click("#review-submit")
    expect(result).to_have_attribute("data-state", "answered")
    return result


def a_missed_date(service: Service) -> dict[str, Any]:
    """A request whose date capacity misses though part of it can be delivered on time."""
    one = fixed_answer(service, {"product_id": "HV-001", "quantity": 1, "due_date": "2030-01-01"})
    due = one["earliest_delivery_fixed"]
    seen = []
    for quantity in (2, 3, 5, 8, 12, 20, 30, 60):
        request = {"product_id": "HV-001", "quantity": quantity, "due_date": due}
        alternatives = fixed_answer(service, request)["alternatives"]
        if alternatives and alternatives["by_due_date"]:
            return request
        seen.append((quantity, alternatives))
    raise AssertionError(f"no quantity of HV-001 misses the date of a single unit ({due}) in part: {seen}")


def test_review_shows_capacity_and_rules_apart_and_the_alternatives_in_chinese(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    page.click("#tabs a[data-view=review]")

    # a special order with no deposit that capacity can make: capacity allows, a rule blocks
    due = fixed_answer(service, {"product_id": "HV-001", "quantity": 4, "due_date": "2030-01-01"})
    special = {
        "product_id": "HV-001",
        "quantity": 4,
        "due_date": due["earliest_delivery_fixed"],
        "order_type": "special",
        "deposit_ratio": 0,
    }
    result = review(tab, special)
    verdict = result.locator(".verdict")
    expect(verdict).to_have_attribute("data-feasible", "false")
    expect(verdict).to_have_text("产能允许，但规则阻止")
    assert "feasible" not in (verdict.get_attribute("class") or "").split()  # never green while a rule blocks
    expect(result.locator("[data-part=capacity]")).to_have_text("产能允许：可以按期交付")
    expect(result.locator("[data-part=rules]")).to_have_text("规则阻止：特殊订单定金")
    deposit = result.locator("ul.checks li[data-rule=special_order_deposit]")
    expect(deposit).to_have_attribute("data-blocking", "true")
    expect(deposit).to_contain_text("已付 0%")
    screenshot(tab, "review-blocked")

    # a missed date: the earliest date for all of it, the most by the date, and the split
    request = a_missed_date(service)
    answer = fixed_answer(service, request)
    alternatives = answer["alternatives"]
    result = review(tab, request)
    # the page also re-sequences, which may meet the date the fixed answer misses; the
    # alternatives are those of the fixed answer either way
    capacity = result.locator("[data-part=capacity]")
    expect(capacity).to_have_text(re.compile("^产能(不)?允许"))
    expect(result.locator("[data-part=rules]")).to_have_text("规则通过")
    full = alternatives["full_quantity"]["delivery_date"]  # None: all of it does not fit in the horizon
    expect(result.locator("li[data-alt=full]")).to_contain_text(
        full or f"全部 {request['quantity']} 件在计划期内排不下"
    )
    by_due = alternatives["by_due_date"]
    expect(result.locator("li[data-alt=by_due_date]")).to_contain_text(f"最多可交付 {by_due['quantity']} 件")
    split = alternatives["split"]  # None when the rest does not fit after the first part
    if split is None:
        expect(result.locator("li[data-alt=split]")).to_have_count(0)
    else:
        expect(result.locator("li[data-alt=split]")).to_contain_text(
            f"先交 {split['first']['quantity']} 件（{split['first']['delivery_date']}），"
            f"其余 {split['rest']['quantity']} 件 {split['rest']['delivery_date']} 交付"
        )
    expect(result.locator("ul.binding li")).to_have_count(len(answer["binding"]))
    screenshot(tab, "review-alternatives")

    # nothing English in the Chinese review view: reasons, checks, notes, alternatives, labels
    dataset = service.http.get("/v1/dataset").json()
    known = {request["product_id"], answer["plan_id"], service.published}
    known |= {row["line_id"] for row in dataset["lines"]} | {row["material_id"] for row in dataset["materials"]}
    for shown in (request, special):
        review(tab, shown)
        text = page.inner_text("section.view[data-view=review]")
        assert english_words(text, known) == [], text
    tab.assert_clean()


def test_a_422_lists_its_problems(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    page.click("#tabs a[data-view=review]")
    page.fill("#review-product", "NO-SUCH-PRODUCT")
    page.fill("#review-quantity", "3")
    page.fill("#review-due", "2027-01-15")
    page.click("#review-submit")
    flash = page.locator("#flash")
    expect(flash).to_contain_text("请求有 1 个问题")
    expect(flash.locator("li")).to_have_text(["$.product_id: 未知产品“NO-SUCH-PRODUCT”"])
    tab.assert_clean("422")  # the browser reports the refused request itself
