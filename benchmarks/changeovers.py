"""Planning with families against a family-blind earliest-due-date plan (issue #15, target b).

For each plant with product families and changeovers, the same plant planned three ways,
every plan timed **with** its changeovers and checked by paichan's validator with
changeovers planned (``solver.domain.PLAN_CHANGEOVERS_AND_CAPS`` on):

* **family-blind EDD, re-timed**: paichan's earliest-due-date list schedule (gap-filling,
  by due date, ``solver.heuristic.list_schedule(..., by_due_date)``) made with the switch
  off, i.e. as if changeovers took no time; then each line keeps that plan's sequence and
  the runs are re-timed with the switch on: appended one after the other in the blind
  plan's order (by start day), each on the blind plan's line, behind the changeover its
  predecessor gives it, no earlier than its release and its materials, inside the caps.
  A run that no longer fits before the horizon's end is left out (counted in
  ``unscheduled``);
* **changeover-aware EDD**: the same list schedule made with the switch on (it sees the
  changeover in front of every run but does not group families on purpose);
* **paichan**: ``solver.engine.solve`` with the switch on, for the time limit;
* optionally (``--blind-solve``) **paichan family-blind, re-timed**: ``solve`` with the
  switch off for the same time, its sequences re-timed like the EDD plan's.

Plants: generated ones (``solver.generate.generate_dataset(N, L, D, seed,
changeovers="family" | "series")``: calendars, materials and releases included) and the
changeover plants CO1–CO6 of :mod:`benchmarks.changeover_plants`.

    python -m benchmarks.changeovers                      # every plant, default limits
    python -m benchmarks.changeovers --plants G300-family CO3 --record

Plans and ``results.json`` go to ``--out`` (default: a folder in the system's temporary
directory), never into tracked files; ``--record`` rewrites only the README section.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).with_name("README.md")
HEADING = "## Changeovers: grouping families against a family-blind EDD plan (`changeovers.py`)"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "paichan-changeover-grouping"


@dataclass(frozen=True)
class Plant:
    name: str
    kind: str  # "generated" | "changeover plant"
    time_limit: float
    orders: int = 0
    lines: int = 0
    days: int = 0
    seed: int = 0
    level: str = "family"  # generate_dataset(changeovers=...)


GENERATED = [
    Plant("G300-family", "generated", 30.0, 300, 8, 60, 3, "family"),
    Plant("G300-series", "generated", 30.0, 300, 8, 60, 3, "series"),
    Plant("G1000-family", "generated", 60.0, 1000, 12, 90, 4, "family"),
    Plant("G1000-series", "generated", 60.0, 1000, 12, 90, 4, "series"),
]
PLANTS = {p.name: p for p in GENERATED} | {
    name: Plant(name, "changeover plant", 20.0) for name in ("CO1", "CO2", "CO3", "CO4", "CO5", "CO6")
}


@contextlib.contextmanager
def changeovers_planned(on: bool) -> Iterator[None]:
    """The engine's switch set to ``on`` for the block (restored after)."""
    from solver import domain

    before = domain.PLAN_CHANGEOVERS_AND_CAPS
    domain.PLAN_CHANGEOVERS_AND_CAPS = on
    try:
        yield
    finally:
        domain.PLAN_CHANGEOVERS_AND_CAPS = before


def load_plant(plant: Plant) -> Any:
    """The plant's dataset."""
    if plant.kind == "generated":
        from solver.generate import generate_dataset

        return generate_dataset(plant.orders, plant.lines, plant.days, plant.seed, changeovers=plant.level)
    from benchmarks.changeover_plants import plant_documents
    from solver.io import load_json_document

    return load_json_document(plant_documents([plant.name])[plant.name])


