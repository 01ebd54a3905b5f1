"""The TextMate grammar (``editors/tinnhiem.tmLanguage.json``): valid, in step with the parser, and right.

Takes the grammar file; checks that it is valid JSON, that every regex compiles (Python ``re``, or
the ``regex`` module when installed — the patterns keep to what Oniguruma and Python share), that
its keyword lists are exactly :func:`dsl.parser.keywords`, and, with a small TextMate-style line
tokenizer (leftmost match wins, ties go to the first pattern; begin/end rules), that sample lines
and every line of the bundled policies are scoped as a drafter expects.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dsl.parser import keywords
from tests.conftest import POLICY_DIR, ROOT

try:  # the regex module is closer to Oniguruma; Python's re suffices for these patterns
    import regex as rx  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    rx = re

GRAMMAR_PATH = ROOT / "editors" / "tinnhiem.tmLanguage.json"
GRAMMAR: dict[str, Any] = json.loads(GRAMMAR_PATH.read_text(encoding="utf-8"))
KEYWORD_RULES = ("keyword-declaration", "keyword-logical", "keyword-other", "constant")
KEYWORD_SCOPES = ("storage.type", "keyword.", "constant.language")


def _regexes(node: Any, where: str = "") -> list[tuple[str, str]]:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("match", "begin", "end") and isinstance(v, str):
                out.append((f"{where}.{k}", v))
            else:
                out += _regexes(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _regexes(v, f"{where}[{i}]")
    return out


def test_the_grammar_is_valid_json_for_policy_files() -> None:
    assert GRAMMAR["scopeName"] == "source.tinnhiem"
    assert GRAMMAR["fileTypes"] == ["policy"]
    for inc in GRAMMAR["patterns"]:
        assert inc["include"].lstrip("#") in GRAMMAR["repository"]
    package = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text(encoding="utf-8"))
    [grammar] = package["contributes"]["grammars"]
    assert grammar["scopeName"] == GRAMMAR["scopeName"]
    json.loads((ROOT / "editors" / "vscode" / "language-configuration.json").read_text(encoding="utf-8"))


def test_every_regex_compiles() -> None:
    found = _regexes(GRAMMAR)
    assert len(found) > 15
    for where, pattern in found:
        try:
            rx.compile(pattern)
        except re.error as exc:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"{where}: {pattern!r} does not compile: {exc}") from exc


def test_the_keywords_are_the_parsers() -> None:
    words: set[str] = set()
    for rule in KEYWORD_RULES:
        m = re.fullmatch(r"\\b\(\?:([a-z_|]+)\)\\b", GRAMMAR["repository"][rule]["match"])
        assert m, f"{rule} is not a \\b(?:a|b|…)\\b alternation"
        alts = m.group(1).split("|")
        assert len(alts) == len(set(alts)), f"{rule} repeats a word"
        assert not words & set(alts), f"{rule} repeats a word of another rule"
        words |= set(alts)
    assert words == set(keywords()), f"missing: {sorted(set(keywords()) - words)}; not keywords: {sorted(words - set(keywords()))}"


# ---- a small TextMate-style tokenizer --------------------------------------------------------------


def _rules(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "include" in node:
        return _rules(GRAMMAR["repository"][node["include"].lstrip("#")])
    if "patterns" in node and "begin" not in node:
        return [r for p in node["patterns"] for r in _rules(p)]
    return [node]


TOP = [r for p in GRAMMAR["patterns"] for r in _rules(p)]


def tokenize(line: str) -> list[tuple[str, str]]:
    """(text, scope) for each scoped piece of one line; unscoped text is left out."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(line):
        best = None
        for rule in TOP:
            m = rx.compile(rule.get("match") or rule["begin"]).search(line, pos)
            if m and m.end() > m.start() and (best is None or m.start() < best[1].start()):
                best = (rule, m)
        if best is None:
            break
        rule, m = best
        if "begin" in rule:  # until the end pattern, inner patterns (escapes) consumed first when they start earlier
            at, inner = m.end(), [r for p in rule.get("patterns", []) for r in _rules(p)]
            while True:
                end = rx.compile(rule["end"]).search(line, at)
                skip = [x for r in inner if (x := rx.compile(r["match"]).search(line, at)) and x.end() > x.start()]
                first = min(skip, key=lambda x: x.start(), default=None)
                if first is not None and (end is None or first.start() < end.start()):
                    at = first.end()
                    continue
                break
            stop = end.end() if end else len(line)
            out.append((line[m.start():stop], rule["name"]))
            pos = stop
            continue
        if "captures" in rule:
            for i, cap in sorted(rule["captures"].items(), key=lambda kv: int(kv[0])):
                if m.group(int(i)) is not None:
                    out.append((m.group(int(i)), cap["name"]))
        else:
            out.append((m.group(0), rule["name"]))
        pos = m.end()
    return out


