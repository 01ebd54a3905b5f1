"""Hypothesis strategies for fuzzing a policy: its inputs, and random policies.

Takes a :class:`dsl.ir.Policy` (and the vote year); produces Hypothesis strategies of the inputs the
policy admits, biased to what breaks a decision procedure:

- :func:`cadres` — evaluator :class:`dsl.evaluator.Cadre` rows at every level of the policy, whose
  titles combine one title of each of a few *title sets* taken from the rules (every ``holds(...)``
  atom of the exemptions, venue rules, venue items and properties, and every scope rule), so that
  each exception, exemption and scope rule is triggered, alone and together; year facts at the vote
  year, its neighbours and every year the rules compare with (±1), or an empty cell;
- :func:`tallies` — one :class:`dsl.evaluator.Tally` per venue, with the share (``low / D``, ``D``
  the policy's denominator) exactly at, one vote below and one vote above every threshold of every
  band set, 0 low and all low, with small counts and counts up to 10**12; collected < issued; the
  quorum exactly at its ratio, one below and one above; the optional quorum columns present or not;
  now and then a venue without a tally;
- :func:`inputs` — a :class:`FuzzInput` (one cadre and its tallies), what the differential test of
  :mod:`checker.fuzz` compares; :func:`roster_rows` and :func:`tally_rows` — the same inputs as the
  brief's CSV rows (``dict[str, str]``, section 3 columns), for fuzzing the readers end to end;
- :func:`policy_texts` — random small well-typed policies as text (random thresholds and
  strictness, band orders, severities, venue rules, exceptions, exemptions, scope, denominators,
  quorum, schedule, properties, comments and odd layout), to test the printer, the checker and the
  evaluator on policies nobody wrote.

Every value stays inside the domain the Z3 encoding admits (:class:`checker.encode.Domain`: years in
1900…2100, ``int`` facts in 0…1 000 000, counts ≥ 0 with ``high + confidence + low ≤ collected ≤
issued``, ``present ≤ convened`` and the denominator ≥ 1), so a pinned input always has a model.
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
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType

from hypothesis import strategies as st

from checker.decode import RosterRow, TallyRow
from checker.encode import Domain, all_facts
from dsl import ir
from dsl.evaluator import Cadre, Tally

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
    denominator: str


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
        policy.share.denominator if policy.share else "collected",
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
    den = prof.denominator
    quorum = None
    if qmode != "none" or den in ("convened", "present"):
        r = prof.quorum
        if qmode == "ratio" and r is not None:
            k = _large(draw, r.denominator, large)
            convened = r.denominator * k
            quorum = (convened, _clamp(r.numerator * k + (0, -1, 1)[_index(draw, 3)], 0, convened))
        else:
            convened = _index(draw, 61)
            quorum = (convened, _index(draw, convened + 1))
    extra_i, split = divmod(_index(draw, len(_EXTRA) * len(_SPLITS)), len(_SPLITS))
    extra = _EXTRA[extra_i]
    match den:
        case "collected":
            collected, low = d, min(low, d)
            issued = collected + extra
        case "issued":
            issued, low = d, min(low, d)
            collected = (issued, low, (low + issued) // 2, issued, issued)[extra_i]
        case "convened" | "present":
            collected = low + extra % 8
            issued = collected + extra
            convened, present = quorum if quorum is not None else (d, d)
            quorum = (d, min(present, d)) if den == "convened" else (max(convened, d), d)
        case _:
            raise AssertionError(f"unknown denominator {den}")
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
    return Tally(venue, issued, collected, high, confidence, low, convened_v, present_v)


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
    return TallyRow(cadre_id, t.venue, t.issued, t.collected, t.high, t.confidence, t.low, t.convened, t.present)


def roster_rows(prof: Profile) -> st.SearchStrategy[dict[str, str]]:
    """Roster CSV rows (``dict`` of the brief's columns) the policy admits."""
    return cadres(prof).map(lambda c: roster_row(prof, c).cells())


def tally_rows(prof: Profile, cadre_id: str = "fz1") -> st.SearchStrategy[dict[str, str]]:
    """Tallies CSV rows (``dict`` of the brief's columns, ``convened``/``present`` empty when absent)."""
    return st.sampled_from(prof.venues).flatmap(lambda v: tallies(prof, v)).map(lambda t: tally_row(cadre_id, t).cells())


# ---- random policies ------------------------------------------------------------------------------------

_LABELS = ("Bí thư", "Phó Chủ tịch HĐND", "Giám đốc sở", "Trưởng ban \"Tổ chức\"", "Ủy viên Ban Thường vụ",
           "Cấp phó đơn vị sự nghiệp trực thuộc cấp ủy, UBND — một nhãn dài để bộ định dạng phải ngắt dòng ở đúng"
           " chỗ có dấu cách, và giữ nguyên văn bản khi đọc lại", "đường dẫn C:\\thư mục")
_TAGS = ("tag_a", "tag_b")
_VENUES = ("cap_uy", "hdnd", "noi_cong_tac")
_NICE = (Fraction(1, 2), Fraction(2, 3), Fraction(1, 3), Fraction(3, 5), Fraction(1, 4), Fraction(3, 4),
         Fraction(51, 100), Fraction(1, 8))


@dataclass(frozen=True)
class _Names:
    levels: tuple[str, ...]
    titles: tuple[str, ...]
    tags: tuple[str, ...]
    venues: tuple[str, ...]
    int_fact: bool


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
    """A well-typed condition in context ``roster``, ``venue`` or ``property``."""
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
        case "and" | "or" | "implies":
            a, b = _condition(draw, n, ctx, depth + 1), _condition(draw, n, ctx, depth + 1)
            return f"({a}) {kind} ({b})"
        case _:
            raise AssertionError(kind)


def _cite(draw: st.DrawFn) -> str:
    return f'cite T "Điều {draw(st.integers(1, 30))}" "{draw(st.sampled_from(_LABELS)).replace(chr(92), "/").replace(chr(34), "")}"'


def _text(draw: st.DrawFn) -> str:
    label = draw(st.sampled_from(_LABELS))
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bands(draw: st.DrawFn, name: str) -> list[str]:
    """A band set: intervals between random thresholds, random strictness, order and severities."""
    k = draw(st.integers(1, 3))
    pool = st.one_of(st.sampled_from(_NICE), st.fractions(min_value=Fraction(1, 1000), max_value=Fraction(999, 1000), max_denominator=1000))
    cuts = sorted(set(draw(st.lists(pool, min_size=k - 1, max_size=k - 1))))
    k = len(cuts) + 1
    conds = []
    for i in range(k):
        parts = []
        if i > 0:
            parts.append(f"share {draw(st.sampled_from(('>', '>=')))} {_ratio_text(draw, cuts[i - 1])}")
        if i < k - 1:
            parts.append(f"share {draw(st.sampled_from(('<', '<=')))} {_ratio_text(draw, cuts[i])}")
        conds.append(" and ".join(parts) if parts else draw(st.sampled_from(("share >= 0", "true", "share >= 0%"))))
    severities = list(range(k)) if draw(st.booleans()) else draw(st.permutations(list(range(k))))
    order = list(range(k)) if draw(st.booleans()) else draw(st.permutations(list(range(k))))
    lines = [f"bands {name} {{"]
    for i in order:
        cons = []
        for _ in range(draw(st.integers(0, 2))):
            cons.append(f"    {draw(st.sampled_from(('must', 'may')))} {_text(draw)}")
        lines.append(f"  band m{i} {_text(draw)} when {conds[i]} severity {severities[i]}")
        lines.extend(cons)
        lines.append(f"    {_cite(draw)}")
    lines.append("}")
    return lines


@st.composite
def policy_texts(draw: st.DrawFn) -> str:
    """The text of a random small well-typed policy (standalone: no imports)."""
    year = draw(st.integers(2020, 2026))
    levels = draw(st.sampled_from((("province",), ("district",), ("province", "district"))))
    n_titles = draw(st.integers(1, 3))
    titles = tuple(f"t{i}" for i in range(n_titles))
    title_tags = {t: draw(st.lists(st.sampled_from(_TAGS), max_size=2, unique=True)) for t in titles}
    tags = tuple(sorted({g for gs in title_tags.values() for g in gs}))
    venues = tuple(draw(st.permutations(_VENUES))[: draw(st.integers(1, 3))])
    n = _Names(levels, titles, tags, venues, draw(st.booleans()))
    out: list[str] = []

    def item(*lines: str) -> None:
        if draw(st.integers(0, 5)) == 0:
            out.append(f"# {draw(st.sampled_from(_LABELS))}")
        out.extend(lines)
        out.append("" if draw(st.integers(0, 3)) else "\n")

    item("policy rnd {", '  name "Chính sách ngẫu nhiên" issuer "Hypothesis"', f"  date {year}-01-0{draw(st.integers(1, 9))}",
         f"  vote_year {year}", "}")
    item('document T "Văn bản thử nghiệm"')
    item("levels {", *[f"  {lv} {_text(draw)}" for lv in levels], "}")
    item('fact retirement_notice: bool "Đã có thông báo chờ nghỉ hưu"')
    item('fact appointed_year: year "Năm được bổ nhiệm"')
    if n.int_fact:
        item('fact so_nam: int "Số năm giữ chức vụ"')
    for t in titles:
        tag_text = f" tags [{', '.join(title_tags[t])}]" if title_tags[t] else ""
        item(f"title {t} {_text(draw)}{tag_text}")
    if draw(st.booleans()):
        item(f'define d_kiem "Điều kiện đặt tên" = {_condition(draw, n, "roster", 1)}')
    scope_rules = 0
    for lv in levels:
        for _ in range(draw(st.integers(1, 2))):
            item(f"scope s{scope_rules} at {lv}: {', '.join(_name_list(draw, titles + tags))}", f"  {_cite(draw)}")
            scope_rules += 1
    for i in range(draw(st.integers(0, 2))):
        item(f"exempt x{i} when {_condition(draw, n, 'roster')}", f"  reason {_text(draw)}", f"  {_cite(draw)}")
    for v in venues:
        item(f"venue {v} {_text(draw)}")
    if draw(st.booleans()):
        item(f"max_venues {draw(st.sampled_from((1, 1, 2, 3)))} {_cite(draw)}")
    n_rules = draw(st.integers(1, 3))
    for i in range(n_rules):
        over = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
        head = f"venues r{i}" + (f" overrides {', '.join(f'r{j}' for j in over)}" if over else "")
        items = []
        for _ in range(draw(st.integers(1, 3))):
            v = draw(st.sampled_from(venues))
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
    item(f"share = low / {draw(st.sampled_from(ir.DENOMINATORS))} {_cite(draw)}")
    if draw(st.booleans()):
        op = draw(st.sampled_from((">=", ">", "≥")))
        item(f"quorum present {op} {_ratio_text(draw, draw(st.sampled_from(_NICE)))} of convened", f"  {_cite(draw)}")
    sets = [f"b{i}" for i in range(draw(st.sampled_from((1, 1, 2))))]
    for s in sets:
        item(*_bands(draw, s))
    assignment: dict[str, list[str]] = {}
    for v in venues:
        choice = draw(st.sampled_from(sets + [""]))
        if choice:
            assignment.setdefault(choice, []).append(v)
    for s, vs in assignment.items():
        item(f"apply {s} at {', '.join(vs)} {_cite(draw)}")
    if draw(st.booleans()):
        item(f"two_venues tong_the {_text(draw)} {_cite(draw)}")
    if draw(st.booleans()):
        phases = []
        for i in range(draw(st.integers(1, 3))):
            start = _dt.date(year, 1, 1) + _dt.timedelta(days=draw(st.integers(0, 200)))
            end = start + _dt.timedelta(days=draw(st.integers(0, 100)))
            lines = [f"  phase ph{i} {_text(draw)}"]
            if i and draw(st.booleans()):
                lines.append(f"    after ph{draw(st.integers(0, i - 1))}")
            if draw(st.booleans()):
                lines.append(f"    from {start.isoformat()}")
            lines.append(f"    by {end.isoformat()}")
            lines.append(f"    {_cite(draw)}")
            phases.extend(lines)
        item("schedule {", *phases, "}")
    for i in range(draw(st.integers(0, 2))):
        item(f"property q{i} {_text(draw)}:", f"  {_condition(draw, n, 'property')}")
    if draw(st.booleans()):
        roster = f"level {draw(st.sampled_from(levels))} titles {', '.join(_name_list(draw, titles))} retirement_notice false"
        tally = f"tally {venues[0]} {{ issued 9 collected 9 high 1 confidence 2 low 6 }}"
        item(f"example e0 {_text(draw)} {{", f"  roster {{ {roster} }}", f"  {tally}",
             f"  expect {{ status {draw(st.sampled_from(ir.STATUSES))} }}", "}")
    return "\n".join(out) + "\n"
