"""The language server (``tinnhiem lsp``): what an editor needs to write a ``.policy`` file.

Takes the Language Server Protocol (JSON-RPC with ``Content-Length`` framing) on stdin/stdout, its
framing read by :class:`FrameReader`, its messages served by pygls; produces:

- **diagnostics as the drafter types** — every open document is parsed, resolved and type-checked
  through :func:`dsl.loader.load_policy_text` (the document's unsaved text; its imports read from
  disk) on open, change and save; each diagnostic keeps its code (``E203``…) and its help line; an
  error inside an imported file is shown on the ``import`` line that brings it in;
- **hover** on a name — a title, tag, definition, fact, level, venue, rule (scope, exemption, venue
  rule, band set, provision, property, phase), band, document, import alias, example — showing its
  label and, for a rule, its citation: document, paragraph and the quoted Vietnamese sentence;
- **go to definition** for those names (also across imports: ``qd96.nghi_huu``, an inherited venue
  or fact) and for the path of an ``import``, which opens the imported file;
- **formatting** on request: the whole document rewritten by :func:`dsl.printer.format_file`.

Nothing a document or a client sends can stop the server, and every request gets an answer:

- a document that does not parse yields its diagnostics (hover and definition then use the last
  version that parsed); only open documents are read (a request about any other URI answers null,
  so ``file:///dev/zero`` is never opened), and an import is indexed only if it is a regular
  ``*.policy`` file of at most 10 MiB;
- the wire is read by :class:`FrameReader`, not pygls: a header line holds at most 8 KiB and a body
  at most 16 MiB (``MAX_CONTENT_LENGTH``); a ``Content-Length`` that is larger (``1000000000000``),
  not a number (``abc``) or missing is refused with an error response of id null (-32700) and a
  one-line warning on stderr, and the input is read again from the next ``Content-Length`` line:
  the server goes on (it exits, with status 0, only at the end of its input);
- a body that is not JSON gets -32700, one that is not a JSON-RPC 2.0 message -32600 (id null when
  it has none), a request whose params are not what its method takes (missing, null, of the wrong
  type, a negative position, a document URI with a NUL — ``%00`` — or without a scheme) -32602 with
  its id; a notification has no answer: one with such params is logged, and an open document whose
  URI holds a NUL gets a diagnostic saying so;
- every handler turns an unexpected exception into a JSON-RPC error (-32603, ``hover failed:
  KeyError: …``) through :func:`guarded`; stderr gets one line per event, a traceback only when
  ``TINNHIEM_DEBUG`` is set; ``exit`` ends the server with status 0 after ``shutdown``, else 1.

The analysis (:func:`analyse`, :func:`hover_at`, :func:`definition_at`, :func:`format_text`) is
plain Python over the ``dsl`` package, independent of pygls; the handlers only convert to and from
the protocol's types.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import unquote, urlparse

from dsl import ir
from dsl import syntax as s
from dsl.diagnostics import Diagnostic, PolicyError
from dsl.loader import display_path, load_policy_text, policy_root
from dsl.parser import parse
from dsl.printer import format_file
from dsl.spans import Span

SERVER_NAME = "tinnhiem"
SERVER_VERSION = "0.1.0"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
log = logging.getLogger("tinnhiem.lsp")

# ---- positions: spans (1-based, code points) ↔ LSP (0-based, UTF-16 code units) ---------------------


@dataclass(frozen=True)
class Pos:
    line: int  # 0-based
    character: int  # UTF-16 code units


@dataclass(frozen=True)
class Range:
    start: Pos
    end: Pos


def _utf16(line: str, index: int) -> int:
    """The UTF-16 offset of code point ``index`` in ``line``."""
    return len(line[: max(index, 0)].encode("utf-16-le")) // 2


def _code_point(line: str, utf16: int) -> int:
    """The code point index of UTF-16 offset ``utf16`` in ``line``."""
    units = 0
    for i, c in enumerate(line):
        if units >= utf16:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
    return len(line)


def _from_nfc(line: str, index: int) -> int:
    """The code point index in ``line`` (as the editor has it) of index ``index`` in its NFC form."""
    if unicodedata.is_normalized("NFC", line):
        return index
    for i in range(len(line) + 1):
        if len(unicodedata.normalize("NFC", line[:i])) >= index:
            return i
    return len(line)


def span_range(span: Span, lines: Sequence[str]) -> Range:
    """A span of the parser (over the NFC text) as an LSP range over the editor's ``lines``
    (which may be decomposed, e.g. NFD Vietnamese); never empty: at least one character."""

    def at(line: int, column: int) -> Pos:
        i = min(max(line, 1), max(len(lines), 1)) - 1
        text = lines[i] if i < len(lines) else ""
        return Pos(i, _utf16(text, _from_nfc(text, column - 1)))

    start = at(span.line, span.column)
    end = at(span.end_line, span.end_column)
    if (end.line, end.character) <= (start.line, start.character):
        end = Pos(start.line, start.character + 1)
    return Range(start, end)


# ---- declarations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decl:
    """A name declared in a policy file, where (``span`` of the name) and what it says (markdown)."""

    kind: str
    name: str
    file: Path
    span: Span
    markdown: str
    scope: str = ""  # the band set of a band (bands of two sets may share a code)


@dataclass(frozen=True)
class ImportRef:
    path_span: Span  # the quoted path
    alias: str
    target: Path  # resolved
    alias_span: Span | None


@dataclass(frozen=True)
class FileIndex:
    """What one parsed file declares and imports."""

    path: Path
    decls: tuple[Decl, ...]
    imports: tuple[ImportRef, ...]
    header_name: str = ""


def _quote(text: str) -> str:
    return "> " + text.replace("\n", "\n> ")


def _cite_md(c: s.Cite | None, documents: dict[str, str]) -> str:
    if c is None:
        return ""
    title = documents.get(c.doc.text, "")
    head = f"**{c.doc.text} {c.para}**" + (f" — {title}" if title else "")
    return f"\n\n{head}\n\n{_quote('“' + c.quote.value + '”')}"


def _source_slice(lines: Sequence[str], span: Span) -> str:
    if span.line < 1 or span.line > len(lines):
        return ""
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1: span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1:]]
    parts += [ln.strip() for ln in lines[span.line: span.end_line - 1]]
    parts.append(lines[span.end_line - 1][: span.end_column - 1].strip())
    return " ".join(p.strip() for p in parts if p.strip())


def index_file(pf: s.PolicyFile, path: Path, text: str, documents: dict[str, str] | None = None) -> FileIndex:
    """The declarations of one parsed file, each with its hover text."""
    lines = text.split("\n")
    docs = dict(documents or {})
    for it in pf.items:
        if isinstance(it, s.Document):
            docs[it.name.text] = it.title.value
    out: list[Decl] = []
    imports: list[ImportRef] = []
    header = ""
    tags: dict[str, list[str]] = {}
    tag_first: dict[str, Span] = {}

    def add(kind: str, name: s.Name, md: str, scope: str = "") -> None:
        out.append(Decl(kind, name.text, path, name.span, md, scope))

    for it in pf.items:
        match it:
            case s.Header():
                fields = {f.key.text: f.value for f in it.fields}
                header = str(fields.get("name", ""))
                add("policy", it.name, f"**policy** `{it.name.text}` — {header}")
            case s.Document():
                add("document", it.name, f"**document** `{it.name.text}` — {it.title.value}")
            case s.Import():
                target = (path.parent / it.path.value).resolve()
                alias = it.alias.text if it.alias else Path(it.path.value).stem
                imports.append(ImportRef(it.path.span, alias, target, it.alias.span if it.alias else None))
                if it.alias is not None:
                    add("alias", it.alias, f"**import** `{alias}` — \"{it.path.value}\"")
            case s.Levels():
                for lv in it.items:
                    add("level", lv.name, f"**level** `{lv.name.text}` — {lv.label.value}")
            case s.Fact():
                add("fact", it.name, f"**fact** `{it.name.text}`: {it.type.text} — {it.label.value}")
            case s.Title():
                tag_text = f" · tags {', '.join(t.text for t in it.tags)}" if it.tags else ""
                add("title", it.code, f"**title** `{it.code.text}` — {it.label.value}{tag_text}")
                for t in it.tags:
                    tags.setdefault(t.text, []).append(it.code.text)
                    tag_first.setdefault(t.text, t.span)
            case s.Define():
                label = f" — {it.label.value}" if it.label else ""
                add("define", it.name, f"**define** `{it.name.text}`{label}\n\n```\n{_source_slice(lines, it.expr.span)}\n```")
            case s.Scope():
                titles = ", ".join(t.text for t in it.titles)
                add("scope", it.name, f"**scope** `{it.name.text}` at `{it.level.text}`: {titles}{_cite_md(it.cite, docs)}")
            case s.Exempt():
                ref = f" (refines `{it.refines}`)" if it.refines else ""
                add("exempt", it.name, f"**exempt** `{it.name.text}`{ref} — {it.reason.value}{_cite_md(it.cite, docs)}")
            case s.Venue():
                add("venue", it.code, f"**venue** `{it.code.text}` — {it.label.value}")
            case s.VenueRule():
                over = f" (overrides {', '.join(str(q) for q in it.overrides)})" if it.overrides else ""
                venues = ", ".join(v.venue.text for v in it.items)
                add("venues", it.name, f"**venues** `{it.name.text}`{over}: {venues}{_cite_md(it.cite, docs)}")
            case s.Bands():
                ref = f" (refines `{it.refines}`)" if it.refines else ""
                codes = ", ".join(b.code.text for b in it.bands)
                add("bands", it.name, f"**bands** `{it.name.text}`{ref}: {codes}")
                for b in it.bands:
                    cons = "".join(f"\n- {ir.CONSEQUENCE_VI[c.kind]}: {c.text.value}" for c in b.consequences)
                    md = (f"**band** `{b.code.text}` of `{it.name.text}` — {b.label.value}\n\n"
                          f"`{_source_slice(lines, b.when.span)}` · severity {b.severity}{cons}{_cite_md(b.cite, docs)}")
                    add("band", b.code, md, it.name.text)
            case s.Stage():
                after = ", ".join(a.text for a in it.after)
                add("stage", it.name, f"**stage** `{it.name.text}` — {it.label.value}\n\nat `{it.venue.text}` after {after}, "
                    f"bands `{it.bands}`{_cite_md(it.cite, docs)}")
            case s.Combine():
                add("two_venues", it.outcome, f"**two_venues** `{it.outcome.text}` — {it.label.value}{_cite_md(it.cite, docs)}")
            case s.Schedule():
                for ph in it.phases:
                    when = "".join(f" · {k} {v}" for k, v in (("from", ph.start), ("by", ph.deadline)) if v)
                    after = f" · after {', '.join(a.text for a in ph.after)}" if ph.after else ""
                    add("phase", ph.name, f"**phase** `{ph.name.text}` — {ph.label.value}{after}{when}{_cite_md(ph.cite, docs)}")
            case s.Provision():
                add("provision", it.name, f"**provision** `{it.name.text}` — {it.text.value}{_cite_md(it.cite, docs)}")
            case s.Property():
                add("property", it.name, f"**property** `{it.name.text}` — {it.label.value}\n\n```\n{_source_slice(lines, it.expr.span)}\n```")
            case s.Example():
                add("example", it.name, f"**example** `{it.name.text}` — {it.label.value}")
            case s.MaxVenues() | s.Ballot() | s.ShareDecl() | s.Quorum() | s.Apply() | s.Acknowledge() | s.TallySchema():
                pass
            case _:
                raise AssertionError(f"unhandled item {type(it).__name__}")
    for tag, codes in tags.items():
        out.append(Decl("tag", tag, path, tag_first[tag], f"**tag** `{tag}`: {', '.join(codes)}"))
    return FileIndex(path, tuple(out), tuple(imports), header)


# ---- analysis of one document ---------------------------------------------------------------------


@dataclass(frozen=True)
class LspDiagnostic:
    range: Range
    code: str
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class Analysis:
    """A document's diagnostics and, when it (or an earlier version) parsed, its index."""

    path: Path
    text: str
    diagnostics: tuple[LspDiagnostic, ...]
    index: FileIndex | None
    imported: tuple[FileIndex, ...] = ()  # the files it imports, transitively, in import order


