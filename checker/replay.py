"""Replay: run a decoded counterexample (or witness) through the compiled evaluator.

Takes a :data:`checker.properties.Claim`, the policy, the vote year and the decoded rows
(:class:`checker.decode.RosterRow`, :class:`checker.decode.TallyRow`); produces a :class:`Replay`:
whether :class:`dsl.evaluator.Evaluator` exhibits what the claim says (the violation for a
counterexample, the rule firing for a witness), the evaluator's decision for every cadre of the
counterexample (status, exemptions, venues, bands, outcome, and the trace of rules with their
citations) and, for a tally about a band set alone, the bands the evaluator's compiled band
conditions match. A replay that does not exhibit the claim is an internal error of the checker
(the encoding and the evaluator disagree): the driver reports it and exits 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from checker import properties as P
from checker.decode import RosterRow, TallyRow
from dsl import ir
from dsl.evaluator import Decision, Evaluator, compile_share


@dataclass(frozen=True)
class TraceLine:
    kind: str
    rule: str
    detail: str
    cite: str | None


@dataclass(frozen=True)
class VenueDecision:
    venue: str
    band: str | None
    share: str | None
    session_valid: bool | None
    also_matched: tuple[str, ...]
    cite: str | None


@dataclass(frozen=True)
class CadreDecision:
    cadre_id: str
    status: str
    exemptions: tuple[tuple[str, str], ...]  # (name, citation)
    proposed: tuple[str, ...]
    venues: tuple[str, ...]
    results: tuple[VenueDecision, ...]
    outcome: str | None
    trace: tuple[TraceLine, ...]
    evaluated: bool = True  # False: the counterexample gives no tally for this cadre (plan only)


@dataclass(frozen=True)
class BandDecision:
    """A tally decided against one band set: the bands whose condition holds, the first one."""

    band_set: str
    share: str
    matched: tuple[str, ...]
    band: str | None
    severity: int | None


@dataclass(frozen=True)
class Replay:
    exhibits: bool
    shows: str  # what the evaluator decided, in words
    decisions: tuple[CadreDecision, ...] = ()
    bands: tuple[BandDecision, ...] = ()


def _frac(f: Fraction | None) -> str | None:
    return None if f is None else f"{f.numerator}/{f.denominator}"


def cadre_decision(d: Decision, cadre_id: str, evaluated: bool = True) -> CadreDecision:
    """The evaluator's decision as plain values; without tallies, the plan only (no outcome)."""
    results = tuple(VenueDecision(r.venue, r.band.code if r.band else None, _frac(r.share), r.session_valid, r.also_matched,
                                  r.band.cite.label if r.band else None) for r in d.results) if evaluated else ()
    steps = d.trace if evaluated else d.plan.trace
    trace = tuple(TraceLine(s.kind, s.rule, s.detail, s.cite.label if s.cite else None) for s in steps)
    return CadreDecision(cadre_id, d.plan.status, tuple((x.name, x.cite.label) for x in d.plan.exemptions), d.plan.proposed,
                         d.plan.venues, results, d.outcome if evaluated else None, trace, evaluated)


def find_band_set(policy: ir.Policy, name: str) -> ir.BandSet:
    for bs in policy.band_sets:
        if bs.name == name:
            return bs
    raise KeyError(name)


def band_decision(bs: ir.BandSet, row: TallyRow, denominator: str, label: str | None = None) -> BandDecision:
    """Decide a tally against a band set with the evaluator's compiled band conditions."""
    den = getattr(row, denominator)
    matched = tuple(b.code for b in bs.bands if den is not None and den > 0 and compile_share(b.when)(row.low, den))
    first = next((b for b in bs.bands if b.code in matched), None)
    share = f"{row.low}/{den}" if den else "undefined"
    return BandDecision(label or bs.name, share, matched, first.code if first else None, first.severity if first else None)


def _at_venue(ev: Evaluator, row: TallyRow) -> tuple[str | None, tuple[str, ...]]:
    """The band the evaluator decides at the tally's venue and every band matched there."""
    r = ev.band(row.venue, row.tally())
    matched = ((r.band.code,) if r.band else ()) + r.also_matched
    return (r.band.code if r.band else None), matched


