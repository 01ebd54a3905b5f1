"""The tree-walking interpreter (:mod:`dsl.interpret`) and the compiled evaluator decide alike.

Takes the bundled policy with the sample province, and every policy of the checker's fixtures
(good and bad, refinements and ``bad/shapes`` included: overlapping bands, uncovered shares, conflicting
rules, truncated venues, connectives of three operands …) with
seeded random roster rows and tallies; checks that :func:`interpret_decide` and
:meth:`Evaluator.decide` return equal decisions — plan, trace step for step, bands, outcome — and
that :meth:`Evaluator.band_rule` is the band :meth:`Evaluator.band` reports.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import policy as bundled
from dsl import ir
from dsl.evaluator import Cadre, Tally, compile_policy
from dsl.interpret import interpret_decide, interpret_plan
from dsl.loader import load_policy
from tests.conftest import EXAMPLES_DIR, ROOT
from tinnhiem.roster import read_roster
from tinnhiem.tallies import TallyRow, read_tallies

CHECKER = ROOT / "tests" / "checker"
#: every good and bad fixture of the checker (``lib/`` holds what they import: it plans nothing)
FIXTURES = sorted(p for p in CHECKER.rglob("*.policy") if p.relative_to(CHECKER).parts[0] in ("good", "bad"))


def _random_cadre(rng: random.Random, pol: ir.Policy, year: int, i: int) -> Cadre:
    titles = frozenset(rng.sample(pol.title_codes(), rng.randint(0, min(3, len(pol.title_codes())))))
    facts: dict[str, bool | int] = {}
    for f in pol.facts:
        if f.type == "bool":
            facts[f.name] = rng.random() < 0.2
        elif rng.random() < 0.9:
            facts[f.name] = year + rng.randint(-3, 1)
    return Cadre(f"R{i}", rng.choice(pol.level_codes()), titles, facts)


def _random_tallies(rng: random.Random, pol: ir.Policy) -> dict[str, Tally]:
    out = {}
    for v in pol.venue_codes():
        if rng.random() < 0.15:
            continue
        issued = rng.randint(0, 60)
        collected = rng.randint(0, issued)
        low = rng.randint(0, collected)
        high = rng.randint(0, collected - low)
        convened = rng.randint(0, 80) if rng.random() < 0.7 else None
        present = rng.randint(0, convened) if convened is not None else None
        out[v] = Tally(v, issued, collected, high, collected - low - high, low, convened, present)
    return out


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(CHECKER)))
def test_interpreter_agrees_on_random_rows(path: Path) -> None:
    pol = load_policy(path, CHECKER)  # the refinement fixtures import ../lib: the policy root is tests/checker
    year = pol.vote_year or 2023
    ev = compile_policy(pol, year)
    rng = random.Random(path.name)
    for i in range(300):
        cadre = _random_cadre(rng, pol, year, i)
        tallies = _random_tallies(rng, pol)
        assert interpret_plan(pol, cadre, year) == ev.plan(cadre)
        assert interpret_decide(pol, cadre, tallies, year) == ev.decide(cadre, tallies)
        for v, t in tallies.items():
            assert ev.band_rule(v, t) is ev.band(v, t).band


def test_interpreter_agrees_on_the_sample_province() -> None:
    pol = load_policy(bundled.path())
    ev = compile_policy(pol)
    roster = read_roster(str(EXAMPLES_DIR / "roster.csv"), pol)
    plans = {e.cadre.cadre_id: ev.plan(e.cadre) for e in roster.entries}
    tallies: dict[str, dict[str, Tally]] = {}
    for item in read_tallies(str(EXAMPLES_DIR / "tallies.csv"), pol, plans, {}, lambda: []).rows:
        assert isinstance(item, TallyRow)
        tallies.setdefault(item.cadre_id, {})[item.tally.venue] = item.tally
    for e in roster.entries:
        own = tallies.get(e.cadre.cadre_id, {})
        assert interpret_decide(pol, e.cadre, own) == ev.decide(e.cadre, own)
