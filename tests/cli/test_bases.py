"""A base per band set: the council counts over all its members, the Party committee over ballots.

Resolution 96/2023 counts the council's bands over *tổng số đại biểu* (all deputies, the new optional
``members`` column), QĐ 96 the Party's over ballots collected. A band set says ``over members``; an
imported set keeps the base of the text that declares it, so one plan imports both texts without
conflict (was E306). Every backend asks :meth:`dsl.ir.Policy.base_at`; the tally reader checks the
base it needs at each venue and that no count exceeds the members; the report gives each level's
count and share over the base.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from checker.diff import diff_policies
from checker.solve import Checker
from dsl.diagnostics import PolicyError
from dsl.loader import load_policy
from dsl.parser import parse
from dsl.printer import format_file
from tests.conftest import EXAMPLES_DIR, POLICY_DIR
from tinnhiem.cli import main
from tinnhiem.report import percent_vi

PLAN = "thanhhoa-kh134.policy"
ROSTER = EXAMPLES_DIR / "roster.csv"
HEADER = "cadre_id,venue,issued,collected,high,confidence,low,convened,present,members"


def _copy(tmp_path: Path, over: str | None = "members") -> Path:
    folder = tmp_path / "policy"
    folder.mkdir()
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, folder / p.name)
    if over is not None:
        nq = folder / "nq96-qh15.policy"
        nq.write_text(nq.read_text(encoding="utf-8").replace("bands bands_hdnd {", f"bands bands_hdnd over {over} {{"),
                      encoding="utf-8")
    return folder / PLAN


def _evaluate(tmp_path: Path, plan: Path, rows: list[str]) -> tuple[int, dict]:
    tallies = tmp_path / "t.csv"
    tallies.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    code = main(["evaluate", "--roster", str(ROSTER), "--tallies", str(tallies), "--policy", str(plan), "--format", "json",
                 "--output", str(out)])
    return code, json.loads(out.read_text(encoding="utf-8"))


def test_over_is_printed_back_and_an_unknown_base_has_a_hint(tmp_path: Path) -> None:
    text = (POLICY_DIR / "nq96-qh15.policy").read_text(encoding="utf-8").replace("bands bands_hdnd {", "bands bands_hdnd over members {")
    assert "bands bands_hdnd over members {" in format_file(parse(text, "nq.policy"))
    bad = tmp_path / "nq.policy"
    bad.write_text(text.replace("over members", "over memebrs"), encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(bad)
    assert "E202" in err.value.render() and "did you mean 'members'?" in err.value.render()


def test_each_venue_counts_over_its_own_base(tmp_path: Path) -> None:
    pol = load_policy(_copy(tmp_path))
    assert pol.base_at("hdnd") == "members"
    assert pol.base_at("cap_uy") == pol.base_at("noi_cong_tac") == "collected"


def test_importing_texts_with_different_bases_proves_every_builtin(tmp_path: Path) -> None:
    report = Checker(load_policy(_copy(tmp_path))).run()
    statuses = {p.id: p.status for p in report.properties if p.id.startswith("builtin.")}
    assert "refuted" not in statuses.values() and "unknown" not in statuses.values(), statuses
    assert statuses["builtin.bands_cover"] == statuses["builtin.bands_disjoint"] == "proved"


def test_the_council_is_evaluated_over_all_its_members(tmp_path: Path) -> None:
    """Đỗ Trọng Hưng (TH00004, HĐND): 78 / 1 / 1 of 80 ballots; over 84 members the shares change."""
    plan = _copy(tmp_path)
    code, doc = _evaluate(tmp_path, plan, ["TH00004,hdnd,80,80,78,1,1,84,80,84"])
    assert code == 0, doc["rejected"]
    v = next(c for c in doc["cadres"] if c["cadre_id"] == "TH00004")["venues"][0]
    assert (v["base"], v["base_count"], v["denominator"]) == ("members", 84, "members")
    assert v["shares"] == {"high": "13/14", "confidence": "1/84", "low": "1/84"}
    assert v["percents"] == {"high": "92,86%", "confidence": "1,19%", "low": "1,19%"}
    assert v["low_share"] == "1/84"


def test_a_venue_over_members_needs_the_members_column(tmp_path: Path) -> None:
    plan = _copy(tmp_path)
    code, doc = _evaluate(tmp_path, plan, ["TH00004,hdnd,80,80,78,1,1,84,80,"])
    assert code == 1
    assert "over 'members' at this venue" in doc["rejected"][0]["reason"]


@pytest.mark.parametrize(("row", "says"), [
    ("TH00004,hdnd,90,90,80,5,5,,,84", "issued (90) is more than members (84)"),
    ("TH00004,hdnd,80,80,78,1,1,90,80,84", "convened (90) is more than members (84)"),
])
def test_no_count_exceeds_the_members(tmp_path: Path, row: str, says: str) -> None:
    code, doc = _evaluate(tmp_path, _copy(tmp_path), [row])
    assert code == 1 and says in doc["rejected"][0]["reason"]


@pytest.mark.parametrize("base", ["members", "issued"])
def test_diff_reports_a_changed_base_with_a_valid_tally_decided_differently(tmp_path: Path, base: str) -> None:
    """collected → members (or issued) for the council's set: each witness is a tally both read, whose band differs."""
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old, new = load_policy(_copy(tmp_path / "old", over=None)), load_policy(_copy(tmp_path / "new", over=base))
    assert new.base_at("hdnd") == base
    result = diff_policies(old, new)
    assert result.exit_code == 1
    bands = [d for d in result.differences if d.kind == "band"]
    assert bands, [d.kind for d in result.differences]
    for d in bands:
        w = d.witness
        for t in w.tallies:
            assert t.high + t.confidence + t.low <= t.collected <= t.issued
            if base == "members":
                assert t.members is not None
            if t.members is not None:
                assert t.issued <= t.members
            if t.convened is not None:
                assert t.present is not None and t.present <= t.convened <= t.members
        assert d.old.outcome != "invalid_session" and d.new.outcome != "invalid_session"
        assert d.old.bands != d.new.bands