def retime_with_changeovers(dataset: Any, blind: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A family-blind plan's sequences timed with changeovers: assignments and left-out orders.

    Each order of ``blind`` keeps its line and its place in the line's sequence; the runs are
    appended in the blind plan's order (start day, then position), so each follows the same
    run as before and pays the changeover from it. Must be called with the switch on.
    """
    from solver.heuristic import list_schedule
    from solver.instance import build_instance

    instance = build_instance(dataset)
    placed = {}
    for candidate in instance.candidates:
        assignment = blind.get(candidate.order_id)
        if assignment is None:
            continue
        option = next(o for o in candidate.options if o.line_id == assignment.line_id)
        placed[candidate.order_id] = dataclasses.replace(candidate, options=(option,))
    restricted = dataclasses.replace(instance, candidates=list(placed.values()))

    def blind_order(candidate: Any) -> tuple:
        assignment = blind[candidate.order_id]
        day = instance.axes[assignment.line_id].day_of(assignment.start)
        return (day, assignment.start, candidate.order_id)

    assignments, left_out = list_schedule(restricted, {}, blind_order, append_only=True)
    for candidate in instance.candidates:
        if candidate.order_id not in blind:
            left_out.setdefault(candidate.order_id, "left out by the family-blind plan")
    return assignments, left_out


@dataclass
class Plan:
    """One plan of a plant, timed with changeovers, as paichan's validator sees it."""

    how: str
    unscheduled_priority: int
    weighted_days_late: int
    changeover_minutes: int
    changeovers: int  # runs with a changeover in front of them
    violations: list[str]
    seconds: float


def judged(how: str, dataset: Any, schedule: dict[str, Any], seconds: float) -> Plan:
    """``schedule`` checked by paichan's validator (switch on) and summarised."""
    from solver.validation import validate_schedule

    with changeovers_planned(True):
        violations = [str(v) for v in validate_schedule(dataset, schedule)]
    objective = schedule["objective"]
    minutes = [entry["changeover_minutes"] for entry in schedule["orders"]]
    return Plan(
        how,
        objective["unscheduled_priority"],
        objective["weighted_days_late"],
        sum(minutes),
        sum(1 for m in minutes if m > 0),
        violations,
        seconds,
    )


def timed_plan(dataset: Any, assignments: dict[str, Any], left_out: dict[str, str]) -> dict[str, Any]:
    """The schedule document of ``assignments`` with the switch on (each run behind its changeover)."""
    from solver.instance import build_instance
    from solver.solution import build_schedule

    with changeovers_planned(True):
        return build_schedule(build_instance(dataset), assignments, left_out, status="FEASIBLE")


def measure(plant: Plant, workers: int, seed: int, blind_solve: bool, out: Path) -> dict[str, Any]:
    """Every plan of ``plant`` (see the module's docstring)."""
    from solver.engine import SolveParams, solve
    from solver.heuristic import by_due_date, list_schedule
    from solver.instance import build_instance
    from solver.solution import assignments_from_schedule

    dataset = load_plant(plant)
    plans: list[Plan] = []
    schedules: dict[str, dict[str, Any]] = {}

    def keep(plan: Plan, schedule: dict[str, Any]) -> None:
        plans.append(plan)
        schedules[plan.how] = schedule

    began = time.perf_counter()
    with changeovers_planned(False):
        blind, _ = list_schedule(build_instance(dataset), {}, by_due_date)
    with changeovers_planned(True):
        assignments, left_out = retime_with_changeovers(dataset, blind)
    schedule = timed_plan(dataset, assignments, left_out)
    keep(judged("family-blind EDD, re-timed", dataset, schedule, time.perf_counter() - began), schedule)

    began = time.perf_counter()
    with changeovers_planned(True):
        aware, left_out = list_schedule(build_instance(dataset), {}, by_due_date)
    schedule = timed_plan(dataset, aware, left_out)
    keep(judged("changeover-aware EDD", dataset, schedule, time.perf_counter() - began), schedule)

    params = SolveParams(time_limit=plant.time_limit, workers=workers, seed=seed)
    if blind_solve:
        began = time.perf_counter()
        with changeovers_planned(False):
            result = solve(dataset, params)
            blind_plan = assignments_from_schedule(build_instance(dataset), result.schedule["orders"])
        with changeovers_planned(True):
            assignments, left_out = retime_with_changeovers(dataset, blind_plan)
        schedule = timed_plan(dataset, assignments, left_out)
        keep(judged("paichan family-blind, re-timed", dataset, schedule, time.perf_counter() - began), schedule)

    began = time.perf_counter()
    with changeovers_planned(True):
        result = solve(dataset, params)
    keep(judged("paichan", dataset, result.schedule, time.perf_counter() - began), result.schedule)

    for how, schedule in schedules.items():
        stem = how.replace(" ", "-").replace(",", "")
        (out / f"{plant.name}.{stem}.schedule.json").write_text(json.dumps(schedule, indent=1), "utf-8")
    planned = [o for o in dataset.orders if o.status in ("confirmed", "in_production")]
    return {
        "plant": plant.name,
        "size": f"{len(planned)}×{len(dataset.lines)}×{dataset.plant.horizon_days}",
        "families": len(dataset.product_families),
        "time_limit": plant.time_limit,
        "plans": [dataclasses.asdict(p) for p in plans],
    }


def _cell(plan: dict[str, Any]) -> str:
    unscheduled = f" +{plan['unscheduled_priority']} unsch." if plan["unscheduled_priority"] else ""
    return (
        f"{plan['changeover_minutes'] / 60:.1f} h ({plan['changeovers']}) / {plan['weighted_days_late']}{unscheduled}"
    )


def format_table(rows: list[dict[str, Any]], blind_solve: bool) -> str:
    hows = ["family-blind EDD, re-timed", "changeover-aware EDD"]
    hows += ["paichan family-blind, re-timed"] if blind_solve else []
    hows += ["paichan"]
    header = (
        "| plant | orders×lines×days | families | limit s | "
        + " | ".join(f"{h}: changeover h (runs) / wdl" for h in hows)
        + " | changeover h paichan / blind EDD | valid |\n"
        + "|---|---|---:|---:|"
        + "---:|" * len(hows)
        + "---:|---|\n"
    )
    lines = []
    for row in rows:
        plans = {p["how"]: p for p in row["plans"]}
        ours, blind = plans["paichan"], plans["family-blind EDD, re-timed"]
        ratio = (
            f"{ours['changeover_minutes'] / blind['changeover_minutes']:.0%}" if blind["changeover_minutes"] else "-"
        )
        valid = (
            "all"
            if all(not p["violations"] for p in row["plans"])
            else "NO: " + ", ".join(p["how"] for p in row["plans"] if p["violations"])
        )
        lines.append(
            f"| {row['plant']} | {row['size']} | {row['families']} | {row['time_limit']:g} | "
            + " | ".join(_cell(plans[h]) for h in hows)
            + f" | {ratio} | {valid} |"
        )
    return header + "\n".join(lines) + "\n"


def readme_section(rows: list[dict[str, Any]], args: argparse.Namespace, load: str) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=README.parent, capture_output=True, text=True, check=False
    ).stdout.strip()
    command = f"python -m benchmarks.changeovers --workers {args.workers} --seed {args.seed}"
    command += (" --blind-solve" if args.blind_solve else "") + " --record"
    return f"""{HEADING}

Issue #15: "with families, total changeover time far below a family-blind earliest-due-date plan's on the same
plant". `{command}`, engine `{commit}`, {args.workers} CP-SAT workers, seed {args.seed}{load}. Every plan is
timed with its changeovers and passes paichan's validator with changeovers planned (`valid`). Cells: total
changeover hours (runs with a changeover in front of them) / weighted days late, `+N unsch.` the priority of
orders a plan leaves out. *family-blind EDD, re-timed*: paichan's earliest-due-date list schedule made with
`PLAN_CHANGEOVERS_AND_CAPS` off, each line's sequence then re-timed with changeovers on (appended in the blind
order behind the changeover each run's predecessor gives it; a run pushed past the horizon is left out).
*changeover-aware EDD*: the same list schedule with the switch on. *paichan family-blind, re-timed*: `solve`
with the switch off, its sequences re-timed the same way. *paichan*: `solve` with the switch on. Generated
plants: `generate_dataset(N, L, D, seed, changeovers="family" | "series")` (G300: 300×8×60 seed 3, G1000:
1,000×12×90 seed 4; calendars, materials, releases and in-production runs included); CO1–CO6: the plants of
`benchmarks/changeover_plants.py`.

{format_table(rows, args.blind_solve)}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plants", nargs="+", default=list(PLANTS), choices=list(PLANTS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every plant's time limit")
    parser.add_argument("--blind-solve", action="store_true", help="also solve family-blind and re-time the plan")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="plans and results (untracked)")
    parser.add_argument("--record", action="store_true", help=f"write the table into {README.name}")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    rows = []
    for name in args.plants:
        plant = PLANTS[name]
        plant = dataclasses.replace(plant, time_limit=plant.time_limit * args.time_scale)
        row = measure(plant, args.workers, args.seed, args.blind_solve, args.out)
        rows.append(row)
        for plan in row["plans"]:
            print(
                f"{name}: {plan['how']}: changeovers {plan['changeover_minutes'] / 60:.1f} h, "
                f"unscheduled {plan['unscheduled_priority']}, wdl {plan['weighted_days_late']}, "
                f"valid {not plan['violations']} {plan['violations'][:2]}, {plan['seconds']:.1f} s",
                flush=True,
            )
    load = f"; load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)"
    (args.out / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print()
    print(format_table(rows, args.blind_solve))
    print(f"plans and results in {args.out}")
    if args.record:
        from benchmarks.peer import replace_section

        text = README.read_text(encoding="utf-8")
        README.write_text(replace_section(text, HEADING, readme_section(rows, args, load)), encoding="utf-8")
        print(f"recorded in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
