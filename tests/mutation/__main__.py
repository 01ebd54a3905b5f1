"""``python -m tests.mutation``: the mutation score of the decision modules (see docs/mutation.md).

    python -m tests.mutation                          # every module of config.MODULES, 40 mutants each, seed 134
    python -m tests.mutation --module dsl/evaluator.py --sample 0    # every mutant of one module
    python -m tests.mutation --list --module tinnhiem/tallies.py     # the mutants, without running them
    python -m tests.mutation --only 'tinnhiem/tallies.py::_check::cmp:>/>=#0'   # some mutants by id
    python -m tests.mutation --json out/mutation.json                # the results, for docs/mutation.md

Exit 0 when every module scores at least ``--target`` (default 0.95) and no unmutated test run failed,
1 otherwise, 2 on a usage error (an unknown module or mutant id).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tests.mutation.config import DEFAULT_SAMPLE, DEFAULT_SEED, MODULES
from tests.mutation.mutants import mutants
from tests.mutation.runner import ROOT, ModuleReport, load_equivalents, run, sample


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _table(reports: list[ModuleReport]) -> str:
    head = (f"{'module':<24} {'mutants':>7} {'sampled':>7} {'equivalent':>10} {'killed':>6} {'(new)':>5} {'survived':>8} "
            f"{'before':>7} {'score':>7}")
    lines = [head, "-" * len(head)]
    tot = dict.fromkeys(("total", "sampled", "equivalent", "killed", "new", "survived", "before"), 0)
    for r in reports:
        row = {"total": r.total, "sampled": r.sampled, "equivalent": r.count("equivalent"), "killed": r.killed,
               "new": r.count("killed_new"), "survived": r.count("survived"), "before": r.killed_before}
        for k, v in row.items():
            tot[k] += v
        before, score = ("broken", "broken") if r.broken else (_pct(r.score_before), _pct(r.score))
        lines.append(f"{r.module:<24} {r.total:>7} {r.sampled:>7} {row['equivalent']:>10} {r.killed:>6} {row['new']:>5} "
                     f"{row['survived']:>8} {before:>7} {score:>7}")
    counted = tot["killed"] + tot["survived"]
    lines.append("-" * len(head))
    lines.append(f"{'all':<24} {tot['total']:>7} {tot['sampled']:>7} {tot['equivalent']:>10} {tot['killed']:>6} {tot['new']:>5} "
                 f"{tot['survived']:>8} {_pct(tot['before'] / counted if counted else None):>7} "
                 f"{_pct(tot['killed'] / counted if counted else None):>7}")
    lines.append("killed: by a test (the first to fail is recorded); (new): of which by the new tests only; "
                 "before: the score without the new tests; score = killed / (sampled - equivalent)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n")[0])
    ap.add_argument("--module", action="append", metavar="PATH", help=f"a module to mutate (default: all of {', '.join(MODULES)})")
    ap.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N", help=f"mutants per module (default {DEFAULT_SAMPLE}; 0: all)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S", help=f"seed of the sample (default {DEFAULT_SEED})")
    ap.add_argument("--only", action="append", metavar="ID", help="run these mutants only (ids as listed)")
    ap.add_argument("--list", action="store_true", help="list the sampled mutants (id, line, change) and exit")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--target", type=float, default=0.95, help="the score every module must reach (default 0.95)")
    args = ap.parse_args(argv)
    modules = args.module or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)}; one of: {', '.join(MODULES)}", file=sys.stderr)
        return 2
    n = None if args.sample == 0 else args.sample
    if args.list:
        eq = load_equivalents()
        for module in modules:
            src = (ROOT / module).read_bytes()
            for m in sample(mutants(module, src), n, args.seed, module):
                was, now = m.snippet(src)
                print(f"{m.id}  (line {m.line}){'  [equivalent]' if m.id in eq else ''}\n    - {was}\n    + {now}")
        return 0
    only = set(args.only) if args.only else None
    if only is not None:
        known = {m.id for module in modules for m in mutants(module, (ROOT / module).read_bytes())}
        if only - known:
            print(f"unknown mutant id(s): {', '.join(sorted(only - known))}", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    reports = run(modules, n, args.seed, only, progress=lambda s: print(s, flush=True))
    wall = time.perf_counter() - t0
    print()
    print(_table(reports))
    print(f"\nseed {args.seed}, {n or 'all'} mutants per module, {wall / 60:.1f} min")
    for r in reports:
        if r.broken:
            print(f"\n{r.module}: the unmutated tests fail ({r.broken}): not scored")
        survivors = [x for x in r.results if x.status == "survived"]
        if survivors:
            print(f"\n{r.module}: survivors")
            for x in survivors:
                print(f"  {x.mutant.id}  (line {x.mutant.line})\n    - {x.was}\n    + {x.now}")
        stale = [x for x in r.results if x.stale]
        for x in stale:
            print(f"  {x.mutant.id}: listed as equivalent, but the line changed: check equivalent.toml")
    if args.json:
        data = {"seed": args.seed, "sample": n, "minutes": round(wall / 60, 1), "modules": [
            {"module": r.module, "mutants": r.total, "sampled": r.sampled, "killed": r.killed, "killed_new": r.count("killed_new"),
             "survived": r.count("survived"), "equivalent": r.count("equivalent"), "score": r.score, "score_before": r.score_before,
             "broken": r.broken, "baseline_s": round(r.baseline, 1),
             "results": [{"id": x.mutant.id, "line": x.mutant.line, "status": x.status, "by": x.by, "seconds": round(x.seconds, 1),
                          "was": x.was, "now": x.now} for x in r.results]}
            for r in reports]}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ok = all(not r.broken and (r.score is None or r.score >= args.target) for r in reports)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
