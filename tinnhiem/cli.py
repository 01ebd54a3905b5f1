"""The ``tinnhiem`` command line (also ``python -m tinnhiem``).

Takes the arguments of section 3 of the brief; produces reports on stdout or ``--output`` and exits
0 (ok), 1 (some input rows rejected, the rest still decided; or a property refuted), 2 (unusable
input, a policy with errors, a usage error). Problems are printed as diagnostics — never a Python
traceback (set ``TINNHIEM_DEBUG=1`` to see one for an internal error, which exits 3).

Commands: ``check`` (via :mod:`tinnhiem.check_command`), ``plan``, ``evaluate``, ``explain``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

import policy as bundled
from dsl.diagnostics import PolicyError, did_you_mean
from dsl.evaluator import Plan, Tally, compile_policy
from dsl.ir import Policy
from dsl.loader import load_policy, policy_files, policy_root, read_policy_bytes, refusal
from dsl.values import VOTE_YEARS, whole_number
from tinnhiem import report
from tinnhiem.csvio import InputError
from tinnhiem.files import FileError, os_error, output, refuse_clobber, write_output
from tinnhiem.roster import Rejected, Roster, read_roster
from tinnhiem.stream import CsvSink, Decider, DocumentSink, JsonlSink, feed
from tinnhiem.tallies import TallyRow, decide_with_stages, read_tallies

PROGRESS_THRESHOLD = 50_000
PROGRESS_BYTES = 4 << 20


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: an abbreviation is never taken for another option (``--policy`` is not ``--policy-root``)
    p = argparse.ArgumentParser(prog="tinnhiem", description="Confidence-vote rules (lấy phiếu tín nhiệm) as checked policy code.",
                                allow_abbrev=False)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    c = sub.add_parser("check", help="parse, type-check and prove every property of each policy")
    c.add_argument("paths", nargs="*", metavar="PATH", help="policy files (default: the bundled policies)")
    _policy_files(c)
    c.add_argument("--format", choices=("text", "json", "junit", "sarif"), default="text")
    c.add_argument("--output", metavar="FILE")
    c.add_argument("--timeout-ms", type=int, default=10_000, metavar="N", help="solver time limit per property (default 10000)")
    _root_option(c)

    def common(sp: argparse.ArgumentParser, tallies: bool, formats: bool = True) -> None:
        sp.add_argument("--roster", required=True, metavar="FILE", help="roster CSV")
        if tallies:
            sp.add_argument("--tallies", required=tallies == "required", metavar="FILE", help="tallies CSV")
        sp.add_argument("--policy", metavar="FILE", help="policy file (default: the bundled thanhhoa-kh134.policy)")
        sp.add_argument("--year", metavar="YYYY", help="vote year (default: the policy's vote_year)")
        _root_option(sp)
        if formats:
            sp.add_argument("--format", choices=("table", "json", "csv", "jsonl"), default="table",
                            help="csv and jsonl are written as they are produced (jsonl: one cadre per line, then a closing"
                                 " line with the rejected rows and the summary)")
            sp.add_argument("--output", metavar="FILE")
            sp.add_argument("--limit", type=_positive, metavar="N", help="table format: show the first N cadres only")

    common(sub.add_parser("plan", help="who is voted, where, who is exempt and why, who is out of scope"), tallies=False)
    common(sub.add_parser("evaluate", help="each cadre's band per venue, the consequences, the outcome"), tallies="required")  # type: ignore[arg-type]
    d = sub.add_parser("diff", help="semantic difference of two policy versions, with a witness for each difference")
    d.add_argument("old", metavar="OLD")
    d.add_argument("new", metavar="NEW")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.add_argument("--output", metavar="FILE")
    d.add_argument("--timeout-ms", type=int, default=10_000, metavar="N")
    _root_option(d)

    z = sub.add_parser("fuzz", help="differential testing of the evaluator against the Z3 model")
    z.add_argument("--policy", metavar="FILE", help="policy file (default: the bundled thanhhoa-kh134.policy)")
    z.add_argument("--examples", type=int, default=2000, metavar="N", help="number of generated inputs (default 2000)")
    z.add_argument("--seed", type=int, default=0, metavar="S", help="seed; the same seed replays the same run (default 0)")
    _root_option(z)

    sub.add_parser("lsp", help="language server for editors (JSON-RPC over stdio)")

    f = sub.add_parser("fmt", help="rewrite policy files in canonical layout")
    f.add_argument("paths", nargs="+", metavar="PATH", help="policy files")
    f.add_argument("--check", action="store_true", help="report files that would change; write nothing")
    _root_option(f)

    t = sub.add_parser("test", help="run the examples written inside policy files")
    t.add_argument("paths", nargs="*", metavar="PATH", help="policy files (default: the bundled policies)")
    _policy_files(t)
    _root_option(t)

    e = sub.add_parser("explain", help="the rules that fired for one cadre, with citations and quoted text")
    e.add_argument("cadre_id", metavar="CADRE_ID")
    common(e, tallies=True, formats=False)  # type: ignore[arg-type]
    e.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: the trace steps with their citations and the decision (the cadre object of evaluate), for scripts")
    e.add_argument("--output", metavar="FILE")
    return p


class _Parser(argparse.ArgumentParser):
    """A sub-command's parser: no abbreviated options either."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def _policy_files(sp: argparse.ArgumentParser) -> None:
    """``--policy FILE`` as the other commands write it, the same as a PATH (may be repeated)."""
    sp.add_argument("--policy", dest="more_paths", action="append", default=[], metavar="FILE",
                    help="a policy file, as PATH (may be repeated)")


