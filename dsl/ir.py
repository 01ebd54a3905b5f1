"""The core IR: one resolved, type-checked policy.

Produced by :mod:`dsl.lower` from the syntax tree (imports already resolved); consumed by the
evaluator (:mod:`dsl.evaluator`) and the Z3 encoder (:mod:`checker.encode`) — nothing else feeds
either backend. Names are resolved (tags expanded to title sets, definitions inlined), thresholds
are exact :class:`~fractions.Fraction` values, and every rule carries its :class:`Citation` and the
span of its declaration (spans never take part in equality).

Decision semantics (both backends implement exactly this; ``docs/language.md`` states it for
drafters). For a roster row with ``level``, ``titles`` and facts, in vote year ``Y``:

1. ``in_scope``  ⇔ some scope rule has ``rule.level == level`` and shares a title with ``titles``.
2. ``exempt``    ⇔ some exemption's condition holds (every exemption that holds is listed).
3. ``status``    = ``exempt`` if exempt, else ``voted`` if in scope, else ``out_of_scope``.
4. A venue rule is *active* ⇔ its condition holds and no rule that overrides it is active. An
   active rule proposes its items in order: ``v`` always; ``v when c`` if ``c``; ``v otherwise`` if
   no earlier item of that rule was proposed. ``proposed`` = the union over active rules, in venue
   priority order (the order venues are declared); ``venues`` = the first ``max_venues`` of it.
5. At each venue, with its tally: ``share = low / D`` with ``D`` the **base** of the band set applied
   there (:meth:`Policy.base_at`: its ``over FIELD``, else the ``share`` denominator of the text that
   declares it, else ``collected``; ``D > 0``);
   the session is valid ⇔ no quorum rule, or ``present``/``convened`` absent, or
   ``present OP ratio × convened``; the band is the first band of the set applied at that venue
   whose condition holds (``None`` if none holds).
6. ``outcome`` = ``None`` without venues; else ``missing_tally`` if a venue has no tally; else
   ``invalid_session`` if a session is invalid; else the combined outcome (``two_venues``) when there
   are two or more venues and the policy declares one; else the band of the first venue (``None``
   when no band holds).
7. For a voted cadre, each :class:`Stage` held at one of its venues, in declaration order, is *due*
   when the vote before it at that venue — the poll, if its session is valid; else the previous
   stage there, if due and its tally given — decided one of its ``after`` bands and its ``when``
   holds; a due stage with its tally is decided by the first band of its set over ``low / base``.
   The *final* result is the band of the last stage decided, else the outcome; None while a stage
   is due and not counted.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Union

from dsl.spans import Span

_NOSPAN = field(default=Span("<unknown>", 1, 1, 1, 1), compare=False, repr=False)

Op = Literal["=", "!=", "<", "<=", ">", ">="]
STATUSES = ("voted", "exempt", "out_of_scope")
SPECIAL_OUTCOMES = ("missing_tally", "invalid_session")
TALLY_FIELDS = ("issued", "collected", "high", "confidence", "low", "convened", "present", "members")
#: The optional count columns of a tally row (a row may leave them empty).
OPTIONAL_COUNTS = ("convened", "present", "members")
#: The columns every tallies file has (brief §3): the row's key, then the required counts.
TALLY_KEY = ("cadre_id", "venue")
TALLY_REQUIRED = TALLY_KEY + tuple(f for f in TALLY_FIELDS if f not in OPTIONAL_COUNTS)
#: The columns every roster has (brief §3); each fact of the policy adds one (:meth:`Policy.roster_columns`).
ROSTER_IDENTITY = ("cadre_id", "full_name", "level", "unit", "titles")
DENOMINATORS = ("collected", "issued", "convened", "present")
#: What a share may be counted over: the ``share`` denominators, and ``members`` (all members of the
#: voting body, tổng số đại biểu) for a band set that says ``over members``.
BASES = (*DENOMINATORS, "members")
#: The base when a policy states none.
DEFAULT_BASE = "collected"


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from: document id and title, paragraph/article, the quoted sentence."""

    doc: str
    doc_title: str
    para: str
    quote: str

    @property
    def label(self) -> str:
        return f"{self.doc} {self.para}"


# ---- expressions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Holds:
    """The cadre holds at least one of ``titles``."""

    titles: frozenset[str]


@dataclass(frozen=True)
class LevelIs:
    level: str


@dataclass(frozen=True)
class FactTrue:
    """A boolean fact of the roster row."""

    fact: str


@dataclass(frozen=True)
class IntConst:
    value: int


@dataclass(frozen=True)
class IntFact:
    fact: str


@dataclass(frozen=True)
class VoteYear:
    pass


