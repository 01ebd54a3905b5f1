"""The differential oracle: what the Z3 model forces for one pinned input, against the evaluator.

Takes a :class:`dsl.ir.Policy` and a vote year; builds the policy's Z3 encoding **once**
(:class:`checker.encode.Encoder`: one roster row, one tally per venue, the plan, every venue's band
and session validity, the outcome, and every band set of the policy decided over every tally) in a
solver of its own. For each :class:`checker.strategies.FuzzInput` it then

1. asserts the input equalities in a solver scope (``push``; ``pop`` after the input, so nothing
   stays asserted between inputs), checks ``sat`` and reads the model into a :class:`DecisionView`;
2. compares it with the :class:`DecisionView` of the compiled evaluator's decision (status,
   exemptions, proposed venues, venues, each venue's band and session validity, the outcome, and the
   band every band set decides for every tally);
3. checks that the model *forces* that decision: the input equalities with the negation of the
   evaluator's decision are ``unsat``.

It also states, independently of :mod:`checker.replay`, what each property of the catalog forbids of
one input (:func:`property_violations`), so that every property the checker proves can be held to
the evaluator's output on generated inputs. Produces :class:`Comparison` values; a disagreement
names the fields that differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import z3

from checker.encode import BandTerms, Domain, Encoder, TallyVars
from checker.strategies import NO_VENUE, FuzzInput
from dsl import evaluator as _evaluator
from dsl import ir
from dsl.evaluator import Decision, Evaluator

Factory = Callable[[ir.Policy, int], Evaluator]


@dataclass(frozen=True)
class VenueView:
    venue: str
    band: str | None  # None: no band holds, no band set at the venue, or no tally
    session_valid: bool | None  # None: no tally


@dataclass(frozen=True)
class DecisionView:
    """A decision as plain values, the same whichever side decided it."""

    status: str
    exemptions: tuple[str, ...]
    proposed: tuple[str, ...]
    venues: tuple[str, ...]
    results: tuple[VenueView, ...]
    outcome: str | None
    sets: tuple[tuple[str, str, str | None], ...]  # (band set, venue of the tally, band decided)

    def differences(self, other: DecisionView) -> tuple[str, ...]:
        out = []
        for name in ("status", "exemptions", "proposed", "venues", "outcome"):
            if getattr(self, name) != getattr(other, name):
                out.append(name)
        mine, theirs = {r.venue: r for r in self.results}, {r.venue: r for r in other.results}
        for v in sorted(set(mine) | set(theirs)):
            a, b = mine.get(v), theirs.get(v)
            if (a and a.band) != (b and b.band):
                out.append(f"band({v})")
            if (a and a.session_valid) != (b and b.session_valid):
                out.append(f"session_valid({v})")
        mine_sets, their_sets = {(s, v): x for s, v, x in self.sets}, {(s, v): x for s, v, x in other.sets}
        for key in sorted(set(mine_sets) | set(their_sets)):
            if mine_sets.get(key, "?") != their_sets.get(key, "?"):
                out.append(f"band set {key[0]} on the tally at {key[1]}")
        return tuple(out)

    def render(self) -> str:
        res = "; ".join(f"{r.venue}: band {r.band or 'none'}, session "
                        f"{'valid' if r.session_valid else 'invalid' if r.session_valid is False else 'n/a (no tally)'}"
                        for r in self.results)
        return (f"status {self.status} · exemptions {', '.join(self.exemptions) or 'none'} · proposed "
                f"{', '.join(self.proposed) or 'none'} · venues {', '.join(self.venues) or 'none'}"
                + (f" · {res}" if res else "") + f" · outcome {self.outcome or 'none'}")


@dataclass(frozen=True)
class Comparison:
    """The two decisions for one input; ``problems`` is empty when they agree and the model forces it."""

    input: FuzzInput
    evaluator: DecisionView
    model: DecisionView | None  # None: the pinned input has no model (or the solver gave up)
    problems: tuple[str, ...] = ()
    decision: Decision | None = field(default=None, compare=False, repr=False)

    @property
    def agrees(self) -> bool:
        return not self.problems


SetPreds = tuple[tuple[str, str, tuple[tuple[str, Callable[[int, int], bool]], ...]], ...]  # (set, base, bands)


def compiled_sets(policy: ir.Policy) -> SetPreds:
    """Every band set of the policy with its base and its bands' conditions compiled by the evaluator's compiler."""
    compile_share = _evaluator.compile_share  # looked up when called: the evaluator's compiler as it is now
    return tuple((bs.name, policy.base_of(bs), tuple((b.code, compile_share(b.when)) for b in bs.bands))
                 for bs in policy.band_sets)


def evaluator_view(d: Decision, inp: FuzzInput, sets_preds: SetPreds) -> DecisionView:
    """The evaluator's decision as a :class:`DecisionView` (band sets decided with its compiled conditions,
    each over its own base; no band where the tally does not give that base)."""
    results = tuple(VenueView(r.venue, r.band.code if r.band else None, r.session_valid) for r in d.results)
    sets = []
    for name, base, preds in sets_preds:
        for t in inp.tallies:
            den = t.get(base) or 0
            band = next((c for c, pred in preds if den > 0 and pred(t.low, den)), None)
            sets.append((name, t.venue, band))
    return DecisionView(d.plan.status, tuple(x.name for x in d.plan.exemptions), d.plan.proposed, d.plan.venues, results,
                        d.outcome, tuple(sorted(sets, key=lambda x: (x[0], x[1]))))


class Oracle:
    """One policy's encoding in one solver, queried once per input (see the module docstring)."""

    def __init__(self, policy: ir.Policy, year: int, venues: tuple[str, ...] | None = None,
                 factory: Factory = Evaluator) -> None:
        self.policy = policy
        self.year = year
        self.ctx = z3.Context()
        self.ev = factory(policy, year)
        self.set_preds = compiled_sets(policy)
        enc = Encoder(policy, year, Domain(), self.ctx)
        self.roster = r = enc.roster()
        self.plan = pl = enc.plan(r)
        order = policy.venue_codes()
        self._order_set = frozenset(order)
        self.venues = venues if venues is not None else (order or (NO_VENUE,))
        self.tallies: dict[str, TallyVars] = {v: enc.tally(f"tally|{v}", policy.base_at(v)) for v in self.venues}
        planned = {v: self.tallies[v] for v in order}
        self.outcome = enc.outcome(pl, planned)
        self.bands: dict[str, BandTerms] = {}
        self.valid: dict[str, z3.BoolRef] = {}
        for v in order:
            bs = policy.band_set_at(v)
            if bs is not None:
                self.bands[v] = enc.bands(bs, planned[v])
            self.valid[v] = enc.session_valid(planned[v])
        self.sets: list[tuple[str, str, BandTerms, str]] = []
        for bs in policy.band_sets:
            for v in self.venues:
                at = self.bands.get(v)
                same = at is not None and policy.band_set_at(v) is bs  # the venue's own terms say the same
                self.sets.append((bs.name, v, at if same else enc.bands(bs, self.tallies[v], f"set|{bs.name}"),
                                  policy.base_of(bs)))
        self.solver = z3.SolverFor("QF_LIA", ctx=self.ctx)
        self.solver.add(*enc.constraints)
        for d in enc.definitions:
            self.solver.add(d.formula)
        # literals built once (a Bool and its negation), raw ASTs for the hot path (z3core, no wrappers)
        self._ref = self.ctx.ref()
        self._int_sort = z3.IntSort(self.ctx).ast
        self._keep: list[z3.ExprRef] = []
        self._lits: dict[int, tuple[z3.Ast, z3.Ast]] = {}  # id(term) → (term, not term)
        self._false = self._keep_ast(z3.BoolVal(False, self.ctx))
        self._levels = [self._keep_ast(r.level == i) for i in range(max(1, len(r.levels)))]
        self._level_index = {lv: i for i, lv in enumerate(r.levels)}
        self._out = (z3.Ast * 1)()

    # ---- raw literals and checks
    def _keep_ast(self, e: z3.ExprRef) -> z3.Ast:
        self._keep.append(e)
        return e.as_ast()

    def _lit(self, term: z3.BoolRef, value: bool) -> z3.Ast:
        key = id(term)  # decision terms live as long as the oracle (kept in _keep with their negation)
        pair = self._lits.get(key)
        if pair is None:
            pair = self._lits[key] = (self._keep_ast(term), self._keep_ast(z3.Not(term)))
            self._keep.append(term)
        return pair[0] if value else pair[1]

    def _eq(self, term: z3.ArithRef, value: int, hold: list[z3.ExprRef]) -> z3.Ast:
        num = z3.Z3_mk_numeral(self._ref, str(value), self._int_sort)
        eq = z3.BoolRef(z3.Z3_mk_eq(self._ref, term.as_ast(), num), self.ctx)
        hold.append(eq)  # keeps the reference count up until the check is done
        return eq.as_ast()

    def _assert_and_check(self, asts: list[z3.Ast]) -> z3.CheckSatResult:
        sv = self.solver.solver
        for a in asts:
            z3.Z3_solver_assert(self._ref, sv, a)
        return z3.CheckSatResult(z3.Z3_solver_check(self._ref, sv))

    def _not_all(self, asts: list[z3.Ast], hold: list[z3.ExprRef]) -> z3.Ast:
        arr = (z3.Ast * len(asts))(*asts)
        e = z3.BoolRef(z3.Z3_mk_not(self._ref, z3.Z3_mk_and(self._ref, len(asts), arr)), self.ctx)
        hold.append(e)
        return e.as_ast()

    def pins(self, inp: FuzzInput, hold: list[z3.ExprRef]) -> list[z3.Ast]:
        """The input equalities: level, every title, every fact, every tally field (the optional
        ``convened``/``present`` and ``members`` columns: whether given, and their values)."""
        r, c = self.roster, inp.cadre
        eqs = [self._levels[self._level_index.get(c.level, 0)]]
        eqs += [self._lit(t, code in c.titles) for code, t in r.titles.items()]
        for name, term in r.facts.items():
            if name in r.given:
                value = c.facts.get(name)
                eqs.append(self._lit(r.given[name], value is not None))
                if value is not None:
                    eqs.append(self._eq(term, int(value), hold))  # type: ignore[arg-type]
            else:
                eqs.append(self._lit(term, bool(c.facts.get(name, False))))  # type: ignore[arg-type]
        given = inp.at
        for v, tv in self.tallies.items():
            t = given.get(v)
            eqs.append(self._lit(tv.given, t is not None))
            if t is None:
                continue
            for term, value in ((tv.issued, t.issued), (tv.collected, t.collected), (tv.high, t.high),
                                (tv.confidence, t.confidence), (tv.low, t.low)):
                eqs.append(self._eq(term, value, hold))
            q = t.convened is not None and t.present is not None
            eqs.append(self._lit(tv.quorum_given, q))
            if q:
                eqs += [self._eq(tv.convened, t.convened, hold), self._eq(tv.present, t.present, hold)]  # type: ignore[arg-type]
            eqs.append(self._lit(tv.members_given, t.members is not None))
            if t.members is not None:
                eqs.append(self._eq(tv.members, t.members, hold))
        return eqs

    # ---- the model's decision
    def _model_view(self, m: z3.ModelRef, inp: FuzzInput) -> tuple[DecisionView, list[str]]:
        ref, model, out = self._ref, m.model, self._out

        def val(t: z3.BoolRef) -> bool:
            if not z3.Z3_model_eval(ref, model, t.as_ast(), True, out):
                raise z3.Z3Exception("the model cannot evaluate a decision term")
            return z3.Z3_get_bool_value(ref, out[0]) == z3.Z3_L_TRUE

        problems = []
        pl, p = self.plan, self.policy
        statuses = [s for s, t in pl.status.items() if val(t)]
        if len(statuses) != 1:
            problems.append(f"the model gives {len(statuses)} statuses: {statuses}")
        order = p.venue_codes()
        venues = tuple(v for v in order if val(pl.venues[v]))
        given = inp.at
        results = []
        for v in venues:
            if v not in given:
                results.append(VenueView(v, None, None))
                continue
            bt = self.bands.get(v)
            band = next((c for c, t in bt.first.items() if val(t)), None) if bt is not None else None
            results.append(VenueView(v, band, val(self.valid[v])))
        outcomes = [k for k, t in self.outcome.items() if val(t)]
        if len(outcomes) != 1:
            problems.append(f"the model gives {len(outcomes)} outcomes: {outcomes}")
        sets = tuple(sorted(((name, v, next((c for c, t in bt.first.items() if val(t)), None) if given[v].get(base) else None)
                             for name, v, bt, base in self.sets if v in given), key=lambda x: (x[0], x[1])))
        view = DecisionView(statuses[0] if statuses else "?", tuple(x.name for x in p.exemptions if val(pl.exemptions[x.name])),
                            tuple(v for v in order if val(pl.proposed[v])), venues, tuple(results),
                            outcomes[0] if len(outcomes) == 1 else ("?" if outcomes else None), sets)
        return view, problems

    def _decision_literals(self, view: DecisionView, inp: FuzzInput) -> list[z3.Ast]:
        """The evaluator's decision as literals over the derived terms (to assert its negation)."""
        pl, p = self.plan, self.policy
        lits = [self._lit(pl.status[view.status], True)] if view.status in pl.status else [self._false]
        lits += [self._lit(pl.exemptions[x.name], x.name in view.exemptions) for x in p.exemptions]
        lits += [self._lit(pl.proposed[v], v in view.proposed) for v in p.venue_codes()]
        lits += [self._lit(pl.venues[v], v in view.venues) for v in p.venue_codes()]
        for r in view.results:
            if r.session_valid is None:
                continue
            bt = self.bands.get(r.venue)
            if bt is not None:
                lits += [self._lit(t, c == r.band) for c, t in bt.first.items()]
                if r.band is None:
                    lits.append(self._lit(bt.none, True))
            lits.append(self._lit(self.valid[r.venue], bool(r.session_valid)))
        out = self.outcome.get(view.outcome)
        lits.append(self._lit(out, True) if out is not None else self._false)
        given = inp.at
        by_key = {(s, v): band for s, v, band in view.sets}
        for name, v, bt, base in self.sets:
            if v not in given or not given[v].get(base):
                continue  # no tally there, or it does not give this set's base: the evaluator decides no band
            band = by_key.get((name, v))
            lits += [self._lit(t, c == band) for c, t in bt.first.items()]
        return lits

    # ---- one input
    def compare(self, inp: FuzzInput) -> Comparison:
        d = self.ev.decide(inp.cadre, {v: t for v, t in inp.at.items() if v in self._order_set})
        mine = evaluator_view(d, inp, self.set_preds)
        hold: list[z3.ExprRef] = []
        pins = self.pins(inp, hold)
        z3.Z3_solver_push(self._ref, self.solver.solver)
        try:
            answer = self._assert_and_check(pins)
            if answer != z3.sat:
                why = self.solver.reason_unknown() if answer == z3.unknown else "no model: the encoding rejects the input"
                return Comparison(inp, mine, None, (f"pinned input is {answer}: {why}",), d)
            model, problems = self._model_view(self.solver.model(), inp)
            diffs = mine.differences(model)
            if diffs:
                problems.append("the evaluator and the Z3 model differ in " + ", ".join(diffs))
            forced = self._assert_and_check([self._not_all(self._decision_literals(mine, inp), hold)])
            if forced != z3.unsat:
                problems.append("the model does not force the evaluator's decision (its negation is "
                                f"{forced}: another decision is possible for this input)")
        finally:
            z3.Z3_solver_pop(self._ref, self.solver.solver, 1)
        return Comparison(inp, mine, model, tuple(problems), d)