MAX_FILE_BYTES = 10 * 1024 * 1024  # the largest imported file indexed for hover and definition


@dataclass
class _Cache:
    files: dict[Path, tuple[float, FileIndex | None]] = field(default_factory=dict)

    def index(self, path: Path) -> FileIndex | None:
        """The index of the imported file ``path``; None unless it is a regular ``*.policy`` file of at most
        ``MAX_FILE_BYTES`` that parses (an ``import "/dev/zero"`` is never opened)."""
        try:
            st = path.stat()
        except (OSError, ValueError):
            return None
        hit = self.files.get(path)
        if hit is not None and hit[0] == st.st_mtime:
            return hit[1]
        idx: FileIndex | None = None
        if stat.S_ISREG(st.st_mode) and path.suffix == ".policy" and st.st_size <= MAX_FILE_BYTES:
            try:
                with open(path, "rb") as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
                text = unicodedata.normalize("NFC", data.decode("utf-8-sig"))
                if len(data) <= MAX_FILE_BYTES:
                    idx = index_file(parse(text, display_path(path)), path, text)
            except (OSError, UnicodeDecodeError, PolicyError):
                idx = None
        self.files[path] = (st.st_mtime, idx)
        return idx


_CACHE = _Cache()


def _imported(index: FileIndex, cache: _Cache) -> tuple[FileIndex, ...]:
    """The indexes of what ``index`` imports, directly or not — inside the policy root only, as the
    loader reads them (:func:`dsl.loader.policy_root`): a hover never shows a file outside it."""
    out: list[FileIndex] = []
    seen = {index.path}
    root = policy_root(index.path)
    queue = [imp.target for imp in index.imports]
    while queue:
        p = queue.pop(0)
        if p in seen:
            continue
        seen.add(p)
        try:
            if not p.resolve().is_relative_to(root):
                continue
        except (OSError, ValueError):
            continue
        sub = cache.index(p)
        if sub is not None:
            out.append(sub)
            queue.extend(imp.target for imp in sub.imports)
    return tuple(out)


