"""``tinnhiem fuzz``: differential testing of the compiled evaluator against the Z3 model.

Takes a policy (path or IR), a number of inputs and a seed; produces a :class:`FuzzReport`. The
inputs are drawn by Hypothesis from :mod:`checker.strategies` (roster rows and tallies biased to the
policy's thresholds, quorum, title combinations and years) in batches of up to ten per Hypothesis
example; each input goes through :class:`checker.fuzz_oracle.Oracle` — the evaluator's decision must
equal what the Z3 encoding forces once the input is pinned, and must be the only decision it allows
— and through :func:`checker.fuzz_oracle.property_violations`: every property the checker *proves*
for the policy must hold on the evaluator's output. On the first failure Hypothesis shrinks the
batch; the report carries the shrunk witness (the brief's roster and tally CSV rows) and both
decisions. The same seed replays the same run.

:func:`render_failure` and :func:`render_success` give the verdict as text; the command that prints
them, with progress, is :mod:`tinnhiem.fuzz_command` (this module never prints or exits).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from checker.decode import roster_csv, tallies_csv
from checker.fuzz_oracle import Comparison, Factory, Oracle, PerInput, coverage, rules_of
from checker.solve import check_policy
from checker.strategies import FuzzInput, Profile, inputs, profile, roster_row, tally_row
from dsl import ir
from dsl.evaluator import Evaluator

#: Inputs per Hypothesis example (one example is shrunk as a whole: a failure shrinks to one input).
BATCH = 10
#: The average length of Hypothesis's ``lists(min_size=1, max_size=n)`` (its documented target size).
_AVERAGE_BATCH = {n: min(max(2.0, 6.0), 0.5 * (1 + n)) for n in range(1, 1001)}
#: Health checks that measure what the fuzzer does on purpose (big batches, slow Z3 calls).
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example, HealthCheck.filter_too_much]


@dataclass(frozen=True)
class Failure:
    """The shrunk witness: the input, both decisions (when the oracle ran) and what went wrong."""

    input: FuzzInput
    comparison: Comparison | None
    problems: tuple[str, ...]
    violated: tuple[str, ...] = ()  # proved properties the evaluator's output violates


@dataclass(frozen=True)
class FuzzReport:
    policy: ir.Policy
    year: int
    seed: int
    inputs: int  # inputs checked (shrinking included)
    seconds: float
    proved: tuple[str, ...]  # the properties held to the evaluator's output
    fired: frozenset[str]  # the rules that fired on some input
    rules: frozenset[str]  # every rule that could fire
    failure: Failure | None = None
    found_after: int = 0  # inputs checked when the first failure was found (before shrinking)

    @property
    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds > 0 else 0.0


class _Disagreement(AssertionError):
    pass


@dataclass
class _Run:
    """The mutable state of one run (inputs checked, the last failure: after shrinking, the witness)."""

    count: int = 0
    failure: Failure | None = None
    found_after: int = 0


def proved_properties(policy: ir.Policy, year: int | None = None, timeout_ms: int = 10_000) -> tuple[str, ...]:
    """The properties the checker proves for ``policy`` (acknowledged or refuted ones are left out)."""
    return tuple(p.id for p in check_policy(policy, timeout_ms, year).properties if p.status == "proved")


def run_fuzz(policy: ir.Policy, examples: int, seed: int = 0, *, year: int | None = None, batch: int = BATCH,
             proved: Iterable[str] | None = None, factory: Factory = Evaluator,
             on_progress: Callable[[int], None] | None = None) -> FuzzReport:
    """Check ``examples`` generated inputs (see the module docstring); stop at the first failure."""
    prof: Profile = profile(policy, year)
    oracle = Oracle(policy, prof.year, prof.venues, factory)
    held = tuple(proved) if proved is not None else proved_properties(policy, prof.year)
    per_input = PerInput(policy, oracle.ev, held)
    batch = max(1, min(batch, examples, 1000))
    run = _Run()
    fired: set[str] = set()

    def check(inp: FuzzInput) -> Failure | None:
        try:
            c = oracle.compare(inp)
        except Exception as exc:  # the evaluator (or the oracle) crashed: that is a finding too
            return Failure(inp, None, (f"{type(exc).__name__}: {exc}",))
        bad: list[str] = []
        if c.decision is not None:
            fired.update(coverage(c.decision, c.evaluator))
            bad = per_input.violations(inp, c.decision)
        if c.problems or bad:
            return Failure(inp, c, c.problems, tuple(bad))
        return None

    def one_round(n_examples: int, round_seed: int) -> None:
        @settings(max_examples=n_examples, deadline=None, database=None, derandomize=False,
                  phases=(Phase.generate, Phase.shrink), suppress_health_check=_QUIET, verbosity=Verbosity.quiet,
                  report_multiple_bugs=False, print_blob=False)
        @given(st.lists(inputs(prof), min_size=1, max_size=batch))
        def fuzz(group: list[FuzzInput]) -> None:
            shrinking = run.failure is not None
            take = len(group) if shrinking else min(len(group), examples - run.count)
            for inp in group[:take]:
                run.count += 1
                found = check(inp)
                if found is not None:
                    if not shrinking:
                        run.found_after = run.count
                    run.failure = found  # the last one recorded is Hypothesis's shrunk example
                    raise _Disagreement("; ".join(found.problems + found.violated))
            if on_progress is not None and take > 0:
                on_progress(run.count)

        with contextlib.suppress(_Disagreement):  # the failure is in ``run``
            hypothesis_seed(round_seed)(fuzz)()

    # A batch is a list of 1…batch inputs, so that a failure shrinks to one input; Hypothesis makes
    # lists of about batch/2 on average: rounds of examples run until the count is reached (each
    # round's seed derives from ``seed``, so the same seed replays the same run).
    start = time.monotonic()
    rounds = 0
    while run.count < examples and run.failure is None:
        before = run.count
        one_round(max(1, math.ceil((examples - run.count) * 1.1 / _AVERAGE_BATCH[batch])), seed + 1_000_003 * rounds)
        rounds += 1
        if run.count == before:
            break  # Hypothesis produced nothing more (it cannot happen with these strategies)
    return FuzzReport(policy, prof.year, seed, run.count, time.monotonic() - start, held, frozenset(fired),
                      frozenset(rules_of(policy)), run.failure, run.found_after)


# ---- the report ---------------------------------------------------------------------------------------


def witness_csv(prof: Profile, f: Failure) -> tuple[str, str]:
    """The witness as the brief's roster CSV and tallies CSV (the tallies of the venues that matter)."""
    c = f.comparison
    venues: set[str] = set()
    if c is not None:
        venues |= set(c.evaluator.venues) | set(c.model.venues if c.model else ())
        if c.model is None or any(p.startswith("band set") for p in c.evaluator.differences(c.model)):
            venues |= {t.venue for t in f.input.tallies}
    if f.violated or c is None:
        venues |= {t.venue for t in f.input.tallies}
    rows = [tally_row(f.input.cadre.cadre_id, t) for t in f.input.tallies if t.venue in venues]
    return roster_csv([roster_row(prof, f.input.cadre)]), (tallies_csv(rows) if rows else "")


