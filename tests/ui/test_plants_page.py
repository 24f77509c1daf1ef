"""Plants in the planner page (issue #14): the header's plant selector, the group's order review
side by side with a hold at the plant chosen, a key limited to one plant, no English in Chinese.

A server of this module's own (the planner page's has no key limited to a plant): plant
``default`` holds the small generated dataset, plant ``B`` the same lines twice as fast and no
orders of its own, so that B delivers a new order first; both planned and published. The
browser and the page helpers are those of ``test_planner_page``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from benchmarks.serving import GANTT_READY
from solver import io
from solver.generate import generate_dataset
from tests.ui import test_planner_page as planner_page
from tests.ui.served import solved_plan, uvicorn_service
from tests.ui.test_planner_page import Tab, english_words, expect, review, screenshot

browser, tab = planner_page.browser, planner_page.tab  # the planner page tests' browser and fresh tabs

PLANNER_KEY, SALES_KEY, B_KEY = "ui-plants-planner", "ui-plants-sales", "ui-plants-planner-b"
KEYS = f"planner:{PLANNER_KEY},sales:{SALES_KEY},planner@B:{B_KEY}"


@dataclass
class Group:
    url: str
    http: httpx.Client  # the planner's key: every plant
    document: dict[str, Any]  # the default plant's dataset
    published: dict[str, str]  # plant → its published plan

    def plant(self, plant_id: str, path: str) -> Any:
        """GET ``/v1/plants/{plant_id}{path}``, the answer's JSON."""
        response = self.http.get(f"/v1/plants/{plant_id}{path}")
        assert response.status_code == 200, response.text
        return response.json()

    def ask(self) -> dict[str, Any]:
        """A new order both plants can make, which B, faster and empty, delivers first."""
        start = dt.date.fromisoformat(self.document["plant"]["plan_start"])
        return {
            "product_id": self.document["orders"][0]["product_id"],
            "quantity": 10,
            "due_date": (start + dt.timedelta(days=3)).isoformat(),
        }


def solve_and_publish(http: httpx.Client, plant_id: str) -> str:
    prefix = f"/v1/plants/{plant_id}"
    plan_id = solved_plan(http, 3, prefix)
    assert http.post(f"{prefix}/plans/{plan_id}/publish").status_code == 200
    return plan_id


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Group]:
    """uvicorn on a free port with plants ``default`` and ``B``, each planned and published."""
    folder = tmp_path_factory.mktemp("ui-plants")
    with (
        uvicorn_service(folder, KEYS) as (url, _log),
        httpx.Client(base_url=url, headers={"X-API-Key": PLANNER_KEY}, timeout=60) as http,
    ):
        document = io.dataset_document(generate_dataset(30, 2, 30, 1)) | {"bom": []}  # capacity decides
        fast = document | {"orders": []}
        fast["routings"] = [dict(r, units_per_hour=r["units_per_hour"] * 2) for r in document["routings"]]
        for plant_id, loaded in (("default", document), ("B", fast)):
            response = http.put(f"/v1/plants/{plant_id}/dataset", json=loaded)
            assert response.status_code == 200, response.text
        published = {plant_id: solve_and_publish(http, plant_id) for plant_id in ("default", "B")}
        yield Group(url, http, document, published)


