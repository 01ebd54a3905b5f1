"""Source files and spans.

Takes a file's text and its display path; produces :class:`Source` (the text split into lines) and
:class:`Span` (file, 1-based line/column start and end) used by the syntax tree, the IR and the
diagnostics. Spans never take part in equality: nodes carry them with ``compare=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A region of one source file: 1-based lines and columns, end column exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @staticmethod
    def unknown(file: str = "<unknown>") -> Span:
        return Span(file, 1, 1, 1, 1)


@dataclass(frozen=True)
class Source:
    """The text of one policy file, as read (NFC-normalised) and split into lines."""

    path: str
    text: str
    lines: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.text.split("\n")))

    def line(self, number: int) -> str:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1].rstrip("\r")
        return ""
