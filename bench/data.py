"""Synthetic populations for the benchmarks, generated once and cached outside the repository.

Takes a number of tally rows ``N`` (and a seed); produces a folder holding ``roster.csv`` and
``tallies.csv`` made by :mod:`tinnhiem.synth` (the bundled policy plans the venues): the roster is
the shortest prefix of a generated province whose tallies reach ``N`` rows, the tallies are exactly
the first ``N`` rows (tallies come in roster order, so at most one cadre at the cut loses a venue's
tally and is reported ``missing_tally``). The folder is ``$TINNHIEM_BENCH_CACHE`` or
``~/.cache/tinnhiem-bench``, one sub-folder per (N, seed); a file is reused when it exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tinnhiem import synth

#: Bump when the generator or the cut changes, so that stale caches are not reused.
VERSION = 1
#: Tally rows per roster row of a large generated province (measured: 0.69-0.70).
_RATIO = 0.69


@dataclass(frozen=True)
class Population:
    folder: Path
    roster: Path
    tallies: Path
    roster_rows: int
    tally_rows: int


def cache_root() -> Path:
    env = os.environ.get("TINNHIEM_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "tinnhiem-bench"


def _count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1


def population(n_tallies: int, seed: int = 134, root: Path | None = None) -> Population:
    """The cached population with ``n_tallies`` tally rows (generated on first use)."""
    folder = (root or cache_root()) / f"v{VERSION}-n{n_tallies}-s{seed}"
    roster, tallies = folder / "roster.csv", folder / "tallies.csv"
    if not (roster.exists() and tallies.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        planner = synth.policy_planner()
        n_roster = int(n_tallies / _RATIO) + 2000
        while True:
            rows = synth.generate_roster(n_roster, seed)
            rows_t = synth.generate_tallies(rows, planner, seed)
            if len(rows_t) >= n_tallies:
                break
            n_roster = int(n_roster * 1.1)  # pragma: no cover - the ratio is stable
        rows_t = rows_t[:n_tallies]
        last = rows_t[-1]["cadre_id"] if rows_t else None
        cut = next((i + 1 for i, r in enumerate(rows) if r["cadre_id"] == last), 0)
        tmp_r, tmp_t = roster.with_suffix(".tmp"), tallies.with_suffix(".tmp")
        synth.write_csv(tmp_r, synth.ROSTER_COLUMNS, rows[:cut])
        synth.write_csv(tmp_t, synth.TALLY_COLUMNS, rows_t)
        tmp_r.replace(roster)
        tmp_t.replace(tallies)
    return Population(folder, roster, tallies, _count_rows(roster), _count_rows(tallies))