def scopes(line: str) -> dict[str, str]:
    return {text: scope for text, scope in tokenize(line)}


def test_sample_lines_are_scoped_as_a_drafter_expects() -> None:
    band = scopes('  band tu_2_3 "Từ 2/3 # không phải chú thích" when share >= 2/3 severity 2')
    assert band["band"].startswith("storage.type") and band["tu_2_3"].startswith("entity.name.function")
    assert band['"Từ 2/3 # không phải chú thích"'].startswith("string.quoted.double")  # no comment inside a string
    assert band[">="].startswith("keyword.operator.comparison") and band["2/3"] == "constant.numeric.ratio.tinnhiem"
    assert band["when"].startswith("keyword.other") and band["2"] == "constant.numeric.integer.tinnhiem"
    cite = scopes('    cite KH134 "P2, P12" "Đối với những trường hợp có từ 2/3 số phiếu"')
    assert cite["cite"] == "keyword.other.cite.tinnhiem" and cite["KH134"] == "entity.name.type.document.tinnhiem"
    assert cite['"P2, P12"'] == "string.quoted.double.paragraph.tinnhiem"
    assert cite['"Đối với những trường hợp có từ 2/3 số phiếu"'].startswith("string.quoted.double")
    assert scopes("  date      2023-05-15")["2023-05-15"] == "constant.numeric.date.tinnhiem"
    assert scopes("when share <= 50% severity 0")["50%"] == "constant.numeric.percent.tinnhiem"
    assert scopes("quorum present >= 0.5 of convened")["0.5"] == "constant.numeric.decimal.tinnhiem"
    assert scopes("# READING: the roster gives the year")["# READING: the roster gives the year"].startswith("comment.line")
    qual = scopes("exempt p7 refines qd96.nghi_huu when retirement_notice")
    assert qual["qd96"] == "entity.name.namespace.tinnhiem" and qual["nghi_huu"] == "variable.other.tinnhiem"
    assert scopes('  expect { status exempt venues none }')["none"] == "constant.language.tinnhiem"
    assert scopes("define x = holds(btv) and not voted")["holds"].startswith("support.function")
    assert scopes(r'title x "a \"quoted\" word" tags [t]')[r'"a \"quoted\" word"'].startswith("string.quoted.double")


def test_every_keyword_in_the_bundled_policies_is_highlighted() -> None:
    kws = keywords()
    seen: set[str] = set()
    for path in sorted(POLICY_DIR.glob("*.policy")):
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            tokens = tokenize(line)
            covered = "".join(t for t, _ in tokens)
            for text, scope in tokens:
                if text in kws:
                    seen.add(text)
                    assert scope.startswith(KEYWORD_SCOPES + ("entity.name", "variable.other")), (path.name, n, text, scope)
            # a keyword outside strings and comments never goes unscoped
            code = re.sub(r'"(?:[^"\\]|\\.)*"|#.*$', "", line)
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code):
                if word in kws:
                    assert word in covered, (Path(path).name, n, word)
    assert len(seen) > 35  # the bundled policies use most of the language