def _diagnostic(d: Diagnostic, shown: str, lines: Sequence[str], pf: s.PolicyFile | None, path: Path) -> LspDiagnostic:
    message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
    if d.span.file == shown:
        return LspDiagnostic(span_range(d.span, lines), d.code, message, d.severity)
    # an error in an imported file: shown on the import that brings it in
    at = Span(shown, 1, 1, 1, 2)
    if pf is not None:
        imports = [it for it in pf.items if isinstance(it, s.Import)]
        direct = [it for it in imports if display_path((path.parent / it.path.value).resolve()) == d.span.file]
        if direct or imports:
            at = (direct or imports)[0].span
    return LspDiagnostic(span_range(at, lines), d.code, f"in {d.span}: {message}", d.severity)


def analyse(path: Path, text: str, previous: Analysis | None = None, cache: _Cache = _CACHE) -> Analysis:
    """Diagnostics and index of one document (``text`` stands for the file at ``path``)."""
    original, lines = text, text.split("\n")  # the editor's text: ranges are given in it
    text = unicodedata.normalize("NFC", text)
    shown = display_path(path)
    pf: s.PolicyFile | None = None
    diags: list[LspDiagnostic] = []
    try:
        pf = parse(text, shown)
    except PolicyError as exc:
        diags = [_diagnostic(d, shown, lines, None, path) for d in exc.diagnostics]
    if pf is not None:
        try:
            load_policy_text(path, text)
        except PolicyError as exc:
            diags = [_diagnostic(d, shown, lines, pf, path) for d in exc.diagnostics]
    if pf is None:
        index = previous.index if previous is not None else None
        imported = previous.imported if previous is not None else ()
        return Analysis(path, original, tuple(diags), index, imported)  # names resolve against the last version that parsed
    index = index_file(pf, path, text)
    imported = _imported(index, cache)
    docs: dict[str, str] = {}
    for sub in imported:
        for d in sub.decls:
            if d.kind == "document":
                docs.setdefault(d.name, d.markdown.split(" — ", 1)[-1])
    if docs:  # citations of documents declared in an import get their titles
        index = index_file(pf, path, text, docs)
    return Analysis(path, original, tuple(diags), index, imported)


