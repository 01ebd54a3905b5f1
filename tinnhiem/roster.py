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
from dsl.values import FACT_YEARS, boolean, whole_number, why_not_whole
from tinnhiem.csvio import InputError, open_csv, shown

IDENTITY = ir.ROSTER_IDENTITY


@dataclass(frozen=True)
class Rejected:
    file: str
    line: int
    reason: str
    cadre_id: str = ""


@dataclass(frozen=True, slots=True)
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
    rows_skipped: int = 0  # lines with no data (blank, or empty cells only)

    def by_id(self) -> dict[str, RosterEntry]:
        return {e.cadre.cadre_id: e for e in self.entries}


def required_columns(policy: ir.Policy) -> tuple[str, ...]:
    return policy.roster_columns()


def read_roster(path: str, policy: ir.Policy) -> Roster:
    """Read and check every row; equal title lists and equal facts are parsed once and shared."""
    required = required_columns(policy)
    f = open_csv(path, required, "roster")
    header = f.header
    width = len(header)
    col = {h: i for i, h in enumerate(header)}
    extra = [h for h in header if h not in required and h]
    extra_idx = [(h, col[h]) for h in extra]
    i_id, i_name, i_level, i_unit, i_titles = (col[c] for c in IDENTITY)
    fact_idx = [col[fd.name] for fd in policy.all_facts()]
    levels = {lv: lv for lv in policy.level_codes()}
    entries: list[RosterEntry] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    titles_seen: dict[str, tuple[str, frozenset[str], str] | str] = {}
    facts_seen: dict[tuple[bool, tuple[str, ...]], tuple[dict[str, bool | int], tuple[str, ...]] | str] = {}
    rows = 0
    for line, fields in f.records:
        rows += 1
        cid = fields[i_id].strip() if i_id < len(fields) else ""
        if len(fields) != width:
            rejected.append(Rejected(path, line, f"the row has {len(fields)} fields but the header has {width}", cid))
            continue
        if not cid:
            rejected.append(Rejected(path, line, "cadre_id is empty", cid))
            continue
        if cid in seen:
            rejected.append(Rejected(path, line, f"cadre_id '{shown(cid)}' already appears on line {seen[cid]}; the first row stands", cid))
            continue
        raw_level = fields[i_level].strip()
        level = levels.get(raw_level)
        if level is None:
            hint = did_you_mean(raw_level, levels)
            rejected.append(Rejected(path, line, f"unknown level '{shown(raw_level)}'" + (f" — {hint}" if hint else f" (one of: {', '.join(levels)})"), cid))
            continue
        raw_titles = fields[i_titles]
        parsed = titles_seen.get(raw_titles)
        if parsed is None:
            parsed = titles_seen[raw_titles] = _titles(raw_titles, policy)
        if isinstance(parsed, str):
            rejected.append(Rejected(path, line, parsed, cid))
            continue
        _, held, titles_text = parsed
        key = (bool(held), tuple(fields[i] for i in fact_idx))
        checked = facts_seen.get(key)
        if checked is None:
            checked = facts_seen[key] = _facts(key[1], policy, key[0])
        if isinstance(checked, str):
            rejected.append(Rejected(path, line, checked, cid))
            continue
        facts, warnings = checked
        seen[cid] = line  # only an accepted row stands against a later one with its id
        cadre = Cadre(cid, level, held, facts, fields[i_name].strip(), fields[i_unit].strip())
        entries.append(RosterEntry(line, cadre, titles_text, {h: fields[i] for h, i in extra_idx}, warnings))
    return Roster(path, f.sha256, header, extra, entries, rejected, rows, f.skipped)


def _titles(raw: str, policy: ir.Policy) -> tuple[str, frozenset[str], str] | str:
    """The title codes of a ``titles`` cell, or the reason it is rejected."""
    known = policy.title_codes()
    codes = [c.strip() for c in raw.split(";") if c.strip()]
    for c in codes:
        if c not in known:
            hint = "separate title codes with ';'" if any(sep in c for sep in ",| ") else did_you_mean(c, known)
            return f"unknown title code '{shown(c)}'" + (f" — {hint}" if hint else "")
    return raw, frozenset(codes), ";".join(codes)


def _facts(raws: tuple[str, ...], policy: ir.Policy, has_titles: bool) -> tuple[dict[str, bool | int], tuple[str, ...]] | str:
    """The facts of a row (shared by every row that writes them alike), or the reason it is rejected."""
    facts: dict[str, bool | int] = {}
    warnings: list[str] = []
    for fd, cell in zip(policy.all_facts(), raws, strict=True):
        raw = cell.strip()
        match fd.type:
            case "bool":
                value = boolean(raw) if raw else False
                if not raw and has_titles:
                    warnings.append(f"{fd.name} is empty: read as false ({fd.label})")
                if value is None:
                    return f"{fd.name} must be true or false (also yes/no, có/không, 1/0), not '{_short(raw)}'"
                facts[fd.name] = value
            case "year" | "int":
                if not raw:
                    if has_titles:
                        warnings.append(f"{fd.name} is empty: every comparison with it is false ({fd.label})")
                    continue
                number = whole_number(raw)
                if number is None:
                    return why_not_whole(raw, fd.name)
                if fd.type == "year" and not (FACT_YEARS[0] <= number <= FACT_YEARS[1]):
                    return f"{fd.name} must be a year between {FACT_YEARS[0]} and {FACT_YEARS[1]}, not {number}"
                facts[fd.name] = number
            case _:
                raise AssertionError(fd.type)
    return facts, tuple(warnings)


def _short(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:37] + "…"


__all__ = ["InputError", "Rejected", "Roster", "RosterEntry", "read_roster", "required_columns", "whole_number"]
