"""Resolution, type checking and lowering: syntax tree → IR.

Takes one :class:`dsl.syntax.PolicyFile` and the already-lowered policies it imports (alias →
:class:`dsl.ir.Policy`); produces one :class:`dsl.ir.Policy`, or reports every problem it finds to a
:class:`dsl.diagnostics.Collector` (unknown names with did-you-mean hints, duplicates, type errors,
terms used out of context, bad thresholds, cycles).

Expression contexts decide which names mean something:

========== ==================================================================================
roster     facts of the roster row, ``level``, ``vote_year``, ``holds(...)``, definitions
venue      roster + ``voted``, ``in_scope``, ``exempt``, ``status``
band       ``share`` compared with a number
property   venue + ``venue(v)``, ``venue_count``
========== ==================================================================================
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from dsl import ir
from dsl import syntax as s
from dsl.diagnostics import Collector, did_you_mean
from dsl.spans import Span
from dsl.values import VOTE_YEARS

Context = Literal["roster", "venue", "band", "property"]
_CTX_ORDER = {"roster": 0, "venue": 1, "property": 2}
_BUILTIN_NAMES = {
    "level": ("level", "roster"),
    "vote_year": ("int", "roster"),
    "voted": ("bool", "venue"),
    "in_scope": ("bool", "venue"),
    "exempt": ("bool", "venue"),
    "status": ("status", "venue"),
    "venue_count": ("int", "property"),
    "share": ("share", "band"),
}
_HEADER_KEYS = ("name", "issuer", "date", "vote_year", "summary")
_FACT_TYPES = ("bool", "year", "int")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
#: The deepest a lowered condition may nest (the evaluator, the encoder and the printer recurse on it).
MAX_DEPTH = 100


@dataclass
class _Typed:
    kind: str  # bool | int | ratio | share | level | status | enum
    expr: object = None  # ir.Expr for bool, ir.IntTerm for int, Fraction for ratio, str for enum
    span: Span = field(default_factory=Span.unknown)


class _Lowerer:
    def __init__(self, pf: s.PolicyFile, imports: dict[str, ir.Policy], collector: Collector) -> None:
        self.pf = pf
        self.imports = imports
        self.c = collector
        self.seen: set[tuple[str, str, Span]] = set()
        self.defines: dict[str, s.Define] = {}
        self.define_stack: list[str] = []
        self.reported_cycles: set[frozenset[str]] = set()
        self.depth = 0  # how deep the condition being lowered nests, definitions expanded (see MAX_DEPTH)
        self.too_deep = False

    # ---- diagnostics, deduplicated (definitions may be lowered in several contexts)
    def err(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        key = (code, message, span)
        if key not in self.seen:
            self.seen.add(key)
            self.c.error(code, message, span, hint)

    # ---- entry
    def run(self) -> ir.Policy:
        items = self.pf.items
        by_kind: dict[type, list] = {}
        for it in items:
            by_kind.setdefault(type(it), []).append(it)

        def all_of(kind):
            return by_kind.get(kind, [])

        def one_of(kind, what: str):
            found = all_of(kind)
            for extra in found[1:]:
                self.err("E306", f"{what} is declared twice", extra.span, "keep one declaration")
            return found[0] if found else None

        self.import_spans = {}
        for imp in all_of(s.Import):
            alias = imp.alias.text if imp.alias else None
            for a, pol in self.imports.items():
                if a == alias or (alias is None and pol.path.endswith(imp.path.value.rsplit("/", 1)[-1])):
                    self.import_spans.setdefault(a, imp.span)
        header = one_of(s.Header, "the policy header")
        if header is None:
            self.err("E306", "the file has no policy header", Span(self.pf.path, 1, 1, 1, 2),
                     'start the file with: policy my_policy { name "…" issuer "…" date 2023-05-15 }')
        self._check_names(items)

        # documents: local and imported (for citations)
        self.documents: dict[str, str] = {}
        for d in all_of(s.Document):
            self.documents[d.name.text] = d.title.value
        self.all_documents = dict(self.documents)
        for pol in self.imports.values():
            for doc, title in pol.documents:
                self.all_documents.setdefault(doc, title)

        # schema: levels, facts, titles (inherited from an import when not declared here)
        levels_decl = one_of(s.Levels, "the levels block")
        if levels_decl is not None:
            own_levels = tuple(ir.Level(i.name.text, i.label.value) for i in levels_decl.items)
            self.levels = self._added("levels", own_levels, [i.name for i in levels_decl.items], "level") \
                if levels_decl.adds else own_levels
        else:
            self.levels = self._inherit("levels", ())
        self.level_codes = [lv.code for lv in self.levels]
        facts: list[ir.FactDecl] = []
        for f in all_of(s.Fact):
            if f.type.text not in _FACT_TYPES:
                self.err("E208", f"unknown fact type '{f.type.text}'", f.type.span,
                         did_you_mean(f.type.text, _FACT_TYPES) or "a fact is bool, year or int")
                continue
            facts.append(ir.FactDecl(f.name.text, f.type.text, f.label.value))  # type: ignore[arg-type]
        fact_decls = all_of(s.Fact)
        if fact_decls and all(f.adds for f in fact_decls):
            self.facts = self._added("facts", tuple(facts), [f.name for f in fact_decls], "fact")
        else:
            self._mixed(fact_decls, "fact")
            self.facts = tuple(facts) if fact_decls else self._inherit("facts", ())
        self.fact_types = {f.name: f.type for f in self.facts}
        titles = all_of(s.Title)
        own_titles = tuple(ir.TitleDecl(t.code.text, t.label.value, frozenset(x.text for x in t.tags)) for t in titles)
        if titles and all(t.adds for t in titles):
            self.titles = self._added("titles", own_titles, [t.code for t in titles], "title")
        elif titles:
            self._mixed(titles, "title")
            self.titles = own_titles
        else:
            self.titles = self._inherit("titles", ())
        self.title_codes = {t.code for t in self.titles}
        self.tags: dict[str, frozenset[str]] = {}
        for t in self.titles:
            for tag in t.tags:
                self.tags[tag] = self.tags.get(tag, frozenset()) | {t.code}
        for t in titles:
            for tag in t.tags:
                if tag.text in self.title_codes:
                    self.err("E201", f"'{tag.text}' is both a title code and a tag", tag.span, "give the tag another name")

        venues = all_of(s.Venue)
        self.venues = tuple(ir.VenueDecl(v.code.text, v.label.value) for v in venues) if venues else self._inherit("venues", ())
        self.venue_codes = [v.code for v in self.venues]
        self.defines = {d.name.text: d for d in all_of(s.Define)}

        # singletons inherited from imports when not declared here
        mv = one_of(s.MaxVenues, "max_venues")
        max_venues = ir.MaxVenues(mv.count, self.cite(mv.cite), mv.span) if mv else self._inherit("max_venues", None)
        if mv is not None and mv.count < 1:
            self.err("E303", "max_venues must be at least 1", mv.span)
        ballot_decl = one_of(s.Ballot, "the ballot")
        ballot = self.ballot(ballot_decl) if ballot_decl else self._inherit("ballot", None)
        share_decl = one_of(s.ShareDecl, "the share")
        share = self.share(share_decl) if share_decl else self._inherit("share", None)
        tally_decl = one_of(s.TallySchema, "the tally schema")
        tally = self.tally_schema(tally_decl) if tally_decl else self._inherit("tally", ())
        quorum_decl = one_of(s.Quorum, "the quorum")
        quorum = self.quorum(quorum_decl) if quorum_decl else self._inherit("quorum", None)
        combine_decl = one_of(s.Combine, "two_venues")
        combine = (ir.CombineRule(combine_decl.outcome.text, combine_decl.label.value, self.cite(combine_decl.cite), combine_decl.span)
                   if combine_decl else self._inherit("combine", None))

        scope = tuple(self.scope(x) for x in all_of(s.Scope))
        exemptions = tuple(self.exemption(x) for x in all_of(s.Exempt))
        venue_rules = self.venue_rules(all_of(s.VenueRule))
        band_sets, band_at = self.bands(all_of(s.Bands), all_of(s.Apply))
        band_sets, stages = self.stages(all_of(s.Stage), band_sets, band_at)
        self.stage_list = stages
        schedule = self.schedule(all_of(s.Schedule))
        provisions = tuple(ir.Provision(p.name.text, p.text.value, self.cite(p.cite), p.span) for p in all_of(s.Provision))
        properties = tuple(self.property(p) for p in all_of(s.Property))
        acks = tuple(self.acknowledge(a, {p.name for p in properties}) for a in all_of(s.Acknowledge))
        for name, d in self.defines.items():  # validate definitions nobody uses
            self.define_stack = []
            self._define(name, d.name.span, "property")
        self.band_codes = {b.code for bs in band_sets for b in bs.bands}
        self.combine_outcome = combine.outcome if combine else None
        self.exemption_names = {e.name for e in exemptions}
        examples = tuple(self.example(e) for e in all_of(s.Example))

        hf = {f.key.text: f for f in (header.fields if header else ())}
        for key, f in hf.items():
            if key not in _HEADER_KEYS:
                self.err("E208", f"unknown header field '{key}'", f.key.span, did_you_mean(key, _HEADER_KEYS))
        date = hf["date"].value if "date" in hf else None
        if date is not None and not isinstance(date, _dt.date):
            self.err("E304", "the header's date must be written YYYY-MM-DD", hf["date"].span)
            date = None
        vote_year = hf["vote_year"].value if "vote_year" in hf else self._inherit("vote_year", None)
        if "vote_year" in hf and not (isinstance(vote_year, int) and VOTE_YEARS[0] <= vote_year <= VOTE_YEARS[1]):
            self.err("E304", f"vote_year must be a year between {VOTE_YEARS[0]} and {VOTE_YEARS[1]}, not {vote_year!r}",
                     hf["vote_year"].span)
            vote_year = None

        def text_field(key: str) -> str:
            v = hf[key].value if key in hf else ""
            return v if isinstance(v, str) else str(v)

        return ir.Policy(
            id=header.name.text if header else "",
            name=text_field("name"), issuer=text_field("issuer"), date=date, vote_year=vote_year,
            summary=text_field("summary"), path=self.pf.path,
            documents=tuple(self.documents.items()), levels=self.levels, facts=self.facts, titles=self.titles,
            scope=scope, exemptions=exemptions, venues=self.venues, max_venues=max_venues,
            venue_rules=venue_rules, ballot=ballot, share=share, quorum=quorum, band_sets=band_sets,
            band_at=band_at, combine=combine, schedule=schedule, provisions=provisions,
            properties=properties, acknowledgements=acks, examples=examples,
            imports=tuple(self.imports.items()), span=header.span if header else Span.unknown(self.pf.path),
            tally=tally, stages=stages,
        )

    def _added(self, attr: str, own: tuple, names: list[s.Name], what: str) -> tuple:
        """``also …``: the imported declarations (as inherited), then this file's; a name declared by
        both is an error (to change an imported one, declare the whole list without ``also``)."""
        inherited = self._inherit(attr, ())
        if not self.imports:
            self.err("E306", f"'also {what}' adds to what an import declares, and this file imports nothing", names[0].span,
                     f"write '{what}' without 'also'")
        have = {getattr(x, "code", getattr(x, "name", None)) for x in inherited}
        for n in names:
            if n.text in have:
                self.err("E201", f"{what} '{n.text}' is already declared by an import", n.span,
                         f"drop this line, or declare every {what} without 'also' to replace the imported ones")
        return tuple(inherited) + own

    def _mixed(self, decls: list, what: str) -> None:
        """Some declarations of a kind say ``also`` and others do not: the file must choose."""
        adding = [d for d in decls if d.adds]
        if adding:
            self.err("E306", f"some {what} declarations say 'also' and others do not", adding[0].span,
                     f"write 'also' on every {what} line to add to the imported ones, or on none to replace them")

    def _inherit(self, attr: str, default):
        """Take a declaration this file does not make from its imports; two imports that say different
        things (citations and labels aside) must be settled here (E306)."""
        found: list[tuple[str, object]] = []
        for alias, pol in self.imports.items():
            value = getattr(pol, attr)
            if value:
                found.append((alias, value))
        if not found:
            return default
        first_alias, first = found[0]
        if attr == "share" and any(_essence(v) != _essence(first) for _, v in found[1:]):
            # texts that count over different bases are no conflict: each imported band set keeps the
            # base of its own text (ir.Policy.base_of); this file has no default base unless it says one
            return default
        for alias, value in found[1:]:
            if _essence(value) != _essence(first):
                self.err("E306", f"the imports '{first_alias}' and '{alias}' declare different {attr.replace('_', ' ')}",
                         self.import_spans.get(alias, Span(self.pf.path, 1, 1, 1, 2)),
                         f"declare {attr.replace('_', ' ')} in this file to settle which applies")
                break
        return first

    # ---- names
    def _check_names(self, items: Iterable[s.Item]) -> None:
        """One namespace per kind of declaration; rules share one so citations stay unambiguous."""
        spaces: dict[str, dict[str, Span]] = {}

        def declare(space: str, name: s.Name, what: str) -> None:
            table = spaces.setdefault(space, {})
            if name.text in table:
                first = table[name.text]
                self.err("E201", f"{what} '{name.text}' is declared twice", name.span,
                         f"the first declaration is at {first}")
            else:
                table[name.text] = name.span

        for it in items:
            match it:
                case s.Document():
                    declare("document", it.name, "document")
                case s.Import():
                    if it.alias is not None:
                        declare("alias", it.alias, "import alias")
                case s.Levels():
                    for lv in it.items:
                        declare("level", lv.name, "level")
                case s.Fact():
                    declare("value", it.name, "fact")
                    if it.name.text in _BUILTIN_NAMES:
                        self.err("E201", f"'{it.name.text}' is a built-in name", it.name.span, "choose another name")
                case s.Define():
                    declare("value", it.name, "definition")
                    if it.name.text in _BUILTIN_NAMES:
                        self.err("E201", f"'{it.name.text}' is a built-in name", it.name.span, "choose another name")
                case s.Title():
                    declare("title", it.code, "title")
                case s.Venue():
                    declare("venue", it.code, "venue")
                case s.Scope() | s.Exempt() | s.VenueRule() | s.Bands() | s.Provision() | s.Property() | s.Stage():
                    declare("rule", it.name, "rule")
                case s.Schedule():
                    for ph in it.phases:
                        declare("rule", ph.name, "phase")
                case s.Example():
                    declare("example", it.name, "example")
                case (s.Header() | s.MaxVenues() | s.Ballot() | s.ShareDecl() | s.Quorum() | s.Apply() | s.Combine() | s.Acknowledge()
                      | s.TallySchema()):
                    pass
                case _:
                    raise AssertionError(f"unhandled item {type(it).__name__}")

    def cite(self, c: s.Cite) -> ir.Citation:
        if c.doc.text not in self.all_documents:
            self.err("E206", f"unknown document '{c.doc.text}'", c.doc.span,
                     did_you_mean(c.doc.text, self.all_documents) or "declare it: document ID \"title\"")
        return ir.Citation(c.doc.text, self.all_documents.get(c.doc.text, ""), c.para, c.quote.value)

    def title_set(self, names: Iterable[s.Name]) -> frozenset[str]:
        out: set[str] = set()
        for n in names:
            if n.text in self.title_codes:
                out.add(n.text)
            elif n.text in self.tags:
                out |= self.tags[n.text]
            else:
                self.err("E203", f"unknown title '{n.text}'", n.span,
                         did_you_mean(n.text, list(self.title_codes) + list(self.tags)))
        return frozenset(out)

    def venue_code(self, n: s.Name) -> str:
        if n.text not in self.venue_codes:
            self.err("E204", f"unknown venue '{n.text}'", n.span, did_you_mean(n.text, self.venue_codes))
        return n.text

    def level_code(self, n: s.Name) -> str:
        if n.text not in self.level_codes:
            self.err("E205", f"unknown level '{n.text}'", n.span, did_you_mean(n.text, self.level_codes))
        return n.text

    # ---- expressions
    def boolean(self, e: s.Expr, ctx: Context) -> ir.Expr:
        t = self.expr(e, ctx)
        if t.kind == "bool":
            return t.expr  # type: ignore[return-value]
        if t.kind == "enum" and ctx != "band":  # an undeclared name used as a condition
            self._unknown_name(t)
        elif t.kind != "error":
            self.err("E301", f"expected a condition (true or false), found {_describe(t.kind)}", _span(e))
        return ir.Const(False)

    def expr(self, e: s.Expr, ctx: Context) -> _Typed:
        if self.depth >= MAX_DEPTH:
            if self.too_deep:
                return _Typed("error", None, e.span)
            self.too_deep = True  # once per policy: every user of a deep chain would report it again
            chain = " → ".join(self.define_stack[-3:])
            self.err("E305", f"a condition nests more than {MAX_DEPTH} levels deep once its definitions are expanded"
                     + (f" (… {chain})" if chain else ""), e.span,
                     "definitions that refer to definitions so deeply cannot be decided; flatten the chain")
            return _Typed("error", None, e.span)
        self.depth += 1
        try:
            return self._expr(e, ctx)
        finally:
            self.depth -= 1

    def _expr(self, e: s.Expr, ctx: Context) -> _Typed:
        match e:
            case s.BoolLit(value=v):
                return _Typed("bool", ir.Const(v), e.span)
            case s.IntLit(value=v):
                return _Typed("int", ir.IntConst(v), e.span)
            case s.RatioLit(value=v):
                return _Typed("ratio", v, e.span)
            case s.Not(operand=o):
                return _Typed("bool", ir.Not(self.boolean(o, ctx)), e.span)
            case s.And(operands=ops):
                return _Typed("bool", ir.And(tuple(self.boolean(o, ctx) for o in ops)), e.span)
            case s.Or(operands=ops):
                return _Typed("bool", ir.Or(tuple(self.boolean(o, ctx) for o in ops)), e.span)
            case s.Implies(left=a, right=b):
                return _Typed("bool", ir.Or((ir.Not(self.boolean(a, ctx)), self.boolean(b, ctx))), e.span)
            case s.Call():
                return self.call(e, ctx)
            case s.NameRef():
                return self.name(e, ctx)
            case s.Compare():
                return self.compare(e, ctx)
            case _:
                raise AssertionError(f"unhandled expression {type(e).__name__}")

    def _allowed(self, needed: str, ctx: Context) -> bool:
        if needed == "band" or ctx == "band":
            return needed == ctx
        return _CTX_ORDER[needed] <= _CTX_ORDER[ctx]

    def name(self, e: s.NameRef, ctx: Context) -> _Typed:
        n = e.name.text
        if n in _BUILTIN_NAMES:
            kind, needed = _BUILTIN_NAMES[n]
            if not self._allowed(needed, ctx):
                self.err("E302", f"'{n}' has no meaning in {_CTX_TEXT[ctx]}", e.span, _CTX_HINT.get(n))
                return _Typed("error", None, e.span)
            match n:
                case "level":
                    return _Typed("level", None, e.span)
                case "vote_year":
                    return _Typed("int", ir.VoteYear(), e.span)
                case "voted":
                    return _Typed("bool", ir.StatusIs("voted"), e.span)
                case "in_scope":
                    return _Typed("bool", ir.InScope(), e.span)
                case "exempt":
                    return _Typed("bool", ir.IsExempt(), e.span)
                case "status":
                    return _Typed("status", None, e.span)
                case "venue_count":
                    return _Typed("int", ir.VenueCount(), e.span)
                case "share":
                    return _Typed("share", None, e.span)
        if ctx == "band" and (n in self.defines or n in self.fact_types):
            self.err("E302", f"'{n}' has no meaning in a band condition", e.span, "a band depends only on the share")
            return _Typed("error", None, e.span)
        if ctx == "band" and n in ir.TALLY_FIELDS:  # a count of the tally ('low > 5'): bands read the share of low votes
            self.err("E302", f"'{n}' is a count of the tally; a band condition reads the share of low votes", e.span,
                     "write the threshold on the share, e.g. share > 1/2 (or 50%)")
            return _Typed("error", None, e.span)
        if ctx != "band":
            if n in self.defines:
                return _Typed("bool", self._define(n, e.span, ctx), e.span)
            if n in self.fact_types:
                if self.fact_types[n] == "bool":
                    return _Typed("bool", ir.FactTrue(n), e.span)
                return _Typed("int", ir.IntFact(n), e.span)
        return _Typed("enum", n, e.span)

    def _define(self, n: str, span: Span, ctx: Context) -> ir.Expr:
        if n in self.define_stack:
            members = self.define_stack[self.define_stack.index(n):]
            if frozenset(members) in self.reported_cycles:
                return ir.Const(False)
            self.reported_cycles.add(frozenset(members))
            cycle = " → ".join(members + [n])
            self.err("E305", f"definitions refer to each other in a cycle: {cycle}", self.defines[n].name.span)
            return ir.Const(False)
        self.define_stack.append(n)
        try:
            return self.boolean(self.defines[n].expr, ctx)
        finally:
            self.define_stack.pop()

    def call(self, e: s.Call, ctx: Context) -> _Typed:
        f = e.func.text
        match f:
            case "holds":
                if ctx == "band":
                    self.err("E302", "'holds' has no meaning in a band condition", e.span, "a band depends only on the share")
                    return _Typed("error", None, e.span)
                return _Typed("bool", ir.Holds(self.title_set(e.args)), e.span)
            case "venue":
                if ctx != "property":
                    self.err("E302", f"'venue(...)' has no meaning in {_CTX_TEXT[ctx]}", e.span, "use it in a property")
                    return _Typed("error", None, e.span)
                if len(e.args) != 1:
                    self.err("E301", "venue(...) takes exactly one venue", e.span)
                    return _Typed("error", None, e.span)
                return _Typed("bool", ir.HasVenue(self.venue_code(e.args[0])), e.span)
            case _:
                self.err("E202", f"unknown function '{f}'", e.func.span, did_you_mean(f, ["holds", "venue"]) or "the functions are holds(...) and venue(...)")
                return _Typed("error", None, e.span)

    def compare(self, e: s.Compare, ctx: Context) -> _Typed:
        left, right = self._operand(e.left, e.right, ctx), self._operand(e.right, e.left, ctx)
        op = e.op
        if "error" in (left.kind, right.kind):
            return _Typed("error", None, e.span)
        if e.scale is not None:  # ``left OP p of right``: a part of a whole number
            scale = e.scale.value if isinstance(e.scale, s.RatioLit) else Fraction(e.scale.value)
            if (left.kind, right.kind) != ("int", "int") or ctx == "band":
                what = "a band condition reads the share: write share > 1/2" if ctx == "band" else \
                    "'p of N' compares two whole numbers, e.g. so_kien_nghi >= 20% of so_dai_bieu"
                self.err("E301", f"cannot take a part of {_describe(right.kind)} to compare with {_describe(left.kind)}", e.span, what)
                return _Typed("error", None, e.span)
            if scale < 0:
                self.err("E303", f"a part is not negative; {scale} is", e.scale.span)
            return _Typed("bool", ir.IntCmp(op, left.expr, right.expr, scale), e.span)  # type: ignore[arg-type]
        if right.kind in ("share", "level", "status") and left.kind not in ("share", "level", "status"):
            left, right, op = right, left, _FLIP[op]
        kinds = (left.kind, right.kind)
        match kinds:
            case ("int", "int") if ctx == "band":
                self.err("E302", "a band condition compares the share, not whole numbers", e.span, "write e.g. share > 50%")
                return _Typed("error", None, e.span)
            case ("int", "int"):
                return _Typed("bool", ir.IntCmp(op, left.expr, right.expr), e.span)  # type: ignore[arg-type]
            case ("share", "ratio") | ("share", "int"):
                value = right.expr if right.kind == "ratio" else Fraction(right.expr.value)  # type: ignore[union-attr]
                if not (0 <= value <= 1):
                    self.err("E303", f"a share is between 0 and 1; {value} is not", right.span, "write thresholds as 50%, 2/3 or 0.5")
                return _Typed("bool", ir.ShareCmp(op, value), e.span)
            case ("level", "enum"):
                code = self.level_code(s.Name(right.expr, right.span))  # type: ignore[arg-type]
                return self._eq(op, ir.LevelIs(code), e)
            case ("status", "enum"):
                if right.expr not in ir.STATUSES:
                    self.err("E202", f"unknown status '{right.expr}'", right.span, did_you_mean(str(right.expr), ir.STATUSES))
                return self._eq(op, ir.StatusIs(str(right.expr)), e)
            case ("bool", "bool"):
                a, b = left.expr, right.expr
                same = ir.Or((ir.And((a, b)), ir.And((ir.Not(a), ir.Not(b)))))  # type: ignore[arg-type]
                return self._eq(op, same, e)
            case _:
                for t in (left, right):
                    if t.kind == "enum":
                        self._unknown_name(t)
                        return _Typed("error", None, e.span)
                hint = ("to compare with a part of a number, write: so_kien_nghi >= 20% of so_dai_bieu"
                        if {left.kind, right.kind} == {"int", "ratio"} else None)
                self.err("E301", f"cannot compare {_describe(left.kind)} with {_describe(right.kind)}", e.span, hint)
                return _Typed("error", None, e.span)

    def _operand(self, e: s.Expr, other: s.Expr, ctx: Context) -> _Typed:
        """A status name beside ``status`` is a value (``status = voted``), not the built-in condition."""
        if isinstance(e, s.NameRef) and e.name.text in ir.STATUSES and isinstance(other, s.NameRef) and other.name.text == "status":
            return _Typed("enum", e.name.text, e.span)
        return self.expr(e, ctx)

    def _unknown_name(self, t: _Typed) -> None:
        known = list(self.defines) + list(self.fact_types) + list(_BUILTIN_NAMES)
        self.err("E202", f"unknown name '{t.expr}'", t.span, did_you_mean(str(t.expr), known))

    def _eq(self, op: str, atom: ir.Expr, e: s.Compare) -> _Typed:
        if op == "=":
            return _Typed("bool", atom, e.span)
        if op == "!=":
            return _Typed("bool", ir.Not(atom), e.span)
        self.err("E301", f"'{op}' has no meaning here; use = or !=", e.span)
        return _Typed("error", None, e.span)

    # ---- declarations
    def scope(self, x: s.Scope) -> ir.ScopeRule:
        return ir.ScopeRule(x.name.text, self.level_code(x.level), self.title_set(x.titles), self.cite(x.cite), x.span)

    def exemption(self, x: s.Exempt) -> ir.Exemption:
        refined = None
        if x.refines is not None:
            if x.refines.alias is None:
                self.err("E207", "an exemption refines an exemption of an imported policy", x.refines.span, "write: refines alias.name")
            else:
                refined = self._imported(x.refines, "exemptions", "exemption")
        return ir.Exemption(x.name.text, self.boolean(x.when, "roster"), x.reason.value, self.cite(x.cite),
                            str(x.refines) if x.refines else None, refined, x.span)

    def venue_rules(self, rules: list[s.VenueRule]) -> tuple[ir.VenueRule, ...]:
        names = {r.name.text for r in rules}
        out = []
        for r in rules:
            overrides = set()
            for q in r.overrides:
                if q.alias is not None:
                    self.err("E207", f"'{q}' is not a venue rule of this policy", q.span,
                             "an exception overrides a venue rule declared in the same policy")
                elif q.name not in names:
                    self.err("E202", f"unknown venue rule '{q.name}'", q.span, did_you_mean(q.name, names))
                else:
                    overrides.add(q.name)
            items = []
            for it in r.items:
                guard = self.boolean(it.when, "venue") if it.when is not None else None
                items.append(ir.VenueItem(self.venue_code(it.venue), it.kind, guard))
            out.append(ir.VenueRule(r.name.text, self.boolean(r.when, "venue"), tuple(items), frozenset(overrides), self.cite(r.cite), r.span))
        # exceptions must not form a cycle
        graph = {r.name: r.overrides for r in out}
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            state[n] = 1
            for m in sorted(graph.get(n, ())):
                if state.get(m) == 1:
                    cyc = path[path.index(m):] + [m] if m in path else [n, m]
                    span = next(r.span for r in out if r.name == n)
                    self.err("E305", "exceptions override each other in a cycle: " + " → ".join(cyc), span)
                elif m not in state:
                    visit(m, path + [m])
            state[n] = 2

        for r in out:
            if r.name not in state:
                visit(r.name, [r.name])
        return tuple(out)

    def ballot(self, b: s.Ballot) -> ir.Ballot:
        expected = ("high", "confidence", "low")
        seen = []
        for lv in b.levels:
            if lv.name.text not in expected:
                self.err("E202", f"unknown ballot level '{lv.name.text}'", lv.name.span,
                         did_you_mean(lv.name.text, expected) or "the levels are high, confidence, low")
            seen.append(lv.name.text)
        missing = [x for x in expected if x not in seen]
        if missing:
            self.err("E306", f"the ballot lacks the level(s) {', '.join(missing)}", b.span)
        return ir.Ballot(tuple((lv.name.text, lv.label.value) for lv in b.levels), self.cite(b.cite))

    def share(self, x: s.ShareDecl) -> ir.ShareRule:
        if x.numerator.text != "low":
            self.err("E202", f"the share counts 'low' votes, not '{x.numerator.text}'", x.numerator.span, "write: share = low / collected")
        if x.denominator.text not in ir.DENOMINATORS:
            self.err("E202", f"unknown denominator '{x.denominator.text}'", x.denominator.span,
                     did_you_mean(x.denominator.text, ir.DENOMINATORS) or "one of: " + ", ".join(ir.DENOMINATORS))
        return ir.ShareRule("low", x.denominator.text, self.cite(x.cite), x.span)

    def tally_schema(self, x: s.TallySchema) -> tuple[ir.Invariant, ...]:
        out = []
        for inv in x.invariants:
            for name in inv.left + inv.right:
                if name.text not in ir.TALLY_FIELDS:
                    self.err("E307", f"unknown tally field '{name.text}'", name.span,
                             did_you_mean(name.text, ir.TALLY_FIELDS) or "one of: " + ", ".join(ir.TALLY_FIELDS))
            out.append(ir.Invariant(tuple(n.text for n in inv.left), inv.op, tuple(n.text for n in inv.right),  # type: ignore[arg-type]
                                    self.cite(inv.cite), inv.span))
        return tuple(out)

    def quorum(self, x: s.Quorum) -> ir.QuorumRule:
        if x.counted.text != "present":
            self.err("E202", f"the quorum counts 'present', not '{x.counted.text}'", x.counted.span, did_you_mean(x.counted.text, ["present"]))
        if x.base.text != "convened":
            self.err("E202", f"the quorum is a share of 'convened', not '{x.base.text}'", x.base.span, did_you_mean(x.base.text, ["convened"]))
        ratio = x.ratio.value if isinstance(x.ratio, s.RatioLit) else Fraction(x.ratio.value)
        if not (0 <= ratio <= 1):
            self.err("E303", f"a quorum is a share between 0 and 1; {ratio} is not", x.ratio.span)
        return ir.QuorumRule("present", x.op, ratio, "convened", self.cite(x.cite), x.span)  # type: ignore[arg-type]

    def _imported(self, q: s.QualName, attr: str, what: str):
        pol = self.imports.get(q.alias or "")
        if pol is None:
            self.err("E207", f"unknown import '{q.alias}'", q.span, did_you_mean(q.alias or "", self.imports))
            return None
        for item in getattr(pol, attr):
            if item.name == q.name:
                return item
        self.err("E207", f"policy '{q.alias}' has no {what} '{q.name}'", q.span,
                 did_you_mean(q.name, [i.name for i in getattr(pol, attr)]))
        return None

    def bands(self, decls: list[s.Bands], applies: list[s.Apply]):
        sets: dict[str, ir.BandSet] = {}
        for d in decls:
            if not d.bands:
                self.err("E308", f"band set '{d.name.text}' has no band", d.span)
            codes: dict[str, Span] = {}
            bands = []
            for b in d.bands:
                if b.code.text in codes:
                    self.err("E308", f"band '{b.code.text}' appears twice in '{d.name.text}'", b.code.span, f"the first is at {codes[b.code.text]}")
                codes[b.code.text] = b.code.span
                when = self.boolean(b.when, "band")
                for prev, c in zip((None, *b.consequences), b.consequences):
                    if c.kind == "otherwise" and (prev is None or prev.kind != "may"):
                        self.err("E308", "'otherwise' says what follows when an option is not taken: it comes right after a 'may'",
                                 c.span, 'write: may "…có thể xin từ chức" otherwise "…trình bỏ phiếu tín nhiệm"')
                bands.append(ir.BandRule(
                    b.code.text, b.label.value, when, b.severity,
                    tuple(c.text.value for c in b.consequences if c.kind == "must"),
                    tuple(c.text.value for c in b.consequences if c.kind == "may"),
                    self.cite(b.cite), b.span, tuple((c.kind, c.text.value) for c in b.consequences)))
            refined = None
            if d.refines is not None:
                refined = self._imported(d.refines, "band_sets", "band set") if d.refines.alias else None
                if d.refines.alias is None:
                    self.err("E207", "a band set refines a band set of an imported policy", d.refines.span, "write: refines alias.name")
            base = None
            if d.base is not None:
                if d.base.text in ir.BASES:
                    base = d.base.text
                else:
                    self.err("E202", f"unknown base '{d.base.text}'", d.base.span,
                             did_you_mean(d.base.text, ir.BASES) or "one of: " + ", ".join(ir.BASES))
            sets[d.name.text] = ir.BandSet(d.name.text, tuple(bands), str(d.refines) if d.refines else None, refined, d.span,
                                           base)
        applications = []
        applied: dict[str, Span] = {}
        for a in applies:
            if a.bands.alias is None:
                if a.bands.name not in sets:
                    self.err("E202", f"unknown band set '{a.bands.name}'", a.bands.span, did_you_mean(a.bands.name, sets))
                    continue
                name = a.bands.name
            else:
                found = self._imported(a.bands, "band_sets", "band set")
                if found is None:
                    continue
                name = str(a.bands)
                # an imported set keeps the base of the text that declares it (its `over`, else that
                # text's share denominator): importing texts that count differently is no conflict
                owner = self.imports[a.bands.alias]
                sets[name] = ir.BandSet(name, found.bands, found.refines, found.refined, found.span, owner.base_of(found))
            for v in a.venues:
                self.venue_code(v)
                if v.text in applied:
                    self.err("E306", f"two band sets are applied at venue '{v.text}'", v.span, f"the first is at {applied[v.text]}")
                applied[v.text] = v.span
            applications.append(ir.BandApplication(name, tuple(v.text for v in a.venues), self.cite(a.cite), a.span))
        if not applies and len(sets) == 0 and not decls:
            inherited_sets = self._inherit("band_sets", ())
            inherited_at = self._inherit("band_at", ())
            return inherited_sets, inherited_at
        return tuple(sets.values()), tuple(applications)

    def stages(self, decls: list[s.Stage], band_sets: tuple[ir.BandSet, ...], band_at: tuple[ir.BandApplication, ...]
               ) -> tuple[tuple[ir.BandSet, ...], tuple[ir.Stage, ...]]:
        """The later votes, in order. A stage's band set may be imported (``alias.name``): it joins the
        policy's band sets with the base of its own text, as an applied set does."""
        sets = {bs.name: bs for bs in band_sets}
        applied = {v: a.band_set for a in band_at for v in a.venues}
        out: list[ir.Stage] = []
        for d in decls:
            venue = self.venue_code(d.venue)
            if d.bands.alias is None:
                name = d.bands.name
                if name not in sets:
                    self.err("E202", f"unknown band set '{name}'", d.bands.span, did_you_mean(name, sets))
            else:
                name = str(d.bands)
                found = self._imported(d.bands, "band_sets", "band set")
                if found is not None and name not in sets:
                    owner = self.imports[d.bands.alias]
                    sets[name] = ir.BandSet(name, found.bands, found.refines, found.refined, found.span, owner.base_of(found))
            levels = []
            for lv in d.levels:
                if lv.text not in ("high", "confidence", "low"):
                    self.err("E202", f"unknown ballot level '{lv.text}'", lv.span,
                             did_you_mean(lv.text, ("high", "confidence", "low")) or "the levels are high, confidence, low")
                levels.append(lv.text)
            if "low" not in levels:
                self.err("E306", f"stage '{d.name.text}' counts no 'low' votes: its bands read low / base", d.span,
                         "a vote of confidence counts 'không tín nhiệm' as low: ballot confidence, low")
            # what triggers it: a band of the vote held before it at that venue
            before = next((st for st in reversed(out) if st.venue == venue), None)
            trigger = sets.get(before.band_set) if before is not None else sets.get(applied.get(venue, ""))
            codes = [b.code for b in trigger.bands] if trigger is not None else []
            for a in d.after:
                if trigger is not None and a.text not in codes:
                    where = f"stage '{before.name}'" if before is not None else f"the band set applied at '{venue}'"
                    self.err("E202", f"'{a.text}' is not a band of {where}", a.span, did_you_mean(a.text, codes))
            if trigger is None and venue in self.venue_codes:
                self.err("E306", f"no band set is applied at '{venue}': nothing can trigger stage '{d.name.text}'", d.venue.span,
                         f"write: apply SET at {venue}")
            when = self.boolean(d.when, "roster") if d.when is not None else None
            out.append(ir.Stage(d.name.text, d.label.value, venue, tuple(a.text for a in d.after), when, tuple(levels), name,
                                self.cite(d.cite), d.span))
        return tuple(sets.values()), tuple(out)

    def schedule(self, schedules: list[s.Schedule]) -> tuple[ir.Phase, ...]:
        phases = [p for sch in schedules for p in sch.phases]
        names = {p.name.text for p in phases}
        out = []
        for p in phases:
            for a in p.after:
                if a.text not in names:
                    self.err("E202", f"unknown phase '{a.text}'", a.span, did_you_mean(a.text, names))
            if p.start and p.deadline and p.start > p.deadline:
                self.err("E304", f"phase '{p.name.text}' starts after its deadline", p.span)
            out.append(ir.Phase(p.name.text, p.label.value, tuple(a.text for a in p.after), p.start, p.deadline, self.cite(p.cite), p.span))
        return tuple(out)

    def property(self, p: s.Property) -> ir.PropertyDecl:
        return ir.PropertyDecl(p.name.text, p.label.value, self.boolean(p.expr, "property"), p.span)

    def acknowledge(self, a: s.Acknowledge, local: set[str]) -> ir.Acknowledgement:
        if a.target.alias == "builtin":
            if a.target.name not in ir.BUILTIN_PROPERTIES:
                self.err("E202", f"unknown built-in property '{a.target.name}'", a.target.span, did_you_mean(a.target.name, ir.BUILTIN_PROPERTIES))
        elif a.target.alias is not None:
            self.err("E207", f"'{a.target}' is not a property of this policy", a.target.span, "acknowledge a property of this policy, or builtin.<name>")
        elif a.target.name not in local:
            self.err("E202", f"unknown property '{a.target.name}'", a.target.span, did_you_mean(a.target.name, list(local) + [f"builtin.{k}" for k in ir.BUILTIN_PROPERTIES]))
        return ir.Acknowledgement(str(a.target), a.reason.value, self.cite(a.cite) if a.cite else None, a.span)

    def example(self, ex: s.Example) -> ir.ExampleCase:
        level = ""
        titles: frozenset[str] = frozenset()
        facts: list[tuple[str, bool | int]] = []
        for fv in ex.roster:
            key, v = fv.key.text, fv.value
            if key == "level":
                if v.kind == "names" and len(v.names) == 1:
                    level = self.level_code(v.names[0])
                else:
                    self.err("E307", "an example's level is one level code", v.span)
            elif key == "titles":
                titles = self.title_set(v.names) if v.kind == "names" else frozenset()
                if v.kind not in ("names", "none"):
                    self.err("E307", "an example's titles are title codes or none", v.span)
            elif key in self.fact_types:
                want = self.fact_types[key]
                if want == "bool" and v.kind == "bool":
                    facts.append((key, v.flag))
                elif want != "bool" and v.kind == "int":
                    facts.append((key, v.number))
                else:
                    self.err("E307", f"fact '{key}' is a {want}", v.span)
            else:
                self.err("E307", f"unknown roster field '{key}'", fv.key.span, did_you_mean(key, ["level", "titles", *self.fact_types]))
        if not level:
            hint = (f"add: roster {{ level {self.level_codes[0]} ... }}" if self.level_codes  # this policy's own first level
                    else "add: roster { level LEVEL ... } (this policy has no levels yet: declare 'levels { … }' or import a text that does)")
            self.err("E307", f"example '{ex.name.text}' gives no level", ex.name.span, hint)
        tallies = []
        for tb in ex.tallies:
            self.venue_code(tb.venue)
            for k, _ in tb.counts:
                if k.text not in ir.TALLY_FIELDS:
                    self.err("E307", f"unknown tally field '{k.text}'", k.span, did_you_mean(k.text, ir.TALLY_FIELDS))
            stage = None
            if tb.stage is not None:
                stage = tb.stage.text
                st = next((x for x in self.stage_list if x.name == stage), None)
                if st is None:
                    self.err("E307", f"unknown stage '{stage}'", tb.stage.span, did_you_mean(stage, [x.name for x in self.stage_list]))
                elif st.venue != tb.venue.text:
                    self.err("E307", f"stage '{stage}' is held at '{st.venue}', not '{tb.venue.text}'", tb.venue.span)
            tallies.append(ir.ExampleTally(tb.venue.text, tuple((k.text, n) for k, n in tb.counts), stage))
        expect: list[tuple[str, str | None, object]] = []
        for fv in ex.expect:
            key, v = fv.key.text, fv.value
            names = tuple(n.text for n in v.names) if v.kind == "names" else ()
            match key:
                case "status":
                    if len(names) != 1 or names[0] not in ir.STATUSES:
                        self.err("E307", "expected status is one of " + ", ".join(ir.STATUSES), v.span, did_you_mean(names[0], ir.STATUSES) if names else None)
                    expect.append(("status", None, names[0] if names else None))
                case "venues":
                    for n in v.names:
                        self.venue_code(n)
                    expect.append(("venues", None, names))
                case "exemptions":
                    for n in v.names:
                        if n.text not in self.exemption_names:
                            self.err("E307", f"unknown exemption '{n.text}'", n.span, did_you_mean(n.text, self.exemption_names))
                    expect.append(("exemptions", None, names))
                case "band":
                    if fv.arg is None:
                        self.err("E307", "write the venue of the band: band(cap_uy) tren_50", fv.key.span)
                        continue
                    self.venue_code(fv.arg)
                    if names and names[0] not in self.band_codes:
                        self.err("E307", f"unknown band '{names[0]}'", v.span, did_you_mean(names[0], self.band_codes))
                    expect.append(("band", fv.arg.text, names[0] if names else None))
                case "outcome":
                    valid = set(self.band_codes) | set(ir.SPECIAL_OUTCOMES) | ({self.combine_outcome} if self.combine_outcome else set())
                    if names and names[0] not in valid:
                        self.err("E307", f"unknown outcome '{names[0]}'", v.span, did_you_mean(names[0], valid))
                    expect.append(("outcome", None, names[0] if names else None))
                case "stage":
                    stages = [x.name for x in self.stage_list]
                    if fv.arg is None or fv.arg.text not in stages:
                        self.err("E307", "write the stage of the band: stage(bo_phieu) khong_tin_nhiem", fv.arg.span if fv.arg else fv.key.span,
                                 did_you_mean(fv.arg.text, stages) if fv.arg else None)
                        continue
                    if names and names[0] not in self.band_codes:
                        self.err("E307", f"unknown band '{names[0]}'", v.span, did_you_mean(names[0], self.band_codes))
                    expect.append(("stage", fv.arg.text, names[0] if names else None))
                case "next":
                    stages = [x.name for x in self.stage_list]
                    if names and names[0] not in stages:
                        self.err("E307", f"unknown stage '{names[0]}'", v.span, did_you_mean(names[0], stages))
                    expect.append(("next", None, names[0] if names else None))
                case "final":
                    valid = set(self.band_codes) | set(ir.SPECIAL_OUTCOMES) | ({self.combine_outcome} if self.combine_outcome else set())
                    if names and names[0] not in valid:
                        self.err("E307", f"unknown outcome '{names[0]}'", v.span, did_you_mean(names[0], valid))
                    expect.append(("final", None, names[0] if names else None))
                case _:
                    self.err("E307", f"unknown expectation '{key}'", fv.key.span,
                             did_you_mean(key, ["status", "venues", "exemptions", "band", "outcome", "stage", "next", "final"]))
        return ir.ExampleCase(ex.name.text, ex.label.value, level, titles, tuple(facts), tuple(tallies), tuple(expect), ex.span)


