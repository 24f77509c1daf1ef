"""The peer benchmark's bookkeeping: the README section it replaces, its row, its best-known rule.

No solver runs here: the runs are made up, and nothing is written to tracked files.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import peer
from benchmarks.suite import SIZES

HEADING = "## paichan against the plain-LNS peer"
NEW = f"{HEADING}\n\nnew table\n"


def test_the_section_is_replaced_where_it_stands_and_the_next_one_kept() -> None:
    text = (
        f"# Benchmarks\n\n## Before\n\nkept\n\n{HEADING}\n\nold table\n#### a subsection, old too\n\n## After\n\nkept\n"
    )
    assert peer.replace_section(text, HEADING, NEW) == (
        f"# Benchmarks\n\n## Before\n\nkept\n\n{NEW}\n## After\n\nkept\n"
    )


def test_a_last_section_is_replaced_to_the_end() -> None:
    text = f"# Benchmarks\n\n{HEADING}\n\nold table\n"
    assert peer.replace_section(text, HEADING, NEW) == f"# Benchmarks\n\n{NEW}"


def test_a_missing_section_is_appended_once(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\n## Other\n\ntext\n\n", encoding="utf-8")
    for _ in range(2):  # recording twice leaves one section
        readme.write_text(peer.replace_section(readme.read_text(encoding="utf-8"), HEADING, NEW), encoding="utf-8")
    assert readme.read_text(encoding="utf-8") == f"# Benchmarks\n\n## Other\n\ntext\n\n{NEW}"


def _run(late: int, unscheduled: int = 0, valid: bool = True, peer_valid: bool | None = True) -> peer.Run:
    summary = {"unscheduled_priority": unscheduled, "weighted_days_late": late, "holding_days": 5}
    plan = peer.Checked(unscheduled, late, 5, valid, peer_valid, summary if peer_valid is not None else None)
    return peer.Run(plan, wall=1.0, bound=300, bound_method="lp")


def test_a_row_compares_the_two_plans() -> None:
    row = peer.format_row(SIZES["S"], 30, _run(330), _run(300), {"S": 300})
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2:12] == ["330", "300", "1.10", "5", "5", "300 (lp)", "300", "+10.0%", "+0.0%", "0 / 0"]
    assert cells[12] == "yes+yes / yes+yes"


def test_without_the_peer_its_columns_are_dashes() -> None:
    row = peer.format_row(peer.PLANTS["M-s7"], 30, _run(330, peer_valid=None), peer.Run(None), {})
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "M-s7 500×10×60 s7"
    assert [cells[i] for i in (3, 4, 6, 8, 9, 10)] == ["—"] * 6
    assert cells[11:] == ["0 / —", "yes+— / —", "1.0 / —"]


def test_only_plans_both_checkers_accept_and_that_leave_nothing_out_become_best_known() -> None:
    best = {"S": 310}
    assert not peer.record_best(best, "S", (_run(200, unscheduled=3), _run(250, peer_valid=False)))
    assert not peer.record_best(best, "S", (_run(305, valid=False), peer.Run(None)))
    assert peer.record_best(best, "S", (_run(305), _run(302)))
    assert best == {"S": 302}
    assert peer.record_best(best, "L-s5", (_run(2800, peer_valid=None), peer.Run(None)))  # paichan alone
    assert best["L-s5"] == 2800


def test_the_peer_is_found_by_option_then_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAICHAN_PEER_DIR", str(tmp_path))
    assert peer.peer_location(None) == tmp_path
    assert peer.peer_location("/elsewhere") == Path("/elsewhere")
    assert not peer.peer_present(tmp_path)
    monkeypatch.delenv("PAICHAN_PEER_DIR")
    assert peer.peer_location(None) == peer.DEFAULT_PEER_DIR
