"""paichan against the plain-LNS peer: the same plants, the same seconds, both checkers.

For every plant (the suite's S, M and L, and two more seeds of M and of L):
generate it deterministically, write it as a CSV folder in a temporary
directory, solve it with paichan (in its own process, 2 workers) and then with
the peer (``plain_lns.py``, its own process, 2 workers) for the same seconds,
one after the other, never both at once. Each plan is checked by paichan's
validator and by the peer's ``validate.py``; the table row gives weighted days
late, holding days, paichan's lower bound, the ratio to the peer and the gap to
the best known plan.

    python -m benchmarks.peer                                  # all plants, full length
    python -m benchmarks.peer --plants S M --time-scale 0.05   # a smoke run, a few seconds each
    python -m benchmarks.peer --record --record-best           # the table into README.md, best plans kept

The peer is a yardstick run as a subprocess, never imported: it is found in
``--peer-dir``, else ``$PAICHAN_PEER_DIR``, else ``../shared/peers/plain-lns``
from the repository root. Without it, paichan alone is measured and the peer's
columns show "—".
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.suite import BEST_KNOWN, SIZES, Size

ROOT = Path(__file__).resolve().parents[1]
README = Path(__file__).with_name("README.md")
DEFAULT_PEER_DIR = ROOT.parent / "shared" / "peers" / "plain-lns"
HEADING = "## paichan against the plain-LNS peer"
DASH = "—"
EXTRA_SEEDS = {"M": (7, 11), "L": (5, 9)}  # the two more seeds of M and of L
PLANTS: dict[str, Size] = {name: SIZES[name] for name in ("S", "M", "L")} | {
    f"{name}-s{seed}": dataclasses.replace(SIZES[name], name=f"{name}-s{seed}", seed=seed)
    for name, seeds in EXTRA_SEEDS.items()
    for seed in seeds
}
CHILD_GRACE_SECONDS = 300.0  # beyond twice the limit: a solver process that hangs is a failure

log = logging.getLogger("benchmarks.peer")


# -- one plan, checked by both checkers -------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A plan's objective as paichan's validator recomputes it, and the peer checker's verdict."""

    unscheduled: int
    late: int
    holding: int
    valid: bool  # paichan's validator
    peer_valid: bool | None = None  # the peer's validate.py; None without the peer
    peer_summary: dict[str, Any] | None = None

    @property
    def agree(self) -> bool:
        """Both checkers give the same unscheduled priority, weighted days late and holding."""
        if self.peer_summary is None:
            return True
        theirs = tuple(self.peer_summary.get(k) for k in ("unscheduled_priority", "weighted_days_late", "holding_days"))
        return theirs == (self.unscheduled, self.late, self.holding)

    @property
    def valid_both(self) -> bool:
        return self.valid and self.peer_valid is not False


@dataclass(frozen=True)
class Run:
    """One solver's run on one plant: its plan checked, its wall time; paichan's bound."""

    plan: Checked | None  # None: the solver failed or was not run
    wall: float = 0.0
    bound: int | None = None
    bound_method: str = ""


def check_ours(dataset: Any, schedule: dict[str, Any], label: str) -> Checked:
    """paichan's validator. The peer reports levels 1-2 of the objective only: the missing
    levels are filled in from the plan's dates first, so only the plan's rules are judged."""
    from solver.validation import recompute_objective, validate_schedule

    recomputed = recompute_objective(dataset, schedule)
    stated = schedule.get("objective") or {}
    document = {**schedule, "objective": recomputed | stated}
    violations = validate_schedule(dataset, document)
    for violation in violations[:10]:
        log.warning("%s, paichan's validator: %s", label, violation)
    return Checked(
        recomputed["unscheduled_priority"], recomputed["weighted_days_late"], recomputed["holding_days"], not violations
    )