def _positive(text: str) -> int:
    """An option that is a whole number ≥ 1 (the rule of :func:`dsl.values.whole_number`)."""
    n = whole_number(text)
    if n is None or n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not '{text}'")
    return n


def _root_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--policy-root", metavar="DIR",
                    help="folder that policy imports must stay in (default: the folder of each policy given)")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2 after printing usage
        return int(exc.code or 0)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("tinnhiem: interrupted", file=sys.stderr)
        if argv is None:  # the program itself (not a call from Python): leave now, without finalizers — an
            _leave(130)   # object Ctrl-C cut in half (a Z3 term) would print a traceback as it is freed
        return 130
    except BrokenPipeError:  # the reader of stdout went away (``| head -1``): stop quietly, as Unix tools do
        _quiet_stdout()
        return 128 + signal.SIGPIPE
    except OSError as exc:  # the environment: a full disk, an I/O error, a closed pipe
        print(os_error(exc, _what_failed(exc)).render(), file=sys.stderr)
        _quiet_stdout()
        return 2


def _leave(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _what_failed(exc: OSError) -> str:
    return f"cannot use {exc.filename}" if exc.filename else "cannot write the output"


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit fails no more (and prints nothing)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _run(args: argparse.Namespace) -> int:
    try:
        match args.command:
            case "check":
                from tinnhiem.check_command import check_main

                return check_main([*args.paths, *args.more_paths], args.format, args.output, args.timeout_ms, args.policy_root)
            case "plan":
                return cmd_plan(args)
            case "evaluate":
                return cmd_evaluate(args)
            case "explain":
                return cmd_explain(args)
            case "test":
                return cmd_test(args)
            case "fmt":
                return cmd_fmt(args)
            case "diff":
                from tinnhiem.diff_command import diff_main

                return diff_main(args.old, args.new, args.format, args.output, args.timeout_ms, args.policy_root)
            case "fuzz":
                import importlib.util

                if importlib.util.find_spec("hypothesis") is None:  # an optional extra: plan and evaluate do without it
                    print("tinnhiem fuzz: error: fuzzing needs Hypothesis, which is not installed\n"
                          "help: install tinnhiem with its fuzz extra: pip install 'tinnhiem[fuzz]'", file=sys.stderr)
                    return 2
                from tinnhiem.fuzz_command import fuzz_main

                return fuzz_main(args.policy or str(bundled.path()), args.examples, args.seed, args.policy_root)
            case "lsp":
                import importlib.util

                if importlib.util.find_spec("pygls") is None or importlib.util.find_spec("lsprotocol") is None:
                    print("tinnhiem lsp: error: the language server needs pygls, which is not installed\n"
                          "help: install tinnhiem with its lsp extra: pip install 'tinnhiem[lsp]'", file=sys.stderr)
                    return 2
                from tinnhiem.lsp import lsp_main

                return lsp_main()
            case _:
                raise UsageError(f"unknown command {args.command}")
    except PolicyError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except InputError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"tinnhiem: error: {exc}", file=sys.stderr)
        return 2
    except FileError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except (KeyboardInterrupt, OSError):
        raise  # see main
    except Exception as exc:  # an internal error: say so plainly, no traceback unless asked
        if os.environ.get("TINNHIEM_DEBUG"):
            raise
        print(f"tinnhiem: internal error: {type(exc).__name__}: {exc}\n"
              "help: this is a bug in tinnhiem; run again with TINNHIEM_DEBUG=1 and report the output", file=sys.stderr)
        return 3


