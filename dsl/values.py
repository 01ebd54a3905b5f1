"""The values a cell of an input can hold, read by one rule everywhere.

Takes the text of a cell (already NFC-normalised by the reader); produces a whole number or a
boolean, or ``None`` when the text is not one. Every reader (roster facts, tally counts, ``--year``)
and every backend that must agree with them (the Z3 encoder's domain of an ``int`` fact) reads
its rule here:

- a **whole number** is written in ASCII digits ``0``–``9`` only, at most :data:`MAX_DIGITS` of
  them, with surrounding white space ignored: no sign, no ``_``, no full-width or other digits, no
  exponent. So every number a reader accepts lies in ``0 … MAX_WHOLE``.
- a **boolean** is ``true``/``false``, ``yes``/``no``, ``1``/``0``, ``có``/``không``, in any case,
  and ``x`` (a ticked box) for true; an empty cell is false (the reader's rule).
- a **year** of a roster fact lies in :data:`FACT_YEARS`; a vote year in :data:`VOTE_YEARS`.
"""

from __future__ import annotations

import unicodedata

#: The most digits a whole number may have (so it is below 10**18 and fits a 64-bit integer).
MAX_DIGITS = 18
#: The largest whole number an input can hold.
MAX_WHOLE = 10**MAX_DIGITS - 1

#: The years a ``year`` fact of a roster may hold, and the vote years a command accepts (``--year``).
FACT_YEARS = (1900, 2100)
VOTE_YEARS = (1945, 2100)

TRUE = frozenset({"true", "yes", "1", "có", "x"})
FALSE = frozenset({"false", "no", "0", "không"})


def whole_number(raw: str) -> int | None:
    """``raw`` as a whole number (see the module docstring), else None."""
    text = raw.strip()
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def why_not_whole(raw: str, name: str) -> str:
    """The reason ``raw`` is not a whole number, for a message naming the field ``name``."""
    text = raw.strip()
    if not text:
        return f"{name} is empty"
    if text.isascii() and text.isdigit():
        return f"{name} has more than {MAX_DIGITS} digits"
    shown = text if len(text) <= 40 else text[:37] + "…"
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        return f"{name} must not be negative ({shown})"
    digits_only = "" if not any(ch.isdigit() or ch == "_" for ch in text) else " (write it in the digits 0-9 only)"
    return f"{name} must be a whole number, not '{shown}'{digits_only}"


def boolean(raw: str) -> bool | None:
    """``raw`` as a boolean (see the module docstring), else None; any case, any normalisation."""
    word = unicodedata.normalize("NFC", raw.strip()).casefold()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    return None
