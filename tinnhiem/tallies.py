"""Reading a tallies CSV against the roster and the plan.

Takes the tallies path, the policy and, per accepted cadre, the plan the evaluator made; produces
a stream of the accepted :class:`~dsl.evaluator.Tally` rows (as :class:`TallyRow`, with their line
and cadre) and of the rejected rows with their line and reason: counts that are not non-negative
integers, an invariant of the policy broken (bundled: ``high + confidence + low ≤ collected ≤ issued ≤
present ≤ convened ≤ members``, each where given), a zero denominator, an unknown or rejected cadre, a cadre not voted or not planned at that venue, a
duplicate (the first stands). Rows are read as a stream; the reader keeps only the (cadre, venue)
pairs already accepted (for the duplicate check), and the file's SHA-256 is known once the stream
has been read to its end.

The optional ``stage`` column says which vote of the procedure a row counts (empty: the poll). A
stage row names a stage of the policy held at its venue, counts only the ballot levels of that stage
(the others are 0) and is checked against the base of the stage's band set; whether the stage is
*due* for the cadre depends on the poll's result and is decided after the whole file is read
(:func:`not_due`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dsl import ir
from dsl.diagnostics import did_you_mean
from dsl.evaluator import Cadre, Decision, Evaluator, Plan, Tally, compile_invariants
from dsl.values import MAX_DIGITS, whole_number, why_not_whole
from tinnhiem.csvio import CsvFile, open_csv, shown
from tinnhiem.roster import Rejected

REQUIRED = ir.TALLY_REQUIRED
OPTIONAL = ir.OPTIONAL_COUNTS  # convened, present, members


@dataclass(frozen=True, slots=True)
class TallyRow:
    line: int
    cadre_id: str
    tally: Tally
    stage: str | None = None  # the later vote this row counts (the ``stage`` column); None: the poll


@dataclass
class TallyStream:
    """The rows of a tallies file, read once; ``sha256`` is the file's digest (complete after the rows)."""

    path: str
    file: CsvFile
    rows: Iterator[TallyRow | Rejected]

    @property
    def sha256(self) -> str:
        return self.file.sha256


def read_tallies(path: str, policy: ir.Policy, plans: Mapping[str, Plan], roster_rejected: Mapping[str, int],
                 roster_ids: Callable[[], list[str]]) -> TallyStream:
    f = open_csv(path, REQUIRED, "tallies")
    return TallyStream(path, f, _stream(f, policy, plans, roster_rejected, roster_ids))


def _count(raw: str, name: str) -> int | str:
    """A count (:func:`dsl.values.whole_number`), or the reason it is not one (``raw`` is the field as read)."""
    n = whole_number(raw)
    return why_not_whole(raw, name) if n is None else n


_FAST_DIGITS = MAX_DIGITS  # five fields of ASCII digits this long in all are each short enough
_FIELD_INDEX = {f: i for i, f in enumerate(ir.TALLY_FIELDS)}
assert ir.TALLY_FIELDS == ("issued", "collected", "high", "confidence", "low", "convened", "present", "members")
_BAD: Any = object()  # an optional count that is not a non-negative whole number


def _first_problem(fields: list[str], counted: tuple[tuple[str, int], ...], optional: tuple[tuple[str, int], ...]) -> str:
    """The reason for the first count that is wrong, required ones first, in column order of the brief."""
    for name, i in counted:
        got = _count(fields[i], name)
        if isinstance(got, str):
            return got
    for name, i in optional:
        if fields[i].strip():
            got = _count(fields[i], name)
            if isinstance(got, str):
                return got
    raise AssertionError("no count is wrong")


def _optional(fields: list[str], i: int | None) -> Any:
    """An optional count: None when the column is absent or the field empty, _BAD when it is wrong."""
    if i is None:
        return None
    raw = fields[i]
    if not raw or not raw.strip():
        return None
    n = whole_number(raw)
    return _BAD if n is None else n


