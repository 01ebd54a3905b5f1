"""Connectives of three and more operands, decided alike by the evaluator, the interpreter and Z3.

Takes ``and`` / ``or`` of one to five operands (the parser makes ``a and b and c`` one connective of three,
which the evaluator compiles differently from one of two) in roster conditions over bool facts and in band
conditions over shares; for every assignment of the operands (every truth table row, every share of a
small grid) the compiled evaluator, the tree-walking interpreter and the Z3 encoding must give what Python's
``all`` / ``any`` give. Nested and mixed connectives too, and an empty one (``true`` / ``false``).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
import z3

from checker.encode import Encoder, Env
from dsl import ir
from dsl.diagnostics import Collector
from dsl.evaluator import Cadre, Evaluator, Tally, compile_share
from dsl.interpret import interpret_plan
from dsl.lower import lower
from dsl.parser import parse

FACTS = [f"f{i}" for i in range(5)]
POLICY = """policy nary {{ name "n" issuer "t" date 2023-01-01 vote_year 2023 }}
document T "T"
levels {{ province "Tỉnh" }}
{facts}
title t0 "T0"
scope s0 at province: t0 cite T "1" "x"
exempt x when {cond} reason "r" cite T "2" "x"
venue v "V"
venues r when voted {{ v }} cite T "3" "x"
share = low / collected cite T "4" "x"
bands b {{
  band hit "H" when {share} severity 1 cite T "5" "x"
  band miss "M" when true severity 0 cite T "6" "x"
}}
apply b at v cite T "7" "x"
"""
THRESHOLDS = [Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)]
GRID = [(low, d) for d in range(1, 13) for low in range(0, d + 1)]


def _policy(cond: str, share: str = "true") -> ir.Policy:
    facts = "\n".join(f'fact {f}: bool "{f}"' for f in FACTS)
    c = Collector()
    pol = lower(parse(POLICY.format(facts=facts, cond=cond, share=share), "nary.policy"), {}, c)
    assert not c.items, [d.render() for d in c.items]
    return pol


def _z3_value(formula: z3.BoolRef) -> bool:
    return z3.is_true(z3.simplify(formula))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("op", ["and", "or"])
def test_roster_connectives_of_n_operands(op: str, n: int):
    pol = _policy(f" {op} ".join(FACTS[:n]))
    (x,) = pol.exemptions
    if n >= 2:
        assert isinstance(x.when, ir.And if op == "and" else ir.Or) and len(x.when.operands) == n  # one connective, n operands
    ev = Evaluator(pol)
    want = all if op == "and" else any
    for bits in itertools.product((False, True), repeat=n):
        facts = dict(zip(FACTS, bits))
        cadre = Cadre("c", "province", frozenset({"t0"}), facts)
        expected = want(bits)
        assert bool(ev.plan(cadre).exemptions) is expected, (op, bits)
        assert bool(interpret_plan(pol, cadre, 2023).exemptions) is expected, (op, bits)
        enc = Encoder(pol, 2023, ctx=z3.Context())
        r = enc.roster()
        got = enc.condition(x.when, Env(r))
        pinned = z3.substitute(got, *[(r.facts[f], z3.BoolVal(b, enc.ctx)) for f, b in facts.items()])
        assert _z3_value(pinned) is expected, (op, bits)


@pytest.mark.parametrize("cond", [
    "(f0 and f1 and f2) or (f3 and f4)",
    "f0 or (f1 and f2 and f3) or f4",
    "not (f0 or f1 or f2) and f3 and not f4",
    "(f0 or f1 or f2) and (f2 or f3 or f4) and (f0 or f4)",
])
def test_nested_connectives(cond: str):
    pol = _policy(cond)
    ev = Evaluator(pol)
    for bits in itertools.product((False, True), repeat=5):
        facts = dict(zip(FACTS, bits))
        expected = eval(cond, {}, facts)  # the test's own truth table (Python's and/or/not)
        cadre = Cadre("c", "province", frozenset({"t0"}), facts)
        assert bool(ev.plan(cadre).exemptions) is expected, (cond, bits)


def _share_text(op: str, cmps: list[tuple[str, Fraction]]) -> str:
    return f" {op} ".join(f"share {c} {t.numerator}/{t.denominator}" for c, t in cmps)


_CMP = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "=": lambda a, b: a == b, "!=": lambda a, b: a != b}


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("op", ["and", "or"])
def test_band_connectives_of_n_operands(op: str, n: int):
    cmps = [(c, t) for c, t in zip(("<=", ">", ">=", "!=", "<"), (THRESHOLDS[3], THRESHOLDS[0], THRESHOLDS[1], THRESHOLDS[2], THRESHOLDS[4]))][:n]
    pol = _policy("false", _share_text(op, cmps))
    band = pol.band_sets[0].bands[0]
    assert isinstance(band.when, ir.And if op == "and" else ir.Or) and len(band.when.operands) == n
    pred = compile_share(band.when)
    ev = Evaluator(pol)
    want = all if op == "and" else any
    enc = Encoder(pol, 2023, ctx=z3.Context())
    t = enc.tally("t")
    cond = enc.share(band.when, t, "collected")
    for low, d in GRID:
        expected = want(_CMP[c](Fraction(low, d), th) for c, th in cmps)
        assert pred(low, d) is expected, (op, low, d)
        got = ev.band_rule("v", Tally("v", d, d, 0, d - low, low))
        assert (got is band) is expected, (op, low, d)
        pinned = z3.substitute(cond, (t.low, z3.IntVal(low, enc.ctx)), (t.collected, z3.IntVal(d, enc.ctx)))
        assert _z3_value(pinned) is expected, (op, low, d)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("kind", [ir.And, ir.Or])
def test_connectives_built_in_the_ir(kind: type, n: int):
    """An IR connective of any arity (the parser makes none of fewer than two operands; a program may):
    ``and`` of none is true, ``or`` of none is false, of one is that operand."""
    pol = _policy("false")
    ev = Evaluator(pol)
    for bits in itertools.product((False, True), repeat=n):
        facts = dict(zip(FACTS, bits))
        e = kind(tuple(ir.FactTrue(f) for f in FACTS[:n]))
        expected = (all if kind is ir.And else any)(bits)
        assert ev.condition_holds(e, Cadre("c", "province", frozenset({"t0"}), facts)) is expected, (kind, bits)
        share = kind(tuple(ir.ShareCmp("<" if b else ">", Fraction(1, 2)) for b in bits))  # 1/4: '<' holds, '>' does not
        assert compile_share(share)(1, 4) is expected, (kind, bits)
        enc = Encoder(pol, 2023, ctx=z3.Context())
        r, t = enc.roster(), enc.tally("t")
        pinned = z3.substitute(enc.condition(e, Env(r)), *[(r.facts[f], z3.BoolVal(b, enc.ctx)) for f, b in facts.items()])
        assert _z3_value(pinned) is expected, (kind, bits)
        low = z3.substitute(enc.share(share, t, "collected"), (t.low, z3.IntVal(1, enc.ctx)), (t.collected, z3.IntVal(4, enc.ctx)))
        assert _z3_value(low) is expected, (kind, bits)
