"""Inheritance that adds: ``also fact``, ``also title`` and ``also levels`` extend what an import declares
instead of replacing it (before, one local ``fact`` line dropped every imported fact)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsl.diagnostics import PolicyError
from dsl.evaluator import Cadre, Evaluator
from dsl.loader import load_policy
from dsl.parser import parse
from dsl.printer import format_file

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
QUOC_HOI = "quoc-hoi-nq96.policy"


def _copy(tmp_path: Path, edit) -> Path:
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, tmp_path / p.name)
    target = tmp_path / QUOC_HOI
    target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def test_also_fact_adds_a_fact_and_the_stage_reads_it(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        text = text.replace('levels {', 'also fact da_xin_tu_chuc: bool "Đã xin từ chức trong thời hạn"\n\nlevels {', 1)
        return text.replace("  at quoc_hoi after tren_50\n", "  at quoc_hoi after tren_50\n  when not da_xin_tu_chuc\n")
    pol = load_policy(_copy(tmp_path, edit))
    assert [f.name for f in pol.facts] == ["retirement_notice", "appointed_year", "da_xin_tu_chuc"]
    assert pol.roster_columns()[-3:] == ("retirement_notice", "appointed_year", "da_xin_tu_chuc")
    ev = Evaluator(pol)
    from dsl.evaluator import Tally
    poll = {"quoc_hoi": Tally("quoc_hoi", 470, 470, 80, 101, 289, members=481)}
    for resigned, due in ((False, True), (True, False)):
        cadre = Cadre("x", "trung_uong", frozenset({"bo_truong"}),
                      {"retirement_notice": False, "appointed_year": 2020, "da_xin_tu_chuc": resigned})
        assert ev.decide(cadre, poll).stages[0].due is due


def test_without_also_a_local_fact_replaces_the_imported_ones(tmp_path: Path) -> None:
    """The rule before 'also' (kept): a local list replaces, so the imported exemptions lose their facts."""
    with pytest.raises(PolicyError) as err:
        load_policy(_copy(tmp_path, lambda t: t.replace('levels {', 'fact da_xin_tu_chuc: bool "Đã xin từ chức"\n\nlevels {', 1)))
    assert "unknown name 'retirement_notice'" in err.value.render()


def test_also_title_and_also_levels_add(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        return text.replace('levels {', 'also levels {', 1)
    # the plan imports nq96, which declares no levels: 'also levels' is then the plan's own list
    pol = load_policy(_copy(tmp_path, edit))
    assert [lv.code for lv in pol.levels] == ["trung_uong"]
    plan = tmp_path / "them.policy"
    plan.write_text('policy them { name "Thêm chức danh" issuer "thử" }\ndocument T "Thử"\nimport "quoc-hoi-nq96.policy" as qh\n'
                    'also title tong_kiem_toan "Tổng Kiểm toán nhà nước"\nalso levels {\n  dia_phuong "Địa phương"\n}\n',
                    encoding="utf-8")
    got = load_policy(plan)
    assert got.title_codes()[-1] == "tong_kiem_toan" and "bo_truong" in got.title_codes()
    assert [lv.code for lv in got.levels] == ["trung_uong", "dia_phuong"]
    printed = format_file(parse(plan.read_text(encoding="utf-8"), str(plan)))
    assert "also title tong_kiem_toan" in printed and "also levels {" in printed


@pytest.mark.parametrize(("extra", "code", "says"), [
    ('also title bo_truong "Bộ trưởng"\n', "E201", "already declared by an import"),
    ('also title tong_kiem_toan "Tổng Kiểm toán"\ntitle pho_chanh_an "Phó Chánh án"\n', "E306", "say 'also' and others do not"),
])
def test_also_is_checked(tmp_path: Path, extra: str, code: str, says: str) -> None:
    plan = tmp_path / "them.policy"
    _copy(tmp_path, lambda t: t)
    plan.write_text('policy them { name "Thêm" issuer "thử" }\nimport "quoc-hoi-nq96.policy" as qh\n' + extra, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(plan)
    assert code in err.value.render() and says in err.value.render()
