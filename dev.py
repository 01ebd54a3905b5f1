#!/usr/bin/env python3
"""Set up and run tinnhiem on a fresh machine (Python >= 3.11, nothing else).

    python dev.py demo   # .venv, install, check the bundled policies, evaluate the sample data
    python dev.py test   # .venv, install with test extras, ruff, the whole test suite

Takes the command; produces a virtual environment in .venv and runs the job in it. Stdlib only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*cmd: str | Path, check: bool = True) -> int:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def setup(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be run by an older python3
        sys.exit(f"tinnhiem needs Python >= 3.11; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f".{extras}")


def demo() -> int:
    """Prove the bundled policies, run their examples, evaluate the sample province (1,500 cadres)."""
    setup("")
    tn = BIN / "tinnhiem"
    data = ("--roster", "examples/roster.csv", "--tallies", "examples/tallies.csv")
    for cmd in (("check",), ("test",)):
        rc = run(tn, *cmd, check=False)
        if rc != 0:
            return rc
    (ROOT / "out").mkdir(exist_ok=True)
    for fmt, name in (("json", "decisions.json"), ("csv", "decisions.csv"), ("table", "report.txt")):
        rc = run(tn, "evaluate", *data, "--format", fmt, "--output", f"out/{name}", check=False)
        if rc != 0:
            return rc
    rc = run(tn, "evaluate", *data, "--limit", "12", check=False)
    print("\nFull reports: out/report.txt (table), out/decisions.json, out/decisions.csv")
    return rc


def test() -> int:
    setup("[test]")
    run(BIN / "ruff", "check", "dsl", "checker", "tinnhiem", "policy", "tests", "bench", "dev.py")
    env_profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    os.environ["HYPOTHESIS_PROFILE"] = env_profile
    return run(BIN / "python", "-m", "pytest", *sys.argv[2:], check=False)


if __name__ == "__main__":
    jobs = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        sys.exit("usage: python dev.py demo | test [pytest args]")
    try:
        sys.exit(jobs[sys.argv[1]]())
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
