"""The benchmark suite: ``python -m bench --quick`` runs and prints its table; the hand-written
baseline writes the same CSV as ``tinnhiem evaluate`` (so the end-to-end ratio compares equals).

Takes the sample data and a private cache folder for the generated populations; runs the bench in a
subprocess (the CI smoke run, kept well under 20 s) and the hand-written program in process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import engines, handwritten
from tests.conftest import EXAMPLES_DIR, ROOT
from tinnhiem.cli import main


def test_quick_bench_prints_the_table(tmp_path):
    env = dict(os.environ, TINNHIEM_BENCH_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(tmp_path / "b.json")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.splitlines()[0].split() == ["section", "what", "tinnhiem", "baseline", "ratio", "goal", "met"]
    for section in ("e2e", "interp", "engines", "check", "memory"):
        assert any(line.startswith(section) for line in out.splitlines()), section
    assert "the three CSV outputs are byte-identical" in out and "quick run" in out
    assert (tmp_path / "b.json").exists()


@pytest.mark.parametrize(("roster", "tallies"), [("roster.csv", "tallies.csv"), ("bad_roster.csv", "bad_tallies.csv"),
                                                 ("roster.csv", "bad_tallies.csv")])
def test_handwritten_writes_what_tinnhiem_writes(tmp_path, capsys, roster, tallies):
    r, t = str(EXAMPLES_DIR / roster), str(EXAMPLES_DIR / tallies)
    ours = tmp_path / "tinnhiem.csv"
    code = main(["evaluate", "--roster", r, "--tallies", t, "--format", "csv", "--output", str(ours)])
    capsys.readouterr()
    theirs = tmp_path / "handwritten.csv"
    assert handwritten.run(r, t, str(theirs)) == code
    assert theirs.read_bytes() == ours.read_bytes()


@pytest.mark.parametrize("make", [engines.rego, engines.cedar], ids=["rego", "cedar"])
def test_rego_and_cedar_decide_the_bands_of_the_policy(make):
    eng = make()
    if eng is None:
        pytest.skip("engine not installed (pip install tinnhiem[bench])")
    cases = [("cap_uy", 0, 1), ("cap_uy", 20, 40), ("noi_cong_tac", 21, 40), ("hdnd", 25, 47), ("hdnd", 6, 9), ("cap_uy", 9, 9)]
    want = ["khong_qua_50", "khong_qua_50", "tren_50", "tren_50", "tu_2_3", "tu_2_3"]
    assert eng.each(cases) == want
    assert eng.batch(cases) == want