# ---- hover and definition -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What the cursor is on: a name (maybe ``alias.name``) or the path of an import."""

    name: str = ""
    alias: str = ""
    import_target: Path | None = None
    range: Range | None = None
    at: tuple[int, int] = (-1, -1)  # 1-based line and column of the name's first character


def _in_string_or_comment(line: str, index: int) -> tuple[bool, bool]:
    in_string = escaped = False
    for c in line[:index]:
        if escaped:
            escaped = False
        elif c == "\\" and in_string:
            escaped = True
        elif c == '"':
            in_string = not in_string
        elif c == "#" and not in_string:
            return False, True
    return in_string, False


def target_at(a: Analysis, pos: Pos) -> Target | None:
    """The name or import path at ``pos`` in the analysed text."""
    lines = a.text.split("\n")
    if not 0 <= pos.line < len(lines):
        return None
    line = lines[pos.line]
    idx = _code_point(line, pos.character)
    if a.index is not None:
        for imp in a.index.imports:
            sp = imp.path_span
            if sp.line == pos.line + 1 and sp.column - 1 <= idx < sp.end_column - 1:
                return Target(import_target=imp.target, range=span_range(sp, lines))
    in_string, in_comment = _in_string_or_comment(line, idx)
    if in_string or in_comment:
        return None
    for m in _IDENT.finditer(line):
        if m.start() <= idx <= m.end() and (idx < m.end() or idx == m.end() and idx > m.start()):
            word = m.group(0)
            if "." in word:
                alias, name = word.split(".", 1)
                dot = m.start() + len(alias)
                if idx <= dot:
                    rng = Range(Pos(pos.line, _utf16(line, m.start())), Pos(pos.line, _utf16(line, dot)))
                    return Target(name=alias, range=rng, at=(pos.line + 1, m.start() + 1))
                rng = Range(Pos(pos.line, _utf16(line, dot + 1)), Pos(pos.line, _utf16(line, m.end())))
                return Target(name=name, alias=alias, range=rng, at=(pos.line + 1, dot + 2))
            rng = Range(Pos(pos.line, _utf16(line, m.start())), Pos(pos.line, _utf16(line, m.end())))
            return Target(name=word, range=rng, at=(pos.line + 1, m.start() + 1))
    return None


def _lookup(a: Analysis, t: Target) -> list[Decl]:
    if a.index is None or not t.name:
        return []
    if t.alias:
        imp = next((i for i in a.index.imports if i.alias == t.alias), None)
        sub = _CACHE.index(imp.target) if imp is not None else None
        pool: Iterable[FileIndex] = (sub,) if sub is not None else ()
    else:
        pool = (a.index, *a.imported)
    for idx in pool:  # the nearest file that declares the name wins
        found = [d for d in idx.decls if d.name == t.name and d.kind != "policy"]
        here = [d for d in found if d.file == a.path and (d.span.line, d.span.column) == t.at]
        if here:  # on a declaration itself: that declaration
            return here
        referable = [d for d in found if d.kind != "example"]  # nothing refers to an example by its name
        if found:
            return referable or found
    if not t.alias and a.index is not None:
        imp = next((i for i in a.index.imports if i.alias == t.name), None)
        if imp is not None:  # an import without "as": its alias is the file's stem
            sub = _CACHE.index(imp.target)
            label = f" — {sub.header_name}" if sub is not None and sub.header_name else ""
            return [Decl("alias", t.name, a.path, imp.path_span, f"**import** `{t.name}` — {imp.target.name}{label}")]
    return []


