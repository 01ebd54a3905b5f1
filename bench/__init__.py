"""Benchmarks of tinnhiem: ``python -m bench`` (see :mod:`bench.run`). Not shipped in the package."""