@dataclass(frozen=True)
class VenueCount:
    """Number of venues decided (property context)."""


IntTerm = Union[IntConst, IntFact, VoteYear, VenueCount]


@dataclass(frozen=True)
class IntCmp:
    """``left OP scale × right`` on whole numbers (``scale`` 1 unless written ``left OP p of right``),
    decided exactly as ``left × q OP p × right`` for ``scale = p/q``; false when either is missing."""

    op: Op
    left: IntTerm
    right: IntTerm
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class ShareCmp:
    """``share OP value`` where share = numerator / denominator of the tally (band context)."""

    op: Op
    value: Fraction


@dataclass(frozen=True)
class InScope:
    pass


@dataclass(frozen=True)
class IsExempt:
    pass


@dataclass(frozen=True)
class StatusIs:
    status: str


@dataclass(frozen=True)
class HasVenue:
    venue: str


Expr = Union[Const, Not, And, Or, Holds, LevelIs, FactTrue, IntCmp, ShareCmp, InScope, IsExempt, StatusIs, HasVenue]

# ---- declarations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    code: str
    label: str


@dataclass(frozen=True)
class FactDecl:
    name: str
    type: Literal["bool", "year", "int"]
    label: str


@dataclass(frozen=True)
class TitleDecl:
    code: str
    label: str
    tags: frozenset[str]


@dataclass(frozen=True)
class ScopeRule:
    name: str
    level: str
    titles: frozenset[str]
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Exemption:
    name: str
    when: Expr
    reason: str
    cite: Citation
    refines: str | None = None  # qualified name of the imported exemption it restates
    refined: Exemption | None = field(default=None, compare=False, repr=False)
    span: Span = _NOSPAN


@dataclass(frozen=True)
class VenueDecl:
    code: str
    label: str


@dataclass(frozen=True)
class MaxVenues:
    count: int
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class VenueItem:
    venue: str
    kind: Literal["always", "when", "otherwise"]
    when: Expr | None


@dataclass(frozen=True)
class VenueRule:
    name: str
    when: Expr
    items: tuple[VenueItem, ...]
    overrides: frozenset[str]
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Ballot:
    levels: tuple[tuple[str, str], ...]  # (code, Vietnamese label): high, confidence, low
    cite: Citation


@dataclass(frozen=True)
class ShareRule:
    numerator: str  # "low"
    denominator: str  # one of DENOMINATORS
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class QuorumRule:
    counted: str  # "present"
    op: Op
    ratio: Fraction
    base: str  # "convened"
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Invariant:
    """A constraint every tally row satisfies: ``sum(left) OP sum(right)`` over tally fields. It binds a
    row only where every optional field it names (convened, present, members) is given."""

    left: tuple[str, ...]
    op: Op
    right: tuple[str, ...]
    cite: Citation | None = None
    span: Span = _NOSPAN

    @property
    def text(self) -> str:
        return f"{' + '.join(self.left)} {self.op} {' + '.join(self.right)}"

    @property
    def fields(self) -> tuple[str, ...]:
        return self.left + self.right


#: The schema of a count when no text declares one (``tally { … }``): what the readers always checked.
DEFAULT_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(("high", "confidence", "low"), "<=", ("collected",)),
    Invariant(("collected",), "<=", ("issued",)),
    Invariant(("present",), "<=", ("convened",)),
    Invariant(("issued",), "<=", ("present",)),
    Invariant(("issued",), "<=", ("members",)),
    Invariant(("convened",), "<=", ("members",)),
)


@dataclass(frozen=True)
class BandRule:
    code: str
    label: str
    when: Expr  # over ShareCmp only
    severity: int
    must: tuple[str, ...]
    may: tuple[str, ...]
    cite: Citation
    span: Span = _NOSPAN
    #: every consequence in the order of the text: (kind, text), kind must | may | otherwise; an
    #: ``otherwise`` is what follows when the option (``may``) before it is not taken
    consequences: tuple[tuple[str, str], ...] = ()

    def then(self) -> tuple[tuple[str, str], ...]:
        """The consequences in the order of the text (``must`` then ``may`` for an IR built without it)."""
        return self.consequences or tuple(("must", m) for m in self.must) + tuple(("may", m) for m in self.may)


#: How each kind of consequence is introduced in Vietnamese (traces, report cells): a ``may`` is one
#: option among others (*hoặc*), an ``otherwise`` what follows when the option before it is not taken.
CONSEQUENCE_VI = {"must": "phải", "may": "hoặc", "otherwise": "nếu không"}


def consequence_texts(band: BandRule) -> tuple[str, ...]:
    """The consequences of ``band`` in the text's order, each as written, an ``otherwise`` introduced by
    "nếu không" (it only makes sense after the option it follows) — the JSON ``consequences`` list."""
    return tuple(f"{CONSEQUENCE_VI['otherwise']}: {text}" if kind == "otherwise" else text for kind, text in band.then())


