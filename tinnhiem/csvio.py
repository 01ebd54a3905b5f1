"""CSV plumbing shared by the roster and tally readers and the CSV writers.

Takes a path (``-``: standard input), opened once by :func:`tinnhiem.files.open_input`; produces the
checked header and a stream of rows with their line numbers (counted from the first line of the
file), the SHA-256 of every byte read (computed while the rows are read), or an :class:`InputError`
(exit 2) when the file cannot be used at all: unreadable, not UTF-8 (a BOM is allowed), a workbook or
UTF-16 text instead of CSV (with a hint to save as CSV UTF-8), NUL bytes, unbalanced quotes, no
header, or a required column missing (with a did-you-mean hint). Also makes output cells safe to
open in a spreadsheet (no cell taken from input text starts a formula).

What is accepted beside the plain form: blank lines and rows of empty cells (``,,,,``) anywhere,
before the header too — skipped and counted (:attr:`CsvFile.skipped`); a header whose names differ
from the columns of the brief only in case or surrounding spaces (``Cadre_ID``); a file separated by
``;`` or by tabs (what Excel writes in locales with a decimal comma), recognised when its header
splits into the required columns that way and not with commas. Every line is normalised to NFC, so
a name typed with combining accents equals the same name typed precomposed.

The file is never read whole, and never read twice: it is decoded and parsed a buffer at a time, so
memory does not grow with its size, and a pipe works as a file does. A problem found in the body of
the file (a byte that is not UTF-8, a NUL byte, a broken quote, a read error) is raised as an
:class:`InputError` when the stream reaches it, with its line; the readers consume a whole file
before anything is written, so a bad file still ends the command with exit 2 and no output.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from dsl.diagnostics import did_you_mean
from tinnhiem.files import FileError, Input, open_input

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
    """The bytes of an input opened once, hashed and checked as they are read.

    Counts the bytes and the line breaks that went by (for progress and for naming the line of a
    problem), and stops the stream with :class:`_BadBytes` at the first NUL byte or the first byte
    that is not UTF-8 — so the line of a problem is known without reading the file again (it may be
    a pipe). The first bytes are checked for what spreadsheets write instead of CSV text (a workbook,
    UTF-16 "Unicode text")."""

    def __init__(self, source: Input) -> None:
        self._source = source
        self._fh = source.stream
        self.digest = hashlib.sha256()
        self.done = False
        self.bytes_read = 0
        self._lines = 0  # line breaks before the current chunk
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        data = self._fh.read(len(buffer))
        if not data:
            if not self.done:
                self.done = True
                try:
                    self._utf8.decode(b"", final=True)
                except UnicodeDecodeError:
                    raise _BadBytes("truncated", self._lines + 1, 0) from None
            return 0
        if self.bytes_read == 0:
            _sniff(data)
        if b"\x00" in data:
            at = data.index(b"\x00")
            raise _BadBytes("nul", self._lines + _breaks(data, at) + 1, 0)
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError as exc:
            at = max(exc.start, 0)
            byte = data[at] if at < len(data) else 0
            raise _BadBytes("utf8", self._lines + _breaks(data, at) + 1, byte) from None
        self.digest.update(data)
        self.bytes_read += len(data)
        self._lines += _breaks(data, len(data))
        n = len(data)
        buffer[:n] = data
        return n

    def drain(self) -> None:
        """Read (and hash) what is left of the input, so the digest is that of every byte."""
        while not self.done:
            if not self.readinto(bytearray(_BUFFER)):
                break

    def close(self) -> None:
        self._source.close()
        super().close()


def _breaks(data: bytes, end: int) -> int:
    """Line breaks in ``data[:end]``: ``\\n``, ``\\r\\n`` and a lone ``\\r`` (old Mac files) each count one."""
    lf = data.count(b"\n", 0, end)
    cr = data.count(b"\r", 0, end)
    return lf + cr - data.count(b"\r\n", 0, end) if cr else lf


class _BadBytes(Exception):
    def __init__(self, kind: str, line: int, byte: int) -> None:
        super().__init__(kind)
        self.kind, self.line, self.byte = kind, line, byte


class _Foreign(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _sniff(head: bytes) -> None:
    """Raise :class:`_Foreign` for the files Excel writes that are not CSV UTF-8 text."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Foreign("is UTF-16 text (Excel's \"Unicode Text\"), not UTF-8",
                       "save it as 'CSV UTF-8 (Comma delimited)' (in Excel: File → Save As → CSV UTF-8)")
    if head.startswith(b"PK\x03\x04"):
        raise _Foreign("is a spreadsheet workbook (.xlsx/.ods), not a CSV text file",
                       "save the sheet as 'CSV UTF-8 (Comma delimited)' (in Excel: File → Save As → CSV UTF-8)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Foreign("is an old Excel workbook (.xls), not a CSV text file",
                       "save the sheet as 'CSV UTF-8 (Comma delimited)' (in Excel: File → Save As → CSV UTF-8)")


