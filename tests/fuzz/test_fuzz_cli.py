"""``tinnhiem fuzz``: exit codes, the verdict, the shrunk witness as CSV rows, reproducibility.

Takes the command through ``tinnhiem.cli.main`` (in process) on the bundled policies, on a policy
with errors, with a bad ``--examples``, and with a bug planted in the evaluator's share compilation.
"""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import dsl.evaluator as evaluator_module
import policy as bundled
from dsl import ir
from tinnhiem.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["fuzz", *argv])
    return code, out.getvalue(), err.getvalue()


def test_the_bundled_plan_agrees():
    code, out, err = run("--examples", "300", "--seed", "7")
    assert code == 0, out + err
    assert out.startswith("✓ 300 inputs in ") and "inputs/s" in out and "seed 7" in out
    assert "builtin.bands_cover" in out and "rules fired" in out
    assert "Traceback" not in err


def test_a_policy_without_plan_is_fuzzed_on_its_band_sets():
    code, out, _ = run("--policy", str(bundled.path("nq96-qh15.policy")), "--examples", "200")
    assert code == 0 and "✓ 200 inputs" in out


def test_policy_errors_and_usage_errors_exit_2(tmp_path: Path):
    bad = tmp_path / "bad.policy"
    bad.write_text("policy x {\n  name \"x\"\n}\nscope s at province: nobody\n", encoding="utf-8")
    code, out, err = run("--policy", str(bad), "--examples", "10")
    assert code == 2 and "error[" in err and "Traceback" not in err and not out
    code, _, err = run("--policy", str(tmp_path / "missing.policy"))
    assert code == 2 and "E001" in err
    code, _, err = run("--examples", "0")
    assert code == 2 and "--examples" in err


def test_a_planted_bug_exits_1_with_the_witness_as_csv_rows(monkeypatch):
    original = evaluator_module.compile_share

    def buggy(e: ir.Expr):
        if isinstance(e, ir.ShareCmp) and e.op == ">=":
            e = ir.ShareCmp(">", e.value)
        return original(e)

    monkeypatch.setattr(evaluator_module, "compile_share", buggy)
    code, out, err = run("--examples", "10000", "--seed", "3")
    assert code == 1, out + err
    assert "Traceback" not in err
    roster = out.split("roster.csv\n", 1)[1].split("\n\n", 1)[0]
    tallies = out.split("tallies.csv\n", 1)[1].split("\n\n", 1)[0]
    (row,) = list(csv.DictReader(io.StringIO(roster)))
    assert list(row)[:7] == ["cadre_id", "full_name", "level", "unit", "titles", "retirement_notice", "appointed_year"]
    rows = list(csv.DictReader(io.StringIO(tallies)))
    assert rows and all(r["cadre_id"] == row["cadre_id"] for r in rows)
    assert any(int(r["low"]) * 3 == 2 * int(r["collected"]) for r in rows), "the witness is not at exactly 2/3"
    assert "evaluator: " in out and "Z3 model:  " in out
    # the same seed gives the same witness
    again = run("--examples", "10000", "--seed", "3")
    assert again[0] == 1 and again[1].split("shrunk witness:")[1] == out.split("shrunk witness:")[1]
