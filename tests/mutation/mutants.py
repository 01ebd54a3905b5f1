"""Mutants of a Python module: small changes of operators, constants, conditions and calls.

Takes the source of a module (bytes) and its path relative to the repository; produces every
:class:`Mutant` — one change each, applied to the text (not by re-printing the tree), so the rest of
the file, comments and docstrings included, stays byte for byte as it was. The operators:

=========  =====================================================================================
``cmp``    a comparison: ``<`` → ``<=`` and ``>=``, ``<=`` → ``<`` and ``>``, ``>`` → ``>=`` and
           ``<=``, ``>=`` → ``>`` and ``<``, ``==`` ↔ ``!=``, ``is`` ↔ ``is not``, ``in`` ↔ ``not in``
``bool``   ``and`` ↔ ``or`` (every operator of one connective at once)
``not``    ``not x`` → ``x``
``arith``  ``+`` ↔ ``-``, ``*`` → ``+``, ``//`` → ``*`` (not on text: message building)
``aug``    ``+=`` ↔ ``-=``
``const``  an integer ``n`` → ``n + 1``; ``True`` ↔ ``False``
``ifexp``  ``a if c else b`` → ``b if c else a`` (the swapped ternary)
``call``   ``any`` ↔ ``all``, ``min`` ↔ ``max``
``stmt``   a call made for its effect (``xs.append(…)``, ``self.define(…)``) → ``pass``
=========  =====================================================================================

Not mutated: docstrings and other strings, f-strings, type annotations, decorators, the arguments of
``raise`` (messages), and code under ``if TYPE_CHECKING``.

A mutant's id does not depend on line numbers, so it survives edits elsewhere in the file:
``<module>::<function>::<operator>:<change>#<k>``, where ``function`` is the qualified name of the
enclosing function (``<module>`` at top level), ``change`` is ``was/now`` (``<=/<``, ``and/or``,
``is_not/is``, ``1/2``) or ``swap`` (ternary), ``drop`` (``not``), ``pass`` (statement), and ``k``
counts the earlier sites of the same operator and change in that function
(``dsl/evaluator.py::_all::call:all/any#0``).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass

_CMP: dict[type, tuple[str, tuple[str, ...]]] = {
    ast.Lt: ("<", ("<=", ">=")), ast.LtE: ("<=", ("<", ">")), ast.Gt: (">", (">=", "<=")), ast.GtE: (">=", (">", "<")),
    ast.Eq: ("==", ("!=",)), ast.NotEq: ("!=", ("==",)), ast.Is: ("is", ("is not",)), ast.IsNot: ("is not", ("is",)),
    ast.In: ("in", ("not in",)), ast.NotIn: ("not in", ("in",)),
}
_CMP_RE = {"<": r"(?<![<>=!])<(?![<=])", "<=": r"<=", ">": r"(?<![<>=!-])>(?![>=])", ">=": r">=", "==": r"==", "!=": r"!=",
           "is": r"\bis\b(?!\s+not\b)", "is not": r"\bis\s+not\b", "in": r"(?<!not )\bin\b", "not in": r"\bnot\s+in\b"}
_ARITH: dict[type, tuple[str, str, str]] = {
    ast.Add: ("+", "-", r"\+"), ast.Sub: ("-", "+", r"-"), ast.Mult: ("*", "+", r"(?<!\*)\*(?!\*)"), ast.FloorDiv: ("//", "*", r"//"),
}
_AUG: dict[type, tuple[str, str]] = {ast.Add: ("+=", "-="), ast.Sub: ("-=", "+=")}
_CALLS = {"any": "all", "all": "any", "min": "max", "max": "min"}


def _word(op: str) -> str:
    return op.replace(" ", "_")


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to the repository, with '/'
    function: str  # qualified name of the enclosing function, '<module>' at top level
    operator: str
    change: str  # e.g. '<=/<' (was/now), 'swap', 'drop', 'pass'
    occurrence: int
    line: int
    start: int  # byte offsets of the replaced text in the source
    end: int
    replacement: bytes
    original: bytes

    @property
    def id(self) -> str:
        return f"{self.module}::{self.function}::{self.operator}:{self.change}#{self.occurrence}"

    def apply(self, source: bytes) -> bytes:
        assert source[self.start:self.end] == self.original, f"{self.id}: the source changed under the mutant"
        return source[:self.start] + self.replacement + source[self.end:]

    def snippet(self, source: bytes) -> tuple[str, str]:
        """The line as it was and as the mutant makes it (first line of each, stripped)."""
        ls = source.rfind(b"\n", 0, self.start) + 1
        le = source.find(b"\n", self.end)
        le = len(source) if le < 0 else le
        before = source[ls:le].decode("utf-8")
        after = (source[ls:self.start] + self.replacement + source[self.end:le]).decode("utf-8")
        return " ".join(before.split()), " ".join(after.split())


class _Sites(ast.NodeVisitor):
    def __init__(self, module: str, source: bytes) -> None:
        self.module = module
        self.src = source
        self.lines = [0]
        for i, b in enumerate(source):
            if b == 10:
                self.lines.append(i + 1)
        self.stack: list[str] = []
        self.found: list[tuple[str, str, str, int, int, int, bytes]] = []  # function, operator, change, line, start, end, new

    # ---- positions
    def pos(self, line: int, col: int) -> int:
        return self.lines[line - 1] + col

    def start(self, n: ast.AST) -> int:
        return self.pos(n.lineno, n.col_offset)  # type: ignore[attr-defined]

    def end(self, n: ast.AST) -> int:
        return self.pos(n.end_lineno, n.end_col_offset)  # type: ignore[attr-defined]

    def text(self, n: ast.AST) -> bytes:
        return self.src[self.start(n):self.end(n)]

    def add(self, operator: str, change: str, line: int, start: int, end: int, new: bytes) -> None:
        fn = ".".join(self.stack) or "<module>"
        self.found.append((fn, operator, change, line, start, end, new))

    def in_gap(self, a: ast.AST, b: ast.AST, pattern: str) -> tuple[int, int] | None:
        """The span of ``pattern`` between the end of ``a`` and the start of ``b`` (outside parentheses)."""
        lo, hi = self.end(a), self.start(b)
        gap = self.src[lo:hi].decode("utf-8")
        m = re.search(pattern, gap)
        if m is None:
            return None
        return lo + len(gap[:m.start()].encode()), lo + len(gap[:m.end()].encode())

    # ---- scopes and what is not mutated
    def _scoped(self, node: ast.AST, name: str) -> None:
        self.stack.append(name)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                self.visit(default)
        for stmt in node.body:  # type: ignore[attr-defined]
            self.visit(stmt)
        self.stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return  # messages

    def visit_Raise(self, node: ast.Raise) -> None:
        return  # the message of an error (the raise itself stays)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    # ---- operators
    def visit_Compare(self, node: ast.Compare) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            was, news = _CMP[type(op)]
            span = self.in_gap(left, right, _CMP_RE[was])
            if span is not None:
                for new in news:
                    self.add("cmp", f"{_word(was)}/{_word(new)}", node.lineno, span[0], span[1], new.encode())
            left = right
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        was, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        spans = [self.in_gap(a, b, rf"\b{was}\b") for a, b in zip(node.values, node.values[1:])]
        if all(s is not None for s in spans):
            lo, hi = spans[0][0], spans[-1][1]  # type: ignore[index]
            piece = bytearray(self.src[lo:hi])
            for s in reversed(spans):  # type: ignore[assignment]
                piece[s[0] - lo:s[1] - lo] = new.encode()  # type: ignore[index]
            self.add("bool", f"{was}/{new}", node.lineno, lo, hi, bytes(piece))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.add("not", "drop", node.lineno, self.start(node), self.end(node), b"(" + self.text(node.operand) + b")")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        textual = any(isinstance(x, ast.JoinedStr) or (isinstance(x, ast.Constant) and isinstance(x.value, str | bytes))
                      for x in (node.left, node.right))
        spec = _ARITH.get(type(node.op))
        if spec is not None and not textual:
            was, new, pattern = spec
            span = self.in_gap(node.left, node.right, pattern)
            if span is not None:
                self.add("arith", f"{was}/{new}", node.lineno, span[0], span[1], new.encode())
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        spec = _AUG.get(type(node.op))
        if spec is not None:
            was, new = spec
            span = self.in_gap(node.target, node.value, re.escape(was))
            if span is not None:
                self.add("aug", f"{was}/{new}", node.lineno, span[0], span[1], new.encode())
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        v = node.value
        if isinstance(v, bool):
            self.add("const", f"{v}/{not v}", node.lineno, self.start(node), self.end(node), str(not v).encode())
        elif isinstance(v, int):
            self.add("const", f"{v}/{v + 1}", node.lineno, self.start(node), self.end(node), str(v + 1).encode())

    def visit_IfExp(self, node: ast.IfExp) -> None:
        new = b"((" + self.text(node.orelse) + b") if (" + self.text(node.test) + b") else (" + self.text(node.body) + b"))"
        self.add("ifexp", "swap", node.lineno, self.start(node), self.end(node), new)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Name) and f.id in _CALLS:
            self.add("call", f"{f.id}/{_CALLS[f.id]}", node.lineno, self.start(f), self.end(f), _CALLS[f.id].encode())
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self.add("stmt", "pass", node.lineno, self.start(node), self.end(node), b"pass")
        self.generic_visit(node)

    def visit_arguments(self, node: ast.arguments) -> None:
        return  # annotations (defaults are visited with the function)

    def visit_arg(self, node: ast.arg) -> None:
        return


def mutants(module: str, source: bytes) -> list[Mutant]:
    """Every mutant of ``source`` (the module at path ``module``), in file order."""
    tree = ast.parse(source, module)
    v = _Sites(module, source)
    v.visit(tree)
    out = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for fn, operator, change, line, start, end, new in sorted(v.found, key=lambda x: (x[4], x[5], x[1], x[2])):
        key = (fn, operator, change)
        out.append(Mutant(module, fn, operator, change, seen[key], line, start, end, new, source[start:end]))
        seen[key] += 1
    return out
