"""End-to-end tests of the command line: exit codes, rejected rows, JSON shape, determinism.

Takes small rosters and tallies written into a temporary folder; runs ``tinnhiem.cli.main`` in
process (and ``python -m tinnhiem`` once in a subprocess); checks what a user of section 3 of the
brief relies on.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POLICY_DIR, ROOT
from tinnhiem.cli import main

ROSTER_HEADER = "cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year,ghi_chu\n"
GOOD_ROSTER = ROSTER_HEADER + (
    "C1,Nguyễn Văn An,province,Sở Tài chính,truong_so,false,2020,\n"
    "C2,Trần Thị Bình,district,Huyện ủy Nga Sơn,bi_thu;ct_hdnd,no,2021,kiêm nhiệm\n"
    "C3,Lê Văn Cường,province,Văn phòng Tỉnh ủy,pho_ban_dang,true,2019,\n"
    "C4,Phạm Thị Dung,district,Phòng Nội vụ,pho_so,0,2018,\n"
    "C5,Hoàng Văn Em,province,UBND tỉnh,pct_ubnd,false,2023,\n"
)
TALLY_HEADER = "cadre_id,venue,issued,collected,high,confidence,low,convened,present\n"


def write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, *argv, "--format", "json")
    return code, json.loads(out)


# ---- plan ----------------------------------------------------------------------------------------


def test_plan_clean_roster_exits_0_with_statuses_and_ordered_venues(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    code, doc = run_json(capsys, "plan", "--roster", roster)
    assert code == 0
    by = {c["cadre_id"]: c for c in doc["cadres"]}
    assert by["C1"]["status"] == "voted" and [v["venue"] for v in by["C1"]["venues"]] == ["noi_cong_tac"]
    assert [v["venue"] for v in by["C2"]["venues"]] == ["cap_uy", "hdnd"]  # P6, in P5's order
    assert by["C3"]["status"] == "exempt" and by["C3"]["venues"] == []
    assert by["C3"]["exemptions"][0]["cite"] == "KH134 P7"
    assert by["C4"]["status"] == "out_of_scope" and by["C4"]["outcome"] is None
    assert by["C5"]["status"] == "exempt"  # appointed in the vote year
    assert by["C2"]["extra"] == {"ghi_chu": "kiêm nhiệm"}
    assert doc["summary"]["rows_read"] == 5 == doc["summary"]["rows_evaluated"] + doc["summary"]["rows_rejected"]


def test_plan_year_option_changes_the_exemption(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    _, doc = run_json(capsys, "plan", "--roster", roster, "--year", "2024")
    by = {c["cadre_id"]: c for c in doc["cadres"]}
    assert doc["year"] == 2024 and by["C5"]["status"] == "voted"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("X1,A,province,U,pho_bi_thuu,false,2020,", "did you mean 'pho_bi_thu'"),
        ('X1,A,province,U,"bi_thu,ct_hdnd",false,2020,', "separate title codes with ';'"),
        ("X1,A,provence,U,bi_thu,false,2020,", "unknown level 'provence'"),
        ("X1,A,province,U,bi_thu,maybe,2020,", "retirement_notice must be true or false"),
        ("X1,A,province,U,bi_thu,false,năm 2020,", "appointed_year must be a whole number"),
        (",A,province,U,bi_thu,false,2020,", "cadre_id is empty"),
        ("C1,A,province,U,bi_thu,false,2020,", "already appears on line 2"),
        ("X1,A,province,U,bi_thu,false", "the row has 6 fields"),
    ],
)
def test_plan_rejects_each_kind_of_bad_roster_row_at_its_line(tmp_path, capsys, row, reason):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER + row + "\n")
    code, doc = run_json(capsys, "plan", "--roster", roster)
    assert code == 1
    assert len(doc["rejected"]) == 1
    rej = doc["rejected"][0]
    assert rej["line"] == 7 and rej["file"] == roster and reason in rej["reason"]
    assert len(doc["cadres"]) == 5  # the other rows are still planned
    s = doc["summary"]
    assert s["rows_read"] == 6 == s["rows_evaluated"] + s["rows_rejected"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"cadre_id,name,level\nA,b,c\n", b"missing columns"),
        (b"", b"is empty"),
        (ROSTER_HEADER.encode() + b"C1,\xff\xfe,province,U,bi_thu,false,2020,\n", b"not UTF-8"),
        (ROSTER_HEADER.encode() + b"C1,A\x00,province,U,bi_thu,false,2020,\n", b"NUL"),
        (ROSTER_HEADER.encode() + b'C1,"A,province,U,bi_thu,false,2020,\n', b"not valid CSV"),
    ],
)
def test_unusable_roster_exits_2_with_a_diagnostic(tmp_path, capsys, content, message):
    p = tmp_path / "r.csv"
    p.write_bytes(content)
    code, out, err = run(capsys, "plan", "--roster", str(p))
    assert code == 2
    assert message.decode() in err and str(p) in err


def test_missing_roster_file_and_bad_year_exit_2(tmp_path, capsys):
    assert run(capsys, "plan", "--roster", str(tmp_path / "nope.csv"))[0] == 2
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    code, _, err = run(capsys, "plan", "--roster", roster, "--year", "20x")
    assert code == 2 and "--year" in err
    assert run(capsys, "plan")[0] == 2  # usage error


def test_empty_appointment_year_is_kept_with_a_warning(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER + "X1,A,province,U,bi_thu,false,,\n")
    code, doc = run_json(capsys, "plan", "--roster", roster)
    x1 = {c["cadre_id"]: c for c in doc["cadres"]}["X1"]
    assert code == 0 and x1["status"] == "voted"
    assert "appointed_year is empty" in x1["warnings"][0]


def test_bom_is_accepted(tmp_path, capsys):
    p = tmp_path / "r.csv"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD_ROSTER.encode())
    code, doc = run_json(capsys, "plan", "--roster", str(p))
    assert code == 0 and len(doc["cadres"]) == 5


def test_policy_with_a_typo_gives_a_located_diagnostic_and_exit_2(tmp_path, capsys):
    for f in POLICY_DIR.glob("*.policy"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    pol = tmp_path / "thanhhoa-kh134.policy"
    text = pol.read_text(encoding="utf-8").replace("at district: bi_thu, pho_bi_thu", "at district: bi_thu, pho_bi_thuu")
    pol.write_text(text, encoding="utf-8")
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    code, _, err = run(capsys, "plan", "--roster", roster, "--policy", str(pol))
    assert code == 2
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "pho_bi_thuu" in t)
    col = text.splitlines()[line - 1].index("pho_bi_thuu") + 1
    assert f"thanhhoa-kh134.policy:{line}:{col}: error[E203]: unknown title 'pho_bi_thuu'" in err
    assert "^^^^^^^^^^^" in err and "help: did you mean 'pho_bi_thu'?" in err


# ---- evaluate -----------------------------------------------------------------------------------------

GOOD_TALLIES = TALLY_HEADER + (
    "C1,noi_cong_tac,48,47,10,12,25,50,48\n"  # 25/47 > 1/2, < 2/3 → tren_50
    "C2,cap_uy,9,9,1,2,6,,\n"  # exactly 2/3 → tu_2_3
    "C2,hdnd,80,80,78,1,1,80,80\n"
)


def test_evaluate_bands_outcomes_and_shape(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    tallies = write(tmp_path, "t.csv", GOOD_TALLIES)
    code, doc = run_json(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    assert code == 0
    assert set(doc) >= {"policy", "inputs", "year", "cadres", "rejected", "summary"}
    assert doc["policy"]["sha256"] and len(doc["policy"]["sha256"]) == 64
    assert doc["inputs"]["roster_sha256"] == hashlib.sha256(Path(roster).read_bytes()).hexdigest()
    assert doc["inputs"]["tallies_sha256"] == hashlib.sha256(Path(tallies).read_bytes()).hexdigest()
    by = {c["cadre_id"]: c for c in doc["cadres"]}
    v = by["C1"]["venues"][0]
    assert (v["venue"], v["collected"], v["low"], v["low_share"], v["band"]) == ("noi_cong_tac", 47, 25, "25/47", "tren_50")
    assert by["C1"]["outcome"] == "tren_50" and "Đưa ra khỏi quy hoạch các chức vụ cao hơn" in v["consequences"]
    c2 = {x["venue"]: x for x in by["C2"]["venues"]}
    assert c2["cap_uy"]["low_share"] == "2/3" and c2["cap_uy"]["band"] == "tu_2_3"
    assert c2["hdnd"]["band"] == "khong_qua_50" and c2["hdnd"]["cite"].startswith("NQ96")
    assert by["C2"]["outcome"] == "xem_xet_tong_the"
    for cid in ("C3", "C4", "C5"):
        assert by[cid]["outcome"] is None and by[cid]["venues"] == []
    s = doc["summary"]
    assert (s["rows_read"], s["rows_evaluated"], s["rows_rejected"]) == (3, 3, 0)


def test_missing_tally_and_invalid_session(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    tallies = write(tmp_path, "t.csv", TALLY_HEADER + "C2,cap_uy,9,9,1,2,6,45,29\n")
    code, doc = run_json(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    by = {c["cadre_id"]: c for c in doc["cadres"]}
    assert code == 0
    assert by["C1"]["outcome"] == "missing_tally"
    assert by["C2"]["outcome"] == "missing_tally"  # hdnd has no tally
    tallies = write(tmp_path, "t2.csv", TALLY_HEADER + "C1,noi_cong_tac,29,29,24,5,0,45,29\n")
    _, doc = run_json(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    by = {c["cadre_id"]: c for c in doc["cadres"]}
    assert by["C1"]["outcome"] == "invalid_session"  # 29 of 45 present < 2/3
    tallies = write(tmp_path, "t3.csv", TALLY_HEADER + "C1,noi_cong_tac,30,30,25,5,0,45,30\n")
    _, doc = run_json(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    assert {c["cadre_id"]: c for c in doc["cadres"]}["C1"]["outcome"] == "khong_qua_50"  # exactly 2/3 present


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("C1,noi_cong_tac,50,47,10,12,-1,,", "must not be negative"),
        ("C1,noi_cong_tac,50,47,10,12,x,,", "low must be a whole number"),
        ("C1,noi_cong_tac,50,47,20,20,20,,", "high + confidence + low (60) is more than collected (47) — QD96 Điều 6"),
        ("C1,noi_cong_tac,40,47,10,12,20,,", "collected (47) is more than issued (40)"),
        ("C1,noi_cong_tac,50,47,10,12,20,40,41", "present (41) is more than convened (40)"),
        ("C1,noi_cong_tac,50,47,10,12,20,40,", "give both or neither"),
        ("C1,noi_cong_tac,0,0,0,0,0,,", "share of low votes is undefined"),
        ("C9,noi_cong_tac,50,47,10,12,20,,", "not in the roster"),
        ("C3,noi_cong_tac,50,47,10,12,20,,", "is exempt"),
        ("C4,noi_cong_tac,50,47,10,12,20,,", "is out of scope"),
        ("C1,cap_uy,50,47,10,12,20,,", "not voted at 'cap_uy' (planned: noi_cong_tac)"),
        ("C1,noi_cong_tac_,50,47,10,12,20,,", "did you mean 'noi_cong_tac'"),
        ("C1,noi_cong_tac,50,47,10,12,25,,", "already appears on line 2"),
    ],
)
def test_evaluate_rejects_each_kind_of_bad_tally_row(tmp_path, capsys, row, reason):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    tallies = write(tmp_path, "t.csv", GOOD_TALLIES + row + "\n")
    code, doc = run_json(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    assert code == 1
    assert [(r["file"], r["line"]) for r in doc["rejected"]] == [(tallies, 5)]
    assert reason in doc["rejected"][0]["reason"]
    s = doc["summary"]
    assert s["rows_read"] == 4 and s["rows_evaluated"] == 3 and s["rows_rejected"] == 1
    assert {c["cadre_id"]: c for c in doc["cadres"]}["C1"]["outcome"] == "tren_50"  # the first row stands


def test_tally_of_a_rejected_roster_row_is_rejected_with_that_reason(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER + "C9,A,province,U,bi_thuu,false,2020,\n")
    tallies = write(tmp_path, "t.csv", GOOD_TALLIES + "C9,cap_uy,9,9,1,2,6,,\n")
    code, doc = run_json(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    assert code == 1
    reasons = [r["reason"] for r in doc["rejected"]]
    assert any("was rejected in the roster (line 7)" in r for r in reasons)
    assert doc["summary"]["roster_rejected"] == 1


def test_output_is_deterministic_and_csv_is_formula_safe(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER.replace("Sở Tài chính", "=HYPERLINK(\"http://x\")"))
    tallies = write(tmp_path, "t.csv", GOOD_TALLIES)
    outs = []
    for i in range(2):
        out = tmp_path / f"out{i}.json"
        assert main(["evaluate", "--roster", roster, "--tallies", tallies, "--format", "json", "--output", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    csv_out = tmp_path / "out.csv"
    assert main(["evaluate", "--roster", roster, "--tallies", tallies, "--format", "csv", "--output", str(csv_out)]) == 0
    text = csv_out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    capsys.readouterr()


def test_table_report_shows_fraction_percentage_band_and_vietnamese_consequence(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    tallies = write(tmp_path, "t.csv", GOOD_TALLIES)
    code, out, _ = run(capsys, "evaluate", "--roster", roster, "--tallies", tallies)
    assert code == 0
    assert "25/47 = 53,19%" in out and "tren_50" in out  # the official form: a decimal comma and "Đưa ra khỏi quy hoạch" in out
    assert "xem_xet_tong_the" in out and "Tổng hợp" in out


# ---- explain ----------------------------------------------------------------------------------------


def test_explain_prints_the_trace_with_citations(tmp_path, capsys):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    tallies = write(tmp_path, "t.csv", GOOD_TALLIES)
    code, out, _ = run(capsys, "explain", "C2", "--roster", roster, "--tallies", tallies)
    assert code == 0
    assert "p6" in out and "overridden" in out and "KH134 P6" in out and "KH134 P4" in out
    assert "outcome: xem_xet_tong_the" in out
    code, _, err = run(capsys, "explain", "C22", "--roster", roster)
    assert code == 2 and "did you mean" in err


def test_python_dash_m_runs_the_cli(tmp_path):
    roster = write(tmp_path, "r.csv", GOOD_ROSTER)
    proc = subprocess.run([sys.executable, "-m", "tinnhiem", "plan", "--roster", roster, "--format", "csv"],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("cadre_id,full_name,level")
    proc = subprocess.run([sys.executable, "-m", "tinnhiem", "plan", "--roster", str(tmp_path / "missing.csv")],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
