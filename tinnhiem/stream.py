"""Plans and decisions for many cadres at once, without building a document.

Takes the policy and its compiled :class:`~dsl.evaluator.Evaluator`, then one roster entry at a time
(with its plan and, for ``evaluate``, its tallies); produces the per-cadre objects of the JSON
document or the CSV rows of that cadre, written to a :class:`Sink` as each cadre is decided, and
counts the summary as it goes. The objects and rows themselves are made by :mod:`tinnhiem.cadre_output`
(the same functions :func:`tinnhiem.report.plan_entry` / :func:`~tinnhiem.report.evaluate_entry` use);
what this module adds is deciding fast and sharing what cadres decided alike have in common.

Why it is fast: what a decision says besides the numbers depends on few things. A plan depends only
on (level, titles, facts) of the row, so :meth:`Decider.plan` asks the evaluator once per distinct
combination, and its :class:`~tinnhiem.cadre_output.PlanView` is made once per plan. The outcome, the
citations, the bands' texts depend only on the plan and, at each planned venue, on whether there is a
tally, which band the evaluator finds (:meth:`Evaluator.band_rule`, the compiled band conditions) and
whether the session is valid; the first cadre of each such kind is decided in full by
:meth:`Evaluator.decide` and its :class:`~tinnhiem.cadre_output.DecisionView` kept as a template. Every
other cadre costs a band look-up per venue and the formatting of its own numbers (memoised in a
:class:`~tinnhiem.cadre_output.Formats`). The memos are bounded (:data:`MEMO_LIMIT`); nothing here
re-implements a rule of the policy.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from dsl import ir
from dsl.evaluator import Cadre, Decision, Evaluator, Plan, Tally
from tinnhiem import cadre_output, report
from tinnhiem.cadre_output import DecisionView, Formats, PlanView
from tinnhiem.roster import RosterEntry

#: Entries kept in each memo before it is cleared (bounds memory on adversarial inputs).
MEMO_LIMIT = 100_000


class _Head:
    """A plan and its view, and how many cadres were planned with it (``plan``, without tallies)."""

    __slots__ = ("count", "plan", "view")

    def __init__(self, policy: ir.Policy, plan: Plan) -> None:
        self.plan = plan
        self.view = PlanView.of(policy, plan)
        self.count = 0


class _Kind:
    """A kind of decision: the plan, and per venue whether a tally exists, its band and session validity;
    its view, its line of the summary, and how many cadres were decided this way."""

    __slots__ = ("count", "head", "summary", "view")

    def __init__(self, policy: ir.Policy, head: _Head, decision: Decision) -> None:
        self.head = head
        self.count = 0
        self.view = view = DecisionView.of(policy, head.view, decision)
        keys = tuple((v.venue, report.SummaryCounts.key(v.band, not v.present, True)) for v in view.venues)
        self.summary = (head.plan.status, view.outcome, keys)


class Decider:
    """A policy's decisions for a stream of cadres, memoised on what they depend on."""

    def __init__(self, policy: ir.Policy, ev: Evaluator, extra_columns: Sequence[str] = ()) -> None:
        self.policy = policy
        self.ev = ev
        self.extra_columns = list(extra_columns)
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self._heads: dict[int, _Head] = {}  # id(plan) → head (every plan stays alive in self._made)
        self._kinds: dict[tuple[Any, ...], _Kind] = {}
        self.formats = Formats(MEMO_LIMIT)  # the cells of shares and titles, shared by every cadre
        self._made: list[_Kind | _Head] = []  # every kind and head made (they count their cadres)
        self._band_venues = frozenset(v for v in policy.venue_codes() if policy.band_set_at(v) is not None)
        #: per cadre, the tallies of its later votes (stage name → tally), each already found due
        self.stage_tallies: dict[str, dict[str, Tally]] = {}
        #: ``evaluate`` with a policy that has stages: the CSV carries cadre_output.STAGE_COLUMNS
        self.stage_columns = False

    @property
    def _shares(self) -> dict[tuple[int, int], tuple[str, str, str]]:
        return self.formats.shares

    @property
    def _titles(self) -> dict[frozenset[str], tuple[list[str], str]]:
        return self.formats.titles

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
        own = self.stage_tallies.get(entry.cadre.cadre_id) if self.stage_tallies else None
        if own:  # a cadre with counted later votes: decided on its own (its stage tallies are its alone)
            decision = ev.decide(entry.cadre, {t.venue: t for t in found if t is not None}, plan, own)
            kind = _Kind(self.policy, self._head(plan), decision)
            self._made.append(kind)
            kind.count += 1
            return kind, found
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

    # ---- per-cadre objects (json, jsonl, table) and CSV rows: tinnhiem.cadre_output ------------------
    def evaluate_object(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally]) -> dict[str, Any]:
        """:func:`report.evaluate_entry` of the evaluator's decision for this cadre."""
        kind, found = self._kind(entry, plan, tallies)
        return cadre_output.evaluate_object(entry, kind.view, found, self.formats)

    def plan_object(self, entry: RosterEntry, plan: Plan) -> dict[str, Any]:
        """:func:`report.plan_entry` of the evaluator's plan for this cadre."""
        head = self._head(plan)
        head.count += 1
        return cadre_output.plan_object(entry, head.view, self.formats)

    def evaluate_rows(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally]) -> list[list[Any]]:
        """The CSV rows of this cadre (one per planned venue, or one without a venue)."""
        kind, found = self._kind(entry, plan, tallies)
        return cadre_output.evaluate_rows(entry, kind.view, found, self.extra_columns, self.formats)

    def plan_rows(self, entry: RosterEntry, plan: Plan) -> list[list[Any]]:
        """The CSV rows of this cadre's plan."""
        head = self._head(plan)
        head.count += 1
        return cadre_output.plan_rows(entry, head.view, self.extra_columns, self.formats)


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
        self.writer.writerow(cadre_output.csv_header(decider.extra_columns, decider.stage_columns))

    def cadre(self, entry: RosterEntry, plan: Plan, tallies: Sequence[Tally] | None) -> None:
        d = self.decider
        rows = d.plan_rows(entry, plan) if tallies is None else d.evaluate_rows(entry, plan, tallies)
        self.writer.writerows(rows)

    def close(self, closing: dict[str, Any]) -> None:
        extra = self.decider.extra_columns
        self.writer.writerows(cadre_output.rejected_csv_row(r, extra, self.decider.stage_columns) for r in closing["rejected"])


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
