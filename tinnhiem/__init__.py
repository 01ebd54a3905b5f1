"""tinnhiem: the command line and the readers/writers of rosters, tallies and reports.

Sits on top of :mod:`dsl` (the language and the evaluator) and :mod:`checker` (the proofs).
"""

__version__ = "0.1.0"
