"""Each built-in property on a small policy that satisfies it (good/) and one that violates it (bad/).

For every fixture: the verdict of the property named by the file, the report against its golden file
(JSON without the timings; ``pytest --update-golden`` rewrites them), and for every refutation an
independent replay of the counterexample's CSV rows through the evaluator.
"""

from __future__ import annotations

import pytest

from checker.report import to_data
from checker.solve import check_policy
from dsl import ir
from dsl.loader import load_policy
from tests.checker.support import BAD, GOLDEN, GOOD, HERE, compare_golden, golden_json, violation_shown

BUILTINS = list(ir.BUILTIN_PROPERTIES)
GOOD_FILES = sorted(p.stem for p in GOOD.glob("*.policy"))
BAD_FILES = sorted(p.stem for p in BAD.glob("*.policy"))


def test_every_builtin_has_a_good_and_a_bad_fixture():
    for pid in BUILTINS:
        assert pid in GOOD_FILES, f"no good/{pid}.policy"
        assert pid in BAD_FILES, f"no bad/{pid}.policy"


def _report(path, monkeypatch):
    monkeypatch.chdir(path.parent.parent.parent.parent)  # the repository root: paths in reports are relative to it
    policy = load_policy(path, HERE)
    return policy, check_policy(policy, timeout_ms=20000)


def _status(report, pid: str) -> str:
    return next(p.status for p in report.properties if p.id == pid)


@pytest.mark.parametrize("name", GOOD_FILES)
def test_good(name, monkeypatch, update_golden):
    policy, report = _report(GOOD / f"{name}.policy", monkeypatch)
    match name:
        case "acknowledged":
            assert _status(report, "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau") == "acknowledged"
            assert report.exit_code == 0
        case "policy_property":
            assert {_status(report, p.name) for p in policy.properties} == {"proved"}
        case _ if name in BUILTINS:
            assert _status(report, f"builtin.{name}") == "proved"
    assert report.exit_code == 0, [(p.id, p.status, p.message) for p in report.properties if p.status != "proved"]
    compare_golden(GOLDEN / "good" / f"{name}.json", golden_json(to_data([report], report.exit_code)), update_golden)


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad(name, monkeypatch, update_golden):
    policy, report = _report(BAD / f"{name}.policy", monkeypatch)
    assert report.exit_code == 1
    match name:
        case "stale_acknowledgement":
            assert _status(report, "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau") == "stale"
            assert _status(report, "builtin.schedule_feasible") == "stale"
        case "stage_never_due":
            assert _status(report, "builtin.no_dead_rule") == "refuted"
            prop = next(p for p in report.properties if p.id == "builtin.no_dead_rule")
            assert "stage bo_phieu_tin_nhiem can never fire" in str(prop.message) or any(
                "stage bo_phieu_tin_nhiem" in str(f) for f in getattr(prop, "findings", ()))
        case "policy_property":
            assert _status(report, "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau") == "refuted"
            assert _status(report, "huyen_khong_o_noi_cong_tac") == "proved"
        case _:
            assert _status(report, f"builtin.{name}") == "refuted"
    data = to_data([report], report.exit_code)
    compare_golden(GOLDEN / "bad" / f"{name}.json", golden_json(data), update_golden)
    # every counterexample replays, independently of the checker's own replay, to the violation it claims
    refuted = [p for p in data["policies"][0]["properties"] if p["status"] == "refuted"]
    assert refuted or name == "stale_acknowledgement"
    for prop in refuted:
        for finding in prop["findings"]:
            if finding["counterexample"] is None:
                assert finding["core"], f"{prop['id']}: a refutation without a counterexample must give its unsat core"
                continue
            assert finding["counterexample"]["replay"]["exhibits"]
            assert violation_shown(prop["id"], policy, finding), (prop["id"], finding["counterexample"])


def test_bad_bands_cover_counterexample_is_at_the_boundary(monkeypatch):
    _, report = _report(BAD / "bands_cover.policy", monkeypatch)
    prop = next(p for p in report.properties if p.id == "builtin.bands_cover")
    (t,) = prop.findings[0].counterexample.tallies
    assert 3 * t.low == 2 * t.collected  # exactly 2/3: 'cao' is written 'share > 2/3'


def test_bad_schedule_names_the_conflicting_phase_constraints(monkeypatch):
    _, report = _report(BAD / "schedule_feasible.policy", monkeypatch)
    prop = next(p for p in report.properties if p.id == "builtin.schedule_feasible")
    (finding,) = prop.findings
    assert finding.counterexample is None
    assert {r.key for r in finding.core} == {"phase:hdnd_truoc:from 2023-10-01", "phase:cap_uy_sau:after hdnd_truoc",
                                             "phase:cap_uy_sau:by 2023-06-30"}
    assert "nothing to replay" in finding.message


def test_bad_no_dead_rule_names_the_dead_rule_and_why(monkeypatch):
    _, report = _report(BAD / "no_dead_rule.policy", monkeypatch)
    prop = next(p for p in report.properties if p.id == "builtin.no_dead_rule")
    dead = {f.obligation.subject for f in prop.findings}
    # hdnd_tat_ca overrides both rules whenever a title elected by the HĐND is held
    assert dead == {"venue rule hdnd_rieng", "venue rule hdnd_rieng, item 1 (hdnd always)", "venue rule chung, item 2 (hdnd when)"}
    for f in prop.findings:
        assert "venue_rule:hdnd_tat_ca" in {r.key for r in f.core}
