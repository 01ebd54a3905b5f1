"""The checker's domain is exactly the readers': a proof holds for every row and year a command accepts.

Before: ``int`` facts were bounded to 0…1,000,000 in Z3 while the roster reader took any whole
number, so a property about ``dan_so > 1000000`` was *proved* while ``plan`` decided the row
``…,1000001`` against it; and ``check`` proved for the header's ``vote_year`` only while
``plan --year 2024`` decided for another year. Now an ``int`` fact (and a count) is a whole number of
at most 18 digits in both (:mod:`dsl.values`), and the vote year is symbolic over every year
``--year`` accepts. Every counterexample printed replays through the CLI (``plan``/``evaluate`` on
its CSV, with its year) to the decision the checker reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import policy as bundled
from checker.solve import Checker, PolicyReport
from dsl.loader import load_policy
from dsl.values import MAX_WHOLE
from tests.checker.support import BAD, GOOD, HERE
from tinnhiem.cli import main

BASE = (GOOD / "voted_has_venue.policy").read_text(encoding="utf-8")


def _policy(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.policy"
    path.write_text(text, encoding="utf-8")
    return path


def _status(report: PolicyReport, pid: str) -> str:
    return next(p.status for p in report.properties if p.id == pid)


def _cli(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "out.json"
    code = main([*args, "--format", "json", "--output", str(out)])
    assert code in (0, 1), code
    return json.loads(out.read_text(encoding="utf-8"))


INT_POLICY = BASE.replace(
    'fact appointed_year: year "Năm được bổ nhiệm gần nhất"',
    'fact appointed_year: year "Năm được bổ nhiệm gần nhất"\nfact dan_so: int "Dân số của đơn vị"',
).replace("venues chung when voted {", "venues chung when voted and not (dan_so > 1000000) {") + (
    '\nproperty nho "Người được lấy phiếu ở đơn vị không quá một triệu dân":\n'
    "  voted implies not (dan_so > 1000000)\n")


def test_an_int_fact_beyond_a_million_is_in_the_domain(tmp_path: Path) -> None:
    """Was: both properties proved, while `plan` gave a voted cadre with no venue."""
    path = _policy(tmp_path, "int_fact", INT_POLICY)
    report = Checker(load_policy(path)).run()
    assert _status(report, "nho") == "refuted"
    assert _status(report, "builtin.voted_has_venue") == "refuted"
    prop = next(p for p in report.properties if p.id == "nho")
    cx = prop.findings[0].counterexample
    assert cx is not None
    value = dict(cx.roster[0].facts)["dan_so"]
    assert isinstance(value, int) and 1_000_000 < value <= MAX_WHOLE
    # the CLI reads the printed row and decides it as the checker said: voted, no venue
    (tmp_path / "roster.csv").write_text(cx.roster_csv, encoding="utf-8")
    doc = _cli(tmp_path, "plan", "--policy", str(path), "--roster", str(tmp_path / "roster.csv"))
    assert [(c["status"], c["venues"]) for c in doc["cadres"]] == [("voted", [])]


def test_a_number_the_reader_refuses_makes_a_dead_rule(tmp_path: Path) -> None:
    """A rule that needs more than 18 digits can never fire: no_dead_rule says so, and the reader
    rejects such a cell (before, Z3 called the rule dead while the reader let the number through)."""
    text = BASE.replace('fact appointed_year: year "Năm được bổ nhiệm gần nhất"',
                        'fact appointed_year: year "Năm được bổ nhiệm gần nhất"\nfact so_nam: int "Số năm công tác"')
    text = text.replace("  noi_cong_tac otherwise", "  noi_cong_tac when so_nam > 123456789012345678901234567890\n"
                                                   "  noi_cong_tac otherwise")
    path = _policy(tmp_path, "dead", text)
    report = Checker(load_policy(path)).run()
    assert _status(report, "builtin.no_dead_rule") == "refuted"
    header = "cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year,so_nam\n"
    (tmp_path / "r.csv").write_text(header + "A,A,province,U,gd_so,false,2020,123456789012345678901234567891\n",
                                    encoding="utf-8")
    doc = _cli(tmp_path, "plan", "--policy", str(path), "--roster", str(tmp_path / "r.csv"))
    assert doc["cadres"] == [] and "so_nam" in doc["rejected"][0]["reason"]


YEAR_POLICY = BASE.replace(
    'exempt nghi_huu when retirement_notice',
    'exempt moi when appointed_year = vote_year\n  reason "Mới được bổ nhiệm"\n  cite T "Điều 3" "mới bổ nhiệm"\n'
    'exempt nghi_huu when retirement_notice',
) + '\nproperty chi_2023 "Người được miễn vì mới bổ nhiệm là người bổ nhiệm năm 2023":\n  exempt and not retirement_notice implies appointed_year = 2023\n'


def test_a_property_is_proved_for_every_vote_year_the_commands_accept(tmp_path: Path) -> None:
    """Was: proved for the header's 2023 only, while `plan --year 2024` exempts a cadre appointed in 2024."""
    path = _policy(tmp_path, "year", YEAR_POLICY)
    pol = load_policy(path)
    assert _status(Checker(pol, year=2023).run(), "chi_2023") == "proved"  # for the header's year alone, it holds
    report = Checker(pol).run()
    assert _status(report, "chi_2023") == "refuted"
    cx = next(p for p in report.properties if p.id == "chi_2023").findings[0].counterexample
    assert cx is not None and cx.year is not None and cx.year != 2023
    command = cx.command(str(path))
    assert command[:2] == ("tinnhiem", "plan") and command[-2:] == ("--year", str(cx.year))
    (tmp_path / "roster.csv").write_text(cx.roster_csv, encoding="utf-8")
    doc = _cli(tmp_path, *command[1:-3], str(tmp_path / "roster.csv"), "--year", str(cx.year))
    assert doc["cadres"][0]["status"] == "exempt" and doc["year"] == cx.year