def replay(claim: P.Claim, policy: ir.Policy, year: int | None, roster: tuple[RosterRow, ...],
           tallies: tuple[TallyRow, ...], evaluator: Evaluator | None = None) -> Replay:
    """Replay the rows; ``evaluator``: the policy already compiled for ``year`` (else compiled here)."""
    ev = evaluator if evaluator is not None else Evaluator(policy, year)
    by_cadre: dict[str, dict[str, TallyRow]] = {}
    by_stage: dict[str, dict[str, TallyRow]] = {}
    for t in tallies:
        if t.stage is not None:
            by_stage.setdefault(t.cadre_id, {})[t.stage] = t
        elif t.venue:
            by_cadre.setdefault(t.cadre_id, {})[t.venue] = t
    decisions = {row.cadre_id: ev.decide(row.cadre(), {v: t.tally() for v, t in by_cadre.get(row.cadre_id, {}).items()},
                                         stage_tallies={n: t.tally() for n, t in by_stage.get(row.cadre_id, {}).items()})
                 for row in roster}
    shown = tuple(cadre_decision(decisions[row.cadre_id], row.cadre_id, bool(by_cadre.get(row.cadre_id))) for row in roster)
    def first_plan():
        return decisions[roster[0].cadre_id].plan

    def bands_of(row: TallyRow, set_name: str) -> BandDecision:
        bs = find_band_set(policy, set_name)
        direct = band_decision(bs, row, policy.base_of(bs))
        if row.venue:
            band, matched = _at_venue(ev, row)
            if (band, matched) != (direct.band, direct.matched):
                return BandDecision(set_name, direct.share, matched, band, None)  # disagreement shows up below
            if row.cadre_id in decisions:
                venues = decisions[row.cadre_id].plan.venues
                if row.venue not in venues:
                    return BandDecision(set_name, direct.share, (), None, None)
        return direct

    match claim:
        case P.TooManyProposed(limit=limit):
            pl = first_plan()
            return Replay(len(pl.proposed) > limit, f"proposed venues: {', '.join(pl.proposed) or 'none'} "
                          f"({len(pl.proposed)} > {limit}); kept: {', '.join(pl.venues) or 'none'}", shown)
        case P.ExemptWithVenue():
            d = decisions[roster[0].cadre_id]
            return Replay(d.plan.status == "exempt" and (bool(d.plan.venues) or d.outcome is not None),
                          f"status {d.plan.status}, venues {', '.join(d.plan.venues) or 'none'}, outcome {d.outcome}", shown)
        case P.VotedWithoutVenue():
            pl = first_plan()
            return Replay(pl.status == "voted" and not pl.venues, f"status {pl.status}, venues {', '.join(pl.venues) or 'none'}", shown)
        case P.VenueOutOfScope():
            pl = first_plan()
            return Replay(bool(pl.venues) and not pl.in_scope,
                          f"in scope: {'yes' if pl.in_scope else 'no'}, venues {', '.join(pl.venues) or 'none'}", shown)
        case P.BothActive(first=a, second=b):
            pl = first_plan()
            return Replay(a in pl.active_rules and b in pl.active_rules, f"active venue rules: {', '.join(pl.active_rules) or 'none'}", shown)
        case P.PropertyFalse(name=name):
            holds = ev.property_holds(name, roster[0].cadre(), first_plan())
            return Replay(not holds, f"property {name} is {'true' if holds else 'false'}", shown)
        case P.ExemptionDiffers(exemption=x_name, refines=ref):
            x = next(x for x in policy.exemptions if x.name == x_name)
            if x.refined is None:
                return Replay(False, f"exemption {x_name} refines nothing", shown)
            mine = ev.condition_holds(x.when, roster[0].cadre(), first_plan())
            theirs = ev.condition_holds(x.refined.when, roster[0].cadre(), first_plan())
            return Replay(mine != theirs, f"{x_name}: {'holds' if mine else 'does not hold'}; {ref}: {'holds' if theirs else 'does not hold'}", shown)
        case P.ExemptionDropped(alias=alias, exemption=x_name):
            sub = dict(policy.imports).get(alias)
            x = next((e for e in sub.exemptions if e.name == x_name), None) if sub is not None else None
            if x is None:
                return Replay(False, f"{alias} has no exemption {x_name}", shown)
            pl = first_plan()
            holds = ev.condition_holds(x.when, roster[0].cadre(), pl)
            return Replay(holds and pl.status == "voted", f"{alias}.{x_name} {'holds' if holds else 'does not hold'}; "
                          f"the plan's status is {pl.status}", shown)
        case P.VenuesExceed(limit=limit, source=alias):
            pl = first_plan()
            return Replay(len(pl.venues) > limit, f"venues: {', '.join(pl.venues)} ({len(pl.venues)} > {alias}'s {limit})", shown)
        case P.BandsOverlap(band_set=s, first=a, second=b):
            bd = bands_of(tallies[0], s)
            return Replay(a in bd.matched and b in bd.matched, f"share {bd.share}: bands {', '.join(bd.matched) or 'none'} all hold", shown, (bd,))
        case P.Uncovered(band_set=s):
            bd = bands_of(tallies[0], s)
            return Replay(not bd.matched, f"share {bd.share}: no band of {s} holds", shown, (bd,))
        case P.SeverityInverted(band_set=s):
            bs = find_band_set(policy, s)
            b1, b2 = bands_of(tallies[0], s), bands_of(tallies[1], s)
            sev = {b.code: b.severity for b in bs.bands}
            den = policy.base_of(bs)
            d1, d2 = getattr(tallies[0], den), getattr(tallies[1], den)
            smaller = d1 and d2 and Fraction(tallies[0].low, d1) < Fraction(tallies[1].low, d2)
            worse = b1.band is not None and b2.band is not None and sev[b1.band] > sev[b2.band]
            return Replay(bool(smaller and worse), f"share {b1.share} → {b1.band} (severity {sev.get(b1.band or '')}); "
                          f"share {b2.share} → {b2.band} (severity {sev.get(b2.band or '')})", shown, (b1, b2))
        case P.BandDiffers(band_set=s, refines=ref):
            bs = find_band_set(policy, s)
            mine = bands_of(tallies[0], s)
            if bs.refined is None:
                return Replay(False, f"band set {s} refines nothing", shown, (mine,))
            owner = dict(policy.imports).get(ref.split(".", 1)[0])
            theirs = band_decision(bs.refined, tallies[0], (owner or policy).base_of(bs.refined), ref)
            return Replay(mine.band != theirs.band, f"share {mine.share}: {s} decides {mine.band}, {ref} decides {theirs.band}",
                          shown, (mine, theirs))
        case P.RuleFires(kind=kind, name=name, item=item, venue=venue, band_set=bset):
            return _fires(kind, name, item, venue, bset, policy, roster, tallies, decisions, shown)
        case P.ScheduleFeasible() | P.DeclaredLimit():
            return Replay(False, "nothing to replay (no roster row or tally)")
        case _:
            raise AssertionError(f"unhandled claim {claim!r}")


