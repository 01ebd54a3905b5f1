"""The hostile suite's session: run the selected cases once, a few at a time, and print one summary line.

Takes the cases the run selected (``-k`` works); produces, once per session, their results (the
``hostile_results`` fixture, which runs them on a small thread pool: each case is a subprocess, so
two cores are kept busy) and, at the end of the run, the line
``hostile inputs: N cases tried, T tracebacks, W wrong exit codes, R rows unaccounted for; …``.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hostile.harness import Case, Result, run_case, summary_line

_RESULTS: dict[str, tuple[Case, Result]] = {}
WORKERS = max(2, min(4, (os.cpu_count() or 2) + 1))


def _selected(session: pytest.Session) -> list[Case]:
    out: list[Case] = []
    for item in session.items:
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if isinstance(case, Case) and case.skip is None and case.id not in {c.id for c in out}:
            out.append(case)
    return out


@pytest.fixture(scope="session")
def hostile_results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Result]]:
    cases = _selected(request.session)
    # the slowest first, so that the pool does not end waiting on one of them
    cases.sort(key=lambda c: (c.family != "lsp" and not any(w in c.name for w in ("columns", "chain", "closed-pipe", "17mb", "20mb")),
                              c.family != "policies"))
    folders = {c.id: tmp_path_factory.mktemp(re.sub(r"[^A-Za-z0-9_-]+", "_", c.id)[:60]) for c in cases}
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {c.id: (c, pool.submit(run_case, c, folders[c.id])) for c in cases}
        for cid, (c, fut) in futures.items():
            _RESULTS[cid] = (c, fut.result())
    return _RESULTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _RESULTS:
        terminalreporter.write_line(summary_line(_RESULTS))
