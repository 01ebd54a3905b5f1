"""Differential test: the compiled evaluator against the Z3 model, on 10**4 generated inputs.

Takes the bundled policies (and one fixture with a share over ballots issued and a quorum); for each
input drawn by :mod:`checker.strategies`, the evaluator's decision (status, exemptions, proposed
venues, venues, each venue's band and session validity, the outcome, and the band each band set
decides for each tally) must equal what the Z3 model gives once the input is pinned, and the model
must force it (the negation is unsat); every property the checker proves must hold on the evaluator's
output; every rule must fire on some input. Also: the strategies hit what they promise (thresholds
exactly and ±1 vote, 0 low, all low, 10**12, collected < issued, the quorum ratio); an acknowledged
finding is found by fuzzing too (so the property checks can fail); and the CSV rows the strategies
make, read by ``tinnhiem evaluate``, come out decided as the evaluator decides them.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policy as bundled
from checker.decode import roster_csv, tallies_csv
from checker.fuzz import proved_properties, render_failure, run_fuzz
from checker.fuzz_oracle import Oracle, PerInput
from checker.strategies import FuzzInput, inputs, profile, roster_row, tallies, tally_row
from dsl.loader import load_policy
from tests.checker.support import GOOD
from tests.fuzz.budget import scaled
from tinnhiem.cli import main

KH134 = load_policy(bundled.path())
QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

#: (policy, inputs): 10**4 in all, most of them on the plan that decides venues.
BUDGET = [
    (bundled.path("thanhhoa-kh134.policy"), 7000),
    (bundled.path("qd96.policy"), 1000),
    (bundled.path("nq96-qh15.policy"), 1000),
    (GOOD / "quorum_issued.policy", 1000),
]


def test_the_budget_is_ten_thousand_inputs():
    assert sum(n for _, n in BUDGET) >= 10_000


@pytest.mark.parametrize(("path", "count"), BUDGET, ids=[p.name for p, _ in BUDGET])
def test_evaluator_decides_what_the_model_forces(path: Path, count: int):
    pol = load_policy(path)
    report = run_fuzz(pol, scaled(count), seed=134)
    assert report.failure is None, render_failure(report)
    assert report.inputs == scaled(count)
    # every proved property that one input can violate was held to the evaluator's output
    assert report.proved, "the checker proves nothing for this policy?"
    # and the strategies reach every rule (scope rules, exemptions, venue rules and items, bands)
    assert report.rules <= report.fired, f"never fired: {sorted(report.rules - report.fired)}"


def test_an_acknowledged_finding_is_found_by_fuzzing_too():
    """F1 (P6 sends a Party-board head to the HĐND) is refuted by the checker and acknowledged; held to
    the evaluator as if it had been proved, the fuzzer must find it: the property checks can fail."""
    prop = "hdnd_chi_lay_phieu_chuc_danh_do_hdnd_bau"
    assert prop not in proved_properties(KH134)
    report = run_fuzz(KH134, 3000, seed=1, proved=(prop,))
    assert report.failure is not None
    assert report.failure.violated == (prop,)
    cadre = report.failure.input.cadre
    assert "hdnd" in report.failure.comparison.evaluator.venues
    assert "truong_ban_dang" in cadre.titles and cadre.titles & {"bi_thu", "pho_bi_thu", "uv_btv"}
    assert "property:  hdnd_chi_lay_phieu_chuc_danh_do_hdnd_bau" in render_failure(report)


# ---- the same from pytest, directly: how a user holds their own policy to the model ----------------

PROFILE = profile(KH134)
ORACLE = Oracle(KH134, PROFILE.year, PROFILE.venues)
PER_INPUT = PerInput(KH134, ORACLE.ev, proved_properties(KH134))


@settings(max_examples=scaled(300), suppress_health_check=QUIET)
@given(inputs(PROFILE))
def test_one_input_at_a_time_with_given(inp: FuzzInput):
    c = ORACLE.compare(inp)
    assert c.agrees, c.problems
    assert c.model == c.evaluator
    assert not PER_INPUT.violations(inp, c.decision)


# ---- the strategies do what they promise ------------------------------------------------------------


def test_tallies_hit_thresholds_edges_and_huge_counts():
    den = PROFILE.denominator
    seen: set[str] = set()

    @settings(max_examples=scaled(1500), suppress_health_check=QUIET)
    @given(st.sampled_from(PROFILE.venues).flatmap(lambda v: tallies(PROFILE, v)))
    def run(t):
        assert min(t.issued, t.collected, t.high, t.confidence, t.low) >= 0
        assert t.high + t.confidence + t.low <= t.collected <= t.issued
        assert (t.convened is None) == (t.present is None)
        if t.convened is not None:
            assert 0 <= t.present <= t.convened
        d = t.get(den)
        assert d >= 1
        share = Fraction(t.low, d)
        for th in (Fraction(1, 2), Fraction(2, 3)):
            if share == th:
                seen.add(f"at {th}")
            if t.low + 1 <= d and Fraction(t.low + 1, d) == th:
                seen.add(f"one below {th}")
            if t.low >= 1 and Fraction(t.low - 1, d) == th:
                seen.add(f"one above {th}")
        flags = {"0 low": t.low == 0, "all low": t.low == d, "huge": d >= 10**11, "collected < issued": t.collected < t.issued}
        if t.convened is not None and t.convened > 0:
            flags["quorum exactly 2/3"] = t.present * 3 == 2 * t.convened
            flags["quorum one below 2/3"] = t.present * 3 < 2 * t.convened <= (t.present + 1) * 3
        seen.update(k for k, v in flags.items() if v)

    run()
    for want in ("at 1/2", "one below 1/2", "one above 1/2", "at 2/3", "one below 2/3", "one above 2/3", "0 low",
                 "all low", "huge", "collected < issued", "quorum exactly 2/3", "quorum one below 2/3"):
        assert want in seen, f"the tallies never hit: {want}"


def test_cadres_combine_the_titles_of_the_exception():
    """P6 needs a Standing Committee title and a P6 title together; the strategies make both levels,
    every year next to the vote year and empty cells."""
    seen: set[str] = set()

    @settings(max_examples=scaled(600), suppress_health_check=QUIET)
    @given(inputs(PROFILE))
    def run(inp):
        c = inp.cadre
        plan = ORACLE.ev.plan(c)
        seen.update(f"rule {r}" for r in plan.active_rules)
        seen.add(f"level {c.level}")
        seen.add(f"year {c.facts.get('appointed_year', 'empty')}")
        seen.update(f"exemption {x.name}" for x in plan.exemptions)

    run()
    for want in ("rule p5", "rule p6", "level province", "level district", "year 2022", "year 2023", "year 2024",
                 "year empty", "exemption p7_cho_nghi_huu", "exemption p7_moi_bo_nhiem"):
        assert want in seen, f"never generated: {want}"


# ---- end to end: the brief's CSV rows through the readers and `tinnhiem evaluate` -------------------


def _planned_rows(inp: FuzzInput) -> tuple[str, str]:
    plan = ORACLE.ev.plan(inp.cadre)
    rows = [tally_row(inp.cadre.cadre_id, t) for t in inp.tallies if t.venue in plan.venues]
    return roster_csv([roster_row(PROFILE, inp.cadre)]), tallies_csv(rows) if rows else "cadre_id,venue,issued,collected,high,confidence,low\n"


@settings(max_examples=scaled(60), suppress_health_check=QUIET)
@given(inputs(PROFILE))
def test_csv_rows_through_evaluate_decide_as_the_evaluator(inp: FuzzInput):
    roster, tallies_text = _planned_rows(inp)
    expected = ORACLE.compare(inp).evaluator
    with tempfile.TemporaryDirectory() as tmp:
        r, t, out = Path(tmp, "roster.csv"), Path(tmp, "tallies.csv"), Path(tmp, "out.json")
        r.write_text(roster, encoding="utf-8")
        t.write_text(tallies_text, encoding="utf-8")
        code = main(["evaluate", "--roster", str(r), "--tallies", str(t), "--format", "json", "--output", str(out)])
        assert code == 0, (roster, tallies_text)
        doc = json.loads(out.read_text(encoding="utf-8"))
    (cadre,) = doc["cadres"]
    assert cadre["status"] == expected.status
    assert [v["venue"] for v in cadre["venues"]] == list(expected.venues)
    assert [v["band"] for v in cadre["venues"]] == [r.band for r in expected.results]
    assert cadre["outcome"] == expected.outcome
    assert [x["rule"] for x in cadre["exemptions"]] == list(expected.exemptions)


def test_csv_row_strategies_give_the_briefs_columns():
    from checker.strategies import roster_rows, tally_rows

    @settings(max_examples=scaled(50), suppress_health_check=QUIET)
    @given(roster_rows(PROFILE), tally_rows(PROFILE))
    def run(r, t):
        assert list(r)[:7] == ["cadre_id", "full_name", "level", "unit", "titles", "retirement_notice", "appointed_year"]
        assert list(t) == ["cadre_id", "venue", "issued", "collected", "high", "confidence", "low", "convened", "present", "members"]
        row = next(csv.reader(io.StringIO(",".join(t.values()))))
        assert all(x == "" or x.isdigit() for x in row[2:])

    run()
