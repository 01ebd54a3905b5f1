"""``--policy FILE`` means a policy file in every command, and no option is taken for an abbreviation.

``check`` and ``test`` take policy files as PATHs; they accept ``--policy FILE`` too, as ``plan``,
``evaluate``, ``explain`` and ``fuzz`` write it. Before, argparse read ``--policy`` there as an
abbreviation of ``--policy-root``: the bundled policies were checked against a root that was a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tinnhiem.cli import main

GOOD = Path(__file__).resolve().parents[1] / "checker" / "good"
TWO_BASES = GOOD / "two_bases.policy"


def test_test_takes_policy_like_the_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--policy", str(TWO_BASES)]) == 0
    out = capsys.readouterr().out
    assert "good_two_bases, 2 examples" in out and "2 passed, 0 failed" in out
    assert "thanhhoa" not in out  # the bundled policies were not run instead


def test_check_takes_policy_like_the_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--policy", str(TWO_BASES), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"good_two_bases"' in out and "thanhhoa_kh134" not in out and "E005" not in out


@pytest.mark.parametrize("argv", [["check", "--polic", "x.policy"], ["plan", "--roster", "r.csv", "--polic", "x.policy"], ["test", "--policy-r", "."]])
def test_an_abbreviated_option_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