def _fires(kind: str, name: str, item: int, venue: str, bset: str, policy: ir.Policy, roster: tuple[RosterRow, ...],
           tallies: tuple[TallyRow, ...], decisions: dict[str, Decision], shown: tuple[CadreDecision, ...]) -> Replay:
    match kind:
        case "band":
            bs = find_band_set(policy, bset)
            bd = band_decision(bs, tallies[0], policy.base_of(bs))
            return Replay(bd.band == name, f"share {bd.share} → {bd.band}", shown, (bd,))
        case "stage":
            d = decisions[roster[0].cadre_id]
            got = next((r for r in d.stages if r.stage.name == name), None)
            ok = got is not None and got.due
            return Replay(ok, f"stage {name} is {'due' if ok else 'not due'} (after {got.trigger if got else 'no vote'})", shown)
        case "scope" | "exemption" | "venue_rule" | "venue_item":
            pl = decisions[roster[0].cadre_id].plan
            match kind:
                case "scope":
                    ok = name in pl.scope_rules
                case "exemption":
                    ok = any(x.name == name for x in pl.exemptions)
                case "venue_rule":
                    ok = name in pl.active_rules
                case _:
                    ok = venue in dict(pl.chosen).get(name, ())
            return Replay(ok, f"{kind.replace('_', ' ')} {name}{f' item {item + 1}' if item >= 0 else ''} "
                          f"{'fires' if ok else 'does not fire'}", shown)
        case _:
            raise AssertionError(kind)
