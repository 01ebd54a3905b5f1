"""Brute-force cross-check: on small domains, enumerate every input with the evaluator and compare the
verdict of each property with the checker's, run on the same bounded domain.

The domain: a few titles (all of a fixture's; six of the bundled plan's), both levels, every value of
the boolean facts, year facts absent or one of vote_year-1, vote_year, vote_year+1, ``int`` facts absent
or one of 999,999 … 1,000,002 (beyond the million the encoder once stopped at), every vote year from
the header's - 1 to + 1 (``check`` proves for every year ``--year`` accepts, not the header's alone),
and tallies with every count up to 12 (a band depends on the share only: every ``low/D`` with ``1 ≤ D ≤ 12``). The
schedule is cross-checked against an earliest-date algorithm. For severity the enumeration takes any
two shares (any two denominators) while the encoding takes them over one denominator: on these
policies (thresholds 1/2, 2/3, 3/5) both find the same verdict, which the test holds them to.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from fractions import Fraction
from pathlib import Path

import pytest

import policy as bundled
from checker.encode import Domain, all_facts
from checker.solve import check_policy
from dsl import ir
from dsl.evaluator import Cadre, Evaluator, Tally, compile_share
from dsl.loader import load_policy
from tests.checker.support import BAD, GOOD, HERE

MAX_COUNT = 12
KH134_TITLES = frozenset({"bi_thu", "uv_btv", "ct_hdnd", "uv_ubnd", "truong_ban_dang", "truong_so"})
FIXTURES = sorted(GOOD.glob("*.policy")) + sorted(BAD.glob("*.policy"))


INTS = (999_999, 1_000_002)


def _years(policy: ir.Policy) -> tuple[int, int, int]:
    y = policy.vote_year or 2023
    return (y - 1, y, y + 1)


def _domain(policy: ir.Policy, titles: frozenset[str] | None) -> Domain:
    y = policy.vote_year or 2023
    return Domain(titles=titles, max_count=MAX_COUNT, years=(y - 1, y + 1), ints=INTS, vote_years=(y - 1, y + 1),
                  any_year=True)


def _inputs(policy: ir.Policy, titles: frozenset[str] | None):
    y = policy.vote_year or 2023
    codes = [t for t in policy.title_codes() if titles is None or t in titles]
    facts = all_facts(policy)
    choices = [[False, True] if f.type == "bool" else [None, y - 1, y, y + 1] if f.type == "year"
               else [None, *range(INTS[0], INTS[1] + 1)] for f in facts]
    for level in policy.level_codes() or ("",):
        for n in range(len(codes) + 1):
            for held in itertools.combinations(codes, n):
                for values in itertools.product(*choices):
                    fs = {f.name: v for f, v in zip(facts, values) if v is not None}
                    yield Cadre("bf", level, frozenset(held), fs)


def _shares(policy: ir.Policy):
    den = policy.default_base()
    for d in range(1, MAX_COUNT + 1):
        top = MAX_COUNT if den in ("convened", "present") else d
        for low in range(top + 1):
            yield low, d


def _first(bs: ir.BandSet, low: int, d: int) -> tuple[ir.BandRule | None, int]:
    matched = [b for b in bs.bands if compile_share(b.when)(low, d)]
    return (matched[0] if matched else None), len(matched)


def _items_taken(plan) -> set[tuple[str, str]]:
    return {(rule, v) for rule, venues in plan.chosen for v in venues}


def _schedule_feasible(policy: ir.Policy) -> bool:
    end: dict[str, int] = {}
    pending = list(policy.schedule)
    while pending:
        for ph in pending:
            if all(a in end for a in ph.after):
                start = max([ph.start.toordinal() if ph.start else -(10**9)] + [end[a] for a in ph.after])
                if ph.deadline is not None and start > ph.deadline.toordinal():
                    return False
                end[ph.name] = start
                pending.remove(ph)
                break
        else:
            raise AssertionError("phases in a cycle")
    return True


def _band_samples(policy: ir.Policy, shares: list[tuple[int, int]]) -> dict[str, dict[str, tuple[int, int]]]:
    """For each band set, one share (low, D) per band it decides on the domain."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for bs in policy.band_sets:
        for lo, d in shares:
            b, _ = _first(bs, lo, d)
            if b is not None:
                out.setdefault(bs.name, {}).setdefault(b.code, (lo, d))
    return out


