"""``tinnhiem diff``: amendments of the bundled policies, compared by Z3 and replayed in the evaluator.

Takes a copy of the bundled policies in a temporary folder for each test and applies one amendment
to the copy of the plan (or of an import); runs :func:`checker.diff.diff_policies` in process and
``tinnhiem diff`` through :func:`tinnhiem.cli.main`; checks what is reported: the kind of each
difference, the witness (decoded CSV, replayed through the compiled evaluator here again, not only
inside the checker), the decisions and the rules cited on each side, and the exit codes.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import diff as D
from checker.diff import Difference, DiffResult, diff_policies
from dsl.evaluator import Cadre, Evaluator, Tally
from dsl.loader import load_policy
from dsl.parser import parse
from dsl.printer import format_file
from tests.conftest import POLICY_DIR
from tinnhiem.cli import main

PLAN = "thanhhoa-kh134.policy"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A copy of the bundled policies; returns the folder."""
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


def amend(folder: Path, name: str, *edits: tuple[str, str]) -> Path:
    """A copy of ``folder``'s policies in ``folder/amended`` with ``name`` edited: each (old, new) once."""
    text = (folder / name).read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old[:60]!r} occurs {text.count(old)} times in {name}"
        text = text.replace(old, new)
    target_dir = folder / "amended"
    if not target_dir.exists():
        target_dir.mkdir()
        for p in folder.glob("*.policy"):
            shutil.copy(p, target_dir / p.name)
    (target_dir / name).write_text(text, encoding="utf-8")
    return target_dir / name


def compare(old: Path, new: Path) -> DiffResult:
    return diff_policies(load_policy(old), load_policy(new), 10_000)


def read_witness(d: Difference, policy_path: Path) -> tuple[Cadre, dict[str, Tally]]:
    """The witness's CSV text read back the way a user's files would be (independently of the checker)."""
    pol = load_policy(policy_path)
    [row] = list(csv.DictReader(io.StringIO(d.witness.roster_csv)))
    facts: dict[str, bool | int] = {}
    for f in pol.facts:
        cell = row[f.name].strip()
        if f.type == "bool":
            facts[f.name] = cell == "true"
        elif cell:
            facts[f.name] = int(cell)
    cadre = Cadre(row["cadre_id"], row["level"], frozenset(t for t in row["titles"].split(";") if t), facts)
    tallies = {}
    for t in csv.DictReader(io.StringIO(d.witness.tallies_csv)) if d.witness.tallies_csv else ():
        n = {k: int(t[k]) for k in ("issued", "collected", "high", "confidence", "low")}
        tallies[t["venue"]] = Tally(t["venue"], n["issued"], n["collected"], n["high"], n["confidence"], n["low"])
    return cadre, tallies


def of_kind(result: DiffResult, kind: str) -> list[Difference]:
    return [d for d in result.differences if d.kind == kind]


# ---- the required amendments ---------------------------------------------------------------------


def test_two_thirds_or_more_becoming_more_than_two_thirds_is_found_at_exactly_two_thirds(bundle: Path) -> None:
    # "từ 2/3 trở lên" (share >= 2/3) → "trên 2/3" (share > 2/3), with P11's band closed at 2/3 so the bands still cover
    new = amend(bundle, PLAN, ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"),
                ("when share > 50% and share < 2/3 severity 1", "when share > 50% and share <= 2/3 severity 1"))
    result = compare(bundle / PLAN, new)
    assert result.exit_code == 1
    bands = of_kind(result, "band")
    # the Party bands (kh134) are applied at cap_uy and noi_cong_tac; the HĐND's (nq96) did not change
    assert sorted(d.subject for d in bands) == ["band at cap_uy", "band at noi_cong_tac"]
    assert {d.kind for d in result.differences} == {"band"}  # decided once, where it arises
    for d in bands:
        assert (d.old_value, d.new_value) == ("tu_2_3", "tren_50")
        venue = d.subject.removeprefix("band at ")
        [tally] = [t for t in d.witness.tallies if t.venue == venue]
        assert Fraction(tally.low, tally.collected) == Fraction(2, 3)  # exactly two thirds, e.g. 6 of 9
        # the rules behind each side, with their citations and quoted text
        assert [(r.kind, r.rule, r.cite) for r in d.old.rules] == [("band", "tu_2_3", "KH134 P2, P12")]
        assert [(r.kind, r.rule, r.cite) for r in d.new.rules] == [("band", "tren_50", "KH134 P11")]
        assert "từ 2/3 số phiếu tín nhiệm thấp trở lên" in (d.old.rules[0].quote or "")
        # replayed independently: the CSV read back and decided by each compiled evaluator
        cadre, tallies = read_witness(d, bundle / PLAN)
        old_band = Evaluator(load_policy(bundle / PLAN)).decide(cadre, tallies).results
        new_band = Evaluator(load_policy(new)).decide(cadre, tallies).results
        assert [r.band.code for r in old_band if r.venue == venue] == ["tu_2_3"]
        assert [r.band.code for r in new_band if r.venue == venue] == ["tren_50"]


