"""All three levels reported: each level's count, exact share of the base and percentage, per venue.

Takes the sample data of ``examples/`` (the real Thanh Hóa tally of Đỗ Trọng Hưng, TH00004: 78 / 1 / 1
of 80 ballots), the tricky rows of ``tests/cli/test_streaming.py`` and a copy of the bundled policies
whose council counts over all its members; runs ``tinnhiem evaluate`` / ``plan`` in process and checks
that the CSV has the appended columns after the brief's (whose places are fixed: brief §3) and before
the roster's extra columns, that every row has every cell, that shares and percentages are right
(two decimals, half up; ``97,5%`` as the official texts write them, ``1.25%`` in ``percent``), that the
CSV says what the JSON says, and that the table shows each level as ``N (x,xx%)``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from bench import handwritten
from tests.cli.test_streaming import ROSTER, TALLIES
from tests.conftest import EXAMPLES_DIR, POLICY_DIR
from tinnhiem import cadre_output, report
from tinnhiem.cli import main

#: The columns of the brief, section 3: never renamed or reordered.
BRIEF_COLUMNS = ["cadre_id", "full_name", "level", "unit", "titles", "status", "exemptions", "venue", "issued", "collected",
                 "low", "low_share", "percent", "band", "consequences", "outcome", "cites", "file", "line", "reason"]
#: Appended after them: each level over the venue's base.
LEVEL_COLUMNS = ["members", "base", "base_count", "high", "confidence", "high_share", "confidence_share",
                 "high_percent", "confidence_percent", "low_percent"]
LEVELS = ("high", "confidence", "low")


def _run(capsys, tmp_path: Path, fmt: str, *argv: str) -> tuple[int, str]:
    out = tmp_path / f"out.{fmt}"
    code = main([*argv, "--format", fmt, "--output", str(out)])
    capsys.readouterr()
    return code, out.read_text(encoding="utf-8")


def _csv(capsys, tmp_path: Path, *argv: str) -> tuple[list[str], list[dict[str, str]], list[list[str]]]:
    _, text = _run(capsys, tmp_path, "csv", *argv)
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, [dict(zip(header, r, strict=True)) for r in rows], rows


def _evaluate(roster: str | Path, tallies: str | Path, *more: str) -> tuple[str, ...]:
    return ("evaluate", "--roster", str(roster), "--tallies", str(tallies), *more)


def _tricky(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "r.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "t.csv").write_text(TALLIES, encoding="utf-8")
    return tmp_path / "r.csv", tmp_path / "t.csv"


def _over_members(tmp_path: Path) -> Path:
    """The bundled policies, with the council's bands counted over all its members (Resolution 96)."""
    folder = tmp_path / "policy"
    folder.mkdir()
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, folder / p.name)
    nq = folder / "nq96-qh15.policy"
    nq.write_text(nq.read_text(encoding="utf-8").replace("bands bands_hdnd {", "bands bands_hdnd over members {"), encoding="utf-8")
    return folder / "thanhhoa-kh134.policy"


# ---- the columns ------------------------------------------------------------------------------------


def test_the_brief_columns_keep_their_places_and_the_new_ones_follow_reason():
    assert list(report.CSV_COLUMNS[:20]) == BRIEF_COLUMNS
    assert list(report.CSV_COLUMNS[20:]) == LEVEL_COLUMNS
    assert report.csv_header(["ghi_chu"]) == BRIEF_COLUMNS + LEVEL_COLUMNS + ["ghi_chu"]
    assert handwritten.COLUMNS == BRIEF_COLUMNS + LEVEL_COLUMNS


@pytest.mark.parametrize("command", ["evaluate", "plan"])
def test_every_row_of_every_shape_has_every_cell_and_extras_come_last(tmp_path, capsys, command):
    """Decided venues, a missing tally, a cadre without venue, plan rows, rejected rows: all as wide as
    the header, the roster's extra column last."""
    roster, tallies = _tricky(tmp_path)
    argv = _evaluate(roster, tallies) if command == "evaluate" else ("plan", "--roster", str(roster))
    header, by_name, rows = _csv(capsys, tmp_path, *argv)
    # evaluate with the bundled plan, whose council has a second stage: the procedure's columns come
    # after the levels and before the roster's extra columns
    procedure = list(cadre_output.STAGE_COLUMNS) if command == "evaluate" else []
    assert header == BRIEF_COLUMNS + LEVEL_COLUMNS + procedure + ["ghi_chu"]
    assert all(len(r) == len(header) for r in rows)
    statuses = {r["status"] for r in by_name}
    assert {"voted", "exempt", "out_of_scope", "rejected"} <= statuses
    assert by_name[0]["cadre_id"] == "C1" and by_name[0]["ghi_chu"] == "'-ghi chú"  # formula-safe, still last
    for r in by_name:
        if command == "plan" or r["status"] != "voted" or r["band"] == "missing_tally":
            assert all(r[c] == "" for c in LEVEL_COLUMNS), r  # no tally: nothing to count
    if command == "evaluate":
        missing = [r for r in by_name if r["band"] == "missing_tally"]
        assert {r["cadre_id"] for r in missing} == {"C7", "C8"}


