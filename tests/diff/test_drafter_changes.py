"""``tinnhiem diff`` reports what a drafter changes (issue 12): band sets compared directly, consequences,
renamed bands, and the declarations that say how a count is read.

Each test amends a copy of the bundled policies (mostly the central text ``qd96.policy``, which plans
nobody: it declares no scope and applies its bands at no venue) and diffs the copy against the
original. Every witness is replayed here, independently of the checker: the tally row is read back
from the witness's CSV and decided by :class:`dsl.evaluator.Evaluator` on a copy of each version
that applies the band set at a venue (``apply bands at cap_uy``), loaded by the ordinary loader.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from checker import diff as D
from checker.diff import Difference, DiffResult, diff_policies
from dsl.evaluator import Evaluator, Tally, broken_invariant
from dsl.loader import load_policy
from tests.conftest import POLICY_DIR
from tinnhiem.cli import main

CENTRAL = "qd96.policy"
PLAN = "thanhhoa-kh134.policy"
APPLY = '\napply bands at cap_uy\n  cite QD96 "thử" "áp dụng để kiểm tra"\n'


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


def amend(folder: Path, name: str, *edits: tuple[str, str], into: str = "amended") -> Path:
    """A copy of ``folder``'s policies in ``folder/into`` with ``name`` edited: each (old, new) exactly once."""
    text = (folder / name).read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old[:60]!r} occurs {text.count(old)} times in {name}"
        text = text.replace(old, new)
    target = folder / into
    target.mkdir(exist_ok=True)
    for p in folder.glob("*.policy"):
        shutil.copy(p, target / p.name)
    (target / name).write_text(text, encoding="utf-8")
    return target / name


def compare(old: Path, new: Path) -> DiffResult:
    return diff_policies(load_policy(old), load_policy(new), 10_000)


def tally_of(d: Difference) -> Tally:
    """The witness's tally, read back from its CSV the way a user's file would be."""
    [row] = list(csv.DictReader(io.StringIO(d.witness.tallies_csv)))
    counts = {k: int(row[k]) if row.get(k) else None for k in ("issued", "collected", "high", "confidence", "low",
                                                                 "convened", "present", "members")}
    return Tally("cap_uy", **counts)  # type: ignore[arg-type]


def band_under(policy: Path, tally: Tally) -> str | None:
    """The band the compiled evaluator decides for ``tally`` under the central text ``policy`` (its set applied
    at cap_uy in a copy), after checking that the tally is one that version's reader accepts."""
    copy = policy.parent / "replay"
    copy.mkdir(exist_ok=True)
    for p in policy.parent.glob("*.policy"):
        shutil.copy(p, copy / p.name)
    (copy / policy.name).write_text(policy.read_text(encoding="utf-8") + APPLY, encoding="utf-8")
    pol = load_policy(copy / policy.name)
    counts = {f: tally.get(f) for f in ("issued", "collected", "high", "confidence", "low", "convened", "present", "members")}
    assert broken_invariant(pol.invariants(), counts) is None, (policy, counts)
    assert (tally.get(pol.base_at("cap_uy")) or 0) >= 1
    r = Evaluator(pol).band("cap_uy", tally)
    return r.band.code if r.band is not None else None


def of_kind(result: DiffResult, kind: str) -> list[Difference]:
    return [d for d in result.differences if d.kind == kind]


# ---- 1. band sets compared directly, though no roster row reaches them ----------------------------