def sign_in(tab: Tab, group: Group, key: str = PLANNER_KEY) -> None:
    page = tab.page
    page.goto(group.url + "/")
    page.fill("#signin-key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector(GANTT_READY)


def api_calls(tab: Tab) -> list[str]:
    """The paths of the service's /v1 calls the page makes from now on."""
    calls: list[str] = []
    tab.page.on("request", lambda request: calls.append(httpx.URL(request.url).raw_path.decode()))
    return calls


def test_the_switcher_lists_the_plants_and_every_view_follows_the_one_chosen(tab: Tab, group: Group) -> None:
    page = tab.page
    sign_in(tab, group)
    switch = page.locator("#plant-switch")
    expect(switch).to_be_visible()
    options = page.locator("#plant option")
    expect(options).to_have_count(2)
    assert [options.nth(i).get_attribute("value") for i in range(2)] == ["default", "B"]
    expect(options.first).to_contain_text("默认")  # the default plant marked
    expect(options.nth(1)).not_to_contain_text("默认")
    expect(page.locator("#plant")).to_have_value("default")
    default_orders = len(group.plant("default", "/plans/current/schedule")["orders"])
    assert default_orders > 0
    expect(page.locator("body")).to_have_attribute("data-gantt-ready", group.published["default"])
    expect(page.locator("#gantt-chart")).to_have_attribute("data-orders", str(default_orders))

    calls = api_calls(tab)
    page.select_option("#plant", "B")
    expect(page.locator("body")).to_have_attribute("data-gantt-ready", group.published["B"])
    expect(page.locator("#gantt-chart")).to_have_attribute("data-orders", "0")  # B has no orders of its own
    expect(page.locator("#source")).to_have_value(group.published["B"])
    expect(page.locator(f"#source option[value='{group.published['default']}']")).to_have_count(0)
    plant_calls = [c for c in calls if c.startswith("/v1/") and not c.startswith(("/v1/plants", "/v1/whoami"))]
    assert plant_calls == [], f"calls not under /v1/plants/B after switching: {plant_calls}"
    assert any(c.startswith("/v1/plants/B/plans") for c in calls), calls
    assert page.evaluate("sessionStorage.getItem('paichan.plant')") == "B"

    # the plans view lists B's plans only
    page.click("#tabs a[data-view=plans]")
    expect(page.locator(f"#plan-table tr[data-plan='{group.published['B']}']")).to_be_visible()
    expect(page.locator(f"#plan-table tr[data-plan='{group.published['default']}']")).to_have_count(0)
    screenshot(tab, "plants-plans-b")

    # a reload keeps the plant (and the view)
    page.click("#tabs a[data-view=gantt]")
    page.reload()
    page.wait_for_selector(GANTT_READY)
    expect(page.locator("body")).to_have_attribute("data-gantt-ready", group.published["B"])
    expect(page.locator("#plant")).to_have_value("B")
    expect(page.locator("#gantt-chart")).to_have_attribute("data-orders", "0")

    # and back: the default plant's plan again
    page.select_option("#plant", "default")
    expect(page.locator("body")).to_have_attribute("data-gantt-ready", group.published["default"])
    expect(page.locator("#gantt-chart")).to_have_attribute("data-orders", str(default_orders))
    tab.assert_clean()


def test_the_group_review_shows_the_plants_side_by_side_and_holds_at_the_one_chosen(tab: Tab, group: Group) -> None:
    page = tab.page
    sign_in(tab, group, SALES_KEY)  # the page stays on the default plant: the group answers anyway
    page.click("#tabs a[data-view=review]")
    ask = group.ask()
    response = group.http.post("/v1/feasibility", json=ask | {"resequence": False})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [p["plant_id"] for p in answer["plants"]] == ["B", "default"], answer["plants"]
    b, default = answer["plants"]
    assert b["earliest_delivery_fixed"] < default["earliest_delivery_fixed"]

    result = review(tab, ask)
    cards = result.locator(".plant-answer")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-plant", "B")  # earliest first
    expect(cards.first).to_have_attribute("data-earliest", "true")
    expect(cards.first.locator(".tag.earliest")).to_have_text("最早")
    expect(cards.nth(1)).to_have_attribute("data-plant", "default")
    expect(cards.nth(1).locator(".tag.earliest")).to_have_count(0)
    for card, plant in ((cards.first, b), (cards.nth(1), default)):
        expect(card).to_contain_text(plant["earliest_delivery_fixed"])
        expect(card).to_contain_text(plant["promised_delivery"])
        # the page also re-sequences, which may meet a date the fixed answer misses: never the other way
        if plant["feasible"]:
            expect(card).to_have_attribute("data-feasible", "true")
        verdict = (
            "可以按期交付" if card.get_attribute("data-feasible") == "true" else "不能按期交付|产能允许，但规则阻止"
        )
        expect(card.locator(".plant-verdict")).to_have_text(re.compile(f"^({verdict})$"))
        expect(card.locator("ul.plant-binding li")).to_have_count(max(1, len(plant["binding"])))
    expect(result.locator(".plant-note")).to_have_attribute("data-plant", "B")  # the details below are B's
    expect(result.locator("table.facts").nth(2)).to_contain_text(b["earliest_delivery_fixed"])
    expect(page.locator("#review-hold")).to_be_hidden()  # one hold button per plant instead
    expect(page.locator("#review-hold-box")).to_be_visible()
    screenshot(tab, "plants-review")

    # hold at B: B's ledger holds it, the default plant's does not
    page.fill("#review-hold-hours", "2")
    page.click("#review-result button[data-hold-plant=B]")
    held = page.locator("#review-held")
    expect(held).to_contain_text("已锁定报价")
    expect(held).to_have_attribute("data-plant", "B")
    quote_id = held.get_attribute("data-quote")
    expect(held).to_contain_text(b["promised_delivery"])
    b_quotes = group.plant("B", "/quotes")
    assert [q["quote_id"] for q in b_quotes] == [quote_id]
    assert group.plant("default", "/quotes") == []
    expect(page.locator("#review-result button[data-hold-plant]:enabled")).to_have_count(0)  # held once
    row = page.locator(f"#quote-table tr[data-quote='{quote_id}']")
    expect(row).to_have_attribute("data-plant", "B")
    expect(row.locator("td.plant")).to_have_text("B")
    expect(page.locator("#quote-plant-head")).to_be_visible()
    screenshot(tab, "plants-review-held")

    # released from the table: at B, where it lies
    row.locator("button[data-action=release]").click()
    expect(row).to_have_count(0)
    assert group.plant("B", "/quotes") == []
    tab.assert_clean()


def test_a_key_limited_to_b_starts_on_b(tab: Tab, group: Group) -> None:
    page = tab.page
    calls = api_calls(tab)
    sign_in(tab, group, B_KEY)  # the plain paths would answer 403: the page must start on B
    expect(page.locator("body")).to_have_attribute("data-gantt-ready", group.published["B"])
    expect(page.locator("#gantt-chart")).to_have_attribute("data-orders", "0")
    expect(page.locator("#plant-switch")).to_be_hidden()  # one plant: no selector
    expect(page.locator("#plant option[value=default]")).to_have_count(0)
    plain = [c for c in calls if c.startswith("/v1/") and not c.startswith(("/v1/plants", "/v1/whoami"))]
    assert plain == [], plain

    # order review answers for B alone, as it does for one plant
    page.click("#tabs a[data-view=review]")
    result = review(tab, group.ask())
    expect(result.locator(".plant-answer")).to_have_count(0)
    expect(result.locator(".plant-note")).to_have_count(0)
    expect(result).to_contain_text(group.published["B"])
    expect(page.locator("#review-hold")).to_be_visible()
    expect(page.locator("#quote-plant-head")).to_be_hidden()
    tab.assert_clean()


def test_the_plant_parts_show_no_english_in_chinese_and_english_in_english(tab: Tab, group: Group) -> None:
    page = tab.page
    sign_in(tab, group)
    page.click("#tabs a[data-view=review]")
    ask = group.ask()
    result = review(tab, ask)
    expect(result.locator(".plant-answer")).to_have_count(2)
    page.click("#review-result button[data-hold-plant=default]")
    held = page.locator("#review-held")
    expect(held).to_contain_text("（工厂 default（默认））")
    quote_id = held.get_attribute("data-quote")

    # ids the test knows may stay: plants (one of them is called "default"), plans, quote, lines
    known = {"default", "B", quote_id, ask["product_id"], *group.published.values()}
    known |= {row["line_id"] for row in group.document["lines"]}
    for part in ("#plant-switch", "section.view[data-view=review]"):
        text = page.inner_text(part)
        assert english_words(text, known) == [], f"English in {part}: {text}"
    expect(result).to_contain_text("各工厂答复（最早交付在前）")
    expect(result.locator(".plant-answer").first.locator("button")).to_be_disabled()

    page.select_option("#lang", "en")
    expect(page.locator("#plant-switch")).to_contain_text("Plant")
    expect(page.locator("#plant option").first).to_contain_text("(default)")
    expect(result).to_contain_text("Answers by plant (earliest delivery first)")
    expect(result.locator(".tag.earliest")).to_have_text("earliest")
    expect(page.locator("#quote-plant-head")).to_have_text("Plant")

    page.locator(f"#quote-table tr[data-quote='{quote_id}'] button[data-action=release]").click()
    expect(page.locator(f"#quote-table tr[data-quote='{quote_id}']")).to_have_count(0)
    assert group.plant("default", "/quotes") == []
    tab.assert_clean()
