"""The canonical printer: meaning-preserving, idempotent, comment-keeping; bundled policies canonical.

Takes the bundled policies and hand-made variants (re-indented, comments moved, long texts); checks
``parse ∘ format`` gives an equal syntax tree and IR, ``format ∘ format = format``, every comment
survives, and ``tinnhiem fmt --check`` reports and exits as documented.
"""

from __future__ import annotations

import shutil

import pytest

from dsl.loader import load_policy
from dsl.parser import parse
from dsl.printer import format_file
from tests.conftest import POLICY_DIR
from tinnhiem.cli import main

BUNDLED = sorted(POLICY_DIR.glob("*.policy"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_policies_are_in_canonical_form(path):
    text = path.read_text(encoding="utf-8")
    assert format_file(parse(text, path.name)) == text, f"run: tinnhiem fmt {path}"


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_format_preserves_meaning_and_is_idempotent(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    # a messy variant: everything on fewer lines, different spacing
    messy = "\n".join(" ".join(line.split()) + "   " for line in text.splitlines())
    pf = parse(messy, path.name)
    once = format_file(pf)
    again = parse(once, path.name)
    assert again.items == pf.items
    assert format_file(again) == once
    assert [c.text for c in again.comments] == [c.text for c in pf.comments]
    # and the IR is the same (imports resolved next to the copy)
    for f in BUNDLED:
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / path.name).write_text(once, encoding="utf-8")
    assert load_policy(tmp_path / path.name) == load_policy(path)


def test_long_texts_wrap_and_join_back_exactly():
    quote = "Việc lấy phiếu " * 30 + "cuối  câu có hai dấu cách và \"ngoặc kép\" và \\ gạch."
    src = f'policy p {{ name "{quote.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}" }}\n'
    pf = parse(src, "x.policy")
    out = format_file(pf)
    assert max(len(line) for line in out.splitlines()) <= 125
    assert parse(out, "x.policy").items == pf.items
    assert parse(out, "x.policy").items[0].fields[0].value == quote


def test_parentheses_are_kept_where_the_tree_needs_them():
    src = (
        'policy p { name "x" }\nfact a: bool "a"\nfact b: bool "b"\nfact c: bool "c"\n'
        "define x = (a or b) and not (c or a)\n"
        "define y = a and (b and c)\n"
        "define z = (a implies b) implies c\n"
        "define w = not not a or b\n"
    )
    pf = parse(src, "x.policy")
    out = format_file(pf)
    assert "(a or b) and not (c or a)" in out
    assert "a and (b and c)" in out
    assert "(a implies b) implies c" in out
    assert parse(out, "x.policy").items == pf.items


def test_comments_inside_blocks_stay_inside(tmp_path):
    src = (
        'policy p { name "x" }\n'
        "bands b {\n"
        "  # about the first band\n"
        '  band a "A" when share <= 1/2 severity 0 cite D "1" "q"\n'
        '  band c "C" when share > 1/2 severity 1 # trailing\n'
        '    cite D "2" "q"\n'
        "}\n# the end\n"
    )
    out = format_file(parse(src, "x.policy"))
    lines = out.splitlines()
    assert lines.index("  # about the first band") < next(i for i, t in enumerate(lines) if "band a" in t)
    assert "  # trailing" in lines or "    # trailing" in lines
    assert lines[-1] == "# the end"
    assert format_file(parse(out, "x.policy")) == out


def test_fmt_check_and_write(tmp_path, capsys):
    p = tmp_path / "x.policy"
    p.write_text('policy p {   name "x" }\n', encoding="utf-8")
    assert main(["fmt", "--check", str(p)]) == 1
    assert "would reformat" in capsys.readouterr().out
    assert p.read_text(encoding="utf-8") == 'policy p {   name "x" }\n'
    assert main(["fmt", str(p)]) == 0
    assert main(["fmt", "--check", str(p)]) == 0
    bad = tmp_path / "bad.policy"
    bad.write_text("policy p { name }\n", encoding="utf-8")
    assert main(["fmt", str(bad)]) == 2
    assert "error[E10" in capsys.readouterr().err
