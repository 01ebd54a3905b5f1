"""What a first-time drafter met (issue 12), each held by a test that failed before its fix.

- ``explain --format json`` (documented in the drafting guide) was refused: it now writes the trace
  steps with their full citations and the decision (the cadre object of ``evaluate``);
- ``two_venues`` is optional — ``evaluate`` runs without it — and the language reference says so;
- ``tinnhiem test`` printed its summary before the diagnostics of a policy it could not load: they
  now come in the file's place, and the summary is the last line;
- the bundled central text ``qd96.policy`` cited Thanh Hóa's plan for its own bands, so that every
  text importing it inherited a provincial citation.

(The hints of E307 and of a tally count in a band condition are golden diagnostics in
``tests/dsl/bad/``; the counterexample CSV lines of ``check`` are in ``tests/checker``.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.loader import load_policy
from tests.conftest import POLICY_DIR, ROOT
from tinnhiem.cli import main

GOOD = ROOT / "tests" / "checker" / "good"
ROSTER = ("cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year\n"
          "C1,Nguyễn Văn An,province,Tỉnh ủy,bi_thu;ct_hdnd,false,2020\n"
          "C2,Trần Thị Bình,province,Sở Tài chính,gd_so,false,2020\n")
TALLIES = ("cadre_id,venue,issued,collected,high,confidence,low\n"
           "C1,cap_uy,9,9,1,2,6\n"  # 6/9 = 2/3 → cao
           "C1,hdnd,80,80,78,1,1\n"  # 1/80 → thap
           "C2,noi_cong_tac,50,47,10,12,25\n")  # 25/47 → giua


def _files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "r.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "t.csv").write_text(TALLIES, encoding="utf-8")
    return str(tmp_path / "r.csv"), str(tmp_path / "t.csv")


# ---- 1. explain --format json ------------------------------------------------------------------------


def test_explain_json_gives_the_trace_with_citations_and_the_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster, tallies = _files(tmp_path)
    policy = str(GOOD / "voted_has_venue.policy")
    assert main(["explain", "C2", "--roster", roster, "--tallies", tallies, "--policy", policy, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"policy", "inputs", "year", "cadre", "evaluated", "trace", "decision", "rejected"}
    assert doc["evaluated"] is True and doc["year"] == 2023 and doc["rejected"] == []
    assert doc["cadre"]["cadre_id"] == "C2" and doc["cadre"]["facts"] == {"retirement_notice": False, "appointed_year": 2020}
    assert [(s["kind"], s["rule"]) for s in doc["trace"]] == [("scope", "s_tinh"), ("venue_rule", "chung"), ("band", "giua")]
    band = doc["trace"][-1]
    assert band["cite"] == {"doc": "T", "doc_title": "Văn bản thử nghiệm", "para": "Điều 8",
                            "quote": "trên một nửa, dưới hai phần ba", "label": "T Điều 8"}
    assert doc["decision"]["outcome"] == "giua" and doc["decision"]["venues"][0]["band"] == "giua"
    # the decision is the very object evaluate writes for this cadre
    assert main(["evaluate", "--roster", roster, "--tallies", tallies, "--policy", policy, "--format", "json"]) == 0
    evaluated = {c["cadre_id"]: c for c in json.loads(capsys.readouterr().out)["cadres"]}
    assert doc["decision"] == evaluated["C2"]
    assert doc["inputs"]["tallies_sha256"] and doc["inputs"]["roster_sha256"]


def test_explain_json_without_tallies_and_into_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster, _ = _files(tmp_path)
    out = tmp_path / "why.json"
    assert main(["explain", "C1", "--roster", roster, "--policy", str(GOOD / "voted_has_venue.policy"),
                 "--format", "json", "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["evaluated"] is False and doc["decision"]["venues"] == [{"venue": "cap_uy", "cite": "T Điều 5"},
                                                                       {"venue": "hdnd", "cite": "T Điều 5"}]
    assert [s["kind"] for s in doc["trace"]] == ["scope", "venue_rule"] and "tallies_sha256" not in doc["inputs"]


def test_explain_text_stays_the_default_and_a_rejected_row_is_json_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster, tallies = _files(tmp_path)
    policy = str(GOOD / "voted_has_venue.policy")
    assert main(["explain", "C2", "--roster", roster, "--tallies", tallies, "--policy", policy]) == 0
    text = capsys.readouterr().out
    assert "T Điều 8" in text and "outcome: giua" in text and not text.lstrip().startswith("{")
    bad = tmp_path / "bad.csv"
    bad.write_text(ROSTER + "C3,Lê Văn Cường,nowhere,Sở Y tế,gd_so,false,2020\n", encoding="utf-8")
    assert main(["explain", "C3", "--roster", str(bad), "--policy", policy, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["cadre"] is None and doc["decision"] is None and doc["trace"] == []
    assert [r["line"] for r in doc["rejected"]] == [4] and doc["rejected"][0]["cadre_id"] == "C3"


def test_explain_takes_the_formats_its_documentation_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--help"]) == 0
    assert "--format {text,json}" in capsys.readouterr().out
    guide = (ROOT / "docs" / "drafting.md").read_text(encoding="utf-8")
    assert "`explain` takes `--format text|json`" in guide
    assert "[--format text\\|json]" in (ROOT / "README.md").read_text(encoding="utf-8")


# ---- 2. two_venues is optional -----------------------------------------------------------------------


def test_two_venues_is_optional_and_the_reference_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "voted_has_venue.policy"
    pol = load_policy(path)
    assert pol.combine is None and pol.max_venues is not None and pol.max_venues.count == 2
    assert not pol.missing_for_evaluation() and not pol.missing_for_tallies()
    roster, tallies = _files(tmp_path)
    assert main(["evaluate", "--roster", roster, "--tallies", tallies, "--policy", str(path), "--format", "json"]) == 0
    c1 = json.loads(capsys.readouterr().out)["cadres"][0]
    # without two_venues, the outcome of a cadre at two venues is the band of the first in priority order
    assert [(v["venue"], v["band"]) for v in c1["venues"]] == [("cap_uy", "cao"), ("hdnd", "thap")] and c1["outcome"] == "cao"
    ref = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    start = ref.index("### 3.19 `two_venues`")
    section = ref[start:ref.index("\n### ", start)]
    assert "`two_venues` is **optional**" in section and "band of the first" in section
    assert "does not cover" not in ref[ref.index("## 6. How decisions are made"):]
    assert "`two_venues` is optional" in (ROOT / "docs" / "drafting.md").read_text(encoding="utf-8")


# ---- 6. tinnhiem test: diagnostics first, the summary last -------------------------------------------


BAD = ROOT / "tests" / "dsl" / "bad" / "E307_example_no_level.policy"


def test_test_prints_diagnostics_before_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(BAD), str(GOOD / "two_bases.policy")]) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[-1] == "2 passed, 0 failed, 1 not tested (2 errors)"  # the summary is last, and counts the errors
    first = next(i for i, line in enumerate(lines) if "error[E307]" in line)
    assert lines[first - 1].endswith("E307_example_no_level.policy — not tested: 2 errors")
    assert first < next(i for i, line in enumerate(lines) if "good_two_bases" in line)  # in the file's place
    assert "gives no level" in err and "^^^" in err  # the whole diagnostic on stderr, as check does


def test_test_summary_is_last_when_both_streams_are_one() -> None:
    proc = subprocess.run([sys.executable, "-m", "tinnhiem", "test", str(BAD), str(GOOD / "two_bases.policy")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2
    lines = proc.stdout.rstrip("\n").splitlines()
    assert lines[-1].startswith("2 passed, 0 failed")
    assert max(i for i, line in enumerate(lines) if "error[E307]" in line or line.startswith("help:")) < len(lines) - 1


# ---- 7. qd96.policy cites QĐ 96 for its bands -----------------------------------------------------------


def test_the_central_text_cites_itself_for_its_bands() -> None:
    qd96 = load_policy(POLICY_DIR / "qd96.policy")
    for bs in qd96.band_sets:
        for band in bs.bands:
            assert band.cite.doc == "QD96", (band.code, band.cite.label)
            assert band.cite.para.startswith("điều khoản chưa xác minh"), band.cite.para  # the article is not verified
    # the plan keeps its own citations where it refines the bands
    plan = load_policy(POLICY_DIR / "thanhhoa-kh134.policy")
    kh134 = next(bs for bs in plan.band_sets if bs.name == "kh134")
    assert {b.cite.doc for b in kh134.bands} == {"KH134"}
    # no band of an importer that takes qd96's bands as they are inherits a provincial citation
    assert not re.search(r'cite KH134 "P1[012]"', (POLICY_DIR / "qd96.policy").read_text(encoding="utf-8"))
