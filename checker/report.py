"""Check reports: the results of :mod:`checker.solve` as JSON, JUnit XML, SARIF 2.1.0 and text.

Takes the :class:`checker.solve.PolicyReport` of each policy checked (and the run's exit code);
produces the report text in one of :data:`FORMATS`:

- ``json`` — stable and deterministic: keys sorted, properties in catalog order, no timing outside
  the top-level ``stats`` key (which may vary from run to run);
- ``junit`` — one ``<testsuite>`` per policy, one ``<testcase>`` per property: a refutation or a
  stale acknowledgement is a ``<failure>``, unknown or an internal error an ``<error>``, a property
  that does not apply ``<skipped>``; an acknowledged finding passes with its text in
  ``<system-out>``;
- ``sarif`` — SARIF 2.1.0: one rule per property, one result per property checked, located at the
  policy file line of the rule involved; an acknowledged finding is a result with an accepted
  in-source suppression carrying its reason;
- ``text`` — rich: per policy, per property ✓ / ✗ / ⚠ / ? / –, the citations of the rules involved,
  each counterexample as tables (roster row, tally rows, the evaluator's decision and its trace).
  Every text of the policy reaches rich as a :class:`rich.text.Text` (never as markup).
"""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from checker import properties as P
from checker.decode import QUORUM_COLUMNS, TALLY_COLUMNS
from checker.encode import RuleRef
from checker.replay import BandDecision, CadreDecision
from checker.solve import SYMBOLS, Counterexample, ObligationResult, PolicyReport, PropertyResult
from dsl import ir
from dsl.ir import ROSTER_IDENTITY
from dsl.values import VOTE_YEARS

FORMATS = ("text", "json", "junit", "sarif")
TOOL = "tinnhiem"
VERSION = "0.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_STATUSES = ("proved", "refuted", "acknowledged", "stale", "unknown", "not_applicable", "internal_error")


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


def _counts(reports: Sequence[PolicyReport]) -> dict[str, int]:
    counts = dict.fromkeys(_STATUSES, 0)
    for rep in reports:
        for p in rep.properties:
            counts[p.status] += 1
    return counts


def to_data(reports: Sequence[PolicyReport], exit_code: int) -> dict:
    """The report as plain data (the JSON format)."""
    return {
        "tool": {"name": TOOL, "command": "check", "version": VERSION},
        "exit_code": exit_code,
        "summary": {"policies": len(reports)} | _counts(reports),
        "policies": [{
            "policy": {"id": rep.policy.id, "name": rep.policy.name, "path": rep.policy.path, "sha256": rep.policy.sha256,
                       "vote_year": rep.policy.vote_year, "vote_years_proved": list(VOTE_YEARS)},
            "exit_code": rep.exit_code,
            "properties": [_property(p, rep.policy.path) for p in rep.properties],
        } for rep in reports],
        "stats": {
            "seconds": round(sum(r.seconds for r in reports), 4),
            "policies": {rep.policy.id: {"seconds": round(rep.seconds, 4), "properties": {
                p.id: {"seconds": round(p.seconds, 4)} | {k: v for k, v in sorted(p.stats.items())} for p in rep.properties}}
                for rep in reports},
        },
    }