def _stream(f: CsvFile, policy: ir.Policy, plans: Mapping[str, Plan], roster_rejected: Mapping[str, int],
            roster_ids: Callable[[], list[str]]) -> Iterator[TallyRow | Rejected]:
    path, header = f.path, f.header
    width = len(header)
    col = {h: i for i, h in enumerate(header)}
    i_cid, i_venue = col["cadre_id"], col["venue"]
    counted = tuple((name, col[name]) for name in REQUIRED[2:])
    i_issued, i_collected, i_high, i_conf, i_low = (i for _, i in counted)
    i_convened, i_present, i_members = col.get("convened"), col.get("present"), col.get("members")
    optional = tuple((name, i) for name, i in (("convened", i_convened), ("present", i_present), ("members", i_members))
                     if i is not None)
    venues = policy.venue_codes()
    base_at = {v: policy.base_at(v) for v in venues}  # what each venue's share is counted over
    i_stage = col.get("stage")
    stages = {st.name: st for st in policy.stages}
    stage_base = {st.name: policy.base_of(bs) if (bs := policy.band_set(st.band_set)) is not None else policy.default_base()
                  for st in policy.stages}
    invariants = compile_invariants(policy.invariants())
    seen: dict[tuple[str, str, str], int] = {}
    hints = _CadreHints(roster_ids)
    for line, fields in f.records:
        cid = fields[i_cid].strip() if i_cid < len(fields) else ""
        if len(fields) != width:
            yield Rejected(path, line, f"the row has {len(fields)} fields but the header has {width}", cid)
            continue
        venue = fields[i_venue].strip()
        if venue not in venues:
            hint = did_you_mean(venue, venues)
            yield Rejected(path, line, f"unknown venue '{shown(venue)}'" + (f" — {hint}" if hint else f" (one of: {', '.join(venues)})"), cid)
            continue
        five = (fields[i_issued], fields[i_collected], fields[i_high], fields[i_conf], fields[i_low])
        digits = "".join(five)
        if digits.isdigit() and digits.isascii() and all(five) and len(digits) <= _FAST_DIGITS:
            # the usual row: five whole numbers in ASCII digits (the rule of dsl.values, at C speed)
            issued, collected, high, conf, low = (int(x) for x in five)
            problem = None
        else:
            numbers = [whole_number(x) for x in five]
            problem = "" if None in numbers else None
            if problem is None:
                issued, collected, high, conf, low = numbers  # type: ignore[assignment]
        if problem is None:
            convened = _optional(fields, i_convened)
            present = _optional(fields, i_present)
            members = _optional(fields, i_members)
            if convened is _BAD or present is _BAD or members is _BAD:
                problem = ""
        if problem is not None:
            yield Rejected(path, line, _first_problem(fields, counted, optional), cid)
            continue
        stage = fields[i_stage].strip() if i_stage is not None else ""
        if stage:
            st = stages.get(stage)
            if st is None:
                hint = did_you_mean(stage, stages) if stages else None
                yield Rejected(path, line, f"unknown stage '{shown(stage)}'" + (
                    f" — {hint}" if hint else (f" (one of: {', '.join(stages)})" if stages else " (the policy has no later stage)")), cid)
                continue
            if st.venue != venue:
                yield Rejected(path, line, f"stage '{stage}' is held at '{st.venue}', not at '{venue}'", cid)
                continue
            unused = [(name, n) for name, n in (("high", high), ("confidence", conf), ("low", low)) if name not in st.levels and n]
            if unused:
                name, n = unused[0]
                yield Rejected(path, line, f"the ballot of stage '{stage}' has no level '{name}' ({', '.join(st.levels)}): "
                                           f"{name} must be 0, not {n}", cid)
                continue
        base = stage_base[stage] if stage else base_at[venue]
        problem = _check(issued, collected, high, conf, low, convened, present, members, base, invariants)  # type: ignore[arg-type]
        if problem is not None:
            yield Rejected(path, line, problem, cid)
            continue
        if cid in roster_rejected:
            yield Rejected(path, line, f"cadre '{shown(cid)}' was rejected in the roster (line {roster_rejected[cid]})", cid)
            continue
        plan = plans.get(cid)
        if plan is None:
            hint = hints(cid)
            yield Rejected(path, line, f"cadre '{shown(cid)}' is not in the roster" + (f" — {hint}" if hint else ""), cid)
            continue
        if plan.status != "voted":
            what = "exempt" if plan.status == "exempt" else "out of scope"
            yield Rejected(path, line, f"cadre '{shown(cid)}' is {what}: no vote is taken", cid)
            continue
        if venue not in plan.venues:
            planned = ", ".join(plan.venues) or "none"
            yield Rejected(path, line, f"cadre '{shown(cid)}' is not voted at '{venue}' (planned: {planned})", cid)
            continue
        key = (cid, venue, stage)
        first = seen.setdefault(key, line)
        if first != line:
            of = f" (stage '{stage}')" if stage else ""
            yield Rejected(path, line, f"a tally for '{shown(cid)}' at '{venue}'{of} already appears on line {first}; the first stands",
                           cid)
            continue
        yield TallyRow(line, cid, Tally(venue, issued, collected, high, conf, low, convened, present, members), stage or None)


