"""Helpers shared by the checker's tests: fixture paths, golden files, CSV rows → evaluator inputs,
and an independent statement (in plain Python over the evaluator) of what each property forbids."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

from dsl import ir
from dsl.evaluator import Cadre, Evaluator, Tally, compile_share

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
GOOD = HERE / "good"
BAD = HERE / "bad"
GOLDEN = HERE / "golden"


def without_stats(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "stats"}


def compare_golden(path: Path, text: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path} (run pytest --update-golden to create it)"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"report differs from the golden file {path} (run pytest --update-golden to accept)"


def golden_json(data: dict) -> str:
    return json.dumps(without_stats(data), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "yes", "1")


def cadres_from_csv(text: str, policy: ir.Policy) -> list[Cadre]:
    """Parse a counterexample's roster CSV the way a user's roster would be read."""
    types = {f.name: f.type for f in policy.facts}
    for _, sub in policy.imports:
        for f in sub.facts:
            types.setdefault(f.name, f.type)
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        facts: dict[str, bool | int] = {}
        for name, typ in types.items():
            cell = (row.get(name) or "").strip()
            if typ == "bool":
                facts[name] = _bool(cell)
            elif cell:
                facts[name] = int(cell)
        titles = frozenset(t for t in row["titles"].split(";") if t)
        out.append(Cadre(row["cadre_id"], row["level"], titles, facts, row["full_name"], row["unit"]))
    return out


def tallies_from_csv(text: str) -> list[tuple[str, Tally]]:
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        opt = {k: (int(row[k]) if row.get(k) else None) for k in ("convened", "present")}
        out.append((row["cadre_id"], Tally(row["venue"], int(row["issued"]), int(row["collected"]), int(row["high"]),
                                           int(row["confidence"]), int(row["low"]), opt["convened"], opt["present"])))
    return out


def band_of(bs: ir.BandSet, low: int, den: int) -> tuple[ir.BandRule | None, list[str]]:
    matched = [b for b in bs.bands if compile_share(b.when)(low, den)]
    return (matched[0] if matched else None), [b.code for b in matched]


def violation_shown(prop: str, policy: ir.Policy, finding: dict) -> bool:
    """Does the evaluator, run on the finding's CSV rows, exhibit a violation of ``prop``?

    Stated here independently of :mod:`checker.replay`, from the property's meaning."""
    cx = finding["counterexample"]
    year = cx["year"]
    ev = Evaluator(policy, year)
    cadres = cadres_from_csv(cx["roster_csv"], policy) if cx["roster_csv"] else []
    tallies = tallies_from_csv(cx["tallies_csv"]) if cx["tallies_csv"] else []
    den_name = policy.default_base()
    plans = [ev.plan(c) for c in cadres]
    match prop:
        case "builtin.max_venues":
            return len(plans[0].proposed) > policy.max_venues.count  # type: ignore[union-attr]
        case "builtin.exemption_overrides_scope":
            d = ev.decide(cadres[0], {t.venue: t for _, t in tallies})
            return d.plan.status == "exempt" and (bool(d.plan.venues) or d.outcome is not None)
        case "builtin.voted_has_venue":
            return plans[0].status == "voted" and not plans[0].venues
        case "builtin.venue_implies_scope":
            return bool(plans[0].venues) and not plans[0].in_scope
        case "builtin.no_conflict":
            return len(plans[0].active_rules) >= 2
        case "builtin.bands_disjoint" | "builtin.bands_cover" | "builtin.severity_monotone" | "builtin.refinement_keeps" \
                if tallies:
            results = []
            for (cid, t), row in zip(tallies, cx["tallies"]):
                bs = next(b for b in policy.band_sets if b.name == row["band_set"])
                den = getattr(t, den_name)
                band, matched = band_of(bs, t.low, den)
                if t.venue and cadres:
                    # the cadre is planned at that venue and the evaluator decides the same there
                    plan = ev.plan(next(c for c in cadres if c.cadre_id == cid))
                    assert t.venue in plan.venues
                    r = ev.band(t.venue, t)
                    assert (r.band.code if r.band else None) == (band.code if band else None)
                results.append((bs, Fraction(t.low, den), band, matched))
            match prop:
                case "builtin.bands_disjoint":
                    return len(results[0][3]) >= 2
                case "builtin.bands_cover":
                    return results[0][2] is None
                case "builtin.severity_monotone":
                    (_, s1, b1, _), (_, s2, b2, _) = results
                    return s1 < s2 and b1 is not None and b2 is not None and b1.severity > b2.severity
                case _:
                    bs, share, band, _ = results[0]
                    theirs, _ = band_of(bs.refined, tallies[0][1].low, getattr(tallies[0][1], den_name))  # type: ignore[arg-type]
                    return (band.code if band else None) != (theirs.code if theirs else None)
        case "builtin.imports_kept":
            # some exemption of an import holds for the row, and the plan votes it
            c = cadres[0]
            return plans[0].status == "voted" and any(ev.condition_holds(x.when, c) for _, sub in policy.imports for x in sub.exemptions)
        case "builtin.refinement_keeps":
            c = cadres[0]
            return any(x.refined is not None and ev.condition_holds(x.when, c) != ev.condition_holds(x.refined.when, c)
                       for x in policy.exemptions)
        case _:
            return not ev.property_holds(prop, cadres[0])