def check_with_peer(checked: Checked, peer_dir: Path, folder: Path, plan: Path) -> Checked:
    """The peer's validate.py on a plan: its verdict and its summary (the last stdout line)."""
    command = [sys.executable, str(peer_dir / "validate.py"), str(folder), str(plan)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = finished.stdout.strip().splitlines()
    for line in lines:
        if line.startswith("VIOLATION"):
            log.warning("%s, peer's validate.py: %s", plan.stem, line)
    try:
        summary = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        log.error("peer's validate.py gave no summary: %s", finished.stderr.strip()[-500:])
        return dataclasses.replace(checked, peer_valid=False)
    return dataclasses.replace(checked, peer_valid=finished.returncode == 0, peer_summary=summary)


# -- the two solvers -------------------------------------------------------------------------


def _paichan_child(folder: Path, out: Path, time_limit: float, seed: int, queue: Any) -> None:
    """Child process: load the CSV folder, solve, write the schedule; report bound and wall time."""
    from solver import io
    from solver.engine import SolveParams, solve

    dataset = io.load_dataset(folder)
    began = time.monotonic()
    result = solve(dataset, SolveParams(time_limit=time_limit, workers=2, seed=seed))
    wall = time.monotonic() - began
    io.write_schedule_json(result.schedule, out)
    stages = result.schedule["solver"]["stages"]
    queue.put({"wall": wall, "bound": result.bound.get("weighted_days_late"), "method": stages.get("bound", "")})


def run_paichan(dataset: Any, folder: Path, time_limit: float, seed: int) -> tuple[Run, Path]:
    out = folder.with_name(f"{folder.name}-paichan.json")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_paichan_child, args=(folder, out, time_limit, seed, queue))
    process.start()
    try:
        found = queue.get(timeout=2 * time_limit + CHILD_GRACE_SECONDS)
    except Exception:  # queue.Empty, or the child died without a word
        log.exception("paichan gave no plan on %s", folder.name)
        process.kill()
        return Run(None), out
    finally:
        process.join()
    schedule = json.loads(out.read_text(encoding="utf-8"))
    return Run(check_ours(dataset, schedule, out.stem), found["wall"], found["bound"], found["method"]), out


def run_peer(dataset: Any, peer_dir: Path, folder: Path, time_limit: float, seed: int) -> tuple[Run, Path]:
    out = folder.with_name(f"{folder.name}-peer.json")
    command = [sys.executable, str(peer_dir / "plain_lns.py"), str(folder), str(out)]
    command += ["--time-limit", f"{time_limit:g}", "--seed", str(seed)]
    began = time.monotonic()
    try:
        finished = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=2 * time_limit + CHILD_GRACE_SECONDS
        )
    except subprocess.TimeoutExpired:
        log.error("the peer did not finish on %s", folder.name)
        return Run(None), out
    wall = time.monotonic() - began
    if not out.exists():
        log.error(
            "the peer wrote no plan on %s (exit %d): %s", folder.name, finished.returncode, finished.stderr[-500:]
        )
        return Run(None), out
    log.info("peer: %s", finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else "(no summary)")
    return Run(check_ours(dataset, json.loads(out.read_text(encoding="utf-8")), out.stem), wall), out


def measure(size: Size, time_limit: float, seed: int, peer_dir: Path | None, workdir: Path) -> tuple[Run, Run]:
    """Both solvers on one plant, one after the other; each plan through both checkers."""
    from solver import io
    from solver.generate import generate_dataset

    folder = workdir / size.name
    io.write_csv_folder(generate_dataset(size.orders, size.lines, size.days, size.seed), folder)
    dataset = io.load_dataset(folder)  # what both solvers read
    log.info("%s: paichan for %g s", size.name, time_limit)
    ours, ours_plan = run_paichan(dataset, folder, time_limit, seed)
    if peer_dir is None:
        return ours, Run(None)
    log.info("%s: the peer for %g s", size.name, time_limit)
    theirs, theirs_plan = run_peer(dataset, peer_dir, folder, time_limit, seed)
    return _peer_checked(ours, peer_dir, folder, ours_plan), _peer_checked(theirs, peer_dir, folder, theirs_plan)


def _peer_checked(run: Run, peer_dir: Path, folder: Path, plan: Path) -> Run:
    if run.plan is None:
        return run
    return dataclasses.replace(run, plan=check_with_peer(run.plan, peer_dir, folder, plan))


