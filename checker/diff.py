"""``tinnhiem diff OLD NEW``: the semantic difference of two versions of a policy, decided by Z3.

Takes two policy files (each loaded with its imports by :func:`dsl.loader.load_policy`) and a
per-query solver budget; produces a :class:`DiffResult`: every kind of decision on which the two
versions disagree for some input, each with a concrete witness, the decision under each version and
the rules (with their citations and quoted text) behind it, plus notes on the declarations that
changed (whether or not a decision changed with them).

How it is decided. Both policies are encoded (:class:`checker.encode.Encoder`) over the **same**
symbolic inputs: one roster row (the union of the two schemas' levels, titles and facts), one
tally per venue of either version, and one tally per band set both versions declare (by name).
The two encodings share the input constants and nothing else (every derived term carries an
``old:`` or ``new:`` prefix). For each kind of decision the solver is asked for an input both
schemas admit on which the two decisions differ; a difference is reported at the first decision it
changes, not again at every decision downstream of it:

============ ===================================================================================
schema       an input only one version admits: a level, title code or venue code it alone
             declares, a roster column it alone reads, a tally only its share denominator allows
exemption    exempt under one version and not under the other
status       neither version exempts, one has the cadre in scope and the other not
venues       the same status, a different ordered list of venues
band         planned at venue ``v`` by both, with a tally there, a different band at ``v``
outcome      the same status, venues and bands, a different outcome (quorum, missing tally, the
             two-venue rule)
band_set     a band set both declare, decided directly: a tally (both versions' tally invariants,
             each side's base given and ≥ 1) that the two sets put in different bands — whether
             or not a roster row reaches the set (a central text that plans nobody, a set applied
             at no venue)
consequence  a band both sets keep (same code) whose ``must``/``may`` consequences changed (a
             mandatory one made an option, a text changed, one added or dropped): a tally that
             falls in that band under both versions, with both lists
rename       a band kept at the same position with the same condition, severity and consequences
             under another code: a tally that falls in it, with both codes
============ ===================================================================================

The set kinds (:data:`SET_KINDS`) have a witness of one tally row and no roster row: at the first
venue where both versions apply the set, else at no venue (``venue`` left empty). A band set that
already differs at such a venue with a cadre planned there (``band at v``) is not reported again
as ``band_set``: the tallies are the same, and the ``band`` witness says more.

A renamed band is a difference, not a note alone: its code is an output value (the ``band`` and
``outcome`` columns of every report, JSON and CSV), so a consumer keyed on the old code sees a
change. It is reported once, as kind ``rename`` with the tally that shows it, never as a ``band``,
``band_set`` or ``outcome`` difference (those compare NEW's renamed code as the OLD one); the notes
say the band was renamed. A band whose consequences changed is a ``consequence`` difference (exit 1):
what a band obliges the competent authority to do is the decision a drafter reads.

Exemptions are compared by whether the cadre is exempt, not by which exemptions apply: their names
may differ between versions. A declaration renamed with the same condition (an exemption: decided by
Z3; a scope or venue rule: the same IR) is listed among the notes, as is every declaration added,
removed or rewritten, so that an amendment that changes wording but no decision is still visible;
so are the changes to how a count is read, each OLD → NEW: the ``share`` denominator, the base of
each band set (:meth:`dsl.ir.Policy.base_of`), the ``quorum``, ``max_venues`` and the tally
invariants (:meth:`dsl.ir.Policy.invariants`).

Each distinct pair (decision under OLD, decision under NEW) of a kind is reported once, with its own
witness (up to :data:`MAX_PAIRS` per kind and venue or band set). A witness is made readable with
soft preferences (few titles, false flags, whole small ballots), decoded into the brief's CSV rows
(:mod:`checker.decode`) and replayed through both compiled evaluators (:class:`dsl.evaluator.Evaluator`;
a band set through :meth:`~dsl.evaluator.Evaluator.band` with the set applied at the row's venue):
the evaluators must decide what the solver claimed, and the two decisions must differ — otherwise the
encoding and the evaluator disagree, which is an internal error (exit 3), never a silent pass.

Exit codes (:attr:`DiffResult.exit_code`): 0 equivalent · 1 a difference found · 2 a policy has
errors or a usage error (the command, :mod:`tinnhiem.diff_command`) · 3 an internal error, or the
solver answered unknown with no difference found. Formats: ``text`` (laid out with rich, without
colours, wrapped at 120 columns by the command; readable at 100) and ``json`` (deterministic: keys
sorted, no timings).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import z3
from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from checker.decode import RosterRow, TallyRow, roster_csv, tallies_csv
from checker.encode import Domain, Encoder, PlanTerms, RosterVars, TallyVars, all_facts, tally_schema
from checker.interrupt import checked
from checker.pairwise import DecisionTerms, Options, band_options, decision_terms, options_differ, venues_differ
from dsl import ir
from dsl.evaluator import Decision, Evaluator, Step, VenueResult
from dsl.values import FACT_YEARS

Side = Literal["old", "new"]
SIDES: tuple[Side, Side] = ("old", "new")
KINDS = ("schema", "exemption", "status", "venues", "band", "outcome", "band_set", "consequence", "rename")
#: The kinds decided over one band set and one tally, with no roster row (the witness is the tally alone).
SET_KINDS = ("band_set", "consequence", "rename")
FORMATS = ("text", "json")
#: At most this many distinct (OLD decision, NEW decision) pairs are reported per kind (and venue).
MAX_PAIRS = 8
_CID = "w1"

# ---- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One of the two policies compared."""

    path: str
    id: str
    name: str
    sha256: str
    vote_year: int | None


@dataclass(frozen=True)
class RuleLine:
    """A rule the evaluator's trace names for a decision, with its citation and quoted text."""

    kind: str
    rule: str
    detail: str
    cite: str | None = None
    quote: str | None = None


@dataclass(frozen=True)
class SideDecision:
    """What one version decides on the witness (``rejected``: why its schema does not admit it)."""

    value: str
    rejected: str | None = None
    status: str | None = None
    exemptions: tuple[str, ...] = ()
    venues: tuple[str, ...] = ()
    bands: tuple[tuple[str, str | None, str | None], ...] = ()  # (venue, band, low share)
    outcome: str | None = None
    rules: tuple[RuleLine, ...] = ()
    consequences: tuple[tuple[str, str], ...] = ()  # ("must" | "may", text) of the band decided (set kinds)


@dataclass(frozen=True)
class Witness:
    roster: tuple[RosterRow, ...]
    tallies: tuple[TallyRow, ...]
    years: tuple[int | None, int | None]  # the vote year each version decides in

    @property
    def roster_csv(self) -> str:
        return roster_csv(self.roster) if self.roster else ""

    @property
    def tallies_csv(self) -> str:
        return tallies_csv(self.tallies) if self.tallies else ""


@dataclass(frozen=True)
class Difference:
    kind: str  # one of KINDS
    subject: str  # e.g. "band at noi_cong_tac"
    old_value: str
    new_value: str
    witness: Witness
    old: SideDecision
    new: SideDecision
    band_set: str | None = None  # the band set compared (set kinds)

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (KINDS.index(self.kind), self.subject, self.old_value, self.new_value)


@dataclass(frozen=True)
class Note:
    """A change that decides nothing differently (or a fact about the comparison)."""

    kind: str  # renamed | changed | added | removed | citation | vote_year
    text: str


@dataclass(frozen=True)
class DiffResult:
    old: Version
    new: Version
    differences: tuple[Difference, ...]
    notes: tuple[Note, ...] = ()
    unknown: tuple[str, ...] = ()  # subjects the solver could not decide within its budget
    internal_errors: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return 3
        if self.differences:
            return 1
        return 3 if self.unknown else 0


