"""The output of one cadre: its object in the decision document and its rows in the CSV.

Takes a roster entry and what the policy decided about it, prepared once and shared by every cadre
decided the same way: a :class:`PlanView` (of a plan: status, exemptions, venues, the venue rules and
their citations) and, for ``evaluate``, a :class:`DecisionView` (of a decision: at each planned venue
whether there is a tally, the band and its texts, whether the session is valid; the outcome and the
citations) with the cadre's own tallies at those venues. Produces the cadre object of the document
(:func:`plan_object`, :func:`evaluate_object`: what ``json``, ``jsonl`` and the ``table`` drawn from
the document show) or the CSV rows of the cadre (:func:`plan_rows`, :func:`evaluate_rows`); also the
CSV columns and header, the row of a rejected input row, and the CSV rows of a cadre object read back
from a document (:func:`object_rows`, what :func:`tinnhiem.report.to_csv` writes).

This is the one place where a cadre's decision becomes output. :mod:`tinnhiem.report` makes the views
from one full decision per cadre (:func:`~tinnhiem.report.evaluate_entry`); :mod:`tinnhiem.stream`
memoises them per plan and per kind of decision and passes every cadre through the same functions, so
the two cannot write different objects or rows. A cadre's own numbers (counts, shares, percentages)
are formatted here from its tallies; :class:`Formats` memoises what many cadres share (the cells of a
share, sorted titles), bounded. Nothing here decides: every view is made from the evaluator's result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dsl import ir
from dsl.evaluator import Decision, Plan, StageResult, Tally, VenueResult
from tinnhiem.csvio import safe_cell, safe_text
from tinnhiem.roster import RosterEntry

# ---- numbers as the output writes them ------------------------------------------------------------------


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


class Formats:
    """The cells many cadres share, made once: ``n / den`` as an exact share and both percentages
    (:meth:`share`), a set of titles sorted and joined (:meth:`titles_of`). Each memo is cleared when
    it reaches ``limit`` entries (None: never), which bounds memory on adversarial inputs."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.shares: dict[tuple[int, int], tuple[str, str, str]] = {}
        self.titles: dict[frozenset[str], tuple[list[str], str]] = {}

    def share(self, n: int, den: int) -> tuple[str, str, str]:
        """``n / den`` as the output writes it: the exact share (``low_share``, ``shares``),
        :func:`percent` (``percent``) and :func:`percent_vi` (``percents``, ``*_percent``)."""
        cell = self.shares.get((n, den))
        if cell is None:
            if self.limit is not None and len(self.shares) >= self.limit:
                self.shares.clear()
            share = Fraction(n, den)
            cell = self.shares[n, den] = (f"{share.numerator}/{share.denominator}", percent(share), percent_vi(share))
        return cell

    def titles_of(self, titles: frozenset[str]) -> tuple[list[str], str]:
        """The titles sorted (``titles`` of the object) and joined as the CSV cell."""
        got = self.titles.get(titles)
        if got is None:
            if self.limit is not None and len(self.titles) >= self.limit:
                self.titles.clear()
            ordered = sorted(titles)
            got = self.titles[titles] = (ordered, safe_text(";".join(ordered)))
        return got


def counts_block(t: Tally, base: str, formats: Formats | None = None) -> dict[str, Any]:
    """Each level of a tally over the venue's base: the count of the base, each level's exact share and
    its percentage (``percents``, in the official form) — the figures of a confirming resolution."""
    den = t.get(base)
    cells = formats or Formats()
    shares: dict[str, str | None] = {}
    percents: dict[str, str | None] = {}
    for level in LEVELS:
        n = t.get(level)
        if den and n is not None:
            exact, _, official = cells.share(n, den)
            shares[level], percents[level] = exact, official
        else:
            shares[level] = percents[level] = None
    return {"members": t.members, "base": base, "base_count": den, "shares": shares, "percents": percents}