# ---- shared steps -------------------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> tuple[Policy, int]:
    """The policy and the vote year; refuses first an ``--output`` that is one of the inputs."""
    path = args.policy or str(bundled.path())
    inputs = [args.roster, getattr(args, "tallies", None), path]
    refuse_clobber(getattr(args, "output", None), inputs)
    pol = load_policy(path, args.policy_root)
    refuse_clobber(getattr(args, "output", None), policy_files(pol))
    missing = pol.missing_for_evaluation()
    if missing:
        raise UsageError(f"policy '{pol.id}' ({path}) cannot plan a roster: it has no {', '.join(missing)}; "
                         f"use a policy that declares them, e.g. the bundled {bundled.DEFAULT}")
    if args.year is not None:
        year = whole_number(args.year)  # type: ignore[assignment]
        if year is None:
            raise UsageError(f"--year must be a year such as 2023, not '{args.year}'")
        if not VOTE_YEARS[0] <= year <= VOTE_YEARS[1]:
            raise UsageError(f"--year must be between {VOTE_YEARS[0]} and {VOTE_YEARS[1]}, not {year}")
    elif pol.vote_year is None:
        raise UsageError(f"policy '{pol.id}' has no vote_year; give --year")
    else:
        year = pol.vote_year
    return pol, year


class _Console(Console):
    """A rich console that lets a closed pipe be a ``BrokenPipeError`` (rich's own reaction is exit 1,
    which means "rows rejected" here): :func:`main` ends quietly with 141, as Unix tools do."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _console(fh: Any, to_file: bool) -> Console:
    """The console a table is drawn on: 200 columns, no colour in a file; the terminal's width on one."""
    if to_file:
        return _Console(file=fh, width=200, color_system=None, soft_wrap=False, markup=False, emoji=False)
    console = _Console(file=fh, markup=False, emoji=False)
    return console if console.is_terminal else _Console(file=fh, width=150, markup=False, emoji=False)


def _emit(args: argparse.Namespace, pol: Policy, doc: dict[str, Any], roster: Roster) -> None:
    """Write a whole document (``json``, ``table``), replaced into place when complete (:mod:`tinnhiem.files`)."""
    match args.format:
        case "json":
            write_output(args.output, report.to_json(doc))
        case "table":
            from tinnhiem.table import render_document

            try:
                with output(args.output) as fh:
                    render_document(doc, _console(fh, bool(args.output)), pol, args.limit)
            except OSError as exc:
                if isinstance(exc, BrokenPipeError):
                    raise
                raise os_error(exc, f"cannot write {args.output or 'the output'}") from None
        case _:
            raise UsageError(f"unknown format {args.format}")


def _report(args: argparse.Namespace, pol: Policy, year: int, roster: Roster, decider: Decider, plans: dict[str, Plan],
            tallies: dict[str, tuple[Tally, ...]] | None, tallies_sha: str | None, rejected: list[Rejected],
            counts: tuple[int, int, int, int] | None) -> None:
    """Decide every cadre in roster order and write the report: ``csv``/``jsonl`` row by row, the others whole."""
    entries = roster.entries
    ordered = (plans[e.cadre.cadre_id] for e in entries)
    of = None if tallies is None else (lambda cid: tallies.get(cid, ()))
    decider.stage_columns = bool(pol.stages) and tallies is not None
    if args.format in ("csv", "jsonl"):
        try:
            with output(args.output) as out:
                sink = (CsvSink if args.format == "csv" else JsonlSink)(out, decider)
                with _Progress(len(entries), "writing") as progress:
                    feed(sink, entries, ordered, of, progress.tick)
                summary = decider.summary_counts(tallies is not None).result(roster, counts)
                sink.close(report.closing(pol, roster, tallies_sha, year, rejected, summary))
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise os_error(exc, f"cannot write {args.output or 'the output'}") from None
        return
    sink_doc = DocumentSink(decider)
    feed(sink_doc, entries, ordered, of)
    summary = decider.summary_counts(tallies is not None).result(roster, counts)
    doc = report.document(pol, roster, tallies_sha, year, sink_doc.cadres, rejected, counts, summary)
    _emit(args, pol, doc, roster)


