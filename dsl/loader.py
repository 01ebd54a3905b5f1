"""Loading a policy and everything it imports.

Takes a path to a ``.policy`` file and, optionally, a policy root; reads it as UTF-8 (a BOM is
allowed; anything else is E002), normalises it to NFC, parses it, loads its imports relative to the
importing file (only ``.policy`` files; a missing file is E004, a cycle E003), lowers each file to the
IR and returns the :class:`dsl.ir.Policy` of the requested file. All diagnostics of a run are
collected; any error raises :class:`dsl.diagnostics.PolicyError` carrying them and the sources for
rendering.

**Confinement.** Every file read — the one given and each import — must, once symbolic links are
resolved, lie inside the *policy root* (by default the folder of the policy given; ``root`` widens
it), be a regular file named ``*.policy`` and hold at most :data:`MAX_BYTES`. Anything else is E005,
reported without reading the file, so a policy cannot make a command (or a CI log) show a file of
the machine (``/proc/self/environ``, ``/etc/shadow``) through a syntax error. Diagnostics quote at
most a short, escaped excerpt of a line (:meth:`dsl.diagnostics.Diagnostic.render`).

The policy's ``sha256`` covers its own bytes and, in order, the digests of its imports.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
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


#: The largest policy file read (bytes), and how deep imports may nest.
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64


def policy_root(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Path:
    """The folder every file of a load must lie in: ``root`` if given, else the folder of ``path``."""
    return Path(root if root is not None else Path(path).absolute().parent).resolve()


class _Loader:
    def __init__(self, root: Path, unsaved: dict[Path, str] | None = None) -> None:
        self.root = root
        self.sources: dict[str, Source] = {}
        self.done: dict[Path, ir.Policy] = {}
        self.collector = Collector()
        self.unsaved = unsaved or {}  # resolved path → text of a document not saved (the language server's)

    def _refused(self, given: Path, path: Path, at: Span | None) -> bool:
        """Report E005 (without reading the file) when ``path`` (resolved) may not be read."""
        shown = display_path(given)
        problem = refusal(given, self.root, unsaved=path in self.unsaved)
        if problem is None:
            return False
        message, hint = problem
        self.collector.error("E005", f"{shown} {message}", at or Span.unknown(shown), hint)
        return True

    def load(self, given: Path, stack: tuple[Path, ...], at: Span | None) -> ir.Policy | None:
        path = given.resolve()
        if path in self.done:
            return self.done[path]
        if len(stack) >= MAX_DEPTH:
            self.collector.error("E005", f"imports nest deeper than {MAX_DEPTH} files", at or Span.unknown(display_path(given)),
                                 "a plan imports its central texts directly; flatten the chain")
            return None
        if self._refused(given, path, at):
            return None
        shown = display_path(path)
        if path in stack:
            cycle = " → ".join(display_path(p) for p in stack[stack.index(path):] + (path,))
            self.collector.error("E003", f"import cycle: {cycle}", at or Span.unknown(shown), "a policy cannot import itself, directly or through others")
            return None
        try:
            data = self.unsaved[path].encode("utf-8") if path in self.unsaved else read_policy_bytes(path)
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
        if "\x00" in text:
            self.collector.error("E002", f"{shown} is not a policy text file (it contains NUL bytes)", at or Span.unknown(shown),
                                 "a policy is a UTF-8 text file")
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


def refusal(given: Path, root: Path, unsaved: bool = False) -> tuple[str, str] | None:
    """Why the policy file ``given`` may not be read under ``root`` — (message after its name, hint) — or
    None. Looks at the file's name and metadata only: a refused file is never opened."""
    path = given.resolve()
    if not path.is_relative_to(root):
        return (f"is outside the policy root {display_path(root)}",
                "imports stay in the folder of the policy given (and its sub-folders); give --policy-root DIR to allow a wider folder")
    if path.suffix != ".policy":
        return "is not a .policy file", "name policy files *.policy"
    if unsaved:
        return None
    try:
        st = path.stat()
    except OSError:
        return None  # missing or unreadable: reported when it is read
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):  # a folder is E001 when read
        return "is not a regular file", "a policy is a text file"
    if st.st_size > MAX_BYTES:
        return f"is larger than {MAX_BYTES // (1024 * 1024)} MB", "a policy is a short text; is this the right file?"
    if st.st_size == 0 and path.is_relative_to("/proc"):
        return "is not a regular file", "a policy is a text file"
    return None


def read_policy_bytes(path: Path) -> bytes:
    """The bytes of the policy file ``path``, read once, never more than :data:`MAX_BYTES` (+1, to know it
    is too long); an ``OSError`` when it is not a regular file (a FIFO or a device is never opened)."""
    if not stat.S_ISREG(os.stat(path).st_mode) and not path.is_dir():
        raise OSError(errno.EINVAL, "not a regular file")
    with open(path, "rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    return data


def _load(path: str | os.PathLike[str], unsaved: dict[Path, str] | None, root: str | os.PathLike[str] | None) -> ir.Policy:
    loader = _Loader(policy_root(path, root), unsaved)
    policy = loader.load(Path(path), (), None)
    if policy is None or loader.collector.items:
        loader.collector.raise_if_any(loader.sources)
        raise PolicyError([Diagnostic("E001", "the policy could not be loaded", Span.unknown(str(path)))], loader.sources)
    return policy


def load_policy(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> ir.Policy:
    """Load, resolve and lower the policy at ``path`` with its imports (inside ``root``, by default the
    folder of ``path``); raise PolicyError on errors."""
    return _load(path, None, root)


def load_policy_text(path: str | os.PathLike[str], text: str, root: str | os.PathLike[str] | None = None) -> ir.Policy:
    """As :func:`load_policy`, with ``text`` standing for the file at ``path`` (an editor's unsaved
    document); its imports are read from disk, relative to ``path``, inside the same root."""
    return _load(path, {Path(path).resolve(): text}, root)


def policy_files(policy: ir.Policy) -> list[str]:
    """The files a loaded policy was read from: its own and, recursively, its imports' (for refusing
    an output that would overwrite one of them)."""
    out = [policy.path]
    for _, sub in policy.imports:
        out.extend(p for p in policy_files(sub) if p not in out)
    return out


def load_sources(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> dict[str, Source]:
    """The sources a load read (for rendering diagnostics raised later, e.g. by the checker)."""
    loader = _Loader(policy_root(path, root))
    loader.load(Path(path), (), None)
    return loader.sources
