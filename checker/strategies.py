"""Hypothesis strategies for fuzzing a policy: its inputs, and random policies.

Takes a :class:`dsl.ir.Policy` (and the vote year); produces Hypothesis strategies of the inputs the
policy admits, biased to what breaks a decision procedure:

- :func:`cadres` — evaluator :class:`dsl.evaluator.Cadre` rows at every level of the policy, whose
  titles combine one title of each of a few *title sets* taken from the rules (every ``holds(...)``
  atom of the exemptions, venue rules, venue items and properties, and every scope rule), so that
  each exception, exemption and scope rule is triggered, alone and together; year facts at the vote
  year, its neighbours and every year the rules compare with (±1), or an empty cell;
- :func:`tallies` — one :class:`dsl.evaluator.Tally` per venue, with the share (``low / D``, ``D``
  the base the venue's band set counts over) exactly at, one vote below and one vote above every
  threshold of every band set, 0 low and all low, with small counts and counts up to 10**12;
  collected < issued; the quorum exactly at its ratio, one below and one above, with at least as
  many people present as ballots issued; the optional quorum columns present or not; the
  ``members`` column where a band set counts over it; now and then a venue without a tally;
- :func:`inputs` — a :class:`FuzzInput` (one cadre and its tallies), what the differential test of
  :mod:`checker.fuzz` compares; :func:`roster_rows` and :func:`tally_rows` — the same inputs as the
  brief's CSV rows (``dict[str, str]``, section 3 columns), for fuzzing the readers end to end;
- :func:`policy_texts` / :func:`drawn_policies` — random small well-typed policies (random thresholds
  and strictness, band orders, severities, several band sets of one to three bands and their bases,
  connectives of two to four operands, band conditions padded or written as disjunctions, venue rules,
  exceptions, exemptions, scope, denominators, quorum, schedules with one-day phases, properties,
  comments and odd layout), to test the printer, the checker and the evaluator on policies nobody
  wrote; :func:`refining_policies` — a random policy and one that imports and refines it, keeping or
  changing on purpose what it refines (with the verdict ``refinement_keeps`` must give).

Every value stays inside the domain the readers (and so the Z3 encoding) admit: years in 1900…2100,
counts ≥ 0 with ``high + confidence + low ≤ collected ≤ issued``, ``issued ≤ present ≤ convened``
when the quorum columns are given, ``issued`` and ``convened`` at most ``members`` when it is given,
and the base ≥ 1 (the bundled invariants, :data:`dsl.ir.DEFAULT_INVARIANTS`), so a pinned input
always has a model.
Exact arithmetic only: thresholds are :class:`~fractions.Fraction` values and counts are integers.

Use from a test::

    from hypothesis import given
    from checker.strategies import inputs, profile
    prof = profile(load_policy("my.policy"))

    @given(inputs(prof))
    def test_my_policy(inp): ...
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType

from hypothesis import strategies as st

from checker.decode import RosterRow, TallyRow
from checker.encode import Domain, all_facts
from dsl import ir
from dsl.evaluator import Cadre, Tally
from dsl.values import MAX_WHOLE

#: The largest count the strategies draw (the schema has no bound; the brief asks for 10**12).
MAX_COUNT = 10**12
#: The venue name used for tallies when a policy declares no venue (band sets are still fuzzed).
NO_VENUE = "_"


# ---- what a policy offers to fuzz -----------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What the strategies draw from, read off a policy's IR."""

    policy: ir.Policy
    year: int
    levels: tuple[str, ...]
    titles: tuple[str, ...]
    title_sets: tuple[tuple[str, ...], ...]  # from holds(...) atoms and scope rules, each sorted
    facts: tuple[ir.FactDecl, ...]  # the policy's and its imports' (all_facts)
    year_values: tuple[int, ...]  # interesting values of year facts (in the domain)
    int_values: tuple[int, ...]  # interesting values of int facts (in the domain)
    venues: tuple[str, ...]  # the venues to draw tallies for (NO_VENUE when the policy has none)
    thresholds: tuple[Fraction, ...]  # every share threshold, with 0 and 1 (0 low, all low)
    quorum: Fraction | None
    denominator: str  # the default base (the share's denominator, else collected)
    bases: tuple[tuple[str, str], ...] = ()  # (venue, the base its band set counts over) where it differs
    members: bool = False  # some band set counts over members: draw the members column too

    def base_at(self, venue: str) -> str:
        """What the share at ``venue`` is counted over (:meth:`dsl.ir.Policy.base_at`)."""
        for v, b in self.bases:
            if v == venue:
                return b
        return self.denominator


def _walk(e: ir.Expr) -> Iterator[ir.Expr]:
    yield e
    match e:
        case ir.Not(operand=o):
            yield from _walk(o)
        case ir.And(operands=ops) | ir.Or(operands=ops):
            for o in ops:
                yield from _walk(o)
        case _:
            pass


def _exprs(p: ir.Policy) -> Iterator[ir.Expr]:
    for x in p.exemptions:
        yield x.when
        if x.refined is not None:
            yield x.refined.when
    for r in p.venue_rules:
        yield r.when
        for it in r.items:
            if it.when is not None:
                yield it.when
    for pr in p.properties:
        yield pr.expr


