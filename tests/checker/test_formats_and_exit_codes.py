"""``check_main``: the four formats (JUnit parses, SARIF validates against the official 2.1.0 schema
in ``tests/schemas``, JSON is byte-stable apart from ``stats``, text shows the symbols) and every exit
code. What CI systems ask beyond that (GitHub's rules, the Jenkins JUnit schema, policy errors in every
format) is ``test_ci_formats.py``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

import checker.solve as solve_mod
from checker.replay import Replay
from tests.checker.support import BAD, GOOD, HERE, ROOT
from tinnhiem.check_command import check_main

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
ALL_BAD = [str(p) for p in sorted(BAD.glob("*.policy"))]


def _run(capsys, paths, fmt, **kw):
    if all(Path(p).resolve().is_relative_to(HERE) for p in paths):
        kw.setdefault("root", str(HERE))  # the fixtures of good/ and bad/ import ../lib/
    code = check_main(paths, fmt, **kw)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_junit_parses(capsys):
    code, out, _ = _run(capsys, [str(GOOD / "acknowledged.policy"), str(BAD / "bands_cover.policy")], "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["good_acknowledged", "bad_bands_cover"]
    cases = {(c.get("classname"), c.get("name")): c for s in suites for c in s.findall("testcase")}
    failure = cases[("bad_bands_cover", "builtin.bands_cover")].find("failure")
    assert failure is not None and "tallies.csv" in failure.text
    assert cases[("good_acknowledged", "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau")].find("failure") is None
    assert "acknowledged finding" in cases[("good_acknowledged", "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau")].find("system-out").text
    assert cases[("bad_bands_cover", "builtin.schedule_feasible")].find("skipped") is not None
    assert root.get("failures") == "1"
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)


def test_sarif_validates_and_locates_results(capsys):
    code, out, _ = _run(capsys, ALL_BAD + [str(GOOD / "acknowledged.policy")], "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    results = log["runs"][0]["results"]
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    for r in results:
        assert rules[r["ruleIndex"]] == r["ruleId"]
    by = {(r["properties"]["policy"], r["ruleId"]): r for r in results}
    cover = by[("bad_bands_cover", "builtin.bands_cover")]
    assert (cover["kind"], cover["level"]) == ("fail", "error")
    loc = cover["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("tests/checker/bad/bands_cover.policy")
    text = (BAD / "bands_cover.policy").read_text(encoding="utf-8").split("\n")
    assert text[loc["region"]["startLine"] - 1].lstrip().startswith("band thap")  # the first band of the set
    prop = by[("bad_policy_property", "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau")]
    line = (BAD / "policy_property.policy").read_text(encoding="utf-8").split("\n")[prop["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
    assert line.startswith("property hdnd_chi_lay_phieu_nguoi_do_hdnd_bau")
    ack = by[("good_acknowledged", "hdnd_chi_lay_phieu_nguoi_do_hdnd_bau")]
    assert ack["suppressions"][0]["status"] == "accepted" and ack["level"] == "warning"
    assert by[("bad_bands_cover", "builtin.bands_disjoint")]["kind"] == "pass"


def test_sarif_schema_rejects_a_broken_log():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, SCHEMA)


def test_json_is_stable_except_stats(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    paths = [str(BAD / "refinement_keeps.policy"), str(GOOD / "no_conflict.policy")]
    _, a, _ = _run(capsys, paths, "json")
    _, b, _ = _run(capsys, paths, "json")
    da, db = json.loads(a), json.loads(b)
    assert "stats" in da
    da.pop("stats"), db.pop("stats")
    assert json.dumps(da, sort_keys=True) == json.dumps(db, sort_keys=True)
    assert list(da) == sorted(da)  # keys sorted


def test_text_shows_symbols_citations_and_tables(capsys):
    code, out, _ = _run(capsys, [str(BAD / "max_venues.policy"), str(GOOD / "acknowledged.policy"), str(GOOD / "quorum_issued.policy")], "text")
    assert code == 1
    assert "✓ builtin.bands_disjoint" in out and "✗ builtin.max_venues" in out and "⚠ hdnd_chi" in out and "– builtin.schedule" in out
    assert "proved from" in out and "[T Điều 5]" in out
    assert "roster.csv" in out and "bi_thu;ct_hdnd" in out
    assert "Traceback" not in out


def test_output_file(tmp_path, capsys):
    target = tmp_path / "report.xml"
    code, out, _ = _run(capsys, [str(GOOD / "max_venues.policy")], "junit", output=str(target))
    assert code == 0 and out == ""
    ET.fromstring(target.read_text(encoding="utf-8"))


def test_exit_0_on_good_and_1_on_bad(capsys):
    assert _run(capsys, [str(GOOD / "no_dead_rule.policy")], "json")[0] == 0
    assert _run(capsys, [str(BAD / "no_dead_rule.policy")], "json")[0] == 1
    assert _run(capsys, [str(BAD / "stale_acknowledgement.policy")], "json")[0] == 1
    assert _run(capsys, [str(GOOD / "acknowledged.policy")], "json")[0] == 0


def test_exit_2_on_policy_errors_with_diagnostics(tmp_path, capsys):
    broken = tmp_path / "broken.policy"
    broken.write_text((GOOD / "max_venues.policy").read_text(encoding="utf-8").replace("holds(btv)", "holds(btvv)"), encoding="utf-8")
    code, out, err = _run(capsys, [str(broken), str(GOOD / "max_venues.policy")], "json")
    assert code == 2
    assert "error[E203]: unknown title 'btvv'" in err and "help:" in err
    assert "Traceback" not in err
    broken_entry, good_entry = json.loads(out)["policies"]  # in the order given
    assert broken_entry["policy"]["id"] is None and broken_entry["errors"][0]["code"] == "E203"
    assert good_entry["policy"]["id"] == "good_max_venues"  # the others are still checked
    assert _run(capsys, [str(tmp_path / "missing.policy")], "text")[0] == 2


def test_exit_2_on_usage_errors(capsys):
    assert _run(capsys, [str(GOOD / "max_venues.policy")], "yaml")[0] == 2
    assert _run(capsys, [str(GOOD / "max_venues.policy")], "json", timeout_ms=0)[0] == 2


def test_exit_3_on_timeout_with_nothing_refuted(capsys, monkeypatch):
    monkeypatch.setattr(solve_mod._Deadline, "remaining_ms", lambda self: 0)
    code, out, _ = _run(capsys, [str(GOOD / "max_venues.policy")], "json")
    assert code == 3
    statuses = {p["status"] for p in json.loads(out)["policies"][0]["properties"]}
    assert "unknown" in statuses and "refuted" not in statuses


def test_exit_3_when_replay_disagrees(capsys, monkeypatch):
    monkeypatch.setattr(solve_mod, "replay", lambda *a, **k: Replay(False, "nothing"))
    code, out, _ = _run(capsys, [str(BAD / "bands_cover.policy")], "json")
    assert code == 3
    props = {p["id"]: p for p in json.loads(out)["policies"][0]["properties"]}
    assert props["builtin.bands_cover"]["status"] == "internal_error"
    assert "disagree" in props["builtin.bands_cover"]["message"]


def test_never_a_traceback(capsys, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr("tinnhiem.check_command.check_policy", boom)
    code, out, err = _run(capsys, [str(GOOD / "max_venues.policy")], "text")
    assert code == 3
    assert "internal error" in err and "Traceback" not in err


def test_folder_argument_checks_every_policy(capsys):
    code, out, _ = _run(capsys, [str(GOOD)], "json")
    assert code == 0
    assert len(json.loads(out)["policies"]) == len(list(GOOD.glob("*.policy")))
