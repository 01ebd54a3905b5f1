"""Random policies: the printer, the checker and the evaluator on policies nobody wrote.

Takes random small well-typed policies from :func:`checker.strategies.policy_texts` (random
thresholds and strictness, band orders and severities, venue rules, items and exceptions,
exemptions, scope, denominators, quorum, schedule, properties, comments, odd layout). For each:

- the canonical printer round-trips: ``parse(format(parse(t))) == parse(t)`` and ``format`` is
  idempotent on its own output;
- the policy loads (the generator is well-typed) and ``check`` answers every property with proved,
  refuted or not applicable (never unknown, never an internal error);
- every refuted property's counterexample reproduces in the evaluator — through the checker's replay,
  and independently through :class:`checker.fuzz_oracle.PerInput` on the decoded rows;
- every proved property holds on the evaluator's output for generated inputs, and on those inputs the
  evaluator decides what the Z3 model forces;
- ``schedule_feasible`` (refuted with an unsat core, nothing to replay) agrees with an earliest-date
  algorithm, one-day phases (``from D by D``) and phases on the day the one before ends included.

Over the run, the policies have the shapes a decision procedure gets wrong (what the generator promises,
checked on the IR): connectives of three and more operands in roster and band conditions, several
band sets of two and three bands, a two-band set whose severities are inverted, shares over every
base, one-day phases; and every built-in property is both proved and refuted.

Refinements (:func:`checker.strategies.refining_policies`): a random policy and one that imports it and
refines its band sets and exemptions, kept or changed on purpose (a threshold moved, the strictness at
a threshold flipped, a band renamed or dropped, another base, an exemption negated, ``max_venues``
above the import's). ``refinement_keeps`` must be proved exactly when nothing was changed; every
counterexample reproduces, every proof holds on generated inputs.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.fuzz_oracle import NOT_PER_INPUT, Oracle, PerInput
from checker.solve import Checker
from checker.strategies import FuzzInput, drawn_policies, inputs, profile, refining_policies
from dsl import ir
from dsl.diagnostics import Collector
from dsl.evaluator import Cadre, Evaluator, Tally, compile_share
from dsl.ir import Policy
from dsl.loader import load_policy
from dsl.lower import lower
from dsl.parser import parse
from dsl.printer import format_file
from tests.fuzz.budget import FULL, scaled

PATH = "random.policy"
POLICIES = 200
REFINEMENTS = 40
INPUTS_PER_POLICY = 3
QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def _load(text: str) -> Policy:
    collector = Collector()
    pol = lower(parse(text, PATH), {}, collector)
    assert not collector.items, "the generator made an ill-typed policy:\n" + "\n".join(d.render() for d in collector.items) + "\n" + text
    return pol


def _band_of(bs: ir.BandSet, low: int, den: int | None) -> str | None:
    if not den:
        return None
    return next((b.code for b in bs.bands if compile_share(b.when)(low, den)), None)


def _refinement_differs(pol: Policy, cx) -> bool:
    """A band set and the imported set it refines, each counted over its own base (the ``over`` of the
    text that declares it, else that text's share denominator), decide the counterexample's tally
    differently; or an exemption decides its roster row differently from the one it refines."""
    owners = dict(pol.imports)
    for row in cx.tallies:
        bs = next((b for b in pol.band_sets if b.name == row.band_set), None)
        if bs is None or bs.refined is None or bs.refines is None:
            continue
        owner = owners[bs.refines.split(".", 1)[0]]
        t = row.tally()
        if _band_of(bs, t.low, t.get(pol.base_of(bs))) != _band_of(bs.refined, t.low, t.get(owner.base_of(bs.refined))):
            return True
    if cx.roster:
        ev, cadre = Evaluator(pol, cx.year), cx.roster[0].cadre()
        limits = [sub.max_venues.count for _, sub in pol.imports if sub.max_venues is not None]
        return any(ev.condition_holds(x.when, cadre) != ev.condition_holds(x.refined.when, cadre)
                   for x in pol.exemptions if x.refined is not None) or any(len(ev.plan(cadre).venues) > n for n in limits)
    return False


def _reproduces(pol: Policy, pid: str, cx) -> bool:
    """Does the evaluator, on the counterexample's rows, violate ``pid`` (stated by PerInput; a refinement
    here, each band set over its own base)?"""
    if pid == "builtin.refinement_keeps":
        return _refinement_differs(pol, cx)
    cadre = cx.roster[0].cadre() if cx.roster else None
    if cadre is None:
        cadre = Cadre("cx", pol.level_codes()[0], frozenset(), {})
    inp = FuzzInput(cadre, tuple(t.tally() for t in cx.tallies))
    ev = Evaluator(pol, cx.year)
    d = ev.decide(cadre, {t.venue: t for t in inp.tallies if t.venue})
    return pid in PerInput(pol, ev, [pid]).violations(inp, d)


MEMBERS_POLICY = """policy m { name "m" issuer "t" date 2023-01-01 vote_year 2023 }
document T "T"
levels { province "Tỉnh" }
title t0 "T0"
scope s0 at province: t0 cite T "1" "x"
venue v "V"
venues r when voted { v } cite T "2" "x"
share = low / collected cite T "3" "x"
bands b over members {
  band thap "Không quá 1/2" when share <= 1/2 severity 0 cite T "4" "x"
  band cao "Trên 1/2" when share > 1/2 severity 1 cite T "5" "x"
}
apply b at v cite T "6" "x"
"""


def test_the_fuzz_oracle_pins_the_members_column():
    """2 low of 3 members (2 collected): 'cao' over members; the model must not be free to take 5 members
    (:meth:`checker.fuzz_oracle.Oracle.pins` pins the ``members`` column and whether it is given)."""
    pol = _load(MEMBERS_POLICY)
    inp = FuzzInput(Cadre("c", "province", frozenset({"t0"}), {}), (Tally("v", 2, 2, 0, 0, 2, None, None, 3),))
    c = Oracle(pol, 2023, pol.venue_codes()).compare(inp)
    assert c.agrees, c.problems


def schedule_feasible(pol: Policy) -> bool:
    """The phases can be dated: each starts as early as it may (its ``from``, the end of every phase it
    comes after) and lasts one day; feasible iff no such start is past its ``by``."""
    end: dict[str, int] = {}
    pending = list(pol.schedule)
    while pending:
        ph = next(p for p in pending if all(a in end for a in p.after))  # the generator's `after` go backwards
        start = max([ph.start.toordinal() if ph.start else -(10**9)] + [end[a] for a in ph.after])
        if ph.deadline is not None and start > ph.deadline.toordinal():
            return False
        end[ph.name] = start
        pending.remove(ph)
    return True


def _walk(e: ir.Expr):
    yield e
    for o in getattr(e, "operands", ()) or ((e.operand,) if isinstance(e, ir.Not) else ()):
        yield from _walk(o)


def shapes(pol: Policy) -> set[str]:
    """The shapes of the generator's promise this policy has (see the module docstring)."""
    out = set()
    roster = [x.when for x in pol.exemptions] + [r.when for r in pol.venue_rules] + [p.expr for p in pol.properties]
    roster += [it.when for r in pol.venue_rules for it in r.items if it.when is not None]
    for e in roster:
        for a in _walk(e):
            if isinstance(a, ir.And | ir.Or) and len(a.operands) >= 3:
                out.add(f"roster {type(a).__name__.lower()} of 3+")
    sizes = Counter(len(bs.bands) for bs in pol.band_sets)
    for bs in pol.band_sets:
        for b in bs.bands:
            for a in _walk(b.when):
                if isinstance(a, ir.And | ir.Or) and len(a.operands) >= 3:
                    out.add(f"band {type(a).__name__.lower()} of 3+")
        if len(bs.bands) == 2:
            at_zero = [b for b in bs.bands if compile_share(b.when)(0, 1)]
            at_one = [b for b in bs.bands if compile_share(b.when)(1, 1)]
            if len(at_zero) == len(at_one) == 1 and at_zero[0].severity > at_one[0].severity:
                out.add("two-band set inverted")
        out.add(f"base {pol.base_of(bs)}")
    if len(pol.band_sets) >= 2 and sizes[2] and sizes[3]:
        out.add("sets of 2 and 3 bands")
    if any(ph.start is not None and ph.start == ph.deadline for ph in pol.schedule):
        out.add("one-day phase")
    return out


