"""The hostile-input suite: every case of :mod:`tests.hostile.cases` run as the real command, judged.

Takes the cases (six families: encodings and dialects, row semantics, special files, policies, the
language server, options); produces one test per case — which fails with the case, its command
line, the exit code and every problem found — and a last test that fails while any case has a
traceback, a wrong exit code or rows unaccounted for (or fails another check), listing them. The
one-line summary is printed at the end of the run (``conftest.pytest_terminal_summary``).

Run: ``.venv/bin/python -m pytest tests/hostile -q -s`` (about a minute on two cores).
"""

from __future__ import annotations

import pytest

from tests.hostile.cases import CASES
from tests.hostile.harness import Case, Result, offenders, summary_line


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, hostile_results: dict[str, tuple[Case, Result]]) -> None:
    if case.skip:
        pytest.skip(case.skip)
    _, result = hostile_results[case.id]
    assert not result.failed, result.describe(case)


def test_summary(hostile_results: dict[str, tuple[Case, Result]]) -> None:
    bad = offenders(hostile_results)
    listing = "\n".join(f"{cat}: " + "\n  ".join(["", *items]) for cat, items in bad.items() if items)
    assert not any(bad.values()), summary_line(hostile_results) + "\n" + listing