def test_only_the_strict_bound_leaves_two_thirds_without_a_band(bundle: Path) -> None:
    new = amend(bundle, PLAN, ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"))
    result = compare(bundle / PLAN, new)
    assert {(d.subject, d.old_value, d.new_value) for d in result.differences} == {
        ("band at cap_uy", "tu_2_3", "none"), ("band at noi_cong_tac", "tu_2_3", "none")}
    for d in result.differences:
        t = d.witness.tallies[0]
        assert t.low * 3 == t.collected * 2
        assert d.new.rules[0].kind == "none" and "no band of kh134 holds" in d.new.rules[0].detail


def test_reformatting_is_equivalent(bundle: Path) -> None:
    text = (bundle / PLAN).read_text(encoding="utf-8")
    # a drafter's layout: no alignment, everything indented oddly, one-line citations
    messy = "\n".join("      " + line.strip() if line.strip() and not line.startswith("#") else line for line in text.split("\n"))
    messy = messy.replace("\n      cite", " cite").replace("\n      must", " must").replace("\n      may", " may")
    assert messy != text
    (bundle / "messy").mkdir()
    for p in bundle.glob("*.policy"):
        shutil.copy(p, bundle / "messy" / p.name)
    (bundle / "messy" / PLAN).write_text(messy, encoding="utf-8")
    result = compare(bundle / PLAN, bundle / "messy" / PLAN)
    assert result.exit_code == 0 and not result.differences and not result.notes
    # and what `tinnhiem fmt` makes of it is the bundled text again, equivalent as well
    formatted = format_file(parse(messy, "messy.policy"))
    assert formatted == text
    (bundle / "messy" / PLAN).write_text(formatted, encoding="utf-8")
    assert compare(bundle / PLAN, bundle / "messy" / PLAN).exit_code == 0


def test_reordering_declarations_is_equivalent(bundle: Path) -> None:
    text = (bundle / PLAN).read_text(encoding="utf-8")
    lines = text.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("title bi_thu "))
    assert lines[i + 1].startswith("title pho_bi_thu ")
    lines[i], lines[i + 1] = lines[i + 1], lines[i]  # two titles swapped
    swapped = "\n".join(lines)
    a = swapped.index("scope p4_cap_uy")
    b = swapped.index("scope p4_hdnd_ubnd")
    c = swapped.index("# ---- exemptions (P7)")
    swapped = swapped[:a] + swapped[b:c].rstrip("\n") + "\n\n" + swapped[a:b] + swapped[c:]  # two scope rules swapped
    assert swapped.index("scope p4_hdnd_ubnd") < swapped.index("scope p4_cap_uy")
    new = amend(bundle, PLAN, (text, swapped))
    load_policy(new)
    result = compare(bundle / PLAN, new)
    assert result.exit_code == 0, D.to_text(result)
    assert not result.differences and not result.notes


