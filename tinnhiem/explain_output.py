"""What ``tinnhiem explain --format json`` writes: one cadre's decision with the trace that made it.

Takes the policy, the roster, the year, the cadre's roster entry, its plan and (with tallies) its
decision from :mod:`dsl.evaluator`, and the rejected rows that concern it; produces one JSON-ready
document for scripts:

- ``policy``, ``inputs``, ``year`` — as in the documents of ``plan`` and ``evaluate``
  (:func:`tinnhiem.report.closing`);
- ``cadre`` — the roster row as read (identity, titles, facts, line);
- ``evaluated`` — whether tallies were given (else the decision stops after the venues);
- ``trace`` — the steps of :attr:`dsl.evaluator.Decision.trace` (or of the plan), in order, each
  with its citation in full: document id and title, paragraph, the quoted text, the label;
- ``decision`` — the cadre object ``evaluate`` (or ``plan``) writes for this cadre
  (:func:`tinnhiem.report.evaluate_entry` / :func:`~tinnhiem.report.plan_entry`): status,
  exemptions, venues with share and band, consequences, outcome, citations;
- ``rejected`` — the rows of this cadre that were rejected (its roster row, or its tally rows).

When the cadre's roster row itself was rejected, ``cadre``, ``decision`` are null and ``trace`` is
empty; ``rejected`` says why.
"""

from __future__ import annotations

from typing import Any

from dsl import ir
from dsl.evaluator import Decision, Plan, Step
from tinnhiem import report
from tinnhiem.roster import Rejected, Roster, RosterEntry


def cite_object(c: ir.Citation | None) -> dict[str, str] | None:
    if c is None:
        return None
    return {"doc": c.doc, "doc_title": c.doc_title, "para": c.para, "quote": c.quote, "label": c.label}


def step_object(n: int, step: Step) -> dict[str, Any]:
    return {"step": n, "kind": step.kind, "rule": step.rule, "detail": step.detail, "cite": cite_object(step.cite)}


def explanation(policy: ir.Policy, roster: Roster, tallies_sha: str | None, year: int, entry: RosterEntry | None,
                plan: Plan | None, decision: Decision | None, rejected: list[Rejected]) -> dict[str, Any]:
    head = report.closing(policy, roster, tallies_sha, year, rejected, {})
    doc: dict[str, Any] = {"policy": head["policy"], "inputs": head["inputs"], "year": year, "evaluated": decision is not None}
    if entry is None or plan is None:
        doc.update({"cadre": None, "trace": [], "decision": None, "rejected": head["rejected"]})
        return doc
    c = entry.cadre
    doc["cadre"] = {"cadre_id": c.cadre_id, "full_name": c.full_name, "level": c.level, "unit": c.unit,
                    "titles": sorted(c.titles), "facts": dict(c.facts), "line": entry.line}
    steps = decision.trace if decision is not None else plan.trace
    doc["trace"] = [step_object(i, s) for i, s in enumerate(steps, 1)]
    doc["decision"] = report.evaluate_entry(policy, entry, decision) if decision is not None else report.plan_entry(policy, entry, plan)
    doc["rejected"] = head["rejected"]
    return doc