_CTX_TEXT = {"roster": "a condition on the roster", "venue": "a venue rule", "band": "a band condition", "property": "a property"}
_CTX_HINT = {
    "share": "the share of low votes is known only in a band condition",
    "voted": "whether a cadre is voted is decided after scope and exemptions; use it in venue rules and properties",
    "in_scope": "use it in venue rules and properties",
    "exempt": "use it in venue rules and properties",
    "status": "use it in venue rules and properties",
    "venue_count": "use it in a property",
}


def _essence(value: object) -> object:
    """What a declaration decides, without its citation, labels or location (for import conflicts)."""
    match value:
        case tuple():
            return tuple(_essence(v) for v in value)
        case ir.ShareRule():
            return ("share", value.numerator, value.denominator)
        case ir.QuorumRule():
            return ("quorum", value.counted, value.op, value.ratio, value.base)
        case ir.MaxVenues():
            return ("max_venues", value.count)
        case ir.Ballot():
            return ("ballot", tuple(code for code, _ in value.levels))
        case ir.FactDecl():
            return ("fact", value.name, value.type)
        case ir.Level():
            return ("level", value.code)
        case ir.TitleDecl():
            return ("title", value.code, value.tags)
        case ir.VenueDecl():
            return ("venue", value.code)
        case ir.CombineRule():
            return ("two_venues", value.outcome)
        case ir.Invariant():
            return ("invariant", value.left, value.op, value.right)
        case _:
            return value


def _describe(kind: str) -> str:
    return {"int": "a number", "ratio": "a ratio", "share": "the share", "level": "the level", "status": "the status",
            "enum": "a name", "bool": "a condition"}.get(kind, kind)


def _span(e: s.Expr) -> Span:
    return e.span


def lower(pf: s.PolicyFile, imports: dict[str, ir.Policy], collector: Collector) -> ir.Policy:
    """Lower one parsed file; diagnostics go to ``collector`` (the caller raises)."""
    return _Lowerer(pf, imports, collector).run()