def hover_at(a: Analysis, pos: Pos) -> tuple[str, Range] | None:
    """Markdown describing what is at ``pos``, and the range it describes."""
    t = target_at(a, pos)
    if t is None or t.range is None:
        return None
    if t.import_target is not None:
        sub = _CACHE.index(t.import_target)
        what = f"{sub.header_name}" if sub is not None and sub.header_name else "(cannot be read)"
        return f"**import** `{t.import_target.name}` — {what}\n\n`{t.import_target}`", t.range
    decls = _lookup(a, t)
    if not decls:
        return None
    parts = []
    for d in decls[:4]:
        md = d.markdown
        if d.kind == "alias":
            imp = next((i for i in a.index.imports if i.alias == d.name), None) if a.index else None
            sub = _CACHE.index(imp.target) if imp is not None else None
            if sub is not None and sub.header_name:
                md += f" → `{sub.decls[0].name if sub.decls else ''}`: {sub.header_name}"
        if d.file != a.path:
            md += f"\n\n*declared in {d.file.name}*"
        parts.append(md)
    return "\n\n---\n\n".join(parts), t.range


def definition_at(a: Analysis, pos: Pos) -> list[tuple[Path, Span | None]]:
    """Where what is at ``pos`` is declared: (file, span of its name), or (file, None) for a whole file."""
    t = target_at(a, pos)
    if t is None:
        return []
    if t.import_target is not None:
        return [(t.import_target, None)] if t.import_target.exists() else []
    if t.name and not t.alias and a.index is not None:
        imp = next((i for i in a.index.imports if i.alias == t.name), None)
        if imp is not None and imp.alias_span is None:
            return [(imp.target, None)]
    return [(d.file, d.span) for d in _lookup(a, t)]


def format_text(text: str, path: Path) -> str | None:
    """The canonical layout of ``text``; None when it does not parse (its diagnostics say why)."""
    try:
        return format_file(parse(unicodedata.normalize("NFC", text), display_path(path)))
    except PolicyError:
        return None


# ---- documents: which URIs name something this server can analyse ---------------------------------


def uri_problem(uri: object) -> str | None:
    """Why ``uri`` cannot name a document (``"contains a NUL character"``…), None when it can."""
    if not isinstance(uri, str) or not uri:
        return "is not a URI"
    if "\x00" in uri or "\x00" in unquote(uri):
        return "contains a NUL character (%00), which no file name can hold"
    try:
        scheme = urlparse(uri).scheme
    except ValueError:
        return "is not a URI"
    return None if scheme else "is not a URI (it has no scheme such as file:)"


def uri_to_path(uri: str) -> Path:
    """The file a document URI stands for; a URI of another scheme (``untitled:``) is a file of that name in
    the working folder. ``uri`` has passed :func:`uri_problem`."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).resolve()
    return (Path.cwd() / (Path(unquote(parsed.path)).name or "untitled.policy")).resolve()


# ---- the wire: bounded Content-Length framing ------------------------------------------------------

MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # bytes of one message's body
MAX_HEADER_LINE = 8 * 1024  # bytes of one header line
MAX_HEADERS = 32  # header lines of one message
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32602, -32603
_CONTENT_LENGTH_AT_END = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?\n\Z", re.IGNORECASE)


class FramingError(Exception):
    """A header block that frames no message (the input is then skipped to the next ``Content-Length`` line)."""


def _shown(raw: bytes, limit: int = 40) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _content_length(value: bytes) -> int:
    """The number of bytes a ``Content-Length`` value announces; FramingError unless it is 0…16 MiB in digits."""
    if not value.isdigit():
        raise FramingError(f"refused a message: Content-Length {_shown(value)} is not a number of bytes")
    if len(value) > 12 or int(value) > MAX_CONTENT_LENGTH:
        raise FramingError(f"refused a message: Content-Length {_shown(value)} is larger than the limit of "
                           f"{MAX_CONTENT_LENGTH} bytes (16 MiB)")
    return int(value)


class FrameReader:
    """The bodies of the messages on a byte stream framed by ``Content-Length`` headers, in bounded memory.

    pygls's own reader trusts the header: it allocates whatever ``Content-Length`` says (``1000000000000``:
    MemoryError, the server dies) and treats a header it cannot read as no header (``abc``: the body is
    then read as header lines, and the server waits for ever). This one reads a header line of at most
    ``MAX_HEADER_LINE`` bytes and a body of at most ``MAX_CONTENT_LENGTH``; anything else is a
    :class:`FramingError`, after which the stream is skipped to the next line ending in a
    ``Content-Length`` header (a JSON body holds no line break of its own, so that is where the next
    message starts) and read from there.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lost = False  # after a FramingError: skip to the next Content-Length line

    def next(self) -> bytes | FramingError | None:
        """The next body; a FramingError for a header block that frames none; None at the end of the input."""
        try:
            length = self._headers()
        except FramingError as exc:
            self.lost = True
            return exc
        if length is None:
            return None
        body = self.stream.read(length)
        return body if len(body) == length else None  # the input ended inside a body

    def _headers(self) -> int | None:
        length, count = None, 0
        if self.lost:
            length = self._resync()
            if length is None:
                return None
            count = 1
        while True:
            line = self.stream.readline(MAX_HEADER_LINE + 1)
            if not line.endswith(b"\n"):
                if len(line) > MAX_HEADER_LINE:
                    raise FramingError(f"refused a message: a header line longer than {MAX_HEADER_LINE} bytes "
                                       f"(Content-Length expected), starting {_shown(line)}")
                return None  # the end of the input
            if not line.strip():
                if count == 0:
                    continue  # blank lines between messages
                if length is None:
                    raise FramingError("refused a message: its headers have no Content-Length")
                return length
            count += 1
            if count > MAX_HEADERS:
                raise FramingError(f"refused a message: more than {MAX_HEADERS} header lines (Content-Length expected)")
            name, colon, value = line.partition(b":")
            if not colon:
                raise FramingError(f"refused a message: {_shown(line)} is not a header (Content-Length expected)")
            if name.strip().lower() == b"content-length":
                length = _content_length(value.strip())

    def _resync(self) -> int | None:
        """Skip to the next line that ends in a ``Content-Length`` header: its length; None at the end of the input."""
        tail = b""  # the end of a long line read so far: a header may straddle two reads
        while True:
            chunk = self.stream.readline(MAX_HEADER_LINE)
            if not chunk:
                return None
            text = tail + chunk
            if not chunk.endswith(b"\n"):
                tail = text[-64:]
                continue
            tail = b""
            found = _CONTENT_LENGTH_AT_END.search(text)
            if found is not None:
                length = _content_length(found.group(1))
                self.lost = False
                return length


