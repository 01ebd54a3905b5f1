"""The tinnhiem policy language.

Takes policy text (``.policy`` files) and produces, through parse → syntax tree → resolve/type-check →
IR, a compiled evaluator. Public entry points:

- :func:`dsl.loader.load_policy` — path → :class:`dsl.ir.Policy` (raises :class:`dsl.diagnostics.PolicyError`);
- :func:`dsl.evaluator.compile_policy` — IR → :class:`dsl.evaluator.Evaluator`.

This package imports neither z3 nor rich.
"""