def test_dropping_an_exemption_gives_a_cadre_exempt_under_old_and_voted_under_new(bundle: Path) -> None:
    text = (bundle / PLAN).read_text(encoding="utf-8")
    start = text.index("# READING: the roster gives the year")
    end = text.index("# ---- venues (P5, P6)")
    ex_start = text.index("example p7_moi_bo_nhiem")
    ex_end = text.index("example p11_tren_50")
    dropped = text[:start] + text[end:ex_start] + text[ex_end:]
    new = amend(bundle, PLAN, (text, dropped))
    result = compare(bundle / PLAN, new)
    assert result.exit_code == 1
    exemption = of_kind(result, "exemption")
    assert exemption and {d.kind for d in result.differences} == {"exemption"}
    voted = [d for d in exemption if (d.old_value, d.new_value) == ("exempt", "voted")]
    assert len(voted) == 1
    d = voted[0]
    assert d.old.status == "exempt" and d.old.exemptions == ("p7_moi_bo_nhiem",) and d.new.status == "voted"
    assert ("exemption", "p7_moi_bo_nhiem", "KH134 P7") in [(r.kind, r.rule, r.cite) for r in d.old.rules]
    assert [r for r in d.new.rules if r.kind == "scope"]  # NEW: the scope rule that now stands alone
    cadre, _ = read_witness(d, bundle / PLAN)
    assert cadre.facts["appointed_year"] == 2023  # appointed in the vote year: what the dropped rule covered
    assert Evaluator(load_policy(bundle / PLAN)).plan(cadre).status == "exempt"
    assert Evaluator(load_policy(new)).plan(cadre).status == "voted"
    assert D.Note("removed", "exemption 'p7_moi_bo_nhiem' is only in OLD") in result.notes


def test_renaming_an_exemption_is_equivalent_and_noted(bundle: Path) -> None:
    text = (bundle / PLAN).read_text(encoding="utf-8")
    new = amend(bundle, PLAN, (text, text.replace("p7_cho_nghi_huu", "p7_nghi_huu")))
    result = compare(bundle / PLAN, new)
    assert result.exit_code == 0 and not result.differences
    assert [n.kind for n in result.notes] == ["renamed"]
    assert "'p7_cho_nghi_huu' is named 'p7_nghi_huu'" in result.notes[0].text


def test_changing_p6_is_a_venue_difference(bundle: Path) -> None:
    # P6 applied to every member of the Standing Committee, not only to those holding a concurrent title
    new = amend(bundle, PLAN, ("when voted and uy_vien_btv and kiem_nhiem_p6 {", "when voted and uy_vien_btv {"))
    result = compare(bundle / PLAN, new)
    assert result.exit_code == 1
    assert {d.kind for d in result.differences} == {"venues"}
    [d] = result.differences
    assert (d.old_value, d.new_value) == ("cap_uy", "cap_uy, hdnd")
    assert d.old.venues == ("cap_uy",) and d.new.venues == ("cap_uy", "hdnd")
    assert [(r.kind, r.rule, r.cite) for r in d.old.rules] == [("venue_rule", "p5", "KH134 P5")]
    assert [(r.kind, r.rule) for r in d.new.rules] == [("venue_rule", "p6"), ("overridden", "p5")]
    cadre, _ = read_witness(d, bundle / PLAN)
    assert Evaluator(load_policy(new)).plan(cadre).venues == ("cap_uy", "hdnd")


def test_removing_the_p6_override_decides_nothing_differently(bundle: Path) -> None:
    # Without "overrides p5", P5 and P6 are both active for a P6 cadre: P5 proposes cap_uy (a BTV member)
    # and hdnd only if HĐND-elected, P6 proposes cap_uy and hdnd; the union is P6's. The decisions are
    # the same for every roster row, so diff says equivalent and names the rule that was rewritten
    # (the checker's no_conflict property is what flags this amendment).
    new = amend(bundle, PLAN, ("venues p6 overrides p5 when", "venues p6 when"))
    result = compare(bundle / PLAN, new)
    assert result.exit_code == 0 and not result.differences
    assert D.Note("changed", "venue rule 'p6' is written differently") in result.notes


def test_venue_priority_swapped_in_an_import_is_an_ordered_venues_difference(bundle: Path) -> None:
    a = 'venue cap_uy       "Cấp ủy (Ban Chấp hành đảng bộ)"\nvenue hdnd         "Hội đồng nhân dân"'
    b = 'venue hdnd         "Hội đồng nhân dân"\nvenue cap_uy       "Cấp ủy (Ban Chấp hành đảng bộ)"'
    amend(bundle, "qd96.policy", (a, b))
    result = compare(bundle / PLAN, bundle / "amended" / PLAN)
    venues = of_kind(result, "venues")
    assert ("cap_uy, hdnd", "hdnd, cap_uy") in [(d.old_value, d.new_value) for d in venues]


