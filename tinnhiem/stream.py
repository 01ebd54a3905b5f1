"""Plans and decisions for many cadres at once, without building a document.

Takes the policy and its compiled :class:`~dsl.evaluator.Evaluator`, then one roster entry at a time
(with its plan and, for ``evaluate``, its tallies); produces the per-cadre objects of the JSON
document (the same as :func:`tinnhiem.report.plan_entry` / :func:`~tinnhiem.report.evaluate_entry`
would build from the evaluator's full decision) or the CSV rows of that cadre (the same bytes as
:func:`tinnhiem.report.to_csv`), and counts the summary as it goes.

Why it is fast: what a decision says besides the numbers depends on few things. A plan depends only
on (level, titles, facts) of the row, so :meth:`Decider.plan` asks the evaluator once per distinct
combination. The outcome, the citations, the bands' texts depend only on the plan and, at each
planned venue, on whether there is a tally, which band the evaluator finds (:meth:`Evaluator.band_rule`,
the compiled band conditions) and whether the session is valid; the first cadre of each such kind
is decided in full by :meth:`Evaluator.decide` and the result kept as a template. Every other cadre
costs a band look-up per venue and the formatting of its own numbers. The memos are bounded
(:data:`MEMO_LIMIT`); nothing here re-implements a rule of the policy.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any, TextIO

from dsl import ir
from dsl.evaluator import Cadre, Decision, Evaluator, Plan, Tally, VenueResult
from tinnhiem import report
from tinnhiem.csvio import safe_text
from tinnhiem.roster import RosterEntry

#: Entries kept in each memo before it is cleared (bounds memory on adversarial inputs).
MEMO_LIMIT = 100_000

_MISSING_OBJECT = {"tally": "missing", "collected": None, "low": None, "low_share": None, "percent": None, "band": None,
                   "consequences": [], "cite": None}


#: The cells of the columns appended after ``reason`` (members … low_percent) in a row without a tally.
_NO_LEVELS = ("",) * (len(report.CSV_COLUMNS) - report.CSV_COLUMNS.index("reason") - 1)


def _safe(value: str | None) -> str:
    return "" if value is None else safe_text(value)


class _Head:
    """What a plan says about a cadre, in every format: status, exemptions, venues, citations."""

    def __init__(self, policy: ir.Policy, plan: Plan) -> None:
        self.plan = plan
        self.count = 0  # cadres planned with it (plan, without tallies)
        self.exemptions = tuple({"rule": x.name, "reason": x.reason, "cite": x.cite.label} for x in plan.exemptions)
        self.exemptions_cell = safe_text("; ".join(f"{x['reason']} ({x['cite']})" for x in self.exemptions))
        self.venue_rules = plan.active_rules
        self.status_cell = safe_text(plan.status)
        # plan only (no tallies): the venues with the citations of the rules that chose them
        rule_cites = {r.name: r.cite.label for r in policy.venue_rules}
        self.plan_venue_cite = ", ".join(rule_cites[n] for n in plan.active_rules)
        self.plan_cites = tuple(report._cites(plan, None))
        self.plan_cites_cell = safe_text("; ".join(self.plan_cites))
        self.plan_venue_cells = tuple(safe_text(v) for v in plan.venues)


class _Venue:
    """One planned venue of a kind of decision: the band's texts, or the missing tally."""

    def __init__(self, policy: ir.Policy, result: VenueResult) -> None:
        self.venue = result.venue
        self.venue_cell = safe_text(result.venue)
        self.present = result.tally is not None
        band = result.band
        self.share = result.share is not None
        self.session_valid = result.session_valid
        self.denominator = policy.base_at(result.venue)  # what the share here is counted over
        self.base_cell = safe_text(self.denominator)
        self.band = band.code if band else None
        self.band_label = band.label if band else None
        self.band_set = result.band_set
        self.consequences = list(band.must + band.may) if band else []
        self.must = list(band.must) if band else []
        self.options = list(band.may) if band else []
        self.cite = band.cite.label if band else None
        self.band_cell = "missing_tally" if not self.present else _safe(self.band)
        self.consequences_cell = safe_text("; ".join(self.must + [f"hoặc: {o}" for o in self.options]))
        self.summary_key = report.SummaryCounts.venue_key({"band": self.band, "tally": "present" if self.present else "missing"}, True)


