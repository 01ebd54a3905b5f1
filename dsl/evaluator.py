"""The evaluator: IR → compiled decision functions.

Takes a :class:`dsl.ir.Policy` (and the vote year); produces an :class:`Evaluator` whose
:meth:`~Evaluator.plan` decides, for one roster row, the status, exemptions and ordered venues, and
whose :meth:`~Evaluator.decide` adds each venue's share, session validity and band, and the
outcome. Every decision carries a trace of the rules that fired, each with its citation.

Conditions are compiled once into Python closures (never ``eval`` of policy text): each IR node
becomes one closure specialised to its shape (a comparison with its operator inlined, a conjunction of
two conditions as ``f(x) and g(x)``), so deciding costs a few calls rather than a walk of the IR
(:mod:`dsl.interpret` is that walk, kept as the benchmark's baseline). Arithmetic is exact:
``share OP p/q`` is decided as ``low·q OP p·D`` on integers. The semantics implemented here
is the one stated in :mod:`dsl.ir`; the Z3 encoder implements the same, and the test suite holds
the two to each other.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from dsl import ir

_OPS: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Cadre:
    """One roster row as the evaluator sees it."""

    cadre_id: str
    level: str
    titles: frozenset[str]
    facts: Mapping[str, bool | int] = field(default_factory=dict)
    full_name: str = ""
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Tally:
    """One tally row: the count of one venue's vote on one cadre."""

    venue: str
    issued: int
    collected: int
    high: int
    confidence: int
    low: int
    convened: int | None = None
    present: int | None = None
    members: int | None = None  # all members of the voting body (tổng số đại biểu), when given

    def get(self, name: str) -> int | None:
        return getattr(self, name)


@dataclass(frozen=True)
class Step:
    """One rule that fired (or was overridden) while deciding, with its citation."""

    kind: str  # scope | exemption | venue_rule | overridden | venue | truncated | session | band | outcome
    rule: str
    detail: str
    cite: ir.Citation | None = None


@dataclass(frozen=True)
class Plan:
    status: str  # voted | exempt | out_of_scope
    in_scope: bool
    exemptions: tuple[ir.Exemption, ...]
    active_rules: tuple[str, ...]
    proposed: tuple[str, ...]  # before the max_venues cut
    venues: tuple[str, ...]
    trace: tuple[Step, ...]
    scope_rules: tuple[str, ...] = ()  # the scope rules that put the cadre in scope
    chosen: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (active venue rule, the venues it proposed)


@dataclass(frozen=True)
class VenueResult:
    venue: str
    tally: Tally | None
    share: Fraction | None
    session_valid: bool | None
    band: ir.BandRule | None
    band_set: str | None
    also_matched: tuple[str, ...] = ()  # other bands whose condition held (a disjointness failure)


@dataclass(frozen=True)
class StageResult:
    """Where one later vote stands for a cadre: ``due`` (the band before it triggers it and its condition
    holds), and when its tally is given, the share over its base and the band decided."""

    stage: ir.Stage
    due: bool
    trigger: str | None  # the band decided by the vote before it at its venue (None: none decided)
    tally: Tally | None
    base: str
    share: Fraction | None = None
    band: ir.BandRule | None = None

    @property
    def status(self) -> str:
        """``decided`` · ``due`` (to be held) · ``not_due``."""
        return "not_due" if not self.due else ("decided" if self.tally is not None else "due")


@dataclass(frozen=True)
class Decision:
    plan: Plan
    results: tuple[VenueResult, ...]
    outcome: str | None
    trace: tuple[Step, ...]
    stages: tuple[StageResult, ...] = ()  # one per stage held at one of the cadre's venues, in order

    @property
    def next_stage(self) -> str | None:
        """The first stage that is due and not yet held (None: nothing is pending)."""
        return next((r.stage.name for r in self.stages if r.status == "due"), None)

    @property
    def final(self) -> str | None:
        """Where the procedure ends: the band of the last stage decided, else the poll's outcome; None
        while a stage is due and not held."""
        if self.next_stage is not None:
            return None
        decided = [r for r in self.stages if r.status == "decided"]
        if decided:
            return decided[-1].band.code if decided[-1].band is not None else None
        return self.outcome


