"""Run mutants of the decision modules against a subset of the test suite, in a copy of the repository.

Takes the modules to mutate (:data:`tests.mutation.config.MODULES`: each with the tests that should
notice a change to it), a seed and a sample size; produces one :class:`Result` per mutant. How:

1. the repository's sources and tests are copied once into a temporary folder (no ``.venv``, no
   ``.git``, no caches), so the working tree is never touched and a run sees one snapshot of it;
2. per module, the unmutated copy runs the module's test groups once (:mod:`tests.mutation.config`:
   the old tests, then the new ones): they must pass (else the module is reported as *broken* and
   skipped), and their times set the per-mutant timeouts (three times as long, at least 20 s);
3. per mutant, the module's file in the copy is replaced by the mutant, ``python -m pytest -x`` runs
   the old group there, then the new group if the old passed (``PYTHONPATH`` and the working folder
   point at the copy, bytecode is not written, so no stale ``.pyc`` can hide a mutant; the Hypothesis
   profile is ``mutation`` (:mod:`tests.mutation.plugin`: ``ci``, derandomised, without shrinking);
   fuzz tests at :data:`FUZZ_SCALE` of their budget), and the file is restored.
   A test that fails, errors or times out *kills* the mutant — ``killed`` by the old tests,
   ``killed_new`` by the new ones only; the first failing test is recorded. A mutant listed in
   ``equivalent.toml`` is not run: it is counted as equivalent, with the reason given there.

One process at a time (the tests run one after the other), reproducible: the sample of each module is
drawn with ``random.Random(f"{seed}:{module}")`` from its mutants sorted by id.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.mutation.config import MODULES, ModuleSpec
from tests.mutation.mutants import Mutant, mutants

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.toml"
_COPY = ("dsl", "checker", "tinnhiem", "policy", "tests", "bench", "examples", "pyproject.toml")
#: the share of their CI budget the fuzz tests run per mutant (tests/fuzz/budget.py)
FUZZ_SCALE = "0.15"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache", ".ruff_cache", "out")


@dataclass(frozen=True)
class Equivalent:
    reason: str
    was: str = ""  # the line before the change, as in the file when it was judged (whitespace collapsed)
    now: str = ""  # the line with the change


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed (by the old tests) | killed_new (by the new tests only) | survived | equivalent | timeout | stillborn
    seconds: float = 0.0
    by: str = ""  # the first failing test, or the reason of an equivalent
    was: str = ""
    now: str = ""
    stale: bool = False  # an equivalent whose recorded line no longer matches


@dataclass
class ModuleReport:
    module: str
    sampled: int
    total: int
    results: list[Result] = field(default_factory=list)
    broken: str = ""  # the unmutated tests failed: nothing was run
    baseline: float = 0.0

    def count(self, *status: str) -> int:
        return sum(1 for r in self.results if r.status in status)

    @property
    def killed(self) -> int:
        return self.count("killed", "killed_new", "timeout")

    @property
    def killed_before(self) -> int:
        """Killed by the tests that existed before the new ones (a timeout counts as killed by them)."""
        return self.count("killed", "timeout")

    @property
    def counted(self) -> int:
        return self.killed + self.count("survived")

    @property
    def score(self) -> float | None:
        return self.killed / self.counted if self.counted else None

    @property
    def score_before(self) -> float | None:
        return self.killed_before / self.counted if self.counted else None


def load_equivalents(path: Path = EQUIVALENT) -> dict[str, Equivalent]:
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: Equivalent(v["reason"], v.get("was", ""), v.get("now", "")) for k, v in data.items()}


def copy_repository(dest: Path) -> None:
    for name in _COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=_IGNORE)
        elif src.exists():
            shutil.copy2(src, dest / name)


def sample(all_mutants: list[Mutant], n: int | None, seed: int, module: str) -> list[Mutant]:
    """A reproducible sample of ``n`` mutants (all of them when ``n`` is None or larger)."""
    ordered = sorted(all_mutants, key=lambda m: m.id)
    if n is None or n >= len(ordered):
        return ordered
    picked = random.Random(f"{seed}:{module}").sample(ordered, n)
    return sorted(picked, key=lambda m: (m.start, m.id))


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1", HYPOTHESIS_PROFILE="mutation", TINNHIEM_FUZZ_SCALE=FUZZ_SCALE,
               PYTHONHASHSEED="0")
    return env


def run_tests(copy: Path, args: tuple[str, ...], timeout: float | None) -> tuple[str, float, str]:
    """Run one group of tests in the copy: ('passed' | 'failed' | 'timeout', seconds, first failure)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "tests.mutation.plugin", "--no-header", "-rfE", *args]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0, f"no answer within {timeout:.0f} s"
    took = time.perf_counter() - t0
    if proc.returncode in (0, 5):  # 5: the group selects no test here
        return "passed", took, ""
    m = _FAILED.search(proc.stdout)
    tail = (proc.stdout + proc.stderr).strip().splitlines()
    return "failed", took, m.group(1) if m else (tail[-1] if tail else f"exit {proc.returncode}")


