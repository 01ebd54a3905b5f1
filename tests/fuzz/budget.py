"""The CI budget of the fuzz tests, scaled by ``TINNHIEM_FUZZ_SCALE`` (default 1) for longer runs.

Takes the number of examples (or inputs) a test runs in CI; produces it times the scale, so that
``TINNHIEM_FUZZ_SCALE=20 pytest tests/fuzz`` explores twenty times as far with the same tests. A
scale below 1 (``0.25``) runs a quarter of the budget, for the mutation run (``python -m
tests.mutation``), which runs the tests once per mutant; what a test asserts about the whole run
(every verdict seen, every rule fired) is then not asserted (:data:`FULL`).
"""

from __future__ import annotations

import os

SCALE = max(0.01, float(os.environ.get("TINNHIEM_FUZZ_SCALE", "1") or "1"))
#: the whole CI budget (or more) runs: assertions about the run as a whole hold
FULL = SCALE >= 1


def scaled(n: int) -> int:
    return max(1, round(n * SCALE))
