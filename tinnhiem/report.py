"""Decision documents: what ``plan`` and ``evaluate`` report.

Takes the policy, the roster, the evaluator's plans/decisions, the tallies and the rejected rows;
produces one JSON-ready document in the shape fixed by the brief (section 3) — policy and input
digests, the year, one entry per accepted cadre (status, exemptions, venues with share and band,
outcome, citations), the rejected rows, and a summary whose counts reconcile. The CSV writer and the
table renderer (``tinnhiem.table``) both render this document, so the three formats cannot disagree.

The builders here (:func:`plan_entry`, :func:`evaluate_entry`, :func:`to_csv`) are the reference:
:mod:`tinnhiem.stream` builds the same per-cadre objects and CSV rows without a document (for large
inputs, ``csv`` and ``jsonl``), and the tests hold it to these byte for byte. :class:`SummaryCounts`
is the one implementation of the summary, fed a cadre at a time by both.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from dsl import ir
from dsl.evaluator import Decision, Plan, Tally
from tinnhiem.csvio import safe_cell
from tinnhiem.roster import Rejected, Roster, RosterEntry


def cite_label(c: ir.Citation | None) -> str | None:
    return c.label if c else None


def percent(share: Fraction) -> str:
    """An exact share as a percentage with two decimals, rounded half up, for display only."""
    hundredths = share * 10000
    whole, rest = divmod(hundredths.numerator, hundredths.denominator)
    if 2 * rest >= hundredths.denominator:
        whole += 1
    return f"{whole // 100}.{whole % 100:02d}%"


def percent_vi(share: Fraction) -> str:
    """A share as the official texts write it: two decimals rounded half up, a decimal comma, trailing
    zeros dropped (``97,5%``, ``1,24%``, ``100%``)."""
    text = percent(share)[:-1].rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


LEVELS = ("high", "confidence", "low")


def counts_block(t: Tally, base: str) -> dict[str, Any]:
    """Each level of a tally over the venue's base: the count of the base, each level's exact share and
    its percentage (``percents``, in the official form) — the figures of a confirming resolution. Both
    writers of the per-cadre output (:func:`evaluate_entry`, :mod:`tinnhiem.stream`) take them from here."""
    den = t.get(base)
    shares: dict[str, str | None] = {}
    percents: dict[str, str | None] = {}
    for level in LEVELS:
        n = t.get(level)
        if den and n is not None:
            f = Fraction(n, den)
            shares[level], percents[level] = f"{f.numerator}/{f.denominator}", percent_vi(f)
        else:
            shares[level] = percents[level] = None
    return {"members": t.members, "base": base, "base_count": den, "shares": shares, "percents": percents}


def _policy_block(policy: ir.Policy) -> dict[str, Any]:
    return {"name": policy.id, "title": policy.name, "file": policy.path.rsplit("/", 1)[-1], "sha256": policy.sha256}


def _cites(plan: Plan, decision: Decision | None) -> list[str]:
    seen: list[str] = []
    for step in (decision.trace if decision else plan.trace):
        if step.cite and step.kind != "overridden" and step.cite.label not in seen:
            seen.append(step.cite.label)
    return seen


def _cadre_head(entry: RosterEntry, plan: Plan) -> dict[str, Any]:
    c = entry.cadre
    return {
        "cadre_id": c.cadre_id, "full_name": c.full_name, "level": c.level, "unit": c.unit,
        "titles": sorted(c.titles), "line": entry.line, "status": plan.status,
        "exemptions": [{"rule": x.name, "reason": x.reason, "cite": x.cite.label} for x in plan.exemptions],
        "warnings": list(entry.warnings),
    }


def plan_entry(policy: ir.Policy, entry: RosterEntry, plan: Plan) -> dict[str, Any]:
    out = _cadre_head(entry, plan)
    rule_cites = {r.name: r.cite.label for r in policy.venue_rules}
    cite = ", ".join(rule_cites[n] for n in plan.active_rules)
    out["venues"] = [{"venue": v, "cite": cite} for v in plan.venues]
    out["venue_rules"] = list(plan.active_rules)
    out["outcome"] = None
    out["cites"] = _cites(plan, None)
    if entry.extra:
        out["extra"] = dict(entry.extra)
    return out


def evaluate_entry(policy: ir.Policy, entry: RosterEntry, decision: Decision) -> dict[str, Any]:
    plan = decision.plan
    out = _cadre_head(entry, plan)
    venues = []
    for r in decision.results:
        t = r.tally
        item: dict[str, Any] = {"venue": r.venue, "tally": "present" if t else "missing"}
        if t is None:
            item.update({"collected": None, "low": None, "low_share": None, "percent": None, "band": None,
                         "consequences": [], "cite": None})
        else:
            band = r.band
            item.update({
                "issued": t.issued, "collected": t.collected, "high": t.high, "confidence": t.confidence, "low": t.low,
                "convened": t.convened, "present": t.present,
                "denominator": policy.base_at(r.venue),
                **counts_block(t, policy.base_at(r.venue)),
                "low_share": f"{r.share.numerator}/{r.share.denominator}" if r.share is not None else None,
                "percent": percent(r.share) if r.share is not None else None,
                "session_valid": r.session_valid,
                "band": band.code if band else None,
                "band_label": band.label if band else None,
                "band_set": r.band_set,
                "consequences": list(band.must + band.may) if band else [],
                "must": list(band.must) if band else [],
                "options": list(band.may) if band else [],
                "cite": band.cite.label if band else None,
            })
        venues.append(item)
    out["venues"] = venues
    out["venue_rules"] = list(plan.active_rules)
    out["outcome"] = decision.outcome
    if decision.outcome and policy.combine and decision.outcome == policy.combine.outcome:
        out["outcome_label"] = policy.combine.label
    out["cites"] = _cites(plan, decision)
    if entry.extra:
        out["extra"] = dict(entry.extra)
    return out


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
    def venue_key(venue: Mapping[str, Any], evaluated: bool) -> str:
        """How a venue of a cadre object is counted: its band, or planned / missing / no_band."""
        return venue.get("band") or ("planned" if not evaluated else ("missing" if venue.get("tally") == "missing" else "no_band"))

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


CSV_COLUMNS: tuple[str, ...] = ("cadre_id", "full_name", "level", "unit", "titles", "status", "exemptions", "venue", "issued", "collected",
               "low", "low_share", "percent", "band", "consequences", "outcome", "cites", "file", "line", "reason",
               # appended (brief §3: never renamed or reordered): each level over the venue's base, as counts_block
               "members", "base", "base_count", "high", "confidence", "high_share", "confidence_share",
               "high_percent", "confidence_percent", "low_percent")
_COL = {c: i for i, c in enumerate(CSV_COLUMNS)}


def csv_header(extra_columns: list[str]) -> list[str]:
    """The header row; an extra column's name comes from the input, so it is made safe as a cell is."""
    return list(CSV_COLUMNS) + [safe_cell(c) for c in extra_columns]