def _tally(venue: str, lo: int, d: int) -> Tally:
    """A count with share lo/d over every base: d ballots, d members, lo low, the rest confidence."""
    return Tally(venue, d, d, 0, d - lo, lo, None, None, d)


def _stages_due(policy: ir.Policy, ev: Evaluator, cadre: Cadre, plan, samples) -> set[str]:
    """The stages due for ``cadre`` under some poll band and some band of each stage before it."""
    due: set[str] = set()
    for venue in plan.venues:
        chain = [st for st in policy.stages if st.venue == venue]
        if not chain:
            continue
        poll = policy.band_set_at(venue)
        sets = [poll.name if poll else ""] + [st.band_set for st in chain[:-1]]
        options = [list(samples.get(name, {}).values()) or [(0, 1)] for name in sets]
        for picks in itertools.product(*options):
            tallies = {venue: _tally(venue, *picks[0])}
            stage_tallies = {st.name: _tally(venue, *pick) for st, pick in zip(chain[:-1], picks[1:])}
            d = ev.decide(cadre, tallies, plan, stage_tallies)
            due.update(r.stage.name for r in d.stages if r.due)
    return due


def brute_force(policy: ir.Policy, titles: frozenset[str] | None) -> dict[str, bool]:
    """property id → violated on the domain (only the applicable ones that the enumeration decides)."""
    evaluators = [Evaluator(policy, year) for year in _years(policy)]
    violated: dict[str, bool] = {}
    sets = list(policy.band_sets)
    shares = list(_shares(policy))
    if sets:
        violated["builtin.bands_disjoint"] = any(_first(bs, lo, d)[1] >= 2 for bs in sets for lo, d in shares)
        violated["builtin.bands_cover"] = any(_first(bs, lo, d)[0] is None for bs in sets for lo, d in shares)
        sev = False
        for bs in sets:
            decided = [(Fraction(lo, d), _first(bs, lo, d)[0]) for lo, d in shares]
            decided = [(s, b) for s, b in decided if b is not None]
            sev = sev or any(s1 < s2 and b1.severity > b2.severity for s1, b1 in decided for s2, b2 in decided)
        violated["builtin.severity_monotone"] = sev
    fired: set[tuple[str, ...]] = set()
    for bs in sets:
        for lo, d in shares:
            b, _ = _first(bs, lo, d)
            if b is not None:
                fired.add(("band", bs.name, b.code))
    can_plan = not policy.missing_for_evaluation()
    plan_viol = dict.fromkeys(("max_venues", "exemption_overrides_scope", "voted_has_venue", "venue_implies_scope",
                               "no_conflict"), False)
    props = dict.fromkeys((p.name for p in policy.properties), False)
    refine = False
    dropped = False  # imports_kept: a row an imported exemption exempts, voted by the plan
    imported = [x for _, sub in policy.imports for x in sub.exemptions]
    samples = _band_samples(policy, shares)
    for ev, cadre in itertools.product(evaluators, list(_inputs(policy, titles))):
        plan = ev.plan(cadre)
        fired.update(("scope", r) for r in plan.scope_rules)
        fired.update(("exemption", x.name) for x in plan.exemptions)
        fired.update(("venue_rule", r) for r in plan.active_rules)
        fired.update(("item",) + it for it in _items_taken(plan))
        if policy.max_venues is not None and len(plan.proposed) > policy.max_venues.count:
            plan_viol["max_venues"] = True
        tallies = {v: Tally(v, 10, 10, 5, 5, 0) for v in plan.venues}
        if plan.status == "exempt" and (plan.venues or ev.decide(cadre, tallies, plan).outcome is not None):
            plan_viol["exemption_overrides_scope"] = True
        if plan.status == "voted" and not plan.venues:
            plan_viol["voted_has_venue"] = True
        if plan.venues and not plan.in_scope:
            plan_viol["venue_implies_scope"] = True
        if len(plan.active_rules) >= 2:
            plan_viol["no_conflict"] = True
        for name in props:
            if not ev.property_holds(name, cadre, plan):
                props[name] = True
        if plan.status == "voted" and any(ev.condition_holds(x.when, cadre, plan) for x in imported):
            dropped = True
        if plan.status == "voted":
            fired.update(("stage", name) for name in _stages_due(policy, ev, cadre, plan, samples))
        for x in policy.exemptions:
            if x.refined is not None and ev.condition_holds(x.when, cadre, plan) != ev.condition_holds(x.refined.when, cadre, plan):
                refine = True
    if can_plan:
        if policy.max_venues is not None:
            violated["builtin.max_venues"] = plan_viol["max_venues"]
        if policy.exemptions:
            violated["builtin.exemption_overrides_scope"] = plan_viol["exemption_overrides_scope"]
        violated["builtin.voted_has_venue"] = plan_viol["voted_has_venue"]
        violated["builtin.venue_implies_scope"] = plan_viol["venue_implies_scope"]
        if len(policy.venue_rules) >= 2:
            violated["builtin.no_conflict"] = plan_viol["no_conflict"]
        if imported:
            violated["builtin.imports_kept"] = dropped
    rules: set[tuple[str, ...]] = {("scope", s.name) for s in policy.scope} | {("exemption", x.name) for x in policy.exemptions}
    rules |= {("band", bs.name, b.code) for bs in sets for b in bs.bands}
    if can_plan:
        rules |= {("venue_rule", r.name) for r in policy.venue_rules}
        rules |= {("item", r.name, it.venue) for r in policy.venue_rules for it in r.items}
        rules |= {("stage", st.name) for st in policy.stages}
    violated["builtin.no_dead_rule"] = not rules <= fired
    if policy.schedule:
        violated["builtin.schedule_feasible"] = not _schedule_feasible(policy)
    for bs in sets:
        if bs.refined is not None:
            refine = refine or any(
                (lambda a, b: (a.code if a else None) != (b.code if b else None))(_first(bs, lo, d)[0], _first(bs.refined, lo, d)[0])
                for lo, d in shares)
    static = [p.max_venues.count > sub.max_venues.count for _, sub in policy.imports if sub.max_venues and p.max_venues]  \
        if (p := policy) else []
    if any(x.refined is not None for x in policy.exemptions) or any(bs.refined is not None for bs in sets) or static:
        violated["builtin.refinement_keeps"] = refine or any(static)
    violated.update(props)
    return violated


