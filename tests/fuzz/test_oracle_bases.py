"""The fuzz oracle counts a refined band set over the base of the text that declares it.

:class:`checker.fuzz_oracle.PerInput` states ``refinement_keeps`` on one input: a band set and the
imported set it refines must decide every tally both can read alike, *each over its own base* — the
refining set over :meth:`dsl.ir.Policy.base_of` in the refining text, the imported set over its ``over``
or, without one, the share denominator of the text that declares it (as the checker's
``checker.properties._refined_base`` reads it). The oracle used to count the imported set over the
refining set's base, so a refinement that changes the base looked as if it kept every band.

Two pairs of texts (written to a temporary folder and loaded as ``tinnhiem`` loads them): the imported
set says ``over members`` and the refining one ``over collected``; and neither says ``over``, the
imported text sharing ``low / issued``, the refining one ``low / collected``. Same bands, same
thresholds: only the bases differ. The checker refutes ``refinement_keeps`` for both, its
counterexample reproduces through ``PerInput``, and ``PerInput`` flags exactly the tallies the two bases
decide differently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.fuzz_oracle import PerInput
from checker.solve import Checker
from checker.strategies import FuzzInput
from dsl.evaluator import Cadre, Evaluator, Tally
from dsl.ir import Policy
from dsl.loader import load_policy

KEEPS = "builtin.refinement_keeps"

def _bands(doc: str) -> str:
    return (f'{{\n  band thap "Không quá 1/2" when share <= 1/2 severity 0 cite {doc} "Điều 4" "không quá một nửa"\n'
            f'  band cao "Trên 1/2" when share > 1/2 severity 1 cite {doc} "Điều 5" "trên một nửa"\n}}\n')


def _base_text(share: str, over: str) -> str:
    return f"""policy central {{
  name "Văn bản trung ương mẫu"
  issuer "tinnhiem test suite"
  date 2023-01-01
}}
document TW "Văn bản trung ương thử nghiệm"
venue v "Nơi bỏ phiếu"
share = low / {share} cite TW "Điều 2" "tỷ lệ"
bands b{over} {_bands("TW")}"""


def _mine_text(share: str, over: str) -> str:
    return f"""policy mine {{
  name "Chính sách tinh chỉnh"
  issuer "tinnhiem test suite"
  date 2023-01-01
  vote_year 2023
}}
document T "Văn bản thử nghiệm"
import "base.policy" as tw
levels {{ province "Cấp tỉnh" }}
title t0 "Chức danh"
scope s0 at province: t0 cite T "Điều 1" "phạm vi"
venues r when voted {{ v }} cite T "Điều 3" "nơi bỏ phiếu"
share = low / {share} cite T "Điều 2" "tỷ lệ"
bands b refines tw.b{over} {_bands("T")}apply b at v cite T "Điều 6" "áp dụng"
"""


#: (imported set: share denominator, over), (refining set: share denominator, over), the imported set's base
PAIRS = {
    "over members, refined over collected": (("collected", " over members"), ("collected", " over collected"), "members"),
    "the declaring text's share (issued), refined over collected": (("issued", ""), ("collected", ""), "issued"),
}
CADRE = Cadre("c", "province", frozenset({"t0"}), {})


def _load(tmp_path: Path, pair: str) -> Policy:
    (base_share, base_over), (mine_share, mine_over), _ = PAIRS[pair]
    (tmp_path / "base.policy").write_text(_base_text(base_share, base_over), encoding="utf-8")
    (tmp_path / "mine.policy").write_text(_mine_text(mine_share, mine_over), encoding="utf-8")
    return load_policy(tmp_path / "mine.policy")


def _violates(pol: Policy, *tallies: Tally) -> bool:
    ev = Evaluator(pol, 2023)
    inp = FuzzInput(CADRE, tallies)
    return KEEPS in PerInput(pol, ev, [KEEPS]).violations(inp, ev.decide(CADRE, dict(inp.at)))


@pytest.mark.parametrize("pair", PAIRS)
def test_the_refined_set_is_counted_over_its_own_texts_base(tmp_path: Path, pair: str) -> None:
    pol = _load(tmp_path, pair)
    bs = pol.band_sets[0]
    assert bs.refined is not None and pol.base_of(bs) == "collected"
    theirs = PAIRS[pair][2]
    # 2 low of 2 collected (all low: cao) but of 5 issued / 5 members (2/5: thap)
    differ = Tally("v", 5, 2, 0, 0, 2, None, None, 5)
    assert _violates(pol, differ), f"the imported set is counted over collected, not over {theirs}"
    # 1 low of 4 collected, of 5 issued / 5 members: thap both ways
    assert not _violates(pol, Tally("v", 5, 4, 2, 1, 1, None, None, 5))
    if theirs == "members":  # no members column: the imported set cannot read the tally, nothing to compare
        assert not _violates(pol, Tally("v", 5, 2, 0, 0, 2))


@pytest.mark.parametrize("pair", PAIRS)
def test_the_checkers_counterexample_reproduces_through_the_oracle(tmp_path: Path, pair: str) -> None:
    pol = _load(tmp_path, pair)
    res = next(p for p in Checker(pol, timeout_ms=20_000).run().properties if p.id == KEEPS)
    assert res.status == "refuted", res.message
    tallies = [ob.counterexample.tallies for ob in res.findings if ob.counterexample is not None and ob.counterexample.tallies]
    assert tallies, "a band set refined over another base: the checker gives a tally both texts read"
    for rows in tallies:
        assert _violates(pol, *(row.tally() for row in rows)), [row.tally() for row in rows]
