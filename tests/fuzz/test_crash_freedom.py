"""Crash-freedom: garbage and near-valid input never ends in a traceback.

Takes generated policy text — sentences of the grammar (``from_lark`` on ``dsl/grammar.lark``, read
through :func:`dsl.parser.grammar_text`), byte-level edits of the bundled policies, invalid UTF-8,
huge numbers, deep nesting — and generated CSV — wrong columns, quotes, BOMs, line endings, empty
files, huge fields, NUL bytes, random bytes; asserts that loading raises nothing but
:class:`dsl.diagnostics.PolicyError`, and that the command line (``tinnhiem.cli.main``) never prints
a traceback nor exits 3: ``check`` exits 0, 1 or 2 (2 with a diagnostic ``file:line:col: error[…]``),
``plan``/``evaluate`` exit 0, 1 with rejected rows, or 2 with a diagnostic ``file:line: error: …``,
and then their JSON report reconciles (every tally row evaluated or rejected).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import policy as bundled
from dsl.diagnostics import PolicyError
from dsl.loader import load_policy
from dsl.parser import grammar_text
from tests.fuzz.budget import scaled
from tinnhiem.cli import main

QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
ROSTER = ("cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year\n"
          "C1,Nguyễn Văn An,province,Sở Tài chính,truong_so,false,2020\n"
          "C2,Trần Thị Bình,district,Huyện ủy,bi_thu;ct_hdnd,no,2021\n")
TALLIES = ("cadre_id,venue,issued,collected,high,confidence,low,convened,present\n"
           "C1,noi_cong_tac,20,20,5,5,10,30,20\n"
           "C2,cap_uy,9,9,1,2,6,,\n"
           "C2,hdnd,80,80,78,1,1,,\n")


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, err: str, allowed: tuple[int, ...], diagnostic: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in allowed, f"exit {code}\n{err}"
    if code == 2:
        assert diagnostic in err, f"exit 2 without a diagnostic:\n{err}"


# ---- policy text ----------------------------------------------------------------------------------


def _grammar_strategy() -> st.SearchStrategy[str]:
    """Sentences of the grammar, tokens separated by a space (so that they lex as generated)."""
    grammar = Lark(grammar_text(), parser="lalr", start="start")
    explicit: dict[str, st.SearchStrategy[str]] = {}
    for t in grammar.terminals:
        if t.name == "WS":
            continue
        if t.pattern.type == "str":
            explicit[t.name] = st.just(t.pattern.value + " ")
        elif t.name == "COMMENT":
            explicit[t.name] = st.from_regex(r"#[^\n]*", fullmatch=True).map(lambda s: s + "\n")
        else:
            explicit[t.name] = st.from_regex(t.pattern.to_regexp(), fullmatch=True).map(lambda s: s + " ")
    return from_lark(grammar, explicit=explicit)


def _load_or_diagnose(folder: Path, name: str, data: bytes) -> bool:
    """Write and load a policy: True if it loads, False on a PolicyError; anything else fails the test."""
    path = folder / name
    path.write_bytes(data)
    try:
        load_policy(path)
    except PolicyError as err:
        assert err.diagnostics and err.render()
        return False
    return True


@settings(max_examples=scaled(100), suppress_health_check=QUIET)
@given(_grammar_strategy())
def test_sentences_of_the_grammar_load_or_diagnose(text: str):
    with tempfile.TemporaryDirectory() as tmp:
        if _load_or_diagnose(Path(tmp), "generated.policy", text.encode("utf-8")):
            code, _, err = run_cli("check", str(Path(tmp, "generated.policy")))
            assert_clean(code, err, (0, 1, 2), "error[")


_INSERTS = [b"{", b"}", b"(", b")", b'"', b"\\", b"#", b"\n", b" ", b"0", b"99999999999999999999999", b"/", b"%", b".",
            b"and", b"not ", b"when", b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\x00", "đ".encode(), b"\r"]


@st.composite
def edited_policy(draw: st.DrawFn) -> tuple[str, bytes]:
    """A bundled policy with one to three byte-level edits (delete, insert, replace, duplicate)."""
    name = draw(st.sampled_from([p.name for p in bundled.all_paths()]))
    data = bytearray(bundled.path(name).read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(data)))
        match draw(st.sampled_from(("delete", "insert", "replace", "duplicate"))):
            case "delete":
                del data[i:i + draw(st.integers(1, 40))]
            case "insert":
                data[i:i] = draw(st.sampled_from(_INSERTS))
            case "replace":
                data[i:i + 1] = draw(st.sampled_from(_INSERTS))
            case _:
                data[i:i] = data[i:i + draw(st.integers(1, 80))]
    return name, bytes(data)


@settings(max_examples=scaled(40), suppress_health_check=QUIET)
@given(edited_policy())
def test_edited_bundled_policies_check_test_and_fmt_cleanly(edit: tuple[str, bytes]):
    name, data = edit
    with tempfile.TemporaryDirectory() as tmp:
        for p in bundled.all_paths():
            shutil.copy(p, Path(tmp, p.name))
        _load_or_diagnose(Path(tmp), name, data)
        target = str(Path(tmp, name))
        for argv, allowed in ((("check", target), (0, 1, 2)), (("fmt", "--check", target), (0, 1, 2)),
                              (("test", target), (0, 1, 2))):
            code, _, err = run_cli(*argv)
            assert_clean(code, err, allowed, "error")


BASE = (Path(__file__).resolve().parent.parent / "checker" / "good" / "quorum_issued.policy").read_text(encoding="utf-8")
NESTED = "when " + "not " * 45 + "(" * 20 + "retirement_notice" + ")" * 20


@pytest.mark.parametrize(("old", "new"), [
    ("when retirement_notice", "when " + "(" * 5000 + "retirement_notice" + ")" * 5000),
    ("when retirement_notice", "when " + "not " * 5000 + "retirement_notice"),
    ("when retirement_notice", "when " + " and ".join(["retirement_notice"] * 2000)),
    ("exempt nghi_huu when retirement_notice", "define d0 = retirement_notice\n"
     + "".join(f"define d{i} = not d{i - 1}\n" for i in range(1, 400)) + "exempt nghi_huu when d399"),
    ("max_venues 2", "max_venues 99999999999999999999999999999"),
    ("max_venues 2", "max_venues 0"),
    ("vote_year 2023", "vote_year 99999999999999999999999999"),
    ("share <= 1/2", "share <= 1/99999999999999999999999999999"),
    ("share <= 1/2", "share <= 99999999999999999999999999998/99999999999999999999999999999"),
    ("share <= 1/2", "share <= 99999999999999999999999999999.5%"),
    ("share <= 1/2", "share <= 0." + "0" * 5000 + "1"),
    ("share <= 1/2", "share <= 1/0"),
    ("severity 0", "severity 999999999999999999999999999999999"),
    ("date    2023-01-01", "date    9999-99-99"),
    ("present > 1/2 of convened", "present > 1/99999999999999999999999999 of convened"),
    ("when retirement_notice", "when appointed_year > 99999999999999999999999999999999999"),
    ("when retirement_notice", "when " + "9" * 5000 + " < appointed_year"),
    ("when retirement_notice", NESTED),
], ids=lambda x: x[:30])
def test_huge_numbers_and_deep_nesting(old: str, new: str):
    assert old in BASE
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "edge.policy")
        path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
        loads = _load_or_diagnose(Path(tmp), "edge.policy", path.read_bytes())
        for argv in (("check", str(path)), ("fmt", "--check", str(path)), ("test", str(path))):
            code, _, err = run_cli(*argv)
            assert_clean(code, err, (0, 1, 2), "error")
        if new == NESTED:  # just under the nesting limit: everything works, the encoding and the evaluator too
            assert loads
            r = Path(tmp, "r.csv")
            r.write_text(ROSTER.replace("truong_so", "gd_so").replace("bi_thu;ct_hdnd", "bi_thu"), encoding="utf-8")
            code, _, err = run_cli("plan", "--policy", str(path), "--roster", str(r), "--format", "json")
            assert_clean(code, err, (0,), "error")
            from checker.fuzz import run_fuzz

            report = run_fuzz(load_policy(path), 30, seed=1)
            assert report.failure is None


@settings(max_examples=scaled(30), suppress_health_check=QUIET)
@given(st.binary(max_size=300), st.integers(0, 3))
def test_invalid_utf8_is_e002(garbage: bytes, where: int):
    data = bundled.path("qd96.policy").read_bytes()
    at = len(data) * where // 4
    bad = data[:at] + b"\xff" + garbage + data[at:]
    with tempfile.TemporaryDirectory() as tmp:
        assert not _load_or_diagnose(Path(tmp), "bad.policy", bad)
        code, _, err = run_cli("check", str(Path(tmp, "bad.policy")))
        assert_clean(code, err, (2,), "error[")


# ---- CSV -------------------------------------------------------------------------------------------------

_CELLS = ["", "C1", "C2", "C9", "province", "district", "provinc", "truong_so", "bi_thu;ct_hdnd", "bi_thu;;", "truong_sö",
          "true", "false", "yes", "có", "maybe", "2020", "2023", "1899", "-1", "0", "10", "40", "9" * 30, "1e3", "1_0", "١٠",
          "+5", " 7 ", '"', '""', '"a,b"', "a,b", "\x00", "\ufeff", "\r", "\n", "ℌ", "x" * 3000, "=cmd()", "noi_cong_tac",
          "cap_uy", "hdnd", "venue"]
_ROSTER_COLS = ["cadre_id", "full_name", "level", "unit", "titles", "retirement_notice", "appointed_year"]
_TALLY_COLS = ["cadre_id", "venue", "issued", "collected", "high", "confidence", "low", "convened", "present"]


@st.composite
def csv_bytes(draw: st.DrawFn, columns: list[str]) -> bytes:
    """Near-valid or broken CSV: a header (right, shuffled, missing or extra columns), rows of cells
    from a nasty pool, odd separators and line endings, a BOM, or random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=400))
    cols = list(columns)
    match draw(st.integers(0, 4)):
        case 0:
            cols = draw(st.permutations(cols))
        case 1:
            cols.pop(draw(st.integers(0, len(cols) - 1)))
        case 2:
            cols.append(draw(st.sampled_from(["ghi_chu", "cadre_id", "", "level "])))
        case _:
            pass
    sep = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [sep.join(cols)] if draw(st.integers(0, 9)) else []
    for _ in range(draw(st.integers(0, 6))):
        n = draw(st.sampled_from([len(cols), len(cols), len(cols) - 1, len(cols) + 1, 1]))
        lines.append(sep.join(draw(st.sampled_from(_CELLS)) for _ in range(max(n, 0))))
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    data = text.encode("utf-8")
    match draw(st.integers(0, 5)):
        case 0:
            data = b"\xef\xbb\xbf" + data
        case 1:
            data = text.encode("utf-16")
        case 2 if data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + draw(st.sampled_from([b"\xff", b"\x00", b"\xc3", b'"'])) + data[i:]
        case _:
            pass
    return data


