"""Parser: policy text → :class:`dsl.syntax.PolicyFile`.

Takes the text of one ``.policy`` file (already decoded and NFC-normalised by the loader) and its
display path; produces the syntax tree with spans, or raises :class:`dsl.diagnostics.PolicyError`
with a syntax diagnostic (E101–E103, E303, E304). The grammar is ``grammar.lark`` beside this
module, parsed LALR(1) by Lark with its contextual lexer.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from dsl import syntax as s
from dsl.diagnostics import Collector, did_you_mean
from dsl.spans import Source, Span

_CMP_NORMAL = {"≥": ">=", "≤": "<=", "≠": "!=", "==": "="}


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("dsl").joinpath("grammar.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False, cache=True)


def keywords() -> frozenset[str]:
    """The reserved words of the language (for did-you-mean hints and the docs)."""
    out = set()
    for t in _lark().terminals:
        value = getattr(t.pattern, "value", None)
        if t.pattern.type == "str" and isinstance(value, str) and value.isidentifier():
            out.add(value)
    return frozenset(out)



@dataclass(frozen=True)
class _Over:
    """``over FIELD`` of a band set, on its way into :class:`dsl.syntax.Bands`."""

    name: s.Name

@dataclass(frozen=True)
class _When:
    """``when EXPR`` of a stage, on its way into :class:`dsl.syntax.Stage`."""

    expr: s.Expr


_ALSO = object()  # the ``also`` of a declaration that adds to an import's


class _Build(Transformer):
    """Lark tree → syntax nodes. Problems found here (bad dates, numbers) go to ``collector``."""

    def __init__(self, path: str, collector: Collector) -> None:
        super().__init__(visit_tokens=False)
        self.path = path
        self.collector = collector

    # -- helpers
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span.unknown(self.path)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> Span:
        return Span(self.path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + len(tok))

    def _name(self, tok: Token) -> s.Name:
        return s.Name(str(tok), self._tspan(tok))

    def _string(self, tok: Token) -> str:
        raw = str(tok)[1:-1]
        out, i = [], 0
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                i += 2
            else:
                out.append(c)
                i += 1
        return unicodedata.normalize("NFC", "".join(out))

    def _date(self, tok: Token) -> _dt.date | None:
        try:
            return _dt.date.fromisoformat(str(tok))
        except ValueError:
            self.collector.error("E304", f"'{tok}' is not a valid date", self._tspan(tok), "write dates as YYYY-MM-DD, e.g. 2023-06-30")
            return None

    # -- lists, names, text
    def name_list(self, items):
        return tuple(self._name(t) for t in items)

    @v_args(meta=True)
    def qual_name(self, meta, items):
        if len(items) == 2:
            return s.QualName(str(items[0]), str(items[1]), self._span(meta))
        return s.QualName(None, str(items[0]), self._span(meta))

    def qual_list(self, items):
        return tuple(items)

    @v_args(meta=True)
    def text(self, meta, items):
        return s.Text(" ".join(self._string(t) for t in items), self._span(meta))

    @v_args(meta=True)
    def cite(self, meta, items):
        doc, para, quote = items
        return s.Cite(self._name(doc), self._string(para), quote, self._span(meta))

    # -- expressions
    @v_args(meta=True)
    def name_ref(self, meta, items):
        return s.NameRef(self._name(items[0]), self._span(meta))

    @v_args(meta=True)
    def call(self, meta, items):
        return s.Call(self._name(items[0]), items[1], self._span(meta))

    @v_args(meta=True)
    def int_lit(self, meta, items):
        return s.IntLit(int(items[0]), self._span(meta))

    @v_args(meta=True)
    def ratio_lit(self, meta, items):
        text = str(items[0])
        num, den = text.split("/")
        if int(den) == 0:
            self.collector.error("E303", f"'{text}' divides by zero", self._tspan(items[0]), "a ratio is written a/b with b > 0, e.g. 2/3")
            return s.RatioLit(Fraction(0), text, self._span(meta))
        return s.RatioLit(Fraction(int(num), int(den)), text, self._span(meta))

    @v_args(meta=True)
    def percent_lit(self, meta, items):
        text = str(items[0])
        return s.RatioLit(Fraction(text[:-1]) / 100, text, self._span(meta))

    @v_args(meta=True)
    def decimal_lit(self, meta, items):
        text = str(items[0])
        return s.RatioLit(Fraction(text), text, self._span(meta))

    @v_args(meta=True)
    def true_lit(self, meta, items):
        return s.BoolLit(True, self._span(meta))

    @v_args(meta=True)
    def false_lit(self, meta, items):
        return s.BoolLit(False, self._span(meta))

    @v_args(meta=True)
    def compare(self, meta, items):
        left, op, right = items
        return s.Compare(_CMP_NORMAL.get(str(op), str(op)), left, right, self._span(meta))

    @v_args(meta=True)
    def compare_of(self, meta, items):
        left, op, scale, right = items
        return s.Compare(_CMP_NORMAL.get(str(op), str(op)), left, right, self._span(meta), scale)

    @v_args(meta=True)
    def not_(self, meta, items):
        return s.Not(items[0], self._span(meta))

    @v_args(meta=True)
    def and_(self, meta, items):
        return items[0] if len(items) == 1 else s.And(tuple(items), self._span(meta))

    @v_args(meta=True)
    def or_(self, meta, items):
        return items[0] if len(items) == 1 else s.Or(tuple(items), self._span(meta))

    @v_args(meta=True)
    def implies(self, meta, items):
        return s.Implies(items[0], items[1], self._span(meta))

    # -- declarations
    @v_args(meta=True)
    def header_field(self, meta, items):
        key, value = items
        if isinstance(value, Token) and value.type == "DATE":
            v: object = self._date(value)
        elif isinstance(value, Token) and value.type == "INT":
            v = int(value)
        else:
            v = value.value
        return s.HeaderField(self._name(key), v, self._span(meta))

    @v_args(meta=True)
    def header(self, meta, items):
        return s.Header(self._name(items[0]), tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def document(self, meta, items):
        return s.Document(self._name(items[0]), items[1], self._span(meta))

    @v_args(meta=True)
    def import_decl(self, meta, items):
        path = s.Text(self._string(items[0]), self._tspan(items[0]))
        alias = self._name(items[1]) if len(items) > 1 else None
        return s.Import(path, alias, self._span(meta))

    @v_args(meta=True)
    def level_item(self, meta, items):
        return s.Labelled(self._name(items[0]), items[1], self._span(meta))

    ballot_level = level_item

    @v_args(meta=True)
    def levels(self, meta, items):
        adds = bool(items) and items[0] is _ALSO
        return s.Levels(tuple(items[1:] if adds else items), self._span(meta), adds)

    def also(self, items):
        return _ALSO

    @v_args(meta=True)
    def fact(self, meta, items):
        adds = items[0] is _ALSO
        items = items[1:] if adds else items
        return s.Fact(self._name(items[0]), self._name(items[1]), items[2], self._span(meta), adds)

    @v_args(meta=True)
    def title(self, meta, items):
        adds = items[0] is _ALSO
        items = items[1:] if adds else items
        tags = items[2] if len(items) > 2 else ()
        return s.Title(self._name(items[0]), items[1], tags, self._span(meta), adds)

    @v_args(meta=True)
    def define(self, meta, items):
        if len(items) == 3:
            return s.Define(self._name(items[0]), items[1], items[2], self._span(meta))
        return s.Define(self._name(items[0]), None, items[1], self._span(meta))

    @v_args(meta=True)
    def scope(self, meta, items):
        name, level, titles, cite = items
        return s.Scope(self._name(name), self._name(level), titles, cite, self._span(meta))

    @v_args(meta=True)
    def exempt(self, meta, items):
        refines = None
        if len(items) == 5:
            refines = items.pop(1)
        name, when, reason, cite = items
        return s.Exempt(self._name(name), refines, when, reason, cite, self._span(meta))

    @v_args(meta=True)
    def venue(self, meta, items):
        return s.Venue(self._name(items[0]), items[1], self._span(meta))

    @v_args(meta=True)
    def max_venues(self, meta, items):
        return s.MaxVenues(int(items[0]), items[1], self._span(meta))

    def overrides(self, items):
        return items[0]

    @v_args(meta=True)
    def venue_always(self, meta, items):
        return s.VenueItem(self._name(items[0]), "always", None, self._span(meta))

    @v_args(meta=True)
    def venue_when(self, meta, items):
        return s.VenueItem(self._name(items[0]), "when", items[1], self._span(meta))

    @v_args(meta=True)
    def venue_otherwise(self, meta, items):
        return s.VenueItem(self._name(items[0]), "otherwise", None, self._span(meta))

    @v_args(meta=True)
    def venue_rule(self, meta, items):
        name = self._name(items[0])
        rest = items[1:]
        overrides: tuple = ()
        if isinstance(rest[0], tuple):
            overrides, rest = rest[0], rest[1:]
        when, *venue_items, cite = rest
        return s.VenueRule(name, overrides, when, tuple(venue_items), cite, self._span(meta))

    @v_args(meta=True)
    def tally_schema(self, meta, items):
        return s.TallySchema(tuple(items), self._span(meta))

    @v_args(meta=True)
    def invariant(self, meta, items):
        left, op, right, cite = items
        return s.Invariant(left, _CMP_NORMAL.get(str(op), str(op)), right, cite, self._span(meta))

    def tally_sum(self, items):
        return tuple(self._name(t) for t in items)

    @v_args(meta=True)
    def ballot(self, meta, items):
        return s.Ballot(tuple(items[:-1]), items[-1], self._span(meta))

    @v_args(meta=True)
    def share_decl(self, meta, items):
        return s.ShareDecl(self._name(items[0]), self._name(items[1]), items[2], self._span(meta))

    @v_args(meta=True)
    def quorum(self, meta, items):
        counted, op, ratio, base, cite = items
        return s.Quorum(self._name(counted), _CMP_NORMAL.get(str(op), str(op)), ratio, self._name(base), cite, self._span(meta))

    @v_args(meta=True)
    def must(self, meta, items):
        return s.Consequence("must", items[0], self._span(meta))

    @v_args(meta=True)
    def may(self, meta, items):
        return s.Consequence("may", items[0], self._span(meta))

    @v_args(meta=True)
    def otherwise(self, meta, items):
        return s.Consequence("otherwise", items[0], self._span(meta))

    @v_args(meta=True)
    def stage(self, meta, items):
        name, label, venue, after, *rest = items
        when = rest.pop(0).expr if rest and isinstance(rest[0], _When) else None
        levels, bands, cite = rest
        return s.Stage(self._name(name), label, self._name(venue), tuple(after), when, tuple(levels), bands, cite, self._span(meta))

    def stage_when(self, items):
        return _When(items[0])

    @v_args(meta=True)
    def band(self, meta, items):
        code, label, when, severity, *cons, cite = items
        return s.Band(self._name(code), label, when, int(severity), tuple(cons), cite, self._span(meta))

    @v_args(meta=True)
    def bands(self, meta, items):
        name = self._name(items[0])
        rest = items[1:]
        refines = None
        if rest and isinstance(rest[0], s.QualName):
            refines, rest = rest[0], rest[1:]
        base = None
        if rest and isinstance(rest[0], _Over):
            base, rest = rest[0].name, rest[1:]
        return s.Bands(name, refines, tuple(rest), self._span(meta), base)

    def bands_over(self, items):
        return _Over(self._name(items[0]))

    @v_args(meta=True)
    def apply(self, meta, items):
        return s.Apply(items[0], items[1], items[2], self._span(meta))

    @v_args(meta=True)
    def combine(self, meta, items):
        return s.Combine(self._name(items[0]), items[1], items[2], self._span(meta))

    def phase_after(self, items):
        return ("after", items[0])

    def phase_from(self, items):
        return ("from", self._date(items[0]))

    def phase_by(self, items):
        return ("by", self._date(items[0]))

    @v_args(meta=True)
    def phase(self, meta, items):
        name, label, *opts, cite = items
        after: tuple = ()
        start = deadline = None
        for key, value in opts:
            if key == "after":
                after = after + value
            elif key == "from":
                start = value
            else:
                deadline = value
        return s.Phase(self._name(name), label, after, start, deadline, cite, self._span(meta))

    @v_args(meta=True)
    def schedule(self, meta, items):
        return s.Schedule(tuple(items), self._span(meta))

    @v_args(meta=True)
    def provision(self, meta, items):
        return s.Provision(self._name(items[0]), items[1], items[2], self._span(meta))

    @v_args(meta=True)
    def property(self, meta, items):
        return s.Property(self._name(items[0]), items[1], items[2], self._span(meta))

    @v_args(meta=True)
    def acknowledge(self, meta, items):
        cite = items[2] if len(items) > 2 else None
        return s.Acknowledge(items[0], items[1], cite, self._span(meta))

    # -- examples
    @v_args(meta=True)
    def int_value(self, meta, items):
        return s.Value("int", number=int(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def true_value(self, meta, items):
        return s.Value("bool", flag=True, span=self._span(meta))

    @v_args(meta=True)
    def false_value(self, meta, items):
        return s.Value("bool", flag=False, span=self._span(meta))

    @v_args(meta=True)
    def none_value(self, meta, items):
        return s.Value("none", span=self._span(meta))

    def _value(self, v):
        if isinstance(v, tuple):
            span = v[0].span if v else Span.unknown(self.path)
            return s.Value("names", names=v, span=span)
        return v

    @v_args(meta=True)
    def field_value(self, meta, items):
        return s.FieldValue(self._name(items[0]), None, self._value(items[1]), self._span(meta))

    @v_args(meta=True)
    def expect_value(self, meta, items):
        if len(items) == 3:
            return s.FieldValue(self._name(items[0]), self._name(items[1]), self._value(items[2]), self._span(meta))
        return s.FieldValue(self._name(items[0]), None, self._value(items[1]), self._span(meta))

    def tally_value(self, items):
        return (self._name(items[0]), int(items[1]))

    def ex_roster(self, items):
        return ("roster", tuple(items))

    @v_args(meta=True)
    def ex_tally(self, meta, items):
        stage = self._name(items[1]) if len(items) > 1 and isinstance(items[1], Token) else None
        counts = tuple(items[2:] if stage is not None else items[1:])
        return ("tally", s.TallyBlock(self._name(items[0]), counts, self._span(meta), stage))

    def ex_expect(self, items):
        return ("expect", tuple(items))

    @v_args(meta=True)
    def example(self, meta, items):
        name, label, *parts = items
        roster: tuple = ()
        expect: tuple = ()
        tallies = []
        for kind, value in parts:
            if kind == "roster":
                roster += value
            elif kind == "expect":
                expect += value
            else:
                tallies.append(value)
        return s.Example(self._name(name), label, roster, tuple(tallies), expect, self._span(meta))

    def start(self, items):
        return tuple(items)


def _describe_terminal(name: str) -> str:
    for t in _lark().terminals:
        if t.name == name:
            if t.pattern.type == "str":
                return f"'{t.pattern.value}'"
            break
    return {
        "NAME": "a name", "STRING": "a quoted text", "INT": "a whole number", "DATE": "a date (YYYY-MM-DD)",
        "RATIO": "a ratio such as 2/3", "PERCENT": "a percentage such as 50%", "DECIMAL": "a decimal number",
        "CMP": "a comparison (=, !=, <, <=, >, >=)", "$END": "the end of the file",
    }.get(name, name)


def _expected(names) -> str:
    described = sorted({_describe_terminal(n) for n in names})
    if len(described) > 8:
        described = described[:8] + ["…"]
    return ", ".join(described)


def parse(text: str, path: str) -> s.PolicyFile:
    """Parse one file. Raises :class:`PolicyError` (with the source attached) on a syntax error."""
    collector = Collector()
    source = Source(path, text)
    comments: list[s.Comment] = []
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        collector.items.append(_syntax_diagnostic(exc, path, text))
        collector.raise_if_any({path: source})
        raise AssertionError("unreachable") from exc
    deep = _too_deep(tree)
    if deep is not None:
        collector.error("E101", f"the declaration is nested more than {MAX_DEPTH} levels deep",
                        Span(path, deep.line, deep.column, deep.end_line, deep.end_column),
                        "name a part of the condition with define and use the name")
        collector.raise_if_any({path: source})
    for tok in tree.scan_values(lambda v: isinstance(v, Token) and v.type in _NUMBERS and len(v) > MAX_DIGITS):
        collector.error("E303", f"a number of {len(tok)} characters is too long", Span(path, tok.line, tok.column, tok.line, tok.column + 1),
                        f"numbers are written with at most {MAX_DIGITS} characters")
    collector.raise_if_any({path: source})
    try:
        items = _Build(path, collector).transform(tree)
    except VisitError as exc:  # a bug in a transformer method: never hide it as a policy error
        raise exc.orig_exc from exc
    collector.raise_if_any({path: source})
    for lineno, line in enumerate(text.split("\n"), 1):
        pos = _comment_start(line)
        if pos is not None:
            comments.append(s.Comment(line[pos:].rstrip(), Span(path, lineno, pos + 1, lineno, len(line) + 1)))
    return s.PolicyFile(path, items, tuple(comments))


#: Deeper syntax trees are refused (E101): every later phase (transform, lowering, the encoder, the
#: printer, the compiled closures) walks conditions recursively and would exhaust Python's stack.
MAX_DEPTH = 100
#: Longer numbers are refused (E303): Python will not convert more than 4300 digits to an integer.
MAX_DIGITS = 1000
_NUMBERS = frozenset({"INT", "RATIO", "PERCENT", "DECIMAL"})


def _too_deep(tree: Tree) -> Token | Tree | None:
    """The first node (in the deepest branch) nested more than MAX_DEPTH levels down, if any (walked iteratively)."""
    stack: list[tuple[Tree | Token, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _first_token(node)
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return None


def _first_token(node: Tree | Token) -> Token:
    while isinstance(node, Tree):
        node = node.children[0] if node.children else Token("NAME", "", line=1, column=1, end_line=1, end_column=2)
    return node


def _comment_start(line: str) -> int | None:
    in_string = False
    escaped = False
    for i, c in enumerate(line):
        if escaped:
            escaped = False
        elif c == "\\" and in_string:
            escaped = True
        elif c == '"':
            in_string = not in_string
        elif c == "#" and not in_string:
            return i
    return None


def _syntax_diagnostic(exc: UnexpectedInput, path: str, text: str):
    from dsl.diagnostics import Diagnostic

    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    match exc:
        case UnexpectedToken() if exc.token.type == "$END":
            lines = text.split("\n")
            last = len(lines)
            while last > 1 and not lines[last - 1].strip():
                last -= 1
            end_col = len(lines[last - 1]) + 1 if lines else 1
            span = Span(path, last, end_col, last, end_col + 1)
            return Diagnostic("E103", "unexpected end of file", span, f"expected {_expected(exc.expected)}")
        case UnexpectedEOF():
            span = Span(path, line, column, line, column + 1)
            return Diagnostic("E103", "unexpected end of file", span, f"expected {_expected(exc.expected)}")
        case UnexpectedToken():
            tok = exc.token
            try:  # LALR look-ahead sets are merged across contexts; ask the parser what it really accepts here
                accepted = exc.interactive_parser.accepts() if exc.interactive_parser is not None else set(exc.expected)
                exc.expected = {t for t in accepted if t != "$END"} or set(exc.expected)
            except Exception:  # noqa: BLE001 - a hint is optional; the error itself is reported regardless
                pass
            span = Span(path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + len(tok))
            hint = None
            if tok.type == "NAME":
                kws = [str(_describe_terminal(n)).strip("'") for n in exc.expected]
                hint = did_you_mean(str(tok), [k for k in kws if k.isidentifier()])
            if hint is None:
                hint = f"expected {_expected(exc.expected)}"
            else:
                hint = f"{hint} (expected {_expected(exc.expected)})"
            return Diagnostic("E101", f"unexpected {_describe_token(tok)}", span, hint)
        case UnexpectedCharacters():
            char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
            span = Span(path, line, column, line, column + 1)
            hint = "texts are written between double quotes \"...\"" if char in "'“”" else (
                f"expected {_expected(exc.allowed)}" if exc.allowed else None)
            return Diagnostic("E102", f"unexpected character {char!r}", span, hint)
        case _:
            span = Span(path, line, column, line, column + 1)
            return Diagnostic("E101", str(exc).splitlines()[0], span)


def _describe_token(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type == "STRING":
        return "text " + str(tok)[:40]
    return f"'{tok}'"