# ---- the wire: JSON-RPC messages -------------------------------------------------------------------


@dataclass(eq=False)
class Refusal(Exception):
    """A message that is not a valid one: the error to answer (with the message's id when it has one)."""

    id: int | str | None
    code: int
    message: str
    answer: bool = True  # False for a notification: JSON-RPC answers none

    def __str__(self) -> str:
        return self.message


def _valid_id(rid: object) -> bool:
    return isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool))


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: message``, on one line and of bounded length."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _debug() -> bool:
    return bool(os.environ.get("TINNHIEM_DEBUG"))


def read_message(body: bytes, protocol: Any, converter: Any) -> Any:
    """The typed message (lsprotocol's, or pygls's generic ones) in ``body``; a :class:`Refusal` when the body
    is not JSON (-32700), not a JSON-RPC 2.0 message (-32600) or its params are not what its method takes (-32602)."""
    from cattrs import ClassValidationError, transform_error
    from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage

    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError; nesting too deep
        raise Refusal(None, PARSE_ERROR, f"the message is not JSON: {_one_line(exc, 120)}") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")
        raise Refusal(None, INVALID_REQUEST, f"a message is a JSON object, not {kind}")
    rid, method = data.get("id"), data.get("method")
    if "id" in data and not _valid_id(rid):
        raise Refusal(None, INVALID_REQUEST, "the id of a message is a number or a string")
    if data.get("jsonrpc") != "2.0":  # not a request, so not a notification either: answered
        raise Refusal(rid, INVALID_REQUEST, 'not a JSON-RPC 2.0 message ("jsonrpc": "2.0" missing)')
    notification = "id" not in data
    if "method" in data and not isinstance(method, str):
        raise Refusal(rid, INVALID_REQUEST, "the method of a message is a string")
    if method is None:
        if "id" not in data:
            raise Refusal(None, INVALID_REQUEST, "a message is a request, a notification or a response")
        try:  # a response to a request of the server's
            return protocol.structure_message(data)
        except Exception as exc:  # noqa: BLE001 - a response cannot be answered
            raise Refusal(rid, INVALID_REQUEST, f"a malformed response: {_one_line(exc)}", answer=False) from None
    cls = protocol.get_message_type(method) or (JsonRPCNotification if notification else JsonRPCRequestMessage)
    try:
        message = converter.structure(data, cls)
    except ClassValidationError as exc:
        why = "; ".join(transform_error(exc))
    except Exception as exc:  # noqa: BLE001 - cattrs may raise anything on a value of the wrong type
        why = _one_line(exc)
    else:
        if not notification and not hasattr(message, "id"):  # pygls would take it for a notification: no answer
            raise Refusal(rid, INVALID_REQUEST, f"{method} is a notification: it has no id")
        uri = getattr(getattr(getattr(message, "params", None), "text_document", None), "uri", None)
        if notification or uri is None or uri_problem(uri) is None:
            return message  # a notification of a document without a file: a diagnostic says why (refresh)
        why = f"the document URI {uri!r} {uri_problem(uri)}"
    raise Refusal(rid, INVALID_PARAMS, f"invalid params for {method}: {why}"[:1000], not notification)


def write_error(writer: Any, rid: int | str | None, code: int, message: str) -> None:
    """A JSON-RPC error response on ``writer`` (pygls's stdout writer), framed."""
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}).encode("utf-8")
    writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)


