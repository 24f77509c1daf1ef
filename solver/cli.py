"""``paichan``: plan, check and generate datasets from the command line.

Exit codes: 0 done, 1 the schedule breaks a rule, 2 bad input (every
problem listed by file, row and column; never a traceback), 3 internal error
(one line), 130 interrupted; the service's commands (:mod:`api.cli`) add 4,
database unavailable.
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.monotonic()  # before the heavy imports: --time-limit counts them too

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solver import engine, io
from solver.domain import COLLECTION_DAYS, DatasetError
from solver.wording import say

app = typer.Typer(
    help="paichan (排产): production scheduling for make-to-order plants.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

CHECK_RESERVE_SECONDS = 0.3  # validating and writing the plan, inside --time-limit
EXIT_INVALID = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def print_problems(error: DatasetError) -> None:
    """Every problem of a bad input, one per line, located by file, row and column."""
    errors.print(f"[bold red]{len(error.problems)} problem(s) in the input:[/]")
    for problem in error.problems:
        errors.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)


def _bad_input(error: DatasetError) -> typer.Exit:
    print_problems(error)
    return typer.Exit(EXIT_BAD_INPUT)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log the solver's steps.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def solve(
    dataset: Annotated[Path, typer.Argument(help="CSV folder, .json document or .xlsx workbook.")],
    out: Annotated[Path | None, typer.Option(help="Write the schedule document (JSON) here.")] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Write orders.csv, daily_plan.csv, line_loads.csv, dispatch_plan.csv here.")
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option(help="Write the plan as one Excel workbook (orders, daily work, dispatch, ...).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the workbook: zh or en.")] = "zh",
    time_limit: Annotated[float, typer.Option(help="Seconds, everything included.", min=0.1)] = 30.0,
    workers: Annotated[int, typer.Option(help="CP-SAT worker threads.", min=1)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed of the search (an int32).", min=-(2**31), max=2**31 - 1)] = 0,
    previous: Annotated[Path | None, typer.Option(help="Previous schedule (JSON) for stable replanning.")] = None,
    frozen_days: Annotated[int | None, typer.Option(help="Frozen window in working days (default: plant's).")] = None,
    method: Annotated[str, typer.Option(help="auto (by size), exact (one CP-SAT model) or lns.")] = "auto",
    rounds: Annotated[
        int | None, typer.Option(help="Neighbourhood rounds instead of the clock: the same seed gives the same plan.")
    ] = None,
) -> None:
    """Plan a dataset and print the plan's summary."""
    if method not in ("auto", "exact", "lns"):
        errors.print(f"--method: {method!r} is not one of auto, exact, lns", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    if lang not in io.WORKBOOK_LANGUAGES:
        errors.print(f"--lang: {lang!r} is not one of {', '.join(io.WORKBOOK_LANGUAGES)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        data = io.load_dataset(dataset)
        baseline = io.load_schedule(previous) if previous else None
    except DatasetError as error:
        raise _bad_input(error) from None
    for warning in data.load_warnings:
        errors.print(f"[yellow]{say('warning')}:[/] {warning}", highlight=False, soft_wrap=True)
    budget = time_limit - (time.monotonic() - PROCESS_STARTED) - CHECK_RESERVE_SECONDS
    params = engine.SolveParams(
        time_limit=max(0.1, budget),
        workers=workers,
        seed=seed,
        frozen_days=frozen_days,
        method=method,
        lns_rounds=rounds,
        deterministic_time=engine.REPRODUCIBLE_SUBSOLVE_WORK if rounds is not None else None,
    )
    result = solve_with_progress(data, params, baseline)
    from solver.validation import validate_schedule

    violations = validate_schedule(data, result.schedule, previous=baseline, frozen_days=frozen_days)
    if out:
        io.write_schedule_json(result.schedule, out)
    if csv:
        io.write_schedule_csv(result.schedule, csv, data)
    if xlsx:
        io.write_schedule_workbook(result.schedule, data, xlsx, lang)
    print_summary(result, violations)
    if out:
        console.print(f"schedule written to {out}")
    if csv:
        console.print(f"orders.csv, daily_plan.csv, line_loads.csv and dispatch_plan.csv written to {csv}")
    if xlsx:
        console.print(f"workbook written to {xlsx}")
    if violations:
        raise typer.Exit(EXIT_INVALID)


def solve_with_progress(data: Any, params: engine.SolveParams, baseline: dict | None) -> engine.SolveResult:
    with progress_bar(params.time_limit) as show:
        return engine.solve(data, params, previous=baseline, progress=show)


@contextmanager
def progress_bar(time_limit: float) -> Iterator[Callable[[engine.Progress], None]]:
    """A progress bar on the terminal for a solve of ``time_limit`` seconds; yields its callback."""
    columns = (
        TextColumn("[bold]solving[/]"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("solve", total=time_limit, status="building the model")

        def show(progress: engine.Progress) -> None:
            if progress.objective:
                found = progress.objective
                status = (
                    f"{progress.solutions} plans · unscheduled {found['unscheduled_priority']}"
                    f" · weighted days late {found['weighted_days_late']}"
                )
                bar.update(task, completed=progress.elapsed, status=status)

        yield show
        bar.update(task, completed=time_limit)


def _stage_summary(stages: dict[str, str]) -> str:
    return (
        ", ".join(f"{say('stage.' + k)}: {say('status.' + v) if v.isupper() else v}" for k, v in stages.items()) or "-"
    )


def print_summary(result: engine.SolveResult, violations: list) -> None:
    schedule = result.schedule
    kpis = schedule["kpis"]
    for warning in schedule["warnings"]:
        console.print(f"[yellow]{say('warning')}:[/] {warning}", highlight=False, soft_wrap=True)
    table = Table(title=say("plan"), show_header=True)
    table.add_column(say("measure"))
    table.add_column(say("value"), justify="right")
    bound, objective = result.bound, result.objective
    rows = [
        (say("status"), say(f"status.{result.status}")),
        (say("stages"), _stage_summary(schedule.get("solver", {}).get("stages", {}))),
        (say("orders_planned"), kpis["orders_planned"]),
        (say("orders_late"), kpis["orders_late"]),
        (say("orders_unscheduled"), kpis["orders_unscheduled"]),
        (say("on_time_rate"), f"{kpis['on_time_rate']:.1%}"),
        (say("unscheduled_priority"), _with_bound(objective, bound, "unscheduled_priority")),
        (say("weighted_days_late"), _with_bound(objective, bound, "weighted_days_late")),
        (say("changed_orders"), objective["changed_orders"]),
        (say("holding_days", days=COLLECTION_DAYS), objective["holding_days"]),
        (say("edd"), result.baseline_objective["weighted_days_late"]),
        (say("seconds"), f"{result.seconds:.2f}"),
        (say("validator"), say("valid") if not violations else say("violations", n=len(violations))),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    loads = Table(title=say("utilisation"))
    loads.add_column(say("line"))
    loads.add_column(say("share"), justify="right")
    for line_id, share in kpis["utilisation"].items():
        loads.add_row(line_id, f"{share:.1%}")
    console.print(loads)
    if schedule["unscheduled"]:
        left = Table(title=say("unscheduled"))
        left.add_column(say("order"))
        left.add_column(say("reason"))
        for item in schedule["unscheduled"]:
            left.add_row(item["order_id"], item["reason"])
        console.print(left)
    for violation in violations:
        errors.print(f"[red]violation:[/] {violation}", highlight=False, soft_wrap=True)


def _with_bound(objective: dict, bound: dict, level: str) -> str:
    """The plan's value and, in brackets, the least any plan could reach (when known)."""
    return f"{objective[level]} (≥ {bound[level]})" if level in bound else str(objective[level])


@app.command()
def validate(
    dataset: Annotated[Path, typer.Argument(help="CSV folder, .json document or .xlsx workbook.")],
    schedule: Annotated[Path, typer.Argument(help="Schedule document (JSON).")],
    previous: Annotated[Path | None, typer.Option(help="Previous schedule, to check the frozen window.")] = None,
    frozen_days: Annotated[int | None, typer.Option(help="Frozen window in working days (default: plant's).")] = None,
) -> None:
    """Check a schedule against every rule; exit 1 when any is broken."""
    from solver.validation import validate_schedule

    try:
        data = io.load_dataset(dataset)
        document = io.load_schedule(schedule)
        baseline = io.load_schedule(previous) if previous else None
    except DatasetError as error:
        raise _bad_input(error) from None
    violations = validate_schedule(data, document, previous=baseline, frozen_days=frozen_days)
    if not violations:
        console.print(f"[green]valid:[/] {len(document['orders'])} orders planned, no rule broken")
        return
    for violation in violations:
        console.print(f"[red]{violation.rule}[/] {violation}", highlight=False, soft_wrap=True)
    console.print(f"[bold red]{len(violations)} violation(s)[/]")
    raise typer.Exit(EXIT_INVALID)


@app.command()
def bound(
    dataset: Annotated[Path, typer.Argument(help="CSV folder, .json document or .xlsx workbook.")],
    time_limit: Annotated[float, typer.Option(help="Seconds for the relaxations.", min=0.1)] = 300.0,
) -> None:
    """A lower bound on weighted days late, kept for later solves of the same data (e.g. nightly, before replan)."""
    from solver.bound import cache_dir, lateness_lower_bound
    from solver.instance import build_instance

    try:
        data = io.load_dataset(dataset)
    except DatasetError as error:
        raise _bad_input(error) from None
    found = lateness_lower_bound(build_instance(data), time_limit=time_limit)
    kept = f", kept in {cache_dir()}" if cache_dir() else ""
    console.print(
        f"weighted days late >= {found.weighted_days_late} ({found.method}, {found.seconds:.1f} s{kept})",
        highlight=False,
    )


@app.command()
def promise(
    dataset: Annotated[Path, typer.Argument(help="CSV folder, .json document or .xlsx workbook.")],
    product: Annotated[str, typer.Option(help="Product id of the prospective order.")],
    quantity: Annotated[int, typer.Option(min=1)],
    due: Annotated[str, typer.Option(help="Requested due date, YYYY-MM-DD.")],
    customer: Annotated[str | None, typer.Option(help="Customer id (for transit days).")] = None,
    schedule: Annotated[Path | None, typer.Option(help="The current plan (JSON); none: an empty plant.")] = None,
    order_type: Annotated[str, typer.Option(help="regular, non_regular or special.")] = "regular",
    deposit: Annotated[float | None, typer.Option(help="Paid deposit as a fraction of the order's value.")] = None,
) -> None:
    """Order review: earliest delivery with no committed order moving, and with re-sequencing."""
    import datetime as dt
    import json

    from solver.promise import Prospect, earliest_delivery_fixed, earliest_delivery_resequenced, plan_ledger

    try:
        data = io.load_dataset(dataset)
        plan = io.load_schedule(schedule) if schedule else {"orders": []}
        due_date = dt.date.fromisoformat(due)
    except DatasetError as error:
        raise _bad_input(error) from None
    except ValueError:
        errors.print(f"--due: {due!r} is not a date (YYYY-MM-DD)", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if product not in data.product_by_id:
        errors.print(f"--product: unknown product {product!r}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    prospect = Prospect(product, quantity, due_date, customer, order_type=order_type, deposit_ratio=deposit)
    answer = earliest_delivery_fixed(data, plan_ledger(data, plan), prospect)
    answer.record_resequencing(*earliest_delivery_resequenced(data, plan, prospect, answer))  # feasible by either
    console.print_json(json.dumps(answer.as_dict(), ensure_ascii=False))


@app.command()
def scenario(
    dataset: Annotated[Path, typer.Argument(help="CSV folder, .json document or .xlsx workbook.")],
    edits: Annotated[Path, typer.Option(help="A JSON list of edits (line_hours, arrival, order, ...).")],
    previous: Annotated[
        Path | None, typer.Option(help="The plan to compare with (JSON); none: the dataset is planned first.")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds for the scenario's plan.", min=0.1)] = 30.0,
    frozen_days: Annotated[int | None, typer.Option(help="Frozen window in working days (default: plant's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the scenario's plan and its comparison (JSON) here.")] = None,
) -> None:
    """What-if: plan the dataset with the edits applied and say what changes against the plan."""
    import json

    from solver import scenario as whatif
    from solver.validation import validate_schedule

    try:
        data = io.load_dataset(dataset)
        base = io.load_schedule(previous) if previous else None
        changes = json.loads(edits.read_text(encoding="utf-8"))
        edited = io.load_json_document(whatif.apply_edits(io.dataset_document(data), changes, "edits"), str(edits))
    except DatasetError as error:
        raise _bad_input(error) from None
    except (OSError, ValueError) as error:
        errors.print(f"--edits: {edits} is not a JSON list of edits: {error}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if base is None:
        console.print("planning the dataset as it is, to compare with")
        base = solve_with_progress(data, engine.SolveParams(time_limit=time_limit), None).schedule
    params = engine.SolveParams(time_limit=time_limit, frozen_days=frozen_days)
    result = solve_with_progress(edited, params, base)
    violations = validate_schedule(edited, result.schedule, previous=base, frozen_days=frozen_days)
    comparison = whatif.compare(edited, base, result.schedule, changes)
    print_comparison(comparison)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"schedule": result.schedule, **comparison}, ensure_ascii=False, indent=1))
        console.print(f"scenario written to {out}")
    if violations:
        errors.print(f"[bold red]the scenario's plan breaks {len(violations)} rule(s)[/]")
        raise typer.Exit(EXIT_INVALID)


def print_comparison(comparison: dict[str, Any]) -> None:
    """The KPI deltas, the orders that moved and whom to call, as tables."""
    deltas = Table(title="against the plan")
    for column in ("", "before", "after", "change"):
        deltas.add_column(column)
    for name, delta in comparison["kpi_deltas"].items():
        deltas.add_row(name.replace("_", " "), str(delta["before"]), str(delta["after"]), f"{delta['delta']:+g}")
    console.print(deltas)
    moved = comparison["changes"]
    console.print(f"orders that change: {len(moved)}")
    for change in moved[:30]:
        before, after = change["before"] or {}, change["after"] or {}
        console.print(
            f"  {change['order_id']}: {before.get('line_id', '-')} {before.get('delivery_date', '-')} → "
            f"{after.get('line_id', '-')} {after.get('delivery_date', 'left out')}",
            highlight=False,
        )
    for group in comparison["notify"]:
        orders = ", ".join(o["order_id"] for o in group["orders"])
        who = group["name"] or group["customer_id"] or "?"
        console.print(f"[yellow]call[/] {who} ({group['region'] or '-'}): {orders}", highlight=False)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the dataset to.")],
    orders: Annotated[int, typer.Option(min=1)] = 300,
    lines: Annotated[int, typer.Option(min=1)] = 8,
    days: Annotated[int, typer.Option(min=7)] = 90,
    seed: Annotated[int, typer.Option()] = 1,
    load: Annotated[float, typer.Option(help="Work as a share of line capacity.", min=0.05, max=3.0)] = 0.8,
    plan_start: Annotated[str, typer.Option(help="First day of the plan, YYYY-MM-DD.")] = "2026-11-30",
    changeovers: Annotated[
        str | None,
        typer.Option(
            help="Changeover data between product families ('family') or model series ('series'); "
            "none by default. Plans do not use it yet (issue #15)."
        ),
    ] = None,
    inspection_orders_per_day: Annotated[
        int | None, typer.Option(help="Orders quality inspects per working day (default: no cap).", min=1)
    ] = None,
    dispatch_orders_per_day: Annotated[
        int | None, typer.Option(help="Orders logistics dispatches per working day (default: no cap).", min=1)
    ] = None,
) -> None:
    """Write a realistic synthetic dataset (electrical equipment plant) as a CSV folder."""
    import datetime as dt

    from solver.generate import CHANGEOVER_LEVELS, generate_dataset

    try:
        start = dt.date.fromisoformat(plan_start)
    except ValueError:
        errors.print(f"--plan-start: {plan_start!r} is not a date (YYYY-MM-DD)", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if changeovers is not None and changeovers not in CHANGEOVER_LEVELS:
        errors.print(f"--changeovers: {changeovers!r} is not one of {', '.join(CHANGEOVER_LEVELS)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    data = generate_dataset(
        orders=orders,
        lines=lines,
        days=days,
        seed=seed,
        plan_start=start,
        load=load,
        changeovers=changeovers,
        inspection_orders_per_day=inspection_orders_per_day,
        dispatch_orders_per_day=dispatch_orders_per_day,
    )
    io.write_csv_folder(data, out_dir)
    planned = len(data.planned_orders)
    console.print(
        f"wrote {len(data.orders)} orders ({planned} to plan), {len(data.lines)} lines, "
        f"{len(data.products)} products, {len(data.materials)} materials to {out_dir}"
    )


def run() -> None:
    """Console entry point: no traceback reaches the user."""
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug of ours: say so in one line, details with --verbose
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        errors.print(f"[bold red]internal error:[/] {type(error).__name__}: {error}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_INTERNAL)
