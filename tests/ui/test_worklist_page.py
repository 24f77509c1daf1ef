"""The printable daily work list (每日作业): each line's runs of a day in run order, with times."""

from __future__ import annotations

from tests.ui import test_planner_page as planner_page
from tests.ui.test_planner_page import Service, Tab, expect, screenshot, sign_in

service, browser, tab = planner_page.service, planner_page.browser, planner_page.tab  # the shared fixtures


def test_a_day_of_work_per_line_in_run_order_and_printable(tab: Tab, service: Service) -> None:
    page = tab.page
    sign_in(tab, service)
    rows = service.http.get(
        f"/v1/plans/{service.published}/schedule", params={"format": "daily"}, headers={"Accept": "application/json"}
    ).json()
    first_day = min(r["date"] for r in rows)
    page.click("#tabs a[data-view=worklist]")
    expect(page.locator("#worklist-date")).to_have_value(first_day)
    that_day = [r for r in rows if r["date"] == first_day]
    lines = sorted({r["line_id"] for r in that_day})
    expect(page.locator("#worklist-lines .worklist-line")).to_have_count(len(lines))
    for line in lines:
        runs = [r for r in that_day if r["line_id"] == line]
        shown = page.locator(f".worklist-line[data-line='{line}'] tbody tr")
        expect(shown).to_have_count(len(runs))
        assert [shown.nth(i).get_attribute("data-order") for i in range(len(runs))] == [r["order_id"] for r in runs]
        expect(shown.first).to_contain_text(f"{runs[0]['start']}–{runs[0]['end']}")
    screenshot(tab, "worklist")

    page.select_option("#worklist-line", lines[0])
    expect(page.locator("#worklist-lines .worklist-line")).to_have_count(1)
    page.emulate_media(media="print")
    expect(page.locator("#tabs")).to_be_hidden()
    expect(page.locator("#worklist-print")).to_be_hidden()
    expect(page.locator("#worklist-lines .worklist-line")).to_be_visible()
    page.emulate_media(media="screen")
    tab.assert_clean()
