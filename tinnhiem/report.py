"""Decision documents: what ``plan`` and ``evaluate`` report.

Takes the policy, the roster, the evaluator's plans/decisions, the tallies and the rejected rows;
produces one JSON-ready document in the shape fixed by the brief (section 3) — policy and input
digests, the year, one entry per accepted cadre (status, exemptions, venues with share and band,
outcome, citations), the rejected rows, and a summary whose counts reconcile. The CSV writer and the
table renderer (``tinnhiem.table``) both render this document, so the three formats cannot disagree.

How one cadre becomes output — its object, its CSV rows — is :mod:`tinnhiem.cadre_output`, and only
there: :func:`plan_entry` and :func:`evaluate_entry` pass one full decision through it, as
:mod:`tinnhiem.stream` (what the commands write every format with) passes its memoised ones, and
:func:`to_csv` writes a document's cadres with :func:`~tinnhiem.cadre_output.object_rows`. The
numbers' formats and the CSV columns are re-exported here for the callers of this module.
:class:`SummaryCounts` is the one implementation of the summary, fed a cadre at a time by both.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from dsl import ir
from dsl.evaluator import Decision, Plan
from tinnhiem import cadre_output
from tinnhiem.cadre_output import CSV_COLUMNS, counts_block, csv_header, percent, percent_vi, rejected_csv_row
from tinnhiem.roster import Rejected, Roster, RosterEntry

#: The public names; CSV_COLUMNS, counts_block, csv_header, percent, percent_vi and rejected_csv_row are
#: :mod:`tinnhiem.cadre_output`'s, re-exported for the callers of this module.
__all__ = ["CSV_COLUMNS", "SummaryCounts", "cite_label", "closing", "counts_block", "csv_header", "document", "evaluate_entry", "jsonl_line",
           "percent", "percent_vi", "plan_entry", "rejected_csv_row", "rejected_list", "summarise", "to_csv", "to_json"]


def cite_label(c: ir.Citation | None) -> str | None:
    return c.label if c else None


def _policy_block(policy: ir.Policy) -> dict[str, Any]:
    return {"name": policy.id, "title": policy.name, "file": policy.path.rsplit("/", 1)[-1], "sha256": policy.sha256}


def plan_entry(policy: ir.Policy, entry: RosterEntry, plan: Plan) -> dict[str, Any]:
    """The cadre object of ``entry`` planned by ``plan`` (:func:`tinnhiem.cadre_output.plan_object`)."""
    return cadre_output.plan_object(entry, cadre_output.PlanView.of(policy, plan), cadre_output.Formats())


def evaluate_entry(policy: ir.Policy, entry: RosterEntry, decision: Decision) -> dict[str, Any]:
    """The cadre object of ``entry`` decided by ``decision`` (:func:`tinnhiem.cadre_output.evaluate_object`)."""
    view = cadre_output.DecisionView.of(policy, cadre_output.PlanView.of(policy, decision.plan), decision)
    return cadre_output.evaluate_object(entry, view, [r.tally for r in decision.results], cadre_output.Formats())


def rejected_list(rows: Iterable[Rejected]) -> list[dict[str, Any]]:
    return [{"file": r.file, "line": r.line, "cadre_id": r.cadre_id or None, "reason": r.reason} for r in rows]


class SummaryCounts:
    """The counts of a summary, fed one cadre (or one kind of cadre, ``n`` times) at a time."""

    def __init__(self, evaluated: bool) -> None:
        self.evaluated = evaluated  # evaluate (tallies) or plan
        self.cadres = 0
        self.status: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.by_venue: dict[str, Counter[str]] = {}
        self.missing = 0

    @staticmethod
    def key(band: str | None, missing: bool, evaluated: bool) -> str:
        """How a venue is counted: its band, or planned (no tallies) / missing (no tally) / no_band."""
        return band or ("planned" if not evaluated else ("missing" if missing else "no_band"))

    @staticmethod
    def venue_key(venue: Mapping[str, Any], evaluated: bool) -> str:
        """:meth:`key` of a venue of a cadre object."""
        return SummaryCounts.key(venue.get("band"), venue.get("tally") == "missing", evaluated)

    def add(self, status: str, outcome: str | None, venue_keys: Iterable[tuple[str, str]], n: int = 1) -> None:
        """``n`` cadres of this status and outcome, with these (venue, key) pairs each."""
        self.cadres += n
        self.status[status] += n
        if outcome is not None:
            self.outcomes[outcome] += n
        for venue, key in venue_keys:
            if key == "missing":
                self.missing += n
            self.by_venue.setdefault(venue, Counter())[key] += n

    def add_object(self, c: Mapping[str, Any]) -> None:
        self.add(c["status"], c["outcome"], [(v["venue"], self.venue_key(v, self.evaluated)) for v in c["venues"]])

    def result(self, roster: Roster, tally_counts: tuple[int, int, int, int] | None) -> dict[str, Any]:
        """The summary. ``rows_read = rows_evaluated + rows_rejected``; ``rows_skipped`` counts the lines
        with no data (blank, or empty cells only), which are neither. ``tally_counts``: (read,
        evaluated, rejected, skipped) of the tallies file, or None for a plan."""
        summary: dict[str, Any] = {}
        if tally_counts is None:
            summary.update({"rows_read": roster.rows_read, "rows_evaluated": len(roster.entries), "rows_rejected": len(roster.rejected),
                            "rows_skipped": roster.rows_skipped})
        else:
            read, evaluated, rejected, skipped = tally_counts
            summary.update({"rows_read": read, "rows_evaluated": evaluated, "rows_rejected": rejected, "rows_skipped": skipped})
        status = self.status
        summary.update({
            "roster_rows": roster.rows_read, "roster_rejected": len(roster.rejected), "roster_skipped": roster.rows_skipped,
            "cadres": self.cadres, "voted": status.get("voted", 0), "exempt": status.get("exempt", 0),
            "out_of_scope": status.get("out_of_scope", 0),
        })
        if tally_counts is not None:
            summary["missing_tallies"] = self.missing
            summary["outcomes"] = dict(sorted(self.outcomes.items()))
        summary["venues"] = {v: dict(sorted(c.items())) for v, c in sorted(self.by_venue.items())}
        return summary


def summarise(cadres: list[dict[str, Any]], roster: Roster, tally_counts: tuple[int, int, int, int] | None) -> dict[str, Any]:
    counts = SummaryCounts(tally_counts is not None)
    for c in cadres:
        counts.add_object(c)
    return counts.result(roster, tally_counts)


def document(policy: ir.Policy, roster: Roster, tallies_sha: str | None, year: int, cadres: list[dict[str, Any]],
             rejected: list[Rejected], tally_counts: tuple[int, int, int, int] | None,
             summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole document; ``summary`` when the caller has counted it already (else from ``cadres``)."""
    out = closing(policy, roster, tallies_sha, year, rejected, summary or summarise(cadres, roster, tally_counts))
    return {"policy": out["policy"], "inputs": out["inputs"], "year": year, "cadres": cadres,
            "rejected": out["rejected"], "summary": out["summary"]}