def check_one(text: str, data: st.DataObject, verdicts: set[tuple[str, str]], seen: Counter | None = None) -> None:
    """Everything the module docstring says, for one random policy."""
    # the canonical printer: meaning-preserving and idempotent
    tree = parse(text, PATH)
    canon = format_file(tree)
    again = parse(canon, PATH)
    assert again == tree, f"the printer changed the meaning:\n{text}\n--- printed ---\n{canon}"
    assert format_file(again) == canon, f"the printer is not idempotent:\n{canon}"

    pol = _load(canon)
    if seen is not None:
        seen.update(shapes(pol))
    check_loaded(pol, canon, data, verdicts)


def check_loaded(pol: Policy, canon: str, data: st.DataObject, verdicts: set[tuple[str, str]]) -> dict[str, str]:
    """Check a loaded policy; replay what is refuted, fuzz what is proved; the status of each property."""
    report = Checker(pol, timeout_ms=20_000).run()
    statuses = {res.id: res.status for res in report.properties}
    if pol.schedule:
        want = "proved" if schedule_feasible(pol) else "refuted"
        assert statuses["builtin.schedule_feasible"] == want, f"schedule_feasible: {statuses['builtin.schedule_feasible']}, dating it: {want}\n{canon}"
    proved = []
    for res in report.properties:
        verdicts.add((res.id if res.id.startswith("builtin.") else "policy property", res.status))
        assert res.status in ("proved", "refuted", "not_applicable"), f"{res.id}: {res.status}: {res.message}\n{canon}"
        if res.status == "proved":
            proved.append(res.id)
        if res.status != "refuted":
            continue
        for ob in res.findings:
            cx = ob.counterexample
            if cx is None:  # a rule that can never fire, an infeasible schedule: an unsat core, no model
                continue
            assert cx.replay.exhibits, f"{res.id}: the checker's replay does not show it: {cx.replay.shows}\n{canon}"
            if res.id not in NOT_PER_INPUT and (cx.roster or cx.tallies):
                assert _reproduces(pol, res.id, cx), f"{res.id}: the counterexample does not reproduce\n{cx.roster_csv}{cx.tallies_csv}\n{canon}"

    prof = profile(pol)
    oracle = Oracle(pol, prof.year, prof.venues)
    per_input = PerInput(pol, oracle.ev, proved)
    for _ in range(INPUTS_PER_POLICY):
        inp = data.draw(inputs(prof))
        c = oracle.compare(inp)
        assert c.agrees, f"{c.problems}\nevaluator: {c.evaluator.render()}\nZ3 model:  {c.model.render() if c.model else None}\n{canon}"
        assert not per_input.violations(inp, c.decision), f"a proved property fails on {inp}\n{canon}"
    return statuses


