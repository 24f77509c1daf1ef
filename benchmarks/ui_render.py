"""How long the planner page takes to show the Gantt of a large published plan.

Starts the real server (uvicorn, SQLite in a temporary folder), loads a generated
plant, plans it, publishes it, then opens ``/`` in headless chromium (the system's ``/usr/bin/chromium``,
driven by Playwright) several times, each in a fresh browser context (nothing
cached), and prints:

* *first render*: from the start of navigation to the Gantt drawn (the page sets
  ``body[data-gantt-ready]`` once vis-timeline has put the bars on the page), with
  the key already in the tab's session, as for a planner who reloads the page;
* *after sign-in*: from pressing "sign in" to the Gantt drawn;
* the parts: fetching the schedule document, drawing it, and redrawing the whole
  horizon ("all" button) instead of the two weeks the page opens on;
* search: typing an order id into the Gantt's search box until its bar is selected
  and the order view shows it.

By default two plants, one after the other: 2,000 orders × 20 lines × 90 days (seed 4,
solved 20 s) and 10,000 × 50 × 120 (seed 5, solved briefly: 30 s).

    python -m benchmarks.ui_render
    python -m benchmarks.ui_render --plants 300x8x90x3:10 --runs 3

A measurement, not a test: nothing is asserted (targets: ≤ 2 s at 2,000 orders, ≤ 4 s at 10,000).
"""

from __future__ import annotations

import argparse
import statistics

import httpx

from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS, GANTT_READY, plan_and_publish, served, wait_healthy
from solver import io
from solver.generate import generate_dataset

KEY = "ui-bench-planner-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plants", default="2000x20x90x4:20,10000x50x120x5:30", help="ORDERSxLINESxDAYSxSEED:SECONDS, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for plant in args.plants.split(","):
        spec, _, seconds = plant.partition(":")
        dataset = generate_dataset(*[int(part) for part in spec.split("x")])
        document = io.dataset_document(dataset)
        with served(KEY) as (base, _):
            plan_id, size, orders, probe = publish_plan(base, document, float(seconds or 20))
            print(f"\n{spec}: plan {plan_id}, {orders} orders scheduled, schedule document {size / 1e6:.2f} MB")
            report(measure(base, args.runs, probe))


def publish_plan(base: str, document: dict, time_limit: float) -> tuple[str, int, int, str]:
    """The plan's id, its schedule document's size, its orders, and an order to search for (the last one)."""
    with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=300) as client:
        wait_healthy(client)
        plan_id = plan_and_publish(client, document, time_limit)
        schedule = client.get("/v1/plans/current/schedule")
        orders = schedule.json()["orders"]
        probe = max(orders, key=lambda o: o["production_start"])["order_id"]  # far outside the opening window
        return plan_id, len(schedule.content), len(orders), probe


SEARCH = """(orderId) => new Promise((done) => {
    const started = performance.now();
    const panel = document.querySelector("#gantt-details");
    const seen = () => panel.dataset.order === orderId && !panel.hidden;
    const watch = () => (seen() ? done(performance.now() - started) : requestAnimationFrame(watch));
    document.querySelector("#gantt-search").value = orderId;
    document.querySelector("#gantt-search-form").requestSubmit();
    watch();
})"""


def measure(base: str, runs: int, probe: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {
        "first render (navigation → Gantt drawn)": [],
        "after sign-in (click → Gantt drawn)": [],
        "GET schedule in the page": [],
        "draw (vis-timeline)": [],
        "redraw the whole horizon (All)": [],
        "search an order id → bar selected, order view open": [],
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(runs):
            # a planner reloading the tab: the key is in its session, the page draws at once
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.add_init_script(f"sessionStorage.setItem('paichan.apiKey', {KEY!r})")
            page = context.new_page()
            page.goto(base + "/")
            page.wait_for_selector(GANTT_READY, timeout=60_000)
            timings = page.evaluate("window.paichan.timings")
            results["first render (navigation → Gantt drawn)"].append(timings["ganttReadyMs"])
            results["GET schedule in the page"].append(timings["scheduleFetchMs"])
            results["draw (vis-timeline)"].append(timings["ganttDrawMs"])
            results["redraw the whole horizon (All)"].append(
                page.evaluate(
                    """() => new Promise((done) => {
                        const started = performance.now();
                        window.paichan.gantt.timeline.once("changed", () => done(performance.now() - started));
                        document.querySelector("#gantt-fit").click();
                    })"""
                )
            )
            results["search an order id → bar selected, order view open"].append(page.evaluate(SEARCH, probe))
            context.close()

            # signing in through the form
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = context.new_page()
            page.goto(base + "/")
            page.fill("#signin-key", KEY)
            started = page.evaluate("performance.now()")
            page.click("#signin-form button[type=submit]")
            page.wait_for_selector(GANTT_READY, timeout=60_000)
            results["after sign-in (click → Gantt drawn)"].append(
                page.evaluate("window.paichan.timings.ganttReadyMs") - started
            )
            context.close()
        browser.close()
    return results


def report(results: dict[str, list[float]]) -> None:
    print("| step | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |")


if __name__ == "__main__":
    main()