@dataclass
class CsvFile:
    """An opened CSV file: its header, then its rows, read once, as a stream.

    ``records`` yields ``(line, fields)`` (the fastest form; the readers of this package use it);
    ``rows`` yields the same rows as :class:`Row` (a dict per row). Consume one of them, once.
    ``skipped`` counts the lines that held no data (blank, or only separators), before and after the
    header; it is complete when the stream is.
    """

    path: str
    header: list[str]
    _reader: _HashingReader = field(repr=False)
    records: Iterator[tuple[int, list[str]]] = field(repr=False)
    delimiter: str = ","
    size: int | None = None  # bytes, when the input is a regular file
    skipped: int = 0

    @property
    def rows(self) -> Iterator[Row]:
        header, width = self.header, len(self.header)
        for line, fields in self.records:
            if len(fields) == width:
                yield Row(line, dict(zip(header, fields)), width)  # the usual case, at C speed
            else:
                yield Row(line, {h: (fields[i] if i < len(fields) else "") for i, h in enumerate(header)}, len(fields))

    @property
    def bytes_read(self) -> int:
        return self._reader.bytes_read

    @property
    def sha256(self) -> str:
        """The SHA-256 of every byte of the input (what is left unread is read through now)."""
        if not self._reader.done:
            with contextlib.suppress(_BadBytes, _Foreign, OSError, ValueError):
                self._reader.drain()
        return self._reader.digest.hexdigest()


def open_csv(path: str, required: Sequence[str], what: str) -> CsvFile:
    """Open a CSV input once (``-``: standard input) and check its header; the rows are streamed."""
    try:
        source = open_input(path, what)
    except FileError as exc:
        raise InputError(path, 0, exc.message, exc.hint) from None
    raw = _HashingReader(source)
    text = io.TextIOWrapper(io.BufferedReader(raw, _BUFFER), encoding="utf-8-sig", newline="")
    try:
        lines, header, delimiter, before = _header(path, what, required, text, raw)
    except BaseException:
        text.close()
        raise
    f = CsvFile(path, header, raw, iter(()), delimiter, source.size, before)
    f.records = _records(path, what, lines, text, raw, f, delimiter, before)
    return f


def _nfc(text: Iterable[str]) -> Iterator[str]:
    """Each line in NFC (a line that is ASCII is already)."""
    normalize = unicodedata.normalize
    for line in text:
        yield line if line.isascii() else normalize("NFC", line)


def _is_empty_line(line: str) -> bool:
    """A line with no data: blank, or only separators, spaces and empty quotes (Excel's ``,,,,,,`` rows)."""
    return not line.strip().strip(",;\t \"").strip()