def closing(policy: ir.Policy, roster: Roster, tallies_sha: str | None, year: int, rejected: list[Rejected],
            summary: dict[str, Any]) -> dict[str, Any]:
    """The document without its cadres: the last line of ``jsonl``."""
    inputs: dict[str, Any] = {"roster": roster.path, "roster_sha256": roster.sha256}
    if tallies_sha is not None:
        inputs["tallies_sha256"] = tallies_sha
    return {"policy": _policy_block(policy), "inputs": inputs, "year": year, "rejected": rejected_list(rejected), "summary": summary}


def to_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def jsonl_line(obj: Mapping[str, Any]) -> str:
    """One line of ``jsonl``: a cadre object, or the closing object (policy, inputs, rejected, summary)."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


def to_csv(doc: Mapping[str, Any], extra_columns: list[str]) -> str:
    """One row per cadre and venue (one row for a cadre without venue), then one row per rejected input row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    stages = any("stages" in c for c in doc["cadres"])  # evaluate with a policy that has stages
    w.writerow(csv_header(extra_columns, stages))
    for c in doc["cadres"]:
        w.writerows(cadre_output.object_rows(c, extra_columns, stages))
    w.writerows(rejected_csv_row(r, extra_columns, stages) for r in doc["rejected"])
    return buf.getvalue()
