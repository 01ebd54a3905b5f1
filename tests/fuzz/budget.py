"""The CI budget of the fuzz tests, scaled by ``TINNHIEM_FUZZ_SCALE`` (default 1) for longer runs.

Takes the number of examples (or inputs) a test runs in CI; produces it times the scale, so that
``TINNHIEM_FUZZ_SCALE=20 pytest tests/fuzz`` explores twenty times as far with the same tests.
"""

from __future__ import annotations

import os

SCALE = max(1, int(os.environ.get("TINNHIEM_FUZZ_SCALE", "1") or "1"))


def scaled(n: int) -> int:
    return n * SCALE
