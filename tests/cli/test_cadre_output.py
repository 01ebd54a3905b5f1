"""One place turns a cadre's decision into output: the document path and the streaming path agree.

Takes the sample data of ``examples/`` and a small tricky roster and tallies (formula-like cells, an
extra column, a missing tally, a session below quorum), and random policies
(:func:`checker.strategies.policy_texts`) with cadres and tallies drawn for them. Checks that
:mod:`tinnhiem.cadre_output` is the only builder of a cadre's object and CSV rows —
:mod:`tinnhiem.report` and :mod:`tinnhiem.stream` use its public functions and build no cadre fields
of their own — and that the two paths through it give the same bytes: one full
:meth:`~dsl.evaluator.Evaluator.decide` per cadre (:func:`tinnhiem.report.evaluate_entry`,
:func:`~tinnhiem.report.plan_entry`, :func:`~tinnhiem.report.to_csv`) against the memoised
:class:`tinnhiem.stream.Decider` the commands write with, in every format (``json``, ``jsonl``,
``csv``, ``table``); and that the CSV rows of a cadre made from its views (:func:`evaluate_rows`)
are the rows derived from its object (:func:`object_rows`).
"""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

import policy as bundled
from checker import strategies
from checker.strategies import policy_texts, profile
from dsl.diagnostics import Collector
from dsl.evaluator import Tally, compile_policy
from dsl.loader import load_policy
from dsl.lower import lower
from dsl.parser import parse
from tests.conftest import EXAMPLES_DIR, ROOT
from tests.fuzz.budget import scaled
from tinnhiem import cadre_output, report
from tinnhiem.cli import main
from tinnhiem.roster import RosterEntry, read_roster
from tinnhiem.stream import Decider
from tinnhiem.table import render_document
from tinnhiem.tallies import TallyRow, read_tallies

ROSTER = (
    "cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year,ghi_chu\n"
    "C1,Nguyễn Văn An,province,=HYPERLINK(\"x\"),truong_so,false,2020,-ghi chú\n"
    "C2,Trần Thị Bình,district,Huyện ủy Nga Sơn,bi_thu;ct_hdnd,no,2021,kiêm nhiệm\n"
    "C3,Lê Văn Cường,province,Văn phòng Tỉnh ủy,pho_ban_dang,true,2019,\n"
    "C6,+Đỗ Văn Phúc,province,Sở Y tế,pho_so,false,,@x\n"
    "C7,Vũ Thị Giang,province,Tỉnh ủy,uv_btv;truong_ban_dang,false,2020,\n"
    "C9,Ngô Văn Ích,province,Sở Tư pháp,truong_so,false,2020,\n"
    "C10,Đinh Thị Kim,province,Sở Tư pháp,pho_so,false,2020,=1+1\n"
)
TALLIES = "cadre_id,venue,issued,collected,high,confidence,low,convened,present\n" + (
    "C1,noi_cong_tac,48,47,10,12,25,50,48\n"  # tren_50
    "C2,cap_uy,9,9,1,2,6,,\n"  # exactly 2/3
    "C2,hdnd,80,80,78,1,1,80,80\n"
    "C6,noi_cong_tac,29,29,5,4,20,45,29\n"  # below quorum
    "C7,cap_uy,30,30,10,10,10,,\n"  # C7's hdnd tally is missing
    "C9,noi_cong_tac,10,10,0,0,10,10,10\n"  # all low
    "C10,noi_cong_tac,10,10,0,0,10,10,10\n"  # the same kind of decision as C9: from the memo
    "C3,noi_cong_tac,50,47,10,12,25,,\n"  # rejected: exempt
)


def _cases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "r.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "t.csv").write_text(TALLIES, encoding="utf-8")
    return {
        "examples": (str(EXAMPLES_DIR / "roster.csv"), str(EXAMPLES_DIR / "tallies.csv")),
        "bad examples": (str(EXAMPLES_DIR / "bad_roster.csv"), str(EXAMPLES_DIR / "bad_tallies.csv")),
        "tricky": (str(tmp_path / "r.csv"), str(tmp_path / "t.csv")),
    }


