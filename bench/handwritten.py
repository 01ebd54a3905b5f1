"""The Thanh Hóa rules written by hand in plain Python: the baseline the compiled evaluator is held to.

Takes a roster CSV and a tallies CSV (the columns of the brief, section 3) and the vote year;
produces the same CSV as ``tinnhiem evaluate --format csv`` on the bundled policy
(``policy/thanhhoa-kh134.policy`` with what it imports from ``qd96`` and ``nq96-qh15``): one row per
cadre and planned venue with the band, the consequences, the outcome, the citations and each level's
count, exact share and percentage over the ballots collected, then one row per rejected input row.
Everything the policy says is hard-coded below — the scope of P3/P4, the exemptions of P7, the venues
of P5/P6 (at most two), the bands of P11/P12 and of the National Assembly's resolution, the quorum,
P13 — as an engineer would write it without the policy language.

It validates rows as ``tinnhiem`` does (same rules, the same reasons for the rows the benchmarks and
the sample data produce; did-you-mean hints via :mod:`difflib`). Exact integer arithmetic only: a
share ``low / collected`` is compared as ``low·q OP p·collected``. It imports nothing from
``tinnhiem`` or ``dsl``, so the benchmark compares the product with an independent program, and
``bench`` checks that both write the same bytes.

``python bench/handwritten.py ROSTER TALLIES OUT [--year 2023] [--no-gc]``
"""

from __future__ import annotations

import csv
import difflib
import sys
import unicodedata
from math import gcd

csv.field_size_limit(1 << 24)

# ---- the policy, by hand ---------------------------------------------------------------------------
LEVELS = ("province", "district")
TITLES = ("bi_thu", "pho_bi_thu", "uv_btv", "ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd",
          "uv_ubnd", "truong_ban_dang", "pho_ban_dang", "truong_so", "pho_so", "truong_dvsn", "pho_dvsn")
VENUES = ("cap_uy", "hdnd", "noi_cong_tac")
BTV = frozenset({"bi_thu", "pho_bi_thu", "uv_btv"})  # members of the Standing Committee
HDND_BAU = frozenset({"ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd", "uv_ubnd"})  # elected by the HĐND
P6_TITLES = frozenset({"ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd", "truong_ban_dang"})
# P3 / P4: (level, titles, citation), in the order the policy declares them
SCOPE = (
    ("province", frozenset({"bi_thu", "pho_bi_thu", "uv_btv"}), "KH134 P3"),
    ("province", HDND_BAU, "KH134 P3"),
    ("province", frozenset({"truong_ban_dang", "pho_ban_dang"}), "KH134 P3"),
    ("province", frozenset({"truong_so", "pho_so"}), "KH134 P3"),
    ("province", frozenset({"truong_dvsn", "pho_dvsn"}), "KH134 P3"),
    ("district", frozenset({"bi_thu", "pho_bi_thu"}), "KH134 P4"),
    ("district", HDND_BAU, "KH134 P4"),
)
RETIREMENT = "Đã có thông báo chờ nghỉ hưu"
APPOINTED = "Được bổ nhiệm, bầu cử trong năm lấy phiếu"
P7, P5, P6, P13 = "KH134 P7", "KH134 P5", "KH134 P6", "KH134 P13"
QUORUM_CITE = "QD96 điều khoản chưa xác minh"
COMBINED = "xem_xet_tong_the"
STAGE, STAGE_CITE = "bo_phieu_tin_nhiem", "KH134 P11"  # the plan's second stage at the HĐND and its citation
_KH134_TREN_50 = ("Đưa ra khỏi quy hoạch các chức vụ cao hơn",
                  "hoặc: Xem xét cho thôi giữ chức vụ đang đảm nhiệm", "hoặc: Bố trí công tác khác", "hoặc: Cho từ chức",
                  "hoặc: Tiến hành bỏ phiếu tín nhiệm theo quy định")