@dataclass
class Session:
    """One connection: the pygls server, the converter of its messages, the writer its answers go to."""

    server: Any
    converter: Any
    writer: Any
    shut_down: bool = False  # a shutdown request was received: any request but exit is then an error

    def refuse(self, rid: int | str | None, code: int, message: str) -> None:
        log.warning("%s", message)
        write_error(self.writer, rid, code, message)

    def dispatch(self, body: bytes) -> None:
        """Hand one message's body to pygls; answer it with an error when it is not a valid message, when it
        comes after ``shutdown`` (pygls would drop it) or when pygls fails on it."""
        try:
            message = read_message(body, self.server.protocol, self.converter)
        except Refusal as refused:
            if refused.answer:
                self.refuse(refused.id, refused.code, refused.message)
            else:
                log.warning("%s", refused.message)
            return
        rid, method = getattr(message, "id", None), getattr(message, "method", None)
        if self.shut_down and method not in (None, "exit"):
            if rid is not None:
                self.refuse(rid, INVALID_REQUEST, f"{method} after shutdown: only exit is accepted")
            return
        if method == "shutdown":
            self.shut_down = True
        try:
            self.server.protocol.handle_message(message)
        except Exception as exc:  # noqa: BLE001 - never the end of the server; the request still gets its answer
            log.error("a message could not be handled: %s", _one_line(exc), exc_info=_debug())
            if method is not None and _valid_id(rid):
                write_error(self.writer, rid, INTERNAL_ERROR, f"{method} failed: {_one_line(exc)}")

    async def run(self, frames: FrameReader) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = await loop.run_in_executor(self.server.thread_pool, frames.next)  # the loop stays free while stdin waits
            if item is None:
                return
            if isinstance(item, FramingError):
                self.refuse(None, PARSE_ERROR, str(item))
            else:
                self.dispatch(item)