def to_json(reports: Sequence[PolicyReport], exit_code: int) -> str:
    return json.dumps(to_data(reports, exit_code), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


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


def to_junit(reports: Sequence[PolicyReport], exit_code: int) -> str:
    counts = _counts(reports)
    root = ET.Element("testsuites", {
        "name": f"{TOOL} check", "tests": str(sum(counts.values())),
        "failures": str(counts["refuted"] + counts["stale"]), "errors": str(counts["unknown"] + counts["internal_error"]),
        "skipped": str(counts["not_applicable"]), "time": f"{sum(r.seconds for r in reports):.3f}"})
    for rep in reports:
        c = _counts([rep])
        suite = ET.SubElement(root, "testsuite", {
            "name": rep.policy.id, "tests": str(len(rep.properties)), "failures": str(c["refuted"] + c["stale"]),
            "errors": str(c["unknown"] + c["internal_error"]), "skipped": str(c["not_applicable"]),
            "time": f"{rep.seconds:.3f}", "file": rep.policy.path})
        for p in rep.properties:
            case = ET.SubElement(suite, "testcase", {"classname": rep.policy.id, "name": p.id, "time": f"{p.seconds:.3f}",
                                                     "file": rep.policy.path})
            match p.status:
                case "refuted" | "stale":
                    ET.SubElement(case, "failure", {"message": p.message, "type": p.status}).text = _finding_text(p)
                case "unknown" | "internal_error":
                    ET.SubElement(case, "error", {"message": p.message, "type": p.status}).text = _finding_text(p)
                case "not_applicable":
                    ET.SubElement(case, "skipped", {"message": f"not applicable: {p.message}"})
                case "acknowledged":
                    ET.SubElement(case, "system-out").text = "acknowledged finding\n" + _finding_text(p)
                case "proved":
                    ET.SubElement(case, "system-out").text = p.message + (
                        "; proved from " + ", ".join(r.label for r in p.core) if p.core else "")
                case _:
                    raise AssertionError(p.status)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---- SARIF -----------------------------------------------------------------------------------------


def _uri(file: str) -> str:
    p = Path(file)
    if p.is_absolute():
        return p.as_uri()
    return Path(os.path.normpath(file)).as_posix()


def _location(r: RuleRef, message: str | None = None) -> dict:
    s = r.span
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


def to_sarif(reports: Sequence[PolicyReport], exit_code: int) -> str:
    rule_ids: list[str] = []
    rules: list[dict] = []
    results: list[dict] = []
    for rep in reports:
        for p in rep.properties:
            if p.id not in rule_ids:
                rule_ids.append(p.id)
                rules.append({"id": p.id, "name": p.id.replace("builtin.", ""), "shortDescription": {"text": p.check.title},
                              "fullDescription": {"text": p.check.meaning}})
            kind, level = _SARIF_KIND[p.status]
            where = _primary(p, rep)
            related = []
            for r in p.findings:
                for x in r.core or r.involved or r.obligation.rules:
                    if x.key != where.key and len(related) < 20:
                        related.append(_location(x, x.label) | {"id": len(related)})
            res: dict = {
                "ruleId": p.id, "ruleIndex": rule_ids.index(p.id), "kind": kind, "level": level,
                "message": {"text": f"{rep.policy.id}: {p.id}: {p.message}"},
                "locations": [_location(where, where.label)],
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
            "tool": {"driver": {"name": TOOL, "version": VERSION, "rules": rules}},
            "invocations": [{"executionSuccessful": exit_code in (0, 1), "exitCode": exit_code}],
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


def _cx_tables(cx: Counterexample) -> list:
    out: list = []
    if cx.roster:
        out.append(Text("roster.csv", style="bold"))
        t = Table(box=box.SIMPLE_HEAVY)
        cols = list(ROSTER_IDENTITY) + [k for k, _ in cx.roster[0].facts]
        for c in cols:
            t.add_column(c)
        for row in cx.roster:
            cells = row.cells()
            t.add_row(*_cells([cells.get(c, "") for c in cols]))
        out.append(t)
    if cx.tallies:
        out.append(Text("tallies.csv", style="bold"))
        t = Table(box=box.SIMPLE_HEAVY)
        cols = list(TALLY_COLUMNS) + (list(QUORUM_COLUMNS) if any(x.convened is not None for x in cx.tallies) else [])
        for c in cols:
            t.add_column(c)
        for row in cx.tallies:
            cells = row.cells()
            t.add_row(*_cells([cells.get(c, "") for c in cols]))
        out.append(t)
    for d in cx.replay.decisions:
        outcome = f", outcome {d.outcome}" if d.evaluated else " (plan only: no tally)"
        out.append(Text(f"evaluator: {d.cadre_id} → status {d.status}, venues {', '.join(d.venues) or 'none'}{outcome}", style="bold"))
        t = Table(box=box.SIMPLE)
        for c in ("step", "rule", "decision", "citation"):
            t.add_column(c)
        for s in d.trace:
            t.add_row(*_cells([s.kind, s.rule, s.detail, s.cite or ""]))
        out.append(t)
    for b in cx.replay.bands:
        out.append(Text(f"evaluator: share {b.share} against {b.band_set}: bands holding {', '.join(b.matched) or 'none'}; "
                        f"band decided {b.band}"))
    return out


def render_text(console: Console, reports: Sequence[PolicyReport], exit_code: int, seconds: float | None = None) -> None:
    for rep in reports:
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
    counts = _counts(reports)
    parts = [f"{counts[s]} {s.replace('_', ' ')}" for s in _STATUSES if counts[s]] or ["nothing checked"]
    tail = f" in {seconds:.2f} s" if seconds is not None else ""
    console.print(Text(f"{len(reports)} polic{'y' if len(reports) == 1 else 'ies'}: " + ", ".join(parts) + f" — exit {exit_code}{tail}",
                       style="bold"))


def to_text(reports: Sequence[PolicyReport], exit_code: int, seconds: float | None = None, width: int = 120) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, markup=False, highlight=False, soft_wrap=False, emoji=False)
    render_text(console, reports, exit_code, seconds)
    return buf.getvalue()


def render(fmt: str, reports: Sequence[PolicyReport], exit_code: int, seconds: float | None = None) -> str:
    match fmt:
        case "json":
            return to_json(reports, exit_code)
        case "junit":
            return to_junit(reports, exit_code)
        case "sarif":
            return to_sarif(reports, exit_code)
        case "text":
            return to_text(reports, exit_code, seconds)
        case _:
            raise ValueError(fmt)