# ---- the properties, on one input -----------------------------------------------------------------------

#: Properties that no single input can violate (they quantify over rules or dates, not inputs).
NOT_PER_INPUT = frozenset({"builtin.no_dead_rule", "builtin.schedule_feasible"})


class PerInput:
    """What each property of the catalog forbids of one input, on the evaluator's output.

    Each is stated from the property's meaning (``docs/properties.md``), independently of
    :mod:`checker.replay`: the share of a tally is ``low / D``; every band set of the policy (and the
    set it refines, over the base of the text that declares that set) is applied to every tally of
    the input; severity is compared across them and the
    neighbouring shares ``(low ± 1) / D``."""

    def __init__(self, policy: ir.Policy, ev: Evaluator, properties: Iterable[str]) -> None:
        self.policy, self.ev = policy, ev
        self.properties = tuple(p for p in properties if p not in NOT_PER_INPUT)
        for pid in self.properties:
            if pid.startswith("builtin.") and pid.removeprefix("builtin.") not in ir.BUILTIN_PROPERTIES:
                raise ValueError(f"unknown property {pid}")
        compile_share = _evaluator.compile_share  # looked up when called: the evaluator's compiler as it is now
        self.sets = [(bs, tuple((b, compile_share(b.when)) for b in bs.bands)) for bs in policy.band_sets]
        owners = dict(policy.imports)
        # the set each band set refines, its bands compiled, and its base as the text that declares it counts
        self.refined = {id(bs): (tuple((b, compile_share(b.when)) for b in bs.refined.bands),
                                 self._declared_base(owners, policy, bs))
                        for bs in policy.band_sets if bs.refined is not None}
        self.limits = [sub.max_venues.count for _, sub in policy.imports if sub.max_venues is not None]

    @staticmethod
    def _declared_base(owners: dict[str, ir.Policy], policy: ir.Policy, bs: ir.BandSet) -> str:
        """The base of the imported set ``bs`` refines: its ``over``, else the share denominator of the
        text that declares it (the ``refines`` alias's policy), not of the refining one."""
        assert bs.refined is not None
        owner = owners.get((bs.refines or "").split(".", 1)[0])
        return (owner or policy).base_of(bs.refined)

    @staticmethod
    def _matched(preds: tuple[tuple[ir.BandRule, Callable[[int, int], bool]], ...], low: int, den: int) -> list[ir.BandRule]:
        return [b for b, pred in preds if pred(low, den)]

    def violations(self, inp: FuzzInput, d: Decision) -> list[str]:
        """The properties the evaluator's decision for ``inp`` violates."""
        pl, policy, ev = d.plan, self.policy, self.ev
        matched: dict[int, list[list[ir.BandRule]]] = {}
        at: dict[int, tuple[list[tuple[int, int]], int]] = {}  # id(set) → its points, how many are the tallies' own
        for bs, preds in self.sets:
            # (low, D) of each tally over the set's base, then its neighbours (low ± 1) / D for the severity order
            base = policy.base_of(bs)
            points = [(t.low, t.get(base) or 0) for t in inp.tallies if (t.get(base) or 0) > 0]
            own = len(points)
            for lo, dn in points[:own]:
                points += [(x, dn) for x in (lo - 1, lo + 1) if x >= 0]
            matched[id(bs)] = [self._matched(preds, lo, dn) for lo, dn in points]
            at[id(bs)] = (points, own)
        out = []
        for pid in self.properties:
            match pid:
                case "builtin.bands_disjoint":
                    bad = any(len(m) > 1 for k, ms in matched.items() for m in ms[:at[k][1]])
                case "builtin.bands_cover":
                    bad = any(not m for k, ms in matched.items() for m in ms[:at[k][1]])
                case "builtin.severity_monotone":
                    bad = False
                    for k, ms in matched.items():
                        # a band depends on the share only: sorted by share, severities never decrease
                        decided = sorted((Fraction(lo, dn), m[0].severity) for (lo, dn), m in zip(at[k][0], ms) if m)
                        bad = bad or any(a[1] > b[1] for a, b in zip(decided, decided[1:]) if a[0] < b[0])
                case "builtin.max_venues":
                    bad = policy.max_venues is not None and len(pl.proposed) > policy.max_venues.count
                case "builtin.exemption_overrides_scope":
                    bad = pl.status == "exempt" and (bool(pl.venues) or d.outcome is not None)
                case "builtin.voted_has_venue":
                    bad = pl.status == "voted" and not pl.venues
                case "builtin.venue_implies_scope":
                    bad = bool(pl.venues) and not pl.in_scope
                case "builtin.no_conflict":
                    bad = len(pl.active_rules) > 1
                case "builtin.refinement_keeps":
                    bad = any(ev.condition_holds(x.when, inp.cadre, pl) != ev.condition_holds(x.refined.when, inp.cadre, pl)
                              for x in policy.exemptions if x.refined is not None)
                    for bs, preds in self.sets:
                        refined = self.refined.get(id(bs))
                        if refined is None:
                            continue
                        # each set over its own base, on every tally that gives both (≥ 1)
                        theirs, their_base = refined
                        mine_base = policy.base_of(bs)
                        for t in inp.tallies:
                            dm, dt = t.get(mine_base) or 0, t.get(their_base) or 0
                            if dm > 0 and dt > 0:
                                m, th = self._matched(preds, t.low, dm), self._matched(theirs, t.low, dt)
                                bad = bad or (m[0].code if m else None) != (th[0].code if th else None)
                    bad = bad or any(len(pl.venues) > limit for limit in self.limits)
                case "builtin.imports_kept":
                    # a row an exemption of an imported text exempts (read over the same row) is voted by the plan
                    bad = pl.status == "voted" and any(ev.condition_holds(x.when, inp.cadre, pl)
                                                       for _, sub in policy.imports for x in sub.exemptions)
                case _ if pid.startswith("builtin."):
                    raise AssertionError(f"no per-input statement of {pid}")
                case _:
                    bad = not ev.property_holds(pid, inp.cadre, pl)
            if bad:
                out.append(pid)
        return out