# -- the table -------------------------------------------------------------------------------

COLUMNS = (
    "plant",
    "s",
    "paichan wdl",
    "peer wdl",
    "paichan / peer",
    "paichan holding",
    "peer holding",
    "paichan bound (method)",
    "best known",
    "paichan gap",
    "peer gap",
    "unsch. prio paichan / peer",
    "valid paichan / peer",
    "wall s paichan / peer",
)
ALIGN = ("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---:")


def header() -> list[str]:
    return [f"| {' | '.join(COLUMNS)} |", f"|{'|'.join(ALIGN)}|"]


def _late(run: Run) -> str:
    return str(run.plan.late) if run.plan else DASH


def _holding(run: Run) -> str:
    return str(run.plan.holding) if run.plan else DASH


def _ratio(ours: Run, theirs: Run) -> str:
    """paichan's weighted days late over the peer's, when both leave out the same priority."""
    if not (ours.plan and theirs.plan) or ours.plan.unscheduled != theirs.plan.unscheduled:
        return DASH
    return f"{ours.plan.late / theirs.plan.late:.2f}" if theirs.plan.late else DASH


def _gap(run: Run, best: int | None) -> str:
    """Gap to the best known, for a valid plan that leaves nothing out."""
    if not run.plan or not run.plan.valid_both or run.plan.unscheduled or not best:
        return DASH
    return f"{(run.plan.late - best) / best:+.1%}"


def _verdict(run: Run) -> str:
    """'yes' when every checker that ran accepts the plan; paichan's checker / the peer's."""
    if not run.plan:
        return DASH
    ours = "yes" if run.plan.valid else "NO"
    theirs = {None: DASH, True: "yes", False: "NO"}[run.plan.peer_valid]
    return f"{ours}+{theirs}" + ("" if run.plan.agree else " †")


def _pair(ours: str, theirs: str) -> str:
    return f"{ours} / {theirs}"


def format_row(size: Size, time_limit: float, ours: Run, theirs: Run, best: dict[str, int]) -> str:
    known = best.get(size.name)
    bound = DASH if ours.bound is None else f"{ours.bound} ({ours.bound_method or '?'})"
    cells = (
        f"{size.name} {size.orders}×{size.lines}×{size.days} s{size.seed}",
        f"{time_limit:g}",
        _late(ours),
        _late(theirs),
        _ratio(ours, theirs),
        _holding(ours),
        _holding(theirs),
        bound,
        DASH if known is None else str(known),
        _gap(ours, known),
        _gap(theirs, known),
        _pair(*(str(r.plan.unscheduled) if r.plan else DASH for r in (ours, theirs))),
        _pair(_verdict(ours), _verdict(theirs)),
        _pair(*(f"{r.wall:.1f}" if r.plan else DASH for r in (ours, theirs))),
    )
    return f"| {' | '.join(cells)} |"


def record_best(best: dict[str, int], name: str, runs: tuple[Run, Run]) -> bool:
    """Keep the lowest weighted days late of a plan both checkers accept that leaves nothing out."""
    found = [r.plan.late for r in runs if r.plan and r.plan.valid_both and not r.plan.unscheduled]
    if found and min(found) < best.get(name, sys.maxsize):
        best[name] = min(found)
        return True
    return False


# -- the README section ----------------------------------------------------------------------

