"""``python -m tinnhiem`` — the same as the ``tinnhiem`` command."""

from tinnhiem.cli import main

raise SystemExit(main())