_KH134_TU_2_3 = ("Miễn nhiệm chức vụ đang đảm nhiệm",
                 "Bố trí công tác khác (thấp hơn) mà không chờ đến hết nhiệm kỳ, hết thời hạn bổ nhiệm")
# per venue: (band code, consequences as the CSV shows them, citation) for share ≤ 1/2, 1/2 < share < 2/3, ≥ 2/3
_KH134 = (("khong_qua_50", "", "KH134 P10"), ("tren_50", "; ".join(_KH134_TREN_50), "KH134 P11"),
          ("tu_2_3", "; ".join(_KH134_TU_2_3), "KH134 P2, P12"))
_NQ96 = (("khong_qua_50", "", "NQ96 các mức (phần còn lại: không có hệ quả)"),
         ("tren_50", "hoặc: Người được lấy phiếu có thể xin từ chức; nếu không: Thường trực Hội đồng nhân dân trình Hội "
                     "đồng nhân dân bỏ phiếu tín nhiệm tại kỳ họp đó hoặc kỳ họp gần nhất", "NQ96 các mức"),
         ("tu_2_3", "Cơ quan, người đã giới thiệu để bầu trình Hội đồng nhân dân miễn nhiệm tại kỳ họp đó hoặc kỳ họp "
                    "gần nhất", "NQ96 các mức"))
BANDS = {"cap_uy": _KH134, "hdnd": _NQ96, "noi_cong_tac": _KH134}

COLUMNS = ["cadre_id", "full_name", "level", "unit", "titles", "status", "exemptions", "venue", "issued", "collected",
           "low", "low_share", "percent", "band", "consequences", "outcome", "cites", "file", "line", "reason",
           "members", "base", "base_count", "high", "confidence", "high_share", "confidence_share",
           "high_percent", "confidence_percent", "low_percent"]
LEVEL_CELLS = 10  # the columns after "reason": each level over the base (every share here is over collected)
ROSTER_REQUIRED = ("cadre_id", "full_name", "level", "unit", "titles", "retirement_notice", "appointed_year")
TALLY_REQUIRED = ("cadre_id", "venue", "issued", "collected", "high", "confidence", "low")



PARAPHRASE = " — QD96 Điều 6 (diễn giải)"  # the citation of the schema of a count, as qd96.policy declares it


def whole_number(raw: str) -> int | None:
    """A count or a year: ASCII digits only, at most 18 of them (the input rule of the brief's readers)."""
    text = raw.strip()
    return int(text) if text and len(text) <= 18 and text.isascii() and text.isdigit() else None


def why_not_whole(raw: str, name: str) -> str:
    text = raw.strip()
    if not text:
        return f"{name} is empty"
    if text.isascii() and text.isdigit():
        return f"{name} has more than 18 digits"
    shown = text if len(text) <= 40 else text[:37] + "…"
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        return f"{name} must not be negative ({shown})"
    hint = " (write it in the digits 0-9 only)" if any(ch.isdigit() or ch == "_" for ch in text) else ""
    return f"{name} must be a whole number, not '{shown}'{hint}"


def boolean(raw: str) -> bool | None:
    word = unicodedata.normalize("NFC", raw.strip()).casefold()
    return True if word in ("true", "yes", "1", "có") else False if word in ("false", "no", "0", "không") else None

def band_index(low: int, collected: int) -> int:
    """0: share ≤ 1/2 · 1: 1/2 < share < 2/3 · 2: share ≥ 2/3 (share = low / collected, collected > 0)."""
    if 2 * low <= collected:
        return 0
    if 3 * low < 2 * collected:
        return 1
    return 2


def hundredths(n: int, den: int) -> int:
    """``n / den`` in hundredths of a percent, rounded half up."""
    whole, rest = divmod(n * 10000, den)
    return whole + 1 if 2 * rest >= den else whole


def percent(low: int, den: int) -> str:
    """The share as a percentage with two decimals, rounded half up."""
    whole = hundredths(low, den)
    return f"{whole // 100}.{whole % 100:02d}%"


