"""``tinnhiem fuzz``: run :func:`checker.fuzz.run_fuzz` on a policy, with progress, and pick the exit code.

Takes the policy path, the number of inputs, the seed and the policy root; produces the verdict on
stdout (:func:`checker.fuzz.render_success` or, with the shrunk witness, :func:`checker.fuzz.render_failure`)
and the exit code: 0 all agree · 1 a disagreement · 2 the policy has errors or a usage error · 3 an
internal error · 130 interrupted. Progress, with inputs per second, goes to stderr (rich). Never a
traceback.
"""

from __future__ import annotations

import sys
import time

from checker.fuzz import proved_properties, render_failure, render_success, run_fuzz
from dsl.diagnostics import PolicyError
from dsl.loader import load_policy


def fuzz_main(policy_path: str, examples: int, seed: int, root: str | None = None) -> int:
    """Run ``tinnhiem fuzz`` and return its exit code (see the module docstring)."""
    try:
        return _fuzz(policy_path, examples, seed, root)
    except KeyboardInterrupt:
        print("tinnhiem fuzz: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback to the user
        print(f"tinnhiem fuzz: internal error: {type(exc).__name__}: {exc}\n"
              "help: this is a bug of tinnhiem; please report it with the policy and the seed", file=sys.stderr)
        return 3


def _fuzz(policy_path: str, examples: int, seed: int, root: str | None) -> int:
    if examples < 1:
        print(f"tinnhiem fuzz: error: --examples must be at least 1, not {examples}", file=sys.stderr)
        return 2
    try:
        pol = load_policy(policy_path, root)
    except PolicyError as err:
        print(err.render(), file=sys.stderr)
        return 2
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    console = Console(stderr=True)
    year = pol.vote_year
    if year is None:
        console.print(Text(f"{pol.id} states no vote_year: fuzzing with vote year 2023", style="dim"))
    console.print(Text(f"proving the properties of {pol.id} first…", style="dim"))
    proved = proved_properties(pol, year or 2023)
    progress = Progress(TextColumn("fuzzing {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]:>6.0f} inputs/s"), TimeElapsedColumn(), console=console)
    task = progress.add_task(pol.id, total=examples, rate=0.0)
    start = time.monotonic()

    def tick(n: int) -> None:
        elapsed = time.monotonic() - start
        progress.update(task, completed=min(n, examples), rate=n / elapsed if elapsed > 0 else 0.0)

    with progress:
        report = run_fuzz(pol, examples, seed, year=year or 2023, proved=proved, on_progress=tick)
        tick(report.inputs)
    if report.failure is not None:
        sys.stdout.write(render_failure(report))
        sys.stdout.flush()
        return 1
    sys.stdout.write(render_success(report))
    sys.stdout.flush()
    return 0
