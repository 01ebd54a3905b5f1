"""Random policies: the printer, the checker and the evaluator on policies nobody wrote.

Takes random small well-typed policies from :func:`checker.strategies.policy_texts` (random
thresholds and strictness, band orders and severities, venue rules, items and exceptions,
exemptions, scope, denominators, quorum, schedule, properties, comments, odd layout). For each:

- the canonical printer round-trips: ``parse(format(parse(t))) == parse(t)`` and ``format`` is
  idempotent on its own output;
- the policy loads (the generator is well-typed) and ``check`` answers every property with proved,
  refuted or not applicable (never unknown, never an internal error);
- every refuted property's counterexample reproduces in the evaluator — through the checker's replay,
  and independently through :class:`checker.fuzz_oracle.PerInput` on the decoded rows;
- every proved property holds on the evaluator's output for generated inputs, and on those inputs the
  evaluator decides what the Z3 model forces.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.fuzz_oracle import NOT_PER_INPUT, Oracle, PerInput
from checker.solve import Checker
from checker.strategies import FuzzInput, inputs, policy_texts, profile
from dsl.diagnostics import Collector
from dsl.evaluator import Evaluator
from dsl.ir import Policy
from dsl.lower import lower
from dsl.parser import parse
from dsl.printer import format_file
from tests.fuzz.budget import scaled

PATH = "random.policy"
POLICIES = 300
INPUTS_PER_POLICY = 3
QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def _load(text: str) -> Policy:
    collector = Collector()
    pol = lower(parse(text, PATH), {}, collector)
    assert not collector.items, "the generator made an ill-typed policy:\n" + "\n".join(d.render() for d in collector.items) + "\n" + text
    return pol


def _reproduces(pol: Policy, pid: str, cx) -> bool:
    """Does the evaluator, on the counterexample's rows, violate ``pid`` (stated by PerInput)?"""
    cadre = cx.roster[0].cadre() if cx.roster else None
    if cadre is None:
        from dsl.evaluator import Cadre

        cadre = Cadre("cx", pol.level_codes()[0], frozenset(), {})
    inp = FuzzInput(cadre, tuple(t.tally() for t in cx.tallies))
    ev = Evaluator(pol, cx.year)
    d = ev.decide(cadre, {t.venue: t for t in inp.tallies if t.venue})
    return pid in PerInput(pol, ev, [pid]).violations(inp, d)


def check_one(text: str, data: st.DataObject, verdicts: set[tuple[str, str]]) -> None:
    """Everything the module docstring says, for one random policy."""
    # the canonical printer: meaning-preserving and idempotent
    tree = parse(text, PATH)
    canon = format_file(tree)
    again = parse(canon, PATH)
    assert again == tree, f"the printer changed the meaning:\n{text}\n--- printed ---\n{canon}"
    assert format_file(again) == canon, f"the printer is not idempotent:\n{canon}"

    pol = _load(canon)
    report = Checker(pol, timeout_ms=20_000).run()
    proved = []
    for res in report.properties:
        verdicts.add((res.id if res.id.startswith("builtin.") else "policy property", res.status))
        assert res.status in ("proved", "refuted", "not_applicable"), f"{res.id}: {res.status}: {res.message}\n{canon}"
        if res.status == "proved":
            proved.append(res.id)
        if res.status != "refuted":
            continue
        for ob in res.findings:
            cx = ob.counterexample
            if cx is None:  # a rule that can never fire, an infeasible schedule: an unsat core, no model
                continue
            assert cx.replay.exhibits, f"{res.id}: the checker's replay does not show it: {cx.replay.shows}\n{canon}"
            if res.id not in NOT_PER_INPUT and (cx.roster or cx.tallies):
                assert _reproduces(pol, res.id, cx), f"{res.id}: the counterexample does not reproduce\n{cx.roster_csv}{cx.tallies_csv}\n{canon}"

    prof = profile(pol)
    oracle = Oracle(pol, prof.year, prof.venues)
    per_input = PerInput(pol, oracle.ev, proved)
    for _ in range(INPUTS_PER_POLICY):
        inp = data.draw(inputs(prof))
        c = oracle.compare(inp)
        assert c.agrees, f"{c.problems}\nevaluator: {c.evaluator.render()}\nZ3 model:  {c.model.render() if c.model else None}\n{canon}"
        assert not per_input.violations(inp, c.decision), f"a proved property fails on {inp}\n{canon}"


def test_random_policies():
    verdicts: set[tuple[str, str]] = set()
    count = 0

    @settings(max_examples=scaled(POLICIES), suppress_health_check=QUIET)
    @given(policy_texts(), st.data())
    def run(text: str, data: st.DataObject) -> None:
        nonlocal count
        count += 1
        check_one(text, data, verdicts)

    run()
    assert count >= scaled(POLICIES)
    # the generator is stuck neither on easy policies nor on broken ones: every verdict occurs
    for pid in ("bands_disjoint", "bands_cover", "severity_monotone", "voted_has_venue", "venue_implies_scope",
                "no_conflict", "no_dead_rule", "exemption_overrides_scope", "max_venues"):
        assert (f"builtin.{pid}", "proved") in verdicts, pid
        assert (f"builtin.{pid}", "refuted") in verdicts, pid
    assert ("policy property", "proved") in verdicts and ("policy property", "refuted") in verdicts
