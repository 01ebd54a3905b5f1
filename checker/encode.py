"""IR → Z3 terms: the decision semantics of :mod:`dsl.ir`, symbolically.

Takes a :class:`dsl.ir.Policy`, the vote year (``None``: the policy's own, or a symbolic year when
the policy states none) and a :class:`Domain` (bounds on the inputs; the default admits everything
the roster and tally schemas admit). Produces, through an :class:`Encoder`:

- symbolic inputs — :class:`RosterVars` (the level, one Bool per title, each fact; an integer fact
  also has a Bool "given", since a roster cell may be empty) and :class:`TallyVars` (issued,
  collected, high, confidence, low, convened, present, a Bool "quorum fields given" and a Bool
  "tally given") with the schema's domain constraints;
- derived terms — :class:`PlanTerms` (scope rules that fire, exemptions, status, venue rules'
  conditions and activity, the items they take, the proposed venues, the venues after the
  ``max_venues`` cut, their count), :class:`BandTerms` (per band set and tally: each band's
  condition and the band decided, i.e. the first whose condition holds) and the outcome;
- the constraints: ``constraints`` (the input domain and the structural glue, always asserted) and
  ``definitions`` (one :class:`Definition` per policy rule: the equations that give the rule's
  terms their meaning, guarded by one tracking literal per rule, so that an unsat core names the
  rules a proof rests on).

Every derived term is a fresh named constant fixed by its rule's equation; with every definition
asserted, each derived term is a function of the inputs (exceptions are acyclic: E305), so a model
decodes into exactly what the evaluator decides. ``names`` maps each Z3 constant's name to what it
stands for in the source. Exact arithmetic only: ``share OP p/q`` is ``low·q OP p·D`` over Ints.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import z3

from dsl import ir
from dsl.spans import Span
from dsl.values import FACT_YEARS, MAX_WHOLE, VOTE_YEARS

#: Days are counted from this date in the schedule encoding (a day number is ``date - EPOCH``).
EPOCH = _dt.date(2000, 1, 1)


class EncodeError(Exception):
    """The IR holds something the encoder cannot express (a bug upstream: lower rejects it)."""


@dataclass(frozen=True)
class RuleRef:
    """A declaration of the policy (or of an import) that a proof or a counterexample involves."""

    kind: str  # scope | exemption | venue_rule | max_venues | band | band_set | quorum | phase | property | share
    name: str
    cite: ir.Citation | None
    span: Span = field(compare=False)
    detail: str = ""  # e.g. "from", "by", "after p8_i" for the constraints of a phase

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}" + (f":{self.detail}" if self.detail else "")

    @property
    def label(self) -> str:
        what = f"{self.name} ({self.detail})" if self.detail else self.name
        return f"{what} [{self.cite.label}]" if self.cite else what


@dataclass(frozen=True)
class Definition:
    """The equations of one rule, asserted under ``literal`` (a tracking Bool)."""

    ref: RuleRef
    literal: z3.BoolRef
    formula: z3.BoolRef


@dataclass(frozen=True)
class Domain:
    """Bounds on the symbolic inputs. The default is **exactly** every input the readers accept
    (:mod:`dsl.values`): an ``int`` fact or a count is a whole number of at most 18 digits, a ``year``
    fact lies in 1900…2100, a vote year in 1945…2100 — so a property proved holds for every row a
    command can read, and a counterexample is a row a command can read.

    ``titles``: the titles a cadre may hold (others are false); ``max_count``: an upper bound on
    every count of a tally; years of ``year`` facts lie in ``years``; ``int`` facts in ``ints``.
    ``any_year``: the vote year is symbolic (in ``vote_years``) even when the policy states one —
    ``check`` proves for every year ``plan``/``evaluate --year`` accept. Bounded domains serve the
    brute-force cross-check of the test suite.
    """

    titles: frozenset[str] | None = None
    max_count: int | None = None
    years: tuple[int, int] = FACT_YEARS
    ints: tuple[int, int] = (0, MAX_WHOLE)
    vote_years: tuple[int, int] = VOTE_YEARS
    any_year: bool = False


@dataclass(frozen=True)
class RosterVars:
    level: z3.ArithRef  # index into the policy's levels
    levels: tuple[str, ...]
    titles: Mapping[str, z3.BoolRef]
    facts: Mapping[str, z3.ExprRef]  # Bool for bool facts, Int for year/int facts
    given: Mapping[str, z3.BoolRef]  # year/int facts only: the roster cell is not empty
    year: z3.ArithRef  # the vote year (a constant when known)

    @functools.cached_property
    def title_bits(self) -> z3.ArithRef:
        """The titles held as one integer, bit ``k`` for the ``k``-th title of ``titles``: a model
        gives the whole set in one evaluation (decoding title by title costs one call per title)."""
        bits = [z3.If(t, 1 << k, 0) for k, t in enumerate(self.titles.values())]
        return z3.Sum(*bits) if bits else z3.IntVal(0, self.level.ctx)


@dataclass(frozen=True)
class TallyVars:
    prefix: str
    given: z3.BoolRef  # a tally row exists for this venue
    issued: z3.ArithRef
    collected: z3.ArithRef
    high: z3.ArithRef
    confidence: z3.ArithRef
    low: z3.ArithRef
    convened: z3.ArithRef
    present: z3.ArithRef
    quorum_given: z3.BoolRef  # the optional convened/present columns are filled
    members: z3.ArithRef
    members_given: z3.BoolRef  # the optional members column is filled

    def field(self, name: str) -> z3.ArithRef:
        return getattr(self, name)


@dataclass(frozen=True)
class Env:
    """What a condition may mention, by context: roster ⊂ venue (status…) ⊂ property (venues…)."""

    roster: RosterVars
    in_scope: z3.BoolRef | None = None
    exempt: z3.BoolRef | None = None
    status: Mapping[str, z3.BoolRef] | None = None
    venues: Mapping[str, z3.BoolRef] | None = None
    count: z3.ArithRef | None = None


@dataclass(frozen=True)
class PlanTerms:
    roster: RosterVars
    scope: Mapping[str, z3.BoolRef]  # scope rule → it fires
    in_scope: z3.BoolRef
    exemptions: Mapping[str, z3.BoolRef]  # exemption → its condition holds
    exempt: z3.BoolRef
    status: Mapping[str, z3.BoolRef]  # voted | exempt | out_of_scope → it is the status
    cond: Mapping[str, z3.BoolRef]  # venue rule → its condition holds
    active: Mapping[str, z3.BoolRef]  # venue rule → active (condition and no active overrider)
    taken: Mapping[tuple[str, int], z3.BoolRef]  # (venue rule, item index) → the item proposes its venue
    proposed: Mapping[str, z3.BoolRef]  # venue → proposed by some active rule
    proposed_count: z3.ArithRef
    venues: Mapping[str, z3.BoolRef]  # venue → kept after the max_venues cut
    count: z3.ArithRef

    def env(self) -> Env:
        return Env(self.roster, self.in_scope, self.exempt, self.status, self.venues, self.count)


@dataclass(frozen=True)
class BandTerms:
    band_set: str
    tally: TallyVars
    conds: Mapping[str, z3.BoolRef]  # band code → its condition holds
    first: Mapping[str, z3.BoolRef]  # band code → it is the band decided
    none: z3.BoolRef  # no band's condition holds


@dataclass(frozen=True)
class StageTerms:
    """A later vote for the roster of one plan: ``due`` (what triggers it holds), its own tally and the
    band its set decides there (one-hot, ``None``: no band)."""

    stage: ir.Stage
    due: z3.BoolRef
    tally: TallyVars
    band: Mapping[str | None, z3.BoolRef]


def _ops(op: str, a: z3.ArithRef, b: z3.ArithRef) -> z3.BoolRef:
    match op:
        case "=":
            return a == b
        case "!=":
            return a != b
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
        case ">=":
            return a >= b
        case _:
            raise EncodeError(f"unknown comparison '{op}'")


def day(d: _dt.date) -> int:
    """The day number of a date in the schedule encoding."""
    return (d - EPOCH).days


def rule_ref(kind: str, decl: object, name: str | None = None) -> RuleRef:
    """The reference of one IR declaration (anything with ``cite`` and ``span``)."""
    return RuleRef(kind, name if name is not None else getattr(decl, "name", kind), getattr(decl, "cite", None),
                   getattr(decl, "span", Span.unknown()))


def tally_schema(t: TallyVars, invariants: tuple[ir.Invariant, ...]) -> list[z3.BoolRef]:
    """What the tally reader (:mod:`tinnhiem.tallies`) accepts of a row, as constraints — the one
    statement of the schema on the symbolic side (the encoder, ``diff``): every count a whole number
    of at most 18 digits; ``convened``/``present`` both given or neither, ``members`` given or not (an
    absent field is 0); and each invariant of the policy (:meth:`dsl.ir.Policy.invariants`) wherever
    the optional fields it names are given."""
    ints = [t.field(n) for n in ir.TALLY_FIELDS]
    out = [
        *(z3.And(v >= 0, v <= MAX_WHOLE) for v in ints),  # the reader's whole numbers
        z3.Implies(z3.Not(t.quorum_given), z3.And(t.convened == 0, t.present == 0)),
        z3.Implies(z3.Not(t.members_given), t.members == 0),
    ]
    given = {"convened": t.quorum_given, "present": t.quorum_given, "members": t.members_given}
    for inv in invariants:
        holds = _ops(inv.op, z3.Sum(*[t.field(f) for f in inv.left]), z3.Sum(*[t.field(f) for f in inv.right]))
        guards = list({id(given[f]): given[f] for f in inv.fields if f in given}.values())
        out.append(z3.Implies(z3.And(*guards), holds) if guards else holds)
    return out


def all_facts(policy: ir.Policy) -> tuple[ir.FactDecl, ...]:
    """The facts of the policy and of its imports (:meth:`dsl.ir.Policy.all_facts`)."""
    return policy.all_facts()


class Encoder:
    """Builds the Z3 terms of one policy; collects constraints and tracked rule definitions.

    The checker builds one encoder per symbolic input shape and check (the roster row and its plan
    are shared by every obligation about them; see :meth:`checker.properties.Context.planned`), and
    a fresh one where an obligation adds inputs (tallies, a second roster). Every term is named
    deterministically (sets are iterated sorted), so the same IR gives the same terms; the
    checker gives each policy a Z3 context of its own (``ctx``) so that what the solver answers does
    not depend on what was built before in the process.
    """

    def __init__(self, policy: ir.Policy, year: int | None = None, domain: Domain = Domain(),
                 ctx: z3.Context | None = None) -> None:
        self.policy = policy
        self.ctx = ctx if ctx is not None else z3.main_ctx()
        self.domain = domain
        self.year_value = year if year is not None else (None if domain.any_year else policy.vote_year)
        self.constraints: list[z3.BoolRef] = []
        self._defs: dict[str, tuple[RuleRef, list[z3.BoolRef]]] = {}
        self.names: dict[str, str] = {}
        self._count = 0

    # ---- bookkeeping
    def _bool(self, name: str, meaning: str) -> z3.BoolRef:
        self.names[name] = meaning
        return z3.Bool(name, self.ctx)

    def _int(self, name: str, meaning: str) -> z3.ArithRef:
        self.names[name] = meaning
        return z3.Int(name, self.ctx)

    def define(self, ref: RuleRef, formula: z3.BoolRef) -> None:
        """Add ``formula`` to the definition of the rule ``ref`` (asserted under its literal)."""
        self._defs.setdefault(ref.key, (ref, []))[1].append(formula)

    def named(self, ref: RuleRef, name: str, meaning: str, formula: z3.BoolRef) -> z3.BoolRef:
        """A fresh Bool equal to ``formula`` under the definition of ``ref``."""
        b = self._bool(name, meaning)
        self.define(ref, b == formula)
        return b

    @property
    def definitions(self) -> tuple[Definition, ...]:
        out = []
        for key, (ref, formulas) in self._defs.items():
            out.append(Definition(ref, z3.Bool(f"track|{key}", self.ctx), z3.And(*formulas) if len(formulas) != 1 else formulas[0]))
        return tuple(out)

    # ---- inputs
    def roster(self, prefix: str = "") -> RosterVars:
        p = self.policy
        levels = p.level_codes()
        level = self._int(f"{prefix}level", "level (index into the levels)")
        if levels:
            self.constraints.append(z3.And(level >= 0, level < len(levels)))
        else:
            self.constraints.append(level == 0)
        allowed = self.domain.titles
        titles: dict[str, z3.BoolRef] = {}
        for code in p.title_codes():
            t = self._bool(f"{prefix}title|{code}", f"holds title {code}")
            titles[code] = t
            if allowed is not None and code not in allowed:
                self.constraints.append(z3.Not(t))
        facts: dict[str, z3.ExprRef] = {}
        given: dict[str, z3.BoolRef] = {}
        for f in all_facts(p):
            match f.type:
                case "bool":
                    facts[f.name] = self._bool(f"{prefix}fact|{f.name}", f"fact {f.name}")
                case "year" | "int":
                    v = self._int(f"{prefix}fact|{f.name}", f"fact {f.name}")
                    g = self._bool(f"{prefix}given|{f.name}", f"fact {f.name} is given")
                    lo, hi = self.domain.years if f.type == "year" else self.domain.ints
                    self.constraints.append(z3.Implies(g, z3.And(v >= lo, v <= hi)))
                    self.constraints.append(z3.Implies(z3.Not(g), v == lo))  # an empty cell has one value
                    facts[f.name], given[f.name] = v, g
                case _:
                    raise EncodeError(f"unknown fact type {f.type}")
        if self.year_value is not None:
            year: z3.ArithRef = z3.IntVal(self.year_value, self.ctx)
        else:
            year = self._int(f"{prefix}vote_year", "the vote year")
            lo, hi = self.domain.vote_years
            self.constraints.append(z3.And(year >= lo, year <= hi))
        return RosterVars(level, levels, titles, facts, given, year)

    def tally(self, prefix: str, *bases: str) -> TallyVars:
        """A symbolic tally row with the schema's constraints, and each of ``bases`` (default: the
        policy's default base) given and ≥ 1 — a row the tally reader accepts for a venue counting
        over them."""
        names = ir.TALLY_FIELDS
        ints = {n: self._int(f"{prefix}|{n}", f"tally {prefix}: {n}") for n in names}
        t = TallyVars(prefix, self._bool(f"{prefix}|given", f"tally {prefix} is given"), **ints,
                      quorum_given=self._bool(f"{prefix}|quorum_given", f"tally {prefix}: convened/present given"),
                      members_given=self._bool(f"{prefix}|members_given", f"tally {prefix}: members given"))
        c = self.constraints
        c.extend(tally_schema(t, self.policy.invariants()))
        for base in bases or (self.policy.default_base(),):
            if base in ("convened", "present"):
                c.append(t.quorum_given)
            if base == "members":
                c.append(t.members_given)
            c.append(t.field(base) >= 1)
        if self.domain.max_count is not None:
            c.append(t.issued <= self.domain.max_count)
            c.append(t.convened <= self.domain.max_count)
            c.append(t.members <= self.domain.max_count)
        return t

    # ---- conditions
    def condition(self, e: ir.Expr, env: Env) -> z3.BoolRef:
        """A roster / venue / property condition as a Z3 Bool over ``env``."""
        r = env.roster
        match e:
            case ir.Const(value=v):
                return z3.BoolVal(v, self.ctx)
            case ir.Not(operand=o):
                return z3.Not(self.condition(o, env))
            case ir.And(operands=ops):
                return z3.And(*[self.condition(o, env) for o in ops]) if ops else z3.BoolVal(True, self.ctx)
            case ir.Or(operands=ops):
                return z3.Or(*[self.condition(o, env) for o in ops]) if ops else z3.BoolVal(False, self.ctx)
            case ir.Holds(titles=ts):
                held = [r.titles[t] for t in sorted(ts) if t in r.titles]
                return z3.Or(*held) if held else z3.BoolVal(False, self.ctx)
            case ir.LevelIs(level=lv):
                return r.level == r.levels.index(lv) if lv in r.levels else z3.BoolVal(False, self.ctx)
            case ir.FactTrue(fact=name):
                fact = r.facts.get(name)
                if fact is None:
                    return z3.BoolVal(False, self.ctx)
                return fact  # type: ignore[return-value]
            case ir.IntCmp(op=op, left=a, right=b, scale=k):
                (va, ga), (vb, gb) = self._int_term(a, env), self._int_term(b, env)
                # a missing integer fact satisfies no comparison (the evaluator's rule); a part p/q of the
                # right side is compared exactly: a·q OP p·b
                if k != 1:
                    return z3.And(ga, gb, _ops(op, va * k.denominator, k.numerator * vb))
                return z3.And(ga, gb, _ops(op, va, vb))
            case ir.InScope():
                return self._need(env.in_scope, "in_scope")
            case ir.IsExempt():
                return self._need(env.exempt, "exempt")
            case ir.StatusIs(status=st):
                if env.status is None:
                    raise EncodeError("status used outside a venue rule or property")
                return env.status.get(st, z3.BoolVal(False, self.ctx))
            case ir.HasVenue(venue=v):
                if env.venues is None:
                    raise EncodeError("venue(...) used outside a property")
                return env.venues.get(v, z3.BoolVal(False, self.ctx))
            case ir.ShareCmp():
                raise EncodeError("a share comparison outside a band condition")
            case _:
                raise EncodeError(f"unhandled IR expression {type(e).__name__}")

    @staticmethod
    def _need(term: z3.BoolRef | None, what: str) -> z3.BoolRef:
        if term is None:
            raise EncodeError(f"{what} used outside a venue rule or property")
        return term

    def _int_term(self, t: ir.IntTerm, env: Env) -> tuple[z3.ArithRef, z3.BoolRef]:
        match t:
            case ir.IntConst(value=v):
                return z3.IntVal(v, self.ctx), z3.BoolVal(True, self.ctx)
            case ir.IntFact(fact=name):
                if name not in env.roster.facts or name not in env.roster.given:
                    return z3.IntVal(0, self.ctx), z3.BoolVal(False, self.ctx)
                return env.roster.facts[name], env.roster.given[name]  # type: ignore[return-value]
            case ir.VoteYear():
                return env.roster.year, z3.BoolVal(True, self.ctx)
            case ir.VenueCount():
                if env.count is None:
                    raise EncodeError("venue_count used outside a property")
                return env.count, z3.BoolVal(True, self.ctx)
            case _:
                raise EncodeError(f"unhandled IR term {type(t).__name__}")

    def share(self, e: ir.Expr, t: TallyVars, base: str) -> z3.BoolRef:
        """A band condition over one tally: ``share OP p/q`` as ``low·q OP p·D``."""
        match e:
            case ir.Const(value=v):
                return z3.BoolVal(v, self.ctx)
            case ir.Not(operand=o):
                return z3.Not(self.share(o, t, base))
            case ir.And(operands=ops):
                return z3.And(*[self.share(o, t, base) for o in ops]) if ops else z3.BoolVal(True, self.ctx)
            case ir.Or(operands=ops):
                return z3.Or(*[self.share(o, t, base) for o in ops]) if ops else z3.BoolVal(False, self.ctx)
            case ir.ShareCmp(op=op, value=value):
                den = t.field(base)
                return _ops(op, t.low * value.denominator, value.numerator * den)
            case _:
                raise EncodeError(f"{type(e).__name__} in a band condition")

    # ---- the plan
    def plan(self, r: RosterVars, prefix: str = "") -> PlanTerms:
        p = self.policy
        base = Env(r)
        scope: dict[str, z3.BoolRef] = {}
        for rule in p.scope:
            fires = self._bool(f"{prefix}scope|{rule.name}", f"scope rule {rule.name} fires")
            held = [r.titles[t] for t in sorted(rule.titles) if t in r.titles]
            at = r.level == r.levels.index(rule.level) if rule.level in r.levels else z3.BoolVal(False, self.ctx)
            self.define(rule_ref("scope", rule), fires == z3.And(at, z3.Or(*held) if held else z3.BoolVal(False, self.ctx)))
            scope[rule.name] = fires
        in_scope = z3.Or(*scope.values()) if scope else z3.BoolVal(False, self.ctx)
        exemptions: dict[str, z3.BoolRef] = {}
        for x in p.exemptions:
            holds = self._bool(f"{prefix}exemption|{x.name}", f"exemption {x.name} holds")
            self.define(rule_ref("exemption", x), holds == self.condition(x.when, base))
            exemptions[x.name] = holds
        exempt = z3.Or(*exemptions.values()) if exemptions else z3.BoolVal(False, self.ctx)
        status = {"exempt": exempt, "voted": z3.And(in_scope, z3.Not(exempt)),
                  "out_of_scope": z3.And(z3.Not(in_scope), z3.Not(exempt))}
        venv = Env(r, in_scope, exempt, status)
        overriders: dict[str, list[str]] = {vr.name: [] for vr in p.venue_rules}
        for vr in p.venue_rules:
            for target in sorted(vr.overrides):
                overriders.setdefault(target, []).append(vr.name)
        cond = {vr.name: self._bool(f"{prefix}venue_rule|{vr.name}|when", f"venue rule {vr.name}: its condition holds")
                for vr in p.venue_rules}
        active = {vr.name: self._bool(f"{prefix}venue_rule|{vr.name}|active", f"venue rule {vr.name} is active")
                  for vr in p.venue_rules}
        taken: dict[tuple[str, int], z3.BoolRef] = {}
        for vr in p.venue_rules:
            ref = rule_ref("venue_rule", vr)
            self.define(ref, cond[vr.name] == self.condition(vr.when, venv))
            beaten = [active[o] for o in overriders[vr.name]]
            self.define(ref, active[vr.name] == z3.And(cond[vr.name], z3.Not(z3.Or(*beaten)) if beaten else z3.BoolVal(True, self.ctx)))
            earlier: list[z3.BoolRef] = []
            for i, it in enumerate(vr.items):
                t = self._bool(f"{prefix}venue_rule|{vr.name}|item{i}|{it.venue}", f"venue rule {vr.name} proposes {it.venue} (item {i + 1})")
                match it.kind:
                    case "always":
                        guard: z3.BoolRef = z3.BoolVal(True, self.ctx)
                    case "when":
                        if it.when is None:
                            raise EncodeError(f"venue item {it.venue} of {vr.name} has no condition")
                        guard = self.condition(it.when, venv)
                    case "otherwise":
                        guard = z3.Not(z3.Or(*earlier)) if earlier else z3.BoolVal(True, self.ctx)
                    case _:
                        raise EncodeError(f"unknown venue item kind {it.kind}")
                self.define(ref, t == z3.And(active[vr.name], guard))
                taken[(vr.name, i)] = t
                earlier.append(t)
        order = p.venue_codes()
        proposed: dict[str, z3.BoolRef] = {}
        for v in order:
            by = [t for (rn, i), t in taken.items() if _item_venue(p, rn, i) == v]
            proposed[v] = z3.Or(*by) if by else z3.BoolVal(False, self.ctx)
        proposed_count = z3.Sum(*[z3.If(proposed[v], 1, 0) for v in order]) if order else z3.IntVal(0, self.ctx)
        venues: dict[str, z3.BoolRef] = {}
        mv = p.max_venues
        for k, v in enumerate(order):
            kept = self._bool(f"{prefix}venue|{v}", f"venue {v} is decided (after the max_venues cut)")
            if mv is None:
                self.constraints.append(kept == proposed[v])
            else:
                before = z3.Sum(*[z3.If(proposed[u], 1, 0) for u in order[:k]]) if k else z3.IntVal(0, self.ctx)
                self.define(rule_ref("max_venues", mv, "max_venues"), kept == z3.And(proposed[v], before < mv.count))
            venues[v] = kept
        count = z3.Sum(*[z3.If(venues[v], 1, 0) for v in order]) if order else z3.IntVal(0, self.ctx)
        return PlanTerms(r, scope, in_scope, exemptions, exempt, status, cond, active, taken, proposed, proposed_count,
                         venues, count)

    # ---- tallies: bands, session, outcome
    def bands(self, bs: ir.BandSet, t: TallyVars, name: str | None = None, base: str | None = None) -> BandTerms:
        """The bands of ``bs`` over tally ``t``, shares counted over ``base`` (default: the set's base,
        :meth:`dsl.ir.Policy.base_of`); ``name`` tells apart a set from the one it refines."""
        name = name or bs.name
        base = base or self.policy.base_of(bs)
        conds: dict[str, z3.BoolRef] = {}
        first: dict[str, z3.BoolRef] = {}
        earlier: list[z3.BoolRef] = []
        for b in bs.bands:
            c = self._bool(f"{t.prefix}|band|{name}|{b.code}", f"band {b.code} of {name}: its condition holds for tally {t.prefix}")
            self.define(band_ref(bs, b, name), c == self.share(b.when, t, base))
            conds[b.code] = c
            first[b.code] = z3.And(c, z3.Not(z3.Or(*earlier))) if earlier else c
            earlier.append(c)
        none = z3.Not(z3.Or(*earlier)) if earlier else z3.BoolVal(True, self.ctx)
        return BandTerms(name, t, conds, first, none)

    def session_valid(self, t: TallyVars) -> z3.BoolRef:
        q = self.policy.quorum
        if q is None:
            return z3.BoolVal(True, self.ctx)
        valid = self._bool(f"{t.prefix}|session_valid", f"the session of tally {t.prefix} is valid")
        meets = _ops(q.op, t.present * q.ratio.denominator, q.ratio.numerator * t.convened)
        self.define(rule_ref("quorum", q, "quorum"), valid == z3.Or(z3.Not(t.quorum_given), meets))
        return valid

    def stages(self, plan: PlanTerms, tallies: Mapping[str, TallyVars], prefix: str = "") -> dict[str, StageTerms]:
        """Each stage of the policy (:class:`dsl.ir.Stage`): due when the cadre is voted at its venue and
        the vote held there before it — the poll (its tally given, its session valid) or the stage
        declared before it at that venue (due and its tally given) — decided one of the bands it
        follows, and its condition holds; its tally counts only its ballot's levels."""
        p = self.policy
        f = z3.BoolVal(False, self.ctx)
        out: dict[str, StageTerms] = {}
        last: dict[str, dict[str, z3.BoolRef]] = {}  # venue → band code → that band was decided there last
        for st in p.stages:
            v = st.venue
            if v not in last:
                bs, t = p.band_set_at(v), tallies[v]
                held = z3.And(plan.status["voted"], plan.venues.get(v, f), t.given, self.session_valid(t))
                last[v] = {c: z3.And(held, b) for c, b in self.bands(bs, t).first.items()} if bs is not None else {}
            trigger = z3.Or(*[last[v].get(c, f) for c in st.after]) if st.after else f
            cond = self.condition(st.when, plan.env()) if st.when is not None else z3.BoolVal(True, self.ctx)
            due = self.named(rule_ref("stage", st), f"{prefix}stage|{st.name}|due", f"stage {st.name} is due", z3.And(trigger, cond))
            sbs = p.band_set(st.band_set)
            ts = self.tally(f"{prefix}stage|{st.name}", p.base_of(sbs) if sbs is not None else p.default_base())
            for level in ("high", "confidence", "low"):
                if level not in st.levels:
                    self.constraints.append(ts.field(level) == 0)  # as the reader: the stage's ballot lacks it
            if sbs is not None:
                bt = self.bands(sbs, ts)
                band: dict[str | None, z3.BoolRef] = {**bt.first, None: bt.none}
            else:
                band = {None: z3.BoolVal(True, self.ctx)}
            out[st.name] = StageTerms(st, due, ts, band)
            last[v] = {c: z3.And(due, ts.given, b) for c, b in band.items() if c is not None}
        return out

    def venue_tallies(self, prefix: str = "") -> dict[str, TallyVars]:
        """One symbolic tally per venue of the policy."""
        return {v: self.tally(f"{prefix}tally|{v}", self.policy.base_at(v)) for v in self.policy.venue_codes()}

    def outcome(self, plan: PlanTerms, tallies: Mapping[str, TallyVars]) -> dict[str | None, z3.BoolRef]:
        """The outcome as one Bool per possible value (exactly one holds; ``None`` = no outcome)."""
        p = self.policy
        order = p.venue_codes()
        any_venue = z3.Or(*plan.venues.values()) if order else z3.BoolVal(False, self.ctx)
        missing = z3.Or(*[z3.And(plan.venues[v], z3.Not(tallies[v].given)) for v in order]) if order else z3.BoolVal(False, self.ctx)
        valid = {v: self.session_valid(tallies[v]) for v in order}
        invalid = z3.Or(*[z3.And(plan.venues[v], z3.Not(valid[v])) for v in order]) if order else z3.BoolVal(False, self.ctx)
        ok = z3.And(any_venue, z3.Not(missing), z3.Not(invalid))
        out: dict[str | None, z3.BoolRef] = {}
        combined = z3.And(ok, plan.count >= 2) if p.combine is not None else z3.BoolVal(False, self.ctx)
        single = z3.And(ok, z3.Not(combined))
        band_of: dict[str, list[z3.BoolRef]] = {}
        none_band: list[z3.BoolRef] = []
        for k, v in enumerate(order):
            first_venue = z3.And(plan.venues[v], *[z3.Not(plan.venues[u]) for u in order[:k]])
            bs = p.band_set_at(v)
            if bs is None:
                none_band.append(first_venue)
                continue
            bt = self.bands(bs, tallies[v])
            for code, is_band in bt.first.items():
                band_of.setdefault(code, []).append(z3.And(first_venue, is_band))
            none_band.append(z3.And(first_venue, bt.none))
        out[None] = z3.Or(z3.Not(any_venue), z3.And(single, z3.Or(*none_band) if none_band else z3.BoolVal(True, self.ctx)))
        out["missing_tally"] = z3.And(any_venue, missing)
        out["invalid_session"] = z3.And(any_venue, z3.Not(missing), invalid)
        if p.combine is not None:
            out[p.combine.outcome] = z3.Or(out.get(p.combine.outcome, z3.BoolVal(False, self.ctx)), combined)
        for code in sorted(band_of):
            out[code] = z3.Or(out.get(code, z3.BoolVal(False, self.ctx)), z3.And(single, z3.Or(*band_of[code])))
        return out

    # ---- the schedule
    def schedule(self) -> dict[str, tuple[z3.ArithRef, z3.ArithRef]]:
        """Day numbers (start, end) per phase, each constraint tracked on its own literal."""
        days: dict[str, tuple[z3.ArithRef, z3.ArithRef]] = {}
        for ph in self.policy.schedule:
            days[ph.name] = (self._int(f"phase|{ph.name}|start", f"phase {ph.name}: first day"),
                             self._int(f"phase|{ph.name}|end", f"phase {ph.name}: last day"))
        for ph in self.policy.schedule:
            start, end = days[ph.name]
            self.constraints.append(start <= end)
            if ph.start is not None:
                self.define(RuleRef("phase", ph.name, ph.cite, ph.span, f"from {ph.start.isoformat()}"), start >= day(ph.start))
            if ph.deadline is not None:
                self.define(RuleRef("phase", ph.name, ph.cite, ph.span, f"by {ph.deadline.isoformat()}"), end <= day(ph.deadline))
            for a in ph.after:
                if a in days:
                    self.define(RuleRef("phase", ph.name, ph.cite, ph.span, f"after {a}"), start >= days[a][1])
        return days


def band_ref(bs: ir.BandSet, b: ir.BandRule, name: str | None = None) -> RuleRef:
    return RuleRef("band", f"{name or bs.name}.{b.code}", b.cite, b.span)


def _item_venue(p: ir.Policy, rule: str, index: int) -> str:
    vr = next(r for r in p.venue_rules if r.name == rule)
    return vr.items[index].venue
