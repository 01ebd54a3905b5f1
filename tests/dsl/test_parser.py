"""Parser tests: the bundled policies, span-free tree equality, NFC, exact thresholds.

Takes the bundled ``policy/*.policy`` files and small policies written here; checks that every
bundled policy parses and lowers, that two texts saying the same thing (re-indented, comments moved)
give equal syntax trees while a changed threshold does not, that decomposed Vietnamese text equals
the composed form after parsing, and that thresholds are exact :class:`~fractions.Fraction` values
from the lexer on.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest

import policy as bundled
from dsl import ir
from dsl import syntax as s
from dsl.loader import load_policy
from dsl.parser import _comment_start, parse

BUNDLED = bundled.all_paths()


def test_the_three_bundled_policies_are_found() -> None:
    assert {p.name for p in BUNDLED} >= {"thanhhoa-kh134.policy", "qd96.policy", "nq96-qh15.policy"}


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_policy_parses_and_lowers(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = parse(text, path.name)
    assert isinstance(tree, s.PolicyFile) and tree.items
    assert isinstance(tree.items[0], s.Header) or any(isinstance(i, s.Header) for i in tree.items)
    pol = load_policy(path)
    assert isinstance(pol, ir.Policy)
    assert pol.id == next(i for i in tree.items if isinstance(i, s.Header)).name.text
    assert len(pol.sha256) == 64


def test_the_provincial_plan_lowers_to_what_the_text_says() -> None:
    pol = load_policy(bundled.path())
    assert pol.vote_year == 2023
    assert pol.venue_codes() == ("cap_uy", "hdnd", "noi_cong_tac")
    assert pol.max_venues is not None and pol.max_venues.count == 2
    assert pol.share is not None and pol.share.denominator == "collected"
    assert pol.quorum is not None and (pol.quorum.op, pol.quorum.ratio) == (">=", Fraction(2, 3))
    assert set(pol.title_codes()) == {
        "bi_thu", "pho_bi_thu", "uv_btv", "ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd",
        "uv_ubnd", "truong_ban_dang", "pho_ban_dang", "truong_so", "pho_so", "truong_dvsn", "pho_dvsn"}
    assert [x.name for x in pol.exemptions] == ["p7_cho_nghi_huu", "p7_moi_bo_nhiem"]
    for v in pol.venue_codes():
        bs = pol.band_set_at(v)
        assert bs is not None and [b.code for b in bs.bands] == ["khong_qua_50", "tren_50", "tu_2_3"]


# ---- the syntax tree ignores spans -----------------------------------------------------------------


def _code_and_comment(line: str) -> tuple[str, str | None]:
    """Split a line at its first '#' outside a string (the parser's own rule)."""
    pos = _comment_start(line)
    return (line, None) if pos is None else (line[:pos], line[pos:])


def _reshape(text: str) -> str:
    """The same policy, re-indented, blank lines dropped, every comment moved to the top of the file."""
    comments, body = [], []
    for n, line in enumerate(text.split("\n")):
        code, comment = _code_and_comment(line)
        if comment is not None:
            comments.append(comment)
        if code.strip():
            body.append(" " * (1 + n % 7) + code.strip() + ("\t# moved" if n % 3 == 0 else ""))
    return "\n".join(comments + ["", "# ---- reshaped ----"] + body) + "\n"


def _spans(node: object) -> list[s.Span]:
    out = []
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            if f.name == "span":
                out.append(v)
            else:
                out += _spans(v)
    elif isinstance(node, tuple):
        for v in node:
            out += _spans(v)
    return out


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_tree_equality_ignores_layout_and_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    reshaped = _reshape(text)
    assert reshaped != text
    a, b = parse(text, "a.policy"), parse(reshaped, "a.policy")
    assert a == b
    assert a.items == parse(reshaped, "elsewhere.policy").items  # the spans' file name plays no part either
    # the comparison is meaningful: the spans and the comments really differ
    assert [(sp.line, sp.column) for sp in _spans(a.items)] != [(sp.line, sp.column) for sp in _spans(b.items)]
    assert [c.span.line for c in a.comments] != [c.span.line for c in b.comments]


def test_tree_equality_sees_a_changed_threshold() -> None:
    text = bundled.path().read_text(encoding="utf-8")
    assert "share >= 2/3" in text
    changed = text.replace("share >= 2/3", "share >= 3/5", 1)
    assert parse(text, "a.policy") != parse(changed, "a.policy")


def test_tree_equality_sees_a_changed_label() -> None:
    a = parse('policy t { name "Bí thư" }\n', "a")
    b = parse('policy t { name "Bí  thư" }\n', "a")
    assert a != b


# ---- NFC --------------------------------------------------------------------------------------------

POLICY_VI = """\
policy nfc { name "Kế hoạch lấy phiếu tín nhiệm" }
levels { province "Cấp tỉnh" }
title pho_bi_thu "Phó Bí thư cấp ủy"
document KH134 "Kế hoạch số 134-KH/TU"
provision p7 "Cán bộ đã có thông báo chờ nghỉ hưu"
  cite KH134 "P7" "được bổ nhiệm, bầu cử trong năm lấy phiếu"
"""


def test_decomposed_vietnamese_equals_composed() -> None:
    nfc = unicodedata.normalize("NFC", POLICY_VI)
    nfd = unicodedata.normalize("NFD", POLICY_VI)
    assert nfc != nfd and len(nfd) > len(nfc)  # the input really is decomposed
    a, b = parse(nfc, "a.policy"), parse(nfd, "a.policy")
    assert a == b
    title = next(i for i in b.items if isinstance(i, s.Title))
    assert title.label.value == "Phó Bí thư cấp ủy"
    assert unicodedata.is_normalized("NFC", title.label.value)
    prov = next(i for i in b.items if isinstance(i, s.Provision))
    assert prov.cite.quote.value == "được bổ nhiệm, bầu cử trong năm lấy phiếu"


def test_loader_normalises_a_decomposed_file(tmp_path: Path) -> None:
    (tmp_path / "nfd.policy").write_text(unicodedata.normalize("NFD", POLICY_VI), encoding="utf-8")
    pol = load_policy(tmp_path / "nfd.policy")
    assert pol.name == "Kế hoạch lấy phiếu tín nhiệm"
    assert pol.titles[0].label == "Phó Bí thư cấp ủy"
    assert pol.provisions[0].text == "Cán bộ đã có thông báo chờ nghỉ hưu"


def test_escapes_and_adjacent_strings() -> None:
    tree = parse('policy t { name "Kế hoạch \\"134\\"" "số 134-KH/TU" }\n', "a")
    header = tree.items[0]
    assert isinstance(header, s.Header)
    assert header.fields[0].value == 'Kế hoạch "134" số 134-KH/TU'


# ---- exact thresholds -----------------------------------------------------------------------------


def _band_policy(*conditions: str) -> str:
    bands = "\n".join(
        f'  band b{i} "Mức {i}" when {c} severity {i}\n    cite KH134 "P11" "trên 50%"' for i, c in enumerate(conditions))
    return f'policy t {{ name "Ngưỡng" }}\ndocument KH134 "Kế hoạch 134"\nbands kh {{\n{bands}\n}}\n'


def _ratios(tree: s.PolicyFile) -> list[s.RatioLit]:
    out: list[s.RatioLit] = []

    def walk(node: object) -> None:
        if isinstance(node, s.RatioLit):
            out.append(node)
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name))
        elif isinstance(node, tuple):
            for v in node:
                walk(v)

    walk(tree.items)
    return out


