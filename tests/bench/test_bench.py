"""The benchmark suite: ``python -m bench --quick`` runs and prints its table; the hand-written
baseline writes the same CSV as ``tinnhiem evaluate`` (so the end-to-end ratio compares equals).
That Rego and Cedar decide the bands of the policy is checked where their engines are installed (the
``[bench]`` extra), beside the bench: ``python -m tests.bench.engines_agree`` (see ``engines_agree.py``).

Takes the sample data and a private cache folder for the generated populations; runs the bench in a
subprocess (the CI smoke run, kept well under 20 s) and the hand-written program in process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import handwritten
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



def test_handwritten_reads_and_reports_the_members_column(tmp_path, capsys):
    """The optional ``members`` column: reported in the CSV, bounding issued and convened, checked as a count."""
    tallies = tmp_path / "t.csv"
    tallies.write_text("cadre_id,venue,issued,collected,high,confidence,low,convened,present,members\n"
                       "TH00004,hdnd,80,80,78,1,1,84,80,84\n"  # accepted: members reported, shares over collected
                       "TH00003,cap_uy,52,52,45,2,5,52,52,\n"  # no members given
                       "TH00003,hdnd,90,90,46,33,1,,,84\n"  # issued > members
                       "TH00005,hdnd,80,80,64,15,1,90,80,84\n"  # convened > members
                       "TH00006,hdnd,80,80,77,3,0,,,8x4\n", encoding="utf-8")  # not a count
    r = str(EXAMPLES_DIR / "roster.csv")
    ours = tmp_path / "tinnhiem.csv"
    code = main(["evaluate", "--roster", r, "--tallies", str(tallies), "--format", "csv", "--output", str(ours)])
    capsys.readouterr()
    theirs = tmp_path / "handwritten.csv"
    assert handwritten.run(r, str(tallies), str(theirs)) == code == 1
    assert theirs.read_bytes() == ours.read_bytes()
    text = ours.read_text(encoding="utf-8")
    assert ',84,collected,80,78,1,39/40,1/80,"97,5%","1,25%","1,25%"' in text
    assert "issued (90) is more than members (84)" in text and "convened (90) is more than members (84)" in text
