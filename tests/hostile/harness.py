"""The machinery of the hostile-input suite: a case as data, its run as a real subprocess, its verdict.

Takes :class:`Case` records (family, name, arguments, the files to write, the exit codes allowed,
the row accounting to verify, extra checks); produces a :class:`Result` for each — exit code,
stdout, stderr, time — with its problems sorted into four categories:

- ``traceback`` — ``Traceback`` or ``internal error`` on stdout or stderr;
- ``exit`` — an exit code outside the expected set (a timeout or a death by signal counts here), or
  an exit code that contradicts the report (1 without a rejected row, 0 with one);
- ``rows`` — the row accounting of a ``plan``/``evaluate`` JSON or JSONL report does not add up:
  ``rows_read ≠ rows_evaluated + rows_rejected``, ``rows_read + rows_skipped`` ≠ the data lines the
  case wrote, a rejected row without file, line ≥ 1 or reason, rejected rows at other lines than
  the case planted them;
- ``other`` — every other check: the secret of the environment printed, stderr too long, exit 2
  without a word on stderr, and the case's own checks (input unchanged, message escaped…).

Every command runs as ``python -m tinnhiem …`` in its own temporary folder, with ``TINNHIEM_DEBUG``
unset, ``TINNHIEM_SECRET`` set to :data:`SECRET` (first in the environment, so that it is the first
thing ``/proc/self/environ`` holds), an address-space limit of :data:`MEMORY` bytes (a regression
that reads ``/dev/zero`` whole fails instead of eating the machine) and a timeout.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-value-7f3a9c21"
TIMEOUT = 30.0
MEMORY = 2 << 30
CATEGORIES = ("traceback", "exit", "rows", "other")
MAX_STDERR = 64 * 1024

FileData = bytes | Callable[[], bytes]
Check = Callable[["Case", "Result", Path], Iterable[str]]  # the problems it finds (none: passed)


@dataclass(frozen=True)
class Account:
    """What the JSON (``json``) or JSON-lines (``jsonl``) report of a ``plan``/``evaluate`` must account for.

    ``roster``/``tallies`` are the paths as given on the command line (they name the rejected rows);
    ``roster_lines``/``tally_lines`` the data lines the case wrote (records after the header, plus the
    empty lines before it), when known; ``rejected`` the exact ``(file, line)`` of every row the case
    planted to be rejected, when known."""

    command: str  # "plan" | "evaluate"
    fmt: str = "json"
    source: str | None = None  # None: stdout; else the --output file, relative to the case's folder
    roster: str = "roster.csv"
    tallies: str | None = None
    roster_lines: int | None = None
    tally_lines: int | None = None
    rejected: frozenset[tuple[str, int]] | None = None


@dataclass
class Case:
    family: str
    name: str
    argv: list[str]
    expect: frozenset[int]
    files: dict[str, FileData] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    stdin: bytes | None = None  # given as a file (None: /dev/null)
    fifos: dict[str, bytes | None] = field(default_factory=dict)  # FIFOs fed by a thread (None: opened, never written)
    pipe: bytes | None = None  # fed through a pipe passed to the child; "{fd}" in argv is its descriptor
    interrupt: bool = False  # SIGINT once the (first) FIFO is opened by the command
    head: int | None = None  # read so many lines of stdout, then close it (``| head -1``)
    account: Account | None = None
    checks: tuple[Check, ...] = ()
    timeout: float = TIMEOUT
    max_stderr: int = MAX_STDERR
    skip: str | None = None
    driver: Callable[[Case, Path], Result] | None = None  # instead of a subprocess (the language server)
    env: dict[str, str] = field(default_factory=dict)  # set for this case only
    why: str = ""  # what the case is about, shown with a failure

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"

    def data(self, name: str) -> bytes:
        value = self.files[name]
        return value() if callable(value) else value

    def command_line(self) -> str:
        import shlex

        return "tinnhiem " + " ".join(shlex.quote(a) for a in self.argv)


@dataclass
class Result:
    rc: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    seconds: float = 0.0
    note: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)
    unaccounted: int = 0  # rows the report does not account for (the "rows" category, in rows)

    def add(self, category: str, message: str) -> None:
        assert category in CATEGORIES, category
        self.problems.setdefault(category, []).append(message)

    @property
    def failed(self) -> bool:
        return any(self.problems.values())

    def describe(self, case: Case) -> str:
        lines = [f"{case.id}: {case.why}" if case.why else case.id,
                 f"  command: {case.command_line()}",
                 f"  exit {self.rc} (expected {sorted(case.expect)}) in {self.seconds:.2f} s" + (f"; {self.note}" if self.note else "")]
        for cat in CATEGORIES:
            for p in self.problems.get(cat, []):
                lines.append(f"  [{cat}] {p}")
        lines.append("  stderr: " + _shorten(self.stderr))
        if self.failed:
            lines.append("  stdout: " + _shorten(self.stdout))
        return "\n".join(lines)


def _shorten(data: bytes, limit: int = 600) -> str:
    text = data.decode("utf-8", "backslashreplace")
    return repr(text if len(text) <= limit else text[:limit] + f"… ({len(data)} bytes)")


# ---- running one case -----------------------------------------------------------------------------


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


#: Variables of the test's own environment that change how the command behaves, left out (a case may set them).
UNSET = ("TINNHIEM_DEBUG", "TINNHIEM_SECRET", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "FORCE_COLOR", "NO_COLOR", "COLUMNS")


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"TINNHIEM_SECRET": SECRET}
    env.update((k, v) for k, v in os.environ.items() if k not in UNSET)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    env["TINNHIEM_SECRET_COPY_IN_ENV"] = "seen-" + SECRET  # a second variable, further down the environment
    env.update(extra or {})
    return env


def write_files(case: Case, folder: Path) -> None:
    for name, _ in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.data(name))
    if case.setup is not None:
        case.setup(folder)
    for name in case.fifos:
        os.mkfifo(folder / name)


def _feed_fifo(path: Path, data: bytes | None, proc: subprocess.Popen[bytes], deadline: float,
               on_open: Callable[[], None] | None = None) -> None:
    """Open the FIFO for writing once the command opens it for reading; write ``data``; close."""
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO or proc.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(0.01)
    try:
        os.set_blocking(fd, True)
        if on_open is not None:
            on_open()
        if data is None:  # keep it open, unwritten, until the command ends
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(deadline - time.monotonic(), 0.1))
            return
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    with contextlib.suppress(BrokenPipeError, OSError):
        while view:
            n = os.write(fd, view[: 1 << 16])
            view = view[n:]


def run_subprocess(case: Case, folder: Path) -> Result:
    write_files(case, folder)
    argv = list(case.argv)
    pass_fds: tuple[int, ...] = ()
    pipe_w = None
    if case.pipe is not None:
        pipe_r, pipe_w = os.pipe()
        pass_fds = (pipe_r,)
        argv = [a.replace("{fd}", str(pipe_r)) for a in argv]
    stdin_fh: Any = subprocess.DEVNULL
    if case.stdin is not None:
        (folder / ".stdin").write_bytes(case.stdin)
        stdin_fh = open(folder / ".stdin", "rb")  # noqa: SIM115 - closed below
    start = time.monotonic()
    deadline = start + case.timeout
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tinnhiem", *argv], cwd=folder, env=environment(case.env),
                                stdin=stdin_fh, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_limit_memory, pass_fds=pass_fds, start_new_session=True)
    finally:
        if stdin_fh is not subprocess.DEVNULL:
            stdin_fh.close()
        if pass_fds:
            os.close(pass_fds[0])
    threads = []
    if pipe_w is not None:
        def feed_pipe(fd: int = pipe_w, data: bytes = case.pipe or b"") -> None:
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        threads.append(threading.Thread(target=feed_pipe, daemon=True))
    for i, (name, data) in enumerate(case.fifos.items()):
        on_open = None
        if case.interrupt and i == 0:
            def on_open(p: subprocess.Popen[bytes] = proc) -> None:
                time.sleep(0.3)  # the command is now blocked reading the FIFO
                p.send_signal(signal.SIGINT)
        threads.append(threading.Thread(target=_feed_fifo, args=(folder / name, data, proc, deadline, on_open), daemon=True))
    for t in threads:
        t.start()
    note = ""
    if case.head is not None:
        out, err, rc, note = _head(proc, case.head, deadline)
    else:
        try:
            out, err = proc.communicate(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, err = proc.communicate()
            note = f"timed out after {case.timeout:.0f} s (killed)"
        rc = proc.returncode
    for t in threads:
        t.join(timeout=5)
    result = Result(None if note.startswith("timed out") else rc, out, err, time.monotonic() - start, note)
    return result


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _head(proc: subprocess.Popen[bytes], lines: int, deadline: float) -> tuple[bytes, bytes, int | None, str]:
    """``command | head -N``: read N lines of stdout, close the pipe, wait; stderr is collected on a thread."""
    err = bytearray()

    def drain() -> None:
        assert proc.stderr is not None
        for chunk in iter(lambda: proc.stderr.read(4096), b""):  # type: ignore[union-attr]
            err.extend(chunk)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    assert proc.stdout is not None
    fd = proc.stdout.fileno()  # read the raw descriptor as head does (a buffered readline may drain the pipe)
    out = b""
    while out.count(b"\n") < lines and time.monotonic() < deadline:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        out += chunk
    out = b"".join(out.splitlines(keepends=True)[:lines])
    proc.stdout.close()
    note = ""
    try:
        proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()
        note = "timed out (killed)"
    t.join(timeout=5)
    return out, bytes(err), proc.returncode, note


def run_case(case: Case, folder: Path) -> Result:
    try:
        result = (case.driver or run_subprocess)(case, folder)
    except Exception as exc:  # noqa: BLE001 - the harness itself failed: report it on the case
        result = Result(None, note=f"the harness failed: {type(exc).__name__}: {exc}")
        result.add("other", f"the harness could not run the case: {type(exc).__name__}: {exc}")
        return result
    judge(case, result, folder)
    _tidy(folder)
    return result


def _tidy(folder: Path) -> None:
    """Remove the large inputs (the 20 MB policy…) once the case is judged."""
    for p in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink() and p.stat().st_size > (4 << 20):
                p.unlink()


# ---- the verdict ------------------------------------------------------------------------------------


def judge(case: Case, r: Result, folder: Path) -> None:
    both = r.stdout + b"\n" + r.stderr
    for needle in (b"Traceback", b"internal error"):
        if needle in both:
            r.add("traceback", f"{needle.decode()!r} printed")
    if r.rc is None or r.rc not in case.expect:
        what = r.note or (f"killed by signal {-r.rc}" if r.rc is not None and r.rc < 0 else f"exit {r.rc}")
        r.add("exit", f"{what}, expected one of {sorted(case.expect)}")
    if SECRET.encode() in both:
        r.add("other", "the secret environment variable TINNHIEM_SECRET was printed")
    out_file = _output_file(case, folder)
    if out_file is not None and SECRET.encode() in out_file:
        r.add("other", "the secret environment variable TINNHIEM_SECRET was written to --output")
    if len(r.stderr) > case.max_stderr:
        r.add("other", f"stderr is {len(r.stderr)} bytes (at most {case.max_stderr} expected)")
    if case.driver is None and r.rc == 2 and not r.stderr.strip():
        r.add("other", "exit 2 with nothing on stderr (the user is not told what is wrong)")
    if case.account is not None and r.rc in (0, 1):
        account(case, r, folder)
    for check in case.checks:
        try:
            for problem in check(case, r, folder):
                r.add("other", problem)
        except Exception as exc:  # noqa: BLE001
            r.add("other", f"check {getattr(check, '__name__', check)} failed: {type(exc).__name__}: {exc}")


def _output_file(case: Case, folder: Path) -> bytes | None:
    if "--output" not in case.argv:
        return None
    i = case.argv.index("--output") + 1
    if i >= len(case.argv):
        return None
    path = folder / case.argv[i]
    try:
        if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
            return path.read_bytes()
    except OSError:
        return None
    return None


def _report(a: Account, r: Result, folder: Path) -> tuple[dict[str, Any] | None, int, str]:
    """The closing part of the report (policy, inputs, rejected, summary), the number of cadre objects, or why none."""
    try:
        data = r.stdout if a.source is None else (folder / a.source).read_bytes()
    except OSError as exc:
        return None, 0, f"the report {a.source} cannot be read: {exc}"
    text = data.decode("utf-8", "replace")
    try:
        if a.fmt == "json":
            doc = json.loads(text)
            return doc, len(doc.get("cadres", [])), ""
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if not lines:
            return None, 0, "the jsonl report is empty"
        objs = [json.loads(ln) for ln in lines]
        return objs[-1], len(objs) - 1, ""
    except (json.JSONDecodeError, AttributeError) as exc:
        return None, 0, f"the {a.fmt} report is not valid: {exc}"


def account(case: Case, r: Result, folder: Path) -> None:
    a = case.account
    assert a is not None
    doc, cadres, why = _report(a, r, folder)
    if doc is None or not isinstance(doc.get("summary"), dict) or not isinstance(doc.get("rejected"), list):
        r.add("rows", why or "the report has no summary or rejected list")
        r.unaccounted += max(a.roster_lines or 0, a.tally_lines or 0, 1)
        return
    s, rejected = doc["summary"], doc["rejected"]

    def need(cond: bool, message: str, rows: int = 1) -> None:
        if not cond:
            r.add("rows", message)
            r.unaccounted += max(abs(rows), 1)

    keys = ("rows_read", "rows_evaluated", "rows_rejected", "rows_skipped", "roster_rows", "roster_rejected", "roster_skipped", "cadres")
    missing = [k for k in keys if not isinstance(s.get(k), int)]
    if missing:
        need(False, f"summary lacks the counts {missing}")
        return
    need(s["rows_read"] == s["rows_evaluated"] + s["rows_rejected"],
         f"rows_read {s['rows_read']} != rows_evaluated {s['rows_evaluated']} + rows_rejected {s['rows_rejected']}",
         s["rows_read"] - s["rows_evaluated"] - s["rows_rejected"])
    need(s["roster_rows"] == s["cadres"] + s["roster_rejected"],
         f"roster_rows {s['roster_rows']} != cadres {s['cadres']} + roster_rejected {s['roster_rejected']}",
         s["roster_rows"] - s["cadres"] - s["roster_rejected"])
    need(cadres == s["cadres"], f"the report lists {cadres} cadres, the summary says {s['cadres']}", cadres - s["cadres"])
    tally_rejected = s["rows_rejected"] if a.command == "evaluate" else 0
    need(len(rejected) == s["roster_rejected"] + tally_rejected,
         f"{len(rejected)} rejected rows listed, the summary counts {s['roster_rejected']} + {tally_rejected}",
         len(rejected) - s["roster_rejected"] - tally_rejected)
    if a.command == "plan":
        need((s["rows_read"], s["rows_rejected"], s["rows_skipped"]) == (s["roster_rows"], s["roster_rejected"], s["roster_skipped"]),
             "plan: rows_* and roster_* counts differ")
    if a.roster_lines is not None:
        got = s["roster_rows"] + s["roster_skipped"]
        need(got == a.roster_lines, f"roster: rows read {s['roster_rows']} + skipped {s['roster_skipped']} = {got}, "
                                    f"but the file has {a.roster_lines} data lines", got - a.roster_lines)
    if a.command == "evaluate" and a.tally_lines is not None:
        got = s["rows_read"] + s["rows_skipped"]
        need(got == a.tally_lines, f"tallies: rows read {s['rows_read']} + skipped {s['rows_skipped']} = {got}, "
                                   f"but the file has {a.tally_lines} data lines", got - a.tally_lines)
    by_file: dict[str, int] = {}
    seen: set[tuple[str, int]] = set()
    for item in rejected:
        ok = (isinstance(item, dict) and isinstance(item.get("file"), str) and item["file"]
              and isinstance(item.get("line"), int) and item["line"] >= 1
              and isinstance(item.get("reason"), str) and item["reason"].strip())
        need(bool(ok), f"rejected row without file, line >= 1 or reason: {str(item)[:200]}")
        if ok:
            by_file[item["file"]] = by_file.get(item["file"], 0) + 1
            seen.add((item["file"], item["line"]))
    need(by_file.get(a.roster, 0) == s["roster_rejected"],
         f"{by_file.get(a.roster, 0)} rejected rows name the roster {a.roster!r}, the summary counts {s['roster_rejected']}"
         f" (files named: {sorted(by_file)})")
    if a.command == "evaluate" and a.tallies is not None:
        need(by_file.get(a.tallies, 0) == s["rows_rejected"],
             f"{by_file.get(a.tallies, 0)} rejected rows name the tallies {a.tallies!r}, the summary counts {s['rows_rejected']}")
    if a.rejected is not None and seen != set(a.rejected):
        extra, lost = sorted(seen - a.rejected), sorted(a.rejected - seen)
        need(False, f"rejected rows at {sorted(seen)}, expected {sorted(a.rejected)} (unexpected {extra}, not rejected {lost})",
             len(extra) + len(lost))
    if r.rc == 1 and not rejected:
        r.add("exit", "exit 1 but the report lists no rejected row")
    if r.rc == 0 and rejected:
        r.add("exit", f"exit 0 but the report lists {len(rejected)} rejected rows")


# ---- checks a case can add --------------------------------------------------------------------------


def stderr_has(*needles: str) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        text = r.stderr.decode("utf-8", "replace")
        return [f"stderr does not say {n!r}" for n in needles if n not in text]
    check.__name__ = f"stderr_has{needles}"
    return check


def stdout_has(*needles: str) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        text = r.stdout.decode("utf-8", "replace")
        return [f"stdout does not show {n!r}" for n in needles if n not in text]
    check.__name__ = f"stdout_has{needles}"
    return check


def stderr_empty(case: Case, r: Result, folder: Path) -> Iterable[str]:
    return [f"stderr is not empty: {_shorten(r.stderr, 300)}"] if r.stderr.strip() else []


def stderr_at_most(limit: int) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        return [f"stderr is {len(r.stderr)} bytes, more than {limit}"] if len(r.stderr) > limit else []
    check.__name__ = f"stderr_at_most({limit})"
    return check


def no_raw_control(case: Case, r: Result, folder: Path) -> Iterable[str]:
    """No raw ESC, BEL, backspace or bidi override from the input on either stream (they must be escaped)."""
    out = []
    for stream, data in (("stderr", r.stderr), ("stdout", r.stdout)):
        text = data.decode("utf-8", "replace")
        for ch, name in (("\x1b", "ESC"), ("\x07", "BEL"), ("\x08", "BS"), ("\u202e", "RLO")):
            if ch in text:
                out.append(f"raw {name} ({ch!r}) on {stream}")
    return out


def unchanged(*names: str) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        out = []
        for name in names:
            try:
                now = (folder / name).read_bytes()
            except OSError as exc:
                out.append(f"{name} cannot be read after the run: {exc}")
                continue
            if now != case.data(name):
                out.append(f"{name} was changed ({len(case.data(name))} → {len(now)} bytes)")
        return out
    check.__name__ = f"unchanged{names}"
    return check


def no_leftovers(case: Case, r: Result, folder: Path) -> Iterable[str]:
    """No temporary file left behind by a failed write."""
    left = [p.name for p in folder.rglob(".*.tmp")]
    return [f"temporary files left behind: {left}"] if left else []


def not_created(name: str) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        return [f"{name} was created"] if (folder / name).exists() else []
    check.__name__ = f"not_created({name})"
    return check


def report_json(case: Case, r: Result, folder: Path) -> Any:
    a = case.account
    data = r.stdout if a is None or a.source is None else (folder / a.source).read_bytes()
    if a is not None and a.fmt == "jsonl":
        lines = [json.loads(ln) for ln in data.decode().split("\n") if ln.strip()]
        return {"cadres": lines[:-1], **lines[-1]}
    return json.loads(data)


def cadre_field(cid: str, getter: Callable[[dict[str, Any]], Any], want: Any, what: str) -> Check:
    """The cadre ``cid`` of the JSON report has ``getter(cadre) == want``."""
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        if r.rc not in (0, 1):
            return []
        doc = report_json(case, r, folder)
        found = [c for c in doc.get("cadres", []) if c.get("cadre_id") == cid]
        if not found:
            return [f"cadre {cid!r} is not in the report (cadres: {[c.get('cadre_id') for c in doc.get('cadres', [])][:10]})"]
        got = getter(found[0])
        return [] if got == want else [f"cadre {cid!r}: {what} is {got!r}, expected {want!r}"]
    check.__name__ = f"cadre_field({cid}, {what})"
    return check


def venue_tally(cid: str, venue: str, state: str) -> Check:
    return cadre_field(cid, lambda c: next((v.get("tally") for v in c["venues"] if v["venue"] == venue), None), state,
                       f"tally at {venue}")


def reasons_at_most(limit: int) -> Check:
    """Each rejected row's reason is a short sentence, not the whole input echoed."""
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        if r.rc not in (0, 1):
            return []
        doc = report_json(case, r, folder)
        return [f"the reason of rejected row {x.get('file')}:{x.get('line')} is {len(x.get('reason', ''))} characters long "
                f"(at most {limit} expected): {x.get('reason', '')[:80]!r}…"
                for x in doc.get("rejected", []) if len(x.get("reason", "")) > limit]
    check.__name__ = f"reasons_at_most({limit})"
    return check