def _header(path: str, what: str, required: Sequence[str], text: io.TextIOWrapper,
            raw: _HashingReader) -> tuple[Iterator[str], list[str], str, int]:
    """The lines after the header, the header (checked; matched to ``required`` ignoring case and
    surrounding spaces), its separator and the number of empty lines before it."""
    lines = _nfc(text)
    before = 0
    try:
        for first in lines:
            if not _is_empty_line(first):
                break
            before += 1
        else:
            raise InputError(path, before + 1 if before else 1, f"the {what} file is empty",
                             "the first line must be the header: " + ",".join(required))
    except (UnicodeDecodeError, _BadBytes, _Foreign, OSError) as exc:
        raise _stream_error(path, what, exc, 1) from None
    line_no = before + 1
    header: list[str] = []
    delimiter = ","
    for sep in (",", ";", "\t"):
        try:
            cells = next(csv.reader([first], delimiter=sep, strict=True))
        except csv.Error as exc:
            if sep == ",":
                raise InputError(path, line_no, f"the header line is not valid CSV: {exc}") from None
            continue
        cells = _canonical(cells, required)
        if sep == ",":
            header = cells
        if all(c in cells for c in required):
            header, delimiter = cells, sep
            break
    missing = [c for c in required if c not in header]
    if missing:
        near = header if len(header) <= 500 else [h for h in header if len(h) <= 40][:500]  # bounded cost
        hints = [h for h in (did_you_mean(m, near) for m in missing) if h]
        hint = hints[0] if hints else "the header must contain: " + ",".join(required)
        cols = ", ".join(f"'{m}'" for m in missing)
        raise InputError(path, line_no, f"missing column{'s' if len(missing) > 1 else ''} {cols} in the {what} file", hint)
    counts = Counter(header)
    dupes = sorted(h for h, n in counts.items() if n > 1 and h)
    if dupes:
        raise InputError(path, line_no, f"column '{dupes[0]}' appears twice in the header")
    return lines, header, delimiter, before


def _canonical(cells: list[str], required: Sequence[str]) -> list[str]:
    """Header cells stripped, and spelled as the required column they match ignoring case."""
    by_fold = {c.casefold(): c for c in required}
    out = []
    for cell in cells:
        name = cell.strip()
        out.append(name if name in by_fold.values() else by_fold.get(name.casefold(), name))
    return out


def _records(path: str, what: str, lines: Iterator[str], text: io.TextIOWrapper, raw: _HashingReader, f: CsvFile,
             delimiter: str, before: int) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    offset = before + 1  # the lines before the body: empty lines, then the header
    try:
        while True:
            line = reader.line_num + offset + 1  # the line a row starts on (a quoted field may span lines)
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(path, line, f"not valid CSV: {exc}", "check the quotes on this line") from None
            except (UnicodeDecodeError, _BadBytes, _Foreign, OSError) as exc:
                raise _stream_error(path, what, exc, line) from None
            if not fields or (not fields[0].strip() and not "".join(fields).strip()):
                f.skipped += 1  # a blank line, or Excel's row of empty cells
                continue
            yield line, fields
    finally:
        text.close()


def _stream_error(path: str, what: str, exc: BaseException, line: int) -> InputError:
    """The :class:`InputError` for a problem met while streaming (no second read of the file)."""
    match exc:
        case _BadBytes(kind="nul"):
            return InputError(path, exc.line, f"the {what} file is not a CSV text file (it contains NUL bytes)",
                              "save it as 'CSV UTF-8 (Comma delimited)'")
        case _BadBytes(kind="utf8"):
            return InputError(path, exc.line, f"the {what} file is not UTF-8 (byte 0x{exc.byte:02x})",
                              "save it as 'CSV UTF-8' (in Excel: Save As → CSV UTF-8)")
        case _BadBytes():
            return InputError(path, exc.line, f"the {what} file is not UTF-8 (it ends inside a character)",
                              "save it as 'CSV UTF-8' (in Excel: Save As → CSV UTF-8)")
        case _Foreign():
            return InputError(path, 0, f"the {what} file {exc.message}", exc.hint)
        case OSError():
            return InputError(path, line, f"cannot read the {what} file: {exc.strerror or type(exc).__name__}")
        case _:
            return InputError(path, line, f"the {what} file is not UTF-8")


def shown(text: str, limit: int = 60) -> str:
    """Input text quoted in a message: at most ``limit`` characters (a 1 MB cell is not echoed whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