class _Progress:
    """A rich progress bar on stderr for long inputs: ``total`` ≥ 50,000 items, or ``nbytes`` ≥ 4 MB of a
    regular file (its size from ``fstat``), or — ``nbytes=None``, an input of unknown size such as a
    pipe — an indeterminate bar that appears once 4 MB have been read. Silent off a terminal."""

    def __init__(self, total: int, what: str, nbytes: int | None | bool = False) -> None:
        self.bar: Any = None
        self.what = what
        self.lazy = False
        if not sys.stderr.isatty():
            return
        if nbytes is False:
            if total >= PROGRESS_THRESHOLD:
                self._make(total, bytes_=False)
        elif nbytes is None:
            self.lazy = True
        elif nbytes >= PROGRESS_BYTES:
            self._make(nbytes, bytes_=True)

    def _make(self, total: int | None, bytes_: bool) -> None:
        from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        count = DownloadColumn() if bytes_ else MofNCompleteColumn()
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), count, TimeRemainingColumn(),
                            console=Console(file=sys.stderr), transient=True)
        self.task = self.bar.add_task(self.what, total=total)

    def tick(self, done: int) -> None:
        if self.lazy and self.bar is None and done >= PROGRESS_BYTES:
            self._make(None, bytes_=True)
            self.bar.start()
        if self.bar is not None:
            self.bar.update(self.task, completed=done)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# ---- commands -------------------------------------------------------------------------------------------