def citations(plan: Plan, decision: Decision | None = None) -> tuple[str, ...]:
    """The labels of the rules that decided (the plan's alone without a decision), in order, once each;
    an overridden rule is not cited."""
    seen: list[str] = []
    for step in (decision.trace if decision else plan.trace):
        if step.cite and step.kind != "overridden" and step.cite.label not in seen:
            seen.append(step.cite.label)
    return tuple(seen)


# the texts of the CSV cells that join several values (also read back from an object by object_rows)
def _exemptions_text(exemptions: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(f"{x['reason']} ({x['cite']})" for x in exemptions)


def _consequences_text(then: Iterable[Mapping[str, str]]) -> str:
    """The CSV cell of a band's consequences, in the text's order (:func:`dsl.ir.consequence_cell`)."""
    return "; ".join(c["text"] if c["kind"] == "must" else f"{ir.CONSEQUENCE_VI[c['kind']]}: {c['text']}" for c in then)


def _then(band: ir.BandRule | None) -> tuple[Mapping[str, str], ...]:
    """A band's consequences as data, in the text's order: ``{"kind": must|may|otherwise, "text": …}``."""
    return tuple({"kind": kind, "text": text} for kind, text in band.then()) if band else ()


def _band_text(present: bool, band: str | None) -> str:
    return (band or "") if present else "missing_tally"


def _safe(value: str | None) -> str:
    return "" if value is None else safe_text(value)


# ---- what a plan or a decision says, shared by every cadre decided the same way ----------------------


@dataclass(frozen=True, slots=True)
class PlanView:
    """What a plan says about a cadre, in every format: status, exemptions, venues and, for a plan
    without tallies, the citations of the rules that chose them."""

    status: str
    exemptions: tuple[Mapping[str, str], ...]  # {"rule", "reason", "cite"}, copied into each object
    venues: tuple[str, ...]
    venue_rules: tuple[str, ...]
    venue_cite: str  # plan only: each venue's ``cite``, the rules that chose the venues
    cites: tuple[str, ...]  # plan only: the plan's citations
    status_cell: str
    exemptions_cell: str
    venue_cells: tuple[str, ...]
    cites_cell: str

    @classmethod
    def of(cls, policy: ir.Policy, plan: Plan) -> PlanView:
        exemptions = tuple({"rule": x.name, "reason": x.reason, "cite": x.cite.label} for x in plan.exemptions)
        rule_cites = {r.name: r.cite.label for r in policy.venue_rules}
        cites = citations(plan)
        return cls(status=plan.status, exemptions=exemptions, venues=plan.venues, venue_rules=plan.active_rules,
                   venue_cite=", ".join(rule_cites[n] for n in plan.active_rules), cites=cites,
                   status_cell=safe_text(plan.status), exemptions_cell=safe_text(_exemptions_text(exemptions)),
                   venue_cells=tuple(safe_text(v) for v in plan.venues), cites_cell=safe_text("; ".join(cites)))


@dataclass(frozen=True, slots=True)
class VenueView:
    """One planned venue of a decision: the band found and its texts, or the missing tally."""

    venue: str
    present: bool  # a tally was given
    has_share: bool  # the evaluator counted a share (the base count is positive and a band set applies)
    session_valid: bool | None
    base: str  # the field the share is counted over (``denominator``)
    band: str | None
    band_label: str | None
    band_set: str | None
    must: tuple[str, ...]
    options: tuple[str, ...]
    cite: str | None
    venue_cell: str
    base_cell: str
    band_cell: str
    consequences_cell: str
    consequences: tuple[str, ...] = ()  # in the text's order (:func:`dsl.ir.consequence_texts`)
    then: tuple[Mapping[str, str], ...] = ()  # the same as data: kind (must | may | otherwise) and text

    @classmethod
    def of(cls, policy: ir.Policy, result: VenueResult) -> VenueView:
        band, base = result.band, policy.base_at(result.venue)
        present = result.tally is not None
        must, options = (tuple(band.must), tuple(band.may)) if band else ((), ())
        code = band.code if band else None
        then = _then(band)
        return cls(venue=result.venue, present=present, has_share=result.share is not None, session_valid=result.session_valid,
                   base=base, band=code, band_label=band.label if band else None, band_set=result.band_set,
                   must=must, options=options, cite=band.cite.label if band else None,
                   venue_cell=safe_text(result.venue), base_cell=safe_text(base), band_cell=_safe(_band_text(present, code)),
                   consequences_cell=safe_text(_consequences_text(then)),
                   consequences=ir.consequence_texts(band) if band else (), then=then)


@dataclass(frozen=True, slots=True)
class StageView:
    """One later vote of a cadre's procedure (:class:`dsl.evaluator.StageResult`): where it stands and,
    when counted, its band and texts; its own tally is kept with it (a stage tally is per cadre)."""

    stage: str
    label: str
    venue: str
    status: str  # not_due | due | decided
    after: str | None  # the band of the vote before it that triggers it (or the one decided instead)
    base: str
    band: str | None
    band_label: str | None
    band_set: str
    consequences: tuple[str, ...]
    then: tuple[Mapping[str, str], ...]
    cite: str | None
    stage_cite: str
    tally: Tally | None

    @classmethod
    def of(cls, r: StageResult) -> StageView:
        band = r.band
        return cls(stage=r.stage.name, label=r.stage.label, venue=r.stage.venue, status=r.status, after=r.trigger, base=r.base,
                   band=band.code if band else None, band_label=band.label if band else None, band_set=r.stage.band_set,
                   consequences=ir.consequence_texts(band) if band else (), then=_then(band),
                   cite=band.cite.label if band else None, stage_cite=r.stage.cite.label, tally=r.tally if r.due else None)


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A kind of decision: the plan's view, each planned venue's, the outcome and the citations."""

    plan: PlanView
    venues: tuple[VenueView, ...]
    outcome: str | None
    outcome_label: str | None
    cites: tuple[str, ...]
    outcome_cell: str
    cites_cell: str
    has_stages: bool = False  # the policy declares stages: the object and the rows report the procedure
    stages: tuple[StageView, ...] = ()
    next_stage: str | None = None
    final: str | None = None

    @classmethod
    def of(cls, policy: ir.Policy, plan: PlanView, decision: Decision) -> DecisionView:
        """``plan`` is :meth:`PlanView.of` the decision's plan (passed in: a caller may have it already)."""
        c = policy.combine
        label = c.label if decision.outcome and c and decision.outcome == c.outcome else None
        cites = citations(decision.plan, decision)
        return cls(plan=plan, venues=tuple(VenueView.of(policy, r) for r in decision.results), outcome=decision.outcome,
                   outcome_label=label, cites=cites, outcome_cell=_safe(decision.outcome), cites_cell=safe_text("; ".join(cites)),
                   has_stages=bool(policy.stages), stages=tuple(StageView.of(r) for r in decision.stages),
                   next_stage=decision.next_stage, final=decision.final)


# ---- the cadre object (json, jsonl, table) ------------------------------------------------------------

_MISSING_VENUE = {"tally": "missing", "collected": None, "low": None, "low_share": None, "percent": None, "band": None,
                  "consequences": [], "cite": None}


def _head_object(entry: RosterEntry, plan: PlanView, formats: Formats) -> dict[str, Any]:
    c = entry.cadre
    return {
        "cadre_id": c.cadre_id, "full_name": c.full_name, "level": c.level, "unit": c.unit,
        "titles": list(formats.titles_of(c.titles)[0]), "line": entry.line, "status": plan.status,
        "exemptions": [dict(x) for x in plan.exemptions], "warnings": list(entry.warnings),
    }


def plan_object(entry: RosterEntry, plan: PlanView, formats: Formats) -> dict[str, Any]:
    """The cadre object of ``plan``: the venues with the citations of the rules that chose them."""
    out = _head_object(entry, plan, formats)
    out["venues"] = [{"venue": v, "cite": plan.venue_cite} for v in plan.venues]
    out["venue_rules"] = list(plan.venue_rules)
    out["outcome"] = None
    out["cites"] = list(plan.cites)
    if entry.extra:
        out["extra"] = dict(entry.extra)
    return out


def evaluate_object(entry: RosterEntry, decision: DecisionView, tallies: Sequence[Tally | None], formats: Formats) -> dict[str, Any]:
    """The cadre object of ``evaluate``; ``tallies``: the cadre's tally at each venue of ``decision``
    (None where it has none)."""
    out = _head_object(entry, decision.plan, formats)
    venues = []
    for v, t in zip(decision.venues, tallies, strict=True):
        if t is None:
            venues.append({"venue": v.venue, **_MISSING_VENUE, "consequences": []})
            continue
        share, pct = formats.share(t.low, t.get(v.base))[:2] if v.has_share else (None, None)  # type: ignore[arg-type]
        venues.append({
            "venue": v.venue, "tally": "present",
            "issued": t.issued, "collected": t.collected, "high": t.high, "confidence": t.confidence, "low": t.low,
            "convened": t.convened, "present": t.present, "denominator": v.base,
            **counts_block(t, v.base, formats),
            "low_share": share, "percent": pct, "session_valid": v.session_valid,
            "band": v.band, "band_label": v.band_label, "band_set": v.band_set,
            "consequences": list(v.consequences), "must": list(v.must), "options": list(v.options),
            "then": [dict(c) for c in v.then], "cite": v.cite,
        })
    out["venues"] = venues
    out["venue_rules"] = list(decision.plan.venue_rules)
    out["outcome"] = decision.outcome
    if decision.outcome_label is not None:
        out["outcome_label"] = decision.outcome_label
    out["cites"] = list(decision.cites)
    if decision.has_stages:  # the procedure: each later vote, the one due next, the final result
        out["stages"] = [stage_object(s, formats) for s in decision.stages]
        out["next_stage"] = decision.next_stage
        out["final"] = decision.final
    if entry.extra:
        out["extra"] = dict(entry.extra)
    return out


def stage_object(s: StageView, formats: Formats) -> dict[str, Any]:
    """One later vote in the cadre object: its status, and when counted its counts over its base and its band."""
    out: dict[str, Any] = {"stage": s.stage, "label": s.label, "venue": s.venue, "status": s.status, "after": s.after,
                           "stage_cite": s.stage_cite}
    t = s.tally
    if t is not None:
        den = t.get(s.base)
        share, pct = formats.share(t.low, den)[:2] if den else (None, None)
        out.update({"issued": t.issued, "collected": t.collected, "high": t.high, "confidence": t.confidence, "low": t.low,
                    **counts_block(t, s.base, formats), "low_share": share, "percent": pct})
    out.update({"band": s.band, "band_label": s.band_label, "band_set": s.band_set, "consequences": list(s.consequences),
                "then": [dict(c) for c in s.then], "cite": s.cite})
    return out


# ---- the CSV rows -------------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = ("cadre_id", "full_name", "level", "unit", "titles", "status", "exemptions", "venue", "issued", "collected",
               "low", "low_share", "percent", "band", "consequences", "outcome", "cites", "file", "line", "reason",
               # appended (brief §3: never renamed or reordered): each level over the venue's base, as counts_block
               "members", "base", "base_count", "high", "confidence", "high_share", "confidence_share",
               "high_percent", "confidence_percent", "low_percent")