def consequence_cell(band: BandRule) -> str:
    """The consequences in one line, in the text's order: a ``must`` as written, a ``may`` after
    "hoặc:", an ``otherwise`` after "nếu không:" — the CSV ``consequences`` cell."""
    return "; ".join(text if kind == "must" else f"{CONSEQUENCE_VI[kind]}: {text}" for kind, text in band.then())


@dataclass(frozen=True)
class Stage:
    """A later vote of a procedure (e.g. bỏ phiếu tín nhiệm after lấy phiếu): held at ``venue`` when the
    band decided there by the vote before it (the poll, or the stage declared before this one at that
    venue) is one of ``after`` and ``when`` holds for the person; its tally counts the ballot levels
    ``levels`` (the others are 0), and ``band_set`` decides it over that set's base."""

    name: str
    label: str
    venue: str
    after: tuple[str, ...]
    when: Expr | None
    levels: tuple[str, ...]
    band_set: str
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class BandSet:
    name: str  # qualified for imported sets: "qd96.bands"
    bands: tuple[BandRule, ...]
    refines: str | None = None
    refined: BandSet | None = field(default=None, compare=False, repr=False)
    span: Span = _NOSPAN
    base: str | None = None  # ``over FIELD`` (one of BASES); None: the policy's share denominator

    def band(self, code: str) -> BandRule:
        return next(b for b in self.bands if b.code == code)


@dataclass(frozen=True)
class BandApplication:
    band_set: str
    venues: tuple[str, ...]
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class CombineRule:
    outcome: str
    label: str
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Phase:
    name: str
    label: str
    after: tuple[str, ...]
    start: _dt.date | None
    deadline: _dt.date | None
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Provision:
    name: str
    text: str
    cite: Citation
    span: Span = _NOSPAN


@dataclass(frozen=True)
class PropertyDecl:
    name: str
    label: str
    expr: Expr  # over roster facts and the plan (status, venues)
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Acknowledgement:
    target: str  # a property of this policy, or "builtin.<property id>"
    reason: str
    cite: Citation | None
    span: Span = _NOSPAN


@dataclass(frozen=True)
class ExampleTally:
    venue: str
    counts: tuple[tuple[str, int], ...]  # (field, value) among TALLY_FIELDS
    stage: str | None = None  # a tally of a later vote (None: the poll)


