"""A pytest plugin for the mutation run (``-p tests.mutation.plugin``): the Hypothesis profile ``mutation``.

Loaded before ``tests/conftest.py``, which then loads the profile named by ``HYPOTHESIS_PROFILE``: the
``ci`` profile (seeded, derandomised) without the shrink phase. A mutant is killed by the first failing
example; shrinking it (up to minutes for a random policy) would tell nobody anything.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

settings.register_profile("mutation", max_examples=200, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow],
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
