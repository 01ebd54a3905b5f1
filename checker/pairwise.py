"""Two decisions over one set of inputs, and what it means that they differ.

Takes an :class:`~checker.encode.Encoder` per side and the symbolic inputs the sides share (a roster
and one tally per venue). Produces:

* :class:`DecisionTerms` — the one symbolic view of a decision (status, exemptions, venues in order,
  each venue's band or none, its session, the outcome), built by :func:`decision_terms`;
* the pairwise combinators every "do these two decide differently?" question uses —
  :func:`options_differ` over two one-hot maps, :func:`aspects` (one "differs" term per part of a
  decision) and :func:`differs` over two decisions, :func:`band_options` for one band set — and the
  questions asked of a solver, :func:`verify_equivalent`, :func:`verify_implies` and
  :func:`verify_disjoint`, in the style of Cedar's symbolic compiler (``verify_equivalent`` /
  ``verify_implies`` / ``verify_disjoint`` over ``verify_is_authorized``).

``diff`` (:mod:`checker.diff`), mutation equivalence (:mod:`checker.mutate`) and the refinement
property (:mod:`checker.properties`) all read "decides differently" from here, so the three cannot
drift apart. Nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import z3

from checker.encode import Encoder, PlanTerms, TallyVars
from checker.interrupt import checked
from dsl import ir

#: One value of a decision per key, exactly one of which holds (``None``: no value, e.g. no band).
Options = Mapping[str | None, z3.BoolRef]


@dataclass(frozen=True)
class DecisionTerms:
    """One side's decision as terms over the shared inputs."""

    plan: PlanTerms
    order: tuple[str, ...]  # the side's venues in priority order
    given: Mapping[str, z3.BoolRef]  # venue → its tally is given
    bands: Mapping[str, Options]  # venue → band code (None: no band, or no band set there) → decided
    session: Mapping[str, z3.BoolRef]  # venue → its session is valid
    outcome: Options

    def venue(self, v: str) -> z3.BoolRef:
        """``v`` is one of the cadre's venues (false for a venue this side does not know)."""
        return self.plan.venues.get(v, z3.BoolVal(False, self.plan.count.ctx))


def band_options(enc: Encoder, bs: ir.BandSet | None, t: TallyVars, name: str | None = None, base: str | None = None) -> Options:
    """The band ``bs`` decides for tally ``t`` (over ``base``, default the set's own), as one-hot options."""
    if bs is None:
        return {None: z3.BoolVal(True, enc.ctx)}
    bt = enc.bands(bs, t, name, base)
    return {**bt.first, None: bt.none}


def decision_terms(enc: Encoder, plan: PlanTerms, tallies: Mapping[str, TallyVars]) -> DecisionTerms:
    """The decision of ``enc``'s policy for the roster of ``plan`` and ``tallies`` (one per venue of the policy)."""
    p = enc.policy
    order = p.venue_codes()
    bands = {v: band_options(enc, p.band_set_at(v), tallies[v]) for v in order}
    session = {v: enc.session_valid(tallies[v]) for v in order}
    return DecisionTerms(plan, order, {v: tallies[v].given for v in order}, bands, session, enc.outcome(plan, tallies))


def options_differ(a: Options, b: Options) -> z3.BoolRef:
    """The two one-hot decisions take different values: no value holds on both sides."""
    ctx = next(iter((*a.values(), *b.values()))).ctx
    same = [z3.And(a[k], b[k]) for k in a if k in b]
    return z3.Not(z3.Or(*same)) if same else z3.BoolVal(True, ctx)


def _false(ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolVal(False, ctx)


def venues_differ(a: DecisionTerms, b: DecisionTerms) -> z3.BoolRef:
    """The venues differ as a set, or two venues both keep are listed in the other order."""
    ctx = a.plan.count.ctx
    union = tuple(dict.fromkeys((*a.order, *b.order)))
    parts = [a.venue(v) != b.venue(v) for v in union]
    for i, u in enumerate(union):
        for w in union[i + 1:]:
            if all(u in x.order and w in x.order for x in (a, b)) and \
                    (a.order.index(u) < a.order.index(w)) != (b.order.index(u) < b.order.index(w)):
                parts.append(z3.And(a.venue(u), a.venue(w)))
    return z3.Or(*parts) if parts else _false(ctx)


def aspects(a: DecisionTerms, b: DecisionTerms) -> dict[str, z3.BoolRef]:
    """One term per part of a decision, true when the two decisions differ in that part.

    A band or a session is compared only where both sides keep the venue and its tally is given (a
    venue kept by one side only is a difference of ``venues`` already)."""
    ctx = a.plan.count.ctx
    out: dict[str, z3.BoolRef] = {"status": options_differ(a.plan.status, b.plan.status)}
    for n in sorted(set(a.plan.exemptions) | set(b.plan.exemptions)):
        out[f"exemption {n}"] = a.plan.exemptions.get(n, _false(ctx)) != b.plan.exemptions.get(n, _false(ctx))
    for v in dict.fromkeys((*a.order, *b.order)):
        out[f"proposed {v}"] = a.plan.proposed.get(v, _false(ctx)) != b.plan.proposed.get(v, _false(ctx))
    out["venues"] = venues_differ(a, b)
    for v in a.order:
        if v not in b.order:
            continue
        here = z3.And(a.venue(v), b.venue(v), a.given[v])
        out[f"band at {v}"] = z3.And(here, options_differ(a.bands[v], b.bands[v]))
        out[f"session at {v}"] = z3.And(here, a.session[v] != b.session[v])
    out["outcome"] = options_differ(a.outcome, b.outcome)
    return out


def differs(a: DecisionTerms, b: DecisionTerms) -> z3.BoolRef:
    """The two decisions differ in some part (:func:`aspects`)."""
    return z3.Or(*aspects(a, b).values())


# ---- the questions asked of a solver -------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """``holds``: True (proved), False (refuted, with ``model``), None (the solver gave up, with ``reason``)."""

    holds: bool | None
    model: z3.ModelRef | None = None
    reason: str = ""


def _ask(ctx: z3.Context, constraints: Iterable[z3.BoolRef], goal: z3.BoolRef, timeout_ms: int) -> Verdict:
    solver = z3.SolverFor("QF_LIA", ctx=ctx)
    solver.set("timeout", timeout_ms)
    solver.add(*constraints)
    solver.add(goal)
    answer = checked(solver, solver.check)
    if answer == z3.unsat:
        return Verdict(True)
    if answer == z3.sat:
        return Verdict(False, solver.model())
    return Verdict(None, reason=solver.reason_unknown() or "unknown")


def verify_equivalent(constraints: Sequence[z3.BoolRef], difference: z3.BoolRef, timeout_ms: int) -> Verdict:
    """No input within ``constraints`` makes the two sides differ (``difference``: :func:`differs`,
    :func:`options_differ`, …). Refuted with a model of an input decided differently."""
    return _ask(difference.ctx, constraints, difference, timeout_ms)


def verify_implies(constraints: Sequence[z3.BoolRef], a: z3.BoolRef, b: z3.BoolRef, timeout_ms: int) -> Verdict:
    """Whenever ``a`` holds, ``b`` holds (e.g. whatever one text exempts, the other exempts too)."""
    return _ask(a.ctx, constraints, z3.And(a, z3.Not(b)), timeout_ms)


def verify_disjoint(constraints: Sequence[z3.BoolRef], a: z3.BoolRef, b: z3.BoolRef, timeout_ms: int) -> Verdict:
    """``a`` and ``b`` never hold together (e.g. two bands of one set)."""
    return _ask(a.ctx, constraints, z3.And(a, b), timeout_ms)

