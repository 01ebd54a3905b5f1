"""Diagnostics: what is wrong with a policy, where, and what to do about it.

Takes the problems found by the parser, the resolver and the type checker; produces
:class:`Diagnostic` values (code, message, span, hint) and renders them as a compiler would::

    policy/thanhhoa-kh134.policy:41:17: error[E203]: unknown title 'pho_bi_thuu'
       41 |   scope p3 at province: bi_thu, pho_bi_thuu
          |                                 ^^^^^^^^^^^
    help: did you mean 'pho_bi_thu'?

Every phase collects all of its diagnostics before stopping; :class:`PolicyError` carries them.
The catalogue of codes is :data:`CODES` (documented in ``docs/language.md``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dsl.spans import Source, Span

#: Every diagnostic code and what it means. Tests hold one golden file per code.
CODES: Mapping[str, str] = {
    "E001": "the policy file cannot be read",
    "E002": "the policy file is not UTF-8",
    "E003": "import cycle",
    "E004": "an import names a missing file or a file that is not a .policy file",
    "E005": "a policy file outside the policy root, not a regular file, too large, or imports nested too deep",
    "E101": "syntax error: unexpected token",
    "E102": "syntax error: unexpected character",
    "E103": "syntax error: unexpected end of file",
    "E201": "a name is declared twice",
    "E202": "unknown name",
    "E203": "unknown title",
    "E204": "unknown venue",
    "E205": "unknown level",
    "E206": "unknown document in a citation",
    "E207": "unknown import or imported declaration",
    "E208": "unknown header field or fact type",
    "E301": "type mismatch",
    "E302": "a term is used where it has no meaning (e.g. share outside a band)",
    "E303": "invalid number: a threshold must lie between 0 and 1",
    "E304": "invalid date or year",
    "E305": "exceptions (overrides) form a cycle",
    "E306": "a declaration is missing or given twice where exactly one is required",
    "E307": "an example is malformed",
    "E308": "a band set is malformed (no band, or two bands with one code)",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a policy. ``hint`` is shown as a ``help:`` line."""

    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: str = "error"

    def render(self, sources: Mapping[str, Source] | None = None) -> str:
        """Render as ``file:line:col: error[CODE]: message``, the line with a caret, the hint."""
        head = f"{self.span}: {self.severity}[{self.code}]: {self.message}"
        out = [head]
        source = (sources or {}).get(self.span.file)
        if source is not None and self.span.line >= 1:
            text = source.line(self.span.line)
            gutter = str(self.span.line)
            pad = " " * len(gutter)
            start = max(self.span.column, 1)
            if self.span.end_line == self.span.line and self.span.end_column > start:
                width = self.span.end_column - start
            else:
                width = max(len(text) - start + 1, 1)
            before, marked, after = excerpt(text, start, width)
            out.append(f"{pad} |")
            out.append(f"{gutter} | {before}{marked}{after}")
            out.append(f"{pad} | {' ' * len(before)}{'^' * max(len(marked), 1)}")
        if self.hint:
            out.append(f"help: {self.hint}")
        return "\n".join(out)


#: The most characters of a source line a diagnostic quotes (a longer line is cut around the caret,
#: keeping at most so many before it and under it).
EXCERPT_BEFORE, EXCERPT_MARKED, EXCERPT_TOTAL = 60, 80, 160


def _escape(text: str) -> str:
    """``text`` with every character that is not printable written as an escape (``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def excerpt(text: str, start: int, width: int) -> tuple[str, str, str]:
    """The quoted part of a source line around columns ``start`` … ``start + width - 1`` (1-based):
    the text before, the marked text, the text after — escaped and cut to a few dozen characters each
    (``…`` where cut), so a diagnostic never prints a long line, or control characters, whole."""
    before = _escape(text[: start - 1])
    marked = _escape(text[start - 1: start - 1 + width])
    after = _escape(text[start - 1 + width:])
    if len(before) + len(marked) + len(after) <= EXCERPT_TOTAL:
        return before, marked, after
    if len(before) > EXCERPT_BEFORE:
        before = "…" + before[-(EXCERPT_BEFORE - 1):]
    if len(marked) > EXCERPT_MARKED:
        marked = marked[: EXCERPT_MARKED - 1] + "…"
    room = max(EXCERPT_TOTAL - len(before) - len(marked), 0)
    if len(after) > room:
        after = after[: max(room - 1, 0)] + "…"
    return before, marked, after


@dataclass
class PolicyError(Exception):
    """Raised when a policy has errors; carries every diagnostic of the run and the sources."""

    diagnostics: list[Diagnostic]
    sources: dict[str, Source] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        return "\n\n".join(d.render(self.sources) for d in self.diagnostics)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` hint for the closest candidate, or None."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


class Collector:
    """Accumulates diagnostics during one phase; :meth:`raise_if_any` stops the pipeline."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        assert code in CODES, code
        self.items.append(Diagnostic(code, message, span, hint))

    def raise_if_any(self, sources: dict[str, Source]) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.column))
            raise PolicyError(ordered, sources)
