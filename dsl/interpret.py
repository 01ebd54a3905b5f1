"""A tree-walking interpreter of the IR: the decisions of :mod:`dsl.evaluator`, with nothing compiled.

Takes a :class:`dsl.ir.Policy`, one roster row (:class:`~dsl.evaluator.Cadre`), its tallies and the
vote year; produces the same :class:`~dsl.evaluator.Plan` and :class:`~dsl.evaluator.Decision` (the
same trace, step for step) as the compiled evaluator. Every call walks the IR again: each condition
is matched node by node (``match`` on the expression's class), the rules that override one another
are looked up from their declarations, thresholds are compared as exact fractions.

It exists to measure what compiling buys (``python -m bench``) and as a second, independent reading
of the semantics stated in :mod:`dsl.ir` (``tests/bench/test_interpret.py`` holds the two to each
other). It is not used to decide anything in the product.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from fractions import Fraction

from dsl import ir
from dsl.evaluator import Cadre, Decision, Plan, StageResult, Step, Tally, VenueResult

_OPS: dict[str, Callable[[object, object], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class _Env:
    """What a condition can ask about: the roster row, the vote year, and the plan so far."""

    def __init__(self, cadre: Cadre, year: int) -> None:
        self.cadre = cadre
        self.year = year
        self.status = "out_of_scope"
        self.in_scope = False
        self.exempt = False
        self.venues: tuple[str, ...] = ()


def eval_expr(e: ir.Expr, env: _Env) -> bool:
    """The value of a roster / venue / property condition, by walking it."""
    match e:
        case ir.Const(value=v):
            return v
        case ir.Not(operand=o):
            return not eval_expr(o, env)
        case ir.And(operands=ops):
            return all(eval_expr(o, env) for o in ops)
        case ir.Or(operands=ops):
            return any(eval_expr(o, env) for o in ops)
        case ir.Holds(titles=ts):
            return any(t in env.cadre.titles for t in ts)
        case ir.LevelIs(level=lv):
            return env.cadre.level == lv
        case ir.FactTrue(fact=name):
            return bool(env.cadre.facts.get(name, False))
        case ir.IntCmp(op=op, left=a, right=b, scale=k):
            x, y = eval_int(a, env), eval_int(b, env)
            return x is not None and y is not None and _OPS[op](Fraction(x), k * y)
        case ir.InScope():
            return env.in_scope
        case ir.IsExempt():
            return env.exempt
        case ir.StatusIs(status=st):
            return env.status == st
        case ir.HasVenue(venue=v):
            return v in env.venues
        case ir.ShareCmp():
            raise ValueError("a share comparison outside a band condition")
    raise AssertionError(f"unhandled IR expression {type(e).__name__}")


def eval_int(t: ir.IntTerm, env: _Env) -> int | None:
    match t:
        case ir.IntConst(value=v):
            return v
        case ir.IntFact(fact=name):
            return env.cadre.facts.get(name)  # type: ignore[return-value]
        case ir.VoteYear():
            return env.year
        case ir.VenueCount():
            return len(env.venues)
    raise AssertionError(f"unhandled IR term {type(t).__name__}")


def eval_share(e: ir.Expr, share: Fraction) -> bool:
    """The value of a band condition for an exact share."""
    match e:
        case ir.Const(value=v):
            return v
        case ir.Not(operand=o):
            return not eval_share(o, share)
        case ir.And(operands=ops):
            return all(eval_share(o, share) for o in ops)
        case ir.Or(operands=ops):
            return any(eval_share(o, share) for o in ops)
        case ir.ShareCmp(op=op, value=value):
            return _OPS[op](share, value)
    raise ValueError(f"{type(e).__name__} in a band condition")


def _year(policy: ir.Policy, year: int | None) -> int:
    return year if year is not None else (policy.vote_year or 0)


def interpret_plan(policy: ir.Policy, cadre: Cadre, year: int | None = None) -> Plan:
    """Status, exemptions and ordered venues of one cadre (as :meth:`Evaluator.plan`)."""
    env = _Env(cadre, _year(policy, year))
    trace: list[Step] = []
    scope_rules = []
    for rule in policy.scope:
        if rule.level != cadre.level:
            continue
        held = rule.titles & cadre.titles
        if held:
            env.in_scope = True
            scope_rules.append(rule.name)
            trace.append(Step("scope", rule.name, "in scope at this level: " + ", ".join(sorted(held)), rule.cite))
    exemptions = []
    for x in policy.exemptions:
        if eval_expr(x.when, env):
            exemptions.append(x)
            trace.append(Step("exemption", x.name, x.reason, x.cite))
    env.exempt = bool(exemptions)
    env.status = "exempt" if env.exempt else ("voted" if env.in_scope else "out_of_scope")

    # A rule is active when its condition holds and no rule that overrides it is active; the rules
    # that override a rule are decided before it (the order of the compiled evaluator).
    rules = {r.name: r for r in policy.venue_rules}
    active: dict[str, bool] = {}
    proposed: list[str] = []
    active_names: list[str] = []
    chosen_by_rule: list[tuple[str, tuple[str, ...]]] = []

    def decide_rule(name: str) -> None:
        if name in active:
            return
        active[name] = False  # provisional (the checker rejects override cycles)
        overriders = [r.name for r in policy.venue_rules if name in r.overrides]
        for o in overriders:
            decide_rule(o)
        rule = rules[name]
        holds = eval_expr(rule.when, env)
        beaten = [o for o in overriders if active[o]]
        active[name] = holds and not beaten
        if holds and beaten:
            trace.append(Step("overridden", name, "overridden by the exception " + ", ".join(beaten), rule.cite))
            return
        if not holds:
            return
        active_names.append(name)
        chosen: list[str] = []
        for item in rule.items:
            match item.kind:
                case "always":
                    take = True
                case "when":
                    take = item.when is not None and eval_expr(item.when, env)
                case _:
                    take = not chosen
            if take:
                chosen.append(item.venue)
        proposed.extend(v for v in chosen if v not in proposed)
        chosen_by_rule.append((name, tuple(chosen)))
        trace.append(Step("venue_rule", name, "venues: " + (", ".join(chosen) or "none"), rule.cite))

    for r in policy.venue_rules:
        decide_rule(r.name)
    codes = policy.venue_codes()
    ordered = tuple(v for v in codes if v in proposed)
    mv = policy.max_venues
    venues = ordered[: mv.count] if mv is not None else ordered
    if len(venues) < len(ordered):
        trace.append(Step("truncated", "max_venues", f"{len(ordered)} venues proposed; the first {len(venues)} kept",
                          mv.cite if mv else None))
    return Plan(env.status, env.in_scope, tuple(exemptions), tuple(active_names), ordered, venues, tuple(trace),
                tuple(scope_rules), tuple(chosen_by_rule))


def interpret_band(policy: ir.Policy, venue: str, tally: Tally) -> VenueResult:
    """Share, session validity and band of one tally (as :meth:`Evaluator.band`)."""
    den = tally.get(policy.base_at(venue))
    q = policy.quorum
    if q is None or tally.present is None or tally.convened is None:
        valid = True
    else:
        valid = _OPS[q.op](Fraction(tally.present), q.ratio * tally.convened)
    bs = policy.band_set_at(venue)
    if bs is None or den is None or den <= 0:
        return VenueResult(venue, tally, None, valid, None, bs.name if bs else None)
    share = Fraction(tally.low, den)
    matched = [b for b in bs.bands if eval_share(b.when, share)]
    return VenueResult(venue, tally, share, valid, matched[0] if matched else None, bs.name, tuple(b.code for b in matched[1:]))


def interpret_decide(policy: ir.Policy, cadre: Cadre, tallies: Mapping[str, Tally], year: int | None = None,
                     stage_tallies: Mapping[str, Tally] | None = None) -> Decision:
    """The whole decision for one cadre (as :meth:`Evaluator.decide`)."""
    plan = interpret_plan(policy, cadre, year)
    trace = list(plan.trace)
    results = []
    for v in plan.venues:
        t = tallies.get(v)
        if t is None:
            results.append(VenueResult(v, None, None, None, None, None))
            trace.append(Step("outcome", "missing_tally", f"no tally for venue {v}"))
            continue
        r = interpret_band(policy, v, t)
        results.append(r)
        q = policy.quorum
        if not r.session_valid and q is not None:
            trace.append(Step("session", "quorum", f"{v}: {t.present} present of {t.convened} convened, below {q.ratio}", q.cite))
        if r.band is not None:
            then = "".join(f"; {ir.CONSEQUENCE_VI[kind]}: {body}" for kind, body in r.band.then())
            base = policy.base_at(v)
            trace.append(Step("band", r.band.code, f"{v}: {t.low} low of {t.get(base)} {base} (share {r.share})"
                              f" → {r.band.label}{then}", r.band.cite))
    outcome: str | None
    if not plan.venues:
        outcome = None
    elif any(r.tally is None for r in results):
        outcome = "missing_tally"
    elif any(r.session_valid is False for r in results):
        outcome = "invalid_session"
    elif len(results) >= 2 and policy.combine is not None:
        outcome = policy.combine.outcome
    else:
        outcome = results[0].band.code if results[0].band is not None else None
    c = policy.combine
    if outcome is not None and len(plan.venues) >= 2 and c is not None and outcome == c.outcome:
        trace.append(Step("outcome", outcome, c.label, c.cite))
    stages = _stages(policy, cadre, plan, results, stage_tallies or {}, trace, _year(policy, year)) if policy.stages else ()
    return Decision(plan, tuple(results), outcome, tuple(trace), stages)


def _stages(policy: ir.Policy, cadre: Cadre, plan: Plan, results: list[VenueResult], stage_tallies: Mapping[str, Tally],
            trace: list[Step], year: int) -> tuple[StageResult, ...]:
    """Each later vote held at one of the cadre's venues (the semantics of :class:`dsl.ir.Stage`)."""
    out: list[StageResult] = []
    if plan.status != "voted":
        return ()
    env = _Env(cadre, year)
    env.status, env.in_scope, env.exempt, env.venues = plan.status, plan.in_scope, bool(plan.exemptions), plan.venues
    for st in policy.stages:
        if st.venue not in plan.venues:
            continue
        before = [r for r in out if r.stage.venue == st.venue]
        if before:
            prev = before[-1]
            trigger = prev.band.code if prev.band is not None else None
        else:
            poll = next(r for r in results if r.venue == st.venue)
            trigger = poll.band.code if poll.band is not None and poll.session_valid is not False else None
        bs = policy.band_set(st.band_set)
        base = policy.base_of(bs) if bs is not None else policy.default_base()
        t = stage_tallies.get(st.name)
        if trigger is None or trigger not in st.after or (st.when is not None and not eval_expr(st.when, env)):
            out.append(StageResult(st, False, trigger, t, base))
            continue
        trace.append(Step("stage", st.name, f"{st.venue}: after {trigger}, {st.label}", st.cite))
        den = t.get(base) if t is not None else None
        if t is None or den is None or den <= 0 or bs is None:
            out.append(StageResult(st, True, trigger, t, base))
            continue
        share = Fraction(t.low, den)
        band = next((b for b in bs.bands if eval_share(b.when, share)), None)
        out.append(StageResult(st, True, trigger, t, base, share, band))
        if band is not None:
            then = "".join(f"; {ir.CONSEQUENCE_VI[kind]}: {body}" for kind, body in band.then())
            trace.append(Step("band", band.code, f"{st.name} at {st.venue}: {t.low} low of {den} {base} (share {share})"
                              f" → {band.label}{then}", band.cite))
    return tuple(out)
