"""Mutation score of the checker, on a reduced set of mutants of the bundled policies.

Takes a deterministic spread of mutants (:func:`checker.mutate.sample`: round-robin over the
operators) of each bundled policy; judges each (:func:`checker.mutate.judge`: equivalent by Z3, or
killed by ``check`` / the worked examples, or surviving); asserts that every non-equivalent mutant is
killed (the full run, ``python -m tinnhiem.mutate_command``, scores 162/162: docs/fuzzing.md), that each kill
says how, and that Z3's verdicts agree with the evaluator: an equivalent mutant decides like the
original on generated inputs, a non-equivalent one comes with a witness the two evaluators decide
differently.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import policy as bundled
from checker.mutate import Bundle, Verdict, decision_view, judge, load_originals, mutants, sample, score
from checker.strategies import FuzzInput, inputs, profile
from dsl.loader import load_policy

PER_FILE = 7


def _bundle() -> Bundle:
    b = Bundle.of(bundled.all_paths())
    load_originals(b)
    return b


@pytest.fixture(scope="module")
def plain() -> tuple[Bundle, list[Verdict]]:
    b = _bundle()
    verdicts = [judge(b, m) for name in b.texts for m in sample(mutants(name, b.texts[name]), PER_FILE)]
    return b, verdicts


def test_reduced_mutation_score(plain):
    _, verdicts = plain
    killed, counted, ratio = score(verdicts)
    assert len(verdicts) == len(bundled.all_paths()) * PER_FILE
    assert counted >= 12, "too few non-equivalent mutants in the reduced set to mean anything"
    survivors = [f"{v.mutant.id} {v.mutant.description}" for v in verdicts if v.status == "survived"]
    assert not survivors, f"mutation score {killed}/{counted}: survivors {survivors}"
    for v in verdicts:
        assert v.status != "stillborn", f"{v.mutant.id} does not load: {v.kills}"
        # every kill says how; every witness replays in the evaluators
        assert (v.status == "killed") == bool(v.kills)
        assert not v.witness.startswith("!"), v.witness


def test_equivalent_mutants_decide_like_the_original(plain):
    """Z3 says 'equivalent': the compiled evaluators must then agree on generated inputs."""
    bundle, verdicts = plain
    checked = 0
    for v in verdicts:
        if v.status != "equivalent":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            bundle.write(Path(tmp), {v.mutant.file: v.mutant.text})
            for name in bundle.affected(v.mutant.file):
                original, mutant = bundle.originals[name], load_policy(Path(tmp) / name)
                _fuzz_alike(original, mutant, v.mutant.description)
                checked += 1
    assert checked >= 3


def _fuzz_alike(original, mutant, what: str) -> None:
    prof = profile(original)

    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(inputs(prof))
    def same(inp: FuzzInput) -> None:
        assert decision_view(original, prof.year, inp) == decision_view(mutant, prof.year, inp), what

    same()
