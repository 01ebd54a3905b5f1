"""``tinnhiem diff OLD NEW``: load two versions of a policy, compare them, write the report, pick the exit code.

Takes the two paths, the format (``text``, ``json``), an output file, the per-question timeout and
the policy root; produces the report of :func:`checker.diff.diff_policies` (on stdout, or written
whole into the file by :mod:`tinnhiem.files`) and the exit code: 0 equivalent · 1 a difference found
· 2 a policy has errors, a usage error, or an output that would overwrite an input · 3 an internal
error or an unknown answer. Ctrl-C reaches :func:`tinnhiem.cli.main` (exit 130).

A policy with errors has its diagnostics on stderr in every format; with ``--format json`` the report
is still written, with the keys of a comparison (nothing compared) and ``errors``: each diagnostic
with its file, line, column and code, and the side (``old``/``new``) it belongs to.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from checker.diff import FORMATS, KINDS, diff_policies, to_json, to_text
from checker.interrupt import install, interrupted
from checker.report import diagnostic_data
from dsl import ir
from dsl.diagnostics import PolicyError
from dsl.loader import display_path, load_policy, policy_files
from tinnhiem.files import FileError, refuse_clobber, write_output


@dataclass(frozen=True)
class _Loaded:
    policies: tuple[ir.Policy, ...] = ()
    errors: tuple[PolicyError, ...] = ()
    sides: tuple[ir.Policy | PolicyError, ...] = ()  # old, new: each loaded, or why not


def _load(paths: Sequence[str], root: str | None) -> _Loaded:
    policies, errors, sides = [], [], []
    for path in paths:
        try:
            policies.append(load_policy(path, root))
            sides.append(policies[-1])
        except PolicyError as exc:
            errors.append(exc)
            sides.append(exc)
    return _Loaded(tuple(policies), tuple(errors), tuple(sides))


def _errors_json(paths: Sequence[str], loaded: _Loaded) -> str:
    """The JSON report of a diff that could not compare: a policy has errors (exit 2)."""
    def version(path: str, side: ir.Policy | PolicyError) -> dict:
        if isinstance(side, PolicyError):
            return {"path": display_path(Path(path)), "id": None, "name": None, "sha256": None, "vote_year": None}
        return {"path": side.path, "id": side.id, "name": side.name, "sha256": side.sha256, "vote_year": side.vote_year}

    errors = [diagnostic_data(d, side) | {"side": name} for name, side in zip(("old", "new"), loaded.sides, strict=True)
              if isinstance(side, PolicyError) for d in side.diagnostics]
    data = {
        "tool": {"name": "tinnhiem", "command": "diff"}, "exit_code": 2, "equivalent": False,
        "old": version(paths[0], loaded.sides[0]), "new": version(paths[1], loaded.sides[1]),
        "summary": dict.fromkeys(KINDS, 0) | {"differences": 0},
        "differences": [], "notes": [], "unknown": [], "internal_errors": [], "errors": errors,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def diff_main(old: str, new: str, fmt: str = "text", output: str | None = None, timeout_ms: int = 10_000,
              root: str | None = None) -> int:
    """Run ``tinnhiem diff OLD NEW`` and return its exit code (see the module docstring)."""
    install()  # Ctrl-C stops the solver at once (exit 130)
    if fmt not in FORMATS:
        print(f"tinnhiem diff: error: unknown format '{fmt}'\nhelp: one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    if timeout_ms <= 0:
        print(f"tinnhiem diff: error: --timeout-ms must be positive, not {timeout_ms}", file=sys.stderr)
        return 2
    try:
        refuse_clobber(output, [old, new])
        loaded = _load([old, new], root)
        if loaded.errors:
            for err in loaded.errors:
                print(err.render(), file=sys.stderr)
            if fmt == "json":
                write_output(output, _errors_json([old, new], loaded))
            return 2
        for pol in loaded.policies:
            refuse_clobber(output, policy_files(pol))
    except FileError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    try:
        result = diff_policies(loaded.policies[0], loaded.policies[1], timeout_ms)
    except Exception as exc:  # never a traceback to the user
        if interrupted():
            raise KeyboardInterrupt from None  # Ctrl-C, seen through ctypes: exit 130 (tinnhiem.cli.main)
        print(f"tinnhiem diff: internal error: {type(exc).__name__}: {exc}\n"
              "help: this is a bug of the checker; please report it with the two policies", file=sys.stderr)
        return 3
    match fmt:
        case "json":
            text = to_json(result)
        case "text":
            text = to_text(result)
        case _:
            raise AssertionError(fmt)
    try:
        write_output(output, text)
    except FileError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    for e in result.internal_errors:
        print(f"tinnhiem diff: internal error: {e}", file=sys.stderr)
    return result.exit_code