CASES = [pytest.param(p, None, id=f"{p.parent.name}/{p.stem}") for p in FIXTURES] + [
    pytest.param(bundled.path("thanhhoa-kh134.policy"), KH134_TITLES, id="bundled/thanhhoa-kh134 (6 titles)"),
    pytest.param(bundled.path("qd96.policy"), None, id="bundled/qd96"),
    pytest.param(bundled.path("nq96-qh15.policy"), None, id="bundled/nq96-qh15"),
    pytest.param(bundled.path("quoc-hoi-nq96.policy"), frozenset({"bo_truong", "thu_tuong", "chanh_an"}), id="bundled/quoc-hoi-nq96 (3 titles)"),
]


@pytest.mark.parametrize(("path", "titles"), CASES)
def test_checker_agrees_with_enumeration(path: Path, titles: frozenset[str] | None):
    policy = load_policy(path, HERE if Path(path).resolve().is_relative_to(HERE) else None)
    expected = brute_force(policy, titles)
    report = check_policy(policy, timeout_ms=20000, domain=_domain(policy, titles))
    got = {}
    for p in report.properties:
        assert p.status not in ("unknown", "internal_error"), (p.id, p.message)
        if p.status == "not_applicable" or not p.check.obligations:  # (a stale acknowledgement of one)
            assert p.id not in expected or not expected[p.id], f"{p.id}: not applicable, yet the enumeration finds a violation"
            continue
        got[p.id] = p.status in ("refuted", "acknowledged")
    assert set(expected) == set(got), (sorted(expected), sorted(got))
    mismatches = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not mismatches, f"(enumeration, checker) violated? — {mismatches}"


def test_the_enumeration_is_not_vacuous():
    """The cross-check compares something: on the fixtures, both verdicts occur for every built-in."""
    seen: dict[str, set[bool]] = {}
    for path in FIXTURES:
        for k, v in brute_force(load_policy(path, HERE if Path(path).resolve().is_relative_to(HERE) else None), None).items():
            seen.setdefault(k, set()).add(v)
    for pid in ir.BUILTIN_PROPERTIES:
        assert seen.get(f"builtin.{pid}") == {False, True}, pid


def test_bundled_schedule_is_infeasible_by_dates():
    p = load_policy(bundled.path())
    assert not _schedule_feasible(p)
    assert _dt.date(2023, 10, 1) > next(ph.deadline for ph in p.schedule if ph.name == "p8_ii")
