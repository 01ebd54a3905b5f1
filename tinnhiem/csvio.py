"""CSV plumbing shared by the roster and tally readers and the CSV writers.

Takes a path; produces the checked header and a stream of rows with their line numbers (the header is
line 1), the file's SHA-256 (computed while the rows are read), or an :class:`InputError` (exit 2)
when the file cannot be used at all: unreadable, not UTF-8 (a BOM is allowed), not CSV (NUL bytes,
unbalanced quotes), no header, or a required column missing (with a did-you-mean hint). Also makes
output cells safe to open in a spreadsheet (no cell taken from input text starts a formula).

The file is never read whole: it is decoded and parsed a buffer at a time, so memory does not grow
with its size. A problem found in the body of the file (a byte that is not UTF-8, a NUL byte, a
broken quote) is raised as an :class:`InputError` when the stream reaches it, with its line; the
readers consume a whole file before anything is written, so a bad file still ends the command with
exit 2 and no output.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from dsl.diagnostics import did_you_mean

csv.field_size_limit(1 << 24)

_BUFFER = 1 << 20  # bytes read from the file at a time


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


class Row(NamedTuple):
    """One row: its line, its fields by column name (padded with ""), how many fields the line had."""

    line: int
    values: dict[str, str]
    width: int


class _HashingReader(io.RawIOBase):
    """The bytes of a file, hashed as they are read; a NUL byte stops the stream (see :func:`_nul_error`)."""

    def __init__(self, fh: io.BufferedReader) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        data = self._fh.read(len(buffer))
        if not data:
            self.done = True
            return 0
        if b"\x00" in data:
            raise _NulByte
        self.digest.update(data)
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


class _NulByte(Exception):
    pass


@dataclass
class CsvFile:
    """An opened CSV file: its header, then its rows, read once, as a stream.

    ``records`` yields ``(line, fields)`` (the fastest form; the readers of this package use it);
    ``rows`` yields the same rows as :class:`Row` (a dict per row). Consume one of them, once.
    """

    path: str
    header: list[str]
    _reader: _HashingReader = field(repr=False)
    records: Iterator[tuple[int, list[str]]] = field(repr=False)

    @property
    def rows(self) -> Iterator[Row]:
        header, width = self.header, len(self.header)
        for line, fields in self.records:
            if len(fields) == width:
                yield Row(line, dict(zip(header, fields)), width)  # the usual case, at C speed
            else:
                yield Row(line, {h: (fields[i] if i < len(fields) else "") for i, h in enumerate(header)}, len(fields))

    @property
    def sha256(self) -> str:
        """The SHA-256 of the file's bytes (hashed while streaming; read again if asked before the end)."""
        if self._reader.done:
            return self._reader.digest.hexdigest()
        return sha256_file(self.path)


def open_csv(path: str, required: Sequence[str], what: str) -> CsvFile:
    """Open a CSV file and check its header; the rows are decoded lazily (streamed)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed when the stream ends
    except FileNotFoundError:
        raise InputError(path, 0, f"no such {what} file") from None
    except IsADirectoryError:
        raise InputError(path, 0, f"{path} is a directory, not a {what} file") from None
    except OSError as exc:
        raise InputError(path, 0, f"cannot read the {what} file: {exc.strerror or exc}") from None
    raw = _HashingReader(fh)
    text = io.TextIOWrapper(io.BufferedReader(raw, _BUFFER), encoding="utf-8-sig", newline="")
    try:
        reader, header = _header(path, what, required, text)
    except BaseException:
        text.close()
        raise
    return CsvFile(path, header, raw, _records(path, what, reader, text))


def _header(path: str, what: str, required: Sequence[str], text: io.TextIOWrapper):  # type: ignore[no-untyped-def]
    """The CSV reader, positioned after the header, and the header (checked)."""
    lead: list[str] = []  # lines of whitespace, then the first line that has text
    try:
        while not lead or not lead[-1].strip():
            line = text.readline()
            if not line:
                raise InputError(path, 1, f"the {what} file is empty", "the first line must be the header: " + ",".join(required))
            lead.append(line)
        reader = csv.reader(itertools.chain(lead, text), strict=True)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise InputError(path, 1, f"the header line is not valid CSV: {exc}") from None
    except UnicodeDecodeError:
        raise _decode_error(path, what) from None
    except _NulByte:
        raise _nul_error(path, what) from None
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
    return reader, header


def _records(path: str, what: str, reader, text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    try:
        while True:
            line = reader.line_num + 1  # the line a row starts on (a quoted field may span lines)
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(path, line, f"not valid CSV: {exc}", "check the quotes on this line") from None
            except UnicodeDecodeError:
                raise _decode_error(path, what) from None
            except _NulByte:
                raise _nul_error(path, what) from None
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            yield line, fields
    finally:
        text.close()


def _decode_error(path: str, what: str) -> InputError:
    # The error path only: read the file again to name the line of the first byte that is not UTF-8.
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:start].count(b"\n") + 1
        return InputError(path, line, f"the {what} file is not UTF-8 (byte 0x{data[start]:02x})",
                          "save it as 'CSV UTF-8' (in Excel: Save As → CSV UTF-8)")
    return InputError(path, 0, f"the {what} file changed while it was read")  # pragma: no cover


def _nul_error(path: str, what: str) -> InputError:
    data = Path(path).read_bytes()
    line = data[: max(data.find(b"\x00"), 0)].count(b"\n") + 1
    return InputError(path, line, f"the {what} file is not a CSV text file (it contains NUL bytes)")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula (input text starting with = + - @)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def safe_text(text: str) -> str:
    """:func:`safe_cell` for a string (the fast path of the CSV writers)."""
    if text[:1] in _FORMULA_CHARS and not _is_number(text):
        return "'" + text
    return text


_FORMULA_CHARS = frozenset(_FORMULA_START)


def _is_number(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_BUFFER), b""):
            digest.update(chunk)
    return digest.hexdigest()