def test_a_new_share_denominator_in_the_central_text_is_a_band_set_difference(bundle: Path, capsys) -> None:
    new = amend(bundle, CENTRAL, ("share = low / collected", "share = low / issued"))
    result = compare(bundle / CENTRAL, new)
    assert result.exit_code == 1 and not result.internal_errors
    sets = of_kind(result, "band_set")
    assert sets and {d.kind for d in result.differences} == {"band_set"}
    assert ("tren_50", "khong_qua_50") in [(d.old_value, d.new_value) for d in sets]  # e.g. 3 low of 5 collected, of 6 issued
    for d in sets:
        assert d.subject == "band set bands" and d.band_set == "bands" and not d.witness.roster
        t = tally_of(d)
        assert t.collected >= 1 and t.issued >= 1
        assert (band_under(bundle / CENTRAL, t), band_under(new, t)) == (d.old.bands[0][1], d.new.bands[0][1])
        assert d.old_value == (d.old.bands[0][1] or "none") and d.old_value != d.new_value
    # the count is read differently: listed among the changed declarations, OLD → NEW
    texts = [n.text for n in result.notes]
    assert "share: low / collected (OLD) → low / issued (NEW)" in texts
    assert "band set 'bands': shares counted over collected (OLD) → issued (NEW)" in texts
    assert main(["diff", str(bundle / CENTRAL), str(new)]) == 1
    out = capsys.readouterr().out
    assert "[band_set] band set bands: tren_50 (OLD) → khong_qua_50 (NEW)" in out
    assert "a tally at no venue" in out and "band_set) — exit 1" in out


@pytest.mark.parametrize(("edits", "pair"), [
    # "trên 2/3" with P11's band closed at 2/3: exactly two thirds moves from tu_2_3 to tren_50
    ((("when share >= 2/3 severity 2", "when share > 2/3 severity 2"),
      ("share > 50% and share < 2/3 severity 1", "share > 50% and share <= 2/3 severity 1")), ("tu_2_3", "tren_50")),
    # the strict bound alone: exactly two thirds falls in no band
    ((("when share >= 2/3 severity 2", "when share > 2/3 severity 2"),), ("tu_2_3", "none")),
])
def test_more_than_two_thirds_in_the_central_text_is_found_at_exactly_two_thirds(
        bundle: Path, edits: tuple[tuple[str, str], ...], pair: tuple[str, str]) -> None:
    new = amend(bundle, CENTRAL, *edits)
    result = compare(bundle / CENTRAL, new)
    assert result.exit_code == 1
    [d] = result.differences
    assert (d.kind, d.subject, d.old_value, d.new_value) == ("band_set", "band set bands", *pair)
    t = tally_of(d)
    assert t.low * 3 == t.collected * 2  # exactly two thirds
    assert (band_under(bundle / CENTRAL, t), band_under(new, t) or "none") == pair
    cited = load_policy(bundle / CENTRAL).band_sets[0].band("tu_2_3").cite
    assert [(r.kind, r.rule, r.cite, r.quote) for r in d.old.rules] == [("band", "tu_2_3", cited.label, cited.quote)]
    if pair[1] == "none":
        assert d.new.rules[0].kind == "none" and "no band of bands holds" in d.new.rules[0].detail