# ---- every counterexample of the corpus replays through the CLI ----------------------------------------


def _corpus() -> list[Path]:
    return sorted(GOOD.glob("*.policy")) + sorted(BAD.glob("*.policy")) + list(bundled.all_paths())


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_counterexample_replays_through_the_cli(tmp_path: Path, path: Path) -> None:
    root = HERE if path.resolve().is_relative_to(HERE) else None
    pol = load_policy(path, root)
    report = Checker(pol).run()
    replayed = 0
    for prop in report.properties:
        for finding in prop.findings:
            cx = finding.counterexample
            if cx is None or not cx.command(str(path)):
                continue
            (tmp_path / "roster.csv").write_text(cx.roster_csv, encoding="utf-8")
            (tmp_path / "tallies.csv").write_text(cx.tallies_csv, encoding="utf-8")
            command = list(cx.command(str(path))[1:])
            command = [str(tmp_path / a) if a in ("roster.csv", "tallies.csv") else a for a in command]
            if root is not None:
                command += ["--policy-root", str(root)]
            if pol.missing_for_evaluation():
                continue  # a text that cannot plan a roster alone (a central text): replayed by the evaluator only
            doc = _cli(tmp_path, *command)
            # the tally reader refuses a tally for a cadre who is not voted there: the counterexample's
            # point is then the plan (an exempt cadre with a venue), which the CLI shows as it is
            gated = [r for r in doc["rejected"] if "no vote is taken" in r["reason"] or "is not voted at" in r["reason"]]
            assert len(gated) == len(doc["rejected"]), (prop.id, doc["rejected"], cx.roster_csv, cx.tallies_csv)
            got = {c["cadre_id"]: (c["status"], [v["venue"] for v in c["venues"]]) for c in doc["cadres"]}
            for d in cx.replay.decisions:
                assert got[d.cadre_id] == (d.status, list(d.venues)), (prop.id, d.cadre_id)
                if d.evaluated and not gated:
                    cadre = next(c for c in doc["cadres"] if c["cadre_id"] == d.cadre_id)
                    assert cadre["outcome"] == d.outcome, (prop.id, d.cadre_id)
                    bands = {v["venue"]: v.get("band") for v in cadre["venues"]}
                    for r in d.results:
                        assert bands.get(r.venue) == r.band, (prop.id, d.cadre_id, r.venue)
            replayed += 1
    if path.parent == BAD and not pol.missing_for_evaluation():
        assert replayed or all(not f.counterexample for p in report.properties for f in p.findings)