_COL = {c: i for i, c in enumerate(CSV_COLUMNS)}
#: The cells of the columns appended after ``reason`` (members … low_percent) in a row without a tally.
_NO_LEVELS = ("",) * (len(CSV_COLUMNS) - _COL["reason"] - 1)


#: Appended (after the levels, before the roster's extra columns) by ``evaluate`` when the policy has
#: stages: the later vote a row counts (empty: the poll), the stage due next, the final result.
STAGE_COLUMNS: tuple[str, ...] = ("stage", "next_stage", "final")


def csv_header(extra_columns: Sequence[str], stages: bool = False) -> list[str]:
    """The header row; an extra column's name comes from the input, so it is made safe as a cell is."""
    return list(CSV_COLUMNS) + (list(STAGE_COLUMNS) if stages else []) + [safe_cell(c) for c in extra_columns]


def rejected_csv_row(r: Mapping[str, Any], extra_columns: Sequence[str], stages: bool = False) -> list[str]:
    """The CSV row of one rejected input row (an entry of the document's ``rejected``)."""
    row = [""] * (len(CSV_COLUMNS) + (len(STAGE_COLUMNS) if stages else 0) + len(extra_columns))
    row[0] = safe_cell(r.get("cadre_id") or "")
    row[_COL["status"]] = "rejected"
    row[_COL["file"]] = safe_cell(r["file"])
    row[_COL["line"]] = safe_cell(r["line"])
    row[_COL["reason"]] = safe_cell(r["reason"])
    return row


