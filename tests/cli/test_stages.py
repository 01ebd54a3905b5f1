"""A procedure in two stages, end to end: the poll (lấy phiếu) and the vote of confidence (bỏ phiếu tín
nhiệm) of NQ 96 at the National Assembly (``policy/quoc-hoi-nq96.policy``, ``examples/quoc-hoi/``).

A person with 60% low confidence who does not resign, then 250 of 481 deputies voting no: two tally
rows, one policy, one decision with both stages' citations. A stage row that is not due, counts a level
its ballot lacks or names an unknown stage is rejected with its reason, and the counts reconcile.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tinnhiem.cli import main

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policy" / "quoc-hoi-nq96.policy"
ROSTER = ROOT / "examples" / "quoc-hoi" / "roster.csv"
TALLIES = ROOT / "examples" / "quoc-hoi" / "tallies.csv"
HEADER = "cadre_id,venue,issued,collected,high,confidence,low,members,stage\n"


def _run(capsys: pytest.CaptureFixture[str], fmt: str, tallies: Path = TALLIES) -> tuple[int, str]:
    code = main(["evaluate", "--policy", str(POLICY), "--roster", str(ROSTER), "--tallies", str(tallies), "--format", fmt])
    return code, capsys.readouterr().out


def test_two_stages_from_two_tally_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "json")
    assert code == 0
    doc = json.loads(out)
    by_id = {c["cadre_id"]: c for c in doc["cadres"]}
    an = by_id["QH001"]
    assert an["outcome"] == "tren_50" and an["venues"][0]["low_share"] == "289/481"
    stage = an["stages"][0]
    assert (stage["stage"], stage["status"], stage["after"], stage["band"]) == ("bo_phieu_tin_nhiem", "decided", "tren_50", "khong_tin_nhiem")
    assert (stage["base"], stage["base_count"], stage["low_share"], stage["percents"]["low"]) == ("members", 481, "250/481", "51,98%")
    assert an["next_stage"] is None and an["final"] == "khong_tin_nhiem"
    assert any("NQ96 bỏ phiếu tín nhiệm" in c for c in an["cites"]) and any("QH96 các mức" in c for c in an["cites"])
    # the option and what follows when it is not taken, in the text's order
    assert an["venues"][0]["consequences"][0] == "Người được lấy phiếu có thể xin từ chức"
    assert an["venues"][0]["consequences"][1].startswith("nếu không: Ủy ban Thường vụ Quốc hội trình Quốc hội bỏ phiếu tín nhiệm")
    assert [c["kind"] for c in an["venues"][0]["then"]] == ["may", "otherwise"]
    binh = by_id["QH002"]  # 60% low, no vote of confidence counted yet: it is the next step
    assert binh["stages"][0]["status"] == "due" and binh["next_stage"] == "bo_phieu_tin_nhiem" and binh["final"] is None
    chau = by_id["QH003"]  # 240 of 481: not more than half of all deputies (though more than half of 470 ballots)
    assert chau["outcome"] == "khong_qua_50" and chau["stages"][0]["status"] == "not_due" and chau["final"] == "khong_qua_50"
    s = doc["summary"]
    assert (s["rows_read"], s["rows_evaluated"], s["rows_rejected"]) == (5, 5, 0)


def test_the_csv_has_a_row_per_later_vote(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    an = [r for r in rows if r["cadre_id"] == "QH001"]
    assert [(r["stage"], r["band"], r["final"]) for r in an] == [("", "tren_50", "khong_tin_nhiem"),
                                                                  ("bo_phieu_tin_nhiem", "khong_tin_nhiem", "khong_tin_nhiem")]
    assert an[1]["low_share"] == "250/481" and an[1]["base"] == "members"
    assert [r["next_stage"] for r in rows if r["cadre_id"] == "QH002"] == ["bo_phieu_tin_nhiem"] * 2


@pytest.mark.parametrize(("row", "says"), [
    ("QH003,quoc_hoi,475,475,0,225,250,481,bo_phieu_tin_nhiem",
     "stage 'bo_phieu_tin_nhiem' is not due for 'QH003': it follows tren_50 at 'quoc_hoi', and the vote before it there decided khong_qua_50"),
    ("QH002,quoc_hoi,475,475,5,220,250,481,bo_phieu_tin_nhiem", "the ballot of stage 'bo_phieu_tin_nhiem' has no level 'high'"),
    ("QH002,quoc_hoi,475,475,0,225,250,481,bo_phieu_tin_nhem", "did you mean 'bo_phieu_tin_nhiem'?"),
    ("QH002,quoc_hoi,475,475,0,225,250,,bo_phieu_tin_nhiem", "over 'members'"),
])
def test_a_stage_row_that_cannot_count_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, says: str) -> None:
    tallies = tmp_path / "t.csv"
    tallies.write_text(TALLIES.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    code, out = _run(capsys, "json", tallies)
    doc = json.loads(out)
    assert code == 1
    assert [r["line"] for r in doc["rejected"]] == [7] and says in doc["rejected"][0]["reason"]
    s = doc["summary"]
    assert (s["rows_read"], s["rows_evaluated"], s["rows_rejected"]) == (6, 5, 1)


def test_explain_cites_both_stages(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "QH001", "--policy", str(POLICY), "--roster", str(ROSTER), "--tallies", str(TALLIES)])
    out = capsys.readouterr().out
    assert code == 0
    assert "[stage] bo_phieu_tin_nhiem" in out and "QH96 bỏ phiếu tín nhiệm" in out and "NQ96 bỏ phiếu tín nhiệm" in out
    assert "final: khong_tin_nhiem" in " ".join(out.split())


def test_the_bundled_plan_sends_the_council_s_middle_band_to_the_vote_of_confidence(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--roster", str(ROOT / "examples" / "roster.csv"), "--tallies", str(ROOT / "examples" / "tallies.csv"),
                 "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    due = [c for c in doc["cadres"] if c.get("next_stage") == "bo_phieu_tin_nhiem"]
    assert due and all(any(v["venue"] == "hdnd" and v["band"] == "tren_50" for v in c["venues"]) for c in due)
    assert all(c.get("next_stage") is None for c in doc["cadres"] if not any(v.get("band") == "tren_50" and v["venue"] == "hdnd"
                                                                              for v in c["venues"]))
