"""The syntax tree of one policy file.

Produced by :mod:`dsl.parser` from Lark's parse tree; consumed by :mod:`dsl.lower` (resolution,
type checking, lowering to the IR) and, later, by the printer. Every node is a frozen dataclass
whose ``span`` is excluded from equality, so two trees compare equal when they say the same thing
wherever it was written.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Union

from dsl.spans import Span

_NOSPAN = field(default=Span("<unknown>", 1, 1, 1, 1), compare=False, repr=False)


@dataclass(frozen=True)
class Name:
    text: str
    span: Span = _NOSPAN


@dataclass(frozen=True)
class QualName:
    """``name`` or ``alias.name`` (a declaration of an imported policy)."""

    alias: str | None
    name: str
    span: Span = _NOSPAN

    def __str__(self) -> str:
        return f"{self.alias}.{self.name}" if self.alias else self.name


@dataclass(frozen=True)
class Text:
    """Prose as the drafter wrote it (adjacent strings joined by a space), NFC-normalised."""

    value: str
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Cite:
    """``cite DOC "paragraph" "quoted sentence"``."""

    doc: Name
    para: str
    quote: Text
    span: Span = _NOSPAN


# ---- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameRef:
    name: Name
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Call:
    func: Name
    args: tuple[Name, ...]
    span: Span = _NOSPAN


@dataclass(frozen=True)
class IntLit:
    value: int
    span: Span = _NOSPAN


@dataclass(frozen=True)
class RatioLit:
    """A rational literal: ``2/3``, ``50%``, ``0.5``; ``text`` keeps how it was written."""

    value: Fraction
    text: str
    span: Span = _NOSPAN


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Compare:
    op: str  # one of = != < <= > >= (unicode ≥ ≤ ≠ are normalised by the parser)
    left: Expr
    right: Expr
    span: Span = _NOSPAN
    scale: IntLit | RatioLit | None = None  # ``left OP scale of right`` (``so_kien_nghi >= 20% of so_dai_bieu``)


@dataclass(frozen=True)
class Not:
    operand: Expr
    span: Span = _NOSPAN


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Implies:
    left: Expr
    right: Expr
    span: Span = _NOSPAN


Expr = Union[NameRef, Call, IntLit, RatioLit, BoolLit, Compare, Not, And, Or, Implies]

# ---- declarations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderField:
    key: Name
    value: str | int | _dt.date
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Header:
    name: Name
    fields: tuple[HeaderField, ...]
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Document:
    name: Name
    title: Text
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Import:
    path: Text
    alias: Name | None
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Labelled:
    """A name with its Vietnamese label (a level, a ballot level)."""

    name: Name
    label: Text
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Levels:
    items: tuple[Labelled, ...]
    span: Span = _NOSPAN
    adds: bool = False  # ``also levels { … }``: added to the imported levels


@dataclass(frozen=True)
class Fact:
    name: Name
    type: Name
    label: Text
    span: Span = _NOSPAN
    adds: bool = False  # ``also fact …``: added to the imported facts


@dataclass(frozen=True)
class Title:
    code: Name
    label: Text
    tags: tuple[Name, ...]
    span: Span = _NOSPAN
    adds: bool = False  # ``also title …``: added to the imported titles


@dataclass(frozen=True)
class Define:
    name: Name
    label: Text | None
    expr: Expr
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Scope:
    name: Name
    level: Name
    titles: tuple[Name, ...]
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Exempt:
    name: Name
    refines: QualName | None
    when: Expr
    reason: Text
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Venue:
    code: Name
    label: Text
    span: Span = _NOSPAN


@dataclass(frozen=True)
class MaxVenues:
    count: int
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class VenueItem:
    venue: Name
    kind: Literal["always", "when", "otherwise"]
    when: Expr | None
    span: Span = _NOSPAN


@dataclass(frozen=True)
class VenueRule:
    name: Name
    overrides: tuple[QualName, ...]
    when: Expr
    items: tuple[VenueItem, ...]
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Ballot:
    levels: tuple[Labelled, ...]
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class ShareDecl:
    numerator: Name
    denominator: Name
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Quorum:
    counted: Name
    op: str
    ratio: IntLit | RatioLit
    base: Name
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Invariant:
    """``invariant high + confidence + low <= collected cite …``: a constraint on every tally row."""

    left: tuple[Name, ...]
    op: str
    right: tuple[Name, ...]
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class TallySchema:
    """``tally { invariant … }``: what a tally row must satisfy, declared once (a central text)."""

    invariants: tuple[Invariant, ...]
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Consequence:
    kind: Literal["must", "may", "otherwise"]  # otherwise: what follows when the option before it is not taken
    text: Text
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Band:
    code: Name
    label: Text
    when: Expr
    severity: int
    consequences: tuple[Consequence, ...]
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Bands:
    name: Name
    refines: QualName | None
    bands: tuple[Band, ...]
    span: Span = _NOSPAN
    base: Name | None = None  # ``over FIELD``


@dataclass(frozen=True)
class Apply:
    bands: QualName
    venues: tuple[Name, ...]
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Combine:
    outcome: Name
    label: Text
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Stage:
    """``stage NAME "label" at VENUE after BAND, … [when EXPR] ballot LEVEL, … bands SET cite …``."""

    name: Name
    label: Text
    venue: Name
    after: tuple[Name, ...]
    when: Expr | None
    levels: tuple[Name, ...]
    bands: QualName
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Phase:
    name: Name
    label: Text
    after: tuple[Name, ...]
    start: _dt.date | None
    deadline: _dt.date | None
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Schedule:
    phases: tuple[Phase, ...]
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Provision:
    name: Name
    text: Text
    cite: Cite
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Property:
    name: Name
    label: Text
    expr: Expr
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Acknowledge:
    target: QualName
    reason: Text
    cite: Cite | None
    span: Span = _NOSPAN


@dataclass(frozen=True)
class Value:
    """A value in an example: a list of names, an integer, a boolean, or ``none``."""

    kind: Literal["names", "int", "bool", "none"]
    names: tuple[Name, ...] = ()
    number: int = 0
    flag: bool = False
    span: Span = _NOSPAN


@dataclass(frozen=True)
class FieldValue:
    key: Name
    arg: Name | None
    value: Value
    span: Span = _NOSPAN


@dataclass(frozen=True)
class TallyBlock:
    venue: Name
    counts: tuple[tuple[Name, int], ...]
    span: Span = _NOSPAN
    stage: Name | None = None  # ``tally VENUE stage NAME { … }``: a tally of a later vote


@dataclass(frozen=True)
class Example:
    name: Name
    label: Text
    roster: tuple[FieldValue, ...]
    tallies: tuple[TallyBlock, ...]
    expect: tuple[FieldValue, ...]
    span: Span = _NOSPAN


Item = Union[
    Header, Document, Import, Levels, Fact, Title, Define, Scope, Exempt, Venue, MaxVenues,
    VenueRule, Ballot, ShareDecl, Quorum, Bands, Apply, Combine, Schedule, Provision, Property,
    Acknowledge, Example, TallySchema, Stage,
]


@dataclass(frozen=True)
class Comment:
    text: str
    span: Span = _NOSPAN


@dataclass(frozen=True)
class PolicyFile:
    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
