"""``python -m bench``: run :func:`bench.run.main`."""

from bench.run import main

raise SystemExit(main())