def report_bytes_at_most(limit: int) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        return [f"the report is {len(r.stdout)} bytes (at most {limit} expected)"] if len(r.stdout) > limit else []
    check.__name__ = f"report_bytes_at_most({limit})"
    return check


def not_in_output(*needles: str) -> Check:
    def check(case: Case, r: Result, folder: Path) -> Iterable[str]:
        both = (r.stdout + r.stderr).decode("utf-8", "replace")
        return [f"{n!r} (from a file outside the policy root) was printed" for n in needles if n in both]
    check.__name__ = f"not_in_output{needles}"
    return check


# ---- the summary --------------------------------------------------------------------------------------


def summary_line(results: dict[str, tuple[Case, Result]]) -> str:
    tried = len(results)
    tracebacks = sum(1 for _, r in results.values() if r.problems.get("traceback"))
    wrong_exit = sum(1 for _, r in results.values() if r.problems.get("exit"))
    rows = sum(r.unaccounted for _, r in results.values())
    other = sum(1 for _, r in results.values() if r.problems.get("other"))
    return (f"hostile inputs: {tried} cases tried, {tracebacks} tracebacks, {wrong_exit} wrong exit codes, "
            f"{rows} rows unaccounted for; {other} cases failing other checks")


def offenders(results: dict[str, tuple[Case, Result]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for cid, (_, r) in results.items():
        for cat in CATEGORIES:
            if r.problems.get(cat):
                out[cat].append(f"{cid}: {r.problems[cat][0]}")
    return out
