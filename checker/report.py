"""Check reports: the results of :mod:`checker.solve` as JSON, JUnit XML, SARIF 2.1.0 and text.

Takes the outcome of each policy given, in the order given — its :class:`checker.solve.PolicyReport`,
or a :class:`LoadFailure` when it could not be checked (parse, type or import errors: exit 2) — and
the run's exit code; produces the report text in one of :data:`FORMATS`. A policy with errors is in
every format, with the file, line and column of each diagnostic and its code (``E203``…):

- ``json`` — stable and deterministic: keys sorted, properties in catalog order, no timing outside
  the top-level ``stats`` key (which may vary from run to run); every policy entry has ``errors``
  (its diagnostics; a policy with errors has ``"id": null`` and no properties);
- ``junit`` — valid against the Jenkins JUnit schema (``junit-10.xsd``), with no run-dependent
  attribute (no ``time``): one ``<testsuite>`` per policy, one ``<testcase>`` per property: a
  refutation or a stale acknowledgement is a ``<failure>``, unknown or an internal error an
  ``<error>``, a property that does not apply ``<skipped>``; an acknowledged finding passes with its
  text in ``<system-out>``; each text starts with ``file:line:col`` of the rule involved. A policy
  with errors is a suite of ``<error>`` test cases, one per diagnostic, named by its code and place;
- ``sarif`` — SARIF 2.1.0 (valid against the official schema, with what GitHub code scanning needs:
  rule help, tool ``informationUri``, fingerprints): one rule per property, one result per property
  checked, located at the policy file line of the rule involved; an acknowledged finding is a result
  with an accepted in-source suppression carrying its reason; each diagnostic of a policy with
  errors is a result of the rule named by its code, at its place;
- ``text`` — rich: per policy, per property ✓ / ✗ / ⚠ / ? / –, the citations of the rules involved,
  each counterexample as tables (roster row, tally rows, the evaluator's decision and its trace);
  a policy with errors by the first line of each diagnostic (the whole ones go to stderr).
  Every text of the policy reaches rich as a :class:`rich.text.Text` (never as markup).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from checker import properties as P
from checker.encode import RuleRef
from checker.replay import BandDecision, CadreDecision
from checker.solve import SYMBOLS, Counterexample, ObligationResult, PolicyReport, PropertyResult
from dsl import ir
from dsl.diagnostics import CODES, Diagnostic, PolicyError
from dsl.spans import Span
from dsl.values import VOTE_YEARS

FORMATS = ("text", "json", "junit", "sarif")
TOOL = "tinnhiem"
VERSION = "0.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: Where a reader of a SARIF log learns about the tool (``tool.driver.informationUri``): the
#: distribution's page, as ``[project.urls]`` of pyproject.toml.
INFORMATION_URI = "https://pypi.org/project/tinnhiem/"
_STATUSES = ("proved", "refuted", "acknowledged", "stale", "unknown", "not_applicable", "internal_error")


@dataclass(frozen=True)
class LoadFailure:
    """A policy given to ``check`` that could not be checked: it has parse, type or import errors
    (exit 2). ``path`` is the policy as given (displayed as the loader displays paths); ``error``
    carries every diagnostic, each with its own file (an imported file's, perhaps) and place."""

    path: str
    error: PolicyError

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(self.error.diagnostics)


#: What a report is made of: per policy given, in the order given, its report or why it has none.
Outcome = PolicyReport | LoadFailure


def _reports(outcomes: Sequence[Outcome]) -> list[PolicyReport]:
    return [o for o in outcomes if isinstance(o, PolicyReport)]


def _failures(outcomes: Sequence[Outcome]) -> list[LoadFailure]:
    return [o for o in outcomes if isinstance(o, LoadFailure)]


def diagnostic_data(d: Diagnostic, error: PolicyError) -> dict:
    """One diagnostic as plain data (the ``errors`` entries of the JSON formats of ``check`` and ``diff``)."""
    s = d.span
    return {"code": d.code, "severity": d.severity, "message": d.message, "hint": d.hint, "description": CODES.get(d.code),
            "file": s.file, "line": s.line, "column": s.column, "end_line": s.end_line, "end_column": s.end_column,
            "rendered": d.render(error.sources)}


# ---- the common data -----------------------------------------------------------------------------


def _cite(c: ir.Citation | None) -> dict | None:
    if c is None:
        return None
    return {"doc": c.doc, "para": c.para, "quote": c.quote, "label": c.label}


def _rule(r: RuleRef) -> dict:
    return {"kind": r.kind, "name": r.name, "detail": r.detail or None, "cite": _cite(r.cite),
            "file": r.span.file, "line": r.span.line, "column": r.span.column}


def _decision(d: CadreDecision) -> dict:
    return {
        "cadre_id": d.cadre_id, "status": d.status, "exemptions": [{"name": n, "cite": c} for n, c in d.exemptions],
        "proposed": list(d.proposed), "venues": list(d.venues), "outcome": d.outcome, "evaluated": d.evaluated,
        "results": [{"venue": r.venue, "band": r.band, "low_share": r.share, "session_valid": r.session_valid,
                     "also_matched": list(r.also_matched), "cite": r.cite} for r in d.results],
        "trace": [{"kind": t.kind, "rule": t.rule, "detail": t.detail, "cite": t.cite} for t in d.trace],
    }


def _band(b: BandDecision) -> dict:
    return {"band_set": b.band_set, "share": b.share, "matched": list(b.matched), "band": b.band, "severity": b.severity}


def _counterexample(cx: Counterexample, policy_path: str) -> dict:
    return {
        "year": cx.year, "note": cx.note or None, "command": list(cx.command(policy_path)),
        "roster_csv": cx.roster_csv, "tallies_csv": cx.tallies_csv,
        "roster": [r.cells() for r in cx.roster], "tallies": [t.cells() | {"band_set": t.band_set} for t in cx.tallies],
        "replay": {"exhibits": cx.replay.exhibits, "shows": cx.replay.shows,
                   "decisions": [_decision(d) for d in cx.replay.decisions], "bands": [_band(b) for b in cx.replay.bands]},
    }


def _finding(r: ObligationResult, policy_path: str) -> dict:
    return {"subject": r.obligation.subject, "outcome": r.outcome, "message": r.message,
            "rules": [_rule(x) for x in r.obligation.rules], "core": [_rule(x) for x in r.core],
            "involved": [_rule(x) for x in r.involved],
            "counterexample": _counterexample(r.counterexample, policy_path) if r.counterexample else None}


def _property(p: PropertyResult, policy_path: str) -> dict:
    ack = p.acknowledgement
    return {
        "id": p.id, "kind": p.check.kind, "title": p.check.title, "meaning": p.check.meaning, "status": p.status,
        "message": p.message, "obligations": len(p.results),
        "proved_from": [_rule(r) for r in p.core] if p.status in ("proved", "stale") else [],
        "findings": [_finding(r, policy_path) for r in p.findings]
        + [_finding(r, policy_path) for r in p.results if r.outcome == "unknown"],
        "acknowledgement": None if ack is None else {"reason": ack.reason, "cite": _cite(ack.cite), "file": ack.span.file,
                                                     "line": ack.span.line},
        "schedule": [{"phase": n, "start": a, "end": b} for res in p.results for n, a, b in res.schedule],
    }


def _counts(reports: Sequence[Outcome]) -> dict[str, int]:
    counts = dict.fromkeys(_STATUSES, 0)
    for rep in _reports(reports):
        for p in rep.properties:
            counts[p.status] += 1
    return counts


def _policy_entry(o: Outcome) -> dict:
    if isinstance(o, LoadFailure):
        return {"policy": {"id": None, "name": None, "path": o.path, "sha256": None, "vote_year": None,
                           "vote_years_proved": list(VOTE_YEARS)},
                "exit_code": 2, "errors": [diagnostic_data(d, o.error) for d in o.diagnostics], "properties": []}
    rep = o
    return {
        "policy": {"id": rep.policy.id, "name": rep.policy.name, "path": rep.policy.path, "sha256": rep.policy.sha256,
                   "vote_year": rep.policy.vote_year, "vote_years_proved": list(VOTE_YEARS)},
        "exit_code": rep.exit_code,
        "errors": [],
        "properties": [_property(p, rep.policy.path) for p in rep.properties],
    }


def to_data(outcomes: Sequence[Outcome], exit_code: int) -> dict:
    """The report as plain data (the JSON format). ``summary.errors`` counts the diagnostics of the
    policies that could not be checked."""
    reports = _reports(outcomes)
    return {
        "tool": {"name": TOOL, "command": "check", "version": VERSION},
        "exit_code": exit_code,
        "summary": {"policies": len(outcomes)} | _counts(reports)
        | {"errors": sum(len(f.diagnostics) for f in _failures(outcomes))},
        "policies": [_policy_entry(o) for o in outcomes],
        "stats": {
            "seconds": round(sum(r.seconds for r in reports), 4),
            "policies": {rep.policy.id: {"seconds": round(rep.seconds, 4), "properties": {
                p.id: {"seconds": round(p.seconds, 4)} | {k: v for k, v in sorted(p.stats.items())} for p in rep.properties}}
                for rep in reports},
        },
    }


def to_json(outcomes: Sequence[Outcome], exit_code: int) -> str:
    return json.dumps(to_data(outcomes, exit_code), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# ---- JUnit -----------------------------------------------------------------------------------------


def _finding_text(p: PropertyResult) -> str:
    lines = [p.message]
    if p.acknowledgement is not None:
        lines.append(f"acknowledged: {p.acknowledgement.reason}")
    for r in p.findings:
        lines.append(f"- {r.message}")
        if r.core:
            lines.append("  rules: " + ", ".join(x.label for x in r.core))
        cx = r.counterexample
        if cx is not None:
            if cx.roster_csv:
                lines.append("  roster.csv:\n" + _indent(cx.roster_csv, "    "))
            if cx.tallies_csv:
                lines.append("  tallies.csv:\n" + _indent(cx.tallies_csv, "    "))
            lines.append(f"  evaluator: {cx.replay.shows}")
            if cx.note:
                lines.append(f"  note: {cx.note}")
    return "\n".join(lines)


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line for line in text.rstrip("\n").split("\n"))


def _where(p: PropertyResult, rep: PolicyReport) -> str:
    """``file:line:col`` of the rule a property's verdict is about (as SARIF locates it)."""
    return str(_primary(p, rep).span)


def _counted(suite: ET.Element, tests: int, failures: int, errors: int, skipped: int | None = None) -> None:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    if skipped is not None:
        suite.set("skipped", str(skipped))


def to_junit(outcomes: Sequence[Outcome], exit_code: int) -> str:
    """JUnit XML valid against the Jenkins schema (``junit-10.xsd``: no ``file`` or ``line`` on a test
    case, no ``skipped`` on ``<testsuites>``) and the same from run to run (no ``time``): each text
    starts with the ``file:line:col`` it is about; each suite names its policy file (``file``)."""
    counts = _counts(outcomes)
    failed = _failures(outcomes)
    n_errors = sum(len(f.diagnostics) for f in failed)
    root = ET.Element("testsuites", {"name": f"{TOOL} check"})
    _counted(root, sum(counts.values()) + n_errors, counts["refuted"] + counts["stale"],
             counts["unknown"] + counts["internal_error"] + n_errors)
    for o in outcomes:
        if isinstance(o, LoadFailure):
            suite = ET.SubElement(root, "testsuite", {"name": o.path})
            _counted(suite, len(o.diagnostics), 0, len(o.diagnostics), 0)
            suite.set("file", o.path)
            for d in o.diagnostics:
                case = ET.SubElement(suite, "testcase", {"classname": o.path, "name": f"error[{d.code}] {d.span}"})
                ET.SubElement(case, "error", {"message": f"error[{d.code}]: {d.message}", "type": d.code}).text = (
                    d.render(o.error.sources) + f"\n(the policy {o.path} is not checked while it has errors)")
            continue
        rep = o
        c = _counts([rep])
        suite = ET.SubElement(root, "testsuite", {"name": rep.policy.id})
        _counted(suite, len(rep.properties), c["refuted"] + c["stale"], c["unknown"] + c["internal_error"], c["not_applicable"])
        suite.set("file", rep.policy.path)
        for p in rep.properties:
            case = ET.SubElement(suite, "testcase", {"classname": rep.policy.id, "name": p.id})
            where = _where(p, rep)
            match p.status:
                case "refuted" | "stale":
                    ET.SubElement(case, "failure", {"message": p.message, "type": p.status}).text = f"{where}: {_finding_text(p)}"
                case "unknown" | "internal_error":
                    ET.SubElement(case, "error", {"message": p.message, "type": p.status}).text = f"{where}: {_finding_text(p)}"
                case "not_applicable":
                    ET.SubElement(case, "skipped", {"message": f"not applicable: {p.message}"}).text = where
                case "acknowledged":
                    ET.SubElement(case, "system-out").text = f"{where}: acknowledged finding\n" + _finding_text(p)
                case "proved":
                    ET.SubElement(case, "system-out").text = f"{where}: " + p.message + (
                        "; proved from " + ", ".join(r.label for r in p.core) if p.core else "")
                case _:
                    raise AssertionError(p.status)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---- SARIF -----------------------------------------------------------------------------------------


def _uri(file: str) -> str:
    """A file as a URI reference: relative to the working directory as the loader displays it (GitHub
    resolves it against the checkout), percent-encoded (RFC 3986: spaces, Vietnamese letters)."""
    p = Path(file)
    if p.is_absolute():
        return p.as_uri()
    return quote(Path(os.path.normpath(file)).as_posix(), safe="/")


def _location(r: RuleRef, message: str | None = None) -> dict:
    return _span_location(r.span, message)


def _span_location(s: Span, message: str | None = None) -> dict:
    region = {"startLine": max(s.line, 1), "startColumn": max(s.column, 1)}
    if s.end_line >= s.line:
        region["endLine"] = max(s.end_line, 1)
        if s.end_line > s.line or s.end_column > s.column:
            region["endColumn"] = max(s.end_column, 1)
    loc: dict = {"physicalLocation": {"artifactLocation": {"uri": _uri(s.file)}, "region": region}}
    if message:
        loc["message"] = {"text": message}
    return loc


def _primary(p: PropertyResult, rep: PolicyReport) -> RuleRef:
    if p.check.decl is not None:
        return p.check.decl
    for r in p.findings:
        if r.core:
            return r.core[0]
        if r.involved and not isinstance(r.obligation.claim, _BAND_CLAIMS):
            return next((x for x in r.involved if x.kind == "venue_rule"), r.involved[0])
        if r.obligation.rules:
            return r.obligation.rules[0]
    for r in p.results:
        if r.obligation.rules:
            return r.obligation.rules[0]
    return RuleRef("policy", rep.policy.id, None, rep.policy.span)


_BAND_CLAIMS = (P.BandsOverlap, P.Uncovered, P.SeverityInverted, P.BandDiffers)
_SARIF_KIND = {"proved": ("pass", "none"), "refuted": ("fail", "error"), "acknowledged": ("fail", "warning"),
               "stale": ("fail", "error"), "unknown": ("open", "warning"), "not_applicable": ("notApplicable", "none"),
               "internal_error": ("fail", "error")}


def _sentence(text: str) -> str:
    """``text`` ending as a sentence does (SARIF's guidance for messages)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _pascal(text: str) -> str:
    """A rule's friendly name (SARIF: a Pascal-case identifier): ``bands_disjoint`` → ``BandsDisjoint``,
    ``unknown title`` → ``UnknownTitle``; words in parentheses and a leading article are left out."""
    text = re.sub(r"\([^)]*\)", " ", text)
    words = re.findall(r"[^\W_]+", text)
    if len(words) > 1 and words[0].lower() in ("a", "an", "the"):
        words = words[1:]
    return "".join(w[:1].upper() + w[1:] for w in words)


def _fingerprints(*parts: str) -> dict[str, str]:
    """``partialFingerprints``: the same finding has the same value from run to run (and moves with its line)."""
    return {"tinnhiemResult/v1": hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]}


_PROPERTY_HELP = (
    "tinnhiem check proves this property for every roster row and tally the readers accept. The result is "
    "'pass' when it is proved; 'fail' when it is refuted (with a counterexample replayed through the evaluator, "
    "or the rules that conflict) or when the acknowledgement of a finding no longer holds (stale); 'open' when "
    "the solver could not decide in time; 'notApplicable' when the policy has nothing the property is about. "
    "An acknowledged finding is a warning with an accepted in-source suppression carrying its reason. To resolve "
    "a failure, change the rules the result names (its location and related locations), or acknowledge the "
    "finding in the policy with the reason it is kept. The property catalog with the exact meaning of each "
    "property is docs/properties.md of tinnhiem.")


def _property_rule(p: PropertyResult) -> dict:
    c = p.check
    title = _sentence(c.title or c.id)
    meaning = _sentence(c.meaning or c.title or c.id)
    rule: dict = {
        "id": c.id, "shortDescription": {"text": c.title or c.id}, "fullDescription": {"text": meaning},
        "help": {"text": f"{title}\n\n{meaning}\n\n{_PROPERTY_HELP}",
                 "markdown": f"**{title}**\n\n{meaning}\n\n{_PROPERTY_HELP}"},
        "properties": {"tags": ["property", c.kind]},
    }
    name = _pascal(c.id.removeprefix("builtin."))
    if name and name != c.id:  # SARIF1001: a rule's name must differ from its id
        rule["name"] = name
    return rule


def _error_rule(code: str) -> dict:
    what = CODES.get(code, "an error in the policy")
    help_text = (f"{_sentence(what[:1].upper() + what[1:])} This is error {code} of the tinnhiem policy language. A policy with "
                 "an error is not checked: no property of it is proved until the error is fixed (tinnhiem check exits 2). "
                 "The result is at the place of the error; its message says what is wrong and, where it can, how to fix it "
                 "(a 'help:' hint, such as the name that was probably meant). Every code is described in the language "
                 "reference, docs/language.md of tinnhiem.")
    rule: dict = {
        "id": code, "shortDescription": {"text": f"policy error: {what}"},
        "fullDescription": {"text": _sentence(f"The policy has an error ({what}), so it cannot be checked")},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["policy-error"]},
    }
    name = _pascal(what)
    if name and name != code:
        rule["name"] = name
    return rule


def _error_results(f: LoadFailure, index: dict[str, int], rules: list[dict]) -> list[dict]:
    out = []
    seen: dict[tuple[str, str, str], int] = {}
    for d in f.diagnostics:
        if d.code not in index:
            index[d.code] = len(rules)
            rules.append(_error_rule(d.code))
        key = (d.code, d.span.file, d.message)
        seen[key] = seen.get(key, -1) + 1
        text = f"{f.path}: {d.severity}[{d.code}]: {d.message}" + (f" (help: {d.hint})" if d.hint else "")
        out.append({
            "ruleId": d.code, "ruleIndex": index[d.code], "kind": "fail", "level": "error",
            "message": {"text": _sentence(text)},
            "locations": [_span_location(d.span)],
            "partialFingerprints": _fingerprints(f.path, *key, str(seen[key])),
            "properties": {"policy": f.path, "status": "error", "code": d.code, "hint": d.hint},
        })
    return out


def to_sarif(outcomes: Sequence[Outcome], exit_code: int) -> str:
    """SARIF 2.1.0, valid against the official schema, with what GitHub code scanning asks of a log
    (every rule with ``shortDescription``, ``fullDescription`` and ``help``; names unlike ids;
    ``informationUri``; results with ``partialFingerprints``); the same from run to run."""
    index: dict[str, int] = {}
    rules: list[dict] = []
    results: list[dict] = []
    for o in outcomes:
        if isinstance(o, LoadFailure):
            results.extend(_error_results(o, index, rules))
            continue
        rep = o
        for p in rep.properties:
            if p.id not in index:
                index[p.id] = len(rules)
                rules.append(_property_rule(p))
            kind, level = _SARIF_KIND[p.status]
            where = _primary(p, rep)
            related = []
            for r in p.findings:
                for x in r.core or r.involved or r.obligation.rules:
                    if x.key != where.key and len(related) < 20:
                        related.append(_location(x, x.label) | {"id": len(related)})
            res: dict = {
                "ruleId": p.id, "ruleIndex": index[p.id], "kind": kind, "level": level,
                "message": {"text": _sentence(f"{rep.policy.id}: {p.id}: {p.message}")},
                "locations": [_location(where, where.label)],
                "partialFingerprints": _fingerprints(rep.policy.id, p.id),
                "properties": {"policy": rep.policy.id, "status": p.status,
                               "provedFrom": [x.label for x in p.core] if p.status == "proved" else [],
                               "counterexamples": [_counterexample(r.counterexample, rep.policy.path) for r in p.findings if r.counterexample]},
            }
            if related:
                res["relatedLocations"] = related
            if p.status == "acknowledged" and p.acknowledgement is not None:
                res["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": p.acknowledgement.reason,
                                        "location": _location(RuleRef("acknowledge", p.id, None, p.acknowledgement.span))}]
            results.append(res)
    log = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "version": VERSION, "semanticVersion": VERSION, "informationUri": INFORMATION_URI,
                                "rules": rules}},
            "invocations": [{"executionSuccessful": _counts(outcomes)["internal_error"] == 0, "exitCode": exit_code}],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# ---- text ------------------------------------------------------------------------------------------

_STYLE = {"proved": "green", "refuted": "bold red", "acknowledged": "yellow", "stale": "bold red", "unknown": "magenta",
          "not_applicable": "dim", "internal_error": "bold red"}


def _cells(cells: Sequence[str]) -> list[Text]:
    """Table cells shown as written: a ``str`` cell would be read as rich markup."""
    return [Text(c) for c in cells]


class _Whole(Text):
    """A line printed whole — never wrapped, folded nor cropped, whatever the width — so that it can be
    copied as it stands: a row of a counterexample's CSV file."""


def _csv_block(name: str, text: str) -> list:
    """A counterexample's file as the ``replay:`` command reads it: its name, then its CSV lines whole
    (a table would crop its headers, ``retirement_no…``, at 80 or 100 columns)."""
    return [Text(name, style="bold"), *(_Whole(line) for line in text.splitlines()), _Whole("")]


def _cx_tables(cx: Counterexample) -> list:
    out: list = []
    if cx.roster:
        out += _csv_block("roster.csv", cx.roster_csv)
    if cx.tallies:
        out += _csv_block("tallies.csv", cx.tallies_csv)
    for d in cx.replay.decisions:
        outcome = f", outcome {d.outcome}" if d.evaluated else " (plan only: no tally)"
        out.append(Text(f"evaluator: {d.cadre_id} → status {d.status}, venues {', '.join(d.venues) or 'none'}{outcome}", style="bold"))
        t = Table(box=box.SIMPLE)
        for c in ("step", "rule", "decision", "citation"):
            t.add_column(c, overflow="fold")  # folded, never cut short with '…'
        for s in d.trace:
            t.add_row(*_cells([s.kind, s.rule, s.detail, s.cite or ""]))
        out.append(t)
    for b in cx.replay.bands:
        out.append(Text(f"evaluator: share {b.share} against {b.band_set}: bands holding {', '.join(b.matched) or 'none'}; "
                        f"band decided {b.band}"))
    return out


def _render_failure(console: Console, f: LoadFailure) -> None:
    n = len(f.diagnostics)
    console.print(Text.assemble(("policy ", "bold"), (f.path, "bold cyan"), f" — not checked: {n} error{'s' if n != 1 else ''}"))
    for d in f.diagnostics:
        console.print(Text.assemble("  ", ("✗", _STYLE["refuted"]), " ", (f"{d.span}: {d.severity}[{d.code}]", "bold"), f": {d.message}"))
        if d.hint:
            console.print(Text(f"      help: {d.hint}", style="dim"))
    console.print()


def render_text(console: Console, outcomes: Sequence[Outcome], exit_code: int, seconds: float | None = None) -> None:
    for rep in outcomes:
        if isinstance(rep, LoadFailure):
            _render_failure(console, rep)
            continue
        console.print(Text.assemble(("policy ", "bold"), (rep.policy.id, "bold cyan"), f" — {rep.policy.name} ({rep.policy.path})"))
        console.print(Text(f"  for every vote year {VOTE_YEARS[0]}–{VOTE_YEARS[1]} and every roster row and tally the readers accept",
                           style="dim"))
        for p in rep.properties:
            line = Text.assemble("  ", (SYMBOLS[p.status], _STYLE[p.status]), " ", (p.id, "bold"), f"  {p.check.title}")
            console.print(line)
            match p.status:
                case "proved":
                    console.print(Text("      proved from " + (", ".join(r.label for r in p.core) or "the schema alone (no rule needed)")
                                       if p.results and p.results[0].obligation.mode == "refute" else "      " + p.message, style="dim"))
                case "not_applicable":
                    console.print(Text(f"      not applicable: {p.message}", style="dim"))
                case _:
                    label = {"acknowledged": "acknowledged finding", "stale": "stale acknowledgement", "refuted": "refuted",
                             "unknown": "unknown", "internal_error": "internal error"}[p.status]
                    console.print(Text(f"      {label}: {p.message}", style=_STYLE[p.status]))
                    if p.acknowledgement is not None:
                        cite = f" [{p.acknowledgement.cite.label}]" if p.acknowledgement.cite else ""
                        console.print(Text(f"      reason: {p.acknowledgement.reason}{cite}"))
                    for r in p.findings:
                        if r.core:
                            console.print(Text("      rules: " + ", ".join(x.label for x in r.core)))
                        elif r.involved or r.obligation.rules:
                            console.print(Text("      rules: " + ", ".join(x.label for x in (r.involved or r.obligation.rules)[:8])))
                        if r.counterexample is not None:
                            console.print(Text(f"      counterexample ({r.obligation.subject}), replayed through the evaluator:"))
                            for item in _cx_tables(r.counterexample):
                                if isinstance(item, _Whole):
                                    console.print(Text("      ") + item if item.plain else item, soft_wrap=True)
                                else:
                                    console.print(Padding(item, (0, 0, 0, 6), expand=False))
                            command = r.counterexample.command(rep.policy.path)
                            if command:
                                console.print(Text("      replay: " + " ".join(command), style="dim"))
                            if r.counterexample.note:
                                console.print(Text(f"      note: {r.counterexample.note}", style="dim"))
                        elif r.outcome == "violated":
                            console.print(Text("      no counterexample: the conflict is the unsat core above (no model exists to replay)",
                                               style="dim"))
        console.print()
    counts = _counts(outcomes)
    parts = [f"{counts[s]} {s.replace('_', ' ')}" for s in _STATUSES if counts[s]]
    failed = _failures(outcomes)
    if failed:
        n = sum(len(f.diagnostics) for f in failed)
        parts.append(f"{len(failed)} not checked ({n} error{'s' if n != 1 else ''})")
    parts = parts or ["nothing checked"]
    tail = f" in {seconds:.2f} s" if seconds is not None else ""
    console.print(Text(f"{len(outcomes)} polic{'y' if len(outcomes) == 1 else 'ies'}: " + ", ".join(parts) + f" — exit {exit_code}{tail}",
                       style="bold"))


def to_text(outcomes: Sequence[Outcome], exit_code: int, seconds: float | None = None, width: int = 120) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, markup=False, highlight=False, soft_wrap=False, emoji=False)
    render_text(console, outcomes, exit_code, seconds)
    return buf.getvalue()


def render(fmt: str, outcomes: Sequence[Outcome], exit_code: int, seconds: float | None = None) -> str:
    """The report of ``outcomes`` (per policy given: its report, or a :class:`LoadFailure`) in ``fmt``."""
    match fmt:
        case "json":
            return to_json(outcomes, exit_code)
        case "junit":
            return to_junit(outcomes, exit_code)
        case "sarif":
            return to_sarif(outcomes, exit_code)
        case "text":
            return to_text(outcomes, exit_code, seconds)
        case _:
            raise ValueError(fmt)
