"""The property catalog: what the checker proves of a policy, as conditions to refute.

Takes a :class:`dsl.ir.Policy` (and the vote year); produces one :class:`PropertyCheck` per
built-in property (the keys of :data:`dsl.ir.BUILTIN_PROPERTIES`, in that order) and per
``property`` written in the policy. A check is either *not applicable* (with the reason) or a
tuple of :class:`Obligation` values, each a Z3 condition built with :mod:`checker.encode` — no
solver is named here. An obligation says how its answer reads:

- ``refute``: the property is violated iff ``goal`` is satisfiable (a model is a counterexample);
- ``witness``: the property is violated iff ``goal`` is unsatisfiable (e.g. a rule that can never
  fire; a model is a witness that it can, and the unsat core names the rules that kill it);
- ``static``: decided without a solver (``static_holds``), e.g. two declared numbers compared.

Each obligation carries a :data:`Claim` — what the compiled evaluator must exhibit on the decoded
counterexample (or witness) — which :mod:`checker.replay` checks. The docstring of each builder is
the property's exact meaning; ``docs/properties.md`` repeats them.

The obligations about one symbolic roster row and its plan share one :class:`Encoding`, built once
per check (:meth:`Context.planned`): they differ only in their goal, so the policy is encoded once,
not once per obligation. An obligation that adds inputs (tallies, two rows) has an encoder of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Union

import z3

from checker.encode import Definition, Domain, Encoder, Env, PlanTerms, RosterVars, RuleRef, TallyVars, band_ref, rule_ref
from checker.pairwise import band_options, options_differ
from dsl import ir

Mode = Literal["refute", "witness", "static"]


# ---- claims: what the evaluator must show --------------------------------------------------------


@dataclass(frozen=True)
class TooManyProposed:
    limit: int


@dataclass(frozen=True)
class ExemptWithVenue:
    pass


@dataclass(frozen=True)
class VotedWithoutVenue:
    pass


@dataclass(frozen=True)
class VenueOutOfScope:
    pass


@dataclass(frozen=True)
class BothActive:
    first: str
    second: str


@dataclass(frozen=True)
class PropertyFalse:
    name: str


@dataclass(frozen=True)
class ExemptionDiffers:
    exemption: str
    refines: str


@dataclass(frozen=True)
class VenuesExceed:
    limit: int
    source: str  # the import whose max_venues is exceeded


@dataclass(frozen=True)
class BandsOverlap:
    band_set: str
    first: str
    second: str


@dataclass(frozen=True)
class Uncovered:
    band_set: str


@dataclass(frozen=True)
class SeverityInverted:
    band_set: str


@dataclass(frozen=True)
class BandDiffers:
    band_set: str
    refines: str


@dataclass(frozen=True)
class RuleFires:
    """Witness: the rule fires (kind as in :class:`RuleRef`; ``item`` for a venue item)."""

    kind: Literal["scope", "exemption", "venue_rule", "venue_item", "band", "stage"]
    name: str
    item: int = -1
    venue: str = ""
    band_set: str = ""


@dataclass(frozen=True)
class ExemptionDropped:
    """Counterexample: a roster row an imported text exempts, voted by the plan."""

    alias: str
    exemption: str


@dataclass(frozen=True)
class ScheduleFeasible:
    pass


@dataclass(frozen=True)
class DeclaredLimit:
    """Static: the policy's max_venues does not exceed an import's."""

    own: int
    limit: int
    source: str


Claim = Union[TooManyProposed, ExemptWithVenue, VotedWithoutVenue, VenueOutOfScope, BothActive, PropertyFalse,
              ExemptionDiffers, VenuesExceed, BandsOverlap, Uncovered, SeverityInverted, BandDiffers, RuleFires, ExemptionDropped,
              ScheduleFeasible, DeclaredLimit]


# ---- obligations ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Encoding:
    """What the obligations built on one encoder share: the always-asserted ``constraints``, the
    tracked rule ``definitions`` and the ``names`` of the Z3 constants. Compared by identity: the
    driver asserts an encoding once on one solver and checks each obligation's goal on top of it."""

    constraints: tuple[z3.BoolRef, ...]
    definitions: tuple[Definition, ...]
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Problem:
    """A condition for the solver: ``goal`` over an :class:`Encoding` (its constraints asserted, its
    definitions under their tracking literals); ``prefer`` are soft conditions tried in order to make
    a model readable."""

    goal: z3.BoolRef
    encoding: Encoding
    prefer: tuple[z3.BoolRef, ...] = ()