class _Kind:
    """A kind of decision: the plan, and per venue whether a tally exists, its band and session validity."""

    def __init__(self, policy: ir.Policy, head: _Head, decision: Decision) -> None:
        self.head = head
        self.count = 0  # cadres decided this way
        self.venues = tuple(_Venue(policy, r) for r in decision.results)
        self.outcome = decision.outcome
        c = policy.combine
        self.outcome_label = c.label if decision.outcome and c and decision.outcome == c.outcome else None
        self.cites = tuple(report._cites(head.plan, decision))
        self.tail_cells = (_safe(self.outcome), safe_text("; ".join(self.cites)))
        self.summary = (head.plan.status, self.outcome, tuple((v.venue, v.summary_key) for v in self.venues))


class Decider:
    """A policy's decisions for a stream of cadres, memoised on what they depend on."""

    def __init__(self, policy: ir.Policy, ev: Evaluator, extra_columns: Sequence[str] = ()) -> None:
        self.policy = policy
        self.ev = ev
        self.extra_columns = list(extra_columns)
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self._heads: dict[int, _Head] = {}  # id(plan) → head (every plan stays alive in self._made)
        self._kinds: dict[tuple[Any, ...], _Kind] = {}
        self._shares: dict[tuple[int, int], tuple[str, str, str]] = {}
        self._titles: dict[frozenset[str], tuple[list[str], str]] = {}
        self._made: list[_Kind | _Head] = []  # every kind and head made (they count their cadres)
        self._band_venues = frozenset(v for v in policy.venue_codes() if policy.band_set_at(v) is not None)

    # ---- plans ------------------------------------------------------------------------------------
    def plan(self, cadre: Cadre) -> Plan:
        """:meth:`Evaluator.plan`, asked once per distinct (level, titles, facts)."""
        key = (cadre.level, cadre.titles, tuple(cadre.facts.items()))
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= MEMO_LIMIT:
                self._plans.clear()
                self._heads.clear()
                self._kinds.clear()
            plan = self._plans[key] = self.ev.plan(cadre)
        return plan

    def _head(self, plan: Plan) -> _Head:
        head = self._heads.get(id(plan))
        if head is None or head.plan is not plan:
            head = self._heads[id(plan)] = _Head(self.policy, plan)
            self._made.append(head)
        return head

    # ---- decisions --------------------------------------------------------------------------------
    def _kind(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally]) -> tuple[_Kind, list[Tally | None]]:
        ev = self.ev
        found: list[Tally | None] = []
        key: list[Any] = [id(plan)]
        for venue in plan.venues:
            t = None
            for x in tallies:
                if x.venue == venue:
                    t = x
                    break
            found.append(t)
            if t is None:
                key.append(None)
                continue
            den = t.get(ev.base(venue))
            key.append((id(ev.band_rule(venue, t)), ev.session_valid(t), den is not None and den > 0 and venue in self._band_venues))
        k = tuple(key)
        kind = self._kinds.get(k)
        if kind is None or kind.head.plan is not plan:
            if len(self._kinds) >= MEMO_LIMIT:
                self._kinds.clear()
            decision = ev.decide(entry.cadre, {t.venue: t for t in found if t is not None}, plan)
            for r, t in zip(decision.results, found, strict=True):  # the compiled paths agree, or this is a bug
                if r.tally is not None and (r.band is not ev.band_rule(r.venue, t) or r.session_valid != ev.session_valid(t)):  # type: ignore[arg-type]
                    raise AssertionError(f"band_rule and decide disagree on {entry.cadre.cadre_id} at {r.venue}")
            kind = self._kinds[k] = _Kind(self.policy, self._head(plan), decision)
            self._made.append(kind)
        kind.count += 1
        return kind, found

    def _share(self, n: int, den: int) -> tuple[str, str, str]:
        """``n / den`` as the output writes it: the exact share, :func:`report.percent` (the ``percent``
        column) and :func:`report.percent_vi` (the official form of ``percents`` and ``*_percent``)."""
        cell = self._shares.get((n, den))
        if cell is None:
            if len(self._shares) >= MEMO_LIMIT:
                self._shares.clear()
            share = Fraction(n, den)
            cell = self._shares[n, den] = (f"{share.numerator}/{share.denominator}", report.percent(share), report.percent_vi(share))
        return cell

    def _titles_of(self, titles: frozenset[str]) -> tuple[list[str], str]:
        got = self._titles.get(titles)
        if got is None:
            if len(self._titles) >= MEMO_LIMIT:
                self._titles.clear()
            ordered = sorted(titles)
            got = self._titles[titles] = (ordered, safe_text(";".join(ordered)))
        return got

    def summary_counts(self, evaluated: bool) -> report.SummaryCounts:
        """The summary of every cadre passed to the ``*_object`` / ``*_rows`` methods so far."""
        counts = report.SummaryCounts(evaluated)
        for what in self._made:
            if not what.count:
                continue
            if isinstance(what, _Kind):
                counts.add(*what.summary, n=what.count)
            else:
                counts.add(what.plan.status, None, [(v, "planned") for v in what.plan.venues], n=what.count)
        return counts

    # ---- per-cadre objects (json, jsonl, table) ----------------------------------------------------
    def _head_object(self, entry: RosterEntry, head: _Head) -> dict[str, Any]:
        c = entry.cadre
        return {
            "cadre_id": c.cadre_id, "full_name": c.full_name, "level": c.level, "unit": c.unit,
            "titles": list(self._titles_of(c.titles)[0]), "line": entry.line, "status": head.plan.status,
            "exemptions": [dict(x) for x in head.exemptions], "warnings": list(entry.warnings),
        }

    def evaluate_object(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally]) -> dict[str, Any]:
        """:func:`report.evaluate_entry` of the evaluator's decision for this cadre."""
        kind, found = self._kind(entry, plan, tallies)
        out = self._head_object(entry, kind.head)
        venues = []
        for v, t in zip(kind.venues, found):
            if t is None:
                venues.append({"venue": v.venue, **_MISSING_OBJECT, "consequences": []})
                continue
            share, pct = self._share(t.low, t.get(v.denominator))[:2] if v.share else (None, None)  # type: ignore[arg-type]
            venues.append({
                "venue": v.venue, "tally": "present",
                "issued": t.issued, "collected": t.collected, "high": t.high, "confidence": t.confidence, "low": t.low,
                "convened": t.convened, "present": t.present, "denominator": v.denominator,
                **report.counts_block(t, v.denominator),
                "low_share": share, "percent": pct, "session_valid": v.session_valid,
                "band": v.band, "band_label": v.band_label, "band_set": v.band_set,
                "consequences": list(v.consequences), "must": list(v.must), "options": list(v.options), "cite": v.cite,
            })
        out["venues"] = venues
        out["venue_rules"] = list(kind.head.venue_rules)
        out["outcome"] = kind.outcome
        if kind.outcome_label is not None:
            out["outcome_label"] = kind.outcome_label
        out["cites"] = list(kind.cites)
        if entry.extra:
            out["extra"] = dict(entry.extra)
        return out

    def plan_object(self, entry: RosterEntry, plan: Plan) -> dict[str, Any]:
        """:func:`report.plan_entry` of the evaluator's plan for this cadre."""
        head = self._head(plan)
        head.count += 1
        out = self._head_object(entry, head)
        out["venues"] = [{"venue": v, "cite": head.plan_venue_cite} for v in plan.venues]
        out["venue_rules"] = list(plan.active_rules)
        out["outcome"] = None
        out["cites"] = list(head.plan_cites)
        if entry.extra:
            out["extra"] = dict(entry.extra)
        return out

    # ---- CSV rows ---------------------------------------------------------------------------------
    def _row_head(self, entry: RosterEntry, head: _Head) -> tuple[Any, ...]:
        c = entry.cadre
        return (safe_text(c.cadre_id), safe_text(c.full_name), safe_text(c.level), safe_text(c.unit),
                self._titles_of(c.titles)[1], head.status_cell, head.exemptions_cell)

    def _row_extra(self, entry: RosterEntry) -> list[str]:
        extra = entry.extra
        return [_safe(extra.get(k, "")) for k in self.extra_columns]

    def evaluate_rows(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally]) -> list[list[Any]]:
        """The CSV rows of this cadre (one per planned venue, or one without a venue)."""
        kind, found = self._kind(entry, plan, tallies)
        head = self._row_head(entry, kind.head)
        outcome, cites = kind.tail_cells
        extra = self._row_extra(entry) if self.extra_columns else ()
        if not kind.venues:
            return [[*head, "", "", "", "", "", "", "", "", outcome, cites, "", entry.line, "", *_NO_LEVELS, *extra]]
        rows = []
        memo = self._shares
        for v, t in zip(kind.venues, found):
            if t is None:
                rows.append([*head, v.venue_cell, "", "", "", "", "", v.band_cell, v.consequences_cell,
                             outcome, cites, "", entry.line, "", *_NO_LEVELS, *extra])
                continue
            den = getattr(t, v.denominator)
            if den:  # each level over the base, as report.counts_block (the memo looked up inline: every row)
                high_share, _, high_pct = memo.get((t.high, den)) or self._share(t.high, den)
                conf_share, _, conf_pct = memo.get((t.confidence, den)) or self._share(t.confidence, den)
                low_share, pct, low_pct = memo.get((t.low, den)) or self._share(t.low, den)
            else:
                high_share = high_pct = conf_share = conf_pct = low_share = pct = low_pct = ""
            share, pct = (low_share, pct) if v.share else ("", "")
            members = "" if t.members is None else t.members
            rows.append([*head, v.venue_cell, t.issued, t.collected, t.low, share, pct, v.band_cell, v.consequences_cell,
                         outcome, cites, "", entry.line, "",
                         members, v.base_cell, "" if den is None else den, t.high, t.confidence,
                         high_share, conf_share, high_pct, conf_pct, low_pct, *extra])
        return rows

    def plan_rows(self, entry: RosterEntry, plan: Plan) -> list[list[Any]]:
        """The CSV rows of this cadre's plan."""
        h = self._head(plan)
        h.count += 1
        head = self._row_head(entry, h)
        extra = self._row_extra(entry) if self.extra_columns else ()
        cells = h.plan_venue_cells or ("",)
        return [[*head, cell, "", "", "", "", "", "", "", "", h.plan_cites_cell, "", entry.line, "", *_NO_LEVELS, *extra]
                for cell in cells]