def render_failure(report: FuzzReport) -> str:
    f = report.failure
    assert f is not None
    prof = profile(report.policy, report.year)
    roster, tallies = witness_csv(prof, f)
    out = [f"✗ disagreement found after {report.found_after} inputs (seed {report.seed}, vote year {report.year}); "
           "shrunk witness:", "",
           "roster.csv", roster.rstrip("\n")]
    if tallies:
        out += ["", "tallies.csv", tallies.rstrip("\n")]
    out.append("")
    c = f.comparison
    if c is not None:
        out.append(f"evaluator: {c.evaluator.render()}")
        out.append(f"Z3 model:  {c.model.render() if c.model is not None else 'none'}")
    for p in f.problems:
        out.append(f"problem:   {p}")
    for pid in f.violated:
        meaning = ir.BUILTIN_PROPERTIES.get(pid.removeprefix("builtin."), next(
            (p.label for p in report.policy.properties if p.name == pid), ""))
        out.append(f"property:  {pid} ({meaning}) is proved by the checker, yet the evaluator's decision violates it")
    return "\n".join(out) + "\n"


def render_success(report: FuzzReport) -> str:
    dead = sorted(report.rules - report.fired)
    lines = [f"✓ {report.inputs} inputs in {report.seconds:.1f} s ({report.rate:.0f} inputs/s, seed {report.seed}, "
             f"vote year {report.year}): the evaluator decides what the Z3 model forces on every input",
             f"  held to the {len(report.proved)} properties the checker proves: {', '.join(report.proved) or 'none'}",
             f"  rules fired: {len(report.fired & report.rules)} of {len(report.rules)}"
             + (f" (never fired: {', '.join(dead)})" if dead else "")]
    return "\n".join(lines) + "\n"