SHAPES = ("roster and of 3+", "roster or of 3+", "band and of 3+", "band or of 3+", "sets of 2 and 3 bands", "two-band set inverted",
          "one-day phase", *(f"base {b}" for b in ir.BASES))


def test_random_policies():
    verdicts: set[tuple[str, str]] = set()
    seen: Counter[str] = Counter()
    count = 0

    @settings(max_examples=scaled(POLICIES), suppress_health_check=QUIET)
    @given(drawn_policies(), st.data())
    def run(drawn, data: st.DataObject) -> None:
        nonlocal count
        count += 1
        check_one(drawn.text, data, verdicts, seen)

    run()
    assert count >= scaled(POLICIES)
    if not FULL:
        return
    # the generator has the shapes it promises, and is stuck neither on easy policies nor on broken ones
    assert not [s for s in SHAPES if seen[s] < 3], f"shapes seen fewer than 3 times: {seen}"
    for pid in ("bands_disjoint", "bands_cover", "severity_monotone", "voted_has_venue", "venue_implies_scope",
                "no_conflict", "no_dead_rule", "exemption_overrides_scope", "max_venues", "schedule_feasible"):
        assert (f"builtin.{pid}", "proved") in verdicts, pid
        assert (f"builtin.{pid}", "refuted") in verdicts, pid
    assert ("policy property", "proved") in verdicts and ("policy property", "refuted") in verdicts


def test_random_refinements():
    changes: Counter[str] = Counter()
    count = 0

    @settings(max_examples=scaled(REFINEMENTS), suppress_health_check=QUIET)
    @given(refining_policies(), st.data())
    def run(pair, data: st.DataObject) -> None:
        nonlocal count
        count += 1
        base, mine = pair
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "base.policy").write_text(base.text, encoding="utf-8")
            Path(tmp, "mine.policy").write_text(mine.text, encoding="utf-8")
            pol = load_policy(Path(tmp, "mine.policy"))
            statuses = check_loaded(pol, mine.text, data, set())
        want = "proved" if mine.keeps else "refuted"
        got = statuses["builtin.refinement_keeps"]
        assert got == want, f"refinement_keeps {got}, expected {want} ({'; '.join(mine.changes) or 'nothing changed'})\n" \
                            f"--- base.policy\n{base.text}\n--- mine.policy\n{mine.text}"
        changes.update(c.split(" ")[0] if not c.startswith("band set") else "base" for c in mine.changes)
        changes["kept" if mine.keeps else "changed"] += 1

    run()
    assert count >= scaled(REFINEMENTS)
    if FULL:
        for what in ("kept", "changed", "band", "threshold", "strictness", "exemption", "max_venues", "base"):
            assert changes[what] >= 1, f"{what}: {changes}"  # every shape of change occurs