@pytest.mark.parametrize(("written", "value"), [
    ("2/3", Fraction(2, 3)),
    ("66.67%", Fraction(6667, 10000)),
    ("0.5", Fraction(1, 2)),
    ("50%", Fraction(1, 2)),
    ("100%", Fraction(1)),
    ("0.1", Fraction(1, 10)),  # a float would be 0.1000000000000000055…
    ("33.3333333333333333333%", Fraction(333333333333333333333, 10**21)),
    ("999999/1000000", Fraction(999999, 1000000)),
])
def test_threshold_is_an_exact_fraction(written: str, value: Fraction) -> None:
    (lit,) = _ratios(parse(_band_policy(f"share >= {written}"), "a"))
    assert type(lit.value) is Fraction
    assert lit.value == value
    assert lit.text == written


def test_thresholds_stay_exact_through_lowering(tmp_path: Path) -> None:
    (tmp_path / "t.policy").write_text(_band_policy("share >= 2/3", "share > 66.67%", "share <= 0.5"), encoding="utf-8")
    pol = load_policy(tmp_path / "t.policy")
    values = [b.when.value for b in pol.band_sets[0].bands]  # type: ignore[union-attr]
    assert values == [Fraction(2, 3), Fraction(6667, 10000), Fraction(1, 2)]
    assert all(type(v) is Fraction for v in values)
    assert Fraction(6667, 10000) != Fraction(2, 3)  # 66.67% is not 2/3: the language does not round


def test_a_threshold_compared_the_other_way_round_is_flipped(tmp_path: Path) -> None:
    (tmp_path / "t.policy").write_text(_band_policy("2/3 <= share"), encoding="utf-8")
    (band,) = load_policy(tmp_path / "t.policy").band_sets[0].bands
    assert band.when == ir.ShareCmp(">=", Fraction(2, 3))


def test_unicode_comparison_operators_are_normalised() -> None:
    a = parse(_band_policy("share ≥ 2/3"), "a")
    b = parse(_band_policy("share >= 2/3"), "a")
    assert a == b