def percent_vi(n: int, den: int) -> str:
    """As the official texts write it: two decimals rounded half up, a decimal comma, no trailing zeros
    (``97,5%``, ``1,25%``, ``100%``)."""
    whole = hundredths(n, den)
    decimals = f"{whole % 100:02d}".rstrip("0")
    return f"{whole // 100},{decimals}%" if decimals else f"{whole // 100}%"


def share(n: int, den: int) -> str:
    g = gcd(n, den)
    return f"{n // g}/{den // g}"


def safe(text: str) -> str:
    """No cell taken from input text starts a spreadsheet formula."""
    if text and text[0] in "=+-@\t\r":
        try:
            int(text)
        except ValueError:
            return "'" + text
    return text


def hint(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def plan(level: str, titles: frozenset[str], retired: bool, appointed: int | None, year: int):
    """(status, exemption texts, venues, citations) of one cadre: P3/P4, P7, P5/P6."""
    cites: list[str] = []
    in_scope = False
    for lv, scope_titles, cite in SCOPE:
        if lv == level and not scope_titles.isdisjoint(titles):
            in_scope = True
            if cite not in cites:
                cites.append(cite)
    exemptions = []
    if retired:
        exemptions.append(f"{RETIREMENT} ({P7})")
    if appointed is not None and appointed == year:
        exemptions.append(f"{APPOINTED} ({P7})")
    if exemptions:
        cites.append(P7)
        return "exempt", "; ".join(exemptions), (), cites
    if not in_scope:
        return "out_of_scope", "", (), cites
    btv = not BTV.isdisjoint(titles)
    if btv and not P6_TITLES.isdisjoint(titles):  # P6 overrides P5: both venues
        cites.append(P6)
        return "voted", "", ("cap_uy", "hdnd"), cites
    venues = []
    if btv:
        venues.append("cap_uy")
    if not HDND_BAU.isdisjoint(titles):
        venues.append("hdnd")
    if not venues:
        venues.append("noi_cong_tac")
    cites.append(P5)
    return "voted", "", tuple(venues), cites


def run(roster_path: str, tallies_path: str, out_path: str, year: int = 2023) -> int:
    """Evaluate; write the CSV to ``out_path``; return 1 when some row was rejected, else 0."""
    rejected: list[tuple[str, str, int, str]] = []  # (cadre_id, file, line, reason)
    cadres: list[tuple] = []
    plans: dict[str, tuple] = {}
    roster_rejected: dict[str, int] = {}
    seen: dict[str, int] = {}
    with open(roster_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        header = [h.strip() for h in next(reader)]
        col = {h: i for i, h in enumerate(header)}
        extra = [h for h in header if h not in ROSTER_REQUIRED and h]
        extra_idx = [col[h] for h in extra]
        i_id, i_name, i_level, i_unit, i_titles, i_ret, i_app = (col[c] for c in ROSTER_REQUIRED)
        width = len(header)
        line = 1
        for row in reader:
            line_start, line = line + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            cid = row[i_id].strip() if i_id < len(row) else ""

            def reject(reason: str, cid: str = cid, at: int = line_start) -> None:
                rejected.append((cid, roster_path, at, reason))

            if len(row) != width:
                reject(f"the row has {len(row)} fields but the header has {width}")
                continue
            if not cid:
                reject("cadre_id is empty")
                continue
            if cid in seen:
                reject(f"cadre_id '{cid}' already appears on line {seen[cid]}; the first row stands")
                continue
            seen[cid] = line_start
            level = row[i_level].strip()
            if level not in LEVELS:
                reject(f"unknown level '{level}'" + (hint(level, LEVELS) or f" (one of: {', '.join(LEVELS)})"))
                continue
            codes = [c.strip() for c in row[i_titles].split(";") if c.strip()]
            unknown = [c for c in codes if c not in TITLES]
            if unknown:
                reject(f"unknown title code '{unknown[0]}'" + hint(unknown[0], TITLES))
                continue
            raw = row[i_ret].strip()
            flag = boolean(raw) if raw else False
            if flag is None:
                reject(f"retirement_notice must be true or false (also yes/no, có/không, 1/0), not '{raw}'")
                continue
            retired = flag
            raw = row[i_app].strip()
            appointed = None
            if raw:
                appointed = whole_number(raw)
                if appointed is None:
                    reject(why_not_whole(raw, "appointed_year"))
                    continue
                if not 1900 <= appointed <= 2100:
                    reject(f"appointed_year must be a year between 1900 and 2100, not {appointed}")
                    continue
            titles = frozenset(codes)
            p = plan(level, titles, retired, appointed, year)
            plans[cid] = p
            cadres.append((cid, row[i_name].strip(), level, row[i_unit].strip(), ";".join(sorted(titles)), line_start,
                           [row[i] for i in extra_idx], p))

    for cid, _file, at, _reason in rejected:  # the last rejected row of an id that no accepted row has
        if cid and cid not in plans:
            roster_rejected[cid] = at
    tallies: dict[str, dict[str, tuple[int, ...]]] = {}
    with open(tallies_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        header = [h.strip() for h in next(reader)]
        col = {h: i for i, h in enumerate(header)}
        i_id, i_venue, *i_counts = (col[c] for c in TALLY_REQUIRED)
        i_convened, i_present, i_members = col.get("convened"), col.get("present"), col.get("members")
        width = len(header)
        first: dict[tuple[str, str], int] = {}
        line = 1
        for row in reader:
            line_start, line = line + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            cid = row[i_id].strip() if i_id < len(row) else ""

            def reject(reason: str, cid: str = cid, at: int = line_start) -> None:
                rejected.append((cid, tallies_path, at, reason))

            if len(row) != width:
                reject(f"the row has {len(row)} fields but the header has {width}")
                continue
            venue = row[i_venue].strip()
            if venue not in VENUES:
                reject(f"unknown venue '{venue}'" + (hint(venue, VENUES) or f" (one of: {', '.join(VENUES)})"))
                continue
            counts = []
            problem = None
            for name, i in zip(TALLY_REQUIRED[2:], i_counts):
                raw = row[i].strip()
                n = whole_number(raw)
                if n is None:
                    problem = why_not_whole(raw, name)
                    break
                counts.append(n)
            session: list[int | None] = []
            for name, i in (("convened", i_convened), ("present", i_present), ("members", i_members)):
                raw = row[i].strip() if i is not None else ""
                if problem or not raw:
                    session.append(None)
                    continue
                n = whole_number(raw)
                if n is None:
                    problem = why_not_whole(raw, name)
                    break
                session.append(n)
            if problem:
                reject(problem)
                continue
            issued, collected, high, conf, low = counts
            convened, present, members = session
            if (convened is None) != (present is None):
                reject("convened and present go together: give both or neither")
                continue
            if high + conf + low > collected:
                reject(f"high + confidence + low ({high + conf + low}) is more than collected ({collected}){PARAPHRASE}")
                continue
            if collected > issued:
                reject(f"collected ({collected}) is more than issued ({issued}){PARAPHRASE}")
                continue
            if convened is not None and present is not None and present > convened:
                reject(f"present ({present}) is more than convened ({convened}){PARAPHRASE}")
                continue
            if members is not None and issued > members:
                reject(f"issued ({issued}) is more than members ({members}){PARAPHRASE}")
                continue
            if members is not None and convened is not None and convened > members:
                reject(f"convened ({convened}) is more than members ({members}){PARAPHRASE}")
                continue
            if collected == 0:
                reject("no ballots collected (collected = 0): the share of low votes is undefined")
                continue
            if cid in roster_rejected:
                reject(f"cadre '{cid}' was rejected in the roster (line {roster_rejected[cid]})")
                continue
            p = plans.get(cid)
            if p is None:
                reject(f"cadre '{cid}' is not in the roster" + hint(cid, plans))
                continue
            if p[0] != "voted":
                reject(f"cadre '{cid}' is {'exempt' if p[0] == 'exempt' else 'out of scope'}: no vote is taken")
                continue
            if venue not in p[2]:
                reject(f"cadre '{cid}' is not voted at '{venue}' (planned: {', '.join(p[2]) or 'none'})")
                continue
            if (cid, venue) in first:
                reject(f"a tally for '{cid}' at '{venue}' already appears on line {first[cid, venue]}; the first stands")
                continue
            first[cid, venue] = line_start
            tallies.setdefault(cid, {})[venue] = (issued, collected, high, conf, low, convened, present, members)

    with open(out_path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS + ["stage", "next_stage", "final"] + extra)
        for cid, name, level, unit, titles, line, extras, (status, exemptions, venues, cites) in cadres:
            head = [safe(cid), safe(name), level, safe(unit), titles, status, exemptions]
            tail_extra = [safe(x) for x in extras]
            if not venues:
                w.writerow(head + [""] * 8 + ["", "; ".join(cites), "", line, ""] + [""] * LEVEL_CELLS + ["", "", ""] + tail_extra)
                continue
            own = tallies.get(cid, {})
            cites = list(cites)
            rows = []
            outcome = None
            due = False  # the vote of confidence at the HĐND (P11, NQ 96): after tren_50 there, in a valid session
            for venue in venues:
                t = own.get(venue)
                if t is None:
                    rows.append(([venue, "", "", "", "", "", "missing_tally", ""], [""] * LEVEL_CELLS))
                    outcome = "missing_tally"
                    continue
                issued, collected, high, conf, low, convened, present, members = t
                if convened is not None and present is not None and 3 * present < 2 * convened:  # quorum: 2/3
                    if outcome is None:
                        outcome = "invalid_session"
                    if QUORUM_CITE not in cites:
                        cites.append(QUORUM_CITE)
                code, consequences, cite = BANDS[venue][band_index(low, collected)]
                valid = convened is None or present is None or 3 * present >= 2 * convened
                due = due or (venue == "hdnd" and code == "tren_50" and valid)
                if cite not in cites:
                    cites.append(cite)
                levels = ["" if members is None else members, "collected", collected, high, conf, share(high, collected),
                          share(conf, collected), percent_vi(high, collected), percent_vi(conf, collected),
                          percent_vi(low, collected)]
                rows.append(([venue, issued, collected, low, share(low, collected), percent(low, collected), code, consequences],
                             levels))
            if outcome is None:
                if len(venues) == 2:
                    outcome = COMBINED
                    cites.append(P13)
                else:
                    outcome = rows[0][0][6]
            if due and STAGE_CITE not in cites:
                cites.append(STAGE_CITE)
            cite_text = "; ".join(cites)
            procedure = ["", STAGE, ""] if due else ["", "", outcome]
            for r, levels in rows:
                w.writerow(head + r + [outcome, cite_text, "", line, ""] + levels + procedure + tail_extra)
            if due:  # the stage due next: a row of its own, nothing counted yet
                w.writerow(head + ["hdnd", "", "", "", "", "", "", ""] + [outcome, cite_text, "", line, ""] + [""] * LEVEL_CELLS
                           + [STAGE, STAGE, ""] + tail_extra)
        for cid, file, line, reason in rejected:
            w.writerow([safe(cid), "", "", "", "", "rejected", "", "", "", "", "", "", "", "", "", "", "", safe(file), line,
                        safe(reason)] + [""] * (LEVEL_CELLS + 3 + len(extra)))
    return 1 if rejected else 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="bench/handwritten.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("roster")
    ap.add_argument("tallies")
    ap.add_argument("out")
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--no-gc", action="store_true", help="switch the cyclic garbage collector off, as tinnhiem does")
    a = ap.parse_args(argv)
    if a.no_gc:
        import gc

        gc.disable()
    return run(a.roster, a.tallies, a.out, a.year)


if __name__ == "__main__":
    sys.exit(main())
