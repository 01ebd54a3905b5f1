"""``python -m tinnhiem.mutate_command``: the mutation score of ``tinnhiem check`` on policy files.

Takes ``[--policy P]… [--json] [--sample N] [--goal G] [--append DIR]``; judges every mutant of each
file with :func:`checker.mutate.judge` and prints each verdict (stderr) and the score (stdout), or one
JSON document. Exit 0 when the score is at least ``--goal`` (95 %), 1 below it, 2 on a policy error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from checker.mutate import Bundle, Verdict, judge, load_originals, mutants, sample, score
from dsl.diagnostics import PolicyError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinnhiem.mutate_command", description="Mutation score of `tinnhiem check`.")
    ap.add_argument("--policy", metavar="FILE", action="append", help="policy file to mutate (default: the bundled policies)")
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout")
    ap.add_argument("--sample", type=int, metavar="N", help="judge a spread of N mutants per file only")
    ap.add_argument("--goal", type=float, default=0.95, help="the score to reach (default 0.95)")
    ap.add_argument("--append", metavar="DIR", help="append DIR/<file name>.append to each policy file first "
                    "(e.g. proposed examples and properties; they are not mutated)")
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except (PolicyError, ValueError) as exc:
        print(exc.render() if isinstance(exc, PolicyError) else f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import policy as bundled

    paths = [Path(p) for p in args.policy] if args.policy else bundled.all_paths()
    bundle = Bundle.of(paths)
    if args.append:
        bundle.append(Path(args.append))
    load_originals(bundle)
    targets = [bundle.keys[p.resolve()] for p in paths]
    verdicts: list[Verdict] = []
    start = time.monotonic()
    for name in targets:
        ms = mutants(name, bundle.texts[name])
        if args.sample:
            ms = sample(ms, args.sample)
        for m in ms:
            v = judge(bundle, m)
            verdicts.append(v)
            if not args.json:
                print(f"{v.status:10s} {m.id:28s} {m.operator:12s} {m.description}", file=sys.stderr)
    killed, counted, ratio = score(verdicts)
    seconds = time.monotonic() - start
    if args.json:
        doc = {"score": ratio, "killed": killed, "non_equivalent": counted, "seconds": round(seconds, 1),
               "by_status": {st: sum(v.status == st for v in verdicts) for st in ("killed", "survived", "equivalent", "stillborn")},
               "mutants": [{"id": v.mutant.id, "file": v.mutant.file, "line": v.mutant.line, "operator": v.mutant.operator,
                            "description": v.mutant.description, "status": v.status,
                            "kills": [dataclasses.asdict(k) for k in v.kills], "witness": v.witness or None,
                            "seconds": round(v.seconds, 3)} for v in verdicts]}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        kinds: dict[str, int] = {}
        for v in verdicts:
            for k in {k.kind for k in v.kills} if v.status == "killed" else ():
                kinds[k] = kinds.get(k, 0) + 1
        print(f"{len(verdicts)} mutants in {seconds:.0f} s: {killed} killed, {counted - killed} survived, "
              f"{sum(v.status == 'equivalent' for v in verdicts)} equivalent, {sum(v.status == 'stillborn' for v in verdicts)} stillborn")
        print("killed by: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        print(f"mutation score: {killed}/{counted} = {ratio:.1%}")
        for v in verdicts:
            if v.status == "survived":
                print(f"\nsurvivor {v.mutant.id} (line {v.mutant.line}, {v.mutant.operator}): {v.mutant.description}")
                print("  " + v.witness.replace("\n", "\n  "))
    return 0 if ratio >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
