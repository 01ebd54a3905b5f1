"""Shared test configuration: Hypothesis profiles and paths.

The ``ci`` profile (the default under ``python3 dev.py test``) uses a fixed seed and bounded
examples so the suite is reproducible and stays within its time budget; ``dev`` explores more.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policy"
EXAMPLES_DIR = ROOT / "examples"

settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files (expected diagnostics and reports) from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