def test_a_band_set_that_differs_at_a_planned_venue_is_reported_there_only(bundle: Path) -> None:
    """The plan applies kh134 at cap_uy and noi_cong_tac: the change is shown with a cadre (band at v),
    not a second time as the set alone."""
    new = amend(bundle, PLAN, ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"))
    result = compare(bundle / PLAN, new)
    assert {d.kind for d in result.differences} == {"band"}


# ---- 2. a changed consequence is a difference ------------------------------------------------------


@pytest.mark.parametrize(("edit", "values"), [
    (('    may "Bố trí công tác khác"\n', '    must "Bố trí công tác khác"\n'),  # an option made mandatory
     ("may “Bố trí công tác khác”", "must “Bố trí công tác khác”")),
    (('    may "Cho từ chức"\n', '    may "Cho từ chức theo nguyện vọng"\n'),  # its text changed
     ("may “Cho từ chức”", "may “Cho từ chức theo nguyện vọng”")),
    (('    may "Cho từ chức"\n', ""), ("may “Cho từ chức”", "none")),  # dropped
])
def test_a_changed_consequence_is_a_difference_with_a_tally_in_that_band(bundle: Path, edit: tuple[str, str],
                                                                          values: tuple[str, str]) -> None:
    new = amend(bundle, CENTRAL, edit)
    result = compare(bundle / CENTRAL, new)
    assert result.exit_code == 1 and not result.internal_errors
    [d] = result.differences
    assert (d.kind, d.subject, d.band_set) == ("consequence", "consequences of band tren_50 in bands", "bands")
    assert (d.old_value, d.new_value) == values
    t = tally_of(d)
    assert band_under(bundle / CENTRAL, t) == band_under(new, t) == "tren_50"  # in that band on both sides
    old_band = load_policy(bundle / CENTRAL).band_sets[0].band("tren_50")
    new_band = load_policy(new).band_sets[0].band("tren_50")
    assert d.old.consequences == tuple(("must", m) for m in old_band.must) + tuple(("may", m) for m in old_band.may)
    assert d.new.consequences == tuple(("must", m) for m in new_band.must) + tuple(("may", m) for m in new_band.may)
    assert d.old.consequences != d.new.consequences
    data = D.to_data(result)
    assert data["summary"]["consequence"] == 1 and data["exit_code"] == 1
    side = data["differences"][0]["new"]
    assert {"kind": "may", "text": "Tiến hành bỏ phiếu tín nhiệm theo quy định"} in side["consequences"]
    # and the other way round: the same difference, the sides swapped
    back = compare(new, bundle / CENTRAL)
    assert [(x.kind, x.subject, x.old_value, x.new_value) for x in back.differences] == [(d.kind, d.subject, *values[::-1])]


def test_a_changed_consequence_in_the_plan_is_shown_with_a_tally_at_its_venue(bundle: Path) -> None:
    new = amend(bundle, PLAN, ('    must "Miễn nhiệm chức vụ đang đảm nhiệm"\n', '    may "Miễn nhiệm chức vụ đang đảm nhiệm"\n'))
    result = compare(bundle / PLAN, new)
    [d] = result.differences
    assert (d.kind, d.subject) == ("consequence", "consequences of band tu_2_3 in kh134")
    [row] = d.witness.tallies
    assert row.venue == "cap_uy"  # the first venue where both versions apply kh134
    assert (d.old_value, d.new_value) == ("must “Miễn nhiệm chức vụ đang đảm nhiệm”", "may “Miễn nhiệm chức vụ đang đảm nhiệm”")
    for p in (bundle / PLAN, new):  # the plan's own evaluator, at the venue of the row
        band = Evaluator(load_policy(p)).band(row.venue, row.tally()).band
        assert band is not None and band.code == "tu_2_3"


# ---- 3. how a count is read: listed among the changed declarations ----------------------------------


def test_a_changed_quorum_max_venues_and_invariant_are_listed_old_to_new(bundle: Path) -> None:
    new = amend(bundle, CENTRAL, ("quorum present >= 2/3 of convened", "quorum present >= 1/2 of convened"),
                ("max_venues 2", "max_venues 3"),
                ("tally {\n", 'tally {\n  invariant low <= issued\n    cite QD96 "Điều 6 (diễn giải)" "thử"\n'))
    result = compare(bundle / CENTRAL, new)
    texts = [n.text for n in result.notes]
    assert "quorum: present >= 2/3 of convened (OLD) → present >= 1/2 of convened (NEW)" in texts
    assert "max_venues: 2 (OLD) → 3 (NEW)" in texts
    assert "tally invariants: none (OLD) → low <= issued (NEW); the others are the same" in texts
    # the central text plans nobody and the new invariant follows from the others: nothing is decided differently
    assert result.exit_code == 0 and not result.differences
    assert "max_venues: 2 (OLD) → 3 (NEW)" in D.to_text(result)


# ---- 4. a renamed band ------------------------------------------------------------------------------


def test_a_renamed_band_is_a_rename_with_a_tally_that_shows_both_codes(bundle: Path) -> None:
    new = amend(bundle, CENTRAL, ('band tu_2_3 "Từ', 'band tu_hai_phan_ba "Từ'))
    result = compare(bundle / CENTRAL, new)
    assert result.exit_code == 1
    [d] = result.differences
    assert (d.kind, d.subject, d.old_value, d.new_value) == ("rename", "band of bands renamed", "tu_2_3", "tu_hai_phan_ba")
    t = tally_of(d)
    assert (band_under(bundle / CENTRAL, t), band_under(new, t)) == ("tu_2_3", "tu_hai_phan_ba")
    assert [n.kind for n in result.notes] == ["renamed"]
    assert "band 'tu_2_3' of 'bands' is named 'tu_hai_phan_ba' in NEW" in result.notes[0].text
    text = D.to_text(result)
    assert "[rename] band of bands renamed: tu_2_3 (OLD) → tu_hai_phan_ba (NEW)" in text and "1 difference (1 rename)" in text


def test_a_band_renamed_in_the_plan_is_one_rename_not_a_band_or_outcome_difference(bundle: Path) -> None:
    text = (bundle / PLAN).read_text(encoding="utf-8")
    new = amend(bundle, PLAN, (text, text.replace("tu_2_3", "tu_hai_phan_ba")))  # the band and the example naming it
    result = compare(bundle / PLAN, new)
    assert [(d.kind, d.old_value, d.new_value) for d in result.differences] == [("rename", "tu_2_3", "tu_hai_phan_ba")]
    [row] = result.differences[0].witness.tallies
    bands = [Evaluator(load_policy(p)).band(row.venue, row.tally()).band for p in (bundle / PLAN, new)]
    assert [b.code for b in bands if b is not None] == ["tu_2_3", "tu_hai_phan_ba"]


def test_a_renamed_band_whose_bounds_change_is_not_a_rename(bundle: Path) -> None:
    new = amend(bundle, CENTRAL, ('band tu_2_3 "Từ 2/3 phiếu tín nhiệm thấp trở lên" when share >= 2/3',
                                  'band tu_hai_phan_ba "Từ 2/3 phiếu tín nhiệm thấp trở lên" when share > 2/3'))
    result = compare(bundle / CENTRAL, new)
    assert not of_kind(result, "rename") and of_kind(result, "band_set")
    assert {n.kind for n in result.notes} == {"added", "removed"}


# ---- the report --------------------------------------------------------------------------------------


def test_the_text_is_readable_at_100_columns_and_the_json_keeps_its_keys(bundle: Path) -> None:
    new = amend(bundle, CENTRAL, ("share = low / collected", "share = low / issued"),
                ('    may "Bố trí công tác khác"\n', '    must "Bố trí công tác khác"\n'))
    result = compare(bundle / CENTRAL, new)
    text = D.to_text(result, width=100)
    assert max(len(line) for line in text.split("\n")) <= 100
    assert "· must: Bố trí công tác khác" in text
    data = json.loads(D.to_json(result))
    assert set(data["summary"]) == {*D.KINDS, "differences"}
    first = data["differences"][0]
    assert {"kind", "subject", "old_value", "new_value", "witness", "old", "new", "band_set"} <= set(first)
    assert first["witness"]["roster_csv"] == "" and first["witness"]["tallies_csv"].startswith("cadre_id,venue,issued")


def test_a_band_set_replay_that_disagrees_is_an_internal_error(bundle: Path, monkeypatch) -> None:
    new = amend(bundle, CENTRAL, ("when share >= 2/3 severity 2", "when share > 2/3 severity 2"))

    class Wrong(Evaluator):  # a bug at exactly two thirds: what falls in no band is put in the lowest one
        def band(self, venue, tally):
            r = super().band(venue, tally)
            return r if r.band is not None else super().band(venue, Tally(venue, tally.issued, tally.collected, 0, 0, 0))

    monkeypatch.setattr(D, "Evaluator", Wrong)
    result = compare(bundle / CENTRAL, new)
    assert result.exit_code == 3
    assert any("band set bands" in e and "the Z3 encoding and the evaluator disagree" in e for e in result.internal_errors)