def _row_head(entry: RosterEntry, plan: PlanView, formats: Formats) -> tuple[Any, ...]:
    c = entry.cadre
    return (safe_text(c.cadre_id), safe_text(c.full_name), safe_text(c.level), safe_text(c.unit),
            formats.titles_of(c.titles)[1], plan.status_cell, plan.exemptions_cell)


def _row_extra(entry: RosterEntry, extra_columns: Sequence[str]) -> Sequence[str]:
    if not extra_columns:
        return ()
    extra = entry.extra
    return [_safe(extra.get(k, "")) for k in extra_columns]


def evaluate_rows(entry: RosterEntry, decision: DecisionView, tallies: Sequence[Tally | None], extra_columns: Sequence[str],
                  formats: Formats) -> list[list[Any]]:
    """The CSV rows of a cadre of ``evaluate``: one per planned venue, or one without a venue
    (``tallies`` as for :func:`evaluate_object`)."""
    head = _row_head(entry, decision.plan, formats)
    outcome, cites = decision.outcome_cell, decision.cites_cell
    extra = _row_extra(entry, extra_columns)
    if decision.has_stages:  # the procedure's cells before the extra columns, on every row of the cadre
        procedure = (_safe(decision.next_stage), _safe(decision.final))
        extra = ["", *procedure, *extra]
    if not decision.venues:
        return [[*head, "", "", "", "", "", "", "", "", outcome, cites, "", entry.line, "", *_NO_LEVELS, *extra]]
    rows = []
    memo = formats.shares
    for v, t in zip(decision.venues, tallies, strict=True):
        if t is None:
            rows.append([*head, v.venue_cell, "", "", "", "", "", v.band_cell, v.consequences_cell,
                         outcome, cites, "", entry.line, "", *_NO_LEVELS, *extra])
            continue
        den = getattr(t, v.base)
        if den:  # each level over the base, as counts_block (the memo looked up inline: every row)
            high_share, _, high_pct = memo.get((t.high, den)) or formats.share(t.high, den)
            conf_share, _, conf_pct = memo.get((t.confidence, den)) or formats.share(t.confidence, den)
            low_share, pct, low_pct = memo.get((t.low, den)) or formats.share(t.low, den)
        else:
            high_share = high_pct = conf_share = conf_pct = low_share = pct = low_pct = ""
        share, pct = (low_share, pct) if v.has_share else ("", "")
        members = "" if t.members is None else t.members
        rows.append([*head, v.venue_cell, t.issued, t.collected, t.low, share, pct, v.band_cell, v.consequences_cell,
                     outcome, cites, "", entry.line, "",
                     members, v.base_cell, "" if den is None else den, t.high, t.confidence,
                     high_share, conf_share, high_pct, conf_pct, low_pct, *extra])
    for s in decision.stages:  # a row per later vote due or counted, after the poll's rows
        if s.status == "not_due":
            continue
        rows.append(_stage_row(head, s, outcome, cites, entry.line, [safe_text(s.stage), *extra[1:]], formats))
    return rows


