"""The bundled policies: ``check`` exits 0 with KH134's two acknowledged findings shown; a one-character
change to a threshold in a copy of the bundled plan makes ``check`` exit 1 with a counterexample at the
boundary."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction

import pytest

import policy as bundled
from tinnhiem.check_command import check_main


@pytest.fixture(scope="module")
def bundled_report() -> dict:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = check_main([], "json")
    data = json.loads(buf.getvalue())
    data["_code"] = code
    return data


def _props(data: dict, policy_id: str) -> dict[str, dict]:
    pol = next(p for p in data["policies"] if p["policy"]["id"] == policy_id)
    return {p["id"]: p for p in pol["properties"]}


def test_bundled_policies_check_clean(bundled_report):
    assert bundled_report["_code"] == 0
    assert bundled_report["exit_code"] == 0
    assert {p["policy"]["id"] for p in bundled_report["policies"]} == {"qd96", "nq96_qh15", "thanhhoa_kh134", "quoc_hoi_nq96"}
    for pol in bundled_report["policies"]:
        for p in pol["properties"]:
            assert p["status"] in ("proved", "acknowledged", "not_applicable"), (pol["policy"]["id"], p["id"], p["message"])


def test_kh134_acknowledged_findings(bundled_report):
    props = _props(bundled_report, "thanhhoa_kh134")
    acked = {k for k, p in props.items() if p["status"] == "acknowledged"}
    assert acked == {"hdnd_chi_lay_phieu_chuc_danh_do_hdnd_bau", "builtin.schedule_feasible"}
    # F1: a counterexample, replayed: a Standing Committee member heading a Party board is voted at the HĐND
    f1 = props["hdnd_chi_lay_phieu_chuc_danh_do_hdnd_bau"]
    (finding,) = f1["findings"]
    cx = finding["counterexample"]
    assert cx["replay"]["exhibits"]
    (row,) = cx["roster"]
    titles = set(row["titles"].split(";"))
    assert "truong_ban_dang" in titles and titles & {"bi_thu", "pho_bi_thu", "uv_btv"}
    assert "hdnd" in cx["replay"]["decisions"][0]["venues"]
    assert f1["acknowledgement"]["reason"].startswith("F1")
    # F3: no model, the unsat core names the phases in conflict
    f3 = props["builtin.schedule_feasible"]
    (finding,) = f3["findings"]
    assert finding["counterexample"] is None
    core = {(r["name"], r["detail"]) for r in finding["core"]}
    assert core == {("p8_i", "from 2023-10-01"), ("p8_ii", "after p8_i"), ("p8_ii", "by 2023-06-30")}
    assert all(r["cite"]["doc"] == "KH134" for r in finding["core"])


def test_kh134_proofs_cite_the_rules(bundled_report):
    props = _props(bundled_report, "thanhhoa_kh134")
    assert {r["name"] for r in props["builtin.max_venues"]["proved_from"]} == {"p5", "p6"}
    assert {r["name"] for r in props["builtin.no_conflict"]["proved_from"]} >= {"p5"}
    assert {r["cite"]["para"] for r in props["builtin.bands_cover"]["proved_from"]} >= {"P10", "P11", "P2, P12"}


MUTATIONS = [
    # (original, replacement, property refuted, the boundary share)
    ('when share >= 2/3 severity 2\n    must "Miễn nhiệm chức vụ đang đảm nhiệm"',
     'when share > 2/3 severity 2\n    must "Miễn nhiệm chức vụ đang đảm nhiệm"', "builtin.bands_cover", Fraction(2, 3)),
    ("when share > 50% and share < 2/3 severity 1", "when share >= 50% and share < 2/3 severity 1",
     "builtin.bands_disjoint", Fraction(1, 2)),
    ("when share > 50% and share < 2/3 severity 1", "when share > 50% and share < 3/5 severity 1", "builtin.bands_cover", None),
]


@pytest.mark.parametrize(("old", "new", "prop", "boundary"), MUTATIONS, ids=["tu_2_3 strict", "tren_50 from 1/2", "tren_50 to 3/5"])
def test_one_character_threshold_change_is_caught(tmp_path, capsys, old, new, prop, boundary):
    for p in bundled.all_paths():
        shutil.copy(p, tmp_path / p.name)
    target = tmp_path / "thanhhoa-kh134.policy"
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1
    assert len(new) - len(old) in (-1, 1, 0)  # a one-character change
    target.write_text(text.replace(old, new), encoding="utf-8")
    code = check_main([str(target)], "json")
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    props = _props(data, "thanhhoa_kh134")
    assert props[prop]["status"] == "refuted"
    finding = props[prop]["findings"][0]
    cx = finding["counterexample"]
    assert cx["replay"]["exhibits"]
    (tally,) = cx["tallies"]
    share = Fraction(int(tally["low"]), int(tally["collected"]))
    if boundary is not None:
        assert share == boundary
    else:
        assert Fraction(3, 5) <= share < Fraction(2, 3)
    # the tally is given to a cadre voted at a venue where kh134's bands apply, ready to paste into a test
    assert cx["roster_csv"].startswith("cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year\n")
    assert cx["tallies_csv"].startswith("cadre_id,venue,issued,collected,high,confidence,low\n")
    assert tally["venue"] in ("cap_uy", "noi_cong_tac")
    assert tally["venue"] in cx["replay"]["decisions"][0]["venues"]
    # a gap also changes the decided band against qd96.bands (the refinement); an overlap does not, since
    # the first band whose condition holds decides and khong_qua_50 comes first
    assert props["builtin.refinement_keeps"]["status"] == ("refuted" if prop == "builtin.bands_cover" else "proved")