def _check_report(path: Path, tally_file: bool) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    s = doc["summary"]
    assert s["rows_read"] == s["rows_evaluated"] + s["rows_rejected"]
    files = {r["file"] for r in doc["rejected"]}
    assert all(isinstance(r["line"], int) and r["line"] >= 2 for r in doc["rejected"])
    if not tally_file:
        assert len(doc["cadres"]) + s["roster_rejected"] == s["roster_rows"], s
    assert files <= {str(path.parent / "roster.csv"), str(path.parent / "tallies.csv")}, files


@settings(max_examples=scaled(80), suppress_health_check=QUIET)
@given(csv_bytes(_ROSTER_COLS), csv_bytes(_TALLY_COLS), st.integers(0, 2))
def test_malformed_csv_is_rejected_or_diagnosed(roster: bytes, tallies: bytes, which: int):
    with tempfile.TemporaryDirectory() as tmp:
        r, t, out = Path(tmp, "roster.csv"), Path(tmp, "tallies.csv"), Path(tmp, "out.json")
        # which: 0 both generated, 1 a good roster with generated tallies, 2 a generated roster with good tallies
        r.write_bytes(ROSTER.encode() if which == 1 else roster)
        t.write_bytes(TALLIES.encode() if which == 2 else tallies)
        code, _, err = run_cli("plan", "--roster", str(r), "--format", "json", "--output", str(out))
        assert_clean(code, err, (0, 1, 2), ": error: ")
        if code in (0, 1):
            _check_report(out, False)
        code, _, err = run_cli("evaluate", "--roster", str(r), "--tallies", str(t), "--format", "json", "--output", str(out))
        assert_clean(code, err, (0, 1, 2), ": error: ")
        if code in (0, 1):
            _check_report(out, True)