@dataclass(frozen=True)
class ExampleCase:
    name: str
    label: str
    level: str
    titles: frozenset[str]
    facts: tuple[tuple[str, bool | int], ...]
    tallies: tuple[ExampleTally, ...]
    expect: tuple[tuple[str, str | None, object], ...]  # (key, argument, value)
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Policy:
    """One policy, resolved. ``imports`` maps alias → imported policy (already lowered)."""

    id: str
    name: str
    issuer: str
    date: _dt.date | None
    vote_year: int | None
    summary: str
    path: str = field(compare=False)
    documents: tuple[tuple[str, str], ...]
    levels: tuple[Level, ...]
    facts: tuple[FactDecl, ...]
    titles: tuple[TitleDecl, ...]
    scope: tuple[ScopeRule, ...]
    exemptions: tuple[Exemption, ...]
    venues: tuple[VenueDecl, ...]
    max_venues: MaxVenues | None
    venue_rules: tuple[VenueRule, ...]
    ballot: Ballot | None
    share: ShareRule | None
    quorum: QuorumRule | None
    band_sets: tuple[BandSet, ...]
    band_at: tuple[BandApplication, ...]
    combine: CombineRule | None
    schedule: tuple[Phase, ...]
    provisions: tuple[Provision, ...]
    properties: tuple[PropertyDecl, ...]
    acknowledgements: tuple[Acknowledgement, ...]
    examples: tuple[ExampleCase, ...]
    imports: tuple[tuple[str, Policy], ...] = field(default=(), compare=False, repr=False)
    sha256: str = field(default="", compare=False)
    span: Span = _NOSPAN
    tally: tuple[Invariant, ...] = ()  # the declared schema of a count (``tally { … }``), own or inherited
    stages: tuple[Stage, ...] = ()  # the later votes of the procedure, in order

    def stage(self, name: str) -> Stage | None:
        return next((st for st in self.stages if st.name == name), None)

    def band_set(self, name: str) -> BandSet | None:
        return next((bs for bs in self.band_sets if bs.name == name), None)

    def stage_before(self, stage: Stage) -> Stage | None:
        """The stage held at the same venue just before ``stage`` (None: the poll comes before it)."""
        before = None
        for st in self.stages:
            if st is stage or st == stage:
                return before
            if st.venue == stage.venue:
                before = st
        return before

    def trigger_set(self, stage: Stage) -> BandSet | None:
        """The band set whose band triggers ``stage``: the previous stage's at its venue, else the poll's."""
        before = self.stage_before(stage)
        return self.band_set(before.band_set) if before is not None else self.band_set_at(stage.venue)

    def invariants(self) -> tuple[Invariant, ...]:
        """What every tally row must satisfy: the declared schema, else :data:`DEFAULT_INVARIANTS`."""
        return self.tally or DEFAULT_INVARIANTS

    # -- convenience look-ups (pure functions of the fields)
    def default_base(self) -> str:
        """The base of a band set that names none: the ``share`` denominator, else ``collected``."""
        return self.share.denominator if self.share else DEFAULT_BASE

    def base_of(self, band_set: BandSet) -> str:
        """What the shares of ``band_set`` are counted over (the one place every backend asks)."""
        return band_set.base or self.default_base()

    def base_at(self, venue: str) -> str:
        """The base of the share at ``venue``: that of the band set applied there."""
        bs = self.band_set_at(venue)
        return self.base_of(bs) if bs is not None else self.default_base()

    def bases(self) -> frozenset[str]:
        """Every base some venue of the policy counts over."""
        return frozenset(self.base_at(v) for v in self.venue_codes()) or frozenset({self.default_base()})

    def band_set_at(self, venue: str) -> BandSet | None:
        for app in self.band_at:
            if venue in app.venues:
                return next(b for b in self.band_sets if b.name == app.band_set)
        return None

    def all_facts(self) -> tuple[FactDecl, ...]:
        """The facts of the policy and of its imports, its own first (an imported exemption may name a
        fact of its own text: the evaluator reads it, so the roster must carry it)."""
        seen: dict[str, FactDecl] = {}
        stack: list[Policy] = [self]
        while stack:
            p = stack.pop(0)
            for f in p.facts:
                seen.setdefault(f.name, f)
            stack.extend(sub for _, sub in p.imports)
        return tuple(seen.values())

    def roster_columns(self) -> tuple[str, ...]:
        """The columns the roster reader requires for this policy: the identity, then one per fact it or
        an import declares — every fact a decision may read."""
        return ROSTER_IDENTITY + tuple(f.name for f in self.all_facts())

    def title_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.titles)

    def venue_codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.venues)

    def level_codes(self) -> tuple[str, ...]:
        return tuple(lv.code for lv in self.levels)

    def fact(self, name: str) -> FactDecl | None:
        return next((f for f in self.facts if f.name == name), None)

    def imported(self, alias: str) -> Policy | None:
        return dict(self.imports).get(alias)

    def missing_for_evaluation(self) -> list[str]:
        """What this policy lacks to plan a roster / evaluate tallies (empty when complete)."""
        missing = []
        if not self.levels:
            missing.append("levels")
        if not self.titles:
            missing.append("titles")
        if not self.scope:
            missing.append("scope rules")
        if not self.venues:
            missing.append("venues")
        if not self.venue_rules:
            missing.append("venue rules")
        return missing

    def missing_for_tallies(self) -> list[str]:
        missing = []
        own = {a.band_set for a in self.band_at}
        if self.share is None and any(bs.base is None for bs in self.band_sets if bs.name in own):
            missing.append("share (denominator) for the band sets that name no base ('over')")
        for v in self.venues:
            if self.band_set_at(v.code) is None:
                missing.append(f"bands applied at venue '{v.code}'")
        return missing


#: The properties every policy is checked against (section 5 of the brief). The checker implements
#: each; a policy may acknowledge one as a known finding with ``acknowledge builtin.<id> reason …``.
BUILTIN_PROPERTIES: dict[str, str] = {
    "bands_disjoint": "no share falls in two bands of one band set",
    "bands_cover": "every valid tally falls in some band of the set applied at its venue",
    "severity_monotone": "a larger share never falls in a less severe band",
    "max_venues": "no cadre is proposed more venues than max_venues, whatever titles they combine",
    "exemption_overrides_scope": "an exempt cadre has no venue and no outcome",
    "voted_has_venue": "a cadre in scope and not exempt has at least one venue",
    "venue_implies_scope": "a cadre with a venue is in scope",
    "no_conflict": "no two venue rules are active together unless one overrides the other",
    "no_dead_rule": "every scope rule, exemption, venue rule, venue item, band and stage can fire",
    "schedule_feasible": "the phases can be dated within their windows, in their order",
    "refinement_keeps": "a declaration that refines an imported one decides the same cases",
    "imports_kept": "whoever an exemption of an imported text exempts is not voted by the plan",
}
