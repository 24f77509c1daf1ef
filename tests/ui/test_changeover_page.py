"""The planner page with changeovers and inspection / dispatch caps (issue #15).

Its own server on a generated plant with product families, changeovers and caps of 3 orders a day, planned (5 s)
and published: the Gantt draws a run's changeover as a hatched leading segment named in the
hover card, the daily work list says "换型 60 分钟 → 开工", the KPI strip gives the changeover
hours per line and the busiest inspection / dispatch day against the cap, and the new reasons
are worded, none of it in English in Chinese mode.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from solver import io
from solver.generate import generate_dataset
from tests.ui import test_planner_page as planner_page
from tests.ui.served import solved_plan, uvicorn_service
from tests.ui.test_planner_page import PLANNER, PLANNER_KEY, Service, Tab, english_words, expect, screenshot, sign_in

browser, tab = planner_page.browser, planner_page.tab  # the shared browser fixtures


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("ui-changeover")
    with (
        uvicorn_service(folder, f"planner:{PLANNER_KEY}") as (url, log),
        httpx.Client(base_url=url, headers=PLANNER, timeout=60) as http,
    ):
        dataset = generate_dataset(
            60, 4, 30, 1, changeovers="family", inspection_orders_per_day=3, dispatch_orders_per_day=3
        )
        assert http.put("/v1/dataset", json=io.dataset_document(dataset)).status_code == 200
        service = Service(url, http, log=log)
        service.published = solved_plan(http, 5)
        assert http.post(f"/v1/plans/{service.published}/publish").status_code == 200
        yield service


@pytest.fixture(scope="module")
def plan(service: Service) -> dict[str, Any]:
    """The published schedule, the dataset it was made from and the daily rows; checked to have changeovers."""
    schedule = service.schedule()
    dataset = service.http.get("/v1/dataset").json()
    daily = service.http.get(
        f"/v1/plans/{service.published}/schedule", params={"format": "daily"}, headers={"Accept": "application/json"}
    ).json()
    changed = [o for o in schedule["orders"] if o["changeover_minutes"] > 0]
    assert changed, "the generated plant's plan has no changeover: nothing to show"
    assert "changeover_hours_by_line" in schedule["kpis"] and "inspections_per_day" in schedule["kpis"]
    return {"schedule": schedule, "dataset": dataset, "daily": daily, "changed": changed}


def families_of_changeovers(schedule: dict[str, Any], dataset: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each changeover's (from family, to family), per PROBLEM.md "Changeovers"."""
    family = {p["product_id"]: p.get("family", "") for p in dataset["products"]}
    initial = {line["line_id"]: line.get("initial_family", "") for line in dataset["lines"]}
    result = {}
    for line_id in {o["line_id"] for o in schedule["orders"]}:
        current = initial.get(line_id, "")
        for o in sorted((o for o in schedule["orders"] if o["line_id"] == line_id), key=lambda o: o["sequence"]):
            own = family.get(o["product_id"], "")
            if o["changeover_minutes"] > 0:
                result[o["order_id"]] = (current, own)
            current = own or current
    return result


def changeover_share(o: dict[str, Any], day_start: str) -> float:
    """The changeover's share of the run's bar (calendar time from its start to its end)."""
    hours, minutes = map(int, day_start.split(":"))
    at = lambda date, m: dt.datetime.fromisoformat(date) + dt.timedelta(minutes=hours * 60 + minutes + m)  # noqa: E731
    start, end = at(o["production_start"], o["start_minute"]), at(o["production_end"], o["end_minute"])
    left = o["changeover_minutes"]
    for number, allocation in enumerate(o["allocations"]):
        offset = o["start_minute"] if number == 0 else 0
        if left <= allocation["minutes"]:
            return (at(allocation["date"], offset + left) - start) / (end - start)
        left -= allocation["minutes"]
    return 1.0


