"""The text report prints a counterexample's CSV lines whole, so that they can be pasted (issue 12).

Before, ``roster.csv`` and ``tallies.csv`` were rich tables: a roster with a few facts cut its headers
(``retirement_…``, ``appointed_y…``) and folded its cells, and nothing of it could be pasted into the
files that the ``replay:`` line reads. Now each file is its CSV lines, exactly ``roster_csv`` /
``tallies_csv`` of the counterexample, never wrapped nor cropped at 80 or 100 columns — nor through
the command, with ``COLUMNS=80``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checker.report import to_text
from checker.solve import check_policy
from dsl.loader import load_policy
from tests.checker.support import BAD

FIXTURE = BAD / "exemption_overrides_scope.policy"
LONG_FACTS = ('fact appointed_year: year "Năm được bổ nhiệm gần nhất"\n'
              'fact dang_bi_xem_xet_ky_luat_trong_nhiem_ky: bool "Đang bị xem xét kỷ luật trong nhiệm kỳ"\n'
              'fact so_nam_giu_chuc_vu_lien_tuc: int "Số năm giữ chức vụ liên tục"\n')


def _wide(tmp_path: Path) -> Path:
    """The bad fixture with two more facts of long names: a roster row wider than any terminal."""
    text = FIXTURE.read_text(encoding="utf-8")
    old = 'fact appointed_year: year "Năm được bổ nhiệm gần nhất"\n'
    assert old in text
    path = tmp_path / "wide.policy"
    path.write_text(text.replace(old, LONG_FACTS), encoding="utf-8")
    return path


def _csv_lines(report) -> list[str]:
    (finding,) = [r for p in report.properties for r in p.findings if r.counterexample is not None]
    cx = finding.counterexample
    lines = cx.roster_csv.splitlines() + cx.tallies_csv.splitlines()
    assert lines[0].startswith("cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year,dang_bi_xem_xet")
    return lines


@pytest.mark.parametrize("width", [80, 100])
def test_csv_lines_are_printed_whole_at_any_width(tmp_path: Path, width: int) -> None:
    report = check_policy(load_policy(_wide(tmp_path)), 10_000)
    text = to_text([report], 1, width=width)
    shown = text.splitlines()
    for line in _csv_lines(report):
        assert "      " + line in shown, (line, text)
    assert "…" not in text  # nothing cut short, the trace's columns included


def test_csv_lines_are_whole_through_the_command_at_80_columns(tmp_path: Path) -> None:
    path = _wide(tmp_path)
    report = check_policy(load_policy(path), 10_000)
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-m", "tinnhiem", "check", path.name], capture_output=True, text=True,
                          cwd=tmp_path, env=env, check=False)
    assert proc.returncode == 1, proc.stderr
    shown = proc.stdout.splitlines()
    for line in _csv_lines(report):
        assert "      " + line in shown, (line, proc.stdout)
    assert "…" not in proc.stdout
    # the lines pasted into roster.csv and tallies.csv replay through the command the report names
    start = shown.index("      roster.csv")
    roster = [s[6:] for s in shown[start + 1:shown.index("", start)]]
    start = shown.index("      tallies.csv")
    tallies = [s[6:] for s in shown[start + 1:shown.index("", start)]]
    (tmp_path / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    (tmp_path / "tallies.csv").write_text("\n".join(tallies) + "\n", encoding="utf-8")
    replay = next(s.strip()[len("replay: "):] for s in shown if s.strip().startswith("replay: ")).split()
    run = subprocess.run([sys.executable, "-m", *replay, "--format", "json"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode in (0, 1), run.stderr  # 1: the reader refuses a tally of an exempt cadre (the finding itself)
    doc = json.loads(run.stdout)
    assert [(c["cadre_id"], c["full_name"]) for c in doc["cadres"]] == [("cx1", "Phản ví dụ cx1")]
    assert not [r for r in doc["rejected"] if r["file"].endswith("roster.csv")]  # every pasted roster line was read