@dataclass
class _Env:
    level: str
    titles: frozenset[str]
    facts: Mapping[str, bool | int]
    year: int
    status: str = "out_of_scope"
    in_scope: bool = False
    exempt: bool = False
    venues: tuple[str, ...] = ()


Pred = Callable[[_Env], bool]
SharePred = Callable[[int, int], bool]


def compile_expr(e: ir.Expr) -> Pred:
    """Compile a roster / venue / property condition to a closure over the environment."""
    match e:
        case ir.Const(value=v):
            return lambda env: v
        case ir.Not(operand=o):
            f = compile_expr(o)
            return lambda env: not f(env)
        case ir.And(operands=ops):
            return _all(tuple(compile_expr(o) for o in ops))
        case ir.Or(operands=ops):
            return _any(tuple(compile_expr(o) for o in ops))
        case ir.Holds(titles=ts):
            return lambda env: not ts.isdisjoint(env.titles)
        case ir.LevelIs(level=lv):
            return lambda env: env.level == lv
        case ir.FactTrue(fact=name):
            return lambda env: bool(env.facts.get(name, False))
        case ir.IntCmp(op=op, left=a, right=b, scale=k) if k != 1:
            fa, fb, cmp, p, q = _int_term(a), _int_term(b), _OPS[op], k.numerator, k.denominator

            def scaled(env: _Env) -> bool:
                x, y = fa(env), fb(env)
                return x is not None and y is not None and cmp(x * q, p * y)  # exact: x OP (p/q)·y

            return scaled
        case ir.IntCmp(op=op, left=a, right=b):
            fa, fb, cmp = _int_term(a), _int_term(b), _OPS[op]
            return lambda env: _cmp_optional(cmp, fa(env), fb(env))
        case ir.InScope():
            return lambda env: env.in_scope
        case ir.IsExempt():
            return lambda env: env.exempt
        case ir.StatusIs(status=st):
            return lambda env: env.status == st
        case ir.HasVenue(venue=v):
            return lambda env: v in env.venues
        case ir.ShareCmp():
            raise ValueError("a share comparison outside a band condition")
        case _:
            raise AssertionError(f"unhandled IR expression {type(e).__name__}")


def _all(fs: tuple[Callable, ...], arity: int = 1) -> Callable:
    """The conjunction of compiled conditions, short-circuit, left to right (``arity`` 1: env; 2: n, d)."""
    if len(fs) == 1:
        return fs[0]
    if len(fs) == 2:
        f, g = fs
        return (lambda env: f(env) and g(env)) if arity == 1 else (lambda n, d: f(n, d) and g(n, d))
    return (lambda env: all(f(env) for f in fs)) if arity == 1 else (lambda n, d: all(f(n, d) for f in fs))


def _any(fs: tuple[Callable, ...], arity: int = 1) -> Callable:
    """The disjunction of compiled conditions, short-circuit, left to right (``arity`` 1: env; 2: n, d)."""
    if len(fs) == 1:
        return fs[0]
    if len(fs) == 2:
        f, g = fs
        return (lambda env: f(env) or g(env)) if arity == 1 else (lambda n, d: f(n, d) or g(n, d))
    return (lambda env: any(f(env) for f in fs)) if arity == 1 else (lambda n, d: any(f(n, d) for f in fs))


def _cmp_optional(cmp: Callable[[int, int], bool], a: int | None, b: int | None) -> bool:
    # A missing integer fact (e.g. no appointment year) makes every comparison false (and its ``not`` true).
    if a is None or b is None:
        return False
    return cmp(a, b)


def _int_term(t: ir.IntTerm) -> Callable[[_Env], int | None]:
    match t:
        case ir.IntConst(value=v):
            return lambda env: v
        case ir.IntFact(fact=name):
            return lambda env: env.facts.get(name)  # type: ignore[return-value]
        case ir.VoteYear():
            return lambda env: env.year
        case ir.VenueCount():
            return lambda env: len(env.venues)
        case _:
            raise AssertionError(f"unhandled IR term {type(t).__name__}")


def compile_share(e: ir.Expr) -> SharePred:
    """Compile a band condition to a closure over (numerator, denominator), denominator > 0."""
    match e:
        case ir.Const(value=v):
            return lambda n, d: v
        case ir.Not(operand=o):
            f = compile_share(o)
            return lambda n, d: not f(n, d)
        case ir.And(operands=ops):
            return _all(tuple(compile_share(o) for o in ops), 2)
        case ir.Or(operands=ops):
            return _any(tuple(compile_share(o) for o in ops), 2)
        case ir.ShareCmp(op=op, value=value):
            return _share_cmp(op, value.numerator, value.denominator)
        case _:
            raise ValueError(f"{type(e).__name__} in a band condition")


