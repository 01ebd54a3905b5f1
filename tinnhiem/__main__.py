"""``python -m tinnhiem`` — the same as the ``tinnhiem`` command (:mod:`tinnhiem.entry`)."""

from tinnhiem.entry import run

run()