def _band_sets(p: ir.Policy) -> list[ir.BandSet]:
    out = []
    for bs in p.band_sets:
        out.append(bs)
        if bs.refined is not None:
            out.append(bs.refined)
    return out


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


_DOMAIN = Domain()


def profile(policy: ir.Policy, year: int | None = None, domain: Domain = _DOMAIN) -> Profile:
    """Read the policy's levels, titles, title sets, facts, thresholds, quorum and denominator.

    ``year`` defaults to the policy's vote year (2023 when the policy states none)."""
    y = year if year is not None else (policy.vote_year or 2023)
    sets: dict[tuple[str, ...], None] = {}
    int_consts: set[int] = set()
    for e in _exprs(policy):
        for atom in _walk(e):
            match atom:
                case ir.Holds(titles=ts) if ts:
                    sets[tuple(sorted(ts))] = None
                case ir.IntCmp(left=a, right=b):
                    for t in (a, b):
                        if isinstance(t, ir.IntConst):
                            int_consts.add(t.value)
                case _:
                    pass
    for s in policy.scope:
        if s.titles:
            sets[tuple(sorted(s.titles))] = None
    titles = policy.title_codes()
    if not sets and titles:
        sets[tuple(titles)] = None
    ylo, yhi = domain.years
    years = {y - 1, y, y + 1, ylo, yhi} | {c + d for c in int_consts for d in (-1, 0, 1)}
    ilo, ihi = domain.ints
    ints = {ilo, ilo + 1, ihi} | {c + d for c in int_consts for d in (-1, 0, 1)}
    thresholds = {Fraction(0), Fraction(1)}
    for bs in _band_sets(policy):
        for b in bs.bands:
            for atom in _walk(b.when):
                if isinstance(atom, ir.ShareCmp):
                    thresholds.add(atom.value)
    return Profile(
        policy, y, policy.level_codes() or ("",), titles, tuple(sets), all_facts(policy),
        tuple(sorted(v for v in years if ylo <= v <= yhi)), tuple(sorted(v for v in ints if ilo <= v <= ihi)),
        policy.venue_codes() or (NO_VENUE,), tuple(sorted(thresholds)),
        policy.quorum.ratio if policy.quorum else None,
        policy.default_base(),
        tuple((v, policy.base_at(v)) for v in policy.venue_codes() if policy.base_at(v) != policy.default_base()),
        any(policy.base_of(bs) == "members" for bs in policy.band_sets),
    )


# ---- roster rows ----------------------------------------------------------------------------------
#
# Hypothesis spends ~20 µs per draw; to check 10**4 inputs in seconds an input takes about twenty
# draws, each an index into a short list of values ordered from the plain case to the odd one, so
# that a failure shrinks towards the plain case: the first level, one title, facts false or empty,
# the exact threshold with small counts, whole ballots, no quorum columns, a tally at every venue.

_INT = {n: st.integers(0, n - 1) for n in range(1, 300)}


def _index(draw: st.DrawFn, n: int) -> int:
    """An index in ``range(n)`` (strategies cached: building one per draw costs as much as the draw)."""
    strategy = _INT.get(n)
    return draw(strategy if strategy is not None else st.integers(0, n - 1))


def _picks(prof: Profile) -> tuple[str, ...]:
    """One entry per (title set, member): drawing a few entries combines titles of a few rule sets."""
    out = [t for group in prof.title_sets for t in group]
    out += [t for t in prof.titles if t not in out]
    return tuple(out)


def _fact_values(prof: Profile, f: ir.FactDecl) -> tuple[tuple[bool | int | None, ...], tuple[int, ...]]:
    """The values a fact takes: the interesting ones (drawn first), and values spread over the domain."""
    match f.type:
        case "bool":
            return (False, True), ()
        case "year":
            return (None, *prof.year_values), tuple(1900 + i for i in range(201))
        case "int":
            return (None, *prof.int_values), tuple(i * 5000 for i in range(201))
        case _:
            raise AssertionError(f"unknown fact type {f.type}")


#: The titles a cadre holds, by index: (a title of the registry, how many more from the rule title sets) —
#: one title first (the plain case), then none, then one with one, two or three more (combinations).
_TITLE_SHAPES = ((1, 0), (0, 0), (1, 1), (1, 2), (1, 3))


@st.composite
def title_sets(draw: st.DrawFn, prof: Profile) -> frozenset[str]:
    """Titles held: none, or any one title of the policy (uniformly: every scope rule is reached)
    with up to three more, each one title of a rule title set (every exception is triggered)."""
    picks = _picks(prof)
    if not picks:
        return frozenset()
    first, more = _TITLE_SHAPES[_index(draw, len(_TITLE_SHAPES))]
    held = {prof.titles[_index(draw, len(prof.titles))]} if first else set()
    held.update(picks[_index(draw, len(picks))] for _ in range(more))
    return frozenset(held)


@st.composite
def cadres(draw: st.DrawFn, prof: Profile, cadre_id: str = "fz1") -> Cadre:
    """A roster row the policy admits: a level, 0…4 titles (one of each of a few rule title sets),
    each fact at an interesting value or anywhere in its domain (see the module docstring)."""
    level = prof.levels[_index(draw, len(prof.levels))]
    titles = draw(title_sets(prof))
    facts: dict[str, bool | int] = {}
    for f in prof.facts:
        values, spread = _fact_values(prof, f)
        i = _index(draw, len(values) + (1 if spread else 0))
        v = values[i] if i < len(values) else spread[_index(draw, len(spread))]
        if v is not None:
            facts[f.name] = v
    return Cadre(cadre_id, level, titles, facts)