def property_violations(policy: ir.Policy, ev: Evaluator, inp: FuzzInput, d: Decision, properties: Iterable[str]) -> list[str]:
    """The properties among ``properties`` that the evaluator's decision for ``inp`` violates (see :class:`PerInput`)."""
    return PerInput(policy, ev, properties).violations(inp, d)


def coverage(d: Decision, view: DecisionView | None = None) -> set[str]:
    """The rules that fired in one decision (scope, exemptions, active venue rules, items, bands at
    venues, and with ``view`` the bands every band set decides for the input's tallies)."""
    fired = {f"scope:{n}" for n in d.plan.scope_rules}
    fired |= {f"exemption:{x.name}" for x in d.plan.exemptions}
    fired |= {f"venue_rule:{n}" for n in d.plan.active_rules}
    fired |= {f"venue_item:{n}:{v}" for n, vs in d.plan.chosen for v in vs}
    fired |= {f"band:{r.band_set}.{r.band.code}" for r in d.results if r.band is not None}
    if view is not None:
        fired |= {f"band:{s}.{band}" for s, _, band in view.sets if band is not None}
    return fired


def rules_of(policy: ir.Policy) -> set[str]:
    """Every rule :func:`coverage` can report for ``policy``."""
    out = {f"scope:{s.name}" for s in policy.scope}
    out |= {f"exemption:{x.name}" for x in policy.exemptions}
    out |= {f"venue_rule:{r.name}" for r in policy.venue_rules}
    out |= {f"venue_item:{r.name}:{it.venue}" for r in policy.venue_rules for it in r.items}
    for bs in policy.band_sets:
        out |= {f"band:{bs.name}.{b.code}" for b in bs.bands}
    return out