@dataclass(frozen=True)
class TallyUse:
    """A symbolic tally of a counterexample: which cadre (index), at which venue or for which band set."""

    vars: TallyVars
    cadre: int = 0
    venue: str | None = None
    band_set: str | None = None
    stage: str | None = None  # a tally of this later vote at ``venue``


@dataclass(frozen=True)
class Reach:
    """How to find a roster row planned at ``venue`` (to give a band counterexample a cadre)."""

    venue: str
    problem: Problem
    roster: RosterVars


@dataclass(frozen=True)
class Obligation:
    property: str  # "builtin.<id>" or the name of a property of the policy
    subject: str  # what this obligation is about, in words
    mode: Mode
    claim: Claim
    rules: tuple[RuleRef, ...]  # the declarations involved; the first locates the result
    problem: Problem | None = None
    roster: RosterVars | None = None
    tallies: tuple[TallyUse, ...] = ()
    reach: tuple[Reach, ...] = ()
    static_holds: bool | None = None
    schedule: tuple[tuple[str, z3.ArithRef, z3.ArithRef], ...] = ()


@dataclass(frozen=True)
class PropertyCheck:
    id: str  # "builtin.<id>" or the property's name
    kind: Literal["builtin", "policy"]
    title: str
    meaning: str
    obligations: tuple[Obligation, ...] = ()
    not_applicable: str | None = None
    decl: RuleRef | None = None


@dataclass(frozen=True)
class NotApplicable:
    reason: str


@dataclass(frozen=True)
class Planned:
    """One symbolic roster row and its plan, encoded once per check: every obligation about a single
    cadre's plan (and no tally) is a goal over it, so the policy is not re-encoded per obligation."""

    roster: RosterVars
    plan: PlanTerms
    encoding: Encoding
    ctx: z3.Context

    def problem(self, goal: z3.BoolRef, prefer: tuple[z3.BoolRef, ...] = ()) -> Problem:
        return Problem(goal, self.encoding, prefer)


@dataclass(frozen=True)
class Context:
    policy: ir.Policy
    year: int | None = None
    domain: Domain = field(default_factory=Domain)
    z3ctx: z3.Context = field(default_factory=z3.Context, compare=False)
    shared: dict[str, Planned] = field(default_factory=dict, compare=False)  # encodings built once per check

    def encoder(self) -> Encoder:
        return Encoder(self.policy, self.year, self.domain, self.z3ctx)

    def planned(self) -> Planned:
        """The roster row and plan shared by the obligations of this check (built on first use)."""
        if "plan" not in self.shared:
            enc = self.encoder()
            r = enc.roster()
            pl = enc.plan(r)
            self.shared["plan"] = Planned(r, pl, _encoding(enc), enc.ctx)
        return self.shared["plan"]


def _encoding(enc: Encoder) -> Encoding:
    return Encoding(tuple(enc.constraints), enc.definitions, tuple(sorted(enc.names.items())))


def _problem(enc: Encoder, goal: z3.BoolRef, prefer: tuple[z3.BoolRef, ...] = ()) -> Problem:
    return Problem(goal, _encoding(enc), prefer)


def _can_plan(p: ir.Policy) -> str | None:
    missing = p.missing_for_evaluation()
    return "the policy has no " + ", ".join(missing) + " (it decides no plan)" if missing else None


def _band_sets(p: ir.Policy) -> list[tuple[ir.BandSet, tuple[str, ...]]]:
    """Every band set of the policy with the venues it is applied at (in venue order)."""
    out = []
    for bs in p.band_sets:
        at = tuple(v for v in p.venue_codes() if getattr(p.band_set_at(v), "name", None) == bs.name)
        out.append((bs, at))
    return out


