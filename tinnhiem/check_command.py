"""``tinnhiem check`` (the command; the proofs are :mod:`checker`): load policies, prove their properties, write the report, pick the exit code.

Takes the paths given on the command line (files, or folders whose ``*.policy`` files are all
checked; none ⇒ the bundled policies), the format (``text``, ``json``, ``junit``, ``sarif``), an
output file and the per-property timeout; produces the report (on stdout or in the file) and the
exit code: 0 every property proved (acknowledged findings allowed) · 1 a property refuted or an
acknowledgement stale · 2 a policy has errors (its diagnostics on stderr, and in the report of every
format: SARIF results, JUnit error cases, JSON ``errors``; the other policies are still checked) or a
usage error (then there is no report) ·
3 the solver answered unknown or timed out with none refuted, or a counterexample did not replay
in the evaluator (an internal error). Never a traceback: an unexpected exception is reported as
an internal error on stderr and exits 3.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from checker.interrupt import install, is_interruption
from checker.report import FORMATS, LoadFailure, Outcome, render
from checker.solve import PolicyReport, check_policy, run_exit_code
from dsl.diagnostics import PolicyError
from dsl.loader import display_path, load_policy, policy_files
from tinnhiem.files import FileError, refuse_clobber, write_output


def _targets(paths: list[str]) -> list[Path]:
    if not paths:
        import policy

        return list(policy.all_paths())
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(path.glob("*.policy")))
        else:
            out.append(path)
    return out


def check_main(paths: list[str], fmt: str = "text", output: str | None = None, timeout_ms: int = 10000,
               root: str | None = None) -> int:
    """Run ``tinnhiem check`` and return its exit code (see the module docstring). Ctrl-C is not
    caught here: it reaches :func:`tinnhiem.cli.main`, which exits 130 as every command does."""
    try:
        return _check(paths, fmt, output, timeout_ms, root)
    except FileError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback to the user
        if is_interruption(exc):
            raise KeyboardInterrupt from None  # Ctrl-C, seen through ctypes: exit 130 (tinnhiem.cli.main)
        print(f"tinnhiem check: internal error: {type(exc).__name__}: {exc}\n"
              "help: this is a bug of the checker; please report it with the policy that caused it", file=sys.stderr)
        return 3


def _check(paths: list[str], fmt: str, output: str | None, timeout_ms: int, root: str | None) -> int:
    install()  # Ctrl-C stops the solver at once (exit 130)
    if fmt not in FORMATS:
        print(f"tinnhiem check: error: unknown format '{fmt}'\nhelp: one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    if timeout_ms <= 0:
        print(f"tinnhiem check: error: --timeout-ms must be positive, not {timeout_ms}", file=sys.stderr)
        return 2
    start = time.monotonic()
    targets = _targets(paths)
    if not targets:
        print("tinnhiem check: error: no .policy file to check in " + ", ".join(paths), file=sys.stderr)
        return 2
    refuse_clobber(output, targets)
    outcomes: list[Outcome] = []
    reports: list[PolicyReport] = []
    for path in targets:
        try:
            pol = load_policy(path, root)
        except PolicyError as err:
            print(err.render(), file=sys.stderr)
            outcomes.append(LoadFailure(display_path(path), err))
            continue
        refuse_clobber(output, policy_files(pol))
        reports.append(check_policy(pol, timeout_ms))
        outcomes.append(reports[-1])
    code = 2 if len(reports) < len(outcomes) else run_exit_code(reports)
    text = render(fmt, outcomes, code, time.monotonic() - start)
    write_output(output, text)
    return code