@pytest.mark.parametrize(("share", "text"), [(Fraction(2, 3), "66,67%"), (Fraction(1, 80), "1,25%"), (Fraction(39, 40), "97,5%"),
                                             (Fraction(1), "100%"), (Fraction(0), "0%"), (Fraction(323, 485), "66,6%")])
def test_percentages_are_written_as_the_official_texts_write_them(share: Fraction, text: str) -> None:
    assert percent_vi(share) == text


def test_imports_that_count_over_different_shares_are_no_conflict(tmp_path: Path) -> None:
    """Was E306 ('declare different share'): NQ 96 over ballots issued, QĐ 96 over ballots collected."""
    plan = _copy(tmp_path, over=None)
    nq = plan.parent / "nq96-qh15.policy"
    nq.write_text(nq.read_text(encoding="utf-8").replace("share = low / collected", "share = low / issued"), encoding="utf-8")
    pol = load_policy(plan)
    assert pol.base_at("hdnd") == "issued"  # the council's set keeps the base of its own text
    # the plan's own band set names no base and the texts disagree: the plan must say which
    assert any("share" in m for m in pol.missing_for_tallies())
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text + '\nshare = low / collected cite KH134 "P11" "phiếu tín nhiệm thấp"\n', encoding="utf-8")
    pol = load_policy(plan)
    assert not pol.missing_for_tallies()
    assert (pol.base_at("cap_uy"), pol.base_at("hdnd")) == ("collected", "issued")
    code, doc = _evaluate(tmp_path, plan, ["TH00004,hdnd,80,74,73,0,1,,,"])
    assert code == 0 and next(c for c in doc["cadres"] if c["cadre_id"] == "TH00004")["venues"][0]["shares"]["low"] == "1/80"