def _share_cmp(op: ir.Op, p: int, q: int) -> SharePred:
    """``n/d OP p/q`` (d > 0, q > 0) as ``n·q OP p·d``, the operator inlined."""
    match op:
        case "<":
            return lambda n, d: n * q < p * d
        case "<=":
            return lambda n, d: n * q <= p * d
        case ">":
            return lambda n, d: n * q > p * d
        case ">=":
            return lambda n, d: n * q >= p * d
        case "=":
            return lambda n, d: n * q == p * d
        case "!=":
            return lambda n, d: n * q != p * d
    raise AssertionError(f"unhandled operator {op}")


_BROKEN = {"<=": "is more than", "<": "is not less than", ">=": "is less than", ">": "is not more than",
           "=": "differs from", "!=": "equals"}


def compile_invariants(invariants: Sequence[ir.Invariant]) -> Callable[[tuple[int | None, ...]], str | None]:
    """:func:`broken_invariant` compiled once for a reader: takes the counts in the order of
    :data:`dsl.ir.TALLY_FIELDS` (a tuple, no dict per row) and says why the first broken invariant is."""
    index = {f: i for i, f in enumerate(ir.TALLY_FIELDS)}
    compiled = [(tuple(index[f] for f in inv.left), tuple(index[f] for f in inv.right), _OPS[inv.op], inv)
                for inv in invariants]

    def check(values: tuple[int | None, ...]) -> str | None:
        for left, right, op, inv in compiled:
            try:
                if op(sum(values[i] for i in left), sum(values[i] for i in right)):  # type: ignore[misc]
                    continue
            except TypeError:  # a field it names is not given: it does not bind this row
                continue
            return broken_invariant((inv,), dict(zip(ir.TALLY_FIELDS, values)))
        return None

    return check


def broken_invariant(invariants: Sequence[ir.Invariant], counts: Mapping[str, int | None]) -> str | None:
    """Why a tally row's ``counts`` break the first invariant they break (each binds only where the
    fields it names are given), or None: ``high + confidence + low (45) is more than collected (40)``,
    with the invariant's citation when it has one."""
    for inv in invariants:
        values = [counts.get(f) for f in inv.fields]
        if any(v is None for v in values):
            continue
        left = sum(counts[f] for f in inv.left)  # type: ignore[misc]
        right = sum(counts[f] for f in inv.right)  # type: ignore[misc]
        if _OPS[inv.op](left, right):
            continue
        cite = f" — {inv.cite.label}" if inv.cite else ""
        return f"{' + '.join(inv.left)} ({left}) {_BROKEN[inv.op]} {' + '.join(inv.right)} ({right}){cite}"
    return None