def known_words(service: Service, plan: dict[str, Any]) -> set[str]:
    """Ids and codes, and the Latin letters of the planners' own names (model codes such as KYN28A)."""
    dataset = plan["dataset"]
    known = {service.published} | {o["order_id"] for o in plan["schedule"]["orders"]}
    for table, key in (("lines", "line_id"), ("materials", "material_id"), ("products", "product_id")):
        known |= {row[key] for row in dataset.get(table, [])}
    for table in ("lines", "materials", "products", "customers"):
        for row in dataset.get(table, []):
            known |= set(re.findall(r"[A-Za-z]+", (row.get("name") or "") + " " + (row.get("family") or "")))
    return known


BAR = """(bar) => ({classes: [...bar.classList], share: parseFloat(bar.style.getPropertyValue('--co')),
    image: getComputedStyle(bar).backgroundImage, size: getComputedStyle(bar).backgroundSize,
    width: bar.getBoundingClientRect().width})"""


def test_the_gantt_draws_a_changeover_as_the_runs_hatched_leading_segment(
    tab: Tab, service: Service, plan: dict[str, Any]
) -> None:
    page = tab.page
    sign_in(tab, service)
    schedule, dataset = plan["schedule"], plan["dataset"]
    target = plan["changed"][0]
    families = families_of_changeovers(schedule, dataset)[target["order_id"]]
    page.evaluate("(id) => window.paichan.gantt.select(id)", target["order_id"])
    bar = page.locator("#gantt-chart .vis-item.run.vis-selected")
    expect(bar).to_have_count(1)
    seen = bar.evaluate(BAR)
    assert "co" in seen["classes"], seen
    assert "repeating-linear-gradient" in seen["image"], seen
    expected = changeover_share(target, dataset["plant"].get("day_start", "08:00"))
    assert seen["share"] == pytest.approx(expected * 100, abs=0.02), (seen, expected)
    # the hatch layer is sized to that share of the bar (at least a few pixels)
    hatched = re.search(r"([\d.]+)%", seen["size"])
    assert hatched and float(hatched.group(1)) == pytest.approx(seen["share"], abs=0.01), seen

    # the hover card names the changeover, its minutes and the families it changes between
    bar.hover(position={"x": 2, "y": 8})
    card = page.locator(".gantt-tip")
    expect(card).to_be_visible()
    words = f"换型 {target['changeover_minutes']} 分钟（{families[0]}→{families[1]}）"
    expect(card.locator(".co-tip")).to_have_text(words)
    expect(page.locator("[data-view=gantt] .legend")).to_contain_text("换型")
    screenshot(tab, "gantt-changeover")
    texts = [card.inner_text(), page.locator("#plan-kpis").inner_text()]

    # a run without a changeover has no segment
    plain = next(o for o in schedule["orders"] if o["changeover_minutes"] == 0)
    page.mouse.move(0, 0)
    page.evaluate("(id) => window.paichan.gantt.select(id)", plain["order_id"])
    assert "co" not in page.locator("#gantt-chart .vis-item.run.vis-selected").evaluate(BAR)["classes"]

    # the KPI strip: changeover hours per line, the busiest inspection and dispatch day against the cap
    kpis = schedule["kpis"]
    strip = page.locator("#plan-kpis")
    expect(strip).to_be_visible()
    for line_id, hours in kpis["changeover_hours_by_line"].items():
        expect(strip.locator(f"[data-line='{line_id}']")).to_contain_text(f"{hours:g} 小时")
    for key in ("inspections_per_day", "dispatches_per_day"):
        busiest = kpis[key]
        shown = strip.locator(f"[data-kpi='{key}']")
        expect(shown).to_contain_text(
            f"{busiest['busiest_date']}：{busiest['busiest_orders']} 单（上限 {busiest['cap']} 单）"
        )
    known = known_words(service, plan)
    for text in texts:
        assert english_words(text, known) == [], text
    tab.assert_clean()


