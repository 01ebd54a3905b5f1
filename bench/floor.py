"""The floor: reading the two CSV files and writing a CSV of the same shape, deciding nothing.

Takes a roster CSV, a tallies CSV and an output path; parses every row of both with :mod:`csv`
(decoding UTF-8, as the real readers do) and writes one 30-column row per roster row (the size of
``evaluate``'s output), with the cyclic garbage collector off. No program that reads and writes these
files through Python's ``csv`` module can be faster, so ``bench`` shows how far above it the
hand-written program and tinnhiem are.

``python bench/floor.py ROSTER TALLIES OUT``
"""

from __future__ import annotations

import csv
import gc
import sys


def run(roster: str, tallies: str, out: str) -> int:
    gc.disable()
    rows = []
    with open(roster, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [(r[0], r[1], r[2], r[3], r[4]) for r in reader]
    with open(tallies, encoding="utf-8-sig", newline="") as fh:
        counted = sum(1 for _ in csv.reader(fh))
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for i, (cid, name, level, unit, titles) in enumerate(rows, 2):
            w.writerow([cid, name, level, unit, titles, "voted", "", "noi_cong_tac", 50, 47, 3, "3/47", "6.38%", "khong_qua_50",
                        "", "khong_qua_50", "KH134 P3; KH134 P5; KH134 P10", "", i, "",
                        "", "collected", 47, 30, 14, "30/47", "14/47", "63,83%", "29,79%", "6,38%"])
    return 0 if counted else 1


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:4]))