# ---- the figures ------------------------------------------------------------------------------------


def test_the_thanh_hoa_tally_of_do_trong_hung(tmp_path, capsys):
    """TH00004 at the council: 78 / 1 / 1 of 80 ballots collected."""
    header, rows, _ = _csv(capsys, tmp_path, *_evaluate(EXAMPLES_DIR / "roster.csv", EXAMPLES_DIR / "tallies.csv"))
    (row,) = [r for r in rows if r["cadre_id"] == "TH00004"]
    assert {c: row[c] for c in ("venue", "issued", "collected", "low", "low_share", "percent", "band")} == {
        "venue": "hdnd", "issued": "80", "collected": "80", "low": "1", "low_share": "1/80", "percent": "1.25%",
        "band": "khong_qua_50"}
    assert {c: row[c] for c in LEVEL_COLUMNS} == {
        "members": "", "base": "collected", "base_count": "80", "high": "78", "confidence": "1",
        "high_share": "39/40", "confidence_share": "1/80",
        "high_percent": "97,5%", "confidence_percent": "1,25%", "low_percent": "1,25%"}


def test_a_council_over_its_members(tmp_path, capsys):
    """Over 84 members the shares change (13/14, 1/84), and the two writers of the CSV still agree."""
    plan = _over_members(tmp_path)
    tallies = tmp_path / "t.csv"
    tallies.write_text("cadre_id,venue,issued,collected,high,confidence,low,convened,present,members\n"
                       "TH00003,cap_uy,52,52,45,2,5,52,52,\n"
                       "TH00003,hdnd,80,80,46,33,1,84,80,84\n"
                       "TH00004,hdnd,80,80,78,1,1,84,80,84\n", encoding="utf-8")
    argv = (*_evaluate(EXAMPLES_DIR / "roster.csv", tallies), "--policy", str(plan))
    _, rows, _ = _csv(capsys, tmp_path, *argv)
    by = {(r["cadre_id"], r["venue"]): r for r in rows if r["cadre_id"] in ("TH00003", "TH00004")}
    hung = by["TH00004", "hdnd"]
    assert (hung["members"], hung["base"], hung["base_count"]) == ("84", "members", "84")
    assert (hung["low_share"], hung["percent"]) == ("1/84", "1.19%")
    assert (hung["high_share"], hung["confidence_share"]) == ("13/14", "1/84")
    assert (hung["high_percent"], hung["confidence_percent"], hung["low_percent"]) == ("92,86%", "1,19%", "1,19%")
    party = by["TH00003", "cap_uy"]  # the Party committee still counts over ballots collected
    assert (party["members"], party["base"], party["base_count"], party["low_percent"]) == ("", "collected", "52", "9,62%")
    _assert_csv_says_what_json_says(capsys, tmp_path, argv)
    _assert_stream_is_the_document(tmp_path, capsys, argv)


@pytest.mark.parametrize(("share", "text"), [
    (Fraction(39, 40), "97,5%"), (Fraction(1, 80), "1,25%"), (Fraction(1), "100%"), (Fraction(0), "0%"),
    (Fraction(2, 3), "66,67%"), (Fraction(1, 3), "33,33%"), (Fraction(1, 8), "12,5%"), (Fraction(1, 10), "10%"),
    (Fraction(1, 160), "0,63%"),  # 0.625%: half up
    (Fraction(1, 1600), "0,06%"),  # 0.0625%
    (Fraction(1, 20000), "0,01%"),  # exactly half of a hundredth: up
    (Fraction(1, 20001), "0%"),  # just below half: down
    (Fraction(1999, 2000), "99,95%"), (Fraction(19999, 20000), "100%"),  # rounds up to a whole
    (Fraction(323, 485), "66,6%"),  # 66.598…%: two decimals, then the trailing zero dropped
])
def test_percentages_two_decimals_half_up_decimal_comma_no_trailing_zero(share, text):
    assert report.percent_vi(share) == text
    assert report.percent(share).rstrip("%") == f"{float(text.rstrip('%').replace(',', '.')):.2f}"  # the same number


def test_the_hand_written_percentages_agree_with_tinnhiem():
    for den in range(1, 161):
        for n in range(den + 1):
            f = Fraction(n, den)
            assert handwritten.percent_vi(n, den) == report.percent_vi(f), (n, den)
            assert handwritten.percent(n, den) == report.percent(f), (n, den)
            assert handwritten.share(n, den) == f"{f.numerator}/{f.denominator}"