def _reach(ctx: Context, venues: tuple[str, ...]) -> tuple[Reach, ...]:
    """Problems that find a voted cadre planned at each venue (preferring one venue only)."""
    if _can_plan(ctx.policy) is not None:
        return ()
    sh = ctx.planned()
    pl = sh.plan
    return tuple(Reach(v, sh.problem(z3.And(pl.venues[v], pl.status["voted"]), (pl.count == 1,)), sh.roster) for v in venues)


def _set_refs(bs: ir.BandSet, name: str | None = None) -> tuple[RuleRef, ...]:
    return tuple(band_ref(bs, b, name) for b in bs.bands)


# ---- the built-in properties ---------------------------------------------------------------------

Builder = Callable[[Context], Union[tuple[Obligation, ...], NotApplicable]]


def _refined_base(policy: ir.Policy, bs: ir.BandSet) -> str:
    """The base of the imported set ``bs`` refines, as the text that declares it counts."""
    assert bs.refined is not None and bs.refines is not None
    alias = bs.refines.split(".", 1)[0]
    owner = dict(policy.imports).get(alias)
    return owner.base_of(bs.refined) if owner is not None else policy.base_of(bs.refined)


def bands_disjoint(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some band set has two bands whose conditions both hold for one valid tally
    (a share ``low / D`` with ``D`` the set's base, ``D ≥ 1``, within the tally schema).
    One obligation per pair of bands of each band set declared or applied by the policy."""
    sets = _band_sets(ctx.policy)
    if not sets:
        return NotApplicable("the policy has no band set")
    out = []
    for bs, at in sets:
        for i, a in enumerate(bs.bands):
            for b in bs.bands[i + 1:]:
                enc = ctx.encoder()
                t = enc.tally("t1", ctx.policy.base_of(bs))
                bt = enc.bands(bs, t)
                out.append(Obligation(
                    "builtin.bands_disjoint", f"bands {a.code} and {b.code} of {bs.name}", "refute",
                    BandsOverlap(bs.name, a.code, b.code), (band_ref(bs, a), band_ref(bs, b)),
                    _problem(enc, z3.And(bt.conds[a.code], bt.conds[b.code])),
                    tallies=(TallyUse(t, 0, at[0] if at else None, bs.name),), reach=_reach(ctx, at)))
    return tuple(out)


def bands_cover(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff for some band set there is a valid tally (``D ≥ 1``, every count the schema admits:
    0 low, all low, exactly 1/2, exactly 2/3, …) for which no band's condition holds."""
    sets = _band_sets(ctx.policy)
    if not sets:
        return NotApplicable("the policy has no band set")
    out = []
    for bs, at in sets:
        enc = ctx.encoder()
        t = enc.tally("t1", ctx.policy.base_of(bs))
        bt = enc.bands(bs, t)
        out.append(Obligation(
            "builtin.bands_cover", f"band set {bs.name}", "refute", Uncovered(bs.name), _set_refs(bs),
            _problem(enc, bt.none), tallies=(TallyUse(t, 0, at[0] if at else None, bs.name),), reach=_reach(ctx, at)))
    return tuple(out)


def severity_monotone(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff for some band set there are two valid tallies with shares ``s1 < s2`` whose bands
    (the first band whose condition holds) have severities ``sev1 > sev2``. The two tallies are taken
    with one denominator: no generality is lost, since a band depends on the share only and any two
    shares ``a/b``, ``c/d`` are also ``ad/bd`` and ``cb/bd``; this keeps the comparison linear."""
    sets = _band_sets(ctx.policy)
    if not sets:
        return NotApplicable("the policy has no band set")
    out = []
    for bs, at in sets:
        if len(bs.bands) < 2:
            continue
        enc = ctx.encoder()
        den = ctx.policy.base_of(bs)
        t1, t2 = enc.tally("t1", den), enc.tally("t2", den)
        b1, b2 = enc.bands(bs, t1), enc.bands(bs, t2)
        worse = [z3.And(b1.first[a.code], b2.first[b.code]) for a in bs.bands for b in bs.bands if a.severity > b.severity]
        goal = z3.And(t1.field(den) == t2.field(den), t1.low < t2.low, z3.Or(*worse) if worse else z3.BoolVal(False, enc.ctx))
        venue = at[0] if at else None
        out.append(Obligation(
            "builtin.severity_monotone", f"band set {bs.name}", "refute", SeverityInverted(bs.name), _set_refs(bs),
            _problem(enc, goal), tallies=(TallyUse(t1, 0, venue, bs.name), TallyUse(t2, 1, venue, bs.name)),
            reach=_reach(ctx, at)))
    if not out:
        return NotApplicable("no band set has two bands")
    return tuple(out)


def max_venues(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some roster row (any level, any combination of titles, any facts) has more venues
    *proposed* by its active venue rules than ``max_venues`` (the cut to the first ``max_venues``
    is then what decides, silently dropping a venue the rules asked for)."""
    p = ctx.policy
    if (why := _can_plan(p)) is not None:
        return NotApplicable(why)
    if p.max_venues is None:
        return NotApplicable("the policy declares no max_venues")
    sh = ctx.planned()
    refs = (rule_ref("max_venues", p.max_venues, "max_venues"),) + tuple(rule_ref("venue_rule", vr) for vr in p.venue_rules)
    return (Obligation("builtin.max_venues", f"venues proposed (max_venues {p.max_venues.count})", "refute",
                       TooManyProposed(p.max_venues.count), refs, sh.problem(sh.plan.proposed_count > p.max_venues.count), sh.roster),)


def exemption_overrides_scope(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some roster row is exempt (some exemption's condition holds) and yet has a venue or
    an outcome (for some tallies of its venues)."""
    p = ctx.policy
    if (why := _can_plan(p)) is not None:
        return NotApplicable(why)
    if not p.exemptions:
        return NotApplicable("the policy has no exemption")
    enc = ctx.encoder()
    r = enc.roster()
    pl = enc.plan(r)
    tallies = enc.venue_tallies()
    out = enc.outcome(pl, tallies)
    any_venue = z3.Or(*pl.venues.values()) if pl.venues else z3.BoolVal(False, enc.ctx)
    goal = z3.And(pl.exempt, z3.Or(any_venue, z3.Not(out[None])))
    refs = tuple(rule_ref("exemption", x) for x in p.exemptions) + tuple(rule_ref("venue_rule", vr) for vr in p.venue_rules)
    return (Obligation("builtin.exemption_overrides_scope", "exempt cadres", "refute", ExemptWithVenue(), refs,
                       _problem(enc, goal), r, tuple(TallyUse(t, 0, v) for v, t in tallies.items())),)


def voted_has_venue(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some roster row is in scope and not exempt (status ``voted``) and has no venue."""
    p = ctx.policy
    if (why := _can_plan(p)) is not None:
        return NotApplicable(why)
    sh = ctx.planned()
    pl = sh.plan
    refs = tuple(rule_ref("venue_rule", vr) for vr in p.venue_rules) + tuple(rule_ref("scope", s) for s in p.scope)
    return (Obligation("builtin.voted_has_venue", "voted cadres", "refute", VotedWithoutVenue(), refs,
                       sh.problem(z3.And(pl.status["voted"], pl.count == 0)), sh.roster),)


def venue_implies_scope(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some roster row has at least one venue and no scope rule of its level covers any of
    its titles."""
    p = ctx.policy
    if (why := _can_plan(p)) is not None:
        return NotApplicable(why)
    sh = ctx.planned()
    pl = sh.plan
    refs = tuple(rule_ref("venue_rule", vr) for vr in p.venue_rules) + tuple(rule_ref("scope", s) for s in p.scope)
    return (Obligation("builtin.venue_implies_scope", "cadres with a venue", "refute", VenueOutOfScope(), refs,
                       sh.problem(z3.And(pl.count >= 1, z3.Not(pl.in_scope))), sh.roster),)


def no_conflict(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff for some roster row two venue rules are both active (each one's condition holds and
    no rule overriding it is active). A declared exception (``overrides``) makes the pair exclusive
    by construction; a pair without one conflicts as soon as both conditions can hold together."""
    p = ctx.policy
    if (why := _can_plan(p)) is not None:
        return NotApplicable(why)
    rules = p.venue_rules
    if len(rules) < 2:
        return NotApplicable("the policy has fewer than two venue rules")
    sh = ctx.planned()
    pl = sh.plan
    out = []
    for i, a in enumerate(rules):
        for b in rules[i + 1:]:
            out.append(Obligation("builtin.no_conflict", f"venue rules {a.name} and {b.name}", "refute", BothActive(a.name, b.name),
                                  (rule_ref("venue_rule", a), rule_ref("venue_rule", b)),
                                  sh.problem(z3.And(pl.active[a.name], pl.active[b.name])), sh.roster))
    return tuple(out)


def no_dead_rule(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some rule can never fire: a scope rule that covers no roster row of its level, an
    exemption whose condition no roster row meets, a venue rule never active, a venue item that never
    proposes its venue (its rule active and the item taken), a band that is never the band decided
    for a valid tally (its condition unsatisfiable, or always preceded by an earlier band), or a stage
    that is never due (no roster row and tallies make the vote before it decide a band it follows
    while its condition holds)."""
    p = ctx.policy
    out: list[Obligation] = []
    can_plan = _can_plan(p) is None

    def plan_witness(subject: str, claim: RuleFires, ref: RuleRef, pick: Callable) -> None:
        sh = ctx.planned()
        out.append(Obligation("builtin.no_dead_rule", subject, "witness", claim, (ref,), sh.problem(pick(sh.plan)), sh.roster))

    for s in p.scope:
        plan_witness(f"scope rule {s.name}", RuleFires("scope", s.name), rule_ref("scope", s), lambda pl, n=s.name: pl.scope[n])
    for x in p.exemptions:
        plan_witness(f"exemption {x.name}", RuleFires("exemption", x.name), rule_ref("exemption", x), lambda pl, n=x.name: pl.exemptions[n])
    if can_plan:
        for vr in p.venue_rules:
            ref = rule_ref("venue_rule", vr)
            plan_witness(f"venue rule {vr.name}", RuleFires("venue_rule", vr.name), ref, lambda pl, n=vr.name: pl.active[n])
            for i, it in enumerate(vr.items):
                plan_witness(f"venue rule {vr.name}, item {i + 1} ({it.venue} {it.kind})", RuleFires("venue_item", vr.name, i, it.venue),
                             ref, lambda pl, n=vr.name, k=i: pl.taken[(n, k)])
    for bs, _ in _band_sets(p):
        for b in bs.bands:
            enc = ctx.encoder()
            t = enc.tally("t1", ctx.policy.base_of(bs))
            bt = enc.bands(bs, t)
            out.append(Obligation("builtin.no_dead_rule", f"band {b.code} of {bs.name}", "witness",
                                  RuleFires("band", b.code, band_set=bs.name), (band_ref(bs, b),),
                                  _problem(enc, bt.first[b.code]), tallies=(TallyUse(t, 0, None, bs.name),)))
    if can_plan:
        for st in p.stages:  # a later vote that is never due is as dead as a rule that never fires
            enc = ctx.encoder()
            r = enc.roster()
            pl = enc.plan(r)
            ts = enc.venue_tallies()
            terms = enc.stages(pl, ts)
            earlier = [e for e in p.stages[: p.stages.index(st)] if e.venue == st.venue]
            uses = (TallyUse(ts[st.venue], 0, st.venue),) + tuple(TallyUse(terms[e.name].tally, 0, st.venue, stage=e.name) for e in earlier)
            out.append(Obligation("builtin.no_dead_rule", f"stage {st.name}", "witness", RuleFires("stage", st.name),
                                  (rule_ref("stage", st),), _problem(enc, terms[st.name].due), r, tallies=uses))
    if not out:
        return NotApplicable("the policy has no rule that decides")
    return tuple(out)


def schedule_feasible(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff the phases cannot all be given day numbers with, for each phase, start ≤ end,
    start ≥ its ``from`` date, end ≤ its ``by`` date and start ≥ the end of each phase it comes
    ``after``. A refutation has no model to replay: it comes with the unsat core, the phase
    constraints in conflict."""
    p = ctx.policy
    if not p.schedule:
        return NotApplicable("the policy has no schedule")
    enc = ctx.encoder()
    days = enc.schedule()
    refs = tuple(RuleRef("phase", ph.name, ph.cite, ph.span) for ph in p.schedule)
    return (Obligation("builtin.schedule_feasible", "the schedule", "witness", ScheduleFeasible(), refs,
                       _problem(enc, z3.BoolVal(True, enc.ctx)), schedule=tuple((n, s, e) for n, (s, e) in days.items())),)


def refinement_keeps(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff a declaration that ``refines`` an imported one decides some case differently: an
    exemption whose condition differs from the imported exemption's for some roster row, or a band
    set whose decided band (the code of the first band whose condition holds, or none) differs from
    the imported set's for some valid tally; or iff the policy's ``max_venues`` exceeds that of a
    policy it imports (decided on the declarations; a roster row voted at more venues than the
    import allows is given when there is one)."""
    p = ctx.policy
    out: list[Obligation] = []
    for x in p.exemptions:
        if x.refines is None or x.refined is None:
            continue
        enc = ctx.encoder()
        r = enc.roster()
        mine = enc.named(rule_ref("exemption", x), f"exemption|{x.name}", f"exemption {x.name} holds", enc.condition(x.when, Env(r)))
        ref2 = rule_ref("exemption", x.refined, x.refines)
        theirs = enc.named(ref2, f"exemption|{x.refines}", f"exemption {x.refines} holds", enc.condition(x.refined.when, Env(r)))
        out.append(Obligation("builtin.refinement_keeps", f"exemption {x.name} refines {x.refines}", "refute",
                              ExemptionDiffers(x.name, x.refines), (rule_ref("exemption", x), ref2),
                              _problem(enc, mine != theirs), r))
    for bs, at in _band_sets(p):
        if bs.refines is None or bs.refined is None:
            continue
        enc = ctx.encoder()
        mine, theirs = p.base_of(bs), _refined_base(p, bs)
        t = enc.tally("t1", mine, theirs)  # a tally both texts read: a different base is a difference
        differ = options_differ(band_options(enc, bs, t), band_options(enc, bs.refined, t, bs.refines, theirs))
        out.append(Obligation("builtin.refinement_keeps", f"band set {bs.name} refines {bs.refines}", "refute",
                              BandDiffers(bs.name, bs.refines), _set_refs(bs) + _set_refs(bs.refined, bs.refines),
                              _problem(enc, differ),
                              tallies=(TallyUse(t, 0, at[0] if at else None, bs.name),), reach=_reach(ctx, at)))
    for alias, sub in p.imports:
        if sub.max_venues is None or p.max_venues is None:
            continue
        own, limit = p.max_venues.count, sub.max_venues.count
        refs = (rule_ref("max_venues", p.max_venues, "max_venues"), rule_ref("max_venues", sub.max_venues, f"{alias}.max_venues"))
        out.append(Obligation("builtin.refinement_keeps", f"max_venues ({own}) against {alias}.max_venues ({limit})", "static",
                              DeclaredLimit(own, limit, alias), refs, static_holds=own <= limit))
        if own > limit and _can_plan(p) is None:
            sh = ctx.planned()
            out.append(Obligation("builtin.refinement_keeps", f"venues beyond {alias}.max_venues ({limit})", "refute",
                                  VenuesExceed(limit, alias), refs, sh.problem(sh.plan.count > limit), sh.roster))
    if not out:
        return NotApplicable("the policy refines nothing it imports")
    return tuple(out)


def imports_kept(ctx: Context) -> tuple[Obligation, ...] | NotApplicable:
    """Refuted iff some roster row meets the condition of an exemption of a text the policy imports
    (read over the same row: the imported text's facts, the vote year) and is voted by the policy
    (status ``voted``): a plan that forgets or narrows an exemption of the central text it implements.
    A plan that replaces one on purpose says so with ``acknowledge builtin.imports_kept``."""
    p = ctx.policy
    if (why := _can_plan(p)) is not None:
        return NotApplicable(why)
    imported = [(alias, x) for alias, sub in p.imports for x in sub.exemptions]
    if not imported:
        return NotApplicable("the policy imports no exemption")
    out = []
    for alias, x in imported:
        enc = ctx.encoder()
        r = enc.roster()
        pl = enc.plan(r)
        theirs = rule_ref("exemption", x, f"{alias}.{x.name}")
        holds = enc.named(theirs, f"imported|{alias}.{x.name}", f"exemption {alias}.{x.name} holds", enc.condition(x.when, Env(r)))
        refs = (theirs,) + tuple(rule_ref("exemption", e) for e in p.exemptions) + tuple(rule_ref("scope", sc) for sc in p.scope)
        out.append(Obligation("builtin.imports_kept", f"exemption {alias}.{x.name}", "refute", ExemptionDropped(alias, x.name), refs,
                              _problem(enc, z3.And(holds, pl.status["voted"])), r))
    return tuple(out)


@dataclass(frozen=True)
class Builtin:
    id: str
    summary: str
    build: Builder

    @property
    def meaning(self) -> str:
        return " ".join((self.build.__doc__ or "").split())


#: The built-in properties, in the order of :data:`dsl.ir.BUILTIN_PROPERTIES`.
BUILTINS: tuple[Builtin, ...] = tuple(
    Builtin(pid, summary, builder) for pid, summary, builder in (
        (k, v, {
            "bands_disjoint": bands_disjoint, "bands_cover": bands_cover, "severity_monotone": severity_monotone,
            "max_venues": max_venues, "exemption_overrides_scope": exemption_overrides_scope,
            "voted_has_venue": voted_has_venue, "venue_implies_scope": venue_implies_scope, "no_conflict": no_conflict,
            "no_dead_rule": no_dead_rule, "schedule_feasible": schedule_feasible, "refinement_keeps": refinement_keeps,
            "imports_kept": imports_kept,
        }[k]) for k, v in ir.BUILTIN_PROPERTIES.items()
    )
)

POLICY_PROPERTY_MEANING = ("Refuted iff some roster row (any level, any combination of titles, any facts), planned by the "
                           "policy, makes the property's condition false (it is read over the roster's facts and the plan: "
                           "status, in_scope, exempt, venue(v), venue_count).")


def policy_property(ctx: Context, prop: ir.PropertyDecl) -> Obligation:
    sh = ctx.planned()
    ref = RuleRef("property", prop.name, None, prop.span)
    holds = ctx.encoder().condition(prop.expr, sh.plan.env())  # a condition adds no constraint nor definition
    return Obligation(prop.name, prop.label, "refute", PropertyFalse(prop.name), (ref,), sh.problem(z3.Not(holds)), sh.roster)


def catalog(policy: ir.Policy, year: int | None = None, domain: Domain | None = None) -> tuple[PropertyCheck, ...]:
    """Every property to check for ``policy``: the built-ins, then the policy's own, in order."""
    ctx = Context(policy, year, domain or Domain())
    out = []
    for b in BUILTINS:
        built = b.build(ctx)
        match built:
            case NotApplicable(reason=why):
                out.append(PropertyCheck(f"builtin.{b.id}", "builtin", b.summary, b.meaning, not_applicable=why))
            case tuple():
                out.append(PropertyCheck(f"builtin.{b.id}", "builtin", b.summary, b.meaning, built))
    for prop in policy.properties:
        ob = policy_property(ctx, prop)
        out.append(PropertyCheck(prop.name, "policy", prop.label, POLICY_PROPERTY_MEANING, (ob,),
                                 decl=RuleRef("property", prop.name, None, prop.span)))
    return tuple(out)
