"""What is mutated, and which tests must notice: the decision modules and a subset of the suite for each.

Each module has its tests in two groups, run one after the other on each mutant (the second only if
the first passes), so that one run gives the score of both:

- ``old``: the tests that existed before the mutation work (issue "Tests that can fail"): whatever
  they kill is what the suite killed before;
- ``new``: what that work added — the n-ary connective tests, the shape fixtures (``bad/shapes``, the
  new good fixtures), random refinements, streaming on random policies, the readers' refusals. A
  mutant only these kill is one the suite used to let through.

The subsets are the tests that exercise the module and run in seconds (the whole suite takes minutes):
pytest stops at the first failure (``-x``). Fuzz tests run 15 % of their CI budget
(``TINNHIEM_FUZZ_SCALE``, :data:`tests.mutation.runner.FUZZ_SCALE`), without shrinking. Note that ``test_random_policies`` counts as old although it now draws
from the extended generator (n-ary connectives, several band sets, every base, one-day phases): the
"before" score is, if anything, flattering.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SEED = 134
DEFAULT_SAMPLE = 20

#: keywords of the tests added by the mutation work, in files that existed before it
_NEW_PARAMS = ("severity_monotone_sets", "schedule_one_day", "refinement_rewritten", "property_without_venues", "shapes",
               "random_refinements", "random_policies_stream", "negative_count", "garbage_in", "absent_optional", "year_fact",
               "quoted_whole", "short_row", "five_thousand_cadres", "memos_stay", "compiled_paths", "hints_near")
_NEW_FILES = ("nary_connectives", "shape_fixtures")
OLD_K = " and ".join(f"not {k}" for k in _NEW_PARAMS + _NEW_FILES)
NEW_K = " or ".join(_NEW_PARAMS + _NEW_FILES)
#: the streaming tests of files of several megabytes: they test buffering, not decisions (and take seconds)
_NOT_BIG = "not far_into and not digest_is_of and not progress_bar"


@dataclass(frozen=True)
class ModuleSpec:
    old: tuple[str, ...]  # pytest arguments
    new: tuple[str, ...]

    @property
    def tests(self) -> tuple[tuple[str, ...], ...]:
        return tuple(g for g in (self.old, self.new) if g)


def _spec(files: tuple[str, ...], new_files: tuple[str, ...] = (), extra_k: str = "") -> ModuleSpec:
    k_old = f"({OLD_K})" + (f" and ({extra_k})" if extra_k else "")
    k_new = f"({NEW_K})" + (f" and ({extra_k})" if extra_k else "")
    return ModuleSpec((*files, "-k", k_old), (*new_files, *files, "-k", k_new))


_EVAL = ("tests/dsl/test_evaluator.py", "tests/bench/test_interpret.py", "tests/checker/test_encoding_vs_evaluator.py",
         "tests/dsl/test_properties.py", "tests/fuzz/test_random_policies.py")
_CHECK = ("tests/checker/test_encoding_vs_evaluator.py", "tests/checker/test_fixtures.py", "tests/checker/test_bundled.py",
          "tests/checker/test_bruteforce.py", "tests/fuzz/test_random_policies.py")
_CLI = ("tests/cli/test_streaming.py", "tests/cli/test_cli.py")
_IO = "tests/cli/test_io_rules.py::"

MODULES: dict[str, ModuleSpec] = {
    "dsl/evaluator.py": _spec(_EVAL, ("tests/dsl/test_nary_connectives.py", "tests/checker/test_shape_fixtures.py")),
    "checker/encode.py": _spec(_CHECK, ("tests/dsl/test_nary_connectives.py", "tests/checker/test_shape_fixtures.py")),
    "checker/properties.py": _spec(_CHECK, ("tests/checker/test_shape_fixtures.py",)),
    "tinnhiem/stream.py": _spec(_CLI, (), _NOT_BIG),
    "tinnhiem/cadre_output.py": _spec((*_CLI, "tests/cli/test_cadre_output.py", "tests/cli/test_stages.py"), (), _NOT_BIG),
    "tinnhiem/tallies.py": _spec((*_CLI, _IO + "test_one_integer_rule_for_counts"), (), _NOT_BIG),
    "tinnhiem/roster.py": _spec((*_CLI, _IO + "test_one_integer_rule_for_years_in_the_roster",
                                 _IO + "test_a_duplicate_id_never_blames_a_valid_row_for_a_rejected_one"), (), _NOT_BIG),
}
