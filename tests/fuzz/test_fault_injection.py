"""Fault injection: plant a bug in the compiled evaluator; the differential test must find it.

Takes the bundled plan and three planted bugs — ``share <= p`` compiled as ``share < p`` and
``share >= p`` compiled as ``share > p`` (monkeypatching :func:`dsl.evaluator.compile_share`), and an
``otherwise`` item compiled as unconditional (an evaluator built from a policy whose ``otherwise``
items became ``always``: the model still encodes the real policy) — and asserts that
:func:`checker.fuzz.run_fuzz` finds each within the CI budget of 10**4 inputs, with a witness
Hypothesis has shrunk to the boundary: a share of exactly 1/2, exactly 2/3, a single title whose
earlier venue item fires.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

import dsl.evaluator as evaluator_module
import policy as bundled
from checker.fuzz import render_failure, run_fuzz
from dsl import ir
from dsl.evaluator import Evaluator, Tally
from dsl.loader import load_policy

KH134 = load_policy(bundled.path())
BUDGET = 10_000


def _plant(monkeypatch: pytest.MonkeyPatch, op: str, wrong: str) -> None:
    """Compile every ``share OP p`` of a band condition as ``share WRONG p``."""
    original = evaluator_module.compile_share

    def compile_share(e: ir.Expr):
        if isinstance(e, ir.ShareCmp) and e.op == op:
            e = ir.ShareCmp(wrong, e.value)  # type: ignore[arg-type]
        return original(e)

    monkeypatch.setattr(evaluator_module, "compile_share", compile_share)


def _witness_shares(report) -> dict[str, Fraction]:
    """The share of each tally of the witness on which the two sides decide a band differently."""
    f = report.failure
    assert f is not None and f.comparison is not None and f.comparison.model is not None
    venues = set()
    for d in f.comparison.evaluator.differences(f.comparison.model):
        if d.startswith("band("):
            venues.add(d[len("band("):-1])
        elif d.startswith("band set "):
            venues.add(d.rsplit(" at ", 1)[1])
    return {v: Fraction(f.input.at[v].low, f.input.at[v].collected) for v in venues}


@pytest.mark.parametrize(("op", "wrong", "threshold"), [("<=", "<", Fraction(1, 2)), (">=", ">", Fraction(2, 3))],
                         ids=["le-as-lt-at-one-half", "ge-as-gt-at-two-thirds"])
def test_a_strict_comparison_is_found_at_the_threshold(monkeypatch, op, wrong, threshold):
    _plant(monkeypatch, op, wrong)
    # the bug is live: a share exactly at the threshold falls in no band
    d, low = 2 * threshold.denominator, 2 * threshold.numerator
    at = Tally("noi_cong_tac", d, d, d - low, 0, low)
    assert Evaluator(KH134).band("noi_cong_tac", at).band is None

    report = run_fuzz(KH134, BUDGET, seed=5)
    assert report.failure is not None, f"the planted bug ({op} compiled as {wrong}) went unnoticed in {report.inputs} inputs"
    assert report.inputs <= BUDGET
    shares = _witness_shares(report)
    assert shares and set(shares.values()) == {threshold}, render_failure(report)
    # shrunk: the smallest counts that make the share (1/2 = 1 of 2, 2/3 = 2 of 3)
    assert all(report.failure.input.at[v].collected == threshold.denominator for v in shares), render_failure(report)
    assert "tallies.csv" in render_failure(report)


def test_otherwise_taken_unconditionally_is_found(monkeypatch):
    def otherwise_as_always(pol: ir.Policy) -> ir.Policy:
        rules = tuple(dataclasses.replace(r, items=tuple(dataclasses.replace(it, kind="always") if it.kind == "otherwise" else it
                                                         for it in r.items)) for r in pol.venue_rules)
        return dataclasses.replace(pol, venue_rules=rules)

    buggy = otherwise_as_always(KH134)
    from dsl.evaluator import Cadre

    assert Evaluator(buggy).plan(Cadre("x", "province", frozenset({"bi_thu"}))).proposed == ("cap_uy", "noi_cong_tac")

    report = run_fuzz(KH134, BUDGET, seed=5, factory=lambda pol, year: Evaluator(otherwise_as_always(pol), year))
    assert report.failure is not None, f"the planted bug went unnoticed in {report.inputs} inputs"
    f = report.failure
    assert f.comparison is not None and f.comparison.model is not None
    assert "noi_cong_tac" in f.comparison.evaluator.proposed and "noi_cong_tac" not in f.comparison.model.proposed
    # shrunk to one title of a set whose earlier item (cap_uy or hdnd) fires
    assert len(f.input.cadre.titles) == 1, render_failure(report)
    assert f.comparison.model.proposed in (("cap_uy",), ("hdnd",)), render_failure(report)