# ---- csv, json and the streamed path agree -----------------------------------------------------------


def _venue_cells(v: dict[str, Any]) -> dict[str, str]:
    """What the CSV should say for one venue object of the JSON document."""
    if "shares" not in v:
        return dict.fromkeys(LEVEL_COLUMNS, "")
    cells = {"members": v["members"], "base": v["base"], "base_count": v["base_count"], "high": v["high"],
             "confidence": v["confidence"]}
    cells |= {f"{level}_share": v["shares"][level] for level in ("high", "confidence")}
    cells |= {f"{level}_percent": v["percents"][level] for level in LEVELS}
    return {k: "" if x is None else str(x) for k, x in cells.items()}


def _assert_csv_says_what_json_says(capsys, tmp_path: Path, argv: tuple[str, ...]) -> None:
    _, rows, _ = _csv(capsys, tmp_path, *argv)
    _, text = _run(capsys, tmp_path, "json", *argv)
    doc = json.loads(text)
    want = []
    for c in doc["cadres"]:
        later = [s for s in c.get("stages", ()) if s["status"] != "not_due"]  # a row per later vote due or counted
        for v in [*(c["venues"] or [{}]), *later]:
            old = {"low": v.get("low"), "low_share": v.get("low_share"), "percent": v.get("percent")}
            want.append((c["cadre_id"], v.get("venue", ""), {k: "" if x is None else str(x) for k, x in old.items()} | _venue_cells(v)))
            if v.get("shares"):  # the low share of counts_block is the share the band was found for
                assert v["shares"]["low"] == v["low_share"] and v["percents"]["low"] == report.percent_vi(Fraction(v["low_share"]))
    want += [(r["cadre_id"] or "", "", dict.fromkeys(["low", "low_share", "percent", *LEVEL_COLUMNS], "")) for r in doc["rejected"]]
    got = [(r["cadre_id"].lstrip("'"), r["venue"], {k: r[k] for k in ["low", "low_share", "percent", *LEVEL_COLUMNS]})
           for r in rows]
    assert got == want


def _assert_stream_is_the_document(tmp_path: Path, capsys, argv: tuple[str, ...]) -> None:
    """``--format csv`` (streamed row by row) writes what :func:`report.to_csv` writes from the JSON document."""
    _, streamed = _run(capsys, tmp_path, "csv", *argv)
    _, text = _run(capsys, tmp_path, "json", *argv)
    header = next(csv.reader(io.StringIO(streamed)))
    stages = header[len(report.CSV_COLUMNS):len(report.CSV_COLUMNS) + 3] == list(cadre_output.STAGE_COLUMNS)
    extra = header[len(report.CSV_COLUMNS) + (3 if stages else 0):]  # the roster's extra columns
    assert streamed == report.to_csv(json.loads(text), extra)


@pytest.mark.parametrize("case", ["examples", "bad examples", "tricky"])
def test_csv_says_what_json_says(tmp_path, capsys, case):
    if case == "tricky":
        argv = _evaluate(*_tricky(tmp_path))
    else:
        prefix = "bad_" if case == "bad examples" else ""
        argv = _evaluate(EXAMPLES_DIR / f"{prefix}roster.csv", EXAMPLES_DIR / f"{prefix}tallies.csv")
    _assert_csv_says_what_json_says(capsys, tmp_path, argv)
    _assert_stream_is_the_document(tmp_path, capsys, argv)


# ---- the table --------------------------------------------------------------------------------------


def test_the_table_shows_each_level_beside_its_venue(tmp_path, capsys):
    _, text = _run(capsys, tmp_path, "table", *_evaluate(EXAMPLES_DIR / "roster.csv", EXAMPLES_DIR / "tallies.csv"))
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if " TH00004 " in line)
    block = lines[start:start + 4]
    assert "1/80 = 1,25%" in block[0] and " hdnd " in block[0] and "khong_qua_50" in block[0]
    assert "cao 78 (97,5%)" in block[1] and "Đỗ Trọng Hưng" in block[1]
    assert "tín nhiệm 1 (1,25%)" in block[2] and "thấp 1 (1,25%)" in block[3]
    assert "1.25%" not in text  # the table is for people: the official form only
    # TH00003: a row per venue, so the council's figures sit on the council's line
    start = next(i for i, line in enumerate(lines) if " TH00003 " in line)
    assert " cap_uy " in lines[start] and "5/52 = 9,62%" in lines[start]
    council = next(line for line in lines[start + 1:] if " hdnd " in line)
    assert "1/80 = 1,25%" in council and "khong_qua_50" in council
    assert "cao 46 (57,5%)" in text and "tín nhiệm 33 (41,25%)" in text