def _stage_row(head: tuple[Any, ...], s: StageView, outcome: str, cites: str, line: int, tail: list[Any],
               formats: Formats) -> list[Any]:
    t = s.tally
    band_cell, cons = _safe(s.band), safe_text(_consequences_text(s.then))
    if t is None:  # due, not yet held
        return [*head, safe_text(s.venue), "", "", "", "", "", band_cell, cons, outcome, cites, "", line, "", *_NO_LEVELS, *tail]
    den = t.get(s.base)
    if den:
        high_share, _, high_pct = formats.share(t.high, den)
        conf_share, _, conf_pct = formats.share(t.confidence, den)
        low_share, pct, low_pct = formats.share(t.low, den)
    else:
        high_share = high_pct = conf_share = conf_pct = low_share = pct = low_pct = ""
    return [*head, safe_text(s.venue), t.issued, t.collected, t.low, low_share, pct, band_cell, cons, outcome, cites, "", line, "",
            "" if t.members is None else t.members, safe_text(s.base), "" if den is None else den, t.high, t.confidence,
            high_share, conf_share, high_pct, conf_pct, low_pct, *tail]


def plan_rows(entry: RosterEntry, plan: PlanView, extra_columns: Sequence[str], formats: Formats) -> list[list[Any]]:
    """The CSV rows of a cadre of ``plan``: one per venue, or one without a venue."""
    head = _row_head(entry, plan, formats)
    extra = _row_extra(entry, extra_columns)
    return [[*head, cell, "", "", "", "", "", "", "", "", plan.cites_cell, "", entry.line, "", *_NO_LEVELS, *extra]
            for cell in plan.venue_cells or ("",)]