def _bulk(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``command`` without cyclic garbage collection. Its rows make millions of small, long-lived
    objects without reference cycles (reference counting frees what is dropped); the collector would
    scan all of them again and again as they accumulate: a third of the time of a large ``evaluate``.
    It is switched back on when the command ends. (Not a ``contextmanager``: it would write the
    traceback into the frozen :class:`InputError` that passes through.)"""
    was = gc.isenabled()
    gc.disable()
    try:
        return command(args)
    finally:
        if was:
            gc.enable()


def cmd_plan(args: argparse.Namespace) -> int:
    return _bulk(_plan, args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    return _bulk(_evaluate, args)


def _plan(args: argparse.Namespace) -> int:
    pol, year = _load(args)
    ev = compile_policy(pol, year)
    roster = read_roster(args.roster, pol)
    decider = Decider(pol, ev, roster.extra_columns)
    plans = {e.cadre.cadre_id: decider.plan(e.cadre) for e in roster.entries}
    _report(args, pol, year, roster, decider, plans, None, None, roster.rejected, None)
    return 1 if roster.rejected else 0


def _evaluate(args: argparse.Namespace) -> int:
    """Tallies are streamed: each accepted row is kept as one small :class:`Tally` under its cadre (the
    output is per cadre, in roster order, so a cadre's row can only be written once the whole file has
    been read); rejected rows are kept for the report. Then every cadre is decided and written."""
    pol, year = _load(args)
    missing = pol.missing_for_tallies()
    if missing:
        raise UsageError(f"policy '{pol.id}' cannot evaluate tallies: it has no {', '.join(missing)}")
    ev = compile_policy(pol, year)
    roster = read_roster(args.roster, pol)
    decider = Decider(pol, ev, roster.extra_columns)
    plans = {e.cadre.cadre_id: decider.plan(e.cadre) for e in roster.entries}
    rejected_ids = {r.cadre_id: r.line for r in roster.rejected if r.cadre_id and r.cadre_id not in plans}
    stream = read_tallies(args.tallies, pol, plans, rejected_ids, lambda: list(plans))
    tallies: dict[str, tuple[Tally, ...]] = {}
    stage_rows: dict[str, list[TallyRow]] = {}
    tally_rejected: list[Rejected] = []
    read = evaluated = 0
    with _Progress(0, "reading tallies", stream.file.size) as progress:  # sized by fstat: the input is read once
        for item in stream.rows:
            read += 1
            if read % 5000 == 0:
                progress.tick(stream.file.bytes_read)
            if type(item) is TallyRow:
                if item.stage is not None:  # a later vote: counted once the poll is decided (below)
                    stage_rows.setdefault(item.cadre_id, []).append(item)
                    continue
                evaluated += 1
                cid = item.cadre_id
                got = tallies.get(cid)
                tallies[cid] = (item.tally,) if got is None else (*got, item.tally)
            else:
                tally_rejected.append(item)  # type: ignore[arg-type]
    by_id = {e.cadre.cadre_id: e.cadre for e in roster.entries} if stage_rows else {}
    stage_tallies: dict[str, dict[str, Tally]] = {}
    for cid, rows in stage_rows.items():
        _, refused = decide_with_stages(ev, by_id[cid], plans[cid], {t.venue: t for t in tallies.get(cid, ())}, rows,
                                         stream.file.path)
        kept = {r.line for r in rows} - {r.line for r in refused}
        stage_tallies[cid] = {r.stage: r.tally for r in rows if r.line in kept}  # type: ignore[misc]
        evaluated += len(kept)
        tally_rejected += refused
    tally_rejected.sort(key=lambda r: r.line)
    decider.stage_tallies = stage_tallies
    rejected = roster.rejected + tally_rejected
    counts = (read, evaluated, len(tally_rejected), stream.file.skipped)
    _report(args, pol, year, roster, decider, plans, tallies, stream.sha256, rejected, counts)
    return 1 if rejected else 0


def cmd_explain(args: argparse.Namespace) -> int:
    pol, year = _load(args)
    ev = compile_policy(pol, year)
    roster = read_roster(args.roster, pol)
    by_id = roster.by_id()
    args.cadre_id = unicodedata.normalize("NFC", args.cadre_id.strip())  # as the reader normalises every cell
    entry = by_id.get(args.cadre_id)
    if entry is None:
        own = [r for r in roster.rejected if r.cadre_id == args.cadre_id]
        if own:
            if args.format == "json":
                from tinnhiem.explain_output import explanation

                write_output(args.output, report.to_json(explanation(pol, roster, None, year, None, None, None, own[:1])))
            else:
                _write_text(args.output, lambda console: console.print(
                    Text(f"{own[0].file}:{own[0].line}: the row of '{args.cadre_id}' was rejected: {own[0].reason}")))
            return 1
        hint = did_you_mean(args.cadre_id, by_id)
        raise UsageError(f"no cadre '{args.cadre_id}' in {args.roster}" + (f"\nhelp: {hint}" if hint else ""))
    plan = ev.plan(entry.cadre)
    decision = None
    tallies_sha = None
    rejected_own: list[Rejected] = []
    if args.tallies:
        plans = {entry.cadre.cadre_id: plan}
        stream = read_tallies(args.tallies, pol, plans, {}, lambda: [])
        tallies: dict[str, Tally] = {}
        stage_rows: list[TallyRow] = []
        for item in stream.rows:
            if isinstance(item, TallyRow):
                if item.stage is not None:
                    stage_rows.append(item)
                else:
                    tallies[item.tally.venue] = item.tally
            elif item.cadre_id == args.cadre_id:
                rejected_own.append(item)
        decision, refused = decide_with_stages(ev, entry.cadre, plan, tallies, stage_rows, stream.file.path)
        rejected_own += refused
        tallies_sha = stream.sha256
    if args.format == "json":  # the trace with full citations and the cadre object of evaluate, for scripts
        from tinnhiem.explain_output import explanation

        write_output(args.output, report.to_json(explanation(pol, roster, tallies_sha, year, entry, plan, decision, rejected_own)))
        return 1 if rejected_own else 0
    from tinnhiem.table import render_trace

    c = entry.cadre
    line = (f"{c.cadre_id} · {c.full_name} · {c.level} · {c.unit}\n"
            f"titles: {', '.join(sorted(c.titles)) or 'none'} · " + " · ".join(f"{k}: {v}" for k, v in c.facts.items())
            + f" · vote year {year}")

    def draw(console: Console) -> None:
        render_trace(console, pol, line, plan, decision)
        for r in rejected_own:
            console.print(Text(f"{r.file}:{r.line}: tally rejected: {r.reason}"))

    _write_text(args.output, draw)
    return 1 if rejected_own else 0


def _write_text(path: str | None, draw: Callable[[Console], None]) -> None:
    """Text drawn on the terminal's console; or, with ``--output FILE``, into FILE as into a pipe (no colour,
    the width of a console that is not a terminal), replaced into place when complete (:mod:`tinnhiem.files`)."""
    if path is None:
        draw(_Console(markup=False, emoji=False))
        return
    try:
        with output(path) as fh:
            draw(_Console(file=fh, color_system=None, markup=False, emoji=False))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise os_error(exc, f"cannot write {path}") from None


def cmd_test(args: argparse.Namespace) -> int:
    """Run every example of each policy; print expected vs got and the trace of each failure."""
    from dsl.evaluator import run_example

    paths = [*args.paths, *args.more_paths] or [str(p) for p in bundled.all_paths()]
    console = _Console(markup=False, emoji=False)
    if not console.is_terminal:
        console = _Console(width=150, markup=False, emoji=False)
    errors: list[PolicyError] = []
    total = failed = 0
    for path in paths:
        try:
            pol = load_policy(path, args.policy_root)
        except PolicyError as exc:  # its diagnostics in its place, before the summary (stdout, as check; in full on stderr)
            errors.append(exc)
            n = len(exc.diagnostics)
            console.print(Text.assemble((str(path), "bold"), f" — not tested: {n} error{'s' if n != 1 else ''}"))
            for d in exc.diagnostics:
                console.print(Text.assemble("  ", ("✗", "red"), f" {d.span}: {d.severity}[{d.code}]: {d.message}"))
                if d.hint:
                    console.print(Text(f"      help: {d.hint}", style="dim"))
            sys.stdout.flush()
            print(exc.render(), file=sys.stderr, flush=True)
            continue
        if not pol.examples:
            console.print(Text(f"{path}: no examples", style="dim"))
            continue
        ev = compile_policy(pol)
        console.print(Text.assemble((str(path), "bold"), f" ({pol.id}, {len(pol.examples)} examples)"))
        for ex in pol.examples:
            total += 1
            result = run_example(ev, ex)
            if result.passed:
                console.print(Text.assemble("  ", ("✓", "green"), f" {ex.name} — {ex.label}"))
                continue
            failed += 1
            console.print(Text.assemble("  ", ("✗", "red"), f" {ex.name} — {ex.label}  ({ex.span})"))
            for f in result.failures:
                console.print(Text(f"      {f}"))
            for step in result.decision.trace:
                cite = f" [{step.cite.label}]" if step.cite else ""
                console.print(Text(f"      · {step.kind} {step.rule}: {step.detail}{cite}", style="dim"))
    summary = f"{total - failed} passed, {failed} failed"
    if errors:
        n = sum(len(exc.diagnostics) for exc in errors)
        summary += f", {len(errors)} not tested ({n} error{'s' if n != 1 else ''})"
    console.print(Text(summary))  # last, after every diagnostic
    if errors:
        return 2
    return 1 if failed else 0


def cmd_fmt(args: argparse.Namespace) -> int:
    """Canonical layout; with --check, exit 1 when a file would change. Syntax errors exit 2."""
    from dsl.parser import parse
    from dsl.printer import format_file

    changed = errors = 0
    for path in args.paths:
        problem = refusal(Path(path), policy_root(path, args.policy_root))
        if problem is not None:  # the rules of the loader: a file outside the root is never read, nor rewritten
            print(f"{path}: error[E005]: {path} {problem[0]}\nhelp: {problem[1]}", file=sys.stderr)
            errors += 1
            continue
        try:
            data = read_policy_bytes(Path(path))
        except OSError as exc:
            print(f"{path}: error: cannot read: {exc.strerror or exc}", file=sys.stderr)
            errors += 1
            continue
        try:
            text = unicodedata.normalize("NFC", data.decode("utf-8-sig"))
            if "\x00" in text:
                raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        except UnicodeDecodeError:
            print(f"{path}: error[E002]: the policy file is not UTF-8", file=sys.stderr)
            errors += 1
            continue
        try:
            new = format_file(parse(text, path))
        except PolicyError as exc:
            print(exc.render(), file=sys.stderr)
            errors += 1
            continue
        if new.encode("utf-8") == data:
            continue
        changed += 1
        if args.check:
            print(f"would reformat {path}")
        else:
            try:
                write_output(path, new, newline="\n")
            except FileError as exc:
                print(exc.render(), file=sys.stderr)
                errors += 1
                continue
            print(f"reformatted {path}")
    if errors:
        return 2
    return 1 if (changed and args.check) else 0