def test_a_new_title_is_a_schema_difference(bundle: Path) -> None:
    text = (bundle / PLAN).read_text(encoding="utf-8")
    new_text = text.replace('title pho_dvsn        "Cấp phó đơn vị sự nghiệp trực thuộc cấp ủy, UBND"',
                            'title pho_dvsn        "Cấp phó đơn vị sự nghiệp trực thuộc cấp ủy, UBND"\n'
                            'title chanh_vp        "Chánh Văn phòng"')
    new_text = new_text.replace("scope p3_so_nganh at province: truong_so, pho_so",
                                "scope p3_so_nganh at province: truong_so, pho_so, chanh_vp")
    new = amend(bundle, PLAN, (text, new_text))
    result = compare(bundle / PLAN, new)
    [d] = result.differences
    assert (d.kind, d.subject) == ("schema", "title chanh_vp")
    assert d.old.rejected == "unknown title code 'chanh_vp'"
    assert d.new.rejected is None and d.new.status == "voted"
    assert "chanh_vp" in d.witness.roster_csv


def test_a_new_denominator_admits_tallies_the_old_one_rejects(bundle: Path) -> None:
    # the plan settles the share itself, over the ballots issued (phiếu phát ra)
    new = amend(bundle, PLAN, ("# ---- bands and consequences", 'share = low / issued\n  cite KH134 "P11" "số phiếu"\n\n'
                                                                 "# ---- bands and consequences"))
    result = compare(bundle / PLAN, new)
    schema = of_kind(result, "schema")
    assert [d.subject for d in schema] == ["share denominator"]
    assert schema[0].old.rejected is not None and "collected = 0" in schema[0].old.rejected
    assert of_kind(result, "band")  # 3 low of 5 collected (tren_50) is 3 of 6 issued (khong_qua_50)


