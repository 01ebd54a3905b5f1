"""Reading a roster CSV against a policy's schema.

Takes the roster path and the policy (its levels, title codes and facts); produces the accepted
:class:`RosterEntry` rows (in file order, with their extra columns kept) and the rejected rows,
each with its line and a reason a clerk understands (unknown codes get a did-you-mean). A file
that cannot be used at all raises :class:`tinnhiem.csvio.InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl import ir
from dsl.diagnostics import did_you_mean
from dsl.evaluator import Cadre
from tinnhiem.csvio import InputError, open_csv

IDENTITY = ("cadre_id", "full_name", "level", "unit", "titles")
TRUE = {"true", "yes", "1", "có"}
FALSE = {"false", "no", "0", "không"}


@dataclass(frozen=True)
class Rejected:
    file: str
    line: int
    reason: str
    cadre_id: str = ""


@dataclass(frozen=True)
class RosterEntry:
    line: int
    cadre: Cadre
    titles_text: str
    extra: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass
class Roster:
    path: str
    sha256: str
    header: list[str]
    extra_columns: list[str]
    entries: list[RosterEntry]
    rejected: list[Rejected]
    rows_read: int

    def by_id(self) -> dict[str, RosterEntry]:
        return {e.cadre.cadre_id: e for e in self.entries}


def required_columns(policy: ir.Policy) -> tuple[str, ...]:
    return IDENTITY + tuple(f.name for f in policy.facts)


def read_roster(path: str, policy: ir.Policy) -> Roster:
    required = required_columns(policy)
    f = open_csv(path, required, "roster")
    extra = [h for h in f.header if h not in required and h]
    levels = policy.level_codes()
    titles = set(policy.title_codes())
    entries: list[RosterEntry] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    rows = 0
    for row in f.rows:
        rows += 1
        v = row.values
        cid = v["cadre_id"].strip()

        def reject(reason: str, cid: str = cid, line: int = row.line) -> None:
            rejected.append(Rejected(path, line, reason, cid))

        if row.width != len(f.header):
            reject(f"the row has {row.width} fields but the header has {len(f.header)}")
            continue
        if not cid:
            reject("cadre_id is empty")
            continue
        if cid in seen:
            reject(f"cadre_id '{cid}' already appears on line {seen[cid]}; the first row stands")
            continue
        seen[cid] = row.line
        level = v["level"].strip()
        if level not in levels:
            hint = did_you_mean(level, levels)
            reject(f"unknown level '{level}'" + (f" — {hint}" if hint else f" (one of: {', '.join(levels)})"))
            continue
        codes = [c.strip() for c in v["titles"].split(";") if c.strip()]
        unknown = [c for c in codes if c not in titles]
        if unknown:
            c = unknown[0]
            hint = "separate title codes with ';'" if any(sep in c for sep in ",| ") else did_you_mean(c, titles)
            reject(f"unknown title code '{c}'" + (f" — {hint}" if hint else ""))
            continue
        facts: dict[str, bool | int] = {}
        warnings: list[str] = []
        problem = None
        for fd in policy.facts:
            raw = v[fd.name].strip()
            match fd.type:
                case "bool":
                    low = raw.lower()
                    if not low:
                        facts[fd.name] = False
                        if codes:
                            warnings.append(f"{fd.name} is empty: read as false ({fd.label})")
                    elif low in TRUE:
                        facts[fd.name] = True
                    elif low in FALSE:
                        facts[fd.name] = False
                    else:
                        problem = f"{fd.name} must be true or false (also yes/no, 1/0), not '{raw}'"
                case "year" | "int":
                    if not raw:
                        if codes:
                            warnings.append(f"{fd.name} is empty: no rule that compares it can apply ({fd.label})")
                        continue
                    try:
                        number = int(raw)
                    except ValueError:
                        problem = f"{fd.name} must be a whole number, not '{raw}'"
                        continue
                    if fd.type == "year" and not (1900 <= number <= 2100):
                        problem = f"{fd.name} must be a year between 1900 and 2100, not {number}"
                        continue
                    facts[fd.name] = number
                case _:
                    raise AssertionError(fd.type)
            if problem:
                break
        if problem:
            reject(problem)
            continue
        cadre = Cadre(cid, level, frozenset(codes), facts, v["full_name"].strip(), v["unit"].strip())
        entries.append(RosterEntry(row.line, cadre, ";".join(codes), {k: v[k] for k in extra}, tuple(warnings)))
    return Roster(path, f.sha256, f.header, extra, entries, rejected, rows)


__all__ = ["InputError", "Rejected", "Roster", "RosterEntry", "read_roster", "required_columns"]