ABOUT = """\
`python -m benchmarks.peer` runs paichan and the peer of `../shared/peers/plain-lns`
(a plain CP-SAT large-neighbourhood search: EDD start, 8–80 orders freed per
round, 0.3 s sub-solves; it ignores holding) on the suite's plants (S 300×8×90
seed 3 and M 500×10×60 seed 2 for 30 s, L 2,000×20×90 seed 4 for 60 s) and on
M with seeds 7 and 11 and L with seeds 5 and 9, for the same seconds, one
after the other on the same CSV folder, 2 CP-SAT workers each, both with the
seed of `--seed`. paichan's seconds are its `solve` call;
the peer's wall time is its whole process (Python start-up included; its
clock starts after its imports).

* *wdl*: weighted days late; *holding*: days between delivery and due date
  beyond the collection week. Both are recomputed from each plan's dates by
  paichan's validator; the peer's `validate.py` counts them the same way and
  gives the same numbers for every plan not marked † (a † marks a plan on
  which the two checkers disagree; its numbers stay paichan's validator's).
* *paichan / peer*: the ratio of weighted days late (below 1: paichan
  ahead), shown only when both leave out the same priority (the objective is
  lexicographic: unscheduled priority first).
* *bound*: paichan's lower bound on weighted days late and how it was found.
* *best known*: `best_known.json`, the best plan either solver (or `suite.py`)
  found that both checkers accept and that leaves no order out; *gap*
  `(wdl − best) / best`, only for such plans.
* *valid*: paichan's validator + the peer's `validate.py`, for each plan (the
  peer reports levels 1–2 of the objective only; paichan's validator checks
  them, and the plan's rules, with levels 3–4 filled in from its dates)."""


def render_section(rows: list[str], command: str, note: str = "") -> str:
    today = dt.date.today().isoformat()
    lines = [HEADING, "", ABOUT, "", f"`{command}`, {today}, engine `{_commit()}`, 2 cores{note}:", ""]
    return "\n".join([*lines, *header(), *rows]) + "\n"


def replace_section(text: str, heading: str, section: str) -> str:
    """``text`` with the level-2 section under ``heading`` replaced by ``section`` (appended when absent)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == heading]
    if not starts:
        return text.rstrip("\n") + "\n\n" + section
    begin = starts[0]
    end = next((i for i in range(begin + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:begin]) + section + ("\n" + tail if tail else "")


def _commit() -> str:
    finished = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return finished.stdout.strip() or "unknown"


# -- main ------------------------------------------------------------------------------------


def peer_location(option: str | None) -> Path:
    """Where the peer is looked for: the option, else the environment, else beside the repository."""
    return Path(option or os.environ.get("PAICHAN_PEER_DIR") or DEFAULT_PEER_DIR)


def peer_present(peer_dir: Path) -> bool:
    return (peer_dir / "plain_lns.py").is_file() and (peer_dir / "validate.py").is_file()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", "--sizes", nargs="+", default=list(PLANTS), choices=list(PLANTS))
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every plant's seconds")
    parser.add_argument("--seed", type=int, default=0, help="both solvers' seed")
    parser.add_argument("--peer-dir", help=f"the peer's folder (default $PAICHAN_PEER_DIR, else {DEFAULT_PEER_DIR})")
    parser.add_argument("--record", action="store_true", help=f"write the table into {README.name} under {HEADING!r}")
    parser.add_argument("--record-best", action="store_true", help=f"store better plans in {BEST_KNOWN.name}")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    location = peer_location(args.peer_dir)
    peer_dir = location if peer_present(location) else None
    note = "" if peer_dir else f" (peer not found at {location}: paichan only)"
    if peer_dir is None:
        print(f"peer not found at {location}: measuring paichan only", file=sys.stderr)
    best = json.loads(BEST_KNOWN.read_text(encoding="utf-8")) if BEST_KNOWN.exists() else {}
    print("\n".join(header()), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="paichan-peer-") as workdir:
        for name in args.plants:
            size = PLANTS[name]
            time_limit = size.time_limit * args.time_scale
            runs = measure(size, time_limit, args.seed, peer_dir, Path(workdir))
            rows.append(format_row(size, time_limit, *runs, best))
            print(rows[-1], flush=True)
            if args.record_best and record_best(best, name, runs):
                BEST_KNOWN.write_text(json.dumps(best, indent=2) + "\n", encoding="utf-8")
    if args.record:
        command = " ".join(["python -m benchmarks.peer", *(argv if argv is not None else sys.argv[1:])])
        section = render_section(rows, command, note)
        README.write_text(replace_section(README.read_text(encoding="utf-8"), HEADING, section), encoding="utf-8")


if __name__ == "__main__":
    main()