def test_identical_policies_are_equivalent_and_the_json_is_deterministic(bundle: Path, capsys) -> None:
    a, b = str(bundle / PLAN), str(POLICY_DIR / PLAN)
    assert main(["diff", a, b]) == 0
    out = capsys.readouterr().out
    assert "equivalent" in out
    assert main(["diff", a, b, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["equivalent"] is True and data["differences"] == [] and data["exit_code"] == 0


def test_cli_text_json_output_and_exit_codes(bundle: Path, capsys, tmp_path: Path) -> None:
    new = amend(bundle, PLAN, ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"))
    old = str(bundle / PLAN)
    assert main(["diff", old, str(new)]) == 1
    text = capsys.readouterr().out
    assert "[band] band at cap_uy: tu_2_3 (OLD) → none (NEW)" in text
    assert "cadre_id,venue,issued,collected,high,confidence,low" in text
    assert "KH134 P2, P12" in text and "2 differences (2 band) — exit 1" in text
    out1, out2 = tmp_path / "d1.json", tmp_path / "d2.json"
    assert main(["diff", old, str(new), "--format", "json", "--output", str(out1)]) == 1
    assert main(["diff", old, str(new), "--format", "json", "--output", str(out2)]) == 1
    assert out1.read_bytes() == out2.read_bytes()  # deterministic
    data = json.loads(out1.read_text(encoding="utf-8"))
    assert data["summary"]["band"] == 2 and data["summary"]["differences"] == 2
    first = data["differences"][0]
    assert first["witness"]["roster_csv"].startswith("cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year\n")
    assert first["old"]["rules"][0]["quote"].startswith("Đối với những trường hợp có từ 2/3")


def test_a_policy_with_errors_exits_2_with_its_diagnostic(bundle: Path, capsys) -> None:
    bad = amend(bundle, PLAN, ("scope p4_cap_uy at district: bi_thu, pho_bi_thu", "scope p4_cap_uy at district: bi_thu, pho_bi_thuu"))
    assert main(["diff", str(bundle / PLAN), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "error[E203]: unknown title 'pho_bi_thuu'" in err and "did you mean 'pho_bi_thu'?" in err
    assert main(["diff", str(bundle / PLAN), str(bundle / "missing.policy")]) == 2
    assert "error[E001]" in capsys.readouterr().err


def test_a_replay_that_disagrees_is_an_internal_error(bundle: Path, monkeypatch, capsys) -> None:
    new = amend(bundle, PLAN, ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"))

    class Wrong(Evaluator):  # an evaluator with a bug at exactly two thirds: it must not go unnoticed
        def band(self, venue, tally):
            r = super().band(venue, tally)
            return r if r.band is not None else super().band(venue, Tally(venue, tally.issued, tally.collected, 0, 0, 0))

    monkeypatch.setattr(D, "Evaluator", Wrong)
    assert main(["diff", str(bundle / PLAN), str(new)]) == 3
    assert "the Z3 encoding and the evaluator disagree" in capsys.readouterr().err


def test_every_pair_of_bundled_policies_compares_without_error() -> None:
    pols = [load_policy(p) for p in sorted(POLICY_DIR.glob("*.policy"))]
    for a in pols:
        for b in pols:
            r = diff_policies(a, b, 10_000)
            assert not r.internal_errors and not r.unknown, (a.id, b.id, r.internal_errors, r.unknown)
            if a is b:
                assert r.exit_code == 0 and not r.differences


def test_a_fact_typed_differently_is_a_schema_difference_and_compares_the_cells_both_read(bundle: Path) -> None:
    # NEW reads retirement_notice as a year (the year of retirement) instead of a flag
    new = amend(bundle, PLAN, ("# ---- levels and titles", 'fact retirement_notice: year "Năm nghỉ hưu"\n'
                                                          'fact appointed_year: year "Năm bổ nhiệm"\n\n# ---- levels and titles'),
                ("when retirement_notice\n", "when retirement_notice = vote_year\n"))
    text = new.read_text(encoding="utf-8")  # the examples give the new column a year
    new.write_text(text.replace("retirement_notice false", "retirement_notice 2030").replace("retirement_notice true", "retirement_notice 2023"),
                   encoding="utf-8")
    result = compare(bundle / PLAN, new)
    assert not result.internal_errors
    [d] = result.differences
    assert (d.kind, d.subject) == ("schema", "roster column retirement_notice (bool → year)")
    assert d.new.rejected == "retirement_notice must be a whole number, not 'true'" and d.old.status == "exempt"
    # a cell both versions read is empty: a flag that is false and a year not given; so no decision differs


EDITS = (
    ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"),
    ("share > 50% and share < 2/3 severity 1", "share >= 50% and share <= 2/3 severity 1"),
    ("when share <= 50% severity 0", "when share < 1/2 severity 0"),
    ("scope p4_cap_uy at district: bi_thu, pho_bi_thu", "scope p4_cap_uy at district: bi_thu"),
    ("scope p3_so_nganh at province: truong_so, pho_so", "scope p3_so_nganh at district: truong_so, pho_so"),
    ("when voted and uy_vien_btv and kiem_nhiem_p6 {", "when voted and kiem_nhiem_p6 {"),
    ("  hdnd when thuoc_dien_quoc_hoi\n", "  hdnd when thuoc_dien_quoc_hoi and level = province\n"),
    ("  noi_cong_tac otherwise\n", "  noi_cong_tac when not uy_vien_btv\n"),
    ("when appointed_year = vote_year", "when appointed_year > 2020"),
    ("when retirement_notice\n", "when retirement_notice and level = district\n"),
    ("venues p6 overrides p5 when", "venues p6 when"),
)


@settings(max_examples=12, deadline=None)
@given(st.sets(st.sampled_from(range(len(EDITS))), min_size=1, max_size=4))
def test_random_amendments_replay_and_diff_is_symmetric(tmp_path_factory, chosen: set[int]) -> None:
    """Differential: every witness of a random amendment replays in the evaluators (no internal error),
    and diff(NEW, OLD) reports the same differences as diff(OLD, NEW) with the sides swapped."""
    folder = tmp_path_factory.mktemp("amend")
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, folder / p.name)
    new = amend(folder, PLAN, *[EDITS[i] for i in sorted(chosen)])
    old_pol, new_pol = load_policy(folder / PLAN), load_policy(new)
    forward, backward = diff_policies(old_pol, new_pol), diff_policies(new_pol, old_pol)
    for r in (forward, backward):
        assert not r.internal_errors and not r.unknown, r.internal_errors
    assert {(d.kind, d.subject, d.old_value, d.new_value) for d in forward.differences} == \
        {(d.kind, d.subject, d.new_value, d.old_value) for d in backward.differences}


def test_a_solver_that_cannot_decide_is_exit_3_not_equivalent(bundle: Path, monkeypatch) -> None:
    import z3

    monkeypatch.setattr(D._Pair, "check", lambda self, *extra: z3.unknown)
    result = compare(bundle / PLAN, bundle / PLAN)
    assert result.exit_code == 3 and result.unknown and not result.differences
    assert "the comparison is incomplete" in D.to_text(result)
    assert D.to_data(result)["equivalent"] is False