def test_the_work_list_shows_the_changeover_before_the_run(tab: Tab, service: Service, plan: dict[str, Any]) -> None:
    page = tab.page
    sign_in(tab, service)
    row = next(r for r in plan["daily"] if r["changeover_minutes"] > 0)
    page.click("#tabs a[data-view=worklist]")
    expect(page.locator("#worklist-lines .worklist-line").first).to_be_visible()
    page.fill("#worklist-date", row["date"])
    table = page.locator(f".worklist-line[data-line='{row['line_id']}']")
    cell = table.locator(f"tr[data-order='{row['order_id']}'] td.changeover").first
    expect(cell).to_have_text(f"换型 {row['changeover_minutes']} 分钟 → 开工")
    expect(table.locator("thead")).to_contain_text("换型")
    # a run of that day without a changeover says nothing there
    others = [r for r in plan["daily"] if r["date"] == row["date"] and r["changeover_minutes"] == 0]
    for other in others:
        expect(page.locator(f"tr[data-order='{other['order_id']}'] td.changeover").first).to_have_text("")
    screenshot(tab, "worklist-changeover")
    text = page.locator("#worklist-lines").inner_text()
    assert english_words(text, known_words(service, plan)) == [], text
    tab.assert_clean()


# the new reasons as the engine gives them: why late (solver/solution.py) and order review (solver/promise.py)
REASONS = [
    {"kind": "changeover", "line_id": "L01", "minutes": 60, "after_order": "SO-1"},
    {"kind": "changeover", "line_id": "L01", "minutes": 60},
    {"kind": "inspection_cap", "date": "2026-12-03", "cap": 3},
    {"kind": "dispatch_cap", "date": "2026-12-04", "cap": 3},
    {
        "kind": "changeover",
        "line_id": "L01",
        "from_family": "环网柜",
        "to_family": "高压开关柜",
        "minutes": 235,
        "would_deliver": "2026-12-10",
        "detail": "235 minutes of changeover on line L01 in front of the run",
    },
    {
        "kind": "changeover",
        "line_id": "L02",
        "minutes": 0,
        "would_deliver": "2026-12-10",
        "detail": "an earlier run would change the changeover of a committed run behind it",
    },
    *(
        {"kind": kind, "date": "2026-12-03", "orders": 3, "cap": 3, "would_deliver": "2026-12-09", "detail": "full"}
        for kind in ("inspection_capacity", "dispatch_capacity")
    ),
]
WORDED = """async ([url, reasons, lang]) => {
    const i18n = await import(url + '/static/js/i18n.js');
    const util = await import(url + '/static/js/util.js');
    i18n.setLanguage(lang);
    return reasons.map(util.reasonText);
}"""


def test_the_new_reasons_are_worded_in_both_languages(tab: Tab, service: Service, plan: dict[str, Any]) -> None:
    page = tab.page
    sign_in(tab, service)
    # the plan's own late reasons of the new kinds, and one of each kind as the engine words them
    own = [
        r
        for o in plan["schedule"]["orders"]
        for r in o.get("binding", [])
        if r["kind"] in ("changeover", "inspection_cap", "dispatch_cap")
    ]
    reasons = REASONS + own[:10]
    zh = page.evaluate(WORDED, [service.url, reasons, "zh"])
    known = known_words(service, plan)
    for reason, text in zip(reasons, zh, strict=True):
        assert "{" not in text and english_words(text, known) == [], (reason, text)
    assert "SO-1" in zh[0] and "60 分钟" in zh[0]
    assert "环网柜→高压开关柜" in zh[4] and "2026-12-10" in zh[4]
    assert "检验日 2026-12-03 已满" in zh[6] and "2026-12-09" in zh[6]
    assert "发货日 2026-12-03 已满" in zh[7]
    en = page.evaluate(WORDED, [service.url, reasons, "en"])
    for reason, text in zip(reasons, en, strict=True):
        assert "{" not in text and not text.startswith(reason["kind"] + ":"), (reason, text)
    assert en[4].startswith("a 235 min changeover (环网柜→高压开关柜) on line L01")
    tab.assert_clean()