# ---- sinks: where the report goes ---------------------------------------------------------------------


class Sink:
    """A report written as it is produced: cadres one at a time, then the rejected rows and the summary."""

    def cadre(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally] | None) -> None:
        raise NotImplementedError

    def close(self, closing: dict[str, Any]) -> None:
        raise NotImplementedError


class CsvSink(Sink):
    """``--format csv``: the header, a row per cadre and venue as each cadre is decided, the rejected rows."""

    def __init__(self, out: TextIO, decider: Decider) -> None:
        self.decider = decider
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(report.csv_header(decider.extra_columns))

    def cadre(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally] | None) -> None:
        d = self.decider
        rows = d.plan_rows(entry, plan) if tallies is None else d.evaluate_rows(entry, plan, tallies)
        self.writer.writerows(rows)

    def close(self, closing: dict[str, Any]) -> None:
        extra = self.decider.extra_columns
        self.writer.writerows(report.rejected_csv_row(r, extra) for r in closing["rejected"])


class JsonlSink(Sink):
    """``--format jsonl``: a cadre object per line as each cadre is decided, then the closing object."""

    def __init__(self, out: TextIO, decider: Decider) -> None:
        self.out = out
        self.decider = decider

    def cadre(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally] | None) -> None:
        d = self.decider
        obj = d.plan_object(entry, plan) if tallies is None else d.evaluate_object(entry, plan, tallies)
        self.out.write(report.jsonl_line(obj))

    def close(self, closing: dict[str, Any]) -> None:
        self.out.write(report.jsonl_line(closing))


class DocumentSink(Sink):
    """Keeps every cadre object: for ``json`` and ``table``, which need the whole document."""

    def __init__(self, decider: Decider) -> None:
        self.decider = decider
        self.cadres: list[dict[str, Any]] = []

    def cadre(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally] | None) -> None:
        d = self.decider
        self.cadres.append(d.plan_object(entry, plan) if tallies is None else d.evaluate_object(entry, plan, tallies))

    def close(self, closing: dict[str, Any]) -> None:
        pass


def feed(sink: Sink, entries: Iterable[RosterEntry], plans: Iterable[Plan],
         tallies: Callable[[str], Sequence[Tally]] | None, tick: Callable[[int], None] | None = None) -> None:
    """Every cadre to the sink, in roster order (``tallies`` None: a plan without tallies)."""
    for i, (entry, plan) in enumerate(zip(entries, plans, strict=True), 1):
        sink.cadre(entry, plan, None if tallies is None else tallies(entry.cadre.cadre_id))
        if tick is not None and i % 5000 == 0:
            tick(i)
