"""Models → the brief's CSV rows.

Takes a Z3 model and the symbolic inputs of an obligation (:class:`checker.encode.RosterVars`,
:class:`checker.encode.TallyVars`); produces :class:`RosterRow` and :class:`TallyRow` values named
in the policy's own codes (level, titles, facts, venues) and their CSV text, with the brief's
columns — roster ``cadre_id,full_name,level,unit,titles`` and one column per fact of the policy
(:meth:`dsl.ir.Policy.roster_columns`), and tallies
``cadre_id,venue,issued,collected,high,confidence,low[,convened,present]`` — ready to paste into a
test. The rows convert to the evaluator's :class:`dsl.evaluator.Cadre` and
:class:`dsl.evaluator.Tally` for the replay.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import z3

from checker.encode import RosterVars, TallyVars, all_facts
from dsl import ir
from dsl.evaluator import Cadre, Tally

TALLY_COLUMNS = ir.TALLY_REQUIRED
QUORUM_COLUMNS = ("convened", "present")


@dataclass(frozen=True)
class RosterRow:
    cadre_id: str
    level: str
    titles: tuple[str, ...]
    facts: tuple[tuple[str, bool | int | None], ...]  # None: the cell is empty
    full_name: str = ""
    unit: str = ""

    def cadre(self) -> Cadre:
        return Cadre(self.cadre_id, self.level, frozenset(self.titles),
                     {k: v for k, v in self.facts if v is not None}, self.full_name, self.unit)

    def cells(self) -> dict[str, str]:
        out = {"cadre_id": self.cadre_id, "full_name": self.full_name, "level": self.level, "unit": self.unit,
               "titles": ";".join(self.titles)}
        for k, v in self.facts:
            out[k] = "" if v is None else ("true" if v is True else "false" if v is False else str(v))
        return out


@dataclass(frozen=True)
class TallyRow:
    cadre_id: str
    venue: str  # "" when the tally is about a band set applied at no venue
    issued: int
    collected: int
    high: int
    confidence: int
    low: int
    convened: int | None = None
    present: int | None = None
    band_set: str | None = None
    members: int | None = None
    stage: str | None = None  # a tally of a later vote (the ``stage`` column)

    def tally(self) -> Tally:
        return Tally(self.venue, self.issued, self.collected, self.high, self.confidence, self.low, self.convened, self.present,
                     self.members)

    def cells(self) -> dict[str, str]:
        out = {k: str(getattr(self, k)) for k in TALLY_COLUMNS}
        for k in (*QUORUM_COLUMNS, "members"):
            v = getattr(self, k)
            out[k] = "" if v is None else str(v)
        if self.stage is not None:  # the optional column of a later vote (tallies_csv adds it when needed)
            out["stage"] = self.stage
        return out


def _int(model: z3.ModelRef, term: z3.ArithRef) -> int:
    return model.evaluate(term, model_completion=True).as_long()  # type: ignore[attr-defined]


def _bool(model: z3.ModelRef, term: z3.BoolRef) -> bool:
    return z3.is_true(model.evaluate(term, model_completion=True))


def roster_row(model: z3.ModelRef, r: RosterVars, policy: ir.Policy, cadre_id: str) -> RosterRow:
    level = r.levels[_int(model, r.level)] if r.levels else ""
    bits = _int(model, r.title_bits)
    held = {code for k, code in enumerate(r.titles) if bits >> k & 1}
    titles = tuple(code for code in policy.title_codes() if code in held)
    facts: list[tuple[str, bool | int | None]] = []
    for f in all_facts(policy):
        term = r.facts[f.name]
        match f.type:
            case "bool":
                facts.append((f.name, _bool(model, term)))  # type: ignore[arg-type]
            case "year" | "int":
                facts.append((f.name, _int(model, term) if _bool(model, r.given[f.name]) else None))  # type: ignore[arg-type]
            case _:
                raise AssertionError(f.type)
    return RosterRow(cadre_id, level, titles, tuple(facts), full_name=f"Phản ví dụ {cadre_id}")


def year_of(model: z3.ModelRef, r: RosterVars) -> int:
    return _int(model, r.year)


def tally_row(model: z3.ModelRef, t: TallyVars, cadre_id: str, venue: str | None, band_set: str | None = None,
              stage: str | None = None) -> TallyRow:
    q = _bool(model, t.quorum_given)
    return TallyRow(cadre_id, venue or "", _int(model, t.issued), _int(model, t.collected), _int(model, t.high),
                    _int(model, t.confidence), _int(model, t.low), _int(model, t.convened) if q else None,
                    _int(model, t.present) if q else None, band_set,
                    _int(model, t.members) if _bool(model, t.members_given) else None, stage)


def roster_csv(rows: tuple[RosterRow, ...] | list[RosterRow]) -> str:
    """The rows as a roster CSV: the identity columns of the brief, then the facts the rows carry (those
    of the policy, in its order; a fact only an import declares comes after, and the policy's reader
    keeps it as an extra column) — so the CSV is read by ``tinnhiem plan`` as it stands."""
    facts: list[str] = []
    for row in rows:
        for k, _ in row.facts:
            if k not in facts:
                facts.append(k)
    return _csv(ir.ROSTER_IDENTITY + tuple(facts), [row.cells() for row in rows])


def tallies_csv(rows: tuple[TallyRow, ...] | list[TallyRow]) -> str:
    """The rows as a tallies CSV; ``convened,present`` and ``members`` only when some row fills them."""
    cols = TALLY_COLUMNS + (QUORUM_COLUMNS if any(r.convened is not None for r in rows) else ())
    cols += ("members",) if any(r.members is not None for r in rows) else ()
    cols += ("stage",) if any(r.stage is not None for r in rows) else ()
    return _csv(cols, [row.cells() for row in rows])


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()