def rejected_csv_row(r: Mapping[str, Any], extra_columns: list[str]) -> list[str]:
    """The CSV row of one rejected input row (an entry of the document's ``rejected``)."""
    row = [""] * (len(CSV_COLUMNS) + len(extra_columns))
    row[0] = safe_cell(r.get("cadre_id") or "")
    row[_COL["status"]] = "rejected"
    row[_COL["file"]] = safe_cell(r["file"])
    row[_COL["line"]] = safe_cell(r["line"])
    row[_COL["reason"]] = safe_cell(r["reason"])
    return row


def to_csv(doc: Mapping[str, Any], extra_columns: list[str]) -> str:
    """One row per cadre and venue (one row for a cadre without venue), then one row per rejected input row."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS) + extra_columns, lineterminator="\n", restval="")
    csv.writer(buf, lineterminator="\n").writerow(csv_header(extra_columns))
    for c in doc["cadres"]:
        base = {
            "cadre_id": c["cadre_id"], "full_name": c["full_name"], "level": c["level"], "unit": c["unit"],
            "titles": ";".join(c["titles"]), "status": c["status"],
            "exemptions": "; ".join(f"{x['reason']} ({x['cite']})" for x in c["exemptions"]),
            "outcome": c["outcome"] or "", "cites": "; ".join(c["cites"]), "line": c["line"],
        }
        base.update({k: c.get("extra", {}).get(k, "") for k in extra_columns})
        for v in c["venues"] or [{}]:
            row = dict(base)
            if v:
                row.update({
                    "venue": v["venue"], "issued": v.get("issued", ""), "collected": v.get("collected", ""),
                    "low": v.get("low", ""), "low_share": v.get("low_share", ""), "percent": v.get("percent", ""),
                    "band": "missing_tally" if v.get("tally") == "missing" else v.get("band", ""),
                    "consequences": "; ".join(v.get("must", []) + [f"hoặc: {o}" for o in v.get("options", [])]),
                })
                if "shares" in v:  # a venue with its tally: each level over the base (counts_block)
                    shares, percents = v["shares"], v["percents"]
                    row.update({
                        "members": v["members"], "base": v["base"], "base_count": v["base_count"],
                        "high": v["high"], "confidence": v["confidence"],
                        "high_share": shares["high"], "confidence_share": shares["confidence"],
                        "high_percent": percents["high"], "confidence_percent": percents["confidence"],
                        "low_percent": percents["low"],
                    })
            w.writerow({k: safe_cell(x) for k, x in row.items()})
    for r in doc["rejected"]:
        row = {"cadre_id": r.get("cadre_id") or "", "status": "rejected", "file": r["file"], "line": r["line"], "reason": r["reason"]}
        w.writerow({k: safe_cell(x) for k, x in row.items()})
    return buf.getvalue()