def run_groups(copy: Path, spec: ModuleSpec, timeouts: tuple[float | None, ...]) -> tuple[str, float, str]:
    """The module's test groups in order, stopping at the first that fails: ('passed' | 'killed' |
    'killed_new' | 'timeout', seconds, first failure). 'killed': by the old tests; 'killed_new': by the new only."""
    total = 0.0
    for i, (args, timeout) in enumerate(zip(spec.tests, timeouts)):
        status, took, first = run_tests(copy, args, timeout)
        total += took
        if status != "passed":
            return ("timeout" if status == "timeout" else "killed" if i == 0 else "killed_new"), total, first
    return "passed", total, ""


@contextmanager
def mutated(path: Path, text: bytes) -> Iterator[None]:
    original = path.read_bytes()
    path.write_bytes(text)
    try:
        yield
    finally:
        path.write_bytes(original)


def run(modules: list[str], n: int | None, seed: int, only: set[str] | None = None,
        progress: Callable[[str], None] = print, timeout_factor: float = 3.0, min_timeout: float = 20.0) -> list[ModuleReport]:
    equivalents = load_equivalents()
    reports = []
    with tempfile.TemporaryDirectory(prefix="tinnhiem-mutation-") as tmp:
        copy = Path(tmp)
        copy_repository(copy)
        for module in modules:
            spec = MODULES[module]
            path = copy / module
            source = path.read_bytes()
            everything = mutants(module, source)
            picked = [m for m in everything if m.id in only] if only is not None else sample(everything, n, seed, module)
            rep = ModuleReport(module, len(picked), len(everything))
            reports.append(rep)
            if not picked:
                continue
            base = [run_tests(copy, args, None) for args in spec.tests]
            rep.baseline = sum(t for _, t, _ in base)
            progress(f"{module}: {len(everything)} mutants, {len(picked)} sampled; unmutated tests "
                     + ", ".join(f"{s} in {t:.1f} s" for s, t, _ in base))
            broken = [first or status for status, _, first in base if status != "passed"]
            if broken:
                rep.broken = "; ".join(broken)
                continue
            timeouts = tuple(max(min_timeout, timeout_factor * t) for _, t, _ in base)
            for i, m in enumerate(picked, 1):
                was, now = m.snippet(source)
                eq = equivalents.get(m.id)
                if eq is not None:
                    stale = bool(eq.was) and eq.was != was
                    rep.results.append(Result(m, "equivalent", 0.0, eq.reason, was, now, stale))
                    progress(f"  [{i}/{len(picked)}] {m.id}: equivalent" + (" (STALE: the line changed)" if stale else ""))
                    continue
                text = m.apply(source)
                try:
                    compile(text, str(path), "exec")
                except SyntaxError as err:
                    rep.results.append(Result(m, "stillborn", 0.0, str(err), was, now))
                    continue
                with mutated(path, text):
                    status, took, first = run_groups(copy, spec, timeouts)
                verdict = "survived" if status == "passed" else status
                rep.results.append(Result(m, verdict, took, first, was, now))
                progress(f"  [{i}/{len(picked)}] {m.id}: {verdict} in {took:.1f} s" + (f" by {first}" if first else ""))
    return reports