@pytest.mark.parametrize("case", ["empty", "bom only", "header only", "huge field", "nul", "utf16", "cr only", "many fields",
                                  "huge count", "5000 digits"])
def test_named_csv_edge_cases(case: str):
    header = ",".join(_TALLY_COLS) + "\n"
    data = {
        "empty": b"", "bom only": b"\xef\xbb\xbf", "header only": header.encode(),
        "huge field": (header + "C1,noi_cong_tac," + "1" * (20 << 20) + ",1,0,0,1,,\n").encode(),
        "nul": (header + "C1,noi_cong_tac\x00,1,1,0,0,1,,\n").encode(), "utf16": TALLIES.encode("utf-16"),
        "cr only": TALLIES.replace("\n", "\r").encode(), "many fields": (header + "C1" + ",x" * 200_000 + "\n").encode(),
        "huge count": (header + "C1,noi_cong_tac," + "9" * 4000 + ",40,10,10,20,,\n").encode(),
        "5000 digits": (header + "C1,noi_cong_tac," + "9" * 5000 + ",40,10,10,20,,\n").encode(),
    }[case]
    with tempfile.TemporaryDirectory() as tmp:
        r, t = Path(tmp, "roster.csv"), Path(tmp, "tallies.csv")
        r.write_text(ROSTER, encoding="utf-8")
        t.write_bytes(data)
        code, _, err = run_cli("evaluate", "--roster", str(r), "--tallies", str(t), "--format", "json", "--output", str(Path(tmp, "o.json")))
        assert_clean(code, err, (0, 1, 2), ": error: ")
        r.write_bytes(data.replace(header.encode(), ",".join(_ROSTER_COLS).encode() + b"\n"))
        code, _, err = run_cli("plan", "--roster", str(r), "--format", "json", "--output", str(Path(tmp, "o.json")))
        assert_clean(code, err, (0, 1, 2), ": error: ")


def test_a_fixed_sample_of_random_bytes():
    rng = random.Random(134)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(20):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
            assert not _load_or_diagnose(Path(tmp), f"r{i}.policy", data), f"random bytes loaded as a policy: {data!r}"
            code, _, err = run_cli("check", str(Path(tmp, f"r{i}.policy")))
            assert_clean(code, err, (2,), "error[")