def _document_path(roster_path: str, tallies_path: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The cadre objects built one full decision at a time (:func:`report.evaluate_entry` /
    :func:`report.plan_entry`), the rejected rows, the roster's extra columns."""
    pol = load_policy(bundled.path())
    ev = compile_policy(pol)
    roster = read_roster(roster_path, pol)
    plans = {e.cadre.cadre_id: ev.plan(e.cadre) for e in roster.entries}
    if tallies_path is None:
        cadres = [report.plan_entry(pol, e, plans[e.cadre.cadre_id]) for e in roster.entries]
        return cadres, report.rejected_list(roster.rejected), roster.extra_columns
    rejected_ids = {r.cadre_id: r.line for r in roster.rejected if r.cadre_id and r.cadre_id not in plans}
    stream = read_tallies(tallies_path, pol, plans, rejected_ids, lambda: list(plans))
    tallies: dict[str, dict[str, Tally]] = {}
    rejected = list(roster.rejected)
    for item in stream.rows:
        if isinstance(item, TallyRow):
            tallies.setdefault(item.cadre_id, {})[item.tally.venue] = item.tally
        else:
            rejected.append(item)
    cadres = [report.evaluate_entry(pol, e, ev.decide(e.cadre, tallies.get(e.cadre.cadre_id, {}), plans[e.cadre.cadre_id]))
              for e in roster.entries]
    return cadres, report.rejected_list(rejected), roster.extra_columns


def _command(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fmt: str) -> bytes:
    out = tmp_path / f"out.{fmt}"
    main([*argv, "--format", fmt, "--output", str(out)])
    capsys.readouterr()
    return out.read_bytes()


@pytest.mark.parametrize("case", ["examples", "bad examples", "tricky"])
@pytest.mark.parametrize("command", ["evaluate", "plan"])
def test_the_document_path_and_the_streaming_path_write_the_same_bytes(tmp_path, capsys, case, command):
    """``json``/``jsonl``/``csv``/``table`` of the commands (memoised decisions, written as each cadre is
    decided) are the bytes of the document built with one full decision per cadre, whose summary is counted
    from its cadre objects (:func:`report.summarise`); the heading (policy, inputs, year) is the command's."""
    roster, tallies = _cases(tmp_path)[case]
    argv = [command, "--roster", roster] + (["--tallies", tallies] if command == "evaluate" else [])
    cadres, rejected, extra = _document_path(roster, tallies if command == "evaluate" else None)
    closing = json.loads(_command(tmp_path, capsys, argv, "jsonl").decode("utf-8").splitlines()[-1])
    s = closing["summary"]
    counts = None if command == "plan" else (s["rows_read"], s["rows_evaluated"], s["rows_rejected"], s["rows_skipped"])
    pol = load_policy(bundled.path())
    doc = {"policy": closing["policy"], "inputs": closing["inputs"], "year": closing["year"], "cadres": cadres,
           "rejected": rejected, "summary": report.summarise(cadres, read_roster(roster, pol), counts)}
    assert _command(tmp_path, capsys, argv, "json") == report.to_json(doc).encode("utf-8")
    lines = [*cadres, {k: v for k, v in doc.items() if k != "cadres"}]
    assert _command(tmp_path, capsys, argv, "jsonl") == "".join(map(report.jsonl_line, lines)).encode("utf-8")
    assert _command(tmp_path, capsys, argv, "csv") == report.to_csv(doc, extra).encode("utf-8")
    table = io.StringIO()  # drawn from the document as the command draws it into a file
    render_document(doc, Console(file=table, width=200, color_system=None, soft_wrap=False, markup=False, emoji=False), pol)
    assert _command(tmp_path, capsys, argv, "table") == table.getvalue().encode("utf-8")


def _csv_text(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("case", ["examples", "tricky"])
def test_rows_from_the_views_are_the_rows_of_the_object(tmp_path, case):
    """Per cadre: the memoised Decider's object is :func:`report.evaluate_entry` of the full decision, and its
    CSV rows are :func:`cadre_output.object_rows` of that object (the two ways a cadre's CSV is made)."""
    roster_path, tallies_path = _cases(tmp_path)[case]
    pol = load_policy(bundled.path())
    ev = compile_policy(pol)
    roster = read_roster(roster_path, pol)
    d = Decider(pol, ev, roster.extra_columns)
    plans = {e.cadre.cadre_id: d.plan(e.cadre) for e in roster.entries}
    stream = read_tallies(tallies_path, pol, plans, {}, lambda: list(plans))
    tallies: dict[str, list[Tally]] = {}
    for item in stream.rows:
        if isinstance(item, TallyRow):
            tallies.setdefault(item.cadre_id, []).append(item.tally)
    for e in roster.entries:
        plan, own = plans[e.cadre.cadre_id], tallies.get(e.cadre.cadre_id, [])
        full = report.evaluate_entry(pol, e, ev.decide(e.cadre, {t.venue: t for t in own}, plan))
        assert d.evaluate_object(e, plan, own) == full
        assert _csv_text(d.evaluate_rows(e, plan, own)) == _csv_text(cadre_output.object_rows(full, roster.extra_columns, bool(pol.stages)))
        planned = report.plan_entry(pol, e, plan)
        assert d.plan_object(e, plan) == planned
        assert _csv_text(d.plan_rows(e, plan)) == _csv_text(cadre_output.object_rows(planned, roster.extra_columns))


@st.composite
def _random_cadres(draw: st.DrawFn) -> tuple[str, list[tuple[RosterEntry, list[Tally]]]]:
    """A random policy (shares over any base, band sets over another), and cadres drawn for it, each with a
    tally at its planned venues now and then missing, and now and then one at a venue it is not planned at;
    every cadre comes twice (the second from the memo, with other tallies)."""
    text = draw(policy_texts(evaluable=True, over=draw(st.booleans())))
    pol = lower(parse(text, "random.policy"), {}, Collector())
    prof = profile(pol)
    ev = compile_policy(pol)
    out = []
    for i in range(draw(st.integers(1, 6))):
        c = draw(strategies.cadres(prof, f"C{i}"))
        planned = ev.plan(c).venues
        for n in range(2):
            own = [draw(strategies.tallies(prof, v)) for v in prof.venues
                   if (v in planned and draw(st.integers(0, 5))) or not draw(st.integers(0, 4))]
            extra = {"note": draw(st.sampled_from(["", "=x", "-1", "ghi chú"]))}
            out.append((RosterEntry(2 * i + n + 2, c, ";".join(sorted(c.titles)), extra), own))
    return text, out


@settings(max_examples=max(20, scaled(20)), suppress_health_check=list(HealthCheck), deadline=None)
@given(_random_cadres())
def test_random_policies_one_output_whatever_the_path(case):
    text, cadres = case
    pol = lower(parse(text, "random.policy"), {}, Collector())
    ev = compile_policy(pol)
    d = Decider(pol, ev, ["note"])
    for entry, own in cadres:
        plan = d.plan(entry.cadre)
        full = report.evaluate_entry(pol, entry, ev.decide(entry.cadre, {t.venue: t for t in own}, plan))
        assert d.evaluate_object(entry, plan, own) == full, text
        assert _csv_text(d.evaluate_rows(entry, plan, own)) == _csv_text(cadre_output.object_rows(full, ["note"], bool(pol.stages))), text
        planned = report.plan_entry(pol, entry, plan)
        assert d.plan_object(entry, plan) == planned, text
        assert _csv_text(d.plan_rows(entry, plan)) == _csv_text(cadre_output.object_rows(planned, ["note"])), text


# ---- the one place, by construction ------------------------------------------------------------------------

#: keys of a cadre object and its venues that only tinnhiem/cadre_output.py may write (not ``cadre_id`` nor
#: ``venues``: a rejected row and the summary have them too)
_CADRE_FIELDS = {"full_name", "titles", "exemptions", "venue_rules", "cites", "tally", "issued", "collected", "low_share",
                 "percent", "band_label", "band_set", "consequences", "must", "options", "base_count", "shares", "percents"}


def _private_uses(tree: ast.AST, modules: set[str]) -> list[str]:
    """``module._name`` for an imported module of tinnhiem, and ``from tinnhiem.x import _name``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                and node.attr.startswith("_") and not node.attr.startswith("__"):
            found.append(f"{node.value.id}.{node.attr} at line {node.lineno}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinnhiem"):
            found += [f"from {node.module} import {a.name}" for a in node.names if a.name.startswith("_")]
    return found


def _dict_keys(tree: ast.AST) -> set[str]:
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Constant):
            keys.add(node.slice.value)
    return keys


@pytest.mark.parametrize("name", ["report.py", "stream.py"])
def test_report_and_stream_build_no_cadre_output_of_their_own(name):
    """Neither writer reaches into another module's private names, nor writes a field of a cadre object,
    nor defines the CSV columns: :mod:`tinnhiem.cadre_output` does, and only it."""
    tree = ast.parse((ROOT / "tinnhiem" / name).read_text(encoding="utf-8"))
    assert _private_uses(tree, {"report", "stream", "cadre_output", "csvio", "roster", "cli", "table"}) == []
    assert _dict_keys(tree) & _CADRE_FIELDS == set()
    assert "CSV_COLUMNS" not in {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "tinnhiem" for a in n.names}
    assert "cadre_output" in imported


def test_the_structural_checks_can_fail():
    """The detectors above find what they look for in a sample that breaks the rule."""
    sample = ast.parse("import tinnhiem.report as report\nx = report._cites(p, None)\nout = {'issued': 1}\nrow['low_share'] = 2\n"
                       "from tinnhiem.report import _cadre_head\n")
    assert len(_private_uses(sample, {"report"})) == 2
    assert _dict_keys(sample) >= {"issued", "low_share"}