class _CadreHints:
    """Did-you-mean hints for cadre ids that are not in the roster, at a bounded cost.

    :func:`did_you_mean` compares a name with every candidate (``difflib``): a few milliseconds
    against thousands of ids, seconds against a million, for every such row. So: against a roster of
    up to :data:`EXACT` ids, the closest of all (as before); against a larger one, the closest among
    the ids that sort next to it, forwards or read backwards (a typo in either half of an id leaves the
    other half in place); and no hint after the first :data:`BUDGET` rows, whose reasons still name
    the cadre."""

    EXACT = 5_000
    BUDGET = 200
    WINDOW = 50

    def __init__(self, roster_ids: Callable[[], list[str]]) -> None:
        self._roster_ids = roster_ids
        self._ids: list[str] | None = None
        self._backwards: list[str] = []
        self._used = 0

    def __call__(self, cid: str) -> str | None:
        if self._used >= self.BUDGET:
            return None
        self._used += 1
        if self._ids is None:
            self._ids = sorted(set(self._roster_ids()))
            if len(self._ids) > self.EXACT:
                self._backwards = sorted(i[::-1] for i in self._ids)
        ids = self._ids
        if len(ids) <= self.EXACT:
            return did_you_mean(cid, ids)
        w = self.WINDOW
        at, back = bisect.bisect_left(ids, cid), bisect.bisect_left(self._backwards, cid[::-1])
        near = ids[max(0, at - w): at + w] + [i[::-1] for i in self._backwards[max(0, back - w): back + w]]
        return did_you_mean(cid, near)


def _check(issued: int, collected: int, high: int, conf: int, low: int, convened: int | None, present: int | None,
           members: int | None, base: str, invariants: Callable[[tuple[int | None, ...]], str | None]) -> str | None:
    """Why a row of valid counts is inconsistent, or None: the policy's invariants
    (:meth:`dsl.ir.Policy.invariants`, the same that :func:`checker.encode.tally_schema` asserts), then
    the base of the venue, given and not zero."""
    if (convened is None) != (present is None):
        return "convened and present go together: give both or neither"
    values = (issued, collected, high, conf, low, convened, present, members)  # the order of ir.TALLY_FIELDS
    broken = invariants(values)
    if broken is not None:
        return broken
    den = values[_FIELD_INDEX[base]]
    if den is None:
        return f"the policy computes the share over '{base}' at this venue, which this row does not give"
    if den == 0:
        return f"no ballots {base} ({base} = 0): the share of low votes is undefined" if base != "members" \
            else "members = 0: the share of low votes is undefined"
    return None


def not_due(decision: Decision, row: TallyRow) -> str | None:
    """Why the stage row ``row`` cannot be counted for the cadre of ``decision`` (its poll decided), or None."""
    result = next((r for r in decision.stages if r.stage.name == row.stage), None)
    if result is None:
        return f"stage '{row.stage}' is not held for '{shown(row.cadre_id)}' (not voted at '{row.tally.venue}')"
    if result.due:
        return None
    after = ", ".join(result.stage.after)
    return (f"stage '{row.stage}' is not due for '{shown(row.cadre_id)}': it follows {after} at '{result.stage.venue}', "
            f"and the vote before it there decided {result.trigger or 'no band'}")


def decide_with_stages(ev: Evaluator, cadre: Cadre, plan: Plan, tallies: Mapping[str, Tally],
                       stage_rows: list[TallyRow], path: str) -> tuple[Decision, list[Rejected]]:
    """Decide a cadre with the stage rows that are due for them; the others are rejected with the reason
    (:func:`not_due`). A stage follows the band of the vote before it, so the rows are taken in the
    order of the policy's stages, each decided with those already kept."""
    kept: dict[str, Tally] = {}
    refused: list[Rejected] = []
    order = {st.name: i for i, st in enumerate(ev.policy.stages)}
    decision = ev.decide(cadre, tallies, plan, kept)
    for row in sorted(stage_rows, key=lambda r: order.get(r.stage or "", 0)):
        why = not_due(decision, row)
        if why is not None:
            refused.append(Rejected(path, row.line, why, row.cadre_id))
            continue
        kept[row.stage] = row.tally  # type: ignore[index]
        decision = ev.decide(cadre, tallies, plan, kept)
    return decision, refused