class Evaluator:
    """A policy compiled for one vote year."""

    def __init__(self, policy: ir.Policy, year: int | None = None) -> None:
        self.policy = policy
        self.year = year if year is not None else (policy.vote_year or 0)
        self._scope: dict[str, list[ir.ScopeRule]] = {}
        for r in policy.scope:
            self._scope.setdefault(r.level, []).append(r)
        self._exemptions = [(x, compile_expr(x.when)) for x in policy.exemptions]
        self._order = {v: i for i, v in enumerate(policy.venue_codes())}
        self._max = policy.max_venues.count if policy.max_venues else None
        # venue rules, evaluated so that every overriding rule is decided before the rules it overrides
        rules = {r.name: r for r in policy.venue_rules}
        overriders: dict[str, list[str]] = {r.name: [] for r in policy.venue_rules}
        for r in policy.venue_rules:
            for target in r.overrides:
                overriders[target].append(r.name)
        order: list[str] = []
        seen: set[str] = set()

        def visit(n: str) -> None:
            if n in seen:
                return
            seen.add(n)
            for m in overriders[n]:
                visit(m)
            order.append(n)

        for r in policy.venue_rules:
            visit(r.name)
        self._venue_rules = [
            (rules[n], compile_expr(rules[n].when), tuple(overriders[n]),
             tuple((it.venue, it.kind, compile_expr(it.when) if it.when is not None else None) for it in rules[n].items))
            for n in order
        ]
        self._bands: dict[str, tuple[ir.BandSet, tuple[tuple[ir.BandRule, SharePred], ...]]] = {}
        for v in policy.venue_codes():
            bs = policy.band_set_at(v)
            if bs is not None:
                self._bands[v] = (bs, tuple((b, compile_share(b.when)) for b in bs.bands))
        self._properties = {p.name: compile_expr(p.expr) for p in policy.properties}
        self._base = {v: policy.base_at(v) for v in policy.venue_codes()}  # what each venue's share is over
        self._default_base = policy.default_base()
        q = policy.quorum
        self._quorum = (_OPS[q.op], q.ratio.numerator, q.ratio.denominator) if q is not None else None
        self._stages = []
        for st in policy.stages:
            sbs = policy.band_set(st.band_set)
            preds = tuple((b, compile_share(b.when)) for b in sbs.bands) if sbs is not None else ()
            self._stages.append((st, compile_expr(st.when) if st.when is not None else None, preds,
                                 policy.base_of(sbs) if sbs is not None else self._default_base))
        self._then_text: dict[int, tuple[ir.BandRule, str]] = {}  # id(band) → (band, its consequences for the trace)

    # ---- planning
    def _env(self, cadre: Cadre) -> _Env:
        return _Env(cadre.level, cadre.titles, cadre.facts, self.year)

    def plan(self, cadre: Cadre) -> Plan:
        env = self._env(cadre)
        trace: list[Step] = []
        in_scope = False
        scope_rules = []
        for rule in self._scope.get(cadre.level, ()):
            held = rule.titles & cadre.titles
            if held:
                in_scope = True
                scope_rules.append(rule.name)
                trace.append(Step("scope", rule.name, "in scope at this level: " + ", ".join(sorted(held)), rule.cite))
        exemptions = []
        for x, pred in self._exemptions:
            if pred(env):
                exemptions.append(x)
                trace.append(Step("exemption", x.name, x.reason, x.cite))
        exempt = bool(exemptions)
        status = "exempt" if exempt else ("voted" if in_scope else "out_of_scope")
        env.in_scope, env.exempt, env.status = in_scope, exempt, status
        active: dict[str, bool] = {}
        proposed: set[str] = set()
        active_names = []
        chosen_by_rule = []
        for rule, pred, overriders, items in self._venue_rules:
            holds = pred(env)
            beaten = [o for o in overriders if active.get(o)]
            active[rule.name] = holds and not beaten
            if holds and beaten:
                trace.append(Step("overridden", rule.name, "overridden by the exception " + ", ".join(beaten), rule.cite))
                continue
            if not holds:
                continue
            active_names.append(rule.name)
            chosen = []
            any_before = False
            for venue, kind, guard in items:
                take = kind == "always" or (kind == "when" and guard is not None and guard(env)) or (kind == "otherwise" and not any_before)
                if take:
                    chosen.append(venue)
                    any_before = True
            proposed.update(chosen)
            chosen_by_rule.append((rule.name, tuple(chosen)))
            trace.append(Step("venue_rule", rule.name, "venues: " + (", ".join(chosen) or "none"), rule.cite))
        ordered = tuple(sorted(proposed, key=self._order.__getitem__))
        venues = ordered[: self._max] if self._max is not None else ordered
        if len(venues) < len(ordered):
            mv = self.policy.max_venues
            trace.append(Step("truncated", "max_venues", f"{len(ordered)} venues proposed; the first {len(venues)} kept",
                              mv.cite if mv else None))
        return Plan(status, in_scope, tuple(exemptions), tuple(active_names), ordered, venues, tuple(trace),
                    tuple(scope_rules), tuple(chosen_by_rule))

    # ---- tallies
    def base(self, venue: str) -> str:
        """The field the share at ``venue`` is counted over (:meth:`dsl.ir.Policy.base_at`)."""
        return self._base.get(venue, self._default_base)

    def denominator(self, tally: Tally) -> int | None:
        return tally.get(self.base(tally.venue))

    def session_valid(self, tally: Tally) -> bool:
        # present OP p/q × convened, decided as present·q OP p·convened
        present, convened = tally.present, tally.convened
        if self._quorum is None or present is None or convened is None:
            return True
        cmp, p, q = self._quorum
        return cmp(present * q, p * convened)

    def band_rule(self, venue: str, tally: Tally) -> ir.BandRule | None:
        """The band of ``tally`` at ``venue``: ``band(venue, tally).band`` without building the result."""
        entry = self._bands.get(venue)
        den = getattr(tally, self.base(venue))
        if entry is None or den is None or den <= 0:
            return None
        low = tally.low
        for b, pred in entry[1]:
            if pred(low, den):
                return b
        return None

    def band(self, venue: str, tally: Tally) -> VenueResult:
        den = tally.get(self.base(venue))
        valid = self.session_valid(tally)
        entry = self._bands.get(venue)
        if entry is None or den is None or den <= 0:
            return VenueResult(venue, tally, None, valid, None, entry[0].name if entry else None)
        bs, preds = entry
        matched = [b for b, pred in preds if pred(tally.low, den)]
        return VenueResult(venue, tally, Fraction(tally.low, den), valid, matched[0] if matched else None, bs.name,
                           tuple(b.code for b in matched[1:]))

    def decide(self, cadre: Cadre, tallies: Mapping[str, Tally], plan: Plan | None = None,
               stage_tallies: Mapping[str, Tally] | None = None) -> Decision:
        """The poll at each of the cadre's venues (``tallies``: venue → tally) and, when the policy has
        stages, each later vote (``stage_tallies``: stage name → tally)."""
        plan = plan or self.plan(cadre)
        trace = list(plan.trace)
        results = []
        for v in plan.venues:
            t = tallies.get(v)
            if t is None:
                results.append(VenueResult(v, None, None, None, None, None))
                trace.append(Step("outcome", "missing_tally", f"no tally for venue {v}"))
                continue
            r = self.band(v, t)
            results.append(r)
            if not r.session_valid and self.policy.quorum is not None:
                q = self.policy.quorum
                trace.append(Step("session", "quorum", f"{v}: {t.present} present of {t.convened} convened, below {q.ratio}", q.cite))
            if r.band is not None:
                base = self.base(v)
                then = self._then(r.band)
                trace.append(Step("band", r.band.code, f"{v}: {t.low} low of {t.get(base)} {base} (share {r.share}) → {r.band.label}{then}",
                                  r.band.cite))
        outcome = self.outcome(plan, results)
        if outcome is not None and len(plan.venues) >= 2 and self.policy.combine and outcome == self.policy.combine.outcome:
            trace.append(Step("outcome", outcome, self.policy.combine.label, self.policy.combine.cite))
        stages = self._decide_stages(cadre, plan, results, stage_tallies or {}, trace) if self._stages else ()
        return Decision(plan, tuple(results), outcome, tuple(trace), stages)

    def _decide_stages(self, cadre: Cadre, plan: Plan, results: list[VenueResult], stage_tallies: Mapping[str, Tally],
                       trace: list[Step]) -> tuple[StageResult, ...]:
        """Each stage held at one of the cadre's venues: due when the band decided before it there (the
        poll's in a valid session, then each stage's in order) is one it follows and its condition holds."""
        env = self._env(cadre)
        env.in_scope, env.exempt, env.status, env.venues = plan.in_scope, bool(plan.exemptions), plan.status, plan.venues
        last: dict[str, str | None] = {
            r.venue: (r.band.code if r.band is not None and r.session_valid is not False else None) for r in results}
        out = []
        for st, when, preds, base in self._stages:
            if plan.status != "voted" or st.venue not in plan.venues:
                continue
            trigger = last.get(st.venue)
            due = trigger is not None and trigger in st.after and (when is None or bool(when(env)))
            t = stage_tallies.get(st.name)
            if not due:
                out.append(StageResult(st, False, trigger, t, base))
                last[st.venue] = None
                continue
            trace.append(Step("stage", st.name, f"{st.venue}: after {trigger}, {st.label}", st.cite))
            den = t.get(base) if t is not None else None
            if t is None or den is None or den <= 0:
                out.append(StageResult(st, True, trigger, t, base))
                last[st.venue] = None
                continue
            band = next((b for b, pred in preds if pred(t.low, den)), None)
            out.append(StageResult(st, True, trigger, t, base, Fraction(t.low, den), band))
            last[st.venue] = band.code if band is not None else None
            if band is not None:
                trace.append(Step("band", band.code, f"{st.name} at {st.venue}: {t.low} low of {den} {base} "
                                  f"(share {Fraction(t.low, den)}) → {band.label}{self._then(band)}", band.cite))
        return tuple(out)

    def _then(self, band: ir.BandRule) -> str:
        then = self._then_text.get(id(band))
        if then is None or then[0] is not band:
            text = "".join(f"; {ir.CONSEQUENCE_VI[kind]}: {body}" for kind, body in band.then())
            self._then_text[id(band)] = then = (band, text)
        return then[1]

    def outcome(self, plan: Plan, results: list[VenueResult] | tuple[VenueResult, ...]) -> str | None:
        if not plan.venues:
            return None
        if any(r.tally is None for r in results):
            return "missing_tally"
        if any(r.session_valid is False for r in results):
            return "invalid_session"
        if len(results) >= 2 and self.policy.combine is not None:
            return self.policy.combine.outcome
        band = results[0].band
        return band.code if band is not None else None

    # ---- properties written in the policy
    def property_holds(self, name: str, cadre: Cadre, plan: Plan | None = None) -> bool:
        plan = plan or self.plan(cadre)
        env = self._env(cadre)
        env.in_scope, env.exempt, env.status, env.venues = plan.in_scope, bool(plan.exemptions), plan.status, plan.venues
        return self._properties[name](env)

    def condition_holds(self, expr: ir.Expr, cadre: Cadre, plan: Plan | None = None) -> bool:
        """Evaluate any roster/venue/property condition for one cadre (used by the checker's replay)."""
        plan = plan or self.plan(cadre)
        env = self._env(cadre)
        env.in_scope, env.exempt, env.status, env.venues = plan.in_scope, bool(plan.exemptions), plan.status, plan.venues
        return compile_expr(expr)(env)


