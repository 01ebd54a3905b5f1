"""The language server end to end, over its real protocol, and its analysis on arbitrary text.

Takes a copy of the bundled policies in a temporary folder; starts ``python -m tinnhiem lsp`` and
speaks LSP to it over stdio (:mod:`tests.lsp.client`): initialize, didOpen of a document with an
error → publishDiagnostics with the error's range and code, didChange → fresh diagnostics, hover →
the citation and its quoted text, definition → the declaration (also in an imported file, also for
an import path), formatting → the canonical text, garbage → diagnostics and a live server,
shutdown/exit → exit status 0. Every wait is bounded. The analysis functions are then fed mangled
documents (Hypothesis) and must never raise.
"""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import POLICY_DIR
from tests.lsp.client import LspClient
from tinnhiem.lsp import Pos, analyse, definition_at, format_text, hover_at

PLAN = "thanhhoa-kh134.policy"
CANONICAL = (POLICY_DIR / PLAN).read_text(encoding="utf-8")


def position_of(text: str, needle: str, offset: int = 0) -> dict[str, int]:
    """The LSP position of the first occurrence of ``needle`` (+ ``offset`` characters), ASCII before it on its line."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    col = index - (text.rfind("\n", 0, index) + 1)
    return {"line": line, "character": len(text[index - col: index].encode("utf-16-le")) // 2}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for p in POLICY_DIR.glob("*.policy"):
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


@pytest.fixture
def client(folder: Path):
    c = LspClient(folder)
    try:
        yield c
    finally:
        c.close()


def test_the_server_speaks_lsp_over_stdio(client: LspClient, folder: Path) -> None:
    init = client.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}})
    caps = init["capabilities"]
    assert caps["hoverProvider"] and caps["definitionProvider"] and caps["documentFormattingProvider"]
    assert init["serverInfo"]["name"] == "tinnhiem"
    client.notify("initialized", {})

    doc = folder / PLAN
    uri = doc.as_uri()
    # 1. a document with an unknown title: the diagnostic, its range and code, its help line
    typo = CANONICAL.replace("scope p4_cap_uy at district: bi_thu, pho_bi_thu", "scope p4_cap_uy at district: bi_thu, pho_bi_thuu")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tinnhiem", "version": 1, "text": typo}})
    diags = client.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == 1)
    assert len(diags["diagnostics"]) == 1
    [d] = diags["diagnostics"]
    start = position_of(typo, "pho_bi_thuu")
    assert d["code"] == "E203" and d["severity"] == 1 and d["source"] == "tinnhiem"
    assert d["range"] == {"start": start, "end": {"line": start["line"], "character": start["character"] + len("pho_bi_thuu")}}
    assert d["message"] == "unknown title 'pho_bi_thuu'\nhelp: did you mean 'pho_bi_thu'?"

    # 2. a syntax error while typing: E101 where the parser stopped
    broken = CANONICAL.replace("venues p6 overrides p5 when", "venues p6 overides p5 when")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]})
    diags = client.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == 2)
    [d] = diags["diagnostics"]
    assert d["code"] == "E101" and d["range"]["start"] == position_of(broken, "overides")
    assert "did you mean 'overrides'?" in d["message"]

    # 3. fixed: no diagnostics
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": CANONICAL}]})
    diags = client.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == 3)
    assert diags["diagnostics"] == []

    # 4. hover on a rule: its citation and the quoted Vietnamese sentence
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position_of(CANONICAL, "p7_cho_nghi_huu refines", 3)})
    value = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    assert "**exempt** `p7_cho_nghi_huu`" in value and "**KH134 P7**" in value
    assert "“Cán bộ đã có thông báo chờ nghỉ hưu hoặc được bổ nhiệm, bầu cử trong năm lấy phiếu thì không thực hiện lấy phiếu tín nhiệm.”" in value
    # hover on a title code inside a scope rule: its label
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position_of(CANONICAL, "truong_dvsn, pho_dvsn", 2)})
    assert "**title** `truong_dvsn` — Cấp trưởng đơn vị sự nghiệp trực thuộc cấp ủy, UBND" in hover["contents"]["value"]
    # nothing to say inside a quoted text
    assert client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position_of(CANONICAL, "Bí thư cấp ủy")}) is None

    # 5. definition: a local name, a name of an imported policy, an import path
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": position_of(CANONICAL, "when uy_vien_btv", 7)})
    assert locs == [{"uri": uri, "range": {"start": position_of(CANONICAL, "uy_vien_btv \""),
                                           "end": position_of(CANONICAL, "uy_vien_btv \"", len("uy_vien_btv"))}}]
    qd96 = (folder / "qd96.policy").read_text(encoding="utf-8")
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": position_of(CANONICAL, "qd96.nghi_huu", 6)})
    assert locs == [{"uri": (folder / "qd96.policy").as_uri(),
                     "range": {"start": position_of(qd96, "nghi_huu when"), "end": position_of(qd96, "nghi_huu when", len("nghi_huu"))}}]
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": position_of(CANONICAL, '"nq96-qh15.policy"', 3)})
    assert [loc["uri"] for loc in locs] == [(folder / "nq96-qh15.policy").as_uri()]

    # 6. formatting: a valid document in a drafter's layout comes back in the canonical one
    messy = CANONICAL.replace("\n  cite KH134 \"P3\"", " cite KH134 \"P3\"").replace("title bi_thu          ", "title   bi_thu ")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": messy}]})
    assert client.wait_notification("textDocument/publishDiagnostics", lambda p: p.get("version") == 4)["diagnostics"] == []
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert len(edits) == 1 and edits[0]["newText"] == CANONICAL
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}
    assert edits[0]["range"]["end"]["line"] == messy.count("\n")

    # 7. garbage: diagnostics, no crash; the server still answers
    for version, junk in enumerate(["\x00\udcff policy {{{ \"unterminated", "", "scope", "}" * 500, "policy x { name \"a\" }\nimport \"/\""], 5):
        text = junk.encode("utf-8", "replace").decode("utf-8")
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})
        client.wait_notification("textDocument/publishDiagnostics", lambda p, v=version: p.get("version") == v)
        client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}})
        client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": {"line": 40, "character": 99}})
        client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    # a document the server never saw
    assert client.request("textDocument/hover", {"textDocument": {"uri": (folder / "nope.policy").as_uri()},
                                                 "position": {"line": 0, "character": 0}}) is None

    # 8. shutdown, exit: status 0
    assert client.request("shutdown", None) is None
    client.notify("exit", None)
    assert client.proc.wait(timeout=30) == 0
    assert "Traceback" not in client.stderr() and "ERROR" not in client.stderr(), client.stderr()


# ---- the analysis on any text: never an exception ------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(0, len(CANONICAL)), length=st.integers(0, 40), insert=st.text(max_size=8),
       line=st.integers(0, 300), character=st.integers(0, 130))
def test_analysis_never_raises(cut: int, length: int, insert: str, line: int, character: int) -> None:
    text = CANONICAL[:cut] + insert + CANONICAL[cut + length:]
    path = POLICY_DIR / PLAN
    previous = analyse(path, CANONICAL)
    a = analyse(path, text, previous)
    for d in a.diagnostics:
        assert d.code.startswith("E") and d.range.start.line >= 0
    pos = Pos(line, character)
    hover_at(a, pos)
    definition_at(a, pos)
    format_text(text, path)


def test_ranges_are_in_the_editors_text_even_when_it_is_decomposed() -> None:
    # an editor may hold Vietnamese in NFD (a base letter and combining marks); the parser works on NFC
    line = 'define x "Cán bộ là ủy viên ban thường vụ cấp ủy" = holds(btvv)'
    text = CANONICAL.replace("# ---- scope (P3, P4)", unicodedata.normalize("NFD", line) + "\n\n# ---- scope (P3, P4)")
    assert unicodedata.normalize("NFD", line) in text and not unicodedata.is_normalized("NFC", text)
    a = analyse(POLICY_DIR / PLAN, text)
    [d] = a.diagnostics
    assert d.code == "E203"
    want = position_of(text, "btvv")
    assert (d.range.start.line, d.range.start.character) == (want["line"], want["character"])
    assert d.range.end.character - d.range.start.character == len("btvv")