def object_rows(c: Mapping[str, Any], extra_columns: Sequence[str], stages: bool = False) -> list[list[str]]:
    """The CSV rows of a cadre object read back from a document (:func:`plan_object` /
    :func:`evaluate_object`, or their JSON): the rows :func:`plan_rows` / :func:`evaluate_rows` write
    for that cadre, derived from the object alone (``stages``: with :data:`STAGE_COLUMNS`)."""
    col = dict(_COL)
    if stages:
        col.update({k: len(CSV_COLUMNS) + i for i, k in enumerate(STAGE_COLUMNS)})
    first_extra = len(CSV_COLUMNS) + (len(STAGE_COLUMNS) if stages else 0)
    head = [""] * (first_extra + len(extra_columns))
    for key, value in (("cadre_id", c["cadre_id"]), ("full_name", c["full_name"]), ("level", c["level"]), ("unit", c["unit"]),
                       ("titles", ";".join(c["titles"])), ("status", c["status"]), ("exemptions", _exemptions_text(c["exemptions"])),
                       ("outcome", c["outcome"] or ""), ("cites", "; ".join(c["cites"])), ("line", c["line"])):
        head[col[key]] = safe_cell(value)
    if stages and "stages" in c:
        head[col["next_stage"]] = safe_cell(c["next_stage"] or "")
        head[col["final"]] = safe_cell(c["final"] or "")
    extra = c.get("extra", {})
    for i, k in enumerate(extra_columns, first_extra):
        head[i] = safe_cell(extra.get(k, ""))
    rows = []
    later = [s for s in c.get("stages", ()) if s["status"] != "not_due"] if stages else []
    for v in [*(c["venues"] or [{}]), *later]:
        row = list(head)
        if v:
            then = v.get("then") or [*({"kind": "must", "text": m} for m in v.get("must", [])),
                                     *({"kind": "may", "text": o} for o in v.get("options", []))]
            cells: dict[str, Any] = {
                "venue": v["venue"], "issued": v.get("issued"), "collected": v.get("collected"), "low": v.get("low"),
                "low_share": v.get("low_share"), "percent": v.get("percent"),
                "band": v.get("band") if "stage" in v else _band_text(v.get("tally") != "missing", v.get("band")),
                "consequences": _consequences_text(then),
            }
            if "stage" in v:
                cells["stage"] = v["stage"]
            if "shares" in v:  # a venue with its tally: each level over the base (counts_block)
                shares, percents = v["shares"], v["percents"]
                cells.update({
                    "members": v["members"], "base": v["base"], "base_count": v["base_count"],
                    "high": v["high"], "confidence": v["confidence"],
                    "high_share": shares["high"], "confidence_share": shares["confidence"],
                    "high_percent": percents["high"], "confidence_percent": percents["confidence"],
                    "low_percent": percents["low"],
                })
            for key, value in cells.items():
                row[col[key]] = safe_cell(value if value is not None else "")
        rows.append(row)
    return rows
