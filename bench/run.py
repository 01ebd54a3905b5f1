"""``python -m bench`` (or ``python bench/run.py``): every benchmark of tinnhiem, one table of ratios.

Takes ``--quick`` (small inputs, one repeat: a smoke run for CI, well under 20 s), ``--only SECTION``
(repeatable), ``--repeats N``, ``--max-policy N`` (largest generated policy to check) and ``--json
FILE`` (the raw figures); produces a table on stdout, one row per comparison: tinnhiem's figure, the
baseline's, their ratio (tinnhiem / baseline: below 1 is faster or smaller), the goal, and whether it
is met. Sections:

``e2e``      ``tinnhiem evaluate --format csv`` vs the hand-written program (``bench/handwritten.py``),
             whole processes on the same synthetic population; both outputs must be byte-identical.
``interp``   the compiled evaluator vs the tree-walking interpreter (:mod:`dsl.interpret`), per cadre.
``engines``  the band decision vs Rego (regopy) and Cedar (cedarpy), per decision, same tallies.
``check``    ``tinnhiem check`` of the bundled policies; proof time of generated policies as they grow.
``memory``   peak memory of ``evaluate`` (csv, jsonl) at two sizes, with the roster scaled or fixed.

Inputs are generated once by :mod:`bench.data` into a cache outside the repository. Timings taken
while other processes run are noisy: the two sides of a ratio are measured alternately, repeated,
and the median (processes) or best (in-process loops) is kept; CPU time is shown beside wall time.
Floats appear here only as measurements, never on a decision path.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import data, measure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("e2e", "interp", "engines", "check", "memory")


@dataclass
class Config:
    quick: bool
    repeats: int
    max_policy: int
    e2e_rows: int
    memory_rows: tuple[int, int]
    sample: int  # cadres / tallies for the in-process comparisons
    per_call: int  # tallies sent one call at a time to Rego (slow)
    policy_sizes: tuple[int, ...]
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tinnhiem-bench-")))


@dataclass
class Row:
    section: str
    what: str
    ours: str
    theirs: str
    ratio: float | None
    goal: str = ""
    met: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs" if seconds < 1e-4 else f"{seconds * 1e6:,.0f} µs"


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def _n(x: int) -> str:
    return f"{x:,}"


def _tinnhiem(*args: str) -> list[str]:
    return [sys.executable, "-m", "tinnhiem", *args]


# ---- e2e --------------------------------------------------------------------------------------------


def e2e(cfg: Config) -> list[Row]:
    pop = data.population(cfg.e2e_rows)
    out_h, out_g, out_t = cfg.work / "handwritten.csv", cfg.work / "handwritten-nogc.csv", cfg.work / "tinnhiem.csv"
    hw = [sys.executable, str(ROOT / "bench" / "handwritten.py"), str(pop.roster), str(pop.tallies)]
    tn = _tinnhiem("evaluate", "--roster", str(pop.roster), "--tallies", str(pop.tallies), "--format", "csv", "--output", str(out_t))
    floor = [sys.executable, str(ROOT / "bench" / "floor.py"), str(pop.roster), str(pop.tallies), str(cfg.work / "floor.csv")]
    m_h, m_g, m_t, m_f = measure.interleaved([lambda: measure.run([*hw, str(out_h)], cwd=str(cfg.work)),
                                              lambda: measure.run([*hw, str(out_g), "--no-gc"], cwd=str(cfg.work)),
                                              lambda: measure.run(tn, cwd=str(cfg.work)),
                                              lambda: measure.run(floor, cwd=str(cfg.work))], cfg.repeats)
    same = filecmp.cmp(out_h, out_t, shallow=False) and filecmp.cmp(out_g, out_t, shallow=False)
    what = f"evaluate → csv, {_n(pop.tally_rows)} tally rows, {_n(pop.roster_rows)} roster rows"
    goal = "≤ 1.5×" if not cfg.quick else "≤ 1.5× (at 1M)"

    def met(x: float) -> bool | None:
        return None if cfg.quick else x <= 1.5

    raw = {"tinnhiem": asdict(m_t), "handwritten": asdict(m_h), "handwritten_nogc": asdict(m_g), "floor": asdict(m_f),
           "identical_output": same,
           "tally_rows": pop.tally_rows, "roster_rows": pop.roster_rows}
    return [
        Row("e2e", what + " (wall)", _s(m_t.wall), f"hand-written {_s(m_h.wall)}", m_t.wall / m_h.wall, goal, met(m_t.wall / m_h.wall), raw),
        Row("e2e", what + " (CPU)", _s(m_t.cpu), f"hand-written {_s(m_h.cpu)}", m_t.cpu / m_h.cpu, goal, met(m_t.cpu / m_h.cpu)),
        Row("e2e", "the same, hand-written with the collector off too (CPU)", _s(m_t.cpu), f"hand-written {_s(m_g.cpu)}",
            m_t.cpu / m_g.cpu, goal, met(m_t.cpu / m_g.cpu)),
        Row("e2e", "the floor: parse both files, write as many rows, decide nothing (CPU)", _s(m_t.cpu), f"floor {_s(m_f.cpu)}",
            m_t.cpu / m_f.cpu, "", None),
        Row("e2e", "the three CSV outputs are byte-identical", "yes" if same else "NO", "", None, "identical", same),
    ]


# ---- interp -----------------------------------------------------------------------------------------


def _sample(cfg: Config) -> tuple[Any, Any, list[Any], dict[str, dict[str, Any]]]:
    """The bundled policy, its evaluator, the first roster entries of a population and their tallies."""
    import policy as bundled
    from dsl.evaluator import compile_policy
    from dsl.loader import load_policy
    from tinnhiem.roster import read_roster
    from tinnhiem.tallies import TallyRow, read_tallies

    pop = data.population(max(cfg.sample, 2000))
    pol = load_policy(bundled.path())
    ev = compile_policy(pol)
    roster = read_roster(str(pop.roster), pol)
    plans = {e.cadre.cadre_id: ev.plan(e.cadre) for e in roster.entries}
    tallies: dict[str, dict[str, Any]] = {}
    for item in read_tallies(str(pop.tallies), pol, plans, {}, lambda: []).rows:
        if isinstance(item, TallyRow):
            tallies.setdefault(item.cadre_id, {})[item.tally.venue] = item.tally
    return pol, ev, roster.entries[: cfg.sample], tallies


def interp(cfg: Config) -> list[Row]:
    from dsl.interpret import interpret_band, interpret_decide, interpret_plan

    pol, ev, entries, tallies = _sample(cfg)
    cadres = [e.cadre for e in entries]
    with_tallies = [(c, tallies.get(c.cadre_id, {})) for c in cadres]
    year = ev.year
    agree = all(ev.decide(c, t) == interpret_decide(pol, c, t, year) for c, t in with_tallies)
    reps = max(3, cfg.repeats)
    tp_c, tp_i = measure.best_pair(lambda: [ev.plan(c) for c in cadres], lambda: [interpret_plan(pol, c, year) for c in cadres], reps)
    td_c, td_i = measure.best_pair(lambda: [ev.decide(c, t) for c, t in with_tallies],
                                   lambda: [interpret_decide(pol, c, t, year) for c, t in with_tallies], reps)
    sample = [t for _, own in with_tallies for t in own.values()]
    tb_c, tb_i = measure.best_pair(lambda: [ev.band(t.venue, t) for t in sample], lambda: [interpret_band(pol, t.venue, t) for t in sample], reps)
    n, m = len(cadres), max(len(sample), 1)
    return [
        Row("interp", f"plan one cadre ({_n(n)} cadres)", _us(tp_c / n), f"interpreter {_us(tp_i / n)}", tp_c / tp_i, "< 1×",
            tp_c < tp_i, {"compiled_s": tp_c, "interpreted_s": tp_i, "cadres": n}),
        Row("interp", "decide one cadre (plan, bands, outcome, trace)", _us(td_c / n), f"interpreter {_us(td_i / n)}", td_c / td_i,
            "< 1×", td_c < td_i, {"compiled_s": td_c, "interpreted_s": td_i}),
        Row("interp", f"band of one tally (exact share, session, band; {_n(m)} tallies)", _us(tb_c / m), f"interpreter {_us(tb_i / m)}",
            tb_c / tb_i, "< 1×", tb_c < tb_i, {"compiled_s": tb_c, "interpreted_s": tb_i, "tallies": m}),
        Row("interp", "compiled and interpreted decisions are equal", "yes" if agree else "NO", "", None, "equal", agree),
    ]


# ---- engines ----------------------------------------------------------------------------------------


def engines(cfg: Config) -> list[Row]:
    from bench import engines as E

    pol, ev, entries, tallies = _sample(cfg)
    sample = [t for e in entries for t in tallies.get(e.cadre.cadre_id, {}).values()][: cfg.sample]
    triples = [(t.venue, t.low, t.collected) for t in sample]
    ours_codes = [b.code if (b := ev.band_rule(t.venue, t)) else None for t in sample]
    reps = max(3, cfg.repeats)
    t_rule = measure.best_of(lambda: [ev.band_rule(t.venue, t) for t in sample], reps) / len(sample)
    t_band = measure.best_of(lambda: [ev.band(t.venue, t) for t in sample], reps) / len(sample)
    rows = [Row("engines", f"band decision, compiled (band_rule), {_n(len(sample))} tallies", _us(t_rule), "", None, "",
                None, {"band_rule_s": t_rule, "band_s": t_band})]
    for make in (E.rego, E.cedar):
        eng = make()
        name = make.__name__
        if eng is None:
            rows.append(Row("engines", f"{name}: not installed (pip install tinnhiem[bench])", "—", "—", None, "", None))
            continue
        few = triples[: cfg.per_call if name == "rego" else cfg.sample]
        t_one = measure.best_of(lambda e=eng, f=few: e.each(f), 1 if name == "rego" else reps) / len(few)  # type: ignore[misc]
        t_all = measure.best_of(lambda e=eng: e.batch(triples), reps) / len(triples)  # type: ignore[misc]
        agree = eng.each(few) == ours_codes[: len(few)] and eng.batch(triples) == ours_codes
        rows += [
            Row("engines", f"band decision vs {eng.name} {eng.version}, one call each", _us(t_rule), _us(t_one), t_rule / t_one,
                "< 1×", t_rule < t_one, {"per_call_s": t_one, "calls": len(few)}),
            Row("engines", f"band decision vs {eng.name}, one batch of {_n(len(triples))}", _us(t_rule), _us(t_all), t_rule / t_all,
                "< 1×", t_rule < t_all, {"batched_s": t_all}),
            Row("engines", f"{eng.name} decides the same bands", "yes" if agree else "NO", "", None, "equal", agree),
        ]
    rows.append(Row("engines", "full band result (exact share, session, band), compiled", _us(t_band), "", None, "", None))
    return rows


# ---- check ------------------------------------------------------------------------------------------


def check(cfg: Config) -> list[Row]:
    from bench.policies import write_policy
    from checker.solve import check_policy
    from dsl.loader import load_policy

    out = cfg.work / "check.json"
    m = measure.interleaved([lambda: measure.run(_tinnhiem("check", "--format", "json", "--output", str(out)), cwd=str(cfg.work))],
                            max(cfg.repeats, 3 if not cfg.quick else 1))[0]
    rows = [Row("check", "tinnhiem check, the 3 bundled policies, whole process", f"{_s(m.wall)} wall · {_s(m.cpu)} CPU", "1 s",
                m.wall / 1.0, "< 1 s wall", m.wall < 1.0, asdict(m))]
    prev: tuple[int, float] | None = None
    folder = cfg.work / "policies"
    folder.mkdir(exist_ok=True)
    for n in cfg.policy_sizes:
        if n > cfg.max_policy:
            continue
        path = write_policy(folder, n, 2)
        t0 = time.perf_counter()
        pol = load_policy(path)
        t1 = time.perf_counter()
        rep = check_policy(pol, timeout_ms=3_600_000)
        t2 = time.perf_counter()
        obligations = sum(len(p.results) for p in rep.properties)
        growth = ""
        exponent = None
        if prev is not None:
            exponent = math.log((t2 - t1) / prev[1]) / math.log(n / prev[0])
            growth = f" · grows as n^{exponent:.2f}"
        rows.append(Row("check", f"generated policy: {n} titles, {n} scope rules, 3 venue rules",
                        f"{_s(t2 - t1)} proof · {_s(t1 - t0)} load", f"{obligations} obligations{growth}",
                        None, "≈ linear (n^1)", None if exponent is None else exponent <= 1.25,
                        {"n": n, "load_s": t1 - t0, "proof_s": t2 - t1, "obligations": obligations, "exit": rep.exit_code,
                         "exponent": exponent}))
        prev = (n, t2 - t1)
    return rows


# ---- memory -----------------------------------------------------------------------------------------


def _prefix(src: Path, dst: Path, rows: int) -> Path:
    if not dst.exists():
        with src.open("rb") as fin, dst.open("wb") as fout:
            for i, line in enumerate(fin):
                if i > rows:
                    break
                fout.write(line)
    return dst


def memory(cfg: Config) -> list[Row]:
    small, large = (data.population(n) for n in cfg.memory_rows)
    rows = []
    got: dict[tuple[str, str], measure.Measure] = {}
    fixed = _prefix(large.tallies, large.folder / f"tallies-first-{small.tally_rows}.csv", small.tally_rows)
    runs = {
        ("csv", "small"): (small.roster, small.tallies), ("csv", "large"): (large.roster, large.tallies),
        ("jsonl", "small"): (small.roster, small.tallies), ("jsonl", "large"): (large.roster, large.tallies),
        ("csv", "fixed"): (large.roster, fixed),
    }
    for (fmt, size), (roster, tallies) in runs.items():
        cmd = _tinnhiem("evaluate", "--roster", str(roster), "--tallies", str(tallies), "--format", fmt,
                        "--output", str(cfg.work / f"mem.{fmt}"))
        got[fmt, size] = measure.run(cmd, cwd=str(cfg.work))
    hw_small = measure.run([sys.executable, str(ROOT / "bench" / "handwritten.py"), str(small.roster), str(small.tallies),
                            str(cfg.work / "hw.csv")])
    hw_large = measure.run([sys.executable, str(ROOT / "bench" / "handwritten.py"), str(large.roster), str(large.tallies),
                            str(cfg.work / "hw.csv")])
    s, L = _n(small.tally_rows), _n(large.tally_rows)
    for fmt in ("csv", "jsonl"):
        a, b = got[fmt, "small"], got[fmt, "large"]
        rows.append(Row("memory", f"evaluate → {fmt}: peak at {L} vs {s} tally rows (roster grows with them)",
                        f"{_mb(b.rss_kb)} vs {_mb(a.rss_kb)}", f"hand-written {_mb(hw_large.rss_kb)} vs {_mb(hw_small.rss_kb)}",
                        b.rss_kb / a.rss_kb, "≤ 1.5×", None if cfg.quick else b.rss_kb / a.rss_kb <= 1.5,
                        {"small": asdict(a), "large": asdict(b), "hw_small": asdict(hw_small), "hw_large": asdict(hw_large)}))
    a, b = got["csv", "fixed"], got["csv", "large"]
    rows.append(Row("memory", f"evaluate → csv: peak at {L} vs {s} tally rows, the same {_n(large.roster_rows)}-row roster",
                    f"{_mb(b.rss_kb)} vs {_mb(a.rss_kb)}", "", b.rss_kb / a.rss_kb, "≤ 1.5×", None if cfg.quick else b.rss_kb / a.rss_kb <= 1.5,
                    {"fixed_roster_small": asdict(a), "large": asdict(b)}))
    rows.append(Row("memory", f"evaluate → csv at {L} tally rows vs the hand-written program", _mb(b.rss_kb), _mb(hw_large.rss_kb),
                    b.rss_kb / hw_large.rss_kb, "", None))
    return rows


# ---- the table --------------------------------------------------------------------------------------


def _ratio(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.2f}×" if x >= 0.1 else f"{x:.2g}×"


def table(rows: list[Row]) -> str:
    head = ("section", "what", "tinnhiem", "baseline", "ratio", "goal", "met")
    cells = [head] + [(r.section, r.what, r.ours, r.theirs, _ratio(r.ratio), r.goal,
                       "" if r.met is None else ("yes" if r.met else "NO")) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for i, c in enumerate(cells):
        lines.append("  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


RUNNERS: dict[str, Callable[[Config], list[Row]]] = {"e2e": e2e, "interp": interp, "engines": engines, "check": check, "memory": memory}


def config(quick: bool, repeats: int | None, max_policy: int) -> Config:
    if quick:
        return Config(True, repeats or 1, min(max_policy, 30), 5_000, (2_000, 20_000), 1_000, 50, (10, 30))
    return Config(False, repeats or 3, max_policy, 1_000_000, (100_000, 1_000_000), 20_000, 300, (10, 100, 1000))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small inputs, one repeat (CI smoke run)")
    ap.add_argument("--only", action="append", choices=SECTIONS, help="run this section only (repeatable)")
    ap.add_argument("--repeats", type=int, help="repeats of each timed run (default 3, quick 1)")
    ap.add_argument("--max-policy", type=int, default=1000, help="largest generated policy to check (default 1000)")
    ap.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = ap.parse_args(argv)
    cfg = config(args.quick, args.repeats, args.max_policy)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    rows: list[Row] = []
    started = time.perf_counter()
    for name in args.only or SECTIONS:
        print(f"… {name}", file=sys.stderr, flush=True)
        rows += RUNNERS[name](cfg)
    elapsed = time.perf_counter() - started
    sys.stdout.write(table(rows))
    print(f"\n{'quick' if cfg.quick else 'full'} run, {elapsed:.0f} s; inputs cached in {data.cache_root()}; "
          f"ratio = tinnhiem / baseline (below 1: faster or smaller)")
    if args.json:
        args.json.write_text(json.dumps({"quick": cfg.quick, "seconds": elapsed, "rows": [asdict(r) for r in rows]},
                                        ensure_ascii=False, indent=2), encoding="utf-8")
    failed = [r for r in rows if r.met is False and r.goal in ("identical", "equal")]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
