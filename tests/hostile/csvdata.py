"""CSV inputs for the hostile cases: a small valid roster and tally file, and a builder that writes them
in any dialect while keeping count of what it wrote.

Takes a header and rows (fields, or :class:`Raw` text written as is; :class:`Bad` and :class:`BadRaw`
mark a row the reader must reject); produces a :class:`Csv`: the bytes (any separator, line ending,
BOM, encoding), the number of *data lines* — records after the header plus the empty lines before
it, which is what ``rows_read + rows_skipped`` must add up to — and the line each planted bad row
starts on (a quoted field with a line break makes a record span lines).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

ROSTER_HEADER = ["cadre_id", "full_name", "level", "unit", "titles", "retirement_notice", "appointed_year"]
TALLY_HEADER = ["cadre_id", "venue", "issued", "collected", "high", "confidence", "low", "convened", "present"]

# With the bundled policy (vote year 2023): R001 → hdnd; R002 → noi_cong_tac; R003 → cap_uy, hdnd;
# R004 out of scope (district truong_dvsn); R005 exempt (retirement notice).
ROSTER_ROWS = [
    ["R001", "Lê Văn Hùng", "province", "Sở Y tế", "truong_so;uv_ubnd", "false", "2020"],
    ["R002", "Nguyễn Thị Hà", "province", "Sở Tài chính", "pho_so", "false", "2021"],
    ["R003", "Trịnh Xuân Nam", "district", "Huyện ủy Hoằng Hóa", "bi_thu;ct_hdnd", "false", "2020"],
    ["R004", "Phạm Đức Thắng", "district", "Trung tâm Y tế huyện", "truong_dvsn", "false", "2020"],
    ["R005", "Đỗ Thị Lan", "province", "UBND tỉnh", "pct_ubnd", "true", "2019"],
]
TALLY_ROWS = [
    ["R001", "hdnd", "80", "80", "70", "8", "2", "84", "80"],
    ["R002", "noi_cong_tac", "45", "44", "30", "13", "1", "50", "45"],
    ["R003", "cap_uy", "40", "40", "20", "10", "10", "42", "40"],
    ["R003", "hdnd", "35", "35", "30", "3", "2", "38", "35"],
]
# For the small policy of the policy family (titles bi_thu, ct_hdnd, gd_so).
MINI_ROSTER_ROWS = [
    ["M001", "Lê Văn Hùng", "province", "Sở Y tế", "gd_so", "false", "2020"],
    ["M002", "Trịnh Xuân Nam", "district", "Huyện ủy", "bi_thu;ct_hdnd", "false", "2020"],
]


class Raw(str):
    """A line written as it is (no quoting): ``Raw("")`` is a blank line."""


class BadRaw(Raw):
    """A raw line the reader must reject."""


class Bad(list):  # type: ignore[type-arg]
    """A row the reader must reject."""


@dataclass(frozen=True)
class Csv:
    data: bytes
    lines: int  # data lines: records after the header + empty lines before it
    bad: tuple[int, ...]  # the line each planted bad row starts on

    @property
    def text_lines(self) -> int:
        return self.data.count(b"\n")


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _record(fields: list[str] | str, sep: str) -> str:
    if isinstance(fields, Raw):
        return str(fields)
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="").writerow(fields)
    return buf.getvalue()


def build(header: list[str] | str, rows: list, *, sep: str = ",", eol: str = "\n", before: tuple[str, ...] = (),
          bom: bool = False, encoding: str = "utf-8", final_eol: bool = True) -> Csv:
    """The file; ``before``: raw lines (blank ones) written before the header."""
    parts: list[str] = list(before)
    parts.append(header if isinstance(header, str) else sep.join(header))
    bad: list[int] = []
    for row in rows:
        text = _record(row, sep)
        if isinstance(row, (Bad, BadRaw)):
            prefix = eol.join(parts) + eol
            bad.append(len(_NEWLINE.findall(prefix)) + 1)
        parts.append(text)
    text = eol.join(parts) + (eol if final_eol else "")
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding] + data
    return Csv(data, len(rows) + len(before), tuple(bad))


def roster(rows: list | None = None, **kw: object) -> Csv:
    return build(ROSTER_HEADER, ROSTER_ROWS if rows is None else rows, **kw)  # type: ignore[arg-type]


def tallies(rows: list | None = None, **kw: object) -> Csv:
    return build(TALLY_HEADER, TALLY_ROWS if rows is None else rows, **kw)  # type: ignore[arg-type]


def with_row(base: list, at: int, row: list | str) -> list:
    """``base`` with ``row`` inserted before position ``at``."""
    return [*base[:at], row, *base[at:]]


def replace_field(row: list[str], header: list[str], name: str, value: str, bad: bool = True) -> list[str]:
    out = list(row)
    out[header.index(name)] = value
    return Bad(out) if bad else out


def big_roster_bytes(n: int = 1000) -> bytes:
    """A valid roster of ``n`` rows (enough output that a closed pipe is met while writing)."""
    rows = []
    for i in range(n):
        base = ROSTER_ROWS[i % len(ROSTER_ROWS)]
        rows.append([f"B{i:05d}", *base[1:]])
    return roster(rows).data
