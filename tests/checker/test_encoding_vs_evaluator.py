"""Differential test of the encoding: pin the symbolic inputs to a random roster row and tallies, and
the derived Z3 terms (status, proposed venues, venues, bands, session validity, outcome) must equal
what the compiled evaluator decides for the same row."""

from __future__ import annotations

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

import policy as bundled
from checker.encode import Encoder, all_facts
from dsl.evaluator import Cadre, Evaluator, Tally
from dsl.loader import load_policy
from tests.checker.support import GOOD

POLICIES = [load_policy(bundled.path()), load_policy(GOOD / "quorum_issued.policy"), load_policy(GOOD / "no_conflict.policy")]


class _Pinned:
    def __init__(self, policy):
        self.policy = policy
        enc = Encoder(policy)
        self.r = enc.roster()
        self.plan = enc.plan(self.r)
        self.tallies = enc.venue_tallies()
        self.outcome = enc.outcome(self.plan, self.tallies)
        self.bands = {v: enc.bands(policy.band_set_at(v), self.tallies[v]) for v in policy.venue_codes() if policy.band_set_at(v)}
        self.valid = {v: enc.session_valid(self.tallies[v]) for v in policy.venue_codes()}
        self.solver = z3.Solver()
        self.solver.add(*enc.constraints)
        for d in enc.definitions:
            self.solver.add(d.formula)
        self.ev = Evaluator(policy)


PINNED = [_Pinned(p) for p in POLICIES]


@st.composite
def _tally(draw, venue: str, den: str):
    issued = draw(st.integers(1, 12))
    collected = draw(st.integers(1 if den == "collected" else 0, issued))
    low = draw(st.integers(0, collected))
    high = draw(st.integers(0, collected - low))
    conf = draw(st.integers(0, collected - low - high))
    if draw(st.booleans()):
        convened = draw(st.integers(issued, 12))  # every ballot issued went to someone present
        present = draw(st.integers(issued, convened))
    else:
        convened = present = None
    return Tally(venue, issued, collected, high, conf, low, convened, present)


@st.composite
def _case(draw):
    pin = draw(st.sampled_from(PINNED))
    p = pin.policy
    level = draw(st.sampled_from(p.level_codes()))
    titles = frozenset(draw(st.sets(st.sampled_from(p.title_codes()), min_size=draw(st.sampled_from([1, 1, 1, 0])), max_size=4)))
    y = p.vote_year
    facts = {}
    for f in all_facts(p):
        if f.type == "bool":
            facts[f.name] = draw(st.booleans())
        else:
            v = draw(st.sampled_from([None, y - 1, y, y + 1, 1990]))
            if v is not None:
                facts[f.name] = v
    den = p.default_base()
    tallies = {}
    for v in p.venue_codes():
        if draw(st.sampled_from([True] * 9 + [False])):
            tallies[v] = draw(_tally(v, den))
    return pin, Cadre("x", level, titles, facts), tallies


def _pin(pin: _Pinned, cadre: Cadre, tallies: dict[str, Tally]) -> list[z3.BoolRef]:
    p, r = pin.policy, pin.r
    eqs = [r.level == p.level_codes().index(cadre.level)]
    eqs += [t == z3.BoolVal(code in cadre.titles) for code, t in r.titles.items()]
    for name, term in r.facts.items():
        if name in r.given:
            has = name in cadre.facts
            eqs.append(r.given[name] == z3.BoolVal(has))
            if has:
                eqs.append(term == cadre.facts[name])
        else:
            eqs.append(term == z3.BoolVal(bool(cadre.facts.get(name, False))))
    for v, tv in pin.tallies.items():
        t = tallies.get(v)
        eqs.append(tv.given == z3.BoolVal(t is not None))
        if t is None:
            continue
        eqs += [tv.issued == t.issued, tv.collected == t.collected, tv.high == t.high, tv.confidence == t.confidence, tv.low == t.low]
        eqs.append(tv.quorum_given == z3.BoolVal(t.convened is not None))
        if t.convened is not None:
            eqs += [tv.convened == t.convened, tv.present == t.present]
    return eqs


@settings(max_examples=300)
@given(_case())
def test_encoding_decides_what_the_evaluator_decides(case):
    pin, cadre, tallies = case
    s = pin.solver
    s.push()
    try:
        s.add(*_pin(pin, cadre, tallies))
        assert s.check() == z3.sat  # the definitions determine every derived term
        m = s.model()

        def val(term) -> bool:
            return z3.is_true(m.eval(term, model_completion=True))

        d = pin.ev.decide(cadre, tallies)
        status = next(k for k, t in pin.plan.status.items() if val(t))
        assert status == d.plan.status
        assert tuple(v for v in pin.policy.venue_codes() if val(pin.plan.proposed[v])) == d.plan.proposed
        assert tuple(v for v in pin.policy.venue_codes() if val(pin.plan.venues[v])) == d.plan.venues
        assert {n for n, t in pin.plan.active.items() if val(t)} == set(d.plan.active_rules)
        assert {x for x, t in pin.plan.exemptions.items() if val(t)} == {x.name for x in d.plan.exemptions}
        for r in d.results:
            if r.tally is None:
                continue
            bt = pin.bands[r.venue]
            band = next((c for c, t in bt.first.items() if val(t)), None)
            assert band == (r.band.code if r.band else None)
            assert val(pin.valid[r.venue]) == r.session_valid
        outcome = [k for k, t in pin.outcome.items() if val(t)]
        assert outcome == [d.outcome]
    finally:
        s.pop()
