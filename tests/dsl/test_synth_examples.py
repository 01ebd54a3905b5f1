"""Tests of the synthetic data generator (``tinnhiem/synth.py``) and of the files in ``examples/``.

Takes the generator's functions and the committed sample files; checks the columns of the brief,
determinism, the realism the sample promises (every title code, concurrent titles, exemptions,
out-of-scope rows, boundary tallies, sessions below quorum), that tallies exist exactly for the
planned venues, that ``python -m tinnhiem.synth --n 1500 --seed 134`` reproduces ``examples/``
byte for byte, and that the bad lines ``examples/README.md`` documents are exactly the lines an
independent check of the brief's rules finds bad.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

import policy as bundled
from dsl.evaluator import Cadre, Tally, compile_policy
from dsl.loader import load_policy
from tests.conftest import EXAMPLES_DIR
from tinnhiem import synth

PLANNER = synth.policy_planner()
ROSTER_1500 = synth.generate_roster(1500, 134)
TALLIES_1500 = synth.generate_tallies(ROSTER_1500, PLANNER, 134)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


# ---- the roster ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 90, 1014, 1500, 2600])
def test_roster_size_columns_and_ids(n: int) -> None:
    rows = synth.generate_roster(n, 5)
    assert len(rows) == n
    assert all(tuple(r) == synth.ROSTER_COLUMNS for r in rows)
    assert all(isinstance(v, str) for r in rows for v in r.values())
    ids = [r["cadre_id"] for r in rows]
    assert len(set(ids)) == n and all(ids)


def test_roster_is_deterministic_for_a_seed() -> None:
    assert synth.generate_roster(1500, 134) == ROSTER_1500
    other = synth.generate_roster(1500, 135)
    assert other != ROSTER_1500
    assert [r["full_name"] for r in other] != [r["full_name"] for r in ROSTER_1500]


def test_small_rosters_start_with_the_leaders() -> None:
    rows = synth.generate_roster(40, 1)
    titles = {t for r in rows for t in r["titles"].split(";") if t}
    assert {"bi_thu", "pho_bi_thu", "ct_hdnd", "ct_ubnd"} <= titles
    assert {r["level"] for r in rows} == {"province", "district"}
    assert all(r["titles"] for r in rows)  # no out-of-scope staff before the leaders are in


def test_roster_realism() -> None:
    rows = ROSTER_1500
    titles = Counter(t for r in rows for t in r["titles"].split(";") if t)
    assert set(titles) == set(synth.TITLE_CODES)  # every title code of the brief
    levels = Counter(r["level"] for r in rows)
    assert set(levels) == {"province", "district"} and min(levels.values()) > 300
    combos = {(r["level"], r["titles"]) for r in rows}
    for combo in [("district", "bi_thu;ct_hdnd"), ("province", "pho_bi_thu;ct_ubnd"), ("district", "pho_bi_thu;ct_ubnd"),
                  ("province", "uv_btv;truong_ban_dang"), ("province", "uv_btv;pct_ubnd"), ("province", "uv_btv;truong_so"),
                  ("province", "uv_btv;truong_so;uv_ubnd"), ("district", "uv_btv;pct_ubnd"), ("province", "truong_so;uv_ubnd")]:
        assert combo in combos, combo
    # facts: some retirement notices, some appointed in the vote year, all years are years
    assert 10 <= sum(r["retirement_notice"] in ("true", "yes", "1") for r in rows) <= 150
    assert 20 <= sum(r["appointed_year"] == "2023" for r in rows) <= 200
    assert all(r["retirement_notice"] in ("true", "false", "yes", "no", "1", "0") for r in rows)
    assert all(re.fullmatch(r"20[12]\d", r["appointed_year"]) for r in rows)
    # out of scope: rows with no title, and district rows with codes P4 does not name
    assert sum(r["titles"] == "" for r in rows) >= 20
    assert sum(r["level"] == "district" and r["titles"] in ("truong_ban_dang", "uv_btv;truong_ban_dang", "truong_dvsn") for r in rows) >= 27
    # 27 districts, towns and cities, with their real names
    districts = {synth._locality(r) for r in rows if r["level"] == "district"}
    assert len(districts) == 27 and {"Hoằng Hóa", "Sầm Sơn", "Nghi Sơn", "Mường Lát"} <= districts


def test_names_are_vietnamese_and_nfc() -> None:
    for r in ROSTER_1500:
        for key in ("full_name", "unit"):
            assert unicodedata.is_normalized("NFC", r[key]), r
        parts = r["full_name"].split(" ")
        assert 3 <= len(parts) <= 4 and all(p[:1].isupper() for p in parts)
    assert sum(any(ord(c) > 127 for c in r["full_name"]) for r in ROSTER_1500) > 1000  # diacritics


# ---- the tallies -----------------------------------------------------------------------------------


def _i(text: str) -> int | None:
    return int(text) if text != "" else None


def test_tallies_exist_exactly_for_the_planned_venues() -> None:
    planned = [(r["cadre_id"], v) for r in ROSTER_1500 for v in PLANNER(r)]
    got = [(t["cadre_id"], t["venue"]) for t in TALLIES_1500]
    assert got == planned  # roster order, then venue order, nothing missing or extra
    assert all(tuple(t) == synth.TALLY_COLUMNS for t in TALLIES_1500)


def test_tallies_follow_the_callers_plan() -> None:
    rows = synth.generate_roster(200, 3)
    only_workplace = synth.generate_tallies(rows, lambda r: ("noi_cong_tac",) if r["titles"] else (), 3)
    assert {t["venue"] for t in only_workplace} == {"noi_cong_tac"}
    assert len(only_workplace) == sum(bool(r["titles"]) for r in rows)
    assert synth.generate_tallies(rows, lambda r: (), 3) == []


def test_tallies_are_deterministic() -> None:
    assert synth.generate_tallies(ROSTER_1500, PLANNER, 134) == TALLIES_1500
    assert synth.generate_tallies(ROSTER_1500, PLANNER, 99) != TALLIES_1500


@pytest.mark.parametrize("seed", [134, 1, 2])
def test_tally_counts_are_valid(seed: int) -> None:
    rows = TALLIES_1500 if seed == 134 else synth.generate_tallies(synth.generate_roster(800, seed), PLANNER, seed)
    for t in rows:
        issued, collected, high, conf, low = (int(t[k]) for k in ("issued", "collected", "high", "confidence", "low"))
        convened, present = _i(t["convened"]), _i(t["present"])
        assert min(issued, collected, high, conf, low) >= 0, t
        assert 1 <= collected <= issued, t
        assert high + conf + low <= collected, t
        assert (convened is None) == (present is None), t
        if convened is not None:
            assert present is not None and 0 <= present <= convened, t


def test_tallies_cover_the_interesting_cases() -> None:
    shares = [Fraction(int(t["low"]), int(t["collected"])) for t in TALLIES_1500]
    assert Fraction(1, 2) in shares and Fraction(2, 3) in shares  # exact boundaries
    bands = Counter("khong_qua_50" if s <= Fraction(1, 2) else "tu_2_3" if s >= Fraction(2, 3) else "tren_50" for s in shares)
    assert bands["khong_qua_50"] > 0.9 * len(shares)  # mostly high confidence
    assert 3 <= bands["tren_50"] <= 60 and 3 <= bands["tu_2_3"] <= 60
    with_quorum = [(int(t["present"]), int(t["convened"])) for t in TALLIES_1500 if t["convened"]]
    assert len(with_quorum) > 0.9 * len(TALLIES_1500)  # mostly filled
    below = {(p, c) for p, c in with_quorum if 3 * p < 2 * c}
    assert 1 <= len(below) <= 10  # a few sessions below the 2/3 quorum
    assert any(3 * p == 2 * c for p, c in with_quorum)  # and some at exactly 2/3


def test_one_session_per_body() -> None:
    by_cadre = {r["cadre_id"]: r for r in ROSTER_1500}
    sessions: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
    for t in TALLIES_1500:
        key = synth._body(by_cadre[t["cadre_id"]], t["venue"])
        sessions.setdefault(key, set()).add((t["issued"], t["convened"], t["present"]))
    assert all(len(v) == 1 for v in sessions.values())
    assert sessions[("hdnd", "province")] == {("80", "84", "80")}  # kỳ họp thứ 17: 80 ballots issued


def test_generate_tallies_scales() -> None:
    rows = synth.generate_roster(6000, 11)
    tallies = synth.generate_tallies(rows, PLANNER, 11)
    assert len(rows) == 6000 and len(tallies) > 4000


# ---- examples/ -------------------------------------------------------------------------------------


def test_examples_are_reproduced_by_the_generator(tmp_path: Path) -> None:
    assert synth.main(["--n", "1500", "--seed", "134", "--out", str(tmp_path)]) == 0
    for name in ("roster.csv", "tallies.csv"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES_DIR / name).read_bytes(), name


def test_raw_flag_skips_the_sample_edits(tmp_path: Path) -> None:
    assert synth.main(["--n", "300", "--seed", "134", "--out", str(tmp_path), "--raw"]) == 0
    _, roster = _read(tmp_path / "roster.csv")
    _, tallies = _read(tmp_path / "tallies.csv")
    assert roster == synth.generate_roster(300, 134)
    assert tallies == synth.generate_tallies(roster, PLANNER, 134)


def test_example_files_columns_and_encoding() -> None:
    for name, columns in (("roster.csv", synth.ROSTER_COLUMNS), ("tallies.csv", synth.TALLY_COLUMNS),
                          ("bad_roster.csv", synth.ROSTER_COLUMNS), ("bad_tallies.csv", synth.TALLY_COLUMNS)):
        data = (EXAMPLES_DIR / name).read_bytes()
        text = data.decode("utf-8")
        assert unicodedata.is_normalized("NFC", text)
        assert text.split("\n", 1)[0] == ",".join(columns)
    header, roster = _read(EXAMPLES_DIR / "roster.csv")
    assert len(roster) == 1500


def test_examples_hold_the_real_people_s_council_tallies() -> None:
    _, roster = _read(EXAMPLES_DIR / "roster.csv")
    _, tallies = _read(EXAMPLES_DIR / "tallies.csv")
    real = {r["full_name"]: r for r in roster if r["full_name"] in ("Đỗ Trọng Hưng", "Lê Tiến Lam")}
    assert real["Đỗ Trọng Hưng"]["level"] == real["Lê Tiến Lam"]["level"] == "province"
    assert real["Đỗ Trọng Hưng"]["titles"] == "ct_hdnd" and real["Lê Tiến Lam"]["titles"] == "pct_hdnd"
    got = {}
    for t in tallies:
        for name, r in real.items():
            if t["cadre_id"] == r["cadre_id"]:
                got[name] = (t["venue"], t["issued"], t["collected"], t["high"], t["confidence"], t["low"])
    assert got == {"Đỗ Trọng Hưng": ("hdnd", "80", "80", "78", "1", "1"), "Lê Tiến Lam": ("hdnd", "80", "80", "77", "3", "0")}


def test_examples_leave_the_documented_venues_without_tally() -> None:
    _, roster = _read(EXAMPLES_DIR / "roster.csv")
    _, tallies = _read(EXAMPLES_DIR / "tallies.csv")
    planned = {(r["cadre_id"], v) for r in roster for v in PLANNER(r)}
    have = [(t["cadre_id"], t["venue"]) for t in tallies]
    assert len(have) == len(set(have)) and set(have) <= planned
    missing = planned - set(have)
    readme = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    documented = {(m[0], m[1]) for m in re.findall(r"^ *\| \d+ \| (TH\d+) \| [^|]+\| [^|]+\| `(\w+)` \|$", readme, flags=re.M)}
    assert missing == documented and len(missing) == 4
    assert any(len(PLANNER(r)) == 2 for r in roster if r["cadre_id"] in {c for c, _ in missing})  # one of two venues


def test_examples_readme_counts_are_current() -> None:
    """The statuses and outcomes the README states are those the evaluator gives on the files."""
    ev = compile_policy(load_policy(bundled.path()))
    _, roster = _read(EXAMPLES_DIR / "roster.csv")
    _, tallies = _read(EXAMPLES_DIR / "tallies.csv")
    by_cadre: dict[str, dict[str, Tally]] = {}
    for t in tallies:
        counts = [int(t[k]) for k in ("issued", "collected", "high", "confidence", "low")]
        by_cadre.setdefault(t["cadre_id"], {})[t["venue"]] = Tally(t["venue"], *counts, _i(t["convened"]), _i(t["present"]))
    status, outcome = Counter(), Counter()
    for r in roster:
        facts = {"retirement_notice": r["retirement_notice"] in ("true", "yes", "1"), "appointed_year": int(r["appointed_year"])}
        d = ev.decide(Cadre(r["cadre_id"], r["level"], frozenset(t for t in r["titles"].split(";") if t), facts), by_cadre.get(r["cadre_id"], {}))
        status[d.plan.status] += 1
        outcome[d.outcome] += 1
    readme = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    for name, n in status.items():
        assert f"{n:,} {name.replace('_', ' ')}" in readme, (name, n)
    for name, n in outcome.items():
        if name is not None:
            assert f"{n:,} `{name}`" in readme, (name, n)
    assert f"{len(tallies):,} rows" in readme


# ---- the bad pair: the README's lines are exactly the bad ones --------------------------------------

_BOOL = {"true", "false", "yes", "no", "1", "0"}


def _bad_roster_lines(rows: list[dict[str, str]]) -> tuple[set[int], list[dict[str, str]]]:
    codes = set(synth.TITLE_CODES)
    bad, seen, good = set(), set(), []
    for line, r in enumerate(rows, 2):
        titles = [t for t in r["titles"].split(";") if t]
        problems = [
            not r["cadre_id"], r["cadre_id"] in seen, r["level"] not in ("province", "district"),
            any(t not in codes for t in titles), r["retirement_notice"].strip().lower() not in _BOOL,
            not r["appointed_year"].isdigit(),
        ]
        seen.add(r["cadre_id"])
        if any(problems):
            bad.add(line)
        else:
            good.append(r)
    return bad, good


def _bad_tally_lines(rows: list[dict[str, str]], roster: list[dict[str, str]]) -> set[int]:
    plans = {r["cadre_id"]: tuple(PLANNER(r)) for r in roster}
    bad, seen = set(), set()
    for line, t in enumerate(rows, 2):
        try:
            issued, collected, high, conf, low = (int(t[k]) for k in ("issued", "collected", "high", "confidence", "low"))
            convened, present = _i(t["convened"]), _i(t["present"])
        except ValueError:
            bad.add(line)
            continue
        counts = [issued, collected, high, conf, low] + [x for x in (convened, present) if x is not None]
        key = (t["cadre_id"], t["venue"])
        problems = [
            min(counts) < 0, high + conf + low > collected, collected > issued,
            convened is not None and present is not None and present > convened,
            t["cadre_id"] not in plans, t["venue"] not in plans.get(t["cadre_id"], ()), key in seen, collected == 0,
        ]
        if any(problems):
            bad.add(line)
        if not any(problems[:6]):
            seen.add(key)  # a valid row stands: a later one for the same cadre and venue is a duplicate
    return bad


def _readme_lines(section: str) -> set[int]:
    """The line numbers in the table that follows the paragraph starting with `section`."""
    readme = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"^`{re.escape(section)}`[^\n]*:\n\n((?:\|[^\n]*\n)+)", readme, flags=re.M)
    assert m, section
    return {int(x) for x in re.findall(r"^\| (\d+) \|", m.group(1), flags=re.M)}


def test_bad_pair_matches_its_readme() -> None:
    _, roster = _read(EXAMPLES_DIR / "bad_roster.csv")
    _, tallies = _read(EXAMPLES_DIR / "bad_tallies.csv")
    bad_roster, good_roster = _bad_roster_lines(roster)
    assert bad_roster == _readme_lines("bad_roster.csv") == {5, 6, 7, 8}
    bad_tallies = _bad_tally_lines(tallies, good_roster)
    assert bad_tallies == _readme_lines("bad_tallies.csv") == {3, 4, 5, 6, 7, 8, 10, 11, 13}
    # every defect the brief asks for is shown once
    assert len(tallies) == 12 and len(roster) == 12
