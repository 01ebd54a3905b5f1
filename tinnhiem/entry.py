"""The program's entry point (the ``tinnhiem`` script and ``python -m tinnhiem``).

Takes nothing but ``sys.argv``; produces the exit code of :func:`tinnhiem.cli.main`. It exists so that
Ctrl-C is "interrupted, exit 130" from the very first instant: while the command's modules are still
being imported (Z3 and rich take a moment), a ``KeyboardInterrupt`` would otherwise end in a traceback.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    try:
        from tinnhiem.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("tinnhiem: interrupted\n")
        sys.stderr.flush()
        os._exit(130)
    raise SystemExit(main())
