"""Bad fixtures of the shapes a check gets wrong (``bad/shapes/``): each violates one property in one way.

Takes the policies of ``bad/shapes/`` (the good counterparts are in ``good/``, checked by
``test_fixtures.py``): a second band set of two bands with inverted severities, a refining band set with
a band renamed, one with a threshold moved (and nothing else changed), a ``max_venues`` above the
import's. For each: ``check`` exits 1 with the named property refuted — by the finding that says why —
and every other property as the golden file records it (``golden/bad/shapes``; ``pytest --update-golden``
rewrites them); every counterexample replays through the evaluator, stated independently of the
checker's replay (:func:`tests.checker.support.violation_shown`).
"""

from __future__ import annotations

import pytest

from checker.report import to_data
from checker.solve import check_policy
from dsl.evaluator import Evaluator
from dsl.loader import load_policy
from tests.checker.support import BAD, GOLDEN, HERE, cadres_from_csv, compare_golden, golden_json, violation_shown

SHAPES = BAD / "shapes"
#: fixture → (the property it violates, the subjects of the findings that refute it)
EXPECTED = {
    "severity_monotone_second_set": ("builtin.severity_monotone", {"band set hai_muc"}),
    "refinement_renamed_band": ("builtin.refinement_keeps", {"band set muc refines tw.muc"}),
    "refinement_band_moved": ("builtin.refinement_keeps", {"band set muc refines tw.muc"}),
    "refinement_max_venues": ("builtin.refinement_keeps", {"max_venues (3) against tw.max_venues (2)", "venues beyond tw.max_venues (2)"}),
}


def test_every_shape_fixture_is_expected():
    assert sorted(p.stem for p in SHAPES.glob("*.policy")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shape(name, monkeypatch, update_golden):
    monkeypatch.chdir(HERE.parent.parent)  # the repository root: paths in reports are relative to it
    policy = load_policy(SHAPES / f"{name}.policy", HERE)
    report = check_policy(policy, timeout_ms=20000)
    pid, subjects = EXPECTED[name]
    assert report.exit_code == 1
    prop = next(p for p in report.properties if p.id == pid)
    assert prop.status == "refuted"
    assert {f.obligation.subject for f in prop.findings} == subjects
    others = {p.id: p.status for p in report.properties if p.id != pid}
    assert set(others.values()) <= {"proved", "not_applicable"}, others
    data = to_data([report], report.exit_code)
    compare_golden(GOLDEN / "bad" / "shapes" / f"{name}.json", golden_json(data), update_golden)
    for p in data["policies"][0]["properties"]:
        for finding in p["findings"] if p["status"] == "refuted" else ():
            cx = finding["counterexample"]
            if cx is None:
                continue
            assert cx["replay"]["exhibits"]
            if finding["subject"].startswith("venues beyond"):  # a cadre voted at more venues than the import allows
                (cadre,) = cadres_from_csv(cx["roster_csv"], policy)
                assert len(Evaluator(policy, cx["year"]).plan(cadre).venues) > 2, cx
            else:
                assert violation_shown(p["id"], policy, finding), (p["id"], cx)


def test_the_inverted_pair_is_the_second_sets(monkeypatch):
    """The counterexample is two tallies of the two-band set: the smaller share 'dat', the larger 'khong_dat'."""
    monkeypatch.chdir(HERE.parent.parent)
    policy = load_policy(SHAPES / "severity_monotone_second_set.policy", HERE)
    prop = next(p for p in check_policy(policy, timeout_ms=20000).properties if p.id == "builtin.severity_monotone")
    (finding,) = prop.findings
    t1, t2 = finding.counterexample.tallies
    assert t1.band_set == t2.band_set == "hai_muc"
    assert 2 * t1.low <= t1.collected and 2 * t2.low > t2.collected and t1.low * t2.collected < t2.low * t1.collected


def test_the_renamed_band_is_the_difference(monkeypatch):
    monkeypatch.chdir(HERE.parent.parent)
    policy = load_policy(SHAPES / "refinement_renamed_band.policy", HERE)
    prop = next(p for p in check_policy(policy, timeout_ms=20000).properties if p.id == "builtin.refinement_keeps")
    (finding,) = prop.findings
    (t,) = finding.counterexample.tallies
    assert 3 * t.low >= 2 * t.collected  # from 2/3 up: 'tu_2_3' here, 'cao' in the central text
    assert "tu_2_3" in finding.counterexample.replay.shows and "cao" in finding.counterexample.replay.shows
