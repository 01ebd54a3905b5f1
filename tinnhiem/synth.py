"""Synthetic rosters and tallies for a province like Thanh Hóa (sample data, tests, benchmarks).

Takes a size, a seed and a vote year; produces rows with exactly the columns of the brief's CSV
interfaces (section 3), as ``dict[str, str]``:

- :func:`generate_roster` — one province level (Tỉnh ủy, HĐND, UBND, the sở/ban/ngành and mass
  organisations, the Party boards, the public service units) and the 27 districts, towns and cities
  of Thanh Hóa (their Party committee, HĐND, UBND and its phòng), with Vietnamese names (NFC),
  every title code of the bundled policy, concurrent titles (bí thư kiêm chủ tịch HĐND, phó bí thư
  kiêm chủ tịch UBND, ủy viên BTV kiêm trưởng ban Đảng / giám đốc sở …), some retirement notices,
  some appointments in the vote year and some rows out of scope.
- :func:`generate_tallies` — one tally row per cadre and planned venue (the caller says which venues
  through ``plan_venues``; :func:`policy_planner` builds that function from the real evaluator).
  One session per body (the same counts for every cadre voted by one Party committee, HĐND or
  workplace), mostly high confidence, a few ``tren_50`` and ``tu_2_3``, exact boundaries (exactly
  1/2, exactly 2/3), collected ≤ issued = present ≤ convened (a ballot to each person present: the
  bundled invariants hold), a few sessions below the 2/3 quorum.

Everything is deterministic for a seed (one :class:`random.Random`, fixed iteration orders). The
generators use the standard library only; :func:`policy_planner` imports :mod:`dsl`.

``python -m tinnhiem.synth --n 1500 --seed 134 --out examples/`` writes ``roster.csv`` and
``tallies.csv``; unless ``--raw`` is given it also applies :func:`sample_edits` (the real People's
Council tallies of December 2023 and a few planned venues left without a tally), which is how the
files in ``examples/`` were made.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsl import ir

ROSTER_COLUMNS = ("cadre_id", "full_name", "level", "unit", "titles", "retirement_notice", "appointed_year")
TALLY_COLUMNS = (*ir.TALLY_REQUIRED, "convened", "present")  # the sample gives no member counts
TITLE_CODES = ("bi_thu", "pho_bi_thu", "uv_btv", "ct_hdnd", "pct_hdnd", "truong_ban_hdnd", "ct_ubnd", "pct_ubnd",
               "uv_ubnd", "truong_ban_dang", "pho_ban_dang", "truong_so", "pho_so", "truong_dvsn", "pho_dvsn")
VENUES = ("cap_uy", "hdnd", "noi_cong_tac")

PlanVenues = Callable[[dict[str, str]], Sequence[str]]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---- names -----------------------------------------------------------------------------------------
# Family names weighted roughly as in Thanh Hóa (Lê, Nguyễn, Trịnh are the most common); Lò, Hà, Lương
# and Phạm are frequent in the mountain districts (Mường Lát, Quan Hóa, Quan Sơn, Bá Thước).
_FAMILY = (("Lê", 20), ("Nguyễn", 20), ("Trịnh", 8), ("Phạm", 8), ("Hoàng", 4), ("Đỗ", 4), ("Mai", 4), ("Trần", 5),
           ("Vũ", 3), ("Bùi", 3), ("Hà", 3), ("Cao", 2), ("Lại", 1), ("Đặng", 2), ("Lương", 2), ("Tống", 1),
           ("Lò", 1), ("Ngô", 2), ("Đào", 1), ("Đinh", 2), ("Vi", 1), ("Cầm", 1))
_MIDDLE_M = ("Văn", "Đình", "Xuân", "Ngọc", "Hữu", "Trọng", "Minh", "Đức", "Quang", "Thanh", "Tiến", "Công", "Bá",
             "Huy", "Anh", "Mạnh", "Duy", "Viết", "Khắc", "Sỹ")
_MIDDLE_F = ("Thị", "Thị", "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Thùy", "Kim", "Phương", "Lan")
_SECOND_M = ("Minh", "Quang", "Anh", "Hoàng", "Thanh", "Ngọc", "Xuân")
_SECOND_F = ("Thu", "Thanh", "Minh", "Ngọc", "Hồng", "Kim", "Phương")
_GIVEN_M = ("Hưng", "Hùng", "Dũng", "Tuấn", "Thắng", "Sơn", "Hải", "Long", "Nam", "Quân", "Bình", "Cường", "Đông",
            "Lâm", "Lam", "Kiên", "Thành", "Phúc", "Hoàng", "Khánh", "Tùng", "Trung", "Hiếu", "Tâm", "Việt", "Đạt",
            "Thịnh", "Tiến", "Vinh", "Hòa", "Chiến", "Quyết", "Lực", "Toản", "Hậu", "Nghĩa", "Thuận", "Lợi", "Tài",
            "Đức", "Huấn", "Tình", "Quý", "Phong")
_GIVEN_F = ("Hà", "Lan", "Hương", "Hằng", "Phương", "Thảo", "Mai", "Nga", "Hoa", "Thủy", "Yến", "Linh", "Nhung",
            "Thúy", "Hạnh", "Loan", "Oanh", "Huyền", "Vân", "Dung", "Nguyệt", "Quyên")


def _name(rng: random.Random) -> str:
    family = rng.choices([f for f, _ in _FAMILY], [w for _, w in _FAMILY])[0]
    female = rng.random() < 0.2
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    if rng.random() < 0.15:  # two middle names: Nguyễn Thị Thu Hà, Lê Văn Minh Tuấn
        first = "Thị" if female else rng.choice(("Văn", "Đình", "Ngọc", "Hữu", "Xuân", "Trọng"))
        return _nfc(f"{family} {first} {rng.choice(_SECOND_F if female else _SECOND_M)} {given}")
    return _nfc(f"{family} {rng.choice(_MIDDLE_F if female else _MIDDLE_M)} {given}")


# ---- the province ----------------------------------------------------------------------------------
PROVINCE = "Thanh Hóa"
#: (kind, name): the 2 cities, 2 towns and 23 districts of Thanh Hóa (2023).
LOCALITIES: tuple[tuple[str, str], ...] = (
    ("thành phố", "Thanh Hóa"), ("thành phố", "Sầm Sơn"), ("thị xã", "Bỉm Sơn"), ("thị xã", "Nghi Sơn"),
    ("huyện", "Bá Thước"), ("huyện", "Cẩm Thủy"), ("huyện", "Đông Sơn"), ("huyện", "Hà Trung"), ("huyện", "Hậu Lộc"),
    ("huyện", "Hoằng Hóa"), ("huyện", "Lang Chánh"), ("huyện", "Mường Lát"), ("huyện", "Nga Sơn"),
    ("huyện", "Ngọc Lặc"), ("huyện", "Như Thanh"), ("huyện", "Như Xuân"), ("huyện", "Nông Cống"),
    ("huyện", "Quan Hóa"), ("huyện", "Quan Sơn"), ("huyện", "Quảng Xương"), ("huyện", "Thạch Thành"),
    ("huyện", "Thiệu Hóa"), ("huyện", "Thọ Xuân"), ("huyện", "Thường Xuân"), ("huyện", "Triệu Sơn"),
    ("huyện", "Vĩnh Lộc"), ("huyện", "Yên Định"),
)
_MOUNTAIN = {"Bá Thước", "Cẩm Thủy", "Lang Chánh", "Mường Lát", "Ngọc Lặc", "Như Thanh", "Như Xuân", "Quan Hóa",
             "Quan Sơn", "Thạch Thành", "Thường Xuân"}
_COMMITTEE = {"thành phố": "Thành ủy", "thị xã": "Thị ủy", "huyện": "Huyện ủy"}

_SO = ("Sở Nội vụ", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Xây dựng", "Sở Giao thông vận tải",
       "Sở Nông nghiệp và Phát triển nông thôn", "Sở Công Thương", "Sở Tài nguyên và Môi trường",
       "Sở Giáo dục và Đào tạo", "Sở Y tế", "Sở Lao động - Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch",
       "Sở Khoa học và Công nghệ", "Sở Thông tin và Truyền thông", "Sở Tư pháp", "Sở Ngoại vụ", "Thanh tra tỉnh",
       "Văn phòng UBND tỉnh", "Ban Dân tộc tỉnh")
_SO_NOT_UBND = ("Ban Quản lý Khu kinh tế Nghi Sơn và các khu công nghiệp", "Văn phòng Đoàn ĐBQH và HĐND tỉnh")
_MASS = ("Ủy ban MTTQ Việt Nam tỉnh", "Liên đoàn Lao động tỉnh", "Hội Nông dân tỉnh", "Hội Liên hiệp Phụ nữ tỉnh",
         "Tỉnh đoàn Thanh Hóa", "Hội Cựu chiến binh tỉnh")
_PARTY_BOARDS = ("Ban Tổ chức Tỉnh ủy", "Ủy ban Kiểm tra Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy", "Ban Dân vận Tỉnh ủy",
                 "Ban Nội chính Tỉnh ủy", "Văn phòng Tỉnh ủy")
_DVSN = ("Báo Thanh Hóa", "Đài Phát thanh và Truyền hình Thanh Hóa", "Trường Chính trị tỉnh Thanh Hóa",
         "Trường Đại học Hồng Đức", "Trường Đại học Văn hóa, Thể thao và Du lịch Thanh Hóa",
         "Bệnh viện Đa khoa tỉnh Thanh Hóa", "Bệnh viện Nhi Thanh Hóa", "Bệnh viện Phụ sản Thanh Hóa",
         "Trường Cao đẳng Y tế Thanh Hóa", "Trung tâm Phục vụ hành chính công tỉnh",
         "Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch", "Ban Quản lý dự án đầu tư xây dựng tỉnh",
         "Quỹ Đầu tư phát triển tỉnh", "Trung tâm Lưu trữ lịch sử tỉnh")
_HDND_BOARDS_PROVINCE = ("Ban Pháp chế", "Ban Kinh tế - Ngân sách", "Ban Văn hóa - Xã hội", "Ban Dân tộc")
_PHONG = ("Phòng Nội vụ", "Phòng Tài chính - Kế hoạch", "Phòng Tư pháp", "Phòng Giáo dục và Đào tạo", "Phòng Y tế",
          "Phòng Tài nguyên và Môi trường", "Phòng Văn hóa và Thông tin", "Phòng Lao động - Thương binh và Xã hội",
          "Thanh tra", "Văn phòng HĐND và UBND")
_PHONG_RURAL = ("Phòng Nông nghiệp và Phát triển nông thôn", "Phòng Kinh tế - Hạ tầng")
_PHONG_URBAN = ("Phòng Kinh tế", "Phòng Quản lý đô thị")
_DISTRICT_BOARDS = ("Ban Tổ chức", "Ủy ban Kiểm tra", "Ban Tuyên giáo", "Ban Dân vận", "Văn phòng")


@dataclass(frozen=True)
class _Post:
    """One position of the skeleton: where, which title codes, how important (for small rosters)."""

    level: str
    unit: str
    titles: tuple[str, ...]
    tier: int  # 0 leaders, 1 other titles in scope, 2 out of scope


def _province_posts(rng: random.Random) -> list[_Post]:
    p = "province"
    tu, hdnd, ubnd = f"Tỉnh ủy {PROVINCE}", f"HĐND tỉnh {PROVINCE}", f"UBND tỉnh {PROVINCE}"
    posts = [
        _Post(p, tu, ("bi_thu",), 0),
        _Post(p, tu, ("pho_bi_thu",), 0),  # phó bí thư thường trực
        _Post(p, ubnd, ("pho_bi_thu", "ct_ubnd"), 0),  # phó bí thư kiêm chủ tịch UBND (P6)
        _Post(p, hdnd, ("ct_hdnd",), 0),
        _Post(p, hdnd, ("uv_btv", "pct_hdnd"), 0),  # phó chủ tịch thường trực, ủy viên BTV (P6)
        _Post(p, hdnd, ("pct_hdnd",), 0),
        _Post(p, ubnd, ("uv_btv", "pct_ubnd"), 0),
    ]
    posts += [_Post(p, ubnd, ("pct_ubnd",), 0) for _ in range(3)]
    posts += [_Post(p, f"{b} HĐND tỉnh", ("truong_ban_hdnd",), 1) for b in _HDND_BOARDS_PROVINCE]
    for board in _PARTY_BOARDS:
        head = ("uv_btv", "truong_ban_dang") if rng.random() < 0.85 else ("truong_ban_dang",)
        posts.append(_Post(p, board, head, 1))
        posts += [_Post(p, board, ("pho_ban_dang",), 1) for _ in range(rng.randint(2, 3))]
    posts.append(_Post(p, f"Công an tỉnh {PROVINCE}", ("uv_btv", "uv_ubnd"), 1))
    posts.append(_Post(p, f"Bộ Chỉ huy Quân sự tỉnh {PROVINCE}", ("uv_btv", "uv_ubnd"), 1))
    btv_so = rng.choice(("Sở Nội vụ", "Sở Kế hoạch và Đầu tư"))
    for so in _SO:
        if so == btv_so:
            head: tuple[str, ...] = ("uv_btv", "truong_so", "uv_ubnd")  # ủy viên BTV kiêm giám đốc sở
        else:
            head = ("truong_so", "uv_ubnd")
        posts.append(_Post(p, so, head, 1))
        posts += [_Post(p, so, ("pho_so",), 1) for _ in range(rng.randint(2, 4))]
        posts.append(_Post(p, so, (), 2))  # chánh văn phòng sở: no title in scope
    for unit in _SO_NOT_UBND:
        posts.append(_Post(p, unit, ("truong_so",), 1))
        posts += [_Post(p, unit, ("pho_so",), 1) for _ in range(2)]
    for mass in _MASS:
        head = ("uv_btv", "truong_so") if mass.startswith("Ủy ban MTTQ") else ("truong_so",)
        posts.append(_Post(p, mass, head, 1))
        posts += [_Post(p, mass, ("pho_so",), 1) for _ in range(2)]
    for unit in _DVSN:
        posts.append(_Post(p, unit, ("truong_dvsn",), 1))
        posts += [_Post(p, unit, ("pho_dvsn",), 1) for _ in range(rng.randint(1, 3))]
    return posts


def _district_posts(rng: random.Random, kind: str, name: str) -> list[_Post]:
    d = "district"
    cu = f"{_COMMITTEE[kind]} {name}"
    hdnd, ubnd = f"HĐND {kind} {name}", f"UBND {kind} {name}"
    posts: list[_Post] = []
    if rng.random() < 0.7:  # bí thư kiêm chủ tịch HĐND
        posts.append(_Post(d, cu, ("bi_thu", "ct_hdnd"), 0))
        posts.append(_Post(d, cu, ("pho_bi_thu",), 0))
    else:  # phó bí thư thường trực kiêm chủ tịch HĐND
        posts.append(_Post(d, cu, ("bi_thu",), 0))
        posts.append(_Post(d, hdnd, ("pho_bi_thu", "ct_hdnd"), 0))
    posts.append(_Post(d, ubnd, ("pho_bi_thu", "ct_ubnd"), 0))
    posts.append(_Post(d, hdnd, ("uv_btv", "pct_hdnd") if rng.random() < 0.5 else ("pct_hdnd",), 1))
    posts.append(_Post(d, ubnd, ("uv_btv", "pct_ubnd"), 1))
    posts += [_Post(d, ubnd, ("pct_ubnd",), 1) for _ in range(rng.randint(1, 2))]
    boards = ("Ban Pháp chế", "Ban Kinh tế - Xã hội") + (("Ban Dân tộc",) if name in _MOUNTAIN else ())
    posts += [_Post(d, f"{b} HĐND {kind} {name}", ("truong_ban_hdnd",), 1) for b in boards]
    posts.append(_Post(d, f"Công an {kind} {name}", ("uv_btv", "uv_ubnd"), 1))
    posts.append(_Post(d, f"Ban Chỉ huy Quân sự {kind} {name}", ("uv_btv", "uv_ubnd"), 1))
    phong = _PHONG + (_PHONG_URBAN if kind != "huyện" else _PHONG_RURAL) + (("Phòng Dân tộc",) if name in _MOUNTAIN else ())
    posts += [_Post(d, f"{ph} {kind} {name}", ("uv_ubnd",), 1) for ph in phong]
    # P4 names neither the district's Party boards nor its MTTQ nor its public service units: out of scope.
    for b in _DISTRICT_BOARDS:
        head = ("uv_btv", "truong_ban_dang") if b in ("Ban Tổ chức", "Ủy ban Kiểm tra", "Ban Dân vận") else ("truong_ban_dang",)
        posts.append(_Post(d, f"{b} {cu}", head, 2))
    posts.append(_Post(d, f"Ủy ban MTTQ Việt Nam {kind} {name}", ("uv_btv", "truong_so"), 2))
    posts.append(_Post(d, f"Trung tâm Y tế {kind} {name}", ("truong_dvsn",), 2))
    return posts


def _extra_posts(rng: random.Random, count: int) -> list[_Post]:
    """Deputies and staff beyond the skeleton, spread over the units (in and out of scope)."""
    out = []
    for i in range(count):
        kind, name = LOCALITIES[rng.randrange(len(LOCALITIES))]
        match i % 8:
            case 0 | 3 | 6:
                out.append(_Post("province", rng.choice(_SO), ("pho_so",), 3))
            case 1 | 5:
                out.append(_Post("province", rng.choice(_DVSN), ("pho_dvsn",), 3))
            case 4:
                out.append(_Post("province", rng.choice(_PARTY_BOARDS), ("pho_ban_dang",), 3))
            case 2:
                out.append(_Post("district", f"{rng.choice(_PHONG)} {kind} {name}", (), 3))  # phó trưởng phòng
            case _:
                out.append(_Post("district", f"{rng.choice(_DISTRICT_BOARDS)} {_COMMITTEE[kind]} {name}", ("pho_ban_dang",), 3))
    return out


def _appointed_year(rng: random.Random, year: int) -> int:
    # Term of the Party congresses from 2020, of the People's Councils from 2021; a few in the vote year (P7).
    offsets = (-7, -6, -5, -4, -3, -2, -1, 0)
    weights = (2, 2, 3, 4, 25, 30, 18, 5)
    return year + rng.choices(offsets, weights)[0]


def _retirement(rng: random.Random) -> str:
    notice = rng.random() < 0.03
    r = rng.random()
    if r < 0.01:  # the other spellings the roster reader accepts
        return "yes" if notice else "no"
    if r < 0.02:
        return "1" if notice else "0"
    return "true" if notice else "false"


def generate_roster(n: int, seed: int, year: int = 2023) -> list[dict[str, str]]:
    """``n`` roster rows (the brief's columns, all values text), deterministic for ``seed``.

    Below the size of the province's skeleton (about 1,000 positions) the leaders come first, then the
    other titles in scope, then the rows out of scope; above it, deputies and staff are added.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(seed)
    posts = _province_posts(rng)
    for kind, name in LOCALITIES:
        posts += _district_posts(rng, kind, name)
    if n <= len(posts):
        keep = sorted(range(len(posts)), key=lambda i: (posts[i].tier, i))[:n]
        posts = [posts[i] for i in sorted(keep)]
    else:
        posts += _extra_posts(rng, n - len(posts))
    width = max(5, len(str(n)))
    rows = []
    for i, post in enumerate(posts, 1):
        rows.append({
            "cadre_id": f"TH{i:0{width}d}",
            "full_name": _name(rng),
            "level": post.level,
            "unit": _nfc(post.unit),
            "titles": ";".join(post.titles),
            "retirement_notice": _retirement(rng),
            "appointed_year": str(_appointed_year(rng, year)),
        })
    return rows


# ---- tallies -----------------------------------------------------------------------------------------


def _locality(row: dict[str, str]) -> str:
    """The district a district-level unit belongs to (its name ends with the locality's name)."""
    unit = row.get("unit", "")
    for kind, name in LOCALITIES:
        if unit.endswith(f"{kind} {name}") or unit.endswith(f"{_COMMITTEE[kind]} {name}"):
            return name
    return unit


def _body(row: dict[str, str], venue: str) -> tuple[str, str]:
    """Which session votes this cadre at this venue: one per Party committee, HĐND or workplace."""
    if venue == "noi_cong_tac":
        return (venue, row.get("unit", ""))
    return (venue, "province" if row.get("level") == "province" else _locality(row))


@dataclass
class _Session:
    convened: int | None
    present: int | None
    issued: int


#: Kỳ họp thứ 17 HĐND tỉnh Thanh Hóa (12/2023): 80 ballots issued and collected (DOMAIN.md). The
#: number of deputies convened is not in the sources: 84 is a placeholder of the right size.
_PROVINCE_HDND = _Session(84, 80, 80)


def _session(rng: random.Random, key: tuple[str, str], index: int) -> _Session:
    """The counts of one session; ``index`` numbers the sessions (every 20th workplace lacks quorum)."""
    venue, where = key
    if venue == "hdnd" and where == "province":
        return _Session(_PROVINCE_HDND.convened, _PROVINCE_HDND.present, _PROVINCE_HDND.issued)
    if venue == "cap_uy":
        convened = rng.randint(48, 53) if where == "province" else rng.randint(31, 45)
    elif venue == "hdnd":
        convened = rng.randint(30, 42)
    else:
        convened = rng.randint(18, 160)
    if venue == "noi_cong_tac" and index % 20 == 7:  # a session below the 2/3 quorum
        present = max(1, (2 * convened + 2) // 3 - rng.randint(1, 3))
    elif venue == "noi_cong_tac" and index % 12 == 9:  # exactly 2/3 present: valid
        convened -= convened % 3
        present = 2 * convened // 3
    else:
        present = convened - min(convened - 1, rng.choice((0, 0, 0, 1, 1, 2, 3)))
    if venue == "noi_cong_tac" and rng.random() < 0.05:  # convened / present not recorded
        return _Session(None, None, present)
    return _Session(convened, present, present)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _counts(rng: random.Random, issued: int, scenario: str) -> tuple[int, int, int, int]:
    """(collected, high, confidence, low) for one cadre in one session."""
    collected = max(issued - rng.choices((0, 1, 2), (85, 12, 3))[0], min(issued, 1))
    invalid = rng.choices((0, 1, 2), (90, 8, 2))[0]
    if scenario in ("half", "two_thirds") and collected < 3:
        scenario = "normal"
    if scenario == "half":
        collected -= collected % 2
        low, invalid = collected // 2, 0
    elif scenario == "two_thirds":
        collected -= collected % 3
        low, invalid = 2 * collected // 3, 0
    elif scenario == "tren_50":
        lo, hi = collected // 2 + 1, _ceil_div(2 * collected, 3) - 1
        low, invalid = (rng.randint(lo, hi), 0) if lo <= hi else (collected // 2, 0)
    elif scenario == "tu_2_3":
        low, invalid = rng.randint(_ceil_div(2 * collected, 3), collected), 0
    else:
        valid = max(collected - invalid, 0)
        low = min(valid, int(valid * rng.betavariate(0.7, 14)))
    valid = max(collected - invalid, low)
    rest = valid - low
    high = min(rest, round(rest * rng.uniform(0.55, 0.97)))
    return collected, high, rest - high, low


def _scenario(index: int, offset: int, rng: random.Random) -> str:
    # Deterministic spacing guarantees each boundary case appears in any file of a few hundred rows.
    k = index + offset
    if k % 211 == 17:
        return "half"
    if k % 223 == 41:
        return "two_thirds"
    if k % 97 == 5 or rng.random() < 0.004:
        return "tren_50"
    if k % 151 == 9 or rng.random() < 0.002:
        return "tu_2_3"
    return "normal"


def generate_tallies(roster_rows: Iterable[dict[str, str]], plan_venues: PlanVenues, seed: int) -> list[dict[str, str]]:
    """One tally row per cadre and venue that ``plan_venues(row)`` returns, in roster then venue order."""
    rng = random.Random(seed)
    offset = rng.randrange(1000)
    sessions: dict[tuple[str, str], _Session] = {}
    out: list[dict[str, str]] = []
    for row in roster_rows:
        for venue in plan_venues(row):
            key = _body(row, venue)
            if key not in sessions:
                sessions[key] = _session(rng, key, len(sessions))
            s = sessions[key]
            collected, high, confidence, low = _counts(rng, s.issued, _scenario(len(out), offset, rng))
            out.append({
                "cadre_id": row["cadre_id"], "venue": venue, "issued": str(s.issued), "collected": str(collected),
                "high": str(high), "confidence": str(confidence), "low": str(low),
                "convened": "" if s.convened is None else str(s.convened),
                "present": "" if s.present is None else str(s.present),
            })
    return out


# ---- the real evaluator as the planner ---------------------------------------------------------------


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "yes", "1")


def policy_planner(policy_path: str | Path | None = None, year: int | None = None) -> PlanVenues:
    """``plan_venues`` backed by the compiled bundled policy (or ``policy_path``)."""
    import policy as bundled
    from dsl.evaluator import Cadre, compile_policy
    from dsl.loader import load_policy

    ev = compile_policy(load_policy(policy_path or bundled.path()), year)

    def plan_venues(row: dict[str, str]) -> tuple[str, ...]:
        titles = frozenset(t.strip() for t in row.get("titles", "").split(";") if t.strip())
        facts: dict[str, bool | int] = {"retirement_notice": _truthy(row.get("retirement_notice", ""))}
        year_text = row.get("appointed_year", "").strip()
        if year_text.isdigit():
            facts["appointed_year"] = int(year_text)
        return ev.plan(Cadre(row["cadre_id"], row.get("level", ""), titles, facts)).venues

    return plan_venues


# ---- the sample data of examples/ --------------------------------------------------------------------

#: Kỳ họp thứ 17 HĐND tỉnh Thanh Hóa khóa XVIII (12/2023), DOMAIN.md: (name, title, high, confidence, low).
REAL_TALLIES = (("Đỗ Trọng Hưng", "ct_hdnd", 78, 1, 1), ("Lê Tiến Lam", "pct_hdnd", 77, 3, 0))


def sample_edits(roster: list[dict[str, str]], plan_venues: PlanVenues, seed: int,
                 missing: int = 4) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The roster and tallies of ``examples/``: the real People's Council rows, a few missing tallies.

    The first province row holding exactly ``ct_hdnd`` (then ``pct_hdnd``) becomes the real person,
    voted (no retirement notice, elected in 2021); their HĐND tally is the published count (80 issued,
    80 collected; convened and present left empty: not published). Then ``missing`` planned venues of
    other cadres lose their tally (one of them a cadre voted at two venues).
    """
    roster = [dict(r) for r in roster]
    real_ids: dict[str, tuple[int, int, int]] = {}
    for name, code, high, confidence, low in REAL_TALLIES:
        row = next(r for r in roster if r["level"] == "province" and r["titles"] == code
                   and r["cadre_id"] not in real_ids)
        row.update(full_name=_nfc(name), retirement_notice="false", appointed_year="2021")
        real_ids[row["cadre_id"]] = (high, confidence, low)
    tallies = generate_tallies(roster, plan_venues, seed)
    for t in tallies:
        if t["cadre_id"] in real_ids and t["venue"] == "hdnd":
            high, confidence, low = real_ids[t["cadre_id"]]
            t.update(issued="80", collected="80", high=str(high), confidence=str(confidence), low=str(low), convened="", present="")
    rng = random.Random(seed * 7919 + 1)
    by_cadre: dict[str, list[int]] = {}
    for i, t in enumerate(tallies):
        by_cadre.setdefault(t["cadre_id"], []).append(i)
    two = [c for c, idx in by_cadre.items() if len(idx) == 2 and c not in real_ids]
    one = [c for c, idx in by_cadre.items() if len(idx) == 1 and c not in real_ids]
    drop: set[int] = set()
    if missing > 0 and two:
        drop.add(by_cadre[rng.choice(two)][1])
    for c in rng.sample(one, min(len(one), max(missing - len(drop), 0))):
        drop.add(by_cadre[c][0])
    return roster, [t for i, t in enumerate(tallies) if i not in drop]


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    """UTF-8 (no BOM), a header row, ``\\n`` line ends."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinnhiem.synth", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1500, help="number of roster rows (default 1500)")
    ap.add_argument("--seed", type=int, default=134, help="random seed (default 134)")
    ap.add_argument("--year", type=int, default=2023, help="vote year (default 2023)")
    ap.add_argument("--out", type=Path, default=Path("examples"), help="output folder (default examples/)")
    ap.add_argument("--policy", type=Path, default=None, help="policy used to plan the venues (default: the bundled one)")
    ap.add_argument("--raw", action="store_true", help="do not apply the sample edits (real tallies, missing tallies)")
    args = ap.parse_args(argv)
    if args.n < 0:
        ap.error("--n must be >= 0")
    planner = policy_planner(args.policy, args.year)
    roster = generate_roster(args.n, args.seed, args.year)
    if args.raw:
        tallies = generate_tallies(roster, planner, args.seed)
    else:
        roster, tallies = sample_edits(roster, planner, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "roster.csv", ROSTER_COLUMNS, roster)
    write_csv(args.out / "tallies.csv", TALLY_COLUMNS, tallies)
    print(f"wrote {len(roster)} roster rows to {args.out / 'roster.csv'} and {len(tallies)} tally rows to {args.out / 'tallies.csv'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
