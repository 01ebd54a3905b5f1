"""Reading a tallies CSV against the roster and the plan.

Takes the tallies path, the policy and, per accepted cadre, the plan the evaluator made; produces
the accepted :class:`~dsl.evaluator.Tally` rows keyed by (cadre, venue) and the rejected rows with
their line and reason: counts that are not non-negative integers, ``high + confidence + low ≤
collected ≤ issued`` broken, ``present ≤ convened`` broken, a zero denominator, an unknown or
rejected cadre, a cadre not voted or not planned at that venue, a duplicate (the first stands).
Rows are read as a stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from dsl import ir
from dsl.diagnostics import did_you_mean
from dsl.evaluator import Plan, Tally
from tinnhiem.csvio import open_csv
from tinnhiem.roster import Rejected

REQUIRED = ("cadre_id", "venue", "issued", "collected", "high", "confidence", "low")
OPTIONAL = ("convened", "present")


@dataclass(frozen=True)
class TallyRow:
    line: int
    cadre_id: str
    tally: Tally


@dataclass
class TallyStream:
    path: str
    sha256: str
    rows: Iterator[TallyRow | Rejected]


def read_tallies(path: str, policy: ir.Policy, plans: Mapping[str, Plan], roster_rejected: Mapping[str, int],
                 roster_ids: Callable[[], list[str]]) -> TallyStream:
    f = open_csv(path, REQUIRED, "tallies")
    has_optional = [c for c in OPTIONAL if c in f.header]
    venues = policy.venue_codes()
    denominator = policy.share.denominator if policy.share else "collected"

    def stream() -> Iterator[TallyRow | Rejected]:
        seen: dict[tuple[str, str], int] = {}
        for row in f.rows:
            v = row.values
            cid = v["cadre_id"].strip()

            def rejected(reason: str, cid: str = cid, line: int = row.line) -> Rejected:
                return Rejected(path, line, reason, cid)

            if row.width != len(f.header):
                yield rejected(f"the row has {row.width} fields but the header has {len(f.header)}")
                continue
            venue = v["venue"].strip()
            if venue not in venues:
                hint = did_you_mean(venue, venues)
                yield rejected(f"unknown venue '{venue}'" + (f" — {hint}" if hint else f" (one of: {', '.join(venues)})"))
                continue
            counts: dict[str, int | None] = {}
            problem = None
            for name in REQUIRED[2:] + tuple(has_optional):
                raw = v.get(name, "").strip()
                if not raw and name in OPTIONAL:
                    counts[name] = None
                    continue
                try:
                    n = int(raw)
                except ValueError:
                    problem = f"{name} must be a whole number, not '{raw}'" if raw else f"{name} is empty"
                    break
                if n < 0:
                    problem = f"{name} must not be negative ({n})"
                    break
                counts[name] = n
            if problem:
                yield rejected(problem)
                continue
            issued, collected = counts["issued"], counts["collected"]
            high, conf, low = counts["high"], counts["confidence"], counts["low"]
            convened, present = counts.get("convened"), counts.get("present")
            assert issued is not None and collected is not None and high is not None and conf is not None and low is not None
            if high + conf + low > collected:
                yield rejected(f"high + confidence + low = {high + conf + low} is more than the {collected} ballots collected")
                continue
            if collected > issued:
                yield rejected(f"collected ({collected}) is more than issued ({issued})")
                continue
            if (convened is None) != (present is None):
                yield rejected("convened and present go together: give both or neither")
                continue
            if convened is not None and present is not None and present > convened:
                yield rejected(f"present ({present}) is more than convened ({convened})")
                continue
            den = {"collected": collected, "issued": issued, "convened": convened, "present": present}[denominator]
            if den is None:
                yield rejected(f"the policy computes the share over '{denominator}', which this row does not give")
                continue
            if den == 0:
                yield rejected(f"no ballots {denominator} ({denominator} = 0): the share of low votes is undefined")
                continue
            if cid in roster_rejected:
                yield rejected(f"cadre '{cid}' was rejected in the roster (line {roster_rejected[cid]})")
                continue
            plan = plans.get(cid)
            if plan is None:
                hint = did_you_mean(cid, roster_ids())
                yield rejected(f"cadre '{cid}' is not in the roster" + (f" — {hint}" if hint else ""))
                continue
            if plan.status != "voted":
                what = "exempt" if plan.status == "exempt" else "out of scope"
                yield rejected(f"cadre '{cid}' is {what}: no vote is taken")
                continue
            if venue not in plan.venues:
                planned = ", ".join(plan.venues) or "none"
                yield rejected(f"cadre '{cid}' is not voted at '{venue}' (planned: {planned})")
                continue
            key = (cid, venue)
            if key in seen:
                yield rejected(f"a tally for '{cid}' at '{venue}' already appears on line {seen[key]}; the first stands")
                continue
            seen[key] = row.line
            yield TallyRow(row.line, cid, Tally(venue, issued, collected, high, conf, low, convened, present))

    return TallyStream(path, f.sha256, stream())