def serve(server: Any, converter: Any, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve LSP on ``stdin``/``stdout`` until ``exit`` (its status: 0 after ``shutdown``, else 1) or the end of
    the input (0); instead of pygls's ``start_io``, whose reader trusts ``Content-Length``."""
    from pygls.io_ import StdoutWriter

    writer = StdoutWriter(stdout)
    server.protocol.set_writer(writer)
    try:
        asyncio.run(Session(server, converter, writer).run(FrameReader(stdin)))
    except SystemExit as exc:  # the exit notification
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # stdin or stdout gone (BrokenPipeError…)
        log.warning("the connection to the client is lost: %s", _one_line(exc))
        return 1
    finally:
        server.shutdown()
    return 0


# ---- the server (pygls) ---------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def guarded(feature: str) -> Callable[[F], F]:
    """A handler that raises nothing but JSON-RPC errors: any other exception becomes
    ``JsonRpcInternalError("<feature> failed: <Type>: <message>")`` (pygls answers the request with it), logged
    on one line (with its traceback when ``TINNHIEM_DEBUG`` is set)."""
    from pygls.exceptions import JsonRpcException, JsonRpcInternalError

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def handler(ls: Any, params: Any) -> Any:
            try:
                return fn(ls, params)
            except JsonRpcException:
                raise
            except Exception as exc:  # noqa: BLE001 - nothing a document or a client sends may stop the server
                log.error("%s failed: %s", feature, _one_line(exc), exc_info=_debug())
                raise JsonRpcInternalError(f"{feature} failed: {_one_line(exc)}") from None

        return handler  # type: ignore[return-value]

    return wrap


def checked_uri(uri: str) -> str:
    """``uri`` when it can name a document; else JsonRpcInvalidParams (-32602) saying why."""
    from pygls.exceptions import JsonRpcInvalidParams

    problem = uri_problem(uri)
    if problem is not None:
        raise JsonRpcInvalidParams(f"invalid params: the document URI {uri!r} {problem}"[:1000])
    return uri


def build_server() -> tuple[Any, Any]:
    """The pygls server with its handlers, and the converter of its messages (imported lazily: only
    ``tinnhiem lsp`` needs pygls)."""
    from lsprotocol import types as T
    from pygls.lsp.server import LanguageServer
    from pygls.protocol import default_converter

    converter = default_converter()
    server = LanguageServer(SERVER_NAME, SERVER_VERSION, text_document_sync_kind=T.TextDocumentSyncKind.Full,
                            converter_factory=lambda: converter)
    state: dict[str, Analysis] = {}
    opened: set[str] = set()  # only an open document is read: never a file (or /dev/zero) behind a URI

    def rng(r: Range) -> T.Range:
        return T.Range(T.Position(r.start.line, r.start.character), T.Position(r.end.line, r.end.character))

    def location(path: Path, span: Span | None) -> T.Location:
        if span is None:
            return T.Location(path.as_uri(), T.Range(T.Position(0, 0), T.Position(0, 0)))
        lines: Sequence[str]
        if path in state_paths():
            lines = state_paths()[path].text.split("\n")
        else:
            try:
                lines = path.read_text(encoding="utf-8-sig").split("\n") if path.is_file() else ()
            except (OSError, UnicodeDecodeError):
                lines = ()
        return T.Location(path.as_uri(), rng(span_range(span, lines)))

    def state_paths() -> dict[Path, Analysis]:
        return {a.path: a for a in state.values()}

    def publish(ls: LanguageServer, uri: str, diags: list[T.Diagnostic], version: int | None = None) -> None:
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=version))

    def refresh(ls: LanguageServer, uri: str) -> None:
        if uri not in opened:
            return
        try:
            doc = ls.workspace.get_text_document(uri)
            problem = uri_problem(uri)
            if problem is not None:  # no file to stand for: the reason, on the document itself
                state.pop(uri, None)
                whole = T.Range(T.Position(0, 0), T.Position(0, 1))
                message = f"tinnhiem cannot analyse this document: its URI {problem}"
                publish(ls, uri, [T.Diagnostic(whole, message, severity=T.DiagnosticSeverity.Error, source=SERVER_NAME)], doc.version)
                return
            analysis = analyse(uri_to_path(uri), doc.source, state.get(uri))
            state[uri] = analysis
            diags = [T.Diagnostic(range=rng(d.range), message=d.message, severity=T.DiagnosticSeverity.Error,
                                  code=d.code, source=SERVER_NAME) for d in analysis.diagnostics]
            publish(ls, uri, diags, doc.version)
        except Exception as exc:  # noqa: BLE001 - a bad document must never stop the server
            log.error("analysis failed: %s", _one_line(exc), exc_info=_debug())
            ls.window_log_message(T.LogMessageParams(T.MessageType.Error, f"tinnhiem: analysis failed: {_one_line(exc)}"))

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    @guarded("didOpen")
    def did_open(ls: LanguageServer, params: T.DidOpenTextDocumentParams) -> None:
        opened.add(params.text_document.uri)
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    @guarded("didChange")
    def did_change(ls: LanguageServer, params: T.DidChangeTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    @guarded("didSave")
    def did_save(ls: LanguageServer, params: T.DidSaveTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    @guarded("didClose")
    def did_close(ls: LanguageServer, params: T.DidCloseTextDocumentParams) -> None:
        opened.discard(params.text_document.uri)
        state.pop(params.text_document.uri, None)
        publish(ls, params.text_document.uri, [])

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    @guarded("hover")
    def hover(ls: LanguageServer, params: T.HoverParams) -> T.Hover | None:
        a = state.get(checked_uri(params.text_document.uri))
        if a is None:
            return None
        found = hover_at(a, Pos(params.position.line, params.position.character))
        if found is None:
            return None
        md, r = found
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md), range=rng(r))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    @guarded("definition")
    def definition(ls: LanguageServer, params: T.DefinitionParams) -> list[T.Location] | None:
        a = state.get(checked_uri(params.text_document.uri))
        if a is None:
            return None
        found = definition_at(a, Pos(params.position.line, params.position.character))
        return [location(p, sp) for p, sp in found] or None

    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    @guarded("formatting")
    def formatting(ls: LanguageServer, params: T.DocumentFormattingParams) -> list[T.TextEdit] | None:
        uri = checked_uri(params.text_document.uri)
        if uri not in opened:
            return None
        text = ls.workspace.get_text_document(uri).source
        new = format_text(text, uri_to_path(uri))
        if new is None or new == text:
            return [] if new is not None else None
        lines = text.split("\n")
        end = T.Position(len(lines) - 1, _utf16(lines[-1], len(lines[-1])))
        return [T.TextEdit(range=T.Range(T.Position(0, 0), end), new_text=new)]

    return server, converter


class OneLineFormatter(logging.Formatter):
    """``tinnhiem lsp: LEVEL: message`` on one line; an exception shown as its type and message, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a log call with bad arguments still says something
            text = str(record.msg)
        text = text.strip().split("\n", 1)[0]
        if record.exc_info and record.exc_info[1] is not None and record.exc_info[1].__class__.__name__ not in text:
            text += f": {_one_line(record.exc_info[1])}"
        return f"tinnhiem lsp: {record.levelname}: {text[:1000]}"


def _configure_logging() -> None:
    level = getattr(logging, os.environ.get("TINNHIEM_LSP_LOG", "WARNING").upper(), logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    debug_format = "tinnhiem lsp: %(levelname)s: %(message)s"
    handler.setFormatter(logging.Formatter(debug_format) if _debug() else OneLineFormatter())
    logging.basicConfig(level=level, handlers=[handler])
    logging.raiseExceptions = _debug()  # a failing log call prints no traceback of its own either


def lsp_main() -> int:
    """Serve LSP on stdin/stdout until the client says ``exit``; logs go to stderr (``TINNHIEM_LSP_LOG``),
    one line each (tracebacks with ``TINNHIEM_DEBUG``)."""
    _configure_logging()
    try:
        server, converter = build_server()
    except ImportError as exc:
        print(f"tinnhiem lsp: error: {exc}\nhelp: the language server needs pygls: pip install 'pygls>=2'", file=sys.stderr)
        return 2
    return serve(server, converter, sys.stdin.buffer, sys.stdout.buffer)
