"""The hostile cases, as data: six families generated from small tables.

Each :class:`~tests.hostile.harness.Case` names its family and itself, the command line, the files
it writes, the exit codes allowed and what else must hold (row accounting, messages, files left
untouched). :data:`CASES` is the whole list; :mod:`tests.hostile.lsp_cases` adds the language
server's.

Expectations follow README.md and docs/architecture.md: ``plan``/``evaluate``/``explain`` exit 0 ok,
1 some rows rejected (the others still decided), 2 unusable input or usage error; ``check`` 0
proved, 1 refuted, 2 errors; a closed stdout pipe ends quietly with 141; Ctrl-C exits 130. Where two
answers are both right (a policy that is accepted or refused with a diagnostic), the case allows
both and says why.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from tests.hostile import csvdata as C
from tests.hostile.csvdata import Bad, BadRaw, Csv, Raw
from tests.hostile.harness import (
    ROOT,
    Account,
    Case,
    Check,
    cadre_field,
    no_leftovers,
    no_raw_control,
    not_created,
    not_in_output,
    reasons_at_most,
    stderr_at_most,
    stderr_empty,
    stderr_has,
    stdout_has,
    unchanged,
    venue_tally,
)

OK, REJ, BAD = frozenset({0}), frozenset({1}), frozenset({2})
MB = 1 << 20
BUNDLED = {name: (ROOT / "policy" / name).read_bytes() for name in ("thanhhoa-kh134.policy", "qd96.policy", "nq96-qh15.policy")}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# ---- constructors ---------------------------------------------------------------------------------------


def plan_case(family: str, name: str, roster: Csv, *, expect: Iterable[int] | None = None, fmt: str = "json",
              extra: Iterable[str] = (), checks: tuple[Check, ...] = (), why: str = "", roster_name: str = "roster.csv",
              files: dict | None = None, exact: bool = True, **kw: object) -> Case:
    exp = frozenset(expect) if expect is not None else (REJ if roster.bad else OK)
    account = None
    if fmt in ("json", "jsonl"):
        account = Account("plan", fmt, roster=roster_name, roster_lines=roster.lines,
                          rejected=frozenset((roster_name, ln) for ln in roster.bad) if exact else None)
    return Case(family, name, ["plan", "--roster", roster_name, "--format", fmt, *extra], exp,
                files={roster_name: roster.data, **(files or {})}, account=account, checks=checks, why=why, **kw)  # type: ignore[arg-type]


def evaluate_case(family: str, name: str, roster: Csv, tallies: Csv, *, expect: Iterable[int] | None = None,
                  fmt: str = "json", extra: Iterable[str] = (), checks: tuple[Check, ...] = (), why: str = "",
                  exact: bool = True, roster_name: str = "roster.csv", tallies_name: str = "tallies.csv", **kw: object) -> Case:
    bad = {(roster_name, ln) for ln in roster.bad} | {(tallies_name, ln) for ln in tallies.bad}
    exp = frozenset(expect) if expect is not None else (REJ if bad else OK)
    account = None
    if fmt in ("json", "jsonl"):
        account = Account("evaluate", fmt, roster=roster_name, tallies=tallies_name, roster_lines=roster.lines,
                          tally_lines=tallies.lines, rejected=frozenset(bad) if exact else None)
    return Case(family, name, ["evaluate", "--roster", roster_name, "--tallies", tallies_name, "--format", fmt, *extra], exp,
                files={roster_name: roster.data, tallies_name: tallies.data}, account=account, checks=checks, why=why, **kw)  # type: ignore[arg-type]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


R, T = C.ROSTER_ROWS, C.TALLY_ROWS
RH, TH = C.ROSTER_HEADER, C.TALLY_HEADER
NEW_R = ["R009", "Hoàng Văn Bình", "province", "Sở Nội vụ", "pho_so", "false", "2020"]  # valid: noi_cong_tac


def roster_with(field: str, value: str, bad: bool = True) -> list:
    """The base roster with a row R009 whose ``field`` is ``value``, at line 4."""
    return C.with_row(R, 2, C.replace_field(NEW_R, RH, field, value, bad))


# ---- 1. encodings and dialects ----------------------------------------------------------------------------

EOLS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
SEPS = {"comma": ",", "semicolon": ";", "tab": "\t"}


def encodings() -> list[Case]:
    fam = "encodings"
    out: list[Case] = []
    bad_title = Bad(["R006", "Lý Thị Mai", "province", "Sở Xây dựng", "truong_soo", "false", "2020"])
    for en, sn in (("lf", "semicolon"), ("crlf", "semicolon"), ("cr", "comma"), ("cr", "tab")):
        eol, sep, bom = EOLS[en], SEPS[sn], en != "lf"  # a BOM with CRLF and CR, as Excel writes
        out.append(plan_case(fam, f"roster-{en}-{sn}{'-bom' if bom else ''}", C.roster([*R, bad_title], sep=sep, eol=eol, bom=bom),
                             why="a dialect Excel writes: read, and the planted bad row rejected at its own line"))
    for en, sn in (("crlf", "semicolon"), ("cr", "tab")):
        tal = C.tallies([*T, Bad(["R002", "noi_cong_tac", "45", "44", "30", "13", "-1", "50", "45"])], sep=SEPS[sn], eol=EOLS[en], bom=en == "crlf")
        out.append(evaluate_case(fam, f"tallies-{en}-{sn}", C.roster(), tal, why="tallies in another dialect"))

    # foreign encodings and formats: refused as a whole (exit 2), with a hint, at the right line
    ascii_rows = [["R001", "Le Van Hung", "province", "So Y te", "truong_so;uv_ubnd", "false", "2020"],
                  ["R002", "Nguyen Thi Ha", "province", "So Tai chinh", "pho_so", "false", "2021"],
                  ["R003", "José Müller", "district", "Huyen uy", "bi_thu;ct_hdnd", "false", "2020"]]
    text = C.roster(R).data.decode("utf-8")
    foreign = {
        "utf16le-bom": (b"\xff\xfe" + text.encode("utf-16-le"), ("UTF-16",)),
        "latin1-line4": (C.roster(ascii_rows).data.decode().encode("latin-1"), ("UTF-8", "roster.csv:4:")),
        "latin1-line4-cr-only": (C.roster(ascii_rows, eol="\r").data.decode().encode("latin-1"), ("UTF-8", "roster.csv:4:")),
        "lone-0xff-line3": (C.roster(R[:1]).data + b"R002,Nguy\xff,province,S,pho_so,false,2021\n", ("UTF-8", "roster.csv:3:")),
        "utf8-surrogate-line7": (C.roster(R).data + b"R009,\xed\xa0\x80,province,S,pho_so,false,2021\n", ("UTF-8", "roster.csv:7:")),
        "nul-line3": (C.roster(R[:1]).data + b"R002,Nguy\x00,province,S,pho_so,false,2021\n", ("NUL", "roster.csv:3:")),
        "xlsx-zip": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + bytes(range(256)) * 8, ("workbook",)),
        "xls-ole": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), ("workbook",)),
    }
    for name, (data, says) in foreign.items():
        out.append(Case(fam, f"roster-{name}", ["plan", "--roster", "roster.csv", "--format", "json"], BAD,
                        files={"roster.csv": data}, checks=(stderr_has(*says),),
                        why="a file that is not CSV UTF-8 is refused with a hint (and its line)"))
    t_latin1 = C.tallies(T).data.replace(b"R003,cap_uy", b"R\xe903,cap_uy")
    for name, data, says in (("utf16le-bom", foreign["utf16le-bom"][0], ("UTF-16",)), ("latin1-line4", t_latin1, ("UTF-8", "tallies.csv:4:")),
                             ("xlsx-zip", foreign["xlsx-zip"][0], ("workbook",))):
        out.append(Case(fam, f"tallies-{name}", ["evaluate", "--roster", "roster.csv", "--tallies", "tallies.csv", "--format", "json"],
                        BAD, files={"roster.csv": C.roster().data, "tallies.csv": data}, checks=(stderr_has(*says),),
                        why="a tallies file that is not CSV UTF-8 is refused with a hint"))

    # headers: case, spaces, order; what is refused
    for style, fn in {"upper": str.upper, "spaced": lambda h: f"  {h} "}.items():
        out.append(plan_case(fam, f"roster-header-{style}", C.build([fn(h) for h in RH], R), why="headers that differ only in case or spaces"))
    out.append(evaluate_case(fam, "tallies-header-upper", C.roster(), C.build([h.upper() for h in TH], T)))
    out.append(plan_case(fam, "roster-double-bom", Csv("\ufeff".encode() + C.roster(bom=True).data, 5, ()), expect={0, 2},
                         why="a second BOM: read, or refused with a message (either is right)"))
    out.append(Case(fam, "roster-header-missing-column", ["plan", "--roster", "roster.csv"], BAD,
                    files={"roster.csv": C.build([(h if h != "titles" else "title") for h in RH], R).data}, checks=(stderr_has("titles"),)))
    out.append(Case(fam, "roster-header-duplicate-column", ["plan", "--roster", "roster.csv"], BAD,
                    files={"roster.csv": C.build([*RH, "Cadre_ID"], [[*r, r[0]] for r in R]).data}, checks=(stderr_has("twice"),)))
    out.append(Case(fam, "tallies-header-missing-low", ["evaluate", "--roster", "roster.csv", "--tallies", "tallies.csv"], BAD,
                    files={"roster.csv": C.roster().data, "tallies.csv": C.build([h for h in TH if h != "low"], [r[:6] + r[7:] for r in T]).data},
                    checks=(stderr_has("low"),)))
    # extra columns
    extra = C.build([*RH, "ghi_chu"], [[*r, f"ghi chú {r[0]}"] for r in R])
    out.append(plan_case(fam, "roster-extra-column-kept", extra,
                         checks=(cadre_field("R002", lambda c: c.get("extra"), {"ghi_chu": "ghi chú R002"}, "extra"),)))
    out.append(plan_case(fam, "roster-trailing-empty-column", C.build([*RH, ""], [[*r, ""] for r in R])))
    formula = C.build([*RH, "=HYPERLINK(\"http://x\")"], [[*r, "=1+2"] for r in R])
    out.append(plan_case(fam, "roster-formula-extra-column-csv", formula, fmt="csv",
                         checks=(stdout_has("'=HYPERLINK", "'=1+2"),), why="a cell from the input never starts a formula in CSV output"))
    n_cols = 25_000
    wide_header = ",".join([*RH, *(f"x{i}" for i in range(n_cols))])
    wide = C.build(wide_header, [Raw(",".join([*r, *("v" for _ in range(n_cols))])) for r in R[:2]])
    # What matters is the time: read in seconds (a quadratic duplicate-column check took ~10 s here, 50 s for 60,000
    # columns), or refused at once as unusable with a message (a limit on the columns) — both are right.
    out.append(plan_case(fam, "roster-header-25000-columns", wide, timeout=5.0, expect={0, 2},
                         why="a 190 KB header of 25,000 extra columns: read or refused in seconds, never quadratically"))
    # empty and nearly empty files
    out.append(plan_case(fam, "roster-header-only", C.roster([])))
    out.append(plan_case(fam, "roster-header-then-empty-lines", C.roster([Raw(""), Raw(""), Raw(",,,,,,")])))
    out.append(evaluate_case(fam, "tallies-header-only", C.roster(), C.tallies([]), why="no tallies: planned venues are missing, not rejected"))
    for name, data in {"empty": b"", "empty-lines-only": b"\n\n\r\n,,,,,,\n;;;;\n \t \n"}.items():
        out.append(Case(fam, f"roster-{name}", ["plan", "--roster", "roster.csv"], BAD, files={"roster.csv": data}, checks=(stderr_has("empty"),)))
    # quoting
    quoted = C.roster([*R[:2], ["R006", "Lê\nVăn\r\nHùng \"Bé\"", "province", "Sở Y tế, Dân số", "pho_so", "false", "2020"],
                       Bad(["R007", "Lê Văn Tám", "province", "Sở", "pho_soo", "false", "2020"]), *R[2:]])
    out.append(plan_case(fam, "roster-quoted-comma-newline-quote", quoted,
                         checks=(cadre_field("R006", lambda c: c["unit"], "Sở Y tế, Dân số", "unit"),),
                         why="a quoted field with commas, line breaks and doubled quotes; the bad row after it keeps its own line"))
    out.append(Case(fam, "roster-unterminated-quote", ["plan", "--roster", "roster.csv"], BAD,
                    files={"roster.csv": C.roster(R).data + b'R006,"L\xc3\xaa,province,S,pho_so,false,2020\n'}, checks=(stderr_has("roster.csv:7"),)))
    out.append(Case(fam, "roster-text-after-closing-quote", ["plan", "--roster", "roster.csv"], BAD,
                    files={"roster.csv": C.roster(R).data + b'R006,"Le"x,province,S,pho_so,false,2020\n'}, checks=(stderr_has("roster.csv:7"),)))
    # separators that disagree
    mixed = C.build(RH, [*R[:2], BadRaw(";".join(R[2][:4]) + ';"' + R[2][4] + '";' + ";".join(R[2][5:])), *R[3:]])
    out.append(plan_case(fam, "roster-comma-header-semicolon-row", mixed))
    semi = C.build(RH, [*R[:2], BadRaw(";".join(R[2])), *R[3:]], sep=";")
    out.append(plan_case(fam, "roster-semicolon-unquoted-titles", semi, why="in a ';' file, 'bi_thu;ct_hdnd' unquoted is two fields"))
    # Unicode
    out.append(plan_case(fam, "roster-nfd", C.roster([[nfd(x) for x in r] for r in R]), checks=(
        cadre_field("R003", lambda c: c["full_name"], "Trịnh Xuân Nam", "full_name (NFC)"),
        cadre_field("R003", lambda c: c["unit"], "Huyện ủy Hoằng Hóa", "unit (NFC)"))))
    nfd_ids = [[f"Đ{r[0]}ữ", *r[1:]] for r in R]
    out.append(evaluate_case(fam, "nfd-ids-in-roster-nfc-in-tallies", C.roster([[nfd(x) for x in r] for r in nfd_ids]),
                             C.tallies([[f"Đ{t[0]}ữ", *t[1:]] for t in T]),
                             checks=(venue_tally("ĐR003ữ", "hdnd", "present"),), why="an id typed with combining accents is the same id"))
    odd = C.roster([*R, ["R006", "Lê\u2028Văn\u0085Hùng\x0c\x0b", "province", "Sở\u2029", "pho_so", "false", "2020"]])
    out.append(plan_case(fam, "roster-unicode-line-separators-in-field", odd, why="U+2028, U+0085, FF, VT are not line breaks of a CSV file"))
    out.append(Case(fam, "roster-5mb-garbage-header", ["plan", "--roster", "roster.csv"], BAD, files={"roster.csv": lambda: b"x" * (5 * MB) + b"\n"},
                    checks=(stderr_at_most(4096),), timeout=15.0, why="a 5 MB line that is no header: refused briefly"))
    return out


# ---- 2. row semantics ------------------------------------------------------------------------------------


def rows() -> list[Case]:
    fam = "rows"
    out: list[Case] = []
    accepted = {
        "bool-co": ("retirement_notice", "có"), "bool-KHONG": ("retirement_notice", "KHÔNG"),
        "bool-Co-nfd": ("retirement_notice", nfd("Có")),
        "name-1mb": ("full_name", "Lê" * (MB // 2)),
    }
    for name, (field, value) in accepted.items():
        out.append(plan_case(fam, f"roster-{name}", C.roster(roster_with(field, value, bad=False)), why=f"{field} = {value[:20]!r} is valid"))
    rejected = {
        "bool-ture": ("retirement_notice", "ture"),
        "year-plus": ("appointed_year", "+2020"), "year-fullwidth": ("appointed_year", "２０２０"),
        "year-19-digits": ("appointed_year", "1" * 19), "year-5000-digits": ("appointed_year", "9" * 5000),
        "title-unknown": ("titles", "truong_soo"),
        "id-empty": ("cadre_id", ""), "id-duplicate": ("cadre_id", "R001"),
    }
    for name, (field, value) in rejected.items():
        checks: tuple[Check, ...] = (reasons_at_most(300),)
        if name == "id-duplicate":
            checks += (cadre_field("R001", lambda c: c["line"], 2, "line of the row that stands"),)
        out.append(plan_case(fam, f"roster-{name}", C.roster(roster_with(field, value)), checks=checks,
                             why=f"{field} = {value[:20]!r} is rejected at its line, the other rows decided"))
    out.append(plan_case(fam, "roster-title-1mb-unknown", C.roster(roster_with("titles", "t" * MB)), checks=(reasons_at_most(2000),),
                         why="a 1 MB unknown title code: rejected with a reason a clerk can read, not the cell echoed whole"))
    out.append(plan_case(fam, "roster-too-few-fields", C.roster(C.with_row(R, 2, Bad(NEW_R[:6])))))
    out.append(plan_case(fam, "roster-field-17mb", C.roster(roster_with("full_name", "x" * (17 * MB))), expect=BAD, timeout=20.0,
                         checks=(stderr_at_most(4096),), why="a field over the 16 MB limit makes the file unusable (exit 2), briefly said"))
    first_bad = [C.replace_field(R[0], RH, "level", "tinh"), *R]
    out.append(evaluate_case(fam, "roster-first-rejected-then-valid", C.roster(first_bad), C.tallies(),
                             checks=(cadre_field("R001", lambda c: c["line"], 3, "line"), venue_tally("R001", "hdnd", "present")),
                             why="a rejected row does not stand against a later valid row with its id; its tallies are accepted"))
    out.append(plan_case(fam, "roster-formula-cells-csv", C.roster([*R, ["=1+2", "@SUM(A1)", "province", "-2+3", "pho_so", "false", "2020"]]),
                         fmt="csv", checks=(stdout_has("'=1+2", "'@SUM(A1)", "'-2+3"),)))
    # lines with no data, anywhere
    out.append(plan_case(fam, "roster-empty-lines-in-middle", C.roster([*R[:2], Raw(""), Raw("    "), Raw("\t\t"), *R[2:], Raw("")]),
                         why="blank lines are skipped and counted"))
    out.append(plan_case(fam, "roster-empty-cells-in-middle", C.roster([*R[:2], Raw(",,,,,,"), Raw(",,,,,,,,,,,,,"), Raw(" , , , , , , "), *R[2:]])))
    out.append(plan_case(fam, "roster-quoted-empty-cells-in-middle", C.roster([*R[:2], Raw('"","","","","","",""'), *R[2:]])))
    out.append(plan_case(fam, "roster-empty-lines-before-header", C.roster(R, before=("", ",,,,,,", "   ", ";;;;;;"))))
    out.append(plan_case(fam, "roster-quoted-empty-cells-before-header", C.roster(R, before=('"","","","","","",""',)),
                         why="a row of empty cells before the header is skipped like one after it (README: 'anywhere, before the header too')"))
    out.append(plan_case(fam, "roster-semicolons-line-in-comma-file", C.roster([*R[:2], Raw(";;;;;;"), *R[2:]]), expect={0, 1}, exact=False,
                         why="';;;;;;' in a comma file: skipped, or rejected as a one-field row — but accounted for either way"))
    out.append(evaluate_case(fam, "tallies-empty-lines-everywhere", C.roster(R, before=("",)),
                             C.tallies([T[0], Raw(""), Raw(",,,,,,,,"), *T[1:], Raw("")], before=("", ",,,,,,,,"))))

    # tallies: each planted row at line 3, between valid rows
    def t_with(value: str, field: str = "issued", base: list[str] = T[1], bad: bool = True) -> list:
        return C.with_row([T[0], *T[2:]], 1, C.replace_field(base, TH, field, value, bad))

    t_bad = {
        "low-negative": ("-1", "low"), "issued-plus": ("+45", "issued"), "issued-fullwidth": ("４５", "issued"),
        "issued-5000-digits": ("9" * 5000, "issued"),
        "sum-over-collected": ("40", "high"), "collected-over-issued": ("46", "collected"),
        "cadre-unknown": ("R999", "cadre_id"), "venue-not-planned": ("hdnd", "venue"),
    }
    for name, (value, field) in t_bad.items():
        out.append(evaluate_case(fam, f"tallies-{name}", C.roster(), C.tallies(t_with(value, field)), checks=(reasons_at_most(300),),
                                 why=f"tally {field} = {value[:20]!r} is rejected at its line"))
    zero = C.replace_field(T[1], TH, "collected", "0")
    zero[TH.index("high")] = zero[TH.index("confidence")] = zero[TH.index("low")] = "0"
    out.append(evaluate_case(fam, "tallies-collected-zero", C.roster(), C.tallies(C.with_row([T[0], *T[2:]], 1, Bad(zero)))))
    out.append(evaluate_case(fam, "tallies-duplicate", C.roster(), C.tallies([*T, Bad(T[0])]),
                             checks=(cadre_field("R001", lambda c: c["venues"][0]["low"], 2, "low (the first row stands)"),)))
    big = "999999999999999999"
    out.append(evaluate_case(fam, "tallies-18-digit-counts", C.roster(),
                             C.tallies([["R001", "hdnd", big, big, "999999999999999990", "0", "9", big, big], *T[1:]]),
                             checks=(cadre_field("R001", lambda c: c["venues"][0]["low_share"], "1/111111111111111111", "low_share"),),
                             why="the largest counts allowed (18 digits) are computed exactly"))

    def true_reason(case: Case, r: object, folder: Path) -> list[str]:
        from tests.hostile.harness import report_json
        doc = report_json(case, r, folder)  # type: ignore[arg-type]
        return [f"the reason misdescribes a 2-digit count: {x['reason']!r}" for x in doc.get("rejected", []) if "more than 18 digits" in x["reason"]]

    for name, value in {"tab-before-count": "\t45", "nbsp-before-count": "\u00a045"}.items():
        out.append(evaluate_case(fam, f"tallies-{name}", C.roster(), C.tallies(t_with(value, "issued", bad=False)), expect={0, 1}, exact=False,
                                 checks=(true_reason,), why="whitespace around a count: accepted, or rejected with a true reason"))
    roster_bad = C.roster([*R[:2], C.replace_field(R[2], RH, "titles", "bi_thu;ct_hdndd"), *R[3:]])
    out.append(evaluate_case(fam, "tallies-for-rejected-cadre", roster_bad, C.tallies([*T[:2], Bad(T[2]), Bad(T[3])]), checks=(reasons_at_most(300),),
                             why="tallies of a cadre whose roster row was rejected are rejected, naming that row"))
    out.append(evaluate_case(fam, "tallies-1mb-unknown-cadre", C.roster(), C.tallies([*T, Bad(["Z" * MB, *T[0][1:]])]),
                             checks=(reasons_at_most(2000),), why="a 1 MB cadre id: rejected with a readable reason"))
    # explain
    ex = {"roster.csv": C.roster().data, "tallies.csv": C.tallies([*T, Bad(["R003", "hdnd", "35", "36", "30", "3", "2", "38", "35"])]).data}
    out.append(Case(fam, "explain-with-rejected-tally", ["explain", "R003", "--roster", "roster.csv", "--tallies", "tallies.csv"], REJ, files=ex,
                    why="a rejected tally of this cadre: explained, named, exit 1", checks=(stdout_has("tallies.csv:6"),)))
    out.append(Case(fam, "explain-unknown-cadre", ["explain", "R0003", "--roster", "roster.csv"], BAD, files=ex, checks=(stderr_has("R003"),)))
    out.append(Case(fam, "explain-nfd-id", ["explain", nfd("ĐR003ữ"), "--roster", "roster.csv"], OK,
                    files={"roster.csv": C.roster([[f"Đ{r[0]}ữ", *r[1:]] for r in R]).data},
                    why="an id typed on the command line with combining accents (NFD) is the roster's id (inputs are NFC)"))
    return out


# ---- 3. special files -----------------------------------------------------------------------------------


def special() -> list[Case]:
    fam = "special"
    out: list[Case] = []
    base = {"roster.csv": C.roster().data, "tallies.csv": C.tallies().data}
    ev = ["evaluate", "--roster", "roster.csv", "--tallies", "tallies.csv", "--format", "json"]
    quick = "an unusable input ends quickly with exit 2 and bounded memory"

    for path, name in (("/dev/null", "dev-null"), ("/dev/zero", "dev-zero"), ("/dev/urandom", "dev-urandom"),
                       ("/proc/self/environ", "proc-self-environ"), (".", "directory"), ("missing.csv", "nonexistent"),
                       ("-", "stdin-empty")):
        out.append(Case(fam, f"roster-{name}", ["plan", "--roster", path, "--format", "json"], BAD, timeout=15.0, why=quick))
    for path, name in (("/dev/zero", "dev-zero"), ("/proc/self/environ", "proc-self-environ")):
        out.append(Case(fam, f"tallies-{name}", ["evaluate", "--roster", "roster.csv", "--tallies", path, "--format", "json"], BAD,
                        files={"roster.csv": C.roster().data}, timeout=15.0, why=quick))
    out.append(Case(fam, "roster-unreadable", ["plan", "--roster", "roster.csv"], BAD, files={"roster.csv": C.roster().data},
                    setup=lambda d: os.chmod(d / "roster.csv", 0), skip="running as root: permissions do not apply" if IS_ROOT else None))
    # standard input, FIFOs, pipes
    good = C.roster()
    tal = C.tallies([*T, Bad(T[0])])
    out.append(Case(fam, "roster-stdin-dash", ["plan", "--roster", "-", "--format", "json"], OK, stdin=good.data,
                    account=Account("plan", "json", roster="-", roster_lines=good.lines, rejected=frozenset())))
    out.append(Case(fam, "tallies-dev-stdin", ["evaluate", "--roster", "roster.csv", "--tallies", "/dev/stdin", "--format", "json"], REJ,
                    files={"roster.csv": good.data}, stdin=tal.data,
                    account=Account("evaluate", "json", tallies="/dev/stdin", roster_lines=good.lines, tally_lines=tal.lines,
                                    rejected=frozenset({("/dev/stdin", ln) for ln in tal.bad}))))
    out.append(Case(fam, "tallies-stdin-dash-jsonl", ["evaluate", "--roster", "roster.csv", "--tallies", "-", "--format", "jsonl"], REJ,
                    files={"roster.csv": good.data}, stdin=tal.data,
                    account=Account("evaluate", "jsonl", tallies="-", roster_lines=good.lines, tally_lines=tal.lines,
                                    rejected=frozenset({("-", ln) for ln in tal.bad}))))
    out.append(Case(fam, "roster-and-tallies-both-stdin", ["evaluate", "--roster", "-", "--tallies", "-"], BAD, stdin=good.data,
                    why="standard input cannot be read twice: the second reader finds it empty and says so"))
    out.append(Case(fam, "roster-and-tallies-fifos", ["evaluate", "--roster", "r.fifo", "--tallies", "t.fifo", "--format", "jsonl"], REJ,
                    fifos={"r.fifo": good.data, "t.fifo": tal.data}, timeout=15.0, why="FIFOs fed by another process, each read once",
                    account=Account("evaluate", "jsonl", roster="r.fifo", tallies="t.fifo", roster_lines=good.lines, tally_lines=tal.lines,
                                    rejected=frozenset({("t.fifo", ln) for ln in tal.bad}))))
    out.append(Case(fam, "roster-pipe-fd", ["plan", "--roster", "/dev/fd/{fd}", "--format", "json"], OK, pipe=good.data, timeout=15.0,
                    why="process substitution <(…): a pipe passed as a descriptor, read once"))
    out.append(Case(fam, "roster-fifo-never-written-ctrl-c", ["plan", "--roster", "fifo.csv"], frozenset({130}), fifos={"fifo.csv": None},
                    interrupt=True, timeout=15.0, checks=(stderr_has("interrupted"),), why="Ctrl-C while blocked on input: exit 130, one line"))
    out.append(Case(fam, "roster-nonutf8-file-name", ["plan", "--roster", os.fsdecode(b"r\xf4ster.csv"), "--format", "json"], frozenset({0, 2}),
                    files={os.fsdecode(b"r\xf4ster.csv"): good.data},
                    why="a file name that is not UTF-8 (from an old share): read and named (escaped), or refused with a message — "
                        "never an internal error"))
    # outputs
    for fmt in ("json",):
        out.append(Case(fam, f"output-dev-full-{fmt}", [*ev[:-1], fmt, "--output", "/dev/full"], BAD, files=base,
                        checks=(stderr_has("full"),), why="a full disk: exit 2 with a message"))
    out.append(Case(fam, "check-output-dev-full", ["check", "qd96.policy", "--output", "/dev/full"], BAD, files=BUNDLED,
                    checks=(stderr_has("full"),)))
    out.append(Case(fam, "explain-tallies-dev-zero", ["explain", "R003", "--roster", "roster.csv", "--tallies", "/dev/zero"], BAD,
                    files={"roster.csv": C.roster().data}, timeout=15.0))
    out.append(Case(fam, "output-missing-directory", [*ev, "--output", "nowhere/out.json"], BAD, files=base, checks=(not_created("nowhere"),)))
    out.append(Case(fam, "output-is-a-directory", [*ev, "--output", "."], BAD, files=base, checks=(no_leftovers,)))
    for target, fmt in (("roster.csv", "json"), ("tallies.csv", "csv"), ("./roster.csv", "jsonl")):
        out.append(Case(fam, f"output-is-input-{target.replace('./', 'dot-slash-')}-{fmt}", [*ev[:-1], fmt, "--output", target], BAD, files=base,
                        checks=(unchanged("roster.csv", "tallies.csv"), no_leftovers), why="--output naming an input is refused, the input kept"))
    out.append(Case(fam, "output-hardlink-to-tallies", [*ev, "--output", "out.json"], BAD, files=base,
                    setup=lambda d: os.link(d / "tallies.csv", d / "out.json"), checks=(unchanged("tallies.csv"),)))
    for target in ("thanhhoa-kh134.policy", "qd96.policy"):
        out.append(Case(fam, f"output-is-policy-{target.split('.')[0]}", [*ev, "--policy", "thanhhoa-kh134.policy", "--output", target], BAD,
                        files={**base, **BUNDLED}, checks=(unchanged(target, "roster.csv"),),
                        why="--output naming the policy (or one it imports) is refused"))
    out.append(Case(fam, "output-existing-file-replaced", [*ev, "--output", "out.json"], OK, files={**base, "out.json": b"old"},
                    account=Account("evaluate", "json", source="out.json", tallies="tallies.csv", roster_lines=5, tally_lines=4, rejected=frozenset()),
                    checks=(no_leftovers,)))
    # a closed pipe: | head -1
    big = {"roster.csv": C.big_roster_bytes()}
    for fmt in ("table", "json", "csv", "jsonl"):
        out.append(Case(fam, f"stdout-closed-pipe-plan-{fmt}", ["plan", "--roster", "roster.csv", "--format", fmt], frozenset({141}),
                        files=big, head=1, checks=(stderr_empty,), why="`| head -1`: exit 141, nothing on stderr"))
    out.append(Case(fam, "stdout-closed-pipe-plan-json-unbuffered", ["plan", "--roster", "roster.csv", "--format", "json"], frozenset({141}),
                    files=big, head=1, checks=(stderr_empty,), env={"PYTHONUNBUFFERED": "1"},
                    why="`| head -1` where PYTHONUNBUFFERED=1 (as many CI images and this sandbox set): still 141, not 0 with the output cut"))
    return out


# ---- 4. policies -------------------------------------------------------------------------------------------

MINI = (ROOT / "tests" / "hostile" / "fixtures" / "mini.policy").read_text(encoding="utf-8")
HEAD = 'policy hostile {\n  name "Chính sách thù địch"\n}\n'
ANY_CHECK = frozenset({0, 2})  # accepted, or refused with a diagnostic


def _chain(n: int):  # type: ignore[no-untyped-def]
    def setup(d: Path) -> None:
        for i in range(n):
            text = HEAD.replace("hostile", f"p{i}") + f'import "c{i + 1}.policy" as q\n' if i < n - 1 else MINI
            (d / "pol" / ("main.policy" if i == 0 else f"c{i}.policy")).write_text(text, encoding="utf-8")
    return setup


def _imports(target: str) -> dict[str, bytes]:
    return {"main.policy": (HEAD + f'import "{target}" as x\n').encode()}


def _link(target: str, name: str = "main.policy"):  # type: ignore[no-untyped-def]
    return lambda d: os.symlink(target, d / "pol" / name)


def policies() -> list[Case]:
    """Each hostile policy is ``pol/main.policy`` (the policy root is ``pol/``), run through the commands listed."""
    fam = "policies"
    mini = MINI.encode()
    leaks = (not_in_output("root:x:0:0"),)
    markup = (MINI.replace('name    "Chính sách mẫu thỏa mãn bands_cover"', 'name    "Chính sách [bold red]đỏ[/] [/] \\\\[x]"')
              + '\nproperty nhan_markup "[/] nhãn [link=file:///etc/passwd]x[/link]":\n  level = district implies not venue(noi_cong_tac)\n'
              + '\nexample vi_du "[/] ví dụ [bold]đậm[/bold] [red" {\n'
              + '  roster { level province titles gd_so retirement_notice false appointed_year 2020 }\n'
              + '  expect { status voted venues noi_cong_tac }\n}\n')
    ansi_error = mini + b"\ntitle evil \"\x1b[31mred\x1b]0;pwned\x07\x1b[0m\" \x1b[2J oops \xe2\x80\xae\x08\n"
    ansi_label = MINI.replace('"Giám đốc sở"', '"Gi\x1b[31mám\x1b[0m đốc \u202e sở\x07"').encode()
    # name: (files under pol/, setup, {command: exit codes}, checks, why)
    table: dict[str, tuple[dict, object, dict[str, frozenset[int]], tuple[Check, ...], str]] = {
        "nul-bytes": ({"main.policy": mini.replace(b"# A small", b"# A\x00small")}, None, {"check": BAD, "fmt": BAD}, (),
                      "a policy with a NUL byte is not a text file (E002)"),
        "symlink-proc-self-environ": ({}, _link("/proc/self/environ"), {"check": BAD, "fmt": BAD, "plan": BAD, "test": BAD, "wide-root": BAD}, leaks,
                                      "pol/main.policy → /proc/self/environ: refused, the environment never shown"),
        "symlink-etc-passwd": ({}, _link("/etc/passwd"), {"fmt": BAD}, leaks, "pol/main.policy → /etc/passwd: refused, never shown"),
        "import-parent": ({**_imports("../outside.policy"), "../outside.policy": mini}, None, {"check": BAD}, (),
                          "an import outside the policy root is E005"),
        "import-absolute": ({"../outside.policy": mini}, lambda d: (d / "pol" / "main.policy").write_text(
            HEAD + f'import "{d / "outside.policy"}" as o\n', encoding="utf-8"), {"check": BAD}, (), "an absolute import outside the root is E005"),
        "import-dotdot-etc-passwd": (_imports("../../../../../../../../etc/passwd"), None, {"check": BAD}, leaks, ""),
        "import-symlink-to-environ": (_imports("env.policy"), _link("/proc/self/environ", "env.policy"), {"check": BAD, "wide-root": BAD},
                                      leaks, "an import of env.policy → /proc/self/environ inside the root: refused without reading it"),
        "import-symlink-to-passwd": (_imports("pw.policy"), _link("/etc/passwd", "pw.policy"), {"check": BAD}, leaks, ""),
        "import-proc-self-environ": (_imports("/proc/self/environ"), None, {"check": BAD}, leaks, ""),
        "import-symlink-to-dev-zero": (_imports("zero.policy"), _link("/dev/zero", "zero.policy"), {"check": BAD}, (),
                                       "an import of a device: refused without reading it"),
        "import-fifo": (_imports("fifo.policy"), lambda d: os.mkfifo(d / "pol" / "fifo.policy"), {"check": BAD}, (),
                        "an import of a FIFO: refused without opening it (no hang)"),
        "import-chain-1000": ({}, _chain(1000), {"check": ANY_CHECK, "plan": ANY_CHECK}, (),
                              "a chain of 1,000 imports: loaded, or refused with a diagnostic — not an internal error"),
        "size-20mb": ({"main.policy": lambda: mini + b"\n" + (b"# " + b"x" * 1000 + b"\n") * (20 * 1024)}, None,
                      {"check": BAD, "fmt": BAD}, (stderr_at_most(2048),), "a 20 MB policy is refused (E005) without being parsed"),
        "line-100kb-syntax-error": ({"main.policy": mini + b"\nscope broken at province: " + b"bi_thu " * 15_000 + b"\n"}, None,
                                    {"check": BAD, "fmt": BAD}, (stderr_at_most(2048),), "a syntax error on a 100 KB line: a short diagnostic"),
        "ansi-escapes-in-error-line": ({"main.policy": ansi_error}, None, {"check": BAD, "fmt": BAD}, (no_raw_control, stderr_at_most(4096)),
                                       "control characters of a line in error are escaped, never sent raw to the terminal"),
        "ansi-escapes-in-label": ({"main.policy": ansi_label}, None, {"check": ANY_CHECK, "test": ANY_CHECK}, (no_raw_control,),
                                  "control characters in a label: refused, or shown escaped"),
        "markup-in-labels": ({"main.policy": markup.encode()}, None, {"check": OK, "test": OK}, (),
                             "rich markup in labels is text, shown as written"),
        "latin1": ({"main.policy": mini.replace(b"\xc3\xa1", b"\xe1")}, None, {"check": BAD}, (), ""),
        "bom-crlf": ({"main.policy": b"\xef\xbb\xbf" + MINI.replace("\n", "\r\n").encode()}, None, {"check": OK}, (),
                     "a policy saved by Notepad (BOM, CRLF) is valid"),
        "nested-parens-5000": ({"main.policy": (MINI + '\ndefine d "x" = ' + "(" * 5000 + "retirement_notice" + ")" * 5000 + "\n").encode()},
                               None, {"check": ANY_CHECK}, (stderr_at_most(4096),),
                               "deep nesting: accepted or refused with a diagnostic, never a RecursionError"),
        "threshold-divide-by-zero": ({"main.policy": MINI.replace("share <= 1/2", "share <= 1/0").encode()}, None, {"check": BAD}, (), ""),
        "numbers-5000-digits": ({"main.policy": MINI.replace("max_venues 2", "max_venues " + "9" * 5000)
                                 .replace("vote_year 2023", "vote_year " + "9" * 400).encode()}, None,
                                {"check": frozenset({0, 1, 2})}, (stderr_at_most(4096),),
                                "5000-digit numbers in a policy: a diagnostic (or a verdict), not a crash"),
        "missing-file": ({}, None, {"check": BAD}, (), ""),
        "is-a-directory": ({}, lambda d: (d / "pol" / "main.policy").mkdir(), {"check": BAD}, (), ""),
    }
    roster = C.roster(C.MINI_ROSTER_ROWS).data
    commands = {"check": ["check", "pol/main.policy"], "test": ["test", "pol/main.policy"], "fmt": ["fmt", "--check", "pol/main.policy"],
                "plan": ["plan", "--roster", "roster.csv", "--policy", "pol/main.policy", "--format", "json"],
                "wide-root": ["check", "--policy-root", "/", "pol/main.policy"]}
    out: list[Case] = []
    for name, (files, setup, expect, checks, why) in table.items():
        def prepare(d: Path, setup: object = setup) -> None:
            (d / "pol").mkdir(exist_ok=True)
            if setup is not None:
                setup(d)  # type: ignore[operator]
        fs = {("pol/" + k).replace("pol/../", ""): v for k, v in files.items()}
        for cmd, codes in expect.items():
            extra: tuple[Check, ...] = ()
            if name == "markup-in-labels":
                extra = {"check": (stdout_has("[bold red]đỏ[/] [/]"),), "test": (stdout_has("[/] ví dụ [bold]đậm[/bold] [red"),)}.get(cmd, ())
            account = Account("plan", "json", roster_lines=len(C.MINI_ROSTER_ROWS), rejected=frozenset()) if cmd == "plan" else None
            out.append(Case(fam, f"{name}-{cmd}", commands[cmd], codes, files={**fs, "roster.csv": roster} if cmd == "plan" else dict(fs),
                            setup=prepare, checks=(*checks, *extra), why=why, account=account, timeout=20.0))
    link_env = _link("/proc/self/environ", "env.policy")
    pol = {"pol/main.policy": mini}
    out.append(Case(fam, "fmt-write-symlink-environ", ["fmt", "pol/env.policy"], BAD, files=pol, setup=lambda d: link_env(d),
                    why="fmt (writing) on a symlink to /proc/self/environ: refused, nothing shown"))
    out.append(Case(fam, "fmt-proc-self-environ-direct", ["fmt", "--check", "/proc/self/environ"], BAD,
                    why="fmt on /proc/self/environ itself: refused, the environment never shown"))
    out.append(Case(fam, "diff-symlink-environ", ["diff", "pol/env.policy", "pol/main.policy"], BAD, files=pol, setup=lambda d: link_env(d)))
    out.append(Case(fam, "fuzz-symlink-environ", ["fuzz", "--policy", "pol/env.policy", "--examples", "5"], BAD, files=pol,
                    setup=lambda d: link_env(d)))
    out.append(Case(fam, "fmt-check-a-csv-file", ["fmt", "--check", "roster.csv"], BAD, files={"roster.csv": roster},
                    why="fmt on a file that is not a .policy (a roster): refused, not parsed and quoted"))
    out.append(Case(fam, "explain-policy-symlink-environ", ["explain", "M001", "--roster", "roster.csv", "--policy", "pol/env.policy"], BAD,
                    files={**pol, "roster.csv": roster}, setup=lambda d: link_env(d)))
    return out


# ---- 6. options ----------------------------------------------------------------------------------------


def options() -> list[Case]:
    fam = "options"
    out: list[Case] = []
    base = {"roster.csv": C.roster().data, "tallies.csv": C.tallies().data}
    plan = ["plan", "--roster", "roster.csv"]
    usage = {
        "limit-0": [*plan, "--limit", "0"], "limit-negative": [*plan, "--limit", "-1"], "limit-abc": [*plan, "--limit", "abc"],
        "year-fullwidth": [*plan, "--year", "２０２３"], "year-underscore": [*plan, "--year", "2_023"], "year-99999": [*plan, "--year", "99999"],
        "year-1944": [*plan, "--year", "1944"], "year-5000-digits": [*plan, "--year", "9" * 5000],
        "format-xml": [*plan, "--format", "xml"], "unknown-flag": [*plan, "--rosterr", "x"],
        "evaluate-missing-tallies": ["evaluate", "--roster", "roster.csv"], "no-command": [],
        "check-timeout-0": ["check", "--timeout-ms", "0"],
        "diff-timeout-0": ["diff", "qd96.policy", "qd96.policy", "--timeout-ms", "0"],
        "fuzz-examples-0": ["fuzz", "--examples", "0"], "fuzz-examples-negative": ["fuzz", "--examples", "-1"],
        "check-empty-directory": ["check", "emptydir"],
    }
    for name, argv in usage.items():
        out.append(Case(fam, name, argv, BAD, files={**base, **BUNDLED}, setup=lambda d: (d / "emptydir").mkdir(),
                        why="a usage error exits 2 with a message", checks=(stderr_at_most(8192),)))
    fine = {
        "limit-huge-table": ([*plan, "--limit", "999999999999999999"], OK),
        "year-spaces": ([*plan, "--year", " 2023 ", "--format", "json"], OK),
        "check-timeout-huge": (["check", "--timeout-ms", "9" * 30, "qd96.policy"], ANY_CHECK),
        "fuzz-seed-huge": (["fuzz", "--examples", "1", "--seed", "9" * 60], ANY_CHECK),
    }
    for name, (argv, expect) in fine.items():
        acc = Account("plan", "json", roster_lines=5, rejected=frozenset()) if "json" in argv and argv[0] == "plan" else None
        out.append(Case(fam, name, argv, expect, files={**base, **BUNDLED}, account=acc,
                        why="a valid or borderline option value" + (": accepted, or refused with a message" if len(expect) > 1 else "")))
    return out



def all_cases() -> list[Case]:
    from tests.hostile.lsp_cases import lsp

    return [*encodings(), *rows(), *special(), *policies(), *lsp(), *options()]


CASES = all_cases()
_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})
