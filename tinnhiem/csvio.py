"""CSV plumbing shared by the roster and tally readers and the CSV writer.

Takes a path; produces the decoded header and rows with their line numbers (the header is line 1),
the file's SHA-256, or an :class:`InputError` (exit 2) when the file cannot be used at all:
unreadable, not UTF-8 (a BOM is allowed), not CSV (NUL bytes, unbalanced quotes), no header, or a
required column missing (with a did-you-mean hint). Also makes output cells safe to open in a
spreadsheet (no cell taken from input text starts a formula).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsl.diagnostics import did_you_mean

csv.field_size_limit(1 << 24)


@dataclass(frozen=True)
class InputError(Exception):
    """A file that cannot be used: rendered as ``file:line: error: message`` with a help line."""

    file: str
    line: int
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        out = f"{where}: error: {self.message}"
        return out + (f"\nhelp: {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]
    width: int  # number of fields the line actually had


@dataclass
class CsvFile:
    path: str
    header: list[str]
    sha256: str
    rows: Iterator[Row]


def open_csv(path: str, required: Sequence[str], what: str) -> CsvFile:
    """Open and check a CSV file's header; rows are decoded lazily (streamed)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(path, 0, f"no such {what} file") from None
    except IsADirectoryError:
        raise InputError(path, 0, f"{path} is a directory, not a {what} file") from None
    except OSError as exc:
        raise InputError(path, 0, f"cannot read the {what} file: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, line, f"the {what} file is not UTF-8 (byte 0x{data[exc.start]:02x})",
                         "save it as 'CSV UTF-8' (in Excel: Save As → CSV UTF-8)") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(path, line, f"the {what} file is not a CSV text file (it contains NUL bytes)")
    if not text.strip():
        raise InputError(path, 1, f"the {what} file is empty", "the first line must be the header: " + ",".join(required))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(path, 1, f"the header line is not valid CSV: {exc}") from None
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        hints = [h for h in (did_you_mean(m, header) for m in missing) if h]
        hint = hints[0] if hints else "the header must contain: " + ",".join(required)
        cols = ", ".join(f"'{m}'" for m in missing)
        raise InputError(path, 1, f"missing column{'s' if len(missing) > 1 else ''} {cols} in the {what} file", hint)
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise InputError(path, 1, f"column '{dupes[0]}' appears twice in the header")
    return CsvFile(path, header, digest, _rows(path, reader, header))


def _rows(path: str, reader, header: list[str]) -> Iterator[Row]:
    while True:
        line = reader.line_num + 1  # the line a row starts on (a quoted field may span lines)
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, line, f"not valid CSV: {exc}", "check the quotes on this line") from None
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        values = {h: (fields[i] if i < len(fields) else "") for i, h in enumerate(header)}
        yield Row(line, values, len(fields))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula (input text starting with = + - @)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def sha256_file(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