# ---- tallies ----------------------------------------------------------------------------------------

#: issued beyond collected (for a share over ballots issued: which count collected is)
_EXTRA = (0, 1, 2, 1000, MAX_COUNT)
#: (high, confidence) among the collected ballots that are not low, by index
_SPLITS = ("all high", "all confidence", "half and half", "blank ballots")
#: quorum columns by index: 0–4 none, 5–7 at the quorum ratio ±1, 8 anywhere, 9 no tally at all
_QUORUM = ("none",) * 5 + ("ratio",) * 3 + ("any", "absent")


def _large(draw: st.DrawFn, q: int, large: bool) -> int:
    """k for a count k·q: small (1…6), or anything up to 10**12 / q."""
    return draw(st.integers(1, max(1, MAX_COUNT // q))) if large else 1 + _index(draw, 6)


def _present_at_least(quorum: tuple[int, int], issued: int, ratio: Fraction | None, delta: int | None) -> tuple[int, int]:
    """The quorum columns ``(convened, present)`` raised, if need be, so that every ballot issued went to
    someone present (``issued ≤ present ≤ convened``). At the quorum ratio (``delta``: the drawn ±1), the
    multiple of the ratio grows until one vote below it still covers ``issued``: the session stays at the
    ratio ±1; otherwise both shift up by the same number, so the absent count stays what was drawn."""
    convened, present = quorum
    if present >= issued:
        return quorum
    if ratio is not None and delta is not None and ratio.numerator > 0:
        k = max(convened // ratio.denominator, -(-(issued + 1) // ratio.numerator))
        c = ratio.denominator * k
        if issued <= c <= MAX_WHOLE:
            return c, _clamp(ratio.numerator * k + delta, issued, c)
    return convened + issued - present, issued


def tally(draw: st.DrawFn, prof: Profile, venue: str) -> Tally | None:
    """One valid tally row at ``venue``, or None (no tally: about one venue in ten). The schema's
    constraints hold and the denominator is ≥ 1."""
    qmode = _QUORUM[_index(draw, len(_QUORUM))]
    if qmode == "absent":
        return None
    n = len(prof.thresholds)
    sel = _index(draw, 2 * (3 * n + 1))  # (threshold, delta 0/-1/+1) or anywhere; then small or large counts
    large, sel = sel >= 3 * n + 1, sel % (3 * n + 1)
    if sel == 3 * n:  # anywhere
        d = draw(st.integers(1, MAX_COUNT)) if large else 1 + _index(draw, 12)
        low = draw(st.integers(0, d))
    else:
        t = prof.thresholds[sel // 3]
        k = _large(draw, t.denominator, large)
        d = t.denominator * k
        low = _clamp(t.numerator * k + (0, -1, 1)[sel % 3], 0, max(d, t.numerator * k + 1))
    den = prof.base_at(venue)
    quorum, ratio, delta = None, None, None
    if qmode != "none" or den in ("convened", "present"):
        r = prof.quorum
        if qmode == "ratio" and r is not None:
            k = _large(draw, r.denominator, large)
            convened = r.denominator * k
            ratio, delta = r, (0, -1, 1)[_index(draw, 3)]
            quorum = (convened, _clamp(r.numerator * k + delta, 0, convened))
        else:
            convened = _index(draw, 61)
            quorum = (convened, _index(draw, convened + 1))
    extra_i, split = divmod(_index(draw, len(_EXTRA) * len(_SPLITS)), len(_SPLITS))
    extra = _EXTRA[extra_i]
    # the schema: low ≤ collected ≤ issued ≤ present ≤ convened (where given), issued and convened ≤ members
    match den:
        case "collected":
            collected, low = d, min(low, d)
            issued = collected + extra
            if quorum is not None:
                quorum = _present_at_least(quorum, issued, ratio, delta)
        case "issued":
            issued, low = d, min(low, d)
            collected = (issued, low, (low + issued) // 2, issued, issued)[extra_i]
            if quorum is not None:
                quorum = _present_at_least(quorum, issued, ratio, delta)
        case "convened" | "present":  # everything counted is at most the people present: low ≤ present ≤ d
            low = min(low, d)
            convened, present = quorum if quorum is not None else (d, d)
            quorum = (d, max(low, min(present, d))) if den == "convened" else (max(convened, d), d)
            collected = min(low + extra % 8, quorum[1])
            issued = min(collected + extra, quorum[1])
        case "members":  # every ballot issued comes from a member: low ≤ collected ≤ issued ≤ members = d
            low = min(low, d)
            issued = max(low, d - (0, 1, 2, d // 2, 0)[extra_i])
            collected = max(low, (issued, low, (low + issued) // 2, issued, issued)[extra_i])
            if quorum is not None:
                convened, present = min(quorum[0], d), min(quorum[1], quorum[0], d)
                # present raised to the ballots issued, the absent count kept while the members allow it
                quorum = (convened, present) if present >= issued else (min(d, convened + issued - present), issued)
        case _:
            raise AssertionError(f"unknown base {den}")
    rest = collected - low
    match _SPLITS[split]:
        case "all high":
            high, confidence = rest, 0
        case "all confidence":
            high, confidence = 0, rest
        case "half and half":
            high, confidence = rest // 2, rest - rest // 2
        case _:
            high, confidence = rest // 3, 0
    convened_v, present_v = quorum if quorum is not None else (None, None)
    members = None
    if den == "members":
        members = d
    elif prof.members:  # the members column, absent or at least what was issued and convened
        i = _index(draw, 4)
        members = None if i < 2 else max(issued, convened_v or 0) + (0, 0, 1, 1000)[i]
    if members is None:
        return Tally(venue, issued, collected, high, confidence, low, convened_v, present_v)
    return Tally(venue, issued, collected, high, confidence, low, convened_v, present_v, members)


@st.composite
def tallies(draw: st.DrawFn, prof: Profile, venue: str) -> Tally:
    """One valid tally at ``venue``: shares at/around every threshold, 0 low, all low, counts to 10**12."""
    while True:
        t = tally(draw, prof, venue)
        if t is not None:
            return t


# ---- whole inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FuzzInput:
    """One cadre and the tallies of its venues (at most one per venue; a venue may have none)."""

    cadre: Cadre
    tallies: tuple[Tally, ...]

    @cached_property
    def at(self) -> Mapping[str, Tally]:
        """The tallies by venue (computed once; read-only)."""
        return MappingProxyType({t.venue: t for t in self.tallies})

    def by_venue(self) -> dict[str, Tally]:
        return dict(self.at)


@st.composite
def inputs(draw: st.DrawFn, prof: Profile, cadre_id: str = "fz1") -> FuzzInput:
    """A roster row and a tally for each venue of the policy (about one venue in ten left without)."""
    cadre = draw(cadres(prof, cadre_id))
    rows = [t for v in prof.venues if (t := tally(draw, prof, v)) is not None]
    return FuzzInput(cadre, tuple(rows))


# ---- the brief's CSV rows -----------------------------------------------------------------------------


def roster_row(prof: Profile, cadre: Cadre) -> RosterRow:
    """The cadre as a roster row (the brief's columns; facts in the policy's order, empty = None)."""
    titles = tuple(t for t in prof.titles if t in cadre.titles) + tuple(sorted(cadre.titles - set(prof.titles)))
    facts = tuple((f.name, cadre.facts.get(f.name)) for f in prof.facts)
    return RosterRow(cadre.cadre_id, cadre.level, titles, facts, cadre.full_name, cadre.unit)


def tally_row(cadre_id: str, t: Tally) -> TallyRow:
    members = getattr(t, "members", None)
    row = TallyRow(cadre_id, t.venue, t.issued, t.collected, t.high, t.confidence, t.low, t.convened, t.present)
    return row if members is None else replace(row, members=members)


def roster_rows(prof: Profile) -> st.SearchStrategy[dict[str, str]]:
    """Roster CSV rows (``dict`` of the brief's columns) the policy admits."""
    return cadres(prof).map(lambda c: roster_row(prof, c).cells())


def tally_rows(prof: Profile, cadre_id: str = "fz1") -> st.SearchStrategy[dict[str, str]]:
    """Tallies CSV rows (``dict`` of the brief's columns, ``convened``/``present`` empty when absent)."""
    return st.sampled_from(prof.venues).flatmap(lambda v: tallies(prof, v)).map(lambda t: tally_row(cadre_id, t).cells())


# ---- random policies ------------------------------------------------------------------------------------
#
# A policy is drawn as a small description first (names, band sets as cuts and strictness, exemptions,
# max_venues), then written out with random layout and random but equivalent *shapes*: a condition is
# a connective of two to four operands, a band condition may be padded with an operand that always
# holds or written as three-operand disjunctions. The description is what a refining policy is drawn
# from (:func:`refining_policies`): the same band sets kept, moved, renamed, flipped or cut short.

_LABELS = ("Bí thư", "Phó Chủ tịch HĐND", "Giám đốc sở", "Trưởng ban \"Tổ chức\"", "Ủy viên Ban Thường vụ",
           "Cấp phó đơn vị sự nghiệp trực thuộc cấp ủy, UBND — một nhãn dài để bộ định dạng phải ngắt dòng ở đúng"
           " chỗ có dấu cách, và giữ nguyên văn bản khi đọc lại", "đường dẫn C:\\thư mục")
_TAGS = ("tag_a", "tag_b")
_VENUES = ("cap_uy", "hdnd", "noi_cong_tac")
_NICE = (Fraction(1, 2), Fraction(2, 3), Fraction(1, 3), Fraction(3, 5), Fraction(1, 4), Fraction(3, 4),
         Fraction(51, 100), Fraction(1, 8))
#: how many operands a connective of a random condition has (two, or more: the evaluator compiles
#: two operands and three or more differently)
_ARITY = (2, 3, 2, 4, 3)


@dataclass(frozen=True)
class _Names:
    levels: tuple[str, ...]
    titles: tuple[str, ...]
    tags: tuple[str, ...]
    venues: tuple[str, ...]
    int_fact: bool
    tagged: tuple[tuple[str, ...], ...] = ()  # the tags of each title


@dataclass(frozen=True)
class _SetSpec:
    """A band set as drawn: band ``i`` lies between ``cuts[i-1]`` and ``cuts[i]``, the lower end
    compared with ``lower[i]`` (``>``/``>=``), the upper end with ``upper[i]`` (``<``/``<=``); written
    in the order ``order``, with ``codes`` and ``severities``."""

    name: str
    cuts: tuple[Fraction, ...]
    lower: tuple[str, ...]  # per band ('' for the first)
    upper: tuple[str, ...]  # per band ('' for the last)
    severities: tuple[int, ...]
    order: tuple[int, ...]
    codes: tuple[str, ...]
    base: str | None = None  # ``over FIELD``; None: the policy's share denominator

    @property
    def size(self) -> int:
        return len(self.cuts) + 1


@dataclass(frozen=True)
class DrawnPolicy:
    """A random policy: its text and what it was drawn from (for :func:`refining_policies`)."""

    text: str
    names: _Names
    year: int
    denominator: str
    sets: tuple[_SetSpec, ...]
    exemptions: tuple[str, ...]  # the condition of each exemption x0, x1, …
    max_venues: int | None
    #: for a refining policy: whether ``refinement_keeps`` must hold, and why (what was changed)
    keeps: bool | None = None
    changes: tuple[str, ...] = ()


def _decimal(f: Fraction, places: int) -> str:
    digits = str(f.numerator * 10**places // f.denominator).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def _ratio_text(draw: st.DrawFn, f: Fraction) -> str:
    """A threshold written as a ratio (2/3), a percentage (50%, 12.5%) or a decimal (0.5)."""
    forms = [f"{f.numerator}/{f.denominator}"]
    places = next((k for k in (1, 2, 3) if (f * 10**k).denominator == 1), None)
    if places is not None:
        forms.append(_decimal(f, places))
    pct = f * 100
    if pct.denominator == 1:
        forms.append(f"{pct.numerator}%")
    elif (pct * 10).denominator == 1:
        forms.append(_decimal(pct, 1) + "%")
    return draw(st.sampled_from(forms))


def _name_list(draw: st.DrawFn, pool: tuple[str, ...]) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))


def _condition(draw: st.DrawFn, n: _Names, ctx: str, depth: int = 0) -> str:
    """A well-typed condition in context ``roster``, ``venue`` or ``property``; ``and``/``or`` take two
    to four operands."""
    atoms = ["holds", "retirement", "year", "level", "const"]
    if n.int_fact:
        atoms.append("int")
    if ctx in ("venue", "property"):
        atoms += ["voted", "status", "in_scope", "exempt"]
    if ctx == "property":
        atoms += ["venue", "count"]
    combos = ["not", "and", "or", "implies"] if depth < 2 else []
    kind = draw(st.sampled_from(atoms + combos))
    cmp = st.sampled_from(("=", "!=", "<", "<=", ">", ">="))
    match kind:
        case "holds":
            return f"holds({', '.join(_name_list(draw, n.titles + n.tags))})"
        case "retirement":
            return "retirement_notice"
        case "year":
            rhs = draw(st.sampled_from(("vote_year", "2020", "2023", "2024")))
            return f"appointed_year {draw(cmp)} {rhs}"
        case "int":
            return f"so_nam {draw(cmp)} {draw(st.integers(0, 10))}"
        case "level":
            return f"level {draw(st.sampled_from(('=', '!=')))} {draw(st.sampled_from(n.levels))}"
        case "const":
            return draw(st.sampled_from(("true", "false")))
        case "voted":
            return "voted"
        case "status":
            return f"status {draw(st.sampled_from(('=', '!=')))} {draw(st.sampled_from(ir.STATUSES))}"
        case "in_scope":
            return "in_scope"
        case "exempt":
            return "exempt"
        case "venue":
            return f"venue({draw(st.sampled_from(n.venues))})"
        case "count":
            return f"venue_count {draw(cmp)} {draw(st.integers(0, 3))}"
        case "not":
            return f"not ({_condition(draw, n, ctx, depth + 1)})"
        case "and" | "or":
            k = draw(st.sampled_from(_ARITY))
            return f" {kind} ".join(f"({_condition(draw, n, ctx, depth + 1)})" for _ in range(k))
        case "implies":
            a, b = _condition(draw, n, ctx, depth + 1), _condition(draw, n, ctx, depth + 1)
            return f"({a}) implies ({b})"
        case _:
            raise AssertionError(kind)


def _cite(draw: st.DrawFn) -> str:
    return f'cite T "Điều {draw(st.integers(1, 30))}" "{draw(st.sampled_from(_LABELS)).replace(chr(92), "/").replace(chr(34), "")}"'


def _text(draw: st.DrawFn) -> str:
    label = draw(st.sampled_from(_LABELS))
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _set_spec(draw: st.DrawFn, name: str, over: bool = False) -> _SetSpec:
    """A band set of one to three bands: random thresholds, strictness at each end, order, severities,
    and a base (``over FIELD``; always with ``over``)."""
    k = draw(st.sampled_from((2, 3, 1, 2, 3)))
    pool = st.one_of(st.sampled_from(_NICE), st.fractions(min_value=Fraction(1, 1000), max_value=Fraction(999, 1000), max_denominator=1000))
    cuts = tuple(sorted(set(draw(st.lists(pool, min_size=k - 1, max_size=k - 1)))))
    k = len(cuts) + 1
    lower = tuple("" if i == 0 else draw(st.sampled_from((">", ">="))) for i in range(k))
    upper = tuple("" if i == k - 1 else draw(st.sampled_from(("<", "<="))) for i in range(k))
    severities = tuple(range(k)) if draw(st.booleans()) else tuple(draw(st.permutations(list(range(k)))))
    order = tuple(range(k)) if draw(st.booleans()) else tuple(draw(st.permutations(list(range(k)))))
    base = draw(st.sampled_from(ir.BASES if over else (None, None, None, None, *ir.BASES)))
    return _SetSpec(name, cuts, lower, upper, severities, order, tuple(f"m{i}" for i in range(k)), base)


#: a comparison with the share written as a disjunction of three operands that says the same
#: (thresholds lie strictly between 0 and 1, and a share is never below 0)
_AS_DISJUNCTION = {
    ">": "(share > {t} or false or share > 1)", ">=": "(share = {t} or share > {t} or false)",
    "<": "(share < {t} or share < 0 or false)", "<=": "(share < {t} or share = {t} or false)",
}


def _band_condition(draw: st.DrawFn, spec: _SetSpec, i: int) -> str:
    """Band ``i``'s condition, in one of three equivalent shapes: plain (``a and b``), padded with an
    operand that always holds (``share >= 0 and a and b``), or each comparison as a disjunction of
    three operands."""
    cmps = []
    if i > 0:
        cmps.append((spec.lower[i], spec.cuts[i - 1]))
    if i < spec.size - 1:
        cmps.append((spec.upper[i], spec.cuts[i]))
    shape = draw(st.sampled_from(("plain", "padded", "disjunctions")))
    if not cmps:
        return draw(st.sampled_from(("share >= 0", "true", "share >= 0%", "share >= 0 or share < 0 or false",
                                     "not (share < 0) and true and share >= 0")))
    if shape == "disjunctions":
        parts = [_AS_DISJUNCTION[op].format(t=_ratio_text(draw, t)) for op, t in cmps]
    else:
        parts = [f"share {op} {_ratio_text(draw, t)}" for op, t in cmps]
        if shape == "padded":
            parts.insert(draw(st.integers(0, len(parts))), draw(st.sampled_from(("share >= 0", "true", "not (share < 0)"))))
    return " and ".join(parts)


def _bands(draw: st.DrawFn, spec: _SetSpec, refines: str | None = None) -> list[str]:
    lines = [f"bands {spec.name}" + (f" refines {refines}" if refines else "") + (f" over {spec.base}" if spec.base else "") + " {"]
    for i in spec.order:
        lines.append(f"  band {spec.codes[i]} {_text(draw)} when {_band_condition(draw, spec, i)} severity {spec.severities[i]}")
        for _ in range(draw(st.integers(0, 2))):
            lines.append(f"    {draw(st.sampled_from(('must', 'may')))} {_text(draw)}")
        lines.append(f"    {_cite(draw)}")
    lines.append("}")
    return lines


def _refined_set(draw: st.DrawFn, spec: _SetSpec, denominator: str) -> tuple[_SetSpec, str | None]:
    """A band set that refines ``spec``: the same (perhaps with other severities, its base written out or
    left to the share's ``denominator``, or written otherwise), or changed so that some valid tally is
    decided a different band (what was changed; None: kept)."""
    k = spec.size
    kinds = ["same", "severities", "base"] + (["moved", "flipped", "dropped", "rebased", "rebased"] if k >= 2 else []) + ["renamed"]
    kind = draw(st.sampled_from(kinds))
    base = spec.base or denominator
    match kind:
        case "same":
            return spec, None
        case "base":
            return replace(spec, base=draw(st.sampled_from((None, base))) if base == denominator else base), None
        case "rebased":
            other = draw(st.sampled_from([b for b in ir.BASES if b != base]))
            return replace(spec, base=other), f"band set {spec.name} counted over {other}, not {base}"
        case "severities":
            return replace(spec, severities=tuple(draw(st.permutations(list(spec.severities))))), None
        case "renamed":
            i = draw(st.integers(0, k - 1))
            codes = tuple(f"r{j}" if j == i else c for j, c in enumerate(spec.codes))
            return replace(spec, codes=codes), f"band {spec.codes[i]} of {spec.name} renamed r{i}"
        case "moved":
            i = draw(st.integers(0, k - 2))
            lo = spec.cuts[i - 1] if i > 0 else Fraction(0)
            hi = spec.cuts[i + 1] if i + 2 < k else Fraction(1)
            new = (spec.cuts[i] + (hi if draw(st.booleans()) else lo)) / 2
            return replace(spec, cuts=spec.cuts[:i] + (new,) + spec.cuts[i + 1:]), f"threshold {spec.cuts[i]} of {spec.name} moved to {new}"
        case "flipped":
            i = draw(st.integers(0, k - 2))
            flip = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
            upper = tuple(flip[o] if j == i else o for j, o in enumerate(spec.upper))
            lower = tuple(flip[o] if j == i + 1 else o for j, o in enumerate(spec.lower))
            return replace(spec, upper=upper, lower=lower), f"strictness at {spec.cuts[i]} of {spec.name} flipped"
        case _:
            i = draw(st.integers(0, k - 1))
            return replace(spec, order=tuple(j for j in spec.order if j != i)), f"band {spec.codes[i]} of {spec.name} dropped"


def _refined_exemption(draw: st.DrawFn, cond: str, name: str) -> tuple[str, str | None]:
    """An exemption that refines one whose condition is ``cond``: the same condition (as written, or
    rewritten equivalently), or its negation (which differs for every roster row)."""
    match draw(st.sampled_from(("same", "negated", "or false", "and true", "negated", "not not"))):
        case "same":
            return cond, None
        case "or false":
            return f"({cond}) or (false) or (false)", None
        case "and true":
            return f"(true) and ({cond}) and (true)", None
        case "not not":
            return f"not (not ({cond}))", None
        case _:
            return f"not ({cond})", f"exemption {name} negated"


def _policy(draw: st.DrawFn, base: DrawnPolicy | None = None, evaluable: bool = False, over: bool = False) -> DrawnPolicy:
    """A random policy; with ``base``, one that imports it (``tw``) and refines its band sets and exemptions."""
    if base is None:
        year = draw(st.integers(2020, 2026))
        levels = draw(st.sampled_from((("province",), ("district",), ("province", "district"))))
        n_titles = draw(st.integers(1, 3))
        titles = tuple(f"t{i}" for i in range(n_titles))
        venues = tuple(draw(st.permutations(_VENUES))[: draw(st.integers(1, 3))])
        tagged = tuple(tuple(draw(st.lists(st.sampled_from(_TAGS), max_size=2, unique=True))) for _ in titles)
        n = _Names(levels, titles, tuple(sorted({g for gs in tagged for g in gs})), venues, draw(st.booleans()), tagged)
    else:
        year, n = base.year, base.names  # the same names, and the same tags (a tag stands for its titles)
    out: list[str] = []
    changes: list[str] = []

    def item(*lines: str) -> None:
        if draw(st.integers(0, 5)) == 0:
            out.append(f"# {draw(st.sampled_from(_LABELS))}")
        out.extend(lines)
        out.append("" if draw(st.integers(0, 3)) else "\n")

    item("policy rnd {", '  name "Chính sách ngẫu nhiên" issuer "Hypothesis"', f"  date {year}-01-0{draw(st.integers(1, 9))}",
         f"  vote_year {year}", "}")
    item('document T "Văn bản thử nghiệm"')
    if base is not None:
        item('import "base.policy" as tw')
    item("levels {", *[f"  {lv} {_text(draw)}" for lv in n.levels], "}")
    item('fact retirement_notice: bool "Đã có thông báo chờ nghỉ hưu"')
    item('fact appointed_year: year "Năm được bổ nhiệm"')
    if n.int_fact:
        item('fact so_nam: int "Số năm giữ chức vụ"')
    for t, tags in zip(n.titles, n.tagged):
        tag_text = f" tags [{', '.join(tags)}]" if tags else ""
        item(f"title {t} {_text(draw)}{tag_text}")
    if draw(st.booleans()):
        item(f'define d_kiem "Điều kiện đặt tên" = {_condition(draw, n, "roster", 1)}')
    scope_rules = 0
    for lv in n.levels:
        for _ in range(draw(st.integers(1, 2))):
            item(f"scope s{scope_rules} at {lv}: {', '.join(_name_list(draw, n.titles + n.tags))}", f"  {_cite(draw)}")
            scope_rules += 1
    exemptions = []
    if base is None:
        for i in range(draw(st.integers(0, 2))):
            cond = _condition(draw, n, "roster")
            exemptions.append(cond)
            item(f"exempt x{i} when {cond}", f"  reason {_text(draw)}", f"  {_cite(draw)}")
    else:
        for i, cond in enumerate(base.exemptions):
            mine, change = _refined_exemption(draw, cond, f"x{i}")
            changes += [change] if change else []
            exemptions.append(mine)
            item(f"exempt x{i} refines tw.x{i} when {mine}", f"  reason {_text(draw)}", f"  {_cite(draw)}")
    for v in n.venues:
        item(f"venue {v} {_text(draw)}")
    max_venues = None
    if base is None and draw(st.booleans()):
        max_venues = draw(st.sampled_from((1, 1, 2, 3)))
    elif base is not None and base.max_venues is not None:
        max_venues = draw(st.sampled_from((None, base.max_venues, base.max_venues + 1, max(1, base.max_venues - 1))))
        if max_venues is not None and max_venues > base.max_venues:
            changes.append(f"max_venues {max_venues} above the import's {base.max_venues}")
    if max_venues is not None:
        item(f"max_venues {max_venues} {_cite(draw)}")
    n_rules = draw(st.integers(1, 3))
    for i in range(n_rules):
        over = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
        head = f"venues r{i}" + (f" overrides {', '.join(f'r{j}' for j in over)}" if over else "")
        items = []
        for _ in range(draw(st.integers(1, 3))):
            v = draw(st.sampled_from(n.venues))
            match draw(st.sampled_from(("always", "when", "otherwise"))):
                case "always":
                    items.append(f"  {v}")
                case "when":
                    items.append(f"  {v} when {_condition(draw, n, 'venue', 1)}")
                case _:
                    items.append(f"  {v} otherwise")
        when = draw(st.sampled_from(("voted", "in_scope and not exempt", None)))
        if when is None:
            when = _condition(draw, n, "venue", 1)
        item(f"{head} when {when} {{", *items, "}", f"  {_cite(draw)}")
    item("ballot {", '  high "Tín nhiệm cao"', '  confidence "Tín nhiệm"', '  low "Tín nhiệm thấp"', "}", f"  {_cite(draw)}")
    denominator = base.denominator if base is not None else draw(st.sampled_from(ir.DENOMINATORS))
    item(f"share = low / {denominator} {_cite(draw)}")
    if draw(st.booleans()):
        op = draw(st.sampled_from((">=", ">", "≥")))
        item(f"quorum present {op} {_ratio_text(draw, draw(st.sampled_from(_NICE)))} of convened", f"  {_cite(draw)}")
    if base is None:
        sets = [_set_spec(draw, f"b{i}", over) for i in range(draw(st.sampled_from((1, 2, 2, 3))))]
        for spec in sets:
            item(*_bands(draw, spec))
    else:
        sets = []
        for spec in base.sets:
            mine_set, change = _refined_set(draw, spec, denominator)
            changes += [change] if change else []
            sets.append(mine_set)
            item(*_bands(draw, mine_set, f"tw.{spec.name}"))
    names = [s.name for s in sets]
    assignment: dict[str, list[str]] = {}
    for v in n.venues:
        choice = draw(st.sampled_from(names if evaluable else names + [""]))
        if choice:
            assignment.setdefault(choice, []).append(v)
    for s, vs in assignment.items():
        item(f"apply {s} at {', '.join(vs)} {_cite(draw)}")
    if draw(st.booleans()):
        item(f"two_venues tong_the {_text(draw)} {_cite(draw)}")
    if draw(st.booleans()):
        item("schedule {", *_phases(draw, year), "}")
    for i in range(draw(st.integers(0, 2))):
        item(f"property q{i} {_text(draw)}:", f"  {_condition(draw, n, 'property')}")
    if draw(st.booleans()):
        roster = f"level {draw(st.sampled_from(n.levels))} titles {', '.join(_name_list(draw, n.titles))} retirement_notice false"
        tally = f"tally {n.venues[0]} {{ issued 9 collected 9 high 1 confidence 2 low 6 }}"
        item(f"example e0 {_text(draw)} {{", f"  roster {{ {roster} }}", f"  {tally}",
             f"  expect {{ status {draw(st.sampled_from(ir.STATUSES))} }}", "}")
    return DrawnPolicy("\n".join(out) + "\n", n, year, denominator, tuple(sets), tuple(exemptions), max_venues,
                       None if base is None else not changes, tuple(changes))


#: how many days a phase lasts after its first (0: a phase of one day, ``from D by D``)
_SPANS = (0, 0, 1, 7, 30, 100)


def _phases(draw: st.DrawFn, year: int) -> list[str]:
    """One to three phases: ``from`` (or not) and ``by`` dates, some of one day, some ``after`` an earlier
    phase and on the same days as it (feasible only if a phase may start the day the other ends)."""
    lines: list[str] = []
    prev: tuple[_dt.date, _dt.date] | None = None
    for i in range(draw(st.integers(1, 3))):
        if prev is not None and draw(st.integers(0, 2)) == 0:
            start = end = prev[1]  # the day the previous phase ends
        else:
            start = _dt.date(year, 1, 1) + _dt.timedelta(days=draw(st.integers(0, 200)))
            end = start + _dt.timedelta(days=draw(st.sampled_from(_SPANS)))
        lines.append(f"  phase ph{i} {_text(draw)}")
        if i and draw(st.booleans()):
            lines.append(f"    after ph{draw(st.integers(0, i - 1))}")
        if draw(st.integers(0, 2)):
            lines.append(f"    from {start.isoformat()}")
        lines.append(f"    by {end.isoformat()}")
        lines.append(f"    {_cite(draw)}")
        prev = (start, end)
    return lines


@st.composite
def drawn_policies(draw: st.DrawFn, evaluable: bool = False, over: bool = False) -> DrawnPolicy:
    """A random small well-typed policy (standalone: no imports) and what it was drawn from.
    ``evaluable``: every venue has a band set applied (so ``tinnhiem evaluate`` accepts it); ``over``:
    every band set names its base (any of :data:`dsl.ir.BASES`, often not the share's denominator)."""
    return _policy(draw, None, evaluable, over)


def policy_texts(evaluable: bool = False, over: bool = False) -> st.SearchStrategy[str]:
    """The text of a random small well-typed policy (standalone: no imports; see :func:`drawn_policies`)."""
    return drawn_policies(evaluable, over).map(lambda d: d.text)


@st.composite
def refining_policies(draw: st.DrawFn) -> tuple[DrawnPolicy, DrawnPolicy]:
    """A random policy (to be saved as ``base.policy``) and one that imports it as ``tw`` and refines each
    of its band sets and exemptions — keeping them (as written, or written otherwise), or changing them
    (a threshold moved, the strictness at a threshold flipped, a band renamed or dropped, an exemption
    negated) — and may declare a ``max_venues`` below, equal to or above the import's. The second's
    ``keeps`` says whether ``refinement_keeps`` must hold; ``changes`` what breaks it."""
    base = draw(drawn_policies())
    return base, _policy(draw, base)
