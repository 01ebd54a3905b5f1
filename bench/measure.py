"""Measuring a command or a function: wall time, CPU time and peak memory.

Takes a command line (run as a child process, measured alone with ``os.wait4``) or a function (run
in this process); produces :class:`Measure` figures. Repeated measurements are interleaved by the
caller (A, B, A, B …) so that a neighbour's load hits both sides alike; figures are reported as the
median (end-to-end runs) or the minimum (micro-benchmarks) of the repeats.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss_kb: int  # peak resident set size of the child, KiB (0 for in-process measures)
    code: int = 0


# The measured command is started by this small launcher, not by the benchmark process: on Linux a
# child's peak RSS (ru_maxrss) starts from the size of the process that forked it, and the benchmark
# process holds test data. The launcher reports the command's own figures as JSON on stdout.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": rss,
                  "code": os.waitstatus_to_exitcode(status), "err": err.decode("utf-8", "replace")[-2000:]}))
"""


def run(cmd: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None) -> Measure:
    """Run ``cmd`` to completion with its output discarded; its own wall, CPU and peak RSS."""
    proc = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the launcher failed ({proc.returncode}): {proc.stderr}")
    got = json.loads(proc.stdout)
    if got["code"] not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {got['code']}:\n{got['err']}")
    return Measure(got["wall"], got["cpu"], got["rss_kb"], got["code"])


def median(ms: Sequence[Measure]) -> Measure:
    return Measure(statistics.median(m.wall for m in ms), statistics.median(m.cpu for m in ms),
                   int(statistics.median(m.rss_kb for m in ms)), ms[0].code)


def interleaved(fns: Sequence[Callable[[], Measure]], repeats: int) -> list[Measure]:
    """Each function ``repeats`` times, alternating; the median of each."""
    got: list[list[Measure]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            got[i].append(fn())
    return [median(g) for g in got]


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` wall-clock runs of ``fn`` (in process), seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_pair(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float]:
    """:func:`best_of` for two functions, their runs interleaved."""
    ta = tb = float("inf")
    for _ in range(repeats):
        ta = min(ta, best_of(a, 1))
        tb = min(tb, best_of(b, 1))
    return ta, tb
