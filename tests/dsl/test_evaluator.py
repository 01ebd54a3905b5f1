"""Evaluator tests on the bundled provincial plan: boundaries, quorum, outcomes, written examples.

Takes ``policy/thanhhoa-kh134.policy`` (with what it imports), compiled for 2023; checks the band of
exact and near boundaries at small and very large counts (1/2, 2/3, 0 low, all low, a denominator
that is ``collected`` and not ``issued``, counts where a float would round the wrong way), the
quorum at exactly 2/3 present and one fewer, the outcome precedence (``missing_tally``,
``invalid_session``, ``xem_xet_tong_the``), and runs every example written in the bundled policies.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import policy as bundled
from dsl import ir
from dsl.evaluator import Cadre, Evaluator, Tally, compile_policy, run_example
from dsl.loader import load_policy


@pytest.fixture(scope="module")
def ev() -> Evaluator:
    return compile_policy(load_policy(bundled.path()))


def tally(collected: int, low: int, *, venue: str = "noi_cong_tac", issued: int | None = None,
          convened: int | None = None, present: int | None = None) -> Tally:
    rest = collected - low
    return Tally(venue, collected if issued is None else issued, collected, rest // 2, rest - rest // 2, low, convened, present)


def band(ev: Evaluator, t: Tally) -> str | None:
    r = ev.band(t.venue, t)
    return r.band.code if r.band else None


GIAM_DOC_SO = Cadre("gd", "province", frozenset({"truong_so"}), {"retirement_notice": False, "appointed_year": 2020})
BI_THU_HUYEN = Cadre("bt", "district", frozenset({"bi_thu", "ct_hdnd"}), {"retirement_notice": False, "appointed_year": 2020})
CT_HDND_TINH = Cadre("ct", "province", frozenset({"ct_hdnd"}), {"retirement_notice": False, "appointed_year": 2021})


# ---- bands at the boundaries ------------------------------------------------------------------------

VENUES = ("cap_uy", "hdnd", "noi_cong_tac")


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize(("low", "collected", "expected"), [
    (20, 40, "khong_qua_50"),  # exactly 1/2 is "not more than 50%"
    (21, 40, "tren_50"),
    (19, 40, "khong_qua_50"),
    (1, 2, "khong_qua_50"),
    (6, 9, "tu_2_3"),  # exactly 2/3 (P12 example)
    (5, 9, "tren_50"),
    (2, 3, "tu_2_3"),
    (666_666, 999_999, "tu_2_3"),  # exactly 2/3 at a very large count
    (666_665, 999_999, "tren_50"),  # one below
    (666_667, 999_999, "tu_2_3"),  # one above
    (500_000, 1_000_000, "khong_qua_50"),
    (500_001, 1_000_000, "tren_50"),
    (0, 80, "khong_qua_50"),  # no low vote
    (0, 1, "khong_qua_50"),
    (80, 80, "tu_2_3"),  # all low
    (1, 1, "tu_2_3"),
    # a float would say 2e18 / (3e18 + 1) == 2/3 (the denominator rounds to 3e18): exactly, it is below
    (2 * 10**18, 3 * 10**18 + 1, "tren_50"),
    # and (10**18 + 1) / (2 * 10**18) rounds to 0.5 as a float: exactly, it is above one half
    (10**18 + 1, 2 * 10**18, "tren_50"),
])
def test_band_at_the_boundaries(ev: Evaluator, venue: str, low: int, collected: int, expected: str) -> None:
    t = tally(collected, low, venue=venue)
    assert band(ev, t) == expected
    assert ev.band(venue, t).share == Fraction(low, collected)


def test_the_float_traps_really_are_traps() -> None:
    """The two large cases above would be decided wrongly by float division (so they test exactness)."""
    assert (2 * 10**18) / (3 * 10**18 + 1) >= 2 / 3
    assert (10**18 + 1) / (2 * 10**18) <= 0.5


def test_denominator_is_collected_not_issued(ev: Evaluator) -> None:
    # 40 low of 60 collected is exactly 2/3 (tu_2_3); over the 100 issued it would be 40 % (khong_qua_50)
    t = tally(60, 40, issued=100)
    r = ev.band("noi_cong_tac", t)
    assert r.share == Fraction(2, 3)
    assert r.band is not None and r.band.code == "tu_2_3"
    # and the other way round: 25 of 47 collected is over half; over 100 issued it is not
    assert band(ev, tally(47, 25, issued=100)) == "tren_50"


def test_share_is_in_lowest_terms(ev: Evaluator) -> None:
    r = ev.band("hdnd", tally(80, 40, venue="hdnd"))
    assert (r.share.numerator, r.share.denominator) == (1, 2)  # type: ignore[union-attr]


def test_band_carries_its_consequences_and_citation(ev: Evaluator) -> None:
    r = ev.band("noi_cong_tac", tally(9, 6))
    assert r.band is not None and r.band.cite.doc == "KH134" and "P12" in r.band.cite.para
    assert any("Miễn nhiệm" in m for m in r.band.must)
    r = ev.band("hdnd", tally(9, 6, venue="hdnd"))  # the HĐND applies the National Assembly's bands
    assert r.band is not None and r.band.cite.doc == "NQ96" and r.band_set == "nq96.bands_hdnd"


def test_invalid_ballots_leave_the_denominator_alone(ev: Evaluator) -> None:
    # 10 of 20 collected are low, 3 ballots invalid (high + confidence + low = 17 < 20): still exactly 1/2
    t = Tally("noi_cong_tac", 22, 20, 5, 2, 10)
    assert band(ev, t) == "khong_qua_50"
    assert ev.band("noi_cong_tac", t).share == Fraction(1, 2)


# ---- quorum -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("present", "convened", "valid"), [
    (6, 9, True),  # exactly 2/3 present
    (5, 9, False),  # one fewer
    (9, 9, True),
    (666_666, 999_999, True),
    (666_665, 999_999, False),
    (0, 3, False),
    (34, 50, True),  # 34/50 = 68 %
    (33, 50, False),  # 66 % < 2/3
])
def test_quorum(ev: Evaluator, present: int, convened: int, valid: bool) -> None:
    t = tally(present, 0, convened=convened, present=present)
    assert ev.session_valid(t) is valid
    d = ev.decide(GIAM_DOC_SO, {"noi_cong_tac": t})
    assert d.outcome == ("khong_qua_50" if valid else "invalid_session")
    if not valid:
        assert any(step.kind == "session" and step.cite is not None for step in d.trace)


def test_quorum_is_not_checked_without_convened_and_present(ev: Evaluator) -> None:
    assert ev.decide(GIAM_DOC_SO, {"noi_cong_tac": tally(10, 0)}).outcome == "khong_qua_50"
    assert ev.decide(GIAM_DOC_SO, {"noi_cong_tac": tally(10, 0, convened=30)}).outcome == "khong_qua_50"


def test_invalid_session_overrides_the_band(ev: Evaluator) -> None:
    d = ev.decide(GIAM_DOC_SO, {"noi_cong_tac": tally(9, 9, convened=20, present=9)})
    assert d.results[0].band is not None and d.results[0].band.code == "tu_2_3"
    assert d.outcome == "invalid_session"


# ---- outcomes ---------------------------------------------------------------------------------------


def test_single_venue_outcome_is_its_band(ev: Evaluator) -> None:
    d = ev.decide(GIAM_DOC_SO, {"noi_cong_tac": tally(47, 25, issued=50)})
    assert d.plan.venues == ("noi_cong_tac",)
    assert d.outcome == "tren_50"


def test_missing_tally(ev: Evaluator) -> None:
    d = ev.decide(GIAM_DOC_SO, {})
    assert d.outcome == "missing_tally"
    assert d.results[0].tally is None
    # a tally at a venue that is not planned does not count for the planned one
    assert ev.decide(GIAM_DOC_SO, {"hdnd": tally(80, 0, venue="hdnd")}).outcome == "missing_tally"


def test_two_venues_combine(ev: Evaluator) -> None:
    d = ev.decide(BI_THU_HUYEN, {"cap_uy": tally(40, 30, venue="cap_uy"), "hdnd": tally(35, 1, venue="hdnd")})
    assert d.plan.venues == ("cap_uy", "hdnd")
    assert d.outcome == "xem_xet_tong_the"
    assert [(r.venue, r.band.code if r.band else None) for r in d.results] == [("cap_uy", "tu_2_3"), ("hdnd", "khong_qua_50")]
    combine = [step for step in d.trace if step.kind == "outcome" and step.rule == "xem_xet_tong_the"]
    assert combine and combine[0].cite is not None and "P13" in combine[0].cite.para


def test_two_venues_one_missing_is_missing(ev: Evaluator) -> None:
    assert ev.decide(BI_THU_HUYEN, {"cap_uy": tally(40, 0, venue="cap_uy")}).outcome == "missing_tally"


def test_two_venues_one_invalid_is_invalid(ev: Evaluator) -> None:
    d = ev.decide(BI_THU_HUYEN, {"cap_uy": tally(40, 0, venue="cap_uy", convened=61, present=40),
                                 "hdnd": tally(35, 0, venue="hdnd")})
    assert d.outcome == "invalid_session"


def test_missing_beats_invalid(ev: Evaluator) -> None:
    d = ev.decide(BI_THU_HUYEN, {"cap_uy": tally(40, 0, venue="cap_uy", convened=90, present=40)})
    assert d.outcome == "missing_tally"


@pytest.mark.parametrize("cadre", [
    Cadre("x", "province", frozenset({"bi_thu"}), {"retirement_notice": True, "appointed_year": 2020}),  # exempt
    Cadre("y", "province", frozenset({"pct_ubnd"}), {"retirement_notice": False, "appointed_year": 2023}),  # exempt
    Cadre("z", "district", frozenset({"truong_so"}), {"retirement_notice": False, "appointed_year": 2020}),  # out of scope
    Cadre("w", "province", frozenset(), {"retirement_notice": False, "appointed_year": 2020}),  # no title
])
def test_exempt_and_out_of_scope_have_no_outcome(ev: Evaluator, cadre: Cadre) -> None:
    d = ev.decide(cadre, {v: tally(10, 10, venue=v) for v in VENUES})
    assert d.plan.venues == () and d.results == () and d.outcome is None
    assert d.plan.status in ("exempt", "out_of_scope")


def test_appointment_year_is_compared_with_the_vote_year() -> None:
    pol = load_policy(bundled.path())
    cadre = Cadre("y", "province", frozenset({"pct_ubnd"}), {"retirement_notice": False, "appointed_year": 2023})
    assert compile_policy(pol).plan(cadre).status == "exempt"
    assert compile_policy(pol, 2024).plan(cadre).status == "voted"


# ---- the examples written in the bundled policies ---------------------------------------------------

EXAMPLES = [(p, ex) for p in bundled.all_paths() for ex in load_policy(p).examples]


def test_there_are_examples_to_run() -> None:
    assert len(EXAMPLES) >= 10
    assert {ex.name for _, ex in EXAMPLES} >= {"p11_dung_50", "p12_dung_2_3", "p13_hai_noi", "thanh_hoa_ky_hop_17"}


@pytest.mark.parametrize(("path", "example"), EXAMPLES, ids=[f"{p.stem}:{ex.name}" for p, ex in EXAMPLES])
def test_written_example_passes(path, example: ir.ExampleCase) -> None:
    result = run_example(compile_policy(load_policy(path)), example)
    assert result.passed, result.failures
    assert example.expect  # an example that expects nothing would pass vacuously


def test_run_example_reports_a_wrong_expectation(ev: Evaluator) -> None:
    """run_example is not vacuous: a wrong expectation fails with expected vs got."""
    ex = next(e for e in ev.policy.examples if e.name == "p12_dung_2_3")
    wrong = ir.ExampleCase(ex.name, ex.label, ex.level, ex.titles, ex.facts, ex.tallies,
                           (("band", "noi_cong_tac", "tren_50"), ("outcome", None, "tren_50")))
    result = run_example(ev, wrong)
    assert not result.passed
    assert result.failures == ("band(noi_cong_tac): expected tren_50, got tu_2_3", "outcome: expected tren_50, got tu_2_3")


# ---- venues of concurrent titles (P5, P6) -----------------------------------------------------------


@pytest.mark.parametrize(("level", "titles", "venues"), [
    ("province", {"truong_so"}, ("noi_cong_tac",)),
    ("province", {"truong_so", "uv_ubnd"}, ("hdnd",)),  # giám đốc sở, thành viên UBND: the HĐND, not the workplace
    ("province", {"uv_btv", "truong_so", "uv_ubnd"}, ("cap_uy", "hdnd")),
    ("province", {"uv_btv", "truong_ban_dang"}, ("cap_uy", "hdnd")),  # P6 overrides P5 (finding F1)
    ("province", {"uv_btv", "pho_ban_dang"}, ("cap_uy",)),  # a deputy of a Party board is not named in P6
    ("province", {"bi_thu"}, ("cap_uy",)),
    ("province", {"pho_bi_thu", "ct_ubnd"}, ("cap_uy", "hdnd")),
    ("district", {"bi_thu", "ct_hdnd"}, ("cap_uy", "hdnd")),
    ("district", {"uv_btv", "pct_ubnd"}, ("cap_uy", "hdnd")),
    ("district", {"uv_ubnd"}, ("hdnd",)),
    ("district", {"uv_btv", "truong_ban_dang"}, ()),  # not in P4's scope
    ("district", {"truong_so", "pho_dvsn"}, ()),
])
def test_venues_of_concurrent_titles(ev: Evaluator, level: str, titles: set[str], venues: tuple[str, ...]) -> None:
    plan = ev.plan(Cadre("c", level, frozenset(titles), {"retirement_notice": False, "appointed_year": 2020}))
    assert plan.venues == venues
    assert plan.status == ("voted" if venues else "out_of_scope")
    if venues == ("cap_uy", "hdnd") and "truong_ban_dang" in titles:
        assert "p6" in plan.active_rules and "p5" not in plan.active_rules
        assert any(step.kind == "overridden" and step.rule == "p5" for step in plan.trace)
