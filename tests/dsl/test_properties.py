"""Property tests (Hypothesis, ``ci`` profile) of the compiled bundled policy, and the real tallies.

Takes random tallies (up to 10**30 ballots) and random roster rows (any combination of title codes,
both levels, random facts); checks the bands against a plain integer reference, and the plans
against the brief's interface (section 3) and the decision semantics of :mod:`dsl.ir`: at most two
venues, in priority order, none for an exempt or out-of-scope cadre, at least one for a voted cadre,
exemptions in declaration order. Then the published results of December 2023 (DOMAIN.md) through
the evaluator with exact fractions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import policy as bundled
from dsl.evaluator import Cadre, Evaluator, Tally, compile_policy
from dsl.loader import load_policy

POLICY = load_policy(bundled.path())
EV: Evaluator = compile_policy(POLICY)
VENUES = ("cap_uy", "hdnd", "noi_cong_tac")
TITLES = POLICY.title_codes()

# The brief's table of title codes (section 3, binding): the scope P3/P4 give each code.
SCOPE_BRIEF = {
    "province": set(TITLES),
    "district": {"bi_thu", "pho_bi_thu", "ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd", "uv_ubnd"},
}


def reference_band(low: int, collected: int) -> str:
    if low * 2 <= collected:
        return "khong_qua_50"
    if low * 3 >= 2 * collected:
        return "tu_2_3"
    return "tren_50"


@st.composite
def tallies(draw: st.DrawFn) -> Tally:
    # small councils, large workplaces, and counts far beyond what a float represents exactly
    collected = draw(st.one_of(st.integers(1, 200), st.integers(10**6, 10**7), st.integers(10**17, 10**30)))
    # aim at the edges often: 0, all, exactly 1/2, exactly 2/3 and their neighbours
    edge = draw(st.sampled_from(["any", "half", "two_thirds", "zero", "all"]))
    if edge == "half":
        low = collected // 2 + draw(st.integers(-1, 1))
    elif edge == "two_thirds":
        low = (2 * collected) // 3 + draw(st.integers(-1, 1))
    elif edge == "zero":
        low = 0
    elif edge == "all":
        low = collected
    else:
        low = draw(st.integers(0, collected))
    low = min(max(low, 0), collected)
    invalid = draw(st.integers(0, collected - low))
    high = draw(st.integers(0, collected - low - invalid))
    issued = collected + draw(st.integers(0, 3))
    return Tally(draw(st.sampled_from(VENUES)), issued, collected, high, collected - low - invalid - high, low)


@given(tallies())
def test_bands_agree_with_the_integer_reference(t: Tally) -> None:
    r = EV.band(t.venue, t)
    assert r.band is not None
    assert r.band.code == reference_band(t.low, t.collected)
    assert r.share == Fraction(t.low, t.collected)
    assert r.also_matched == ()  # the bands are disjoint


@given(tallies(), tallies())
def test_severity_is_monotone_in_the_share(a: Tally, b: Tally) -> None:
    ra, rb = EV.band("noi_cong_tac", a), EV.band("noi_cong_tac", b)
    assume(ra.share != rb.share)
    lo, hi = (ra, rb) if ra.share < rb.share else (rb, ra)  # type: ignore[operator]
    assert lo.band is not None and hi.band is not None
    assert lo.band.severity <= hi.band.severity


@st.composite
def cadres(draw: st.DrawFn) -> Cadre:
    titles = frozenset(draw(st.sets(st.sampled_from(TITLES), max_size=5)))
    facts: dict[str, bool | int] = {"retirement_notice": draw(st.booleans())}
    year = draw(st.one_of(st.none(), st.integers(2015, 2025), st.just(2023)))
    if year is not None:
        facts["appointed_year"] = year
    return Cadre("c", draw(st.sampled_from(["province", "district"])), titles, facts)


@given(cadres())
def test_plans_obey_the_interface(cadre: Cadre) -> None:
    plan = EV.plan(cadre)
    venues = plan.venues
    assert len(venues) <= 2
    assert len(set(venues)) == len(venues)
    assert list(venues) == sorted(venues, key=VENUES.index)  # cap_uy < hdnd < noi_cong_tac
    in_scope = bool(cadre.titles & SCOPE_BRIEF[cadre.level])
    exempt = bool(cadre.facts["retirement_notice"]) or cadre.facts.get("appointed_year") == 2023
    assert plan.in_scope == in_scope
    assert plan.status == ("exempt" if exempt else "voted" if in_scope else "out_of_scope")
    if plan.status in ("exempt", "out_of_scope"):
        assert venues == ()
    else:
        assert len(venues) >= 1
    # exemptions are listed in declaration order, each at most once
    names = [x.name for x in plan.exemptions]
    declared = [x.name for x in POLICY.exemptions]
    assert names == [n for n in declared if n in names]
    expected = []
    if cadre.facts["retirement_notice"]:
        expected.append("p7_cho_nghi_huu")
    if cadre.facts.get("appointed_year") == 2023:
        expected.append("p7_moi_bo_nhiem")
    assert names == expected


BTV = {"bi_thu", "pho_bi_thu", "uv_btv"}
HDND_BAU = {"ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd", "uv_ubnd"}
P6 = {"ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd", "truong_ban_dang"}


def reference_venues(cadre: Cadre, status: str) -> tuple[str, ...]:
    """P5/P6 as the bundled policy reads them (its tags btv, hdnd_bau, p6)."""
    if status != "voted":
        return ()
    if cadre.titles & BTV and cadre.titles & P6:
        return ("cap_uy", "hdnd")  # P6
    out = []
    if cadre.titles & BTV:
        out.append("cap_uy")
    if cadre.titles & HDND_BAU:
        out.append("hdnd")
    return tuple(out) or ("noi_cong_tac",)


@given(cadres())
def test_venues_follow_p5_and_p6(cadre: Cadre) -> None:
    plan = EV.plan(cadre)
    assert plan.venues == reference_venues(cadre, plan.status)
    if plan.venues:
        d = EV.decide(cadre, {})
        assert d.outcome == "missing_tally"
        full = EV.decide(cadre, {v: Tally(v, 10, 10, 10, 0, 0) for v in plan.venues})
        assert full.outcome == ("xem_xet_tong_the" if len(plan.venues) == 2 else "khong_qua_50")


def test_every_title_combination_has_at_most_two_venues() -> None:
    """Exhaustively over the titles that decide the venues (2**11 subsets, both levels)."""
    deciding = sorted(BTV | HDND_BAU | P6 | {"truong_so"})
    for mask in range(1 << len(deciding)):
        titles = frozenset(t for i, t in enumerate(deciding) if mask >> i & 1)
        for level in ("province", "district"):
            plan = EV.plan(Cadre("c", level, titles, {"retirement_notice": False, "appointed_year": 2020}))
            assert len(plan.venues) <= 2 and len(plan.proposed) <= 2, (level, titles, plan.proposed)


# ---- the real tallies of DOMAIN.md -----------------------------------------------------------------


def percent(part: int, whole: int, places: int = 2) -> Decimal:
    """A published percentage: exact fraction, rounded half up at the end only."""
    exact = Fraction(part * 100, whole)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def test_thanh_hoa_session_17_percentages() -> None:
    # Đỗ Trọng Hưng, Chủ tịch HĐND tỉnh: 78 high, 1 confidence, 1 low of 80 collected (published 97.5 / 1.25 / 1.25)
    assert Fraction(78 * 100, 80) == Fraction(195, 2) == Fraction("97.5")
    assert Fraction(1 * 100, 80) == Fraction(5, 4) == Fraction("1.25")
    assert (percent(78, 80), percent(1, 80)) == (Decimal("97.50"), Decimal("1.25"))
    # Lê Tiến Lam, Phó Chủ tịch HĐND tỉnh: 77 / 3 / 0
    assert (percent(77, 80), percent(3, 80), percent(0, 80)) == (Decimal("96.25"), Decimal("3.75"), Decimal("0.00"))


@pytest.mark.parametrize(("titles", "high", "confidence", "low"), [
    ({"ct_hdnd"}, 78, 1, 1),  # Đỗ Trọng Hưng
    ({"pct_hdnd"}, 77, 3, 0),  # Lê Tiến Lam
])
def test_thanh_hoa_session_17_through_the_evaluator(titles: set[str], high: int, confidence: int, low: int) -> None:
    cadre = Cadre("th", "province", frozenset(titles), {"retirement_notice": False, "appointed_year": 2021})
    t = Tally("hdnd", 80, 80, high, confidence, low)
    d = EV.decide(cadre, {"hdnd": t})
    assert d.plan.venues == ("hdnd",)
    (r,) = d.results
    assert r.share == Fraction(low, 80)
    assert r.share * 100 == Fraction(5, 4) * low
    assert r.band is not None and r.band.code == "khong_qua_50" and r.band_set == "nq96.bands_hdnd"
    assert d.outcome == "khong_qua_50"


def test_ha_tinh_december_2023() -> None:
    # Hoàng Trung Dũng 52 high of 52; Trần Tú Anh 49 high of 52 collected
    assert Fraction(52, 52) == 1 and percent(52, 52) == Decimal("100.00")
    assert Fraction(49 * 100, 52) == Fraction(1225, 13)
    assert percent(49, 52) == Decimal("94.23")
    # whatever the split of the other 3 ballots, 49 high of 52 is never more than half low
    cadre = Cadre("ht", "province", frozenset({"pct_ubnd"}), {"retirement_notice": False, "appointed_year": 2021})
    for low in range(4):
        for confidence in range(4 - low):
            d = EV.decide(cadre, {"hdnd": Tally("hdnd", 52, 52, 49, confidence, low)})
            assert d.outcome == "khong_qua_50"
            assert d.results[0].share == Fraction(low, 52)