# ---- the shared inputs ---------------------------------------------------------------------------


def _union(*seqs: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for seq in seqs:
        for x in seq:
            if x not in out:
                out.append(x)
    return tuple(out)


def _year(pol: ir.Policy, other: ir.Policy) -> int | None:
    return pol.vote_year if pol.vote_year is not None else other.vote_year


class _Pair:
    """The two policies encoded over one set of symbolic inputs, with a solver holding both."""

    def __init__(self, old: ir.Policy, new: ir.Policy, timeout_ms: int) -> None:
        self.pol: dict[Side, ir.Policy] = {"old": old, "new": new}
        self.timeout_ms = timeout_ms
        ctx = self.ctx = z3.Context()
        self.raw: list[z3.BoolRef] = []  # what any CSV row is (counts ≥ 0, sums, ranges): always asserted
        self.levels = _union(old.level_codes(), new.level_codes())
        self.titles = _union(old.title_codes(), new.title_codes())
        self.venues = _union(old.venue_codes(), new.venue_codes())
        self.level = z3.Int("level", ctx)
        self.raw.append(z3.And(self.level >= 0, self.level < max(len(self.levels), 1)))
        self.title = {t: z3.Bool(f"title|{t}", ctx) for t in self.titles}
        domain = Domain()
        # facts: one input per name; a fact the two versions type differently gets one per version
        types: dict[Side, dict[str, str]] = {s: {f.name: f.type for f in all_facts(self.pol[s])} for s in SIDES}
        self.facts: list[tuple[str, str, Side | None]] = []  # (name, type, side or None when shared)
        for name in _union(list(types["old"]), list(types["new"])):
            t_old, t_new = types["old"].get(name), types["new"].get(name)
            if t_old is not None and t_new is not None and t_old != t_new:
                self.facts += [(name, t_old, "old"), (name, t_new, "new")]
            else:
                self.facts.append((name, t_old or t_new or "bool", None))
        fact_var: dict[tuple[str, Side | None], z3.ExprRef] = {}
        given_var: dict[tuple[str, Side | None], z3.BoolRef] = {}
        for name, typ, side in self.facts:
            tag = f"{side}:" if side else ""
            if typ == "bool":
                fact_var[(name, side)] = z3.Bool(f"{tag}fact|{name}", ctx)
                continue
            v, g = z3.Int(f"{tag}fact|{name}", ctx), z3.Bool(f"{tag}given|{name}", ctx)
            lo, hi = domain.years if typ == "year" else domain.ints
            self.raw += [z3.Implies(g, z3.And(v >= lo, v <= hi)), z3.Implies(z3.Not(g), v == lo)]
            fact_var[(name, side)], given_var[(name, side)] = v, g
        self.fact_var, self.given_var = fact_var, given_var
        years = {s: _year(self.pol[s], self.pol[_other(s)]) for s in SIDES}
        shared_year = None
        if years["old"] is None:
            shared_year = z3.Int("vote_year", ctx)
            self.raw.append(z3.And(shared_year >= domain.vote_years[0], shared_year <= domain.vote_years[1]))
        self.year_term: dict[Side, z3.ArithRef] = {
            s: shared_year if shared_year is not None else z3.IntVal(years[s], ctx) for s in SIDES}  # type: ignore[arg-type]
        self.roster: dict[Side, RosterVars] = {}
        for s in SIDES:
            facts = {n: fact_var[(n, sd)] for n, _, sd in self.facts if sd in (None, s)}
            given = {n: given_var[(n, sd)] for n, _, sd in self.facts if sd in (None, s) and (n, sd) in given_var}
            self.roster[s] = RosterVars(self.level, self.levels, self.title, facts, given, self.year_term[s])
        self.tally = {v: self._tally(f"tally|{v}") for v in self.venues}
        # the band sets both versions declare (by name), each compared directly over a tally of its own
        declared = {s: {bs.name: bs for bs in self.pol[s].band_sets} for s in SIDES}
        self.sets: dict[str, dict[Side, ir.BandSet]] = {
            n: {"old": bs, "new": declared["new"][n]} for n, bs in declared["old"].items() if n in declared["new"]}
        self.renames = {n: _renames(b["old"], b["new"]) for n, b in self.sets.items()}
        self.set_tally = {n: self._tally(f"set|{n}") for n in self.sets}
        self.set_band: dict[Side, dict[str, Options]] = {}
        # the two encodings
        self.enc: dict[Side, Encoder] = {}
        self.plan: dict[Side, PlanTerms] = {}
        self.outcome: dict[Side, dict[str | None, z3.BoolRef]] = {}
        self.band: dict[Side, dict[str, dict[str | None, z3.BoolRef]]] = {}
        self.decision: dict[Side, DecisionTerms] = {}
        solver = self.solver = z3.Solver(ctx=ctx)
        solver.add(*self.raw)
        for s in SIDES:
            pol = self.pol[s]
            enc = Encoder(pol, years[s], domain, ctx)
            pl = enc.plan(self.roster[s], prefix=f"{s}:")
            mine = {v: replace(self.tally[v], prefix=f"{s}:tally|{v}") for v in pol.venue_codes()}
            dt = self.decision[s] = decision_terms(enc, pl, mine)
            self.outcome[s] = dict(dt.outcome)
            self.band[s] = {v: dict(dt.bands.get(v, {None: z3.BoolVal(True, ctx)})) for v in self.venues}
            self.set_band[s] = {n: band_options(enc, b[s], replace(self.set_tally[n], prefix=f"{s}:set|{n}"))
                                for n, b in self.sets.items()}
            self.enc[s], self.plan[s] = enc, pl
            solver.add(*enc.constraints)
            solver.add(*[d.formula for d in enc.definitions])

    def _tally(self, name: str) -> TallyVars:
        ctx = self.ctx
        ints = {n: z3.Int(f"{name}|{n}", ctx) for n in ir.TALLY_FIELDS}
        t = TallyVars(name, z3.Bool(f"{name}|given", ctx), **ints, quorum_given=z3.Bool(f"{name}|quorum_given", ctx),
                      members_given=z3.Bool(f"{name}|members_given", ctx))
        # a tally both versions read: it satisfies both schemas
        self.raw += tally_schema(t, self.pol["old"].invariants() + self.pol["new"].invariants())
        return t

    # ---- what each schema admits
    def roster_ok(self, s: Side) -> z3.BoolRef:
        pol = self.pol[s]
        at = [self.level == self.levels.index(lv) for lv in pol.level_codes()]
        foreign = [z3.Not(self.title[t]) for t in self.titles if t not in pol.title_codes()]
        return _all(self.ctx, [_any(self.ctx, at), *foreign])

    def tally_ok(self, s: Side, v: str) -> z3.BoolRef:
        return _base_ok(self.tally[v], self.pol[s].base_at(v))

    def set_ok(self, name: str) -> z3.BoolRef:
        """A tally for band set ``name`` that both versions read: the base of each side's set given and ≥ 1."""
        t = self.set_tally[name]
        return z3.And(t.given, *[_base_ok(t, self.pol[s].base_of(self.sets[name][s])) for s in SIDES])

    def set_venue(self, name: str) -> str:
        """The first venue where both versions apply band set ``name`` ("" when there is none)."""
        return next((v for v in self.venues if all(_set_name(self.pol[s].band_set_at(v)) == name for s in SIDES)), "")

    def cells_agree(self) -> z3.BoolRef:
        """A fact the versions type differently: its cell is one both read (empty; 0 or 1 for a flag and a number;
        the same number for a year and a number)."""
        parts = []
        for name in {n for n, _, sd in self.facts if sd is not None}:
            typ = {sd: t for n, t, sd in self.facts if n == name}
            var = {sd: self.fact_var[(name, sd)] for sd in SIDES}
            given = {sd: self.given_var.get((name, sd)) for sd in SIDES}
            flag = next((sd for sd in SIDES if typ[sd] == "bool"), None)
            if flag is not None:
                num: Side = _other(flag)
                b, v, g = var[flag], var[num], given[num]
                assert g is not None
                empty = z3.And(z3.Not(b), z3.Not(g))
                if typ[num] == "int":
                    parts.append(z3.Or(empty, z3.And(z3.Not(b), g, v == 0), z3.And(b, g, v == 1)))
                else:
                    parts.append(empty)
            else:
                g_old, g_new = given["old"], given["new"]
                assert g_old is not None and g_new is not None
                parts.append(z3.And(g_old == g_new, z3.Implies(g_old, var["old"] == var["new"])))
        return _all(self.ctx, parts)

    def both_admit(self) -> z3.BoolRef:
        parts = [self.roster_ok("old"), self.roster_ok("new"), self.cells_agree()]
        for v in self.venues:
            parts += [self.tally_ok("old", v), self.tally_ok("new", v)]
        return _all(self.ctx, parts)

    # ---- decisions as terms
    def venue(self, s: Side, v: str) -> z3.BoolRef:
        return self.plan[s].venues.get(v, z3.BoolVal(False, self.ctx))

    def same_venues(self) -> z3.BoolRef:
        return z3.Not(venues_differ(self.decision["old"], self.decision["new"]))

    def same_status(self) -> z3.BoolRef:
        return z3.Not(options_differ(self.plan["old"].status, self.plan["new"].status))

    def band_planned(self, v: str) -> z3.BoolRef:
        return z3.And(self.venue("old", v), self.venue("new", v), self.tally[v].given)

    # ---- solving
    def check(self, *extra: z3.BoolRef) -> z3.CheckSatResult:
        self.solver.set("timeout", self.timeout_ms)
        return checked(self.solver, lambda: self.solver.check(*extra))

    def readable(self, model: z3.ModelRef, prefer: Sequence[z3.BoolRef] = (), band_set: str = "") -> z3.ModelRef:
        """Keep each soft preference that leaves the query satisfiable (in order); return the last model.
        ``band_set``: the witness is that set's tally alone (no roster row, no venue's tally)."""
        soft = list(prefer)
        if not band_set:
            soft += [z3.Not(t) for t in self.title.values()]  # every title, not only those of the first model
            for name, typ, side in self.facts:
                var = self.fact_var[(name, side)]
                if typ == "bool":
                    soft.append(z3.Not(var))
                else:
                    year = self.year_term[side or "old"]
                    soft += [self.given_var[(name, side)], var == (year - 3 if typ == "year" else 0)]
            soft.append(self.level == 0)
        else:
            soft.append(z3.Not(self.set_tally[band_set].members_given))
        for t in [self.set_tally[band_set]] if band_set else self.tally.values():
            soft += [t.given, z3.Not(t.quorum_given), t.issued == t.collected, t.high + t.confidence + t.low == t.collected,
                     t.collected <= 9, t.collected <= 30]
        for c in soft:
            if z3.is_true(model.evaluate(c, model_completion=True)):
                self.solver.add(c)
                continue
            if self.check(c) == z3.sat:
                model = self.solver.model()
                self.solver.add(c)
        return model

    # ---- decoding a model into CSV rows
    def roster_row(self, model: z3.ModelRef, omit: frozenset[str] = frozenset()) -> RosterRow:
        level = self.levels[_int(model, self.level)] if self.levels else ""
        titles = tuple(t for t in self.titles if _bool(model, self.title[t]))
        facts: list[tuple[str, bool | int | None]] = []
        seen: set[str] = set()
        for name, typ, side in self.facts:
            if name in seen or name in omit:
                continue
            seen.add(name)
            if side is not None:  # typed differently: the cell both read (cells_agree), shown as its number or empty
                typ, side = next((t, sd) for n, t, sd in self.facts if n == name and t != "bool")
            var = self.fact_var[(name, side)]
            if typ == "bool":
                facts.append((name, _bool(model, var)))
            else:
                facts.append((name, _int(model, var) if _bool(model, self.given_var[(name, side)]) else None))
        return RosterRow(_CID, level, titles, tuple(facts), full_name=f"Nhân chứng {_CID}")

    def tally_rows(self, model: z3.ModelRef, venues: Sequence[str]) -> tuple[TallyRow, ...]:
        out = []
        for v in self.venues:
            t = self.tally[v]
            if v not in venues or not _bool(model, t.given):
                continue
            q = _bool(model, t.quorum_given)
            out.append(TallyRow(_CID, v, _int(model, t.issued), _int(model, t.collected), _int(model, t.high),
                                _int(model, t.confidence), _int(model, t.low), _int(model, t.convened) if q else None,
                                _int(model, t.present) if q else None,
                                members=_int(model, t.members) if _bool(model, t.members_given) else None))
        return tuple(out)

    def set_row(self, model: z3.ModelRef, name: str) -> TallyRow:
        """The tally of band set ``name`` as a tally row (at :meth:`set_venue`, or at no venue)."""
        t = self.set_tally[name]
        q, m = _bool(model, t.quorum_given), _bool(model, t.members_given)
        return TallyRow(_CID, self.set_venue(name), _int(model, t.issued), _int(model, t.collected), _int(model, t.high),
                        _int(model, t.confidence), _int(model, t.low), _int(model, t.convened) if q else None,
                        _int(model, t.present) if q else None, band_set=name, members=_int(model, t.members) if m else None)

    def years(self, model: z3.ModelRef) -> tuple[int, int]:
        return _int(model, self.year_term["old"]), _int(model, self.year_term["new"])


def _base_ok(t: TallyVars, den: str) -> z3.BoolRef:
    """The tally gives the base ``den`` of a share, and it is at least 1 (what the tally reader requires)."""
    parts = [t.field(den) >= 1]
    if den in ("convened", "present"):
        parts.append(t.quorum_given)
    if den == "members":
        parts.append(t.members_given)
    return z3.And(*parts)


def _set_name(bs: ir.BandSet | None) -> str | None:
    return bs.name if bs is not None else None


def _renames(a: ir.BandSet, b: ir.BandSet) -> dict[str, str]:
    """OLD band code → NEW band code, for each band of ``a`` that ``b`` keeps at the same position with the same
    condition, severity and consequences under a code of its own (neither code is in the other version)."""
    out: dict[str, str] = {}
    old, new = {x.code for x in a.bands}, {y.code for y in b.bands}
    for x, y in zip(a.bands, b.bands, strict=False):
        if x.code != y.code and x.code not in new and y.code not in old and \
                (x.when, x.severity, x.must, x.may) == (y.when, y.severity, y.must, y.may):
            out[x.code] = y.code
    return out


def _relabel(opts: Options, to_old: Mapping[str, str]) -> Options:
    """NEW's one-hot options with each renamed band under its OLD code (a rename is not a band difference)."""
    if not to_old:
        return opts
    merged: dict[str | None, list[z3.BoolRef]] = {}
    for k, term in opts.items():
        merged.setdefault(to_old.get(k, k) if k is not None else None, []).append(term)
    return {k: terms[0] if len(terms) == 1 else z3.Or(*terms) for k, terms in merged.items()}


def _all(ctx: z3.Context, parts: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return z3.And(*parts) if parts else z3.BoolVal(True, ctx)


def _any(ctx: z3.Context, parts: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return z3.Or(*parts) if parts else z3.BoolVal(False, ctx)


def _other(s: Side) -> Side:
    return "new" if s == "old" else "old"


def _int(model: z3.ModelRef, term: z3.ArithRef) -> int:
    return model.evaluate(term, model_completion=True).as_long()  # type: ignore[attr-defined]


def _bool(model: z3.ModelRef, term: z3.ExprRef) -> bool:
    return z3.is_true(model.evaluate(term, model_completion=True))


# ---- one kind of decision, read on each side -------------------------------------------------------

Value = str | tuple[str, ...] | None


@dataclass(frozen=True)
class _Reading:
    """How a side's decision of one kind reads in a model, and the term that fixes it to a value."""

    read: Callable[[z3.ModelRef], Value]
    term: Callable[[Value], z3.BoolRef]


def _options(opts: Mapping[str | None, z3.BoolRef], ctx: z3.Context) -> _Reading:
    """A decision with finitely many values, one Bool each (exactly one holds)."""
    keys = list(opts)

    def read(m: z3.ModelRef) -> Value:
        return next((k for k in keys if _bool(m, opts[k])), None)

    return _Reading(read, lambda v: opts.get(v, z3.BoolVal(False, ctx)))  # type: ignore[arg-type]


def _venue_reading(pair: _Pair, s: Side) -> _Reading:
    order = pair.pol[s].venue_codes()

    def read(m: z3.ModelRef) -> Value:
        return tuple(v for v in order if _bool(m, pair.venue(s, v)))

    def term(value: Value) -> z3.BoolRef:
        chosen = value if isinstance(value, tuple) else ()
        if not order:
            return z3.BoolVal(not chosen, pair.ctx)
        return _all(pair.ctx, [pair.venue(s, v) == z3.BoolVal(v in chosen, pair.ctx) for v in order])

    return _Reading(read, term)


@dataclass(frozen=True)
class _Subject:
    kind: str
    name: str
    condition: z3.BoolRef
    old: _Reading
    new: _Reading
    venue: str = ""
    prefer: tuple[z3.BoolRef, ...] = ()  # what makes a witness of this kind easy to read
    band_set: str = ""  # the set kinds: the band set compared
    code: str = ""  # consequence: the band whose consequences changed


def _to_old(renames: Mapping[str, str]) -> dict[str, str]:
    return {new: old for old, new in renames.items()}


def _subjects(pair: _Pair) -> list[_Subject]:
    ctx = pair.ctx
    pl = pair.plan
    admit = pair.both_admit()
    out = []
    status = {s: _options(dict(pl[s].status), ctx) for s in SIDES}
    out.append(_Subject("exemption", "exemption", z3.And(admit, pl["old"].exempt != pl["new"].exempt), status["old"], status["new"],
                        prefer=(pl["old"].in_scope, pl["new"].in_scope)))
    out.append(_Subject("status", "status", z3.And(admit, z3.Not(pl["old"].exempt), z3.Not(pl["new"].exempt),
                                                   pl["old"].in_scope != pl["new"].in_scope), status["old"], status["new"]))
    out.append(_Subject("venues", "venues", z3.And(admit, pair.same_status(), z3.Not(pair.same_venues())),
                        _venue_reading(pair, "old"), _venue_reading(pair, "new")))
    same_bands = []
    everywhere: dict[str, str] = {}  # every rename: the outcome is the band of the first venue
    for renames in pair.renames.values():
        everywhere |= _to_old(renames)
    for v in pair.venues:
        a, b = pair.band["old"][v], pair.band["new"][v]
        applied = _set_name(pair.pol["old"].band_set_at(v))
        renamed = _to_old(pair.renames.get(applied, {})) if applied == _set_name(pair.pol["new"].band_set_at(v)) else {}
        differ = options_differ(a, _relabel(b, renamed))
        out.append(_Subject("band", f"band at {v}", z3.And(admit, pair.band_planned(v), differ),
                            _options(a, ctx), _options(b, ctx), v, (pl["old"].count == 1, pl["new"].count == 1)))
        same_bands.append(z3.Implies(pair.band_planned(v), z3.Not(differ)))
    oa, ob = pair.outcome["old"], pair.outcome["new"]
    out.append(_Subject("outcome", "outcome", z3.And(admit, pair.same_status(), pair.same_venues(), *same_bands,
                                                     options_differ(oa, _relabel(ob, everywhere))),
                        _options(oa, ctx), _options(ob, ctx)))
    # each band set both declare, decided directly over one tally (whether or not a roster row reaches it)
    for name, sets in pair.sets.items():
        a, b = pair.set_band["old"][name], pair.set_band["new"][name]
        ok, renames = pair.set_ok(name), pair.renames[name]
        read = {"old": _options(a, ctx), "new": _options(b, ctx)}
        out.append(_Subject("band_set", f"band set {name}", z3.And(ok, options_differ(a, _relabel(b, _to_old(renames)))),
                            read["old"], read["new"], band_set=name))
        for x, y in renames.items():
            out.append(_Subject("rename", f"band of {name} renamed", z3.And(ok, a[x], b[y]), read["old"], read["new"], band_set=name))
        kept = {y.code: y for y in sets["new"].bands}
        for x in sets["old"].bands:
            y = kept.get(x.code)
            if y is not None and (x.must, x.may) != (y.must, y.may):
                out.append(_Subject("consequence", f"consequences of band {x.code} in {name}", z3.And(ok, a[x.code], b[x.code]),
                                    read["old"], read["new"], band_set=name, code=x.code))
    return out


# ---- replay through the evaluators -----------------------------------------------------------------


def _rule_line(step: Step) -> RuleLine:
    c = step.cite
    return RuleLine(step.kind, step.rule, step.detail, c.label if c else None, c.quote if c else None)


def _responsible(kind: str, venue: str, d: Decision, pol: ir.Policy) -> tuple[RuleLine, ...]:
    """The steps of the evaluator's trace behind one kind of decision (or why none fired)."""
    match kind:
        case "status" | "exemption":
            wanted: tuple[str, ...] = ("scope", "exemption")
        case "venues":
            wanted = ("venue_rule", "overridden", "truncated")
        case "band":
            wanted = ("band",)
        case "outcome":
            wanted = ("outcome", "session", "band")
        case _:
            wanted = ()
    steps = [s for s in d.trace if s.kind in wanted and (kind != "band" or s.detail.startswith(f"{venue}:"))]
    lines = tuple(_rule_line(s) for s in steps)
    if lines:
        return lines
    match kind:
        case "status" | "exemption":
            why = "no scope rule applies to this level and these titles, and no exemption holds"
        case "venues":
            why = "no venue rule is active"
        case "band":
            bs = pol.band_set_at(venue)
            why = f"no band of {bs.name} holds" if bs is not None else f"no band set is applied at {venue}"
        case "outcome":
            why = "no outcome: the cadre has no venue" if not d.plan.venues else "the outcome is the band at the first venue"
        case _:
            why = "no rule fired"
    return (RuleLine("none", "", why),)


def _value(kind: str, venue: str, d: Decision) -> Value:
    match kind:
        case "status" | "exemption":
            return d.plan.status
        case "venues":
            return d.plan.venues
        case "band":
            return next((r.band.code if r.band else None for r in d.results if r.venue == venue), None)
        case "outcome":
            return d.outcome
        case _:
            raise AssertionError(kind)


def _show(v: Value) -> str:
    if v is None:
        return "none"
    if isinstance(v, tuple):
        return ", ".join(v) if v else "none"
    return v


def _frac(n: int, d: int | None) -> str | None:
    if not d:
        return None
    from fractions import Fraction

    f = Fraction(n, d)
    return f"{f.numerator}/{f.denominator}"


def _side(pol: ir.Policy, d: Decision, kind: str, venue: str, value: str) -> SideDecision:
    bands = tuple((r.venue, r.band.code if r.band else None,
                   _frac(r.tally.low, r.tally.get(pol.base_at(r.venue))) if r.tally else None) for r in d.results)
    return SideDecision(value, None, d.plan.status, tuple(x.name for x in d.plan.exemptions), d.plan.venues, bands, d.outcome,
                        _responsible(kind, venue, d, pol))


def _decide(pol: ir.Policy, year: int | None, row: RosterRow, tallies: Sequence[TallyRow]) -> Decision:
    ev = Evaluator(pol, year)
    return ev.decide(row.cadre(), {t.venue: t.tally() for t in tallies})


_NO_CITE = ir.Citation("", "", "", "")


def _band_in_set(pol: ir.Policy, bs: ir.BandSet, row: TallyRow) -> VenueResult:
    """What ``pol``'s compiled evaluator decides for ``row`` with band set ``bs`` applied at the row's venue (a
    venue of that name standing in when the row has none): the band and the share, over the set's own base."""
    v = row.venue or bs.name
    venues = pol.venues if v in pol.venue_codes() else (*pol.venues, ir.VenueDecl(v, v))
    applied = replace(pol, venues=venues, band_at=(ir.BandApplication(bs.name, (v,), _NO_CITE), *pol.band_at))
    return Evaluator(applied).band(v, replace(row, venue=v).tally())


def _set_side(pol: ir.Policy, bs: ir.BandSet, r: VenueResult, value: str) -> SideDecision:
    base = pol.base_of(bs)
    t = r.tally
    assert t is not None
    share = _frac(t.low, t.get(base))
    if r.band is None:
        rule = RuleLine("none", "", f"no band of {bs.name} holds: {t.low} low of {t.get(base)} {base} (share {share})")
        return SideDecision(value, bands=((t.venue, None, share),), rules=(rule,))
    b = r.band
    rule = RuleLine("band", b.code, f"{t.low} low of {t.get(base)} {base} (share {share}) → {b.label}", b.cite.label, b.cite.quote)
    return SideDecision(value, bands=((t.venue, b.code, share),), rules=(rule,),
                        consequences=tuple(("must", m) for m in b.must) + tuple(("may", m) for m in b.may))


def _consequence_change(x: ir.BandRule, y: ir.BandRule) -> tuple[str, str]:
    """What changed in a band's consequences, as (OLD, NEW): the items only one side has, each with its
    kind (``must``: mandatory, ``may``: an option); when only the order changed, the lists in their order."""
    items = {s: [("must", m) for m in b.must] + [("may", m) for m in b.may] for s, b in (("old", x), ("new", y))}
    only = {s: [i for i in items[s] if i not in items[_other(s)]] for s in SIDES}

    def show(pairs: Sequence[tuple[str, str]]) -> str:
        return "; ".join(f"{kind} “{text}”" for kind, text in pairs) or "none"

    if only["old"] or only["new"]:
        return show(only["old"]), show(only["new"])
    kinds = [k for k in ("must", "may") if getattr(x, k) != getattr(y, k)]
    old, new = (show([i for i in items[s] if i[0] in kinds]) + " (in this order)" for s in SIDES)
    return old, new


# ---- the comparison --------------------------------------------------------------------------------


class _Differ:
    def __init__(self, old: ir.Policy, new: ir.Policy, timeout_ms: int) -> None:
        self.pair = _Pair(old, new, timeout_ms)
        self.differences: list[Difference] = []
        self.unknown: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        for subject in _subjects(self.pair):
            if subject.kind == "band_set" and self.shown_at_a_venue(subject.band_set):
                continue
            self.enumerate(subject)
        self.schema()

    def shown_at_a_venue(self, name: str) -> bool:
        """Band set ``name`` already differs at a venue where both versions apply it, with a cadre planned there
        (``band at v``): the same tallies, so the set is not reported a second time (kind ``band_set``)."""
        p = self.pair
        both = {f"band at {v}" for v in p.venues if all(_set_name(p.pol[s].band_set_at(v)) == name for s in SIDES)}
        return any(d.kind == "band" and d.subject in both for d in self.differences)

    def _planned(self, model: z3.ModelRef) -> tuple[str, ...]:
        p = self.pair
        return tuple(v for v in p.venues if _bool(model, p.venue("old", v)) or _bool(model, p.venue("new", v)))

    def enumerate(self, sub: _Subject) -> None:
        p, solver = self.pair, self.pair.solver
        solver.push()
        solver.add(sub.condition)
        try:
            for _ in range(MAX_PAIRS):
                answer = p.check()
                if answer == z3.unsat:
                    return
                if answer != z3.sat:
                    self.unknown.append(f"{sub.name}: {solver.reason_unknown() or 'unknown'}")
                    return
                model = solver.model()
                a, b = sub.old.read(model), sub.new.read(model)
                fixed = z3.And(sub.old.term(a), sub.new.term(b))
                solver.push()
                solver.add(fixed)
                model = p.readable(model, sub.prefer, sub.band_set)
                solver.pop()
                self.record(sub, model, a, b)
                solver.add(z3.Not(fixed))
        finally:
            solver.pop()

    def record(self, sub: _Subject, model: z3.ModelRef, a: Value, b: Value) -> None:
        match sub.kind:
            case "band_set" | "consequence" | "rename":
                self.record_set(sub, model, a, b)
            case "exemption" | "status" | "venues" | "band" | "outcome":
                self.record_cadre(sub, model, a, b)
            case _:
                raise AssertionError(sub.kind)

    def record_set(self, sub: _Subject, model: z3.ModelRef, a: Value, b: Value) -> None:
        """A witness of a set kind: one tally, decided by each version's band set through its evaluator."""
        p, name = self.pair, sub.band_set
        row = p.set_row(model, name)
        sets = p.sets[name]
        r = {s: _band_in_set(p.pol[s], sets[s], row) for s in SIDES}
        got = {s: r[s].band.code if r[s].band is not None else None for s in SIDES}
        old_code, new_code = got["old"], got["new"]
        renamed = old_code is not None and new_code is not None and p.renames[name].get(old_code) == new_code
        match sub.kind:
            case "band_set":
                ok = old_code != new_code and not renamed
            case "rename":
                ok = renamed
            case "consequence":
                ok = old_code == new_code == sub.code
            case _:
                raise AssertionError(sub.kind)
        witness = Witness((), (row,), (None, None))
        if (old_code, new_code) != (a, b) or not ok:
            self.errors.append(
                f"{sub.name}: the solver claims {_show(a)} (OLD) vs {_show(b)} (NEW), the evaluators decide {_show(old_code)} "
                f"vs {_show(new_code)} on\n{witness.tallies_csv}the Z3 encoding and the evaluator disagree")
            return
        if sub.kind == "consequence":
            values = _consequence_change(sets["old"].band(sub.code), sets["new"].band(sub.code))
        else:
            values = (_show(old_code), _show(new_code))
        sides = {s: _set_side(p.pol[s], sets[s], r[s], values[i]) for i, s in enumerate(SIDES)}
        self.differences.append(Difference(sub.kind, sub.name, values[0], values[1], witness, sides["old"], sides["new"], name))

    def record_cadre(self, sub: _Subject, model: z3.ModelRef, a: Value, b: Value) -> None:
        p = self.pair
        row = p.roster_row(model)
        tallies = p.tally_rows(model, self._planned(model))
        years = p.years(model)
        d = {s: _decide(p.pol[s], years[i], row, tallies) for i, s in enumerate(SIDES)}
        got = {s: _value(sub.kind, sub.venue, d[s]) for s in SIDES}
        witness = Witness((row,), tallies, years)
        if got["old"] != a or got["new"] != b or got["old"] == got["new"]:
            self.errors.append(
                f"{sub.name}: the solver claims {_show(a)} (OLD) vs {_show(b)} (NEW), the evaluators decide {_show(got['old'])} "
                f"vs {_show(got['new'])} on\n{witness.roster_csv}{witness.tallies_csv}"
                "the Z3 encoding and the evaluator disagree")
            return
        sides = {s: _side(p.pol[s], d[s], sub.kind, sub.venue, _show(got[s])) for s in SIDES}
        self.differences.append(Difference(sub.kind, sub.name, _show(a), _show(b), witness, sides["old"], sides["new"]))

    # ---- schema differences: inputs only one version admits
    def schema(self) -> None:
        p = self.pair
        for s in SIDES:
            pol, other = p.pol[s], p.pol[_other(s)]
            for lv in pol.level_codes():
                if lv not in other.level_codes():
                    self.schema_case(s, f"level {lv}", z3.And(p.roster_ok(s), p.level == p.levels.index(lv)),
                                     [p.plan[s].status["voted"]])
            for t in pol.title_codes():
                if t not in other.title_codes():
                    self.schema_case(s, f"title {t}", z3.And(p.roster_ok(s), p.title[t]), [p.plan[s].status["voted"]])
            for v in pol.venue_codes():
                if v not in other.venue_codes():
                    self.schema_case(s, f"venue {v}", z3.And(p.roster_ok(s), p.roster_ok(_other(s)), p.venue(s, v),
                                                              p.tally[v].given, p.tally_ok(s, v)), [], tally_venue=v)
            other_types = {f.name: f.type for f in other.facts}
            for f in pol.facts:
                if f.name not in other_types:
                    self.schema_case(_other(s), f"roster column {f.name}", z3.And(p.roster_ok("old"), p.roster_ok("new")),
                                     [p.plan[_other(s)].status["voted"]], omit=f.name)
                elif other_types[f.name] != f.type and s == "old":
                    self.fact_type_case(f, other_types[f.name])
        if any(p.pol["old"].base_at(v) != p.pol["new"].base_at(v) for v in p.venues):
            for v in p.venues:
                if v in p.pol["old"].venue_codes() and v in p.pol["new"].venue_codes():
                    cond = z3.And(p.roster_ok("old"), p.roster_ok("new"), p.venue("old", v), p.venue("new", v), p.tally[v].given,
                                  p.tally_ok("old", v) != p.tally_ok("new", v))
                    if self.schema_case(None, "share denominator", cond, [], tally_venue=v):
                        break

    def schema_case(self, admits: Side | None, subject: str, cond: z3.BoolRef, prefer: list[z3.BoolRef],
                    tally_venue: str = "", omit: str = "") -> bool:
        """Find an input admitted by ``admits`` only (``None``: decided by the tally) and record it."""
        p, solver = self.pair, self.pair.solver
        solver.push()
        try:
            solver.add(cond)
            solver.add(p.cells_agree())
            if not tally_venue:  # a roster witness: its tallies are ones both versions read
                solver.add(*[p.tally_ok(s, v) for v in p.venues for s in SIDES])
            answer = p.check()
            if answer == z3.unsat:
                return False
            if answer != z3.sat:
                self.unknown.append(f"schema ({subject}): {solver.reason_unknown() or 'unknown'}")
                return False
            model = p.readable(solver.model(), prefer)
        finally:
            solver.pop()
        shown = p.roster_row(model, frozenset({omit}) if omit else frozenset())
        planned = tuple(v for v in p.venues if admits is not None and _bool(model, p.venue(admits, v)))
        tallies = p.tally_rows(model, (tally_venue,) if tally_venue else planned)
        years = p.years(model)
        sides: dict[Side, SideDecision] = {}
        for i, s in enumerate(SIDES):
            pol = p.pol[s]
            why = _admits_roster(pol, shown) or next((r for t in tallies if (r := _admits_tally(pol, t))), None)
            if why is not None:
                sides[s] = SideDecision("rejected", why)
                continue
            d = _decide(pol, years[i], shown, tallies)
            if tally_venue and tally_venue not in d.plan.venues:
                sides[s] = SideDecision("rejected", f"the tally at {tally_venue} is rejected: the cadre is not planned there")
                continue
            kind = "band" if tally_venue else "status"
            value = f"band {_show(_value('band', tally_venue, d))}" if tally_venue else f"admitted, status {d.plan.status}"
            sides[s] = _side(pol, d, kind, tally_venue, value)
        witness = Witness((shown,), tallies, years)
        rejected = [s for s in SIDES if sides[s].rejected is not None]
        if len(rejected) != 1 or (admits is not None and rejected[0] == admits):
            self.errors.append(f"schema ({subject}): the witness is not admitted by exactly one version "
                               f"(OLD: {sides['old'].rejected or 'admitted'}; NEW: {sides['new'].rejected or 'admitted'})")
            return True
        self.differences.append(Difference("schema", subject, sides["old"].value, sides["new"].value, witness, sides["old"], sides["new"]))
        return True

    def fact_type_case(self, f: ir.FactDecl, new_type: str) -> None:
        """A roster cell one version reads as a fact of type ``f.type`` and the other as ``new_type``."""
        p = self.pair
        cell: bool | int = True if "bool" in (f.type, new_type) else 3000  # a flag, or a number no year can be
        facts = tuple((k, cell if k == f.name else v) for k, v in _default_facts(p))
        common = [lv for lv in p.levels if all(lv in p.pol[s].level_codes() for s in SIDES)]
        row = RosterRow(_CID, common[0] if common else "", (), facts, full_name=f"Nhân chứng {_CID}")
        sides: dict[Side, SideDecision] = {}
        for s in SIDES:
            why = _admits_roster(p.pol[s], row)
            if why is None:
                d = _decide(p.pol[s], p.pol[s].vote_year, row, ())
                sides[s] = _side(p.pol[s], d, "status", "", f"admitted, status {d.plan.status}")
            else:
                sides[s] = SideDecision("rejected", why)
        if sum(sides[s].rejected is not None for s in SIDES) != 1:
            return  # no level both versions admit: the level difference is the one reported
        self.differences.append(Difference("schema", f"roster column {f.name} ({f.type} → {new_type})", sides["old"].value,
                                           sides["new"].value, Witness((row,), (), (None, None)), sides["old"], sides["new"]))


def _default_facts(p: _Pair) -> tuple[tuple[str, bool | int | None], ...]:
    out: list[tuple[str, bool | int | None]] = []
    for name, typ, _ in p.facts:
        if name not in [k for k, _ in out]:
            out.append((name, False if typ == "bool" else None))
    return tuple(out)


def _admits_roster(pol: ir.Policy, row: RosterRow) -> str | None:
    """Why ``pol``'s roster reader rejects ``row`` (the checks of :mod:`tinnhiem.roster`), or None."""
    if row.level not in pol.level_codes():
        return f"unknown level '{row.level}'"
    unknown = [t for t in row.titles if t not in pol.title_codes()]
    if unknown:
        return f"unknown title code '{unknown[0]}'"
    given = dict(row.facts)
    for f in pol.facts:
        if f.name not in given:
            return f"the roster has no column '{f.name}'"
        v = given[f.name]
        match f.type:
            case "bool":
                if v not in (None, True, False, 0, 1):  # an empty cell is false; 1 and 0 are flags too
                    return f"{f.name} must be true or false (also yes/no, 1/0), not '{v}'"
            case "year" | "int":
                if isinstance(v, bool):
                    return f"{f.name} must be a whole number, not '{str(v).lower()}'"
                if f.type == "year" and v is not None and not FACT_YEARS[0] <= v <= FACT_YEARS[1]:
                    return f"{f.name} must be a year between {FACT_YEARS[0]} and {FACT_YEARS[1]}, not {v}"
            case _:
                raise AssertionError(f.type)
    return None


def _admits_tally(pol: ir.Policy, row: TallyRow) -> str | None:
    """Why ``pol``'s tally reader rejects ``row`` on its own (unknown venue, zero denominator), or None."""
    if row.venue not in pol.venue_codes():
        return f"unknown venue '{row.venue}'"
    den = pol.base_at(row.venue)
    value = getattr(row, den)
    if value is None:
        return f"the policy computes the share over '{den}', which this row does not give"
    if value == 0:
        return f"no ballots {den} ({den} = 0): the share of low votes is undefined"
    return None


# ---- notes: declarations that changed -------------------------------------------------------------


def _essence(x: object) -> object:
    """What a declaration decides, without its name, citation, labels or location."""
    match x:
        case ir.ScopeRule():
            return ("scope", x.level, x.titles)
        case ir.Exemption():
            return ("exemption", x.when)
        case ir.VenueRule():
            return ("venue_rule", x.when, x.items, x.overrides)
        case ir.BandRule():
            return ("band", x.when, x.severity)
        case _:
            return x


def _named_changes(what: str, old: Sequence, new: Sequence, equivalent: Callable[[object, object], bool]) -> list[Note]:
    notes = []
    a = {x.name: x for x in old}
    b = {x.name: x for x in new}
    gone = [n for n in a if n not in b]
    came = [n for n in b if n not in a]
    for n in list(gone):
        twin = next((m for m in came if equivalent(a[n], b[m])), None)
        if twin is not None:
            notes.append(Note("renamed", f"{what} '{n}' is named '{twin}' in NEW, with the same condition "
                                         "(reports and citations show the new name)"))
            gone.remove(n)
            came.remove(twin)
    notes += [Note("removed", f"{what} '{n}' is only in OLD") for n in gone]
    notes += [Note("added", f"{what} '{n}' is only in NEW") for n in came]
    for n in a:
        if n in b:
            if _essence(a[n]) != _essence(b[n]):
                notes.append(Note("changed", f"{what} '{n}' is written differently"))
            elif getattr(a[n], "cite", None) != getattr(b[n], "cite", None):
                notes.append(Note("citation", f"{what} '{n}': its citation changed"))
    return notes


def _band_changes(set_name: str, a: ir.BandSet, b: ir.BandSet) -> list[Note]:
    old, new = {x.code: x for x in a.bands}, {x.code: x for x in b.bands}
    renames = _renames(a, b)
    notes = [Note("renamed", f"band '{c}' of '{set_name}' is named '{d}' in NEW, with the same condition, severity and "
                             "consequences") for c, d in renames.items()]
    notes += [Note("removed", f"band '{c}' of '{set_name}' is only in OLD") for c in old if c not in new and c not in renames]
    notes += [Note("added", f"band '{c}' of '{set_name}' is only in NEW") for c in new if c not in old and c not in renames.values()]
    for c, x in old.items():
        y = new.get(c)
        if y is None:
            continue
        if _essence(x) != _essence(y):
            notes.append(Note("changed", f"band '{c}' of '{set_name}' is written differently"))
        if (x.must, x.may) != (y.must, y.may):
            notes.append(Note("changed", f"band '{c}' of '{set_name}': its consequences changed "
                                         f"(must {len(x.must)} → {len(y.must)}, may {len(x.may)} → {len(y.may)})"))
        elif x.cite != y.cite:
            notes.append(Note("citation", f"band '{c}' of '{set_name}': its citation changed"))
    return notes


def _quorum_text(q: ir.QuorumRule | None) -> str:
    return f"{q.counted} {q.op} {q.ratio} of {q.base}" if q is not None else "none"


def _count_changes(pair: _Pair) -> list[Note]:
    """How a count is read: the share's denominator, each band set's base, the quorum, ``max_venues``, the
    tally invariants (the schema of a count) — each OLD → NEW."""
    old, new = pair.pol["old"], pair.pol["new"]
    notes: list[Note] = []
    shares = [f"low / {p.share.denominator}" if p.share is not None else f"none (low / {ir.DEFAULT_BASE})" for p in (old, new)]
    if shares[0] != shares[1]:
        notes.append(Note("changed", f"share: {shares[0]} (OLD) → {shares[1]} (NEW)"))
    for name, sets in pair.sets.items():
        bases = [pair.pol[s].base_of(sets[s]) for s in SIDES]
        if bases[0] != bases[1]:
            notes.append(Note("changed", f"band set '{name}': shares counted over {bases[0]} (OLD) → {bases[1]} (NEW)"))
    if _quorum_text(old.quorum) != _quorum_text(new.quorum):
        notes.append(Note("changed", f"quorum: {_quorum_text(old.quorum)} (OLD) → {_quorum_text(new.quorum)} (NEW)"))
    limits = [str(p.max_venues.count) if p.max_venues is not None else "none" for p in (old, new)]
    if limits[0] != limits[1]:
        notes.append(Note("changed", f"max_venues: {limits[0]} (OLD) → {limits[1]} (NEW)"))
    rules = {s: [inv.text for inv in pair.pol[s].invariants()] for s in SIDES}
    only = {s: [r for r in rules[s] if r not in rules[_other(s)]] for s in SIDES}
    if only["old"] or only["new"]:
        notes.append(Note("changed", f"tally invariants: {'; '.join(only['old']) or 'none'} (OLD) → "
                                     f"{'; '.join(only['new']) or 'none'} (NEW); the others are the same"))
    return notes


def _notes(pair: _Pair) -> list[Note]:
    old, new = pair.pol["old"], pair.pol["new"]
    notes: list[Note] = []
    if old.vote_year != new.vote_year:
        notes.append(Note("vote_year", f"vote year {old.vote_year} (OLD) → {new.vote_year} (NEW): each version decides in its own"))
    notes += _count_changes(pair)

    def same_exemption(x: object, y: object) -> bool:
        assert isinstance(x, ir.Exemption) and isinstance(y, ir.Exemption)
        solver = pair.solver
        solver.push()
        try:
            solver.add(pair.roster_ok("old"), pair.roster_ok("new"),
                       pair.plan["old"].exemptions[x.name] != pair.plan["new"].exemptions[y.name])
            return pair.check() == z3.unsat
        finally:
            solver.pop()

    def same_static(x: object, y: object) -> bool:
        return _essence(x) == _essence(y)

    notes += _named_changes("scope rule", old.scope, new.scope, same_static)
    notes += _named_changes("exemption", old.exemptions, new.exemptions, same_exemption)
    notes += _named_changes("venue rule", old.venue_rules, new.venue_rules, same_static)
    sets_old, sets_new = {bs.name: bs for bs in old.band_sets}, {bs.name: bs for bs in new.band_sets}
    notes += [Note("removed", f"band set '{n}' is only in OLD") for n in sets_old if n not in sets_new]
    notes += [Note("added", f"band set '{n}' is only in NEW") for n in sets_new if n not in sets_old]
    for name in sets_old:
        if name in sets_new:
            notes += _band_changes(name, sets_old[name], sets_new[name])
    return sorted(set(notes), key=lambda n: (n.kind, n.text))


def diff_policies(old: ir.Policy, new: ir.Policy, timeout_ms: int = 10_000) -> DiffResult:
    """Compare two loaded policies; see the module docstring."""
    d = _Differ(old, new, timeout_ms)
    d.run()
    notes = _notes(d.pair)
    versions = tuple(Version(p.path, p.id, p.name, p.sha256, p.vote_year) for p in (old, new))
    return DiffResult(versions[0], versions[1], tuple(sorted(d.differences, key=lambda x: x.key)), tuple(notes),
                      tuple(sorted(d.unknown)), tuple(d.errors))


# ---- reports -------------------------------------------------------------------------------------


def _side_data(s: SideDecision) -> dict:
    return {"value": s.value, "rejected": s.rejected, "status": s.status, "exemptions": list(s.exemptions),
            "venues": list(s.venues), "bands": [{"venue": v, "band": b, "low_share": sh} for v, b, sh in s.bands],
            "outcome": s.outcome, "consequences": [{"kind": k, "text": x} for k, x in s.consequences],
            "rules": [{"kind": r.kind, "rule": r.rule, "detail": r.detail, "cite": r.cite, "quote": r.quote} for r in s.rules]}


def to_data(result: DiffResult) -> dict:
    """The result as plain data (the JSON format; deterministic)."""
    def version(v: Version) -> dict:
        return {"path": v.path, "id": v.id, "name": v.name, "sha256": v.sha256, "vote_year": v.vote_year}

    return {
        "tool": {"name": "tinnhiem", "command": "diff"},
        "exit_code": result.exit_code,
        "equivalent": not result.differences and not result.unknown and not result.internal_errors,
        "old": version(result.old), "new": version(result.new),
        "summary": {k: sum(1 for d in result.differences if d.kind == k) for k in KINDS} | {"differences": len(result.differences)},
        "differences": [{
            "kind": d.kind, "subject": d.subject, "old_value": d.old_value, "new_value": d.new_value, "band_set": d.band_set,
            "witness": {"roster_csv": d.witness.roster_csv, "tallies_csv": d.witness.tallies_csv,
                        "roster": [r.cells() for r in d.witness.roster], "tallies": [t.cells() for t in d.witness.tallies],
                        "year": {"old": d.witness.years[0], "new": d.witness.years[1]}},
            "old": _side_data(d.old), "new": _side_data(d.new),
        } for d in result.differences],
        "notes": [{"kind": n.kind, "text": n.text} for n in result.notes],
        "unknown": list(result.unknown),
        "internal_errors": list(result.internal_errors),
    }


def to_json(result: DiffResult) -> str:
    """The JSON format: :func:`to_data` and ``errors`` (the diagnostics of a policy with errors, always
    empty here: such a diff is reported by :mod:`tinnhiem.diff_command`, with the same keys)."""
    return json.dumps(to_data(result) | {"errors": []}, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def _summary(kind: str, s: SideDecision) -> str:
    if s.rejected is not None:
        return f"rejected: {s.rejected}"
    if kind in SET_KINDS:
        return " · ".join(f"band {b or 'none'}" + (f" (share {share})" if share else "") for _, b, share in s.bands)
    parts = [f"status {s.status}"]
    if s.exemptions:
        parts.append("exempt by " + ", ".join(s.exemptions))
    parts.append("venues " + (", ".join(s.venues) or "none"))
    for v, b, share in s.bands:
        parts.append(f"band({v}) {b or 'none'}" + (f" (share {share})" if share else " (no tally)"))
    parts.append(f"outcome {s.outcome or 'none'}")
    return " · ".join(parts)


def render_text(console: Console, result: DiffResult) -> None:
    o, n = result.old, result.new
    console.print(Text.assemble(("OLD ", "bold"), f"{o.path} ({o.id}, sha256 {o.sha256[:12]})"))
    console.print(Text.assemble(("NEW ", "bold"), f"{n.path} ({n.id}, sha256 {n.sha256[:12]})"))
    console.print()
    for i, d in enumerate(result.differences, 1):
        console.print(Text.assemble((f"{i}. ", "bold"), (f"[{d.kind}] ", "bold red"), (d.subject, "bold"), ": ",
                                    (d.old_value, "cyan"), " (OLD) → ", (d.new_value, "magenta"), " (NEW)"))
        w = d.witness
        for name, text in (("roster.csv", w.roster_csv), ("tallies.csv", w.tallies_csv)):
            if text:
                console.print(Padding(Text(name, style="bold"), (0, 0, 0, 3)))
                console.print(Padding(Text(text.rstrip("\n")), (0, 0, 0, 5)))
        if w.years[0] is not None and w.years != (o.vote_year, n.vote_year):
            console.print(Padding(Text(f"vote year: {w.years[0]} (OLD), {w.years[1]} (NEW)"), (0, 0, 0, 3)))
        if d.kind in SET_KINDS:
            venue = w.tallies[0].venue if w.tallies else ""
            where = (f"the tally at {venue}, where both versions apply it" if venue else
                     "a tally at no venue: no venue applies it in both versions")
            console.print(Padding(Text(f"band set {d.band_set}, decided directly ({where})", style="dim"), (0, 0, 0, 3)))
        for label, side in (("OLD", d.old), ("NEW", d.new)):
            console.print(Padding(Text.assemble((label, "bold"), f": {_summary(d.kind, side)}"), (0, 0, 0, 3)))
            for r in side.rules:
                if r.kind == "none":
                    console.print(Padding(Text(f"· {r.detail}", style="dim"), (0, 0, 0, 5)))
                    continue
                head = f"· {r.kind} {r.rule}" + (f" [{r.cite}]" if r.cite else "") + f": {r.detail}"
                console.print(Padding(Text(head), (0, 0, 0, 5)))
                if r.quote:
                    console.print(Padding(Text(f"“{r.quote}”", style="italic"), (0, 0, 0, 7)))
            for k, text in side.consequences:
                console.print(Padding(Text(f"· {k}: {text}"), (0, 0, 0, 5)))
        console.print()
    if result.notes:
        console.print(Text("Declarations changed between the versions (the differences above, if any, follow from them):", style="bold"))
        for note in result.notes:
            console.print(Text(f"  - {note.text}"))
        console.print()
    for u in result.unknown:
        console.print(Text(f"? unknown: {u}", style="magenta"))
    for e in result.internal_errors:
        console.print(Text(f"! internal error: {e}", style="bold red"))
    if result.differences:
        kinds = ", ".join(f"{sum(1 for d in result.differences if d.kind == k)} {k}" for k in KINDS
                          if any(d.kind == k for d in result.differences))
        console.print(Text(f"{len(result.differences)} difference{'s' if len(result.differences) != 1 else ''} ({kinds}) "
                           f"— exit {result.exit_code}", style="bold"))
    elif result.exit_code == 0:
        console.print(Text("equivalent: no input that both versions admit is decided differently (status, exemption, "
                           "venues, band at each venue, outcome, each band set, its bands' codes and consequences) — exit 0",
                           style="bold green"))
    else:
        console.print(Text(f"no difference found, but the comparison is incomplete — exit {result.exit_code}", style="bold"))


def to_text(result: DiffResult, width: int = 120) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, markup=False, highlight=False, soft_wrap=False, emoji=False)
    render_text(console, result)
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
