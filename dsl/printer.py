"""The canonical printer (formatter): syntax tree → policy text.

Takes a :class:`dsl.syntax.PolicyFile` (with its comments); produces the file in canonical layout:
two-space indentation, one blank line between declarations (none inside a run of one-line
declarations of one kind), citations and reasons on their own lines, long texts wrapped into
adjacent strings at spaces (which the parser joins back with one space, so the text is unchanged),
minimal parentheses. Comments are kept: each is printed on its own line before the declaration, band,
phase or venue item it stood in or before. Printing is meaning-preserving (the output parses to an
equal syntax tree) and idempotent; both are tested.
"""

from __future__ import annotations

import datetime as _dt

from dsl import syntax as s

WIDTH = 120
_ONE_LINERS = (s.Document, s.Import, s.Fact, s.Title, s.Venue, s.Define)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


class _Printer:
    def __init__(self, pf: s.PolicyFile) -> None:
        self.pad = 0  # column width of names in a run of one-line declarations, for alignment
        self.label_pad = 0
        self.lines: list[str] = []
        self.comments = sorted(pf.comments, key=lambda c: (c.span.line, c.span.column))
        self.pf = pf

    # ---- comments
    def take_comments(self, before_line: int) -> list[str]:
        out = []
        while self.comments and self.comments[0].span.line < before_line:
            out.append(self.comments.pop(0).text)
        return out

    def emit_comments(self, before_line: int, indent: int) -> None:
        for c in self.take_comments(before_line):
            self.lines.append(" " * indent + c)

    def line(self, text: str) -> None:
        self.lines.append(text.rstrip())

    # ---- texts and small pieces
    def text(self, prefix: str, t: s.Text, indent: int) -> None:
        """``prefix "text"``, wrapped into adjacent strings at spaces when too long."""
        words = t.value.split(" ")
        chunks: list[list[str]] = [[]]
        first_room = WIDTH - len(prefix) - 2
        room = first_room
        cont_room = WIDTH - (indent + 2) - 2
        used = -1
        for w in words:
            cost = len(_escape(w)) + 1
            if chunks[-1] and used + cost > room:
                chunks.append([])
                room, used = cont_room, -1
            chunks[-1].append(w)
            used += cost
        rendered = [f'"{_escape(" ".join(c))}"' for c in chunks]
        self.line(prefix + rendered[0])
        for r in rendered[1:]:
            self.line(" " * (indent + 2) + r)

    def cite(self, c: s.Cite, indent: int) -> None:
        self.text(" " * indent + f'cite {c.doc.text} "{_escape(c.para)}" ', c.quote, indent)

    # ---- expressions
    def expr(self, e: s.Expr, prec: int = 0) -> str:
        match e:
            case s.Implies(left=a, right=b):
                out, mine = f"{self.expr(a, 2)} implies {self.expr(b, 2)}", 1
            case s.Or(operands=ops):
                out, mine = " or ".join(self.expr(o, 3) for o in ops), 2
            case s.And(operands=ops):
                out, mine = " and ".join(self.expr(o, 4) for o in ops), 3
            case s.Not(operand=o):
                out, mine = f"not {self.expr(o, 4)}", 4
            case s.Compare(op=op, left=a, right=b, scale=k) if k is not None:
                out, mine = f"{self.expr(a, 6)} {op} {self.expr(k, 6)} of {self.expr(b, 6)}", 5
            case s.Compare(op=op, left=a, right=b):
                out, mine = f"{self.expr(a, 6)} {op} {self.expr(b, 6)}", 5
            case s.NameRef(name=n):
                out, mine = n.text, 6
            case s.Call(func=f, args=args):
                out, mine = f"{f.text}({', '.join(a.text for a in args)})", 6
            case s.IntLit(value=v):
                out, mine = str(v), 6
            case s.RatioLit(text=t):
                out, mine = t, 6
            case s.BoolLit(value=v):
                out, mine = ("true" if v else "false"), 6
            case _:
                raise AssertionError(f"unhandled expression {type(e).__name__}")
        # an operand at the same level as its parent needs parentheses too (the parser would flatten it)
        return f"({out})" if mine < prec or (mine == prec and mine in (2, 3)) else out

    # ---- declarations
    def item(self, it: s.Item) -> None:
        match it:
            case s.Header():
                self.line(f"policy {it.name.text} {{")
                width = max((len(f.key.text) for f in it.fields), default=0)
                for f in it.fields:
                    self.emit_comments(f.span.line, 2)
                    key = f"  {f.key.text.ljust(width)} "
                    match f.value:
                        case str():
                            self.text(key, s.Text(f.value), 2)
                        case _dt.date():
                            self.line(key + f.value.isoformat())
                        case _:
                            self.line(key + str(f.value))
                self.emit_comments(it.span.end_line, 2)
                self.line("}")
            case s.Document():
                self.text(f"document {it.name.text.ljust(self.pad)} ", it.title, 0)
            case s.Import():
                alias = f" as {it.alias.text}" if it.alias else ""
                self.line(f'import "{_escape(it.path.value)}"{alias}')
            case s.Levels():
                self.line("also levels {" if it.adds else "levels {")
                self.labelled(it.items, 2)
                self.emit_comments(it.span.end_line, 2)
                self.line("}")
            case s.Fact():
                self.text(f"{'also ' if it.adds else ''}fact {it.name.text}: {it.type.text} ", it.label, 0)
            case s.Title():
                tags = f" tags [{', '.join(t.text for t in it.tags)}]" if it.tags else ""
                head = "also title " if it.adds else "title "
                self.text(f"{head}{it.code.text.ljust(self.pad)} ", it.label, 0)
                if tags:
                    self.lines[-1] = self.lines[-1].ljust(len(head) + self.pad + 1 + self.label_pad) + tags
            case s.Define():
                if it.label is not None:
                    self.text(f"define {it.name.text} ", it.label, 0)
                    self.lines[-1] += f" = {self.expr(it.expr)}"
                else:
                    self.line(f"define {it.name.text} = {self.expr(it.expr)}")
            case s.Scope():
                self.line(f"scope {it.name.text} at {it.level.text}: {', '.join(t.text for t in it.titles)}")
                self.cite(it.cite, 2)
            case s.Exempt():
                refines = f" refines {it.refines}" if it.refines else ""
                self.line(f"exempt {it.name.text}{refines} when {self.expr(it.when)}")
                self.text("  reason ", it.reason, 2)
                self.cite(it.cite, 2)
            case s.Venue():
                self.text(f"venue {it.code.text.ljust(self.pad)} ", it.label, 0)
            case s.MaxVenues():
                self.line(f"max_venues {it.count}")
                self.cite(it.cite, 2)
            case s.VenueRule():
                overrides = f" overrides {', '.join(str(q) for q in it.overrides)}" if it.overrides else ""
                self.line(f"venues {it.name.text}{overrides} when {self.expr(it.when)} {{")
                for vi in it.items:
                    self.emit_comments(vi.span.line, 2)
                    match vi.kind:
                        case "always":
                            self.line(f"  {vi.venue.text}")
                        case "when":
                            assert vi.when is not None
                            self.line(f"  {vi.venue.text} when {self.expr(vi.when)}")
                        case "otherwise":
                            self.line(f"  {vi.venue.text} otherwise")
                self.emit_comments(it.cite.span.line, 2)
                self.line("}")
                self.cite(it.cite, 2)
            case s.Ballot():
                self.line("ballot {")
                self.labelled(it.levels, 2)
                self.emit_comments(it.cite.span.line, 2)
                self.line("}")
                self.cite(it.cite, 2)
            case s.ShareDecl():
                self.line(f"share = {it.numerator.text} / {it.denominator.text}")
                self.cite(it.cite, 2)
            case s.TallySchema():
                self.line("tally {")
                for inv in it.invariants:
                    self.emit_comments(inv.span.line, 2)
                    left, right = (" + ".join(n.text for n in side) for side in (inv.left, inv.right))
                    self.line(f"  invariant {left} {inv.op} {right}")
                    self.cite(inv.cite, 4)
                self.line("}")
            case s.Quorum():
                self.line(f"quorum {it.counted.text} {it.op} {self.expr(it.ratio)} of {it.base.text}")
                self.cite(it.cite, 2)
            case s.Bands():
                refines = f" refines {it.refines}" if it.refines else ""
                over = f" over {it.base.text}" if it.base else ""
                self.line(f"bands {it.name.text}{refines}{over} {{")
                for i, b in enumerate(it.bands):
                    if i:
                        self.line("")
                    self.emit_comments(b.span.line, 2)
                    self.text(f"  band {b.code.text} ", b.label, 4)
                    self.lines[-1] += f" when {self.expr(b.when)} severity {b.severity}"
                    for c in b.consequences:
                        self.emit_comments(c.span.line, 4)
                        self.text(f"    {c.kind} ", c.text, 4)
                    self.emit_comments(b.cite.span.line, 4)
                    self.cite(b.cite, 4)
                self.emit_comments(it.span.end_line, 2)
                self.line("}")
            case s.Apply():
                self.line(f"apply {it.bands} at {', '.join(v.text for v in it.venues)}")
                self.cite(it.cite, 2)
            case s.Combine():
                self.text(f"two_venues {it.outcome.text} ", it.label, 0)
                self.cite(it.cite, 2)
            case s.Schedule():
                self.line("schedule {")
                for i, ph in enumerate(it.phases):
                    if i:
                        self.line("")
                    self.emit_comments(ph.span.line, 2)
                    self.text(f"  phase {ph.name.text} ", ph.label, 4)
                    if ph.after:
                        self.line(f"    after {', '.join(a.text for a in ph.after)}")
                    if ph.start:
                        self.line(f"    from {ph.start.isoformat()}")
                    if ph.deadline:
                        self.line(f"    by {ph.deadline.isoformat()}")
                    self.emit_comments(ph.cite.span.line, 4)
                    self.cite(ph.cite, 4)
                self.emit_comments(it.span.end_line, 2)
                self.line("}")
            case s.Stage():
                self.text(f"stage {it.name.text} ", it.label, 2)
                self.line(f"  at {it.venue.text} after {', '.join(a.text for a in it.after)}")
                if it.when is not None:
                    self.line(f"  when {self.expr(it.when)}")
                self.line(f"  ballot {', '.join(lv.text for lv in it.levels)} bands {it.bands}")
                self.cite(it.cite, 2)
            case s.Provision():
                self.line(f"provision {it.name.text}")
                self.text("  ", it.text, 2)
                self.cite(it.cite, 2)
            case s.Property():
                self.line(f"property {it.name.text}")
                self.text("  ", it.label, 2)
                self.lines[-1] += ":"
                self.line(f"  {self.expr(it.expr)}")
            case s.Acknowledge():
                self.line(f"acknowledge {it.target}")
                self.text("  reason ", it.reason, 2)
                if it.cite:
                    self.cite(it.cite, 2)
            case s.Example():
                self.text(f"example {it.name.text} ", it.label, 0)
                self.lines[-1] += " {"
                if it.roster:
                    self.line("  roster { " + " ".join(self.field(f) for f in it.roster) + " }")
                for t in it.tallies:
                    counts = " ".join(f"{k.text} {n}" for k, n in t.counts)
                    stage = f" stage {t.stage.text}" if t.stage is not None else ""
                    self.line(f"  tally {t.venue.text}{stage} {{ {counts} }}")
                if it.expect:
                    self.line("  expect { " + " ".join(self.field(f) for f in it.expect) + " }")
                self.emit_comments(it.span.end_line, 2)
                self.line("}")
            case _:
                raise AssertionError(f"unhandled item {type(it).__name__}")

    def labelled(self, items: tuple[s.Labelled, ...], indent: int) -> None:
        width = max((len(i.name.text) for i in items), default=0)
        for i in items:
            self.emit_comments(i.span.line, indent)
            self.text(" " * indent + i.name.text.ljust(width) + " ", i.label, indent)

    def field(self, f: s.FieldValue) -> str:
        key = f"{f.key.text}({f.arg.text})" if f.arg else f.key.text
        v = f.value
        match v.kind:
            case "names":
                value = ", ".join(n.text for n in v.names)
            case "int":
                value = str(v.number)
            case "bool":
                value = "true" if v.flag else "false"
            case "none":
                value = "none"
            case _:
                raise AssertionError(v.kind)
        return f"{key} {value}"

    def _runs(self) -> list[tuple[int, int]]:
        """(name width, label width) for each item: the widest in its run of one-line declarations."""
        items = self.pf.items
        out = [(0, 0)] * len(items)
        i = 0
        while i < len(items):
            j = i
            while j + 1 < len(items) and type(items[j + 1]) is type(items[i]) and isinstance(items[i], s.Title | s.Venue | s.Document):
                j += 1
            names, labels = [], []
            for it in items[i : j + 1]:
                match it:
                    case s.Title():
                        names.append(len(it.code.text))
                        if it.tags:
                            labels.append(len(_escape(it.label.value)) + 2)
                    case s.Venue():
                        names.append(len(it.code.text))
                    case s.Document():
                        names.append(len(it.name.text))
                    case _:
                        pass
            width = (max(names, default=0), max(labels, default=0))
            for k in range(i, j + 1):
                out[k] = width
            i = j + 1
        return out

    def run(self) -> str:
        prev: s.Item | None = None
        widths = self._runs()
        for index, it in enumerate(self.pf.items):
            self.pad, self.label_pad = widths[index]
            leading = self.take_comments(it.span.line)
            same_run = prev is not None and type(prev) is type(it) and isinstance(it, _ONE_LINERS) and not leading
            if prev is not None and not same_run:
                self.line("")
            for c in leading:
                self.line(c)
            # comments inside a one-line or simple declaration move before it
            if not isinstance(it, s.Header | s.Levels | s.VenueRule | s.Ballot | s.Bands | s.Schedule | s.Example | s.TallySchema):
                for c in self.take_comments(it.span.end_line + 1):
                    self.line(c)
            self.item(it)
            prev = it
        rest = [c.text for c in self.comments]
        if rest:
            self.line("")
            self.lines.extend(rest)
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def format_file(pf: s.PolicyFile) -> str:
    """The canonical text of a parsed policy file."""
    return _Printer(pf).run()
