"""``A OP p of B``: arithmetic on whole numbers where texts use it (a proposal signed by at least 20% of all
deputies). Decided exactly — ``A × q OP p × B`` — by the evaluator, the interpreter and Z3 alike, printed
back as written, and a comparison of a number with a ratio gets a help line that shows the form."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from checker.encode import Domain, Encoder, Env
from dsl.diagnostics import PolicyError
from dsl.evaluator import Cadre, Evaluator
from dsl.interpret import interpret_plan
from dsl.loader import load_policy_text
from dsl.parser import parse
from dsl.printer import format_file

GOOD = Path(__file__).resolve().parents[1] / "checker" / "good" / "quorum_issued.policy"


def _policy(condition: str):
    text = GOOD.read_text(encoding="utf-8")
    text = text.replace('fact appointed_year: year "Năm được bổ nhiệm gần nhất"',
                        'fact appointed_year: year "Năm được bổ nhiệm gần nhất"\n'
                        'fact so_dai_bieu: int "Tổng số đại biểu"\nfact so_kien_nghi: int "Số đại biểu ký kiến nghị"')
    text = text.replace("exempt nghi_huu when retirement_notice", f"exempt nghi_huu when {condition}")
    return text, load_policy_text(str(GOOD.parent / "part.policy"), text)


@pytest.mark.parametrize(("signed", "exempt"), [(96, False), (97, True), (0, False), (481, True)])
def test_twenty_percent_of_481_is_decided_exactly(signed: int, exempt: bool) -> None:
    """20% of 481 is 96.2: 96 signatures are not enough, 97 are (no rounding anywhere)."""
    _, pol = _policy("so_kien_nghi >= 20% of so_dai_bieu")
    cadre = Cadre("x", "province", frozenset({"bi_thu"}), {"retirement_notice": False, "appointed_year": 2020,
                                                           "so_dai_bieu": 481, "so_kien_nghi": signed})
    assert (Evaluator(pol).plan(cadre).status == "exempt") is exempt
    assert (interpret_plan(pol, cadre).status == "exempt") is exempt
    enc = Encoder(pol, 2023, Domain())
    r = enc.roster()
    cond = enc.condition(pol.exemptions[0].when, Env(r))
    solver = z3.Solver(ctx=enc.ctx)
    solver.add(*enc.constraints, r.facts["so_dai_bieu"] == 481, r.facts["so_kien_nghi"] == signed,
               r.given["so_dai_bieu"], r.given["so_kien_nghi"])
    solver.add(cond if exempt else z3.Not(cond))
    assert solver.check() == z3.sat
    solver.reset()
    solver.add(*enc.constraints, r.facts["so_dai_bieu"] == 481, r.facts["so_kien_nghi"] == signed,
               r.given["so_dai_bieu"], r.given["so_kien_nghi"])
    solver.add(z3.Not(cond) if exempt else cond)
    assert solver.check() == z3.unsat


def test_a_missing_number_satisfies_no_part() -> None:
    _, pol = _policy("so_kien_nghi >= 20% of so_dai_bieu")
    cadre = Cadre("x", "province", frozenset({"bi_thu"}), {"retirement_notice": False, "appointed_year": 2020, "so_kien_nghi": 5})
    assert Evaluator(pol).plan(cadre).status == "voted"


def test_printed_back_as_written() -> None:
    text, _ = _policy("so_kien_nghi >= 1/5 of so_dai_bieu")
    printed = format_file(parse(text, "part.policy"))
    assert "when so_kien_nghi >= 1/5 of so_dai_bieu" in printed
    assert format_file(parse(printed, "part.policy")) == printed


def test_a_number_against_a_ratio_shows_the_form() -> None:
    with pytest.raises(PolicyError) as err:
        _policy("so_kien_nghi >= 20%")
    text = err.value.render()
    assert "E301" in text and "so_kien_nghi >= 20% of so_dai_bieu" in text


def test_a_part_of_the_share_is_refused_in_a_band() -> None:
    text = GOOD.read_text(encoding="utf-8").replace("when share <= 1/2 severity 0", "when share <= 1/2 of share severity 0")
    with pytest.raises(PolicyError) as err:
        load_policy_text(str(GOOD.parent / "part.policy"), text)
    assert "E301" in err.value.render()
