"""Loading a policy and everything it imports.

Takes a path to a ``.policy`` file; reads it as UTF-8 (a BOM is allowed; anything else is E002),
normalises it to NFC, parses it, loads its imports relative to the importing file (only ``.policy``
files; a missing file is E004, a cycle E003), lowers each file to the IR and returns the
:class:`dsl.ir.Policy` of the requested file. All diagnostics of a run are collected; any error
raises :class:`dsl.diagnostics.PolicyError` carrying them and the sources for rendering.

The policy's ``sha256`` covers its own bytes and, in order, the digests of its imports.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import replace
from pathlib import Path

from dsl import ir
from dsl.diagnostics import Collector, Diagnostic, PolicyError
from dsl.lower import lower
from dsl.parser import parse
from dsl.spans import Source, Span


def display_path(path: Path) -> str:
    """Relative to the working directory when below it (as a compiler prints), else absolute."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class _Loader:
    def __init__(self, unsaved: dict[Path, str] | None = None) -> None:
        self.sources: dict[str, Source] = {}
        self.done: dict[Path, ir.Policy] = {}
        self.collector = Collector()
        self.unsaved = unsaved or {}  # resolved path → text of a document not saved (the language server's)

    def load(self, path: Path, stack: tuple[Path, ...], at: Span | None) -> ir.Policy | None:
        path = path.resolve()
        if path in self.done:
            return self.done[path]
        shown = display_path(path)
        if path in stack:
            cycle = " → ".join(display_path(p) for p in stack[stack.index(path):] + (path,))
            self.collector.error("E003", f"import cycle: {cycle}", at or Span.unknown(shown), "a policy cannot import itself, directly or through others")
            return None
        try:
            data = self.unsaved[path].encode("utf-8") if path in self.unsaved else path.read_bytes()
        except FileNotFoundError:
            self.collector.error("E004" if at else "E001", f"no such policy file: {shown}", at or Span.unknown(shown))
            return None
        except OSError as exc:
            self.collector.error("E001", f"cannot read {shown}: {exc.strerror or exc}", at or Span.unknown(shown))
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            self.collector.error("E002", f"{shown} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                                 Span(shown, line, col, line, col + 1), "save the file as UTF-8 (Unicode)")
            return None
        text = unicodedata.normalize("NFC", text)
        self.sources[shown] = Source(shown, text)
        try:
            pf = parse(text, shown)
        except PolicyError as exc:
            self.collector.items.extend(exc.diagnostics)
            return None
        from dsl import syntax as s

        imports: dict[str, ir.Policy] = {}
        digests = [hashlib.sha256(data).hexdigest()]
        ok = True
        for item in pf.items:
            if not isinstance(item, s.Import):
                continue
            target_text = item.path.value
            if not target_text.endswith(".policy"):
                self.collector.error("E004", f"'{target_text}' is not a .policy file", item.path.span, "imports name .policy files, relative to this file")
                ok = False
                continue
            target = (path.parent / target_text)
            sub = self.load(target, stack + (path,), item.path.span)
            if sub is None:
                ok = False
                continue
            alias = item.alias.text if item.alias else sub.id
            if alias in imports:
                self.collector.error("E201", f"import alias '{alias}' is used twice", (item.alias or item.path).span, "give one of them another name: import \"…\" as other")
                ok = False
            imports[alias] = sub
            digests.append(sub.sha256)
        if not ok:
            return None
        before = len(self.collector.items)
        policy = lower(pf, imports, self.collector)
        if len(self.collector.items) > before:
            return None
        digest = hashlib.sha256("\n".join(digests).encode()).hexdigest() if len(digests) > 1 else digests[0]
        policy = replace(policy, sha256=digest)
        self.done[path] = policy
        return policy


def _load(path: str | os.PathLike[str], unsaved: dict[Path, str] | None) -> ir.Policy:
    loader = _Loader(unsaved)
    policy = loader.load(Path(path), (), None)
    if policy is None or loader.collector.items:
        loader.collector.raise_if_any(loader.sources)
        raise PolicyError([Diagnostic("E001", "the policy could not be loaded", Span.unknown(str(path)))], loader.sources)
    return policy


def load_policy(path: str | os.PathLike[str]) -> ir.Policy:
    """Load, resolve and lower the policy at ``path`` with its imports; raise PolicyError on errors."""
    return _load(path, None)


def load_policy_text(path: str | os.PathLike[str], text: str) -> ir.Policy:
    """As :func:`load_policy`, with ``text`` standing for the file at ``path`` (an editor's unsaved
    document); its imports are read from disk, relative to ``path``."""
    return _load(path, {Path(path).resolve(): text})


def load_sources(path: str | os.PathLike[str]) -> dict[str, Source]:
    """The sources a load read (for rendering diagnostics raised later, e.g. by the checker)."""
    loader = _Loader()
    loader.load(Path(path), (), None)
    return loader.sources