def compile_policy(policy: ir.Policy, year: int | None = None) -> Evaluator:
    return Evaluator(policy, year)


# ---- examples written in the policy --------------------------------------------------------------


@dataclass(frozen=True)
class ExampleResult:
    example: ir.ExampleCase
    failures: tuple[str, ...]
    decision: Decision

    @property
    def passed(self) -> bool:
        return not self.failures


def run_example(ev: Evaluator, ex: ir.ExampleCase) -> ExampleResult:
    """Run one example: expected vs got for every expectation it states."""
    cadre = Cadre(ex.name, ex.level, ex.titles, dict(ex.facts))
    tallies: dict[str, Tally] = {}
    stage_tallies: dict[str, Tally] = {}
    for t in ex.tallies:
        counts = dict(t.counts)
        collected = counts.get("collected", counts.get("issued", 0))
        tally = Tally(t.venue, counts.get("issued", collected), collected, counts.get("high", 0),
                      counts.get("confidence", 0), counts.get("low", 0), counts.get("convened"), counts.get("present"),
                      counts.get("members"))
        (stage_tallies if t.stage is not None else tallies)[t.stage or t.venue] = tally
    d = ev.decide(cadre, tallies, stage_tallies=stage_tallies)
    failures = []
    bands = {r.venue: (r.band.code if r.band else None) for r in d.results}
    stage_bands = {r.stage.name: (r.band.code if r.band else None) for r in d.stages}
    for key, arg, want in ex.expect:
        match key:
            case "status":
                got: object = d.plan.status
            case "venues":
                got = d.plan.venues
                want = tuple(want)  # type: ignore[arg-type]
            case "exemptions":
                got = tuple(x.name for x in d.plan.exemptions)
                want = tuple(want)  # type: ignore[arg-type]
            case "band":
                got = bands.get(arg or "")
            case "outcome":
                got = d.outcome
            case "stage":
                got = stage_bands.get(arg or "")
            case "next":
                got = d.next_stage
            case "final":
                got = d.final
            case _:
                raise AssertionError(key)
        if got != want:
            label = f"{key}({arg})" if arg else key
            failures.append(f"{label}: expected {_show(want)}, got {_show(got)}")
    return ExampleResult(ex, tuple(failures), d)


def _show(v: object) -> str:
    if v is None or v == ():
        return "none"
    if isinstance(v, tuple):
        return ", ".join(map(str, v))
    return str(v)
