"""Text from an input or a policy is shown as plain text by every command, never read as rich markup.

Takes a copy of the bundled policies in which every quoted text a drafter writes (names, labels,
reasons, consequences, citations' paragraphs and quotes, document titles, example labels…) ends
with :data:`SUFFIX` — strings that rich reads as markup if given them as a ``str`` (a closing tag
that closes nothing, a style, a link, a bracketed note, an escaped bracket) or as an emoji code —
and a roster and tallies whose names, units, cadre ids, extra columns and rejected cells hold them
too. Runs the installed command (``python -m tinnhiem``) in a subprocess and checks that no command
crashes (exit 3, a traceback) and that each text appears verbatim wherever the command shows it, in
every format. What "shown" means is read from the command's own JSON (checked against the inputs),
from the policy as loaded, or from the evaluator's trace.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dsl.evaluator import Cadre, Tally, compile_policy, run_example
from dsl.loader import load_policy
from tests.conftest import EXAMPLES_DIR, POLICY_DIR, ROOT

#: What rich reads as markup (or as an emoji code) when it is given these inside a ``str``.
BRACKETS = ("[/oops]", "[bold]x[/bold]", "[tạm thời]", "[link=http://x]y[/link]", "[red on blue]", r"\[b]", ":smile:")
SUFFIX = " " + " ".join(BRACKETS)
POLICY = "thanhhoa-kh134.policy"
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
#: The rule under a table's header, in the boxes the reports use (rich's SIMPLE and SIMPLE_HEAVY).
RULE = re.compile(r"^ *(━{3,}|─{3,}) *$")
#: The fewest blank positions between two columns of those boxes (padding, divider, padding).
GAP = 3
#: Whitespace and the box-drawing characters of rich's panels and tables.
NOISE = re.compile(r"[\s\u2500-\u257f]+")
YEAR = 2023


# ---- the inputs -----------------------------------------------------------------------------------


def bracket_policy_text(source: str) -> str:
    """``source`` with :data:`SUFFIX` appended to every quoted text, except import paths and comments."""
    escaped = SUFFIX.replace("\\", "\\\\")

    def line(text: str) -> str:
        if text.lstrip().startswith(("#", "import ")):
            return text
        return LITERAL.sub(lambda m: f'"{m.group(1)}{escaped}"', text)

    return "\n".join(line(t) for t in source.split("\n"))


def write_bracket_policies(folder: Path, amend: bool = False) -> Path:
    """The bundled policies with brackets in every text; ``amend``: the plan's first band ends at 40%, not 50%
    (so that ``diff`` finds a difference and shows the rules behind it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for src in POLICY_DIR.glob("*.policy"):
        text = bracket_policy_text(src.read_text(encoding="utf-8"))
        if amend and src.name == POLICY:
            before = text
            text = text.replace("when share <= 50% severity 0", "when share <= 40% severity 0", 1)
            text = text.replace("when share > 50% and share < 2/3 severity 1", "when share > 40% and share < 2/3 severity 1", 1)
            assert text.count("40%") == 2 and text != before
        (folder / src.name).write_text(text, encoding="utf-8")
    return folder / POLICY


#: Rows of examples/roster.csv that cover each status, band, outcome and venue of the bundled plan.
SAMPLE = ("TH00001", "TH00003", "TH00011", "TH00033", "TH00041", "TH00101", "TH00117", "TH00139", "TH00323", "TH00355",
          "TH00554")
EXTRA = "ghi_chu" + SUFFIX
BRACKET_ID = "TH[/oops]:smile:"
ISSUE_NAME = "Nguyễn Văn A [tạm thời]"
TALLY_OK = ["30", "30", "20", "10", "0", "30", "30"]


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def _csv(header: list[str], rows: Iterable[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def roster_rows() -> tuple[list[str], list[list[str]]]:
    header, rows = _read(EXAMPLES_DIR / "roster.csv")
    out = [[cid, name + SUFFIX, level, unit + SUFFIX, titles, notice, year, "ghi chú" + SUFFIX]
           for cid, name, level, unit, titles, notice, year in rows if cid in SAMPLE]
    out.append(["TH09000", ISSUE_NAME, "province", "Sở Nội vụ", "truong_so", "false", "2020", ""])
    out.append([BRACKET_ID, "Tên" + SUFFIX, "province", "Sở Y tế" + SUFFIX, "truong_so", "false", "2020", SUFFIX.strip()])
    out.append(["TH09001", "Cảnh báo" + SUFFIX, "province", "Sở Xây dựng", "pho_so", "", "2020", ""])  # a warning
    for i, bracket in enumerate(BRACKETS):  # rejected rows: their reasons quote the bad cell
        bad = [f"TH0910{i}", "Bị từ chối" + SUFFIX, "province", "Sở", "truong_so", "false", "2020", ""]
        bad[(2, 4, 5, 6)[i % 4]] = bracket
        out.append(bad)
    return [*header, EXTRA], out


def tally_rows() -> tuple[list[str], list[list[str]]]:
    header, rows = _read(EXAMPLES_DIR / "tallies.csv")
    out = [r for r in rows if r[0] in SAMPLE]
    out.append(["TH09000", "noi_cong_tac", "40", "40", "10", "10", "20", "40", "40"])
    out.append([BRACKET_ID, "noi_cong_tac", "30", "30", "5", "5", "20", "30", "30"])
    out.append(["TH09001", "noi_cong_tac", *TALLY_OK])
    for i, bracket in enumerate(BRACKETS):  # rejected rows: an unknown cadre or venue, a count that is not one
        bad = [f"TH0910{i}" if i % 2 else bracket, "noi_cong_tac", *TALLY_OK]
        bad[(1, 6, 8)[i % 3]] = bracket
        out.append(bad)
    return header, out


@dataclass(frozen=True)
class Inputs:
    policy: Path
    amended: Path
    roster: Path
    tallies: Path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    root = tmp_path_factory.mktemp("plain_text")
    policy = write_bracket_policies(root / "policy")
    amended = write_bracket_policies(root / "amended", amend=True)
    roster, tallies = root / "roster.csv", root / "tallies.csv"
    roster.write_text(_csv(*roster_rows()), encoding="utf-8")
    tallies.write_text(_csv(*tally_rows()), encoding="utf-8")
    return Inputs(policy, amended, roster, tallies)


# ---- running the command ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str


@functools.cache
def tinnhiem(*args: str) -> Run:
    """``python -m tinnhiem ARGS`` in a subprocess (stdout is a pipe: rich lays out for a file, no colours)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TINNHIEM_DEBUG")}
    env |= {"COLUMNS": "400", "PYTHONIOENCODING": "utf-8"}
    p = subprocess.run([sys.executable, "-m", "tinnhiem", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       encoding="utf-8", timeout=300)
    run = Run(args, p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in run.out + run.err, run.err
    assert "internal error" not in run.err, run.err
    assert run.code in (0, 1), f"exit {run.code}: {run.err}"
    return run


def with_output(tmp: Path, *args: str) -> str:
    """Run with ``--output FILE``: nothing on stdout, the report in the file."""
    path = tmp / f"out-{abs(hash(args))}.txt"
    run = tinnhiem(*args, "--output", str(path))
    assert run.out == ""
    return path.read_text(encoding="utf-8")


def reference(*args: str) -> Any:
    return json.loads(tinnhiem(*args, "--format", "json").out)


# ---- reading what is shown ------------------------------------------------------------------------


def compact(text: str) -> str:
    return NOISE.sub("", text)


def table_columns(text: str) -> Iterator[str]:
    """The text of each column of each rich table in ``text``, read top to bottom, so that a cell wrapped
    over several lines reads whole (in the raw text, the other columns' cells come between its pieces).
    A table is its header line and the lines under the header's rule as wide as the rule, up to the next
    table's title. Columns are apart by at least :data:`GAP` positions blank on every line of the table
    (a cell's padding, the divider, the next cell's padding); words in a cell by one space."""
    lines = text.split("\n")
    rules = [i for i, line in enumerate(lines) if i > 0 and RULE.match(line)]
    for k, at in enumerate(rules):
        width = len(lines[at])
        stop = rules[k + 1] - 3 if k + 1 < len(rules) else len(lines)
        block = [lines[at - 1].ljust(width)]
        for line in lines[at + 1:stop]:
            if len(line) != width:
                break
            block.append(line)
        blank = "".join(" " if all(line[c] == " " for line in block) else "x" for c in range(width))
        for m in re.finditer(rf"x(?:x| {{1,{GAP - 1}}}x)*", blank):
            yield " ".join(line[m.start():m.end()] for line in block)


def shown(text: str, tables_only: bool = False) -> str:
    """What a reader sees, whitespace and box drawing removed: the whole text, then each table column."""
    return "\n".join([*([] if tables_only else [compact(text)]), *(compact(col) for col in table_columns(text))])


def assert_shown(output: str, texts: Iterable[str], what: str, tables_only: bool = False) -> None:
    """Each text is shown verbatim (``tables_only``: in a table's cell)."""
    seen = shown(output, tables_only)
    missing = sorted(t for t in set(texts) if t and compact(t) not in seen)
    assert not missing, f"{what}: {len(missing)} texts not shown verbatim, e.g. {missing[:3]}\n{output[:3000]}"
    for bracket in BRACKETS:
        assert compact(bracket) in seen, f"{what}: {bracket} not shown"


def leaves(data: Any) -> Iterator[str]:
    """Every string of a JSON document, keys included."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield k
            yield from leaves(v)
    elif isinstance(data, list):
        for v in data:
            yield from leaves(v)


def xml_leaves(text: str) -> Iterator[str]:
    for el in ET.fromstring(text.encode("utf-8")).iter():
        yield from el.attrib.values()
        if el.text:
            yield el.text


def assert_contained(strings: Iterable[str], texts: Iterable[str], what: str) -> None:
    """Each text is part of some string of a machine-readable output (a cell, a JSON value, an XML attribute)."""
    pool = list(strings)
    missing = sorted(t for t in set(texts) if t and not any(t in s for s in pool))
    assert not missing, f"{what}: {len(missing)} texts missing, e.g. {missing[:3]}"
    for bracket in BRACKETS:
        assert any(bracket in s for s in pool), f"{what}: {bracket} missing"


def with_brackets(texts: Iterable[str]) -> list[str]:
    return [t for t in texts if any(b in t for b in BRACKETS)]


# ---- the reader itself ---------------------------------------------------------------------------


def test_table_columns_reads_a_wrapped_cell_whole_and_markup_would_be_caught() -> None:
    cell = "Nguyễn Văn A" + SUFFIX
    buf = io.StringIO()
    table = Table(box=box.SIMPLE_HEAVY, show_lines=True)
    for name, width in (("a", 10), ("b", 12), ("c", 9)):
        table.add_column(name, max_width=width, overflow="fold")
    table.add_row(Text(cell), Text("Sở" + SUFFIX), "x")
    Console(file=buf, width=80, color_system=None).print(table)
    out = buf.getvalue()
    assert compact(cell) not in compact(out)  # wrapped: the raw text interleaves the columns
    assert_shown(out, [cell, "Sở" + SUFFIX], "reader")
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(ISSUE_NAME)  # read as markup: the note is lost
    assert compact(ISSUE_NAME) not in shown(buf.getvalue())


def test_the_bracketed_copy_has_brackets_in_every_text(inputs: Inputs) -> None:
    for path in inputs.policy.parent.glob("*.policy"):
        code = [line for line in path.read_text(encoding="utf-8").split("\n") if not line.lstrip().startswith(("#", "import "))]
        texts = [m.group(1) for line in code for m in LITERAL.finditer(line)]
        assert len(texts) > 30 and all(t.endswith(SUFFIX.replace("\\", "\\\\")) for t in texts), path
    pol = load_policy(inputs.policy)
    assert pol.name.endswith(SUFFIX) and all(ex.label.endswith(SUFFIX) for ex in pol.examples)


# ---- plan and evaluate --------------------------------------------------------------------------


def document_texts(doc: dict, fmt: str) -> set[str]:
    """The texts of a plan/evaluate document that format ``fmt`` shows (the table folds the citations of a
    cadre into one cell, ``KH134 P3, P5``: it shows each paragraph; the csv format has no labels)."""
    table, labels = fmt == "table", fmt != "csv"
    texts = {r["reason"] for r in doc["rejected"]}
    if labels:
        texts.add(doc["policy"]["title"])
    for c in doc["cadres"]:
        texts |= {c["cadre_id"], c["full_name"], *(x["reason"] for x in c["exemptions"])}
        texts |= {label.partition(" ")[2] if table else label for label in c["cites"]}
        if labels:
            texts |= {*c["warnings"], c.get("outcome_label") or ""}
        if not table:
            texts |= {c["unit"], *c.get("extra", {}).values()}
        for v in c["venues"]:
            if v.get("band"):
                texts |= {*v["must"], *v["options"], v["cite"]}
                if labels:
                    texts.add(v["band_label"])
    texts.discard("")
    return texts


def _command(inputs: Inputs, command: str) -> tuple[str, ...]:
    args = ("plan", "--policy", str(inputs.policy), "--roster", str(inputs.roster))
    if command == "evaluate":
        args = ("evaluate", *args[1:], "--tallies", str(inputs.tallies))
    return args


@pytest.mark.parametrize("command", ["plan", "evaluate"])
def test_the_json_document_carries_every_text_verbatim(inputs: Inputs, command: str) -> None:
    doc = reference(*_command(inputs, command))
    header, rows = roster_rows()
    names = {r[0]: r[1] for r in rows}
    by_id = {c["cadre_id"]: c for c in doc["cadres"]}
    for cid, c in by_id.items():
        assert c["full_name"] == names[cid]
    assert by_id["TH09000"]["full_name"] == ISSUE_NAME and by_id[BRACKET_ID]["unit"] == "Sở Y tế" + SUFFIX
    assert by_id["TH00001"]["extra"] == {EXTRA: "ghi chú" + SUFFIX}
    assert by_id["TH00011"]["exemptions"][0]["reason"].endswith(SUFFIX)
    assert by_id["TH09001"]["warnings"][0].endswith(SUFFIX + ")")
    for bracket in BRACKETS:  # every rejected cell is quoted in its reason
        assert any(bracket in r["reason"] for r in doc["rejected"]), bracket
    assert doc["policy"]["title"].endswith(SUFFIX)
    if command == "evaluate":
        bands = [v for c in doc["cadres"] for v in c["venues"] if v.get("band")]
        assert {v["band"] for v in bands} == {"khong_qua_50", "tren_50", "tu_2_3"}
        assert all(v["band_label"].endswith(SUFFIX) and v["cite"].endswith(SUFFIX) for v in bands)
        assert all(t.endswith(SUFFIX) for v in bands for t in v["must"] + v["options"])
        assert by_id["TH00003"]["outcome_label"].endswith(SUFFIX)
    texts = document_texts(doc, "table")
    assert len(with_brackets(texts)) >= (25 if command == "plan" else 40)


@pytest.mark.parametrize("command", ["plan", "evaluate"])
def test_table_shows_every_text_verbatim(inputs: Inputs, command: str, tmp_path: Path) -> None:
    args = _command(inputs, command)
    doc = reference(*args)
    texts = document_texts(doc, "table")
    cells = texts - {doc["policy"]["title"]}  # the title heads the report; everything else is in a table
    for output, what in ((tinnhiem(*args).out, "table"), (with_output(tmp_path, *args), "table --output")):
        assert_shown(output, texts, f"{command} {what}")
        assert_shown(output, cells, f"{command} {what} cells", tables_only=True)


@pytest.mark.parametrize("command", ["plan", "evaluate"])
def test_csv_and_jsonl_carry_every_text_verbatim(inputs: Inputs, command: str, tmp_path: Path) -> None:
    args = _command(inputs, command)
    doc = reference(*args)
    out = tinnhiem(*args, "--format", "csv").out
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert EXTRA in cells
    assert_contained(cells, document_texts(doc, "csv"), f"{command} csv")
    lines = [json.loads(line) for line in tinnhiem(*args, "--format", "jsonl").out.splitlines()]
    assert_contained(leaves(lines), document_texts(doc, "jsonl"), f"{command} jsonl")
    assert with_output(tmp_path, *args, "--format", "csv") == out


# ---- explain ------------------------------------------------------------------------------------


def explain_texts(inputs: Inputs, cadre_id: str) -> set[str]:
    """What ``explain`` shows of a cadre: its name, unit, and each step of the evaluator's trace (its detail,
    citation label, document title and quote), from the evaluator itself."""
    _, rows = roster_rows()
    cid, name, level, unit, titles, notice, year, _ = next(r for r in rows if r[0] == cadre_id)
    facts: dict[str, bool | int] = {"retirement_notice": notice == "true", "appointed_year": int(year)}
    cadre = Cadre(cid, level, frozenset(t for t in titles.split(";") if t), facts, name, unit)
    tallies = {r[1]: Tally(r[1], *(int(x) for x in r[2:])) for r in tally_rows()[1] if r[0] == cadre_id}
    ev = compile_policy(load_policy(inputs.policy), YEAR)
    decision = ev.decide(cadre, tallies, ev.plan(cadre))
    texts = {name, unit}
    for step in decision.trace:
        texts.add(step.detail)
        if step.cite:
            texts |= {step.cite.label, step.cite.doc_title, step.cite.quote}
    return texts


@pytest.mark.parametrize("cadre_id", ["TH00003", "TH00011", "TH00139", "TH00554", BRACKET_ID, "TH09000"])
def test_explain_shows_every_text_verbatim(inputs: Inputs, cadre_id: str) -> None:
    texts = explain_texts(inputs, cadre_id)
    assert len(with_brackets(texts)) >= 4
    run = tinnhiem("explain", cadre_id, "--policy", str(inputs.policy), "--roster", str(inputs.roster),
                   "--tallies", str(inputs.tallies))
    assert_shown(run.out, texts, f"explain {cadre_id}")


# ---- test ---------------------------------------------------------------------------------------


def test_test_shows_every_example_verbatim(inputs: Inputs) -> None:
    pol = load_policy(inputs.policy)
    run = tinnhiem("test", str(inputs.policy))
    assert run.code == 0 and f"{len(pol.examples)} passed, 0 failed" in run.out
    assert_shown(run.out, [f"{ex.name} — {ex.label}" for ex in pol.examples], "test")


def test_test_shows_a_failing_example_and_its_trace_verbatim(inputs: Inputs) -> None:
    """In the amended copy, 50% is above the first band: the example at exactly 50% fails."""
    pol = load_policy(inputs.amended)
    ev = compile_policy(pol)
    failed = [(ex, r) for ex in pol.examples if not (r := run_example(ev, ex)).passed]
    assert [ex.name for ex, _ in failed] == ["p11_dung_50"]
    texts = {f"{ex.name} — {ex.label}" for ex in pol.examples}
    for _, result in failed:
        texts |= set(result.failures)
        texts |= {f"{s.kind} {s.rule}: {s.detail}" + (f" [{s.cite.label}]" if s.cite else "") for s in result.decision.trace}
    assert len(with_brackets(texts)) > len(pol.examples)
    run = tinnhiem("test", str(inputs.amended))
    assert run.code == 1 and f"{len(pol.examples) - 1} passed, 1 failed" in run.out
    assert_shown(run.out, texts, "test (a failure)")


# ---- check --------------------------------------------------------------------------------------


def check_cells(data: dict) -> set[str]:
    """The texts of the check report's tables: each counterexample's trace (its details and citations)."""
    texts = {t[k] or "" for rep in data["policies"] for p in rep["properties"] for f in p["findings"]
             for d in (f["counterexample"] or {"replay": {"decisions": []}})["replay"]["decisions"]
             for t in d["trace"] for k in ("detail", "cite")}
    texts.discard("")
    return texts


def check_texts(data: dict, fmt: str) -> set[str]:
    """The texts of a check report that format ``fmt`` shows."""
    texts = check_cells(data) if fmt == "text" else set()
    for rep in data["policies"]:
        texts.add(rep["policy"]["name"] if fmt == "text" else "")
        for p in rep["properties"]:
            if fmt in ("text", "sarif"):
                texts.add(p["title"])
            if p["status"] == "proved":
                continue
            texts.add(p["message"])
            ack = p["acknowledgement"]
            if ack is not None:
                texts.add(ack["reason"])
                if fmt == "text" and ack["cite"]:
                    texts.add(ack["cite"]["label"])
    texts.discard("")
    return texts


def test_check_reports_carry_every_text_verbatim(inputs: Inputs, tmp_path: Path) -> None:
    data = reference("check", str(inputs.policy))
    assert data["exit_code"] == 0
    rep = data["policies"][0]
    assert rep["policy"]["name"].endswith(SUFFIX)
    acknowledged = [p for p in rep["properties"] if p["status"] == "acknowledged"]
    assert len(acknowledged) == 2 and all(p["acknowledgement"]["reason"].endswith(SUFFIX) for p in acknowledged)
    assert all(p["title"].endswith(SUFFIX) for p in rep["properties"] if not p["id"].startswith("builtin."))
    assert len(with_brackets(check_texts(data, "text"))) >= 10 and len(with_brackets(check_cells(data))) >= 3

    run = tinnhiem("check", str(inputs.policy))
    assert run.code == 0
    for output, what in ((run.out, "text"), (with_output(tmp_path, "check", str(inputs.policy)), "text --output")):
        assert_shown(output, check_texts(data, "text"), f"check {what}")
        assert_shown(output, check_cells(data), f"check {what} cells", tables_only=True)
    for fmt in ("junit", "sarif"):
        out = tinnhiem("check", str(inputs.policy), "--format", fmt).out
        strings = xml_leaves(out) if fmt == "junit" else leaves(json.loads(out))
        assert_contained(strings, check_texts(data, fmt), f"check {fmt}")


# ---- diff ---------------------------------------------------------------------------------------


def diff_texts(data: dict) -> set[str]:
    texts = {n["text"] for n in data["notes"]}
    for d in data["differences"]:
        texts |= {d["subject"], d["old_value"], d["new_value"]}
        for side in (d["old"], d["new"]):
            for r in side["rules"]:
                texts |= {r["detail"], r["cite"] or "", r["quote"] or ""}
    texts.discard("")
    return texts


def test_diff_shows_every_text_verbatim(inputs: Inputs) -> None:
    args = ("diff", str(POLICY_DIR / POLICY), str(inputs.amended))
    data = reference(*args)
    assert data["differences"] and {d["kind"] for d in data["differences"]} >= {"band"}
    new_rules = [r for d in data["differences"] for r in d["new"]["rules"] if r["kind"] != "none"]
    assert new_rules and all(r["quote"].endswith(SUFFIX) for r in new_rules if r["quote"])
    assert len(with_brackets(diff_texts(data))) >= 3
    run = tinnhiem(*args)
    assert run.code == 1
    assert_shown(run.out, diff_texts(data), "diff text")


# ---- fuzz ---------------------------------------------------------------------------------------


def test_fuzz_runs_on_the_bracketed_policy(inputs: Inputs) -> None:
    run = tinnhiem("fuzz", "--policy", str(inputs.policy), "--examples", "30")
    assert run.code == 0 and run.out.startswith("✓ 30 inputs")
